"""Secrets in user data that carry no `key=value` name (used by userdata.scan_text), linear:

* `chpasswd` input: `echo 'root:pw' | chpasswd`, `chpasswd <<< user:pw`, the `user:password`
  lines of cloud-config's `chpasswd:` block (`list:`), and `useradd`/`usermod -p <hash>`;
* `.pgpass` entries (`host:port:database:user:password`) wherever they appear;
* a literal fed on stdin to a command that reads a password there (`echo pw | passwd --stdin
  user`, a here-string or here-document into `passwd`/`smbpasswd`/`htpasswd`/`kinit`/`realm`,
  any `--password-stdin`);
* a literal password a command takes by position or short option (`htpasswd -b[c] FILE USER
  PW`, `redis-cli -a`, `mysqladmin password`, `rabbitmqctl add_user`, `ldap* -w`,
  `keytool -storepass`, `mongosh -p`, samba's `-U user%pw`);
* `config[ure] … set KEY VALUE` with a secret-named key (`aws configure set
  aws_secret_access_key …`, `redis-cli CONFIG SET requirepass …`, `npm config set _authToken`);
* literal content written to a file named like a credential (`.pgpass`, `db_password`,
  `api-token`, `id_rsa`, `*.key` ...): `echo`/`printf` of a literal, a literal piped through
  `base64 -d`, a here-document, and cloud-init `write_files` entries with such a `path`.

Each finding names the form, never the value. Every regex is anchored and bounded with
possessive quantifiers; blocks are walked line by line once.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Optional

_USER_PASS = re.compile(r"(?<![\w./:@-])[a-z_][a-z0-9_.-]{0,31}+:([^\s:'\"|;&<>]{1,256}+)"
                        r"(?=[\s'\"|;&<>]|$)")
_USER_TOOLS = re.compile(r"(?<![\w-])(?:useradd|usermod)\b[^\n]{0,2048}+")
_DASH_P = re.compile(r"(?<!\S)(?:-p|--password)[ \t=]++(['\"]?)([^\s'\"]{1,512}+)\1")
# host:port:database:user:password — exactly five fields (a password's own colons are `\:`)
_PGPASS = re.compile(r"(?<![\w.*:/@-])[\w.*-]{1,253}+:(?:\d{1,5}+|\*):[^\s:'\"]{1,128}+:"
                     r"[^\s:'\"]{1,128}+:((?:[^\s'\":\\]|\\.){1,256}+)(?![:\\])")
_REDIRECT = re.compile(r"(?:>>?+|(?<![\w-])tee(?:[ \t]++-a)?+)[ \t]*+(['\"]?)"
                       r"([^\s'\";|&<>()]{1,512}+)\1")
_SEGMENTS = re.compile(r"&&|\|\||;")
_ECHO = re.compile(r"(?<![\w-])(echo|printf)\b([^|<>\n]{0,2048}+)")
_ARG = re.compile(r"\"[^\"\n]{0,1024}+\"|'[^'\n]{0,1024}+'|[^\s|;&<>'\"]{1,1024}+")
_FORMAT = re.compile(r"%[-+ #0-9.]{0,16}+[a-zA-Z]|\\.")
_CHPASSWD_KEY = re.compile(r"chpasswd[ \t]*+:[ \t]*+$")
_HERESTRING = re.compile(r"<<<[ \t]*+(\"[^\"\n]{0,1024}+\"|'[^'\n]{0,1024}+'|[^\s|;&<>]{1,1024}+)")
_HEREDOC = re.compile(r"(?<!<)<<-?+(?!<)[ \t]*+(['\"]?)([A-Za-z_]\w{0,31}+)\1")
_DECODE = re.compile(r"(?<![\w-])base64[ \t]++(?:-d|-D|--decode)\b")
_STDIN_HINT = re.compile(r"passwd|stdin|kinit|realm")
# a pipeline stage that runs a command reading a password on stdin (maybe via sudo, by path)
_STDIN_TOOL = re.compile(r"[ \t(]*+(?:(?:sudo|doas|exec|command)(?:[ \t]++-[A-Za-z]{1,8}+)*+"
                         r"[ \t]++)?(?:[\w.-]{0,64}+/)*+(passwd|smbpasswd|htpasswd|kinit|realm)"
                         r"(?![\w.-])")
_STDIN_OPTION = re.compile(r"(?<![\w-])--(password-stdin|stdin-password)(?![\w-])")
_SMB_TOOLS = frozenset({"smbclient", "rpcclient", "smbcacls", "smbget", "net"})
_PASSWORD_FLAGS = {"redis-cli": ("-a",), "mongosh": ("-p",), "mongo": ("-p",),
                   "mongodump": ("-p",), "mongorestore": ("-p",), "mongoexport": ("-p",),
                   "mongoimport": ("-p",), "keytool": ("-storepass", "-keypass", "-srcstorepass",
                                                       "-deststorepass", "-srckeypass",
                                                       "-destkeypass", "-new"),
                   **{f"ldap{c}": ("-w",) for c in ("search", "add", "modify", "delete",
                                                    "passwd", "whoami", "compare", "modrdn")}}
_COMMAND = re.compile(r"(?<![\w.-])(htpasswd|mysqladmin|mariadb-admin|rabbitmqctl|"
                      + "|".join(sorted(set(_PASSWORD_FLAGS) | _SMB_TOOLS, reverse=True))
                      + r")(?![\w.-])([^\n;&|<>]{0,2048}+)")
# `config[ure] [--opt [value]]… set [--profile x] KEY VALUE`
_CONFIG_SET = re.compile(r"(?<![\w-])(?:configure|config|CONFIG)(?![\w-])"
                         r"(?:[ \t]++--?[\w-]{1,32}+(?:[ \t=]++(?![Ss][Ee][Tt][ \t])"
                         r"[^\s-]\S{0,127}+)?){0,4}+[ \t]++[Ss][Ee][Tt]"
                         r"(?:[ \t]++--?[\w-]{1,32}+[ \t=]++[^\s-]\S{0,127}+){0,2}+"
                         r"[ \t]++([\w./:@-]{1,256}+)[ \t]++")
_YAML_KEY = re.compile(r"^([ \t]*+)(-[ \t]++)?([A-Za-z_][\w-]{0,63}+)[ \t]*+:(?:[ \t]++([^\n]*+))?$")
_CREDENTIAL_NAMES = frozenset({"pgpass", "netrc", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
                               "credentials", "git-credentials", "htpasswd", "shadow", "gshadow"})
_CREDENTIAL_EXTENSIONS = frozenset({"key", "secret", "secrets", "pgpass", "htpasswd"})
_EXPANSION = re.compile(r"\$[A-Za-z_{(]")
_BLOCK = frozenset({"|", "|-", "|+", ">", ">-", ">+"})


def credential_file(path: str, secret_key: Callable[[str], bool]) -> bool:
    """Whether a file path names a credential store (by its base name)."""
    base = path.rstrip("/").rsplit("/", 1)[-1].lower().lstrip(".")
    parts = base.split(".")
    if base in _CREDENTIAL_NAMES or (len(parts) > 1 and parts[-1] in _CREDENTIAL_EXTENSIONS):
        return True
    return any(p and secret_key(p) for p in (parts[:-1] if len(parts) > 1 else parts))


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def _chpasswd(text: str, literal: Callable[[str], bool]) -> Iterator[str]:
    for line in text.splitlines():
        if "chpasswd" in line and any(_is_password(m.group(1), literal)
                                      for m in _USER_PASS.finditer(line)):
            yield "a password for chpasswd (`user:password`)"
            break
    for m in _USER_TOOLS.finditer(text):
        if any(literal(p.group(2)) for p in _DASH_P.finditer(m.group(0))):
            yield "a password hash for useradd/usermod (`-p`)"
            return


def _is_password(value: str, literal: Callable[[str], bool]) -> bool:
    return value != "RANDOM" and literal(value)   # cloud-init's RANDOM generates one


def _pgpass(text: str, literal: Callable[[str], bool]) -> Iterator[str]:
    if any(literal(m.group(1)) for m in _PGPASS.finditer(text)):
        yield "a .pgpass entry with a password (`host:port:db:user:password`)"


def _written(text: str, literal: Callable[[str], bool], secret_key: Callable[[str], bool]
             ) -> Iterator[str]:
    """Literal content redirected into a credential file (shell). One forward pass over the
    lines: a here-document's body is consumed where it is read."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if ">" not in line and "tee" not in line:
            continue
        for segment in _SEGMENTS.split(line):
            target = next((m.group(2) for m in _REDIRECT.finditer(segment)
                           if credential_file(m.group(2), secret_key)), None)
            if target is None:
                continue
            doc = _HEREDOC.search(segment)
            what = None
            if doc:
                body, i = _here_document(lines, i, doc.group(2))
                if any(literal(b) for b in body if b.strip()):
                    what = "literal here-document content"
            else:
                what = _literal_source(segment, literal)
            if what:
                yield f"{what} written to a credential file (`{target.rsplit('/', 1)[-1]}`)"
                return


def _here_document(lines: list[str], i: int, delimiter: str) -> tuple[list[str], int]:
    """The body of a here-document whose first line is `lines[i]`, and the line after it."""
    body = []
    while i < len(lines) and lines[i].strip() != delimiter:
        body.append(lines[i])
        i += 1
    return body, i + 1


def _stdin_fed(text: str, literal: Callable[[str], bool]) -> Iterator[str]:
    """A literal piped, here-string'd or here-doc'd into a command that reads a password on
    stdin (`echo pw | passwd --stdin user`, `docker login --password-stdin`). One forward pass
    over the lines, each pipeline's stages read once."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not _STDIN_HINT.search(line):
            continue
        for segment in _SEGMENTS.split(line):
            stages = segment.split("|")
            sink = next(((k, tool) for k, tool in enumerate(map(_stdin_tool, stages)) if tool),
                        None)
            if sink is None:
                continue
            doc = _HEREDOC.search(segment)
            fed = False
            if doc:
                body, i = _here_document(lines, i, doc.group(2))
                fed = any(literal(b) for b in body if b.strip())
            if fed or any(_literal_source(stage, literal) for stage in stages[:sink[0] + 1]):
                yield f"a literal password fed to `{sink[1]}` on stdin"
                return


def _stdin_tool(stage: str) -> Optional[str]:
    """The password-reading command a pipeline stage runs, if any."""
    m = _STDIN_TOOL.match(stage)
    if m:
        return m.group(1)
    m = _STDIN_OPTION.search(stage)
    return f"--{m.group(1)}" if m else None


def _arg(raw: str) -> Optional[str]:
    """A shell word's value, or None when the shell expands it (the value comes from elsewhere;
    single quotes keep `$` literal)."""
    if not raw.startswith("'") and (_EXPANSION.search(raw) or "`" in raw):
        return None
    return _unquote(raw)


def _command_passwords(tool: str, args: list[str]) -> Iterator[str]:
    """The raw words of `tool args…` that hold a password, by position or by short option."""
    if tool == "htpasswd":              # -b [-c] FILE USER PASSWORD, -nb USER PASSWORD
        flags, positional, skip = "", [], False
        for a in args:
            if skip:
                skip = False
            elif a.startswith("-") and len(a) > 1:
                flags += a[1:]
                skip = a[-1] in "Cr"        # -C cost, -r rounds take a value
            else:
                positional.append(a)
        at = 1 if "n" in flags else 2
        if "b" in flags and len(positional) > at:
            yield positional[at]
        return
    for k, a in enumerate(args):
        following = args[k + 1] if k + 1 < len(args) else ""
        if tool in _SMB_TOOLS:          # -U user%password, --user=user%password
            if a in ("-U", "--user"):
                yield following
            elif a.startswith(("-U", "--user=")):
                yield a.split("U", 1)[1] if a[1] == "U" else a.split("=", 1)[1]
        elif a in _PASSWORD_FLAGS.get(tool, ()) and not following.startswith("-"):
            yield following
        elif tool == "redis-cli" and a.startswith("-a="):
            yield a[3:] or following
        elif tool in ("mysqladmin", "mariadb-admin") and a.lower() == "password":
            yield following
        elif tool == "rabbitmqctl" and a in ("add_user", "change_password",
                                             "authenticate_user") and k + 2 < len(args):
            yield args[k + 2]


def _commands(text: str, literal: Callable[[str], bool]) -> Iterator[str]:
    """A literal password a command takes as an argument without a `--password` name
    (`htpasswd -b`, `redis-cli -a`, `mysqladmin password`, `smbclient -U user%pw` ...)."""
    for m in _COMMAND.finditer(text):
        tool = m.group(1)
        for raw in _command_passwords(tool, _ARG.findall(m.group(2))):
            value = _arg(raw) if raw else None
            if value and tool in _SMB_TOOLS:
                value = value.partition("%")[2]
            if value and literal(value):
                yield f"a literal password on a `{tool}` command line"
                return


def _config_set(text: str, literal: Callable[[str], bool], secret_key: Callable[[str], bool]
                ) -> Iterator[str]:
    """`aws configure set aws_secret_access_key <literal>`, `redis-cli CONFIG SET requirepass
    <literal>`, `npm config set _authToken <literal>`: a secret-named key set by position."""
    for m in _CONFIG_SET.finditer(text):
        key = m.group(1)
        value = _ARG.match(text, m.end())
        if value and secret_key(key):
            v = _arg(value.group(0))
            if v and literal(v):
                yield f"a literal value for `{key.rsplit('.', 1)[-1]}` (`config set`)"
                return


def _literal_source(command: str, literal: Callable[[str], bool]) -> Optional[str]:
    """What literal an `echo`/`printf` (or a here-string) in a pipeline writes, if any."""
    values = [_unquote(m.group(1)) for m in _HERESTRING.finditer(command)]
    for m in _ECHO.finditer(command):
        if "$(" in m.group(2) or "`" in m.group(2):
            continue                        # a command's output, not a literal
        for arg in _ARG.findall(m.group(2)):
            if not arg.startswith("'") and _EXPANSION.search(arg):
                continue                    # the shell expands it: the value comes from elsewhere
            arg = _unquote(arg)
            if m.group(1) == "printf":
                arg = _FORMAT.sub("", arg)
            if arg and not arg.startswith("-"):
                values.append(arg)
    if not any(literal(v) for v in values):
        return None
    return "base64-decoded literal content" if _DECODE.search(command) else "literal content"


def _write_files(text: str, literal: Callable[[str], bool], secret_key: Callable[[str], bool]
                 ) -> Iterator[str]:
    """cloud-init `write_files` entries (`- path: …` with `content: …`) for credential files."""
    path: Optional[str] = None
    content: list[str] = []
    block_indent: Optional[int] = None
    lines = text.splitlines()
    found = False

    def judge() -> bool:
        return path is not None and credential_file(path, secret_key) and any(
            literal(c) for c in content if c.strip())

    for line in lines:
        if block_indent is not None:
            if not line.strip() or len(line) - len(line.lstrip()) > block_indent:
                content.append(line.strip())
                continue
            block_indent = None
        m = _YAML_KEY.match(line)
        if m is None:
            continue
        indent, dash, key, value = len(m.group(1)), m.group(2), m.group(3), m.group(4) or ""
        if dash:                            # a new list item: judge the previous one
            found = found or judge()
            path, content = None, []
        if key == "path":
            path = _unquote(value)
        elif key == "content":
            if value.strip() in _BLOCK:
                block_indent = indent + (len(dash) if dash else 0)
            else:
                content.append(_unquote(value))
    if found or judge():
        yield "literal content in a cloud-init `write_files` credential file"


def scan_forms(text: str, literal: Callable[[str], bool], secret_key: Callable[[str], bool]
               ) -> list[str]:
    """The forms above found in one layer of text (O(len(text)))."""
    found = list(_chpasswd(text, literal))
    if "chpasswd" in text:
        found += list(_chpasswd_block(text, literal))
    found += list(_pgpass(text, literal))
    found += list(_written(text, literal, secret_key))
    found += list(_stdin_fed(text, literal))
    found += list(_commands(text, literal))
    found += list(_config_set(text, literal, secret_key))
    if "write_files" in text:
        found += list(_write_files(text, literal, secret_key))
    return found


def _chpasswd_block(text: str, literal: Callable[[str], bool]) -> Iterator[str]:
    """cloud-config `chpasswd:` with `list:` (a block of `user:password` lines, or a YAML list of
    them): the lines indented under `chpasswd:`."""
    indent: Optional[int] = None
    for line in text.splitlines():
        stripped = line.strip()
        depth = len(line) - len(line.lstrip())
        if indent is None:
            if _CHPASSWD_KEY.match(stripped):
                indent = depth
            continue
        if stripped and depth <= indent:
            indent = None
            continue
        entry = stripped.removeprefix("-").strip()
        if ": " in entry or entry.endswith(":"):
            continue                        # a key (`list: |`, `expire: false`), not an entry
        m = _USER_PASS.match(entry)
        if m and m.end() == len(entry) and _is_password(m.group(1), literal):
            yield "a password in cloud-config `chpasswd` (`user:password`)"
            return
