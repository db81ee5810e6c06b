"""Renders the host's cloud-init user data (`#cloud-config`) that installs and runs the app.

Contract (stable, used by components/app_fleet.py): plain values in, a `#cloud-config` string
out; no secret values are ever passed in (the app signs IAM database tokens at run time). Same
inputs + same app sources -> byte-identical output (so `pulumi up` doesn't replace the host for nothing).

The user data is small: the env file, the systemd unit, install.sh and `artifacts.txt`, the
list of boot artifacts (app/boot_artifacts.py: the app archive, the RDS CA bundle, the wheels of
app/requirements.lock) with the S3 URI and SHA-256 of each. On the host (Amazon Linux 2023): dnf
installs python3.11 (the AL2023 repositories are in S3); install.sh fetches every artifact with
the AWS CLI through the VPC's S3 gateway endpoint, stops the boot unless its SHA-256 is the
pinned one, and pip installs exactly the lock offline (--no-index, hash-checked binary wheels);
gunicorn runs as the unprivileged `aurorakit` user under a sandboxed systemd unit. No internet.
"""
from __future__ import annotations

import base64
import gzip
import io
import re
import tarfile
import tokenize
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import yaml

from .lockfile import INSTALL_OPTIONS
from .lockfile import PYTHON as LOCKED_PYTHON
from .settings import DEFAULT_CA_BUNDLE, ForumTables, Settings

APP_DIR = Path(__file__).resolve().parent
# Everything the host needs from app/ (cloud_init.py itself stays behind).
APP_FILES = ("__init__.py", "settings.py", "credentials.py", "db.py", "dbconnect.py", "failover.py",
             "health.py", "metric_names.py", "security.py", "web.py", "gunicorn_conf.py", "admission.py",
             "forum.py", "forum_schema.py", "forum_store.py",
             "templates/index.html", "requirements.lock", "amazon-root-cas.pem")
INSTALL_DIR = "/opt/aurorakit"
ENV_FILE = "/etc/aurorakit/app.env"
UNIT_FILE = "/etc/systemd/system/aurorakit.service"
ARTIFACTS_FILE = f"{INSTALL_DIR}/artifacts.txt"
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
# SHA-256 of CA_BUNDLE_URL's current content (`make artifacts` downloads it, the host gets it
# from S3); AWS changes the file when it adds CAs: README "Update the RDS CA pin" says how.
RDS_CA_SHA256 = "e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3"
RDS_CA_FILE = "rds-global-bundle.pem"  # under INSTALL_DIR, fetched and verified at boot
AMAZON_ROOTS_FILE = "amazon-root-cas.pem"  # in the app archive (app/amazon-root-cas.pem)
DB_CA_FILE = Path(DEFAULT_CA_BUNDLE).name  # the two above, concatenated by install.sh
PYTHON = f"python{LOCKED_PYTHON[0]}.{LOCKED_PYTHON[1]}"  # the interpreter the lock's wheels are built for
USER_DATA_LIMIT = 16 * 1024  # EC2's limit on raw user data (here: the gzip-compressed bytes)


def install_script() -> str:
    """The boot script. `bash install.sh --verify FILE SHA256 NAME` runs only the check of one
    file, `--fetch DIR REGION` only the fetch of DIR/artifacts.txt into DIR and `--db-ca DIR`
    only the drivers' CA file of DIR (for tests)."""
    return f"""#!/bin/bash
# aurorakit host setup (run once by cloud-init). No secrets here: the app reads none.
# Every file comes from the stack's S3 bucket through the VPC's S3 gateway endpoint and is
# refused unless its SHA-256 is the one {ARTIFACTS_FILE} pins.
set -euo pipefail
D={INSTALL_DIR}
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10
verify() {{  # FILE SHA256 NAME: exactly the pinned bytes, or no boot
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    echo "aurorakit: boot stopped: $3 has SHA-256 $got, not the pinned $2 ({ARTIFACTS_FILE})" >&2
    return 1
  fi
}}
fetch() {{  # DIR REGION: each artifact of DIR/artifacts.txt, moved into place only once verified
  local sha uri dest
  while read -r sha uri dest; do
    mkdir -p "$(dirname "$1/$dest")"
    aws s3 cp --only-show-errors --region "$2" "$uri" "$1/$dest.part"
    verify "$1/$dest.part" "$sha" "$dest ($uri)"
    mv "$1/$dest.part" "$1/$dest"
  done < "$1/artifacts.txt"
}}
db_ca() {{  # DIR: the drivers' CA file: RDS CAs (cluster endpoints) + Amazon roots (RDS Proxy)
  cat "$1/{RDS_CA_FILE}" "$1/app/{AMAZON_ROOTS_FILE}" > "$1/{DB_CA_FILE}.part"
  mv "$1/{DB_CA_FILE}.part" "$1/{DB_CA_FILE}"
}}
[ "${{1:-}}" = --verify ] && {{ verify "$2" "$3" "$4"; exit; }}
[ "${{1:-}}" = --fetch ] && {{ fetch "$2" "$3"; exit; }}
[ "${{1:-}}" = --db-ca ] && {{ db_ca "$2"; exit; }}
id aurorakit >/dev/null 2>&1 || useradd --system --no-create-home --home-dir $D --shell /sbin/nologin aurorakit
rm -rf $D/app $D/wheels
fetch $D "$(sed -n 's/^AURORAKIT_REGION=//p' {ENV_FILE})"
tar -xf $D/app.tar -C $D
db_ca $D
{PYTHON} -m venv $D/venv
$D/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check --no-index --find-links $D/wheels {INSTALL_OPTIONS} -r $D/app/requirements.lock
rm -rf $D/wheels $D/app.tar
$D/venv/bin/python -m compileall -q $D/app
chown -R root:root $D && chmod -R u=rwX,go=rX $D
systemctl daemon-reload
systemctl enable --now aurorakit.service
"""  # noqa: E501 (the pip line of the script: one shell command)


INSTALL_SCRIPT = install_script()

UNIT = """[Unit]
Description=aurorakit web app (gunicorn)
Wants=network-online.target
After=network-online.target

[Service]
User=aurorakit
Group=aurorakit
EnvironmentFile={env_file}
Environment=PYTHONUNBUFFERED=1
WorkingDirectory={d}
ExecStart={d}/venv/bin/gunicorn --config {d}/app/gunicorn_conf.py --bind 0.0.0.0:{app_port} 'app.web:create_app()'
Restart=always
RestartSec=2
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RemoveIPC=yes
# AF_UNIX: nss-resolve talks to systemd-resolved
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
# Not "any": DynamoDB (gateway endpoint) has unlistable public IPs (README, "The host's sandbox").
# Link-local: only IMDS (.254) and the VPC DNS resolver (.253)
IPAddressDeny=link-local multicast
IPAddressAllow=169.254.169.254 169.254.169.253
UMask=0077

[Install]
WantedBy=multi-user.target
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the user data reads like the files it writes."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def _next(tokens: list, i: int, step: int):
    """The nearest token from i in direction `step` that is not a comment or a blank line."""
    i += step
    while 0 <= i < len(tokens) and tokens[i].type in (tokenize.NL, tokenize.COMMENT):
        i += step
    return tokens[i] if 0 <= i < len(tokens) else None


def slim_python(source: str) -> str:
    """`source` without comments and docstrings (what `python -OO` drops anyway), so the app
    fits in EC2's 16 KB of user data. Only COMMENT tokens and strings that are a statement of
    their own go (a block left with no statement gets `...`); everything else is kept byte for
    byte, so the result does not depend on the Python version that renders it."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    cuts = []  # (start, end, replacement), in source order
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.COMMENT:
            cuts.append((tok.start, tok.end, ""))
            continue
        before, after = _next(tokens, i, -1), _next(tokens, i, 1)
        if (tok.type == tokenize.STRING and after is not None and after.type == tokenize.NEWLINE
                and (before is None or before.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT))):
            follower = _next(tokens, tokens.index(after, i), 1)
            alone = before is not None and before.type == tokenize.INDENT and follower.type == tokenize.DEDENT
            cuts.append((tok.start, tok.end, "..." if alone else ""))
    lines = source.splitlines(keepends=True)
    for (row, col), (end_row, end_col), text in reversed(cuts):
        head, tail = lines[row - 1][:col], lines[end_row - 1][end_col:]
        line = (head if text else head.rstrip(" \t")) + text + tail
        lines[row - 1:end_row] = [line] if line.strip() else []
    return "".join(lines)


def packed(rel: str) -> bytes:
    """A file as the host gets it: Python without comments and docstrings (`slim_python`), the
    lock without its comment lines (the wheel file names are for review; pip reads only the pins
    and hashes), everything else as is."""
    data = (APP_DIR / rel).read_bytes()
    if rel.endswith(".py"):
        data = slim_python(data.decode("utf-8")).encode("utf-8")
    elif rel == "requirements.lock":
        data = b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(b"#"))
    return data


def app_archive() -> bytes:
    """The app's source files as a tar, byte-for-byte reproducible (fixed order, mtime, owner);
    Python files slimmed (`slim_python`)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for rel in APP_FILES:
            data = packed(rel)
            info = tarfile.TarInfo(f"app/{rel}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _env_file(settings: Settings) -> str:
    lines = []
    for key, value in settings.to_env().items():
        if not value or any(c.isspace() or c in "\"'\\$`" for c in value):
            raise ValueError(f"{key} must be a non-empty value without spaces or quotes; got {value!r}")
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


class BootArtifact(Protocol):
    """What the user data needs of one boot artifact (app/boot_artifacts.py `Artifact`)."""

    key: str
    sha256: str
    dest: str


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+/-]*")


def _artifacts_file(bucket: str, artifacts: Sequence[BootArtifact]) -> str:
    """`<sha256> s3://<bucket>/<key> <dest>` per artifact, the lines install.sh reads."""
    if not _BUCKET.fullmatch(bucket):
        raise ValueError(f"artifact bucket must be an S3 bucket name; got {bucket!r}")
    if not artifacts:
        raise ValueError("artifacts: at least the app archive is required")
    lines = []
    for a in artifacts:
        if not re.fullmatch(r"[0-9a-f]{64}", a.sha256):
            raise ValueError(f"artifact {a.key!r}: sha256 must be 64 lowercase hex digits; got {a.sha256!r}")
        for what, value in (("key", a.key), ("dest", a.dest)):
            if not _KEY.fullmatch(value) or ".." in value.split("/"):
                raise ValueError(f"artifact {what} must be a relative path of letters, digits and ._+/-; got {value!r}")
        lines.append(f"{a.sha256} s3://{bucket}/{a.key} {a.dest}")
    if len({a.dest for a in artifacts}) != len(artifacts):
        raise ValueError("artifacts: two artifacts share a destination")
    return "\n".join(lines) + "\n"


def render_user_data(*, region: str, db_user: str, writer_endpoint: str,
                     reader_endpoint: str, port: int, db_name: str, engine: str,
                     bucket: str, artifacts: Sequence[BootArtifact],
                     app_port: int = 80, forum_tables: ForumTables | None = None) -> str:
    if not 1 <= int(app_port) <= 65535:
        raise ValueError(f"app_port must be 1..65535; got {app_port}")
    settings = Settings(region=region, db_user=db_user, writer_host=writer_endpoint,
                        reader_host=reader_endpoint, port=int(port), db_name=db_name, engine=engine,
                        forum_tables=forum_tables)
    config = {
        "packages": [PYTHON, f"{PYTHON}-pip"],
        "write_files": [
            {"path": ENV_FILE, "permissions": "0644", "owner": "root:root",
             "content": _env_file(settings)},
            {"path": UNIT_FILE, "permissions": "0644", "owner": "root:root",
             "content": UNIT.format(env_file=ENV_FILE, d=INSTALL_DIR, app_port=int(app_port))},
            {"path": f"{INSTALL_DIR}/install.sh", "permissions": "0700", "owner": "root:root",
             "content": INSTALL_SCRIPT},
            {"path": ARTIFACTS_FILE, "permissions": "0644", "owner": "root:root",
             "content": _artifacts_file(bucket, artifacts)},
        ],
        "runcmd": [["bash", f"{INSTALL_DIR}/install.sh"]],
    }
    body = yaml.dump(config, Dumper=_Dumper, sort_keys=False, width=1_000_000, default_flow_style=False)
    return "#cloud-config\n" + body


def encode_user_data(user_data: str) -> str:
    """What a launch template takes: base64 of the gzip-compressed text (cloud-init detects
    gzip). EC2's 16 KB limit applies to the raw bytes before base64, i.e. the compressed ones."""
    packed = gzip.compress(user_data.encode(), compresslevel=9, mtime=0)
    if len(packed) > USER_DATA_LIMIT:
        raise ValueError(f"user data is {len(packed)} bytes gzip-compressed; EC2 allows {USER_DATA_LIMIT}")
    return base64.b64encode(packed).decode()
