"""Renders the host's cloud-init user data (`#cloud-config`) that installs and runs the app.

Contract (stable, used by components/app_fleet.py): plain values in, a `#cloud-config` string
out; no secret values are ever passed in (the app signs IAM database tokens at run time). Same
inputs + same app sources -> byte-identical output (so `pulumi up` doesn't replace the host for nothing).

On the host (Amazon Linux 2023): dnf installs python3.11; pip installs exactly app/requirements.lock
(binary wheels whose SHA-256 is in the lock, nothing else) from PyPI over HTTPS (private subnets
reach it through the NAT gateway); the RDS CA bundle is downloaded at boot and must match
RDS_CA_SHA256; gunicorn runs as the unprivileged `aurorakit` user under a sandboxed systemd unit.
"""
from __future__ import annotations

import base64
import gzip
import io
import tarfile
import tokenize
from pathlib import Path

import yaml

from .lockfile import INSTALL_OPTIONS
from .settings import ForumTables, Settings

APP_DIR = Path(__file__).resolve().parent
# Everything the host needs from app/ (cloud_init.py itself stays behind).
APP_FILES = ("__init__.py", "settings.py", "credentials.py", "db.py", "dbconnect.py", "failover.py",
             "health.py", "security.py", "web.py", "gunicorn_conf.py",
             "forum.py", "forum_schema.py", "forum_store.py",
             "templates/index.html", "requirements.lock")
INSTALL_DIR = "/opt/aurorakit"
ENV_FILE = "/etc/aurorakit/app.env"
UNIT_FILE = "/etc/systemd/system/aurorakit.service"
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
# SHA-256 of CA_BUNDLE_URL's current content; AWS changes the file when it adds CAs: README
# "Update the RDS CA pin" says how to check and update it.
RDS_CA_SHA256 = "e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3"
PYTHON = "python3.11"
USER_DATA_LIMIT = 16 * 1024  # EC2's limit on raw user data (here: the gzip-compressed bytes)


def install_script(ca_sha256: str = RDS_CA_SHA256) -> str:
    """The boot script; `bash install.sh --verify-ca FILE` runs only its CA check (for tests)."""
    return f"""#!/bin/bash
# aurorakit host setup (run once by cloud-init). No secrets here: the app reads them at runtime.
set -euo pipefail
D={INSTALL_DIR}
verify_ca() {{  # the database's trust anchor: exactly the pinned bundle, or no boot
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != {ca_sha256} ]; then
    echo "aurorakit: boot stopped: RDS CA bundle has SHA-256 $got, not the pinned RDS_CA_SHA256 (app/cloud_init.py)" >&2
    return 1
  fi
}}
[ "${{1:-}}" = --verify-ca ] && {{ verify_ca "$2"; exit; }}
id aurorakit >/dev/null 2>&1 || useradd --system --no-create-home --home-dir $D --shell /sbin/nologin aurorakit
curl -fsS --retry 10 --retry-all-errors --max-time 60 -o $D/ca.tmp {CA_BUNDLE_URL}
verify_ca $D/ca.tmp
mv $D/ca.tmp $D/rds-global-bundle.pem
rm -rf $D/app
tar -xf $D/app.tar -C $D
{PYTHON} -m venv $D/venv
$D/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check --retries 10 {INSTALL_OPTIONS} -r $D/app/requirements.lock
$D/venv/bin/python -m compileall -q $D/app
chown -R root:root $D && chmod -R u=rwX,go=rX $D
systemctl daemon-reload
systemctl enable --now aurorakit.service
"""


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
# Not "any": AWS APIs via NAT have unlistable public IPs (README, "The host's sandbox").
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


def render_user_data(*, region: str, db_user: str, writer_endpoint: str,
                     reader_endpoint: str, port: int, db_name: str, engine: str,
                     app_port: int = 80, forum_tables: ForumTables | None = None) -> str:
    if not 1 <= int(app_port) <= 65535:
        raise ValueError(f"app_port must be 1..65535; got {app_port}")
    settings = Settings(region=region, db_user=db_user, writer_host=writer_endpoint,
                        reader_host=reader_endpoint, port=int(port), db_name=db_name, engine=engine,
                        forum_tables=forum_tables)
    archive = base64.b64encode(gzip.compress(app_archive(), compresslevel=9, mtime=0)).decode()
    config = {
        "packages": [PYTHON, f"{PYTHON}-pip"],
        "write_files": [
            {"path": ENV_FILE, "permissions": "0644", "owner": "root:root",
             "content": _env_file(settings)},
            {"path": UNIT_FILE, "permissions": "0644", "owner": "root:root",
             "content": UNIT.format(env_file=ENV_FILE, d=INSTALL_DIR, app_port=int(app_port))},
            {"path": f"{INSTALL_DIR}/install.sh", "permissions": "0700", "owner": "root:root",
             "content": INSTALL_SCRIPT},
            {"path": f"{INSTALL_DIR}/app.tar", "permissions": "0600", "owner": "root:root",
             "encoding": "gz+b64", "content": archive},
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
