"""Secrets in EC2 user data, in every encoding a host decodes — in linear time.

`findings(data)` names what secret-looking content user data holds (by key or pattern, never
the value). It scans the text itself and every layer a host would decode: base64 blocks (the
whole `user_data` when it is base64, which the AWS provider passes through and EC2 decodes;
cloud-init `write_files` with `encoding: b64` / `gz+b64`; MIME parts; `!!binary`), gzip, and
tar archives inside them (files judged by kind: source code only by quoted literals), each
also read with YAML double-quoted escapes decoded (`\\n`, folded lines).

What it recognises: key/value assignments whose key names a secret (`password`, `passwd`,
`PASS`, `PWD`, `secret`, `token`, `api_key`, `private_key`, ...) in env/YAML/JSON/INI/shell
forms; long options (`--password=…`, `--db-password …`); `mysql -p<password>`; `sshpass -p`;
`curl -u user:password`; credentials in URLs (`scheme://user:password@host`); PEM private keys;
AWS access key ids; and the forms without a key of userdata_forms.py (`chpasswd` input,
`.pgpass` entries, literal content written to a credential file, a literal fed on stdin to
`passwd --stdin` and its kin, positional passwords such as `htpasswd -b` or `redis-cli -a`,
`aws configure set <secret key> …`). A switch (`--password-stdin`, `--ask-pass`,
`--no-password`) names no value, and a locked-password marker (`!`, `!!`, `*`, `*LK*`) is no
secret.
A value is a *reference* (not a secret) only when the whole value is one:
`$VAR`, `${VAR}`, `$(command …`, `{{ template }}`, `<placeholder>`, an ARN, a path, a dotted
attribute or `name['key']` — so the special characters a RandomPassword emits
(`!#$%^&*()-_=+[]{}<>:?`) inside a value do not hide it.

Cost: every regex is anchored at token boundaries with bounded possessive quantifiers, so each
layer is scanned in O(n); decoded layers are bounded by `MAX_EXPANDED` bytes in total and
`MAX_DEPTH` levels, and user data that expands beyond that is reported as uncheckable.
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import re
import tarfile
import zlib
from collections.abc import Iterator
from typing import Optional

from .userdata_forms import scan_forms

MAX_EXPANDED = 1 << 20      # bytes of decoded content scanned per user data, all layers together
MAX_DEPTH = 6               # base64 in gzip in base64 in ...
MIN_BLOCK = 16              # shortest base64 block worth decoding (12 bytes)
CODE_SUFFIXES = (".py", ".pyi", ".js", ".mjs", ".ts", ".rb", ".go", ".java", ".php", ".html",
                 ".htm", ".j2", ".jinja", ".tmpl")

# key, then `=` (a value may start with `=` or `:`), ` = ` (not `==`) or `:` (not `::`, `://`)
_KEY = re.compile(r"(?<![\w.:/-])([A-Za-z_][\w.-]{0,127}+)[\"']?"
                  r"(?:=|[ \t]++=(?!=)|[ \t]*+:(?![:/]))[ \t]*+")
_OPTION = re.compile(r"(?<![\w-])--([A-Za-z][\w-]{0,63}+)(?:=|[ \t]++)")
_VALUE = re.compile(r"\"([^\"\n]{0,512}+)\"|'([^'\n]{0,512}+)'|(\S{1,512}+)")
_MYSQL = re.compile(r"(?<![\w-])(?:mysql|mariadb|mysqldump|mysqladmin|mysqlimport|mysqlshow|"
                    r"mysqlcheck|mysqlsh|mariadb-dump|mariadb-admin)\b[^\n]{0,1024}+")
_DASH_P = re.compile(r"(?<!\S)-p(\S{1,256}+)")
_SSHPASS = re.compile(r"(?<![\w-])sshpass[ \t]++-p[ \t]*+(\S{1,256}+)")
_CURL_USER = re.compile(r"(?<!\S)(?:-u|--user)[ \t]++[^\s:]{1,128}+:(\S{1,256}+)")
_URL_CREDENTIALS = re.compile(
    r"(?<![\w+.-])[A-Za-z][\w+.-]{0,20}+://[^\s:/@]{1,128}+:([^\s@/]{1,256}+)@")
_PATTERNS = (
    (re.compile(r"-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----"),
     "a PEM private key block"),
    (re.compile(r"(?<![0-9A-Z])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])"), "an AWS access key id"),
)
_LONG_WORDS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
               "privatekey", "authkey", "requirepass", "masterauth")
# `--password-stdin`, `--stdin-password`, `--ask-pass`, `--no-password`, `--prompt-password`
_SWITCH_WORDS = frozenset({"no", "ask", "prompt", "stdin"})
_SHORT_WORDS = frozenset({"pass", "pwd", "pw", "passwd", "pword"})
# Keys that name or point at a secret rather than hold it.
# Keys that name, point at or describe a secret rather than hold it (TOKEN_TTL, SECRET_ARN).
_REFERENCE_SUFFIXES = ("arn", "id", "ids", "name", "file", "path", "ref", "url", "uri", "length",
                       "region", "endpoint", "policy", "manager", "rotation", "version", "stage",
                       "type", "kind", "header", "source", "backend", "enabled", "required",
                       "ttl", "seconds", "timeout", "expiry", "lifetime", "interval", "days",
                       "hours", "minutes", "size", "count", "mode", "method", "plugin",
                       "algorithm", "format", "scheme", "prefix", "hint")
_EMPTY = frozenset({"", "null", "none", "true", "false", "yes", "no", "[]", "{}", "''", '""',
                    "~", "|", ">", "|-", ">-", "|+", ">+"})
_REFERENCE_PREFIXES = ("arn:", "/", "./", "~/", "resolve:", "ssm:", "secretsmanager:", "file:",
                       "env:", "vault:", "s3://")
_REFERENCE = re.compile(
    r"\$[A-Za-z_]\w*+|\$\{[^{}\n]*+\}|\$\([A-Za-z_][\w./-]*+|\$\(.*\)|`[^`]*+`"
    r"|\{\{[^{}]*+\}\}|\{%[^{}]*+%\}|<[A-Za-z][\w .-]{0,62}+>|%\(\w++\)s|![A-Za-z]++"
    r"|[A-Za-z_]\w*+(?:\.[A-Za-z_]\w*+)++\(?\)?"           # attribute access, maybe a call
    r"|[A-Za-z_][\w.]*+\[['\"][\w.-]*+['\"]\]|[A-Za-z_][\w.]*+\(\)", re.DOTALL)
# `!`, `!!`, `*`, `!*`, `*LK*`, `*NP*`: a shadow password field that locks or disables the
# account (useradd -p '!', chpasswd -e 'user:*', cloud-config `passwd: '!'`), never a secret.
_LOCKED = re.compile(r"[!*]{1,8}+(?:[A-Z]{2}\*)?")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


@functools.lru_cache(maxsize=4096)
def secret_key(key: str) -> bool:
    """Whether an assignment's key names a secret value (not a pointer to one)."""
    compact = re.sub(r"[^a-z0-9]", "", key.lower())
    if not compact or compact.endswith(_REFERENCE_SUFFIXES):
        return False
    parts = [p for p in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", key).lower()) if p]
    if parts[0] in _SWITCH_WORDS or "stdin" in parts or compact.startswith("askpass"):
        return False            # a switch: the secret is read elsewhere (or not at all)
    if any(word in compact for word in _LONG_WORDS):
        return True
    return any(p in _SHORT_WORDS for p in parts)


def literal(value: str) -> bool:
    """Whether `value` is a literal (not empty, not a small number such as a port or a
    timeout, not a locked-password marker, not a reference/expansion/expression)."""
    value = value.strip()
    if value.lower() in _EMPTY or value.startswith(_REFERENCE_PREFIXES) or (
            value.isdigit() and len(value) <= 6) or _LOCKED.fullmatch(value):
        return False
    core = value.rstrip(",;)]}")
    return not (_REFERENCE.fullmatch(value) or (core and _REFERENCE.fullmatch(core)))


def _value(text: str, pos: int, code: bool) -> Optional[str]:
    """The value starting at `pos` (quoted or one token); None when there is none (or, in
    source code, when it is not a quoted string literal)."""
    m = _VALUE.match(text, pos)
    if m is None:
        return None
    if m.group(3) is not None:
        return None if code else m.group(3)
    return m.group(1) if m.group(1) is not None else m.group(2)


def scan_text(text: str, code: bool = False) -> list[str]:
    """Findings in one layer of text (O(len(text)))."""
    found: list[str] = []
    for pattern, what in _PATTERNS:
        if pattern.search(text):
            found.append(what)
    for regex in (_KEY, _OPTION):
        for m in regex.finditer(text):
            key = m.group(1)
            if not secret_key(key):
                continue
            value = _value(text, m.end(), code)
            if value is not None and literal(value):
                found.append(f"a literal value for `{'--' if regex is _OPTION else ''}{key}`")
    if code:
        return found
    found += scan_forms(text, literal, secret_key)
    for m in _MYSQL.finditer(text):
        for p in _DASH_P.finditer(m.group(0)):
            if literal(p.group(1).strip("'\"")):
                found.append("a password on a MySQL command line (`-p…`)")
    for regex, what in ((_SSHPASS, "a password for sshpass (`-p`)"),
                        (_CURL_USER, "a password in `-u user:password`"),
                        (_URL_CREDENTIALS, "a password in a URL (`scheme://user:password@…`)")):
        if any(literal(m.group(1).strip("'\"")) for m in regex.finditer(text)):
            found.append(what)
    return found


_ESCAPED_BREAK = re.compile(r"\\\r?\n[ \t]*+(?:\\(?=[ \t]))?")
_ESCAPES = (("\\n", "\n"), ("\\t", "\t"), ('\\"', '"'), ("\\/", "/"))


def unescaped(text: str) -> Optional[str]:
    """`text` with the escapes of YAML double-quoted (and JSON) strings decoded, as cloud-init's
    YAML parser reads them: escaped line breaks joined (with the `\\ ` that keeps a folded
    line's leading space), `\\n`, `\\t`, `\\"`, `\\/` replaced. None when nothing changes.
    Linear: one substitution, then plain replacements."""
    if "\\" not in text:
        return None
    out = _ESCAPED_BREAK.sub("", text)
    for old, new in _ESCAPES:
        out = out.replace(old, new)
    return out if out != text else None


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_EXPANDED
        self.exceeded = False

    def take(self, n: int) -> bool:
        self.left -= n
        if self.left < 0:
            self.exceeded = True
        return not self.exceeded


# Tokens end at whitespace and at shell/YAML punctuation (`echo …|base64 -d`, `"…"`), and
# after the `=`s that end one (`DATA=<base64>`): base64's own `=` only ever ends a block.
_TOKEN = re.compile(r"[^\s|&;<>()\[\]{}\"'`,=]++=*+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _base64_blocks(text: str) -> Iterator[str]:
    """Runs of base64 tokens, each a candidate encoded payload: a token, joined with the next
    ones across line breaks (MIME and YAML wrap long blocks). One pass over the tokens."""
    block: list[str] = []
    size = 0
    end = 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        ok = bool(token.rstrip("=")) and _BASE64.fullmatch(token) is not None
        wrapped = "\n" in text[end:m.start()]
        end = m.end()
        if ok and block and wrapped and size % 4 == 0 and not block[-1].endswith("="):
            block.append(token)
            size += len(token)
            continue
        if size >= MIN_BLOCK:
            yield "".join(block)
        block, size = ([token], len(token)) if ok else ([], 0)
    if size >= MIN_BLOCK:
        yield "".join(block)


def _gunzip(data: bytes, budget: _Budget) -> Optional[bytes]:
    """All members of a gzip stream (cloud-init reads them all), within the budget."""
    out = b""
    while data[:2] == b"\x1f\x8b":
        stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += stream.decompress(data, max(budget.left - len(out), 0) + 1)
        except zlib.error:
            break
        if len(out) > budget.left or stream.unconsumed_tail:
            budget.exceeded = True
            return None
        data = stream.unused_data
    budget.take(len(out))
    return out or None


def _text(data: bytes) -> Optional[str]:
    """Bytes as text when they look like text (UTF-8, almost all printable)."""
    if b"\x00" in data[:4096]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    sample = text[:4096]
    return text if len(_CONTROL.findall(sample)) <= 0.1 * len(sample) else None


def _members(data: bytes, budget: _Budget) -> Optional[list[tuple[str, bytes]]]:
    """The regular files of a tar archive, or None when `data` is not one."""
    if len(data) < 512 or data[257:262] != b"ustar":
        return None
    out = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for info in tar:
                if info.isfile() and budget.take(info.size):
                    handle = tar.extractfile(info)
                    out.append((info.name, handle.read() if handle else b""))
    except Exception:  # noqa: BLE001 - untrusted bytes: a malformed archive ends the listing
        return out
    return out


def _layers(data: bytes, where: str, depth: int, budget: _Budget
            ) -> Iterator[tuple[str, str, bool]]:
    """(text, where, is_code) for decoded bytes: gzip (all members), tar members, text."""
    for _ in range(MAX_DEPTH):
        if data[:2] != b"\x1f\x8b":
            break
        inflated = _gunzip(data, budget)
        if inflated is None:
            return
        data, where = inflated, f"gzip in {where}"
    members = _members(data, budget)
    if members is not None:
        for name, content in members:
            text = _text(content)
            if text is not None:
                yield text, f"file {name} of a tar archive in {where}", name.endswith(
                    CODE_SUFFIXES)
        return
    text = _text(data)
    if text is not None:
        yield text, where, False


def _walk(data: str, budget: _Budget) -> Iterator[tuple[str, str, bool]]:
    """(text, where, is_code) for every text a host reads from `data`: the data itself, its
    YAML-unescaped form, and every decoded layer (depth-first), within the budget."""
    pending = [(data, "", False, 0)]
    while pending:
        text, where, code, depth = pending.pop()
        yield text, where, code
        decoded = None if code else unescaped(text)
        if decoded is not None and budget.take(len(decoded)):
            # a YAML double-quoted string folds a command or escapes its newlines: `\\nmysql
            # -p…` reads as a new line to the host; base64 blocks are read from this form too
            yield decoded, where, False
            text = decoded
        if depth >= MAX_DEPTH or code:
            continue
        for block in _base64_blocks(text):
            if not budget.take(len(block)):
                break
            try:
                raw = base64.b64decode(block + "=" * (-len(block) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            for layer, inner, is_code in _layers(raw, "base64 content", depth, budget):
                pending.append((layer, f"{inner} of {where}" if where else inner, is_code,
                                depth + 1))


@functools.lru_cache(maxsize=16)
def _decoded(data: str) -> tuple[tuple[tuple[str, str, bool], ...], bool]:
    """Every layer of `data` a host decodes, and whether the expansion budget ran out: decoded
    once for the rules that read user data (secrets, containers) on the same host."""
    budget = _Budget()
    return tuple(_walk(data, budget)), budget.exceeded


def findings(data: str) -> list[str]:
    """What secret-looking content user data holds, in any layer (never the value itself)."""
    layers, exceeded = _decoded(data)
    found: list[str] = []
    for text, where, code in layers:
        suffix = f" (in {where})" if where else ""
        found.extend(f + suffix for f in scan_text(text, code))
    if exceeded:
        found.append(f"content that expands beyond {MAX_EXPANDED // 1024} KiB when decoded (it "
                     "cannot be checked)")
    return list(dict.fromkeys(found))


# A container runtime or orchestrator agent the host starts (ec2-imds-hop-limit: containers
# need a second hop to reach IMDS).
_CONTAINERS = re.compile(r"(?<![\w-])(?:docker|dockerd|containerd|podman|nerdctl|crio|kubelet|"
                         r"k3s|microk8s|nodeadm|ecs-init|amazon-ecs-init|ECS_CLUSTER|"
                         r"/etc/eks/bootstrap\.sh|/etc/ecs/ecs\.config)(?![\w-])")


def runs_containers(data: str) -> bool:
    """Whether user data (in any layer a host decodes) starts containers."""
    return any(_CONTAINERS.search(text) for text, _, _ in _decoded(data)[0])
