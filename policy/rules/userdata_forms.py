"""Secrets in user data that carry no `key=value` name (used by userdata.scan_text), linear:

* `chpasswd` input: `echo 'root:pw' | chpasswd`, `chpasswd <<< user:pw`, the `user:password`
  lines of cloud-config's `chpasswd:` block (`list:`), and `useradd`/`usermod -p <hash>`;
* `.pgpass` entries (`host:port:database:user:password`) wherever they appear;
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
_HEREDOC = re.compile(r"<<-?[ \t]*+(['\"]?)([A-Za-z_]\w{0,31}+)\1")
_DECODE = re.compile(r"(?<![\w-])base64[ \t]++(?:-d|-D|--decode)\b")
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
                body = []
                while i < len(lines) and lines[i].strip() != doc.group(2):
                    body.append(lines[i])
                    i += 1
                i += 1
                if any(literal(b) for b in body if b.strip()):
                    what = "literal here-document content"
            else:
                what = _literal_source(segment, literal)
            if what:
                yield f"{what} written to a credential file (`{target.rsplit('/', 1)[-1]}`)"
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
