"""Renders the host's cloud-init user data (`#cloud-config`) that installs and runs the app.

Contract (stable, used by components/app_host.py): plain values in, a `#cloud-config` string
out; no secret values are ever passed in (only the secret's ARN). Same inputs + same app sources
-> byte-identical output (so `pulumi up` doesn't replace the host for nothing).

On the host (Amazon Linux 2023): dnf installs python3.11; the app's pinned requirements come from
PyPI over HTTPS (private subnets reach it through the NAT gateway); the RDS CA bundle is
downloaded at boot; gunicorn runs as the unprivileged `aurorakit` user under systemd.
"""
from __future__ import annotations

import base64
import gzip
import io
import tarfile
from pathlib import Path

import yaml

from .settings import Settings

APP_DIR = Path(__file__).resolve().parent
# Everything the host needs from app/ (cloud_init.py itself stays behind).
APP_FILES = ("__init__.py", "settings.py", "credentials.py", "db.py", "dbconnect.py", "failover.py",
             "health.py", "web.py", "gunicorn_conf.py", "templates/index.html",
             "requirements.txt")
INSTALL_DIR = "/opt/aurorakit"
ENV_FILE = "/etc/aurorakit/app.env"
UNIT_FILE = "/etc/systemd/system/aurorakit.service"
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
PYTHON = "python3.11"
USER_DATA_LIMIT = 16 * 1024  # EC2's limit on raw user data

INSTALL_SCRIPT = f"""#!/bin/bash
# aurorakit host setup (run once by cloud-init). No secrets here: the app reads them at runtime.
set -euo pipefail
D={INSTALL_DIR}
id aurorakit >/dev/null 2>&1 || useradd --system --no-create-home --home-dir $D --shell /sbin/nologin aurorakit
curl -fsS --retry 10 --retry-all-errors --max-time 60 -o $D/ca.tmp {CA_BUNDLE_URL}
grep -q 'BEGIN CERTIFICATE' $D/ca.tmp
mv $D/ca.tmp $D/rds-global-bundle.pem
rm -rf $D/app
tar -xf $D/app.tar -C $D
{PYTHON} -m venv $D/venv
$D/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check --retries 10 -r $D/app/requirements.txt
$D/venv/bin/python -m compileall -q $D/app
chown -R root:root $D && chmod -R u=rwX,go=rX $D
systemctl daemon-reload
systemctl enable --now aurorakit.service
"""

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
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0077

[Install]
WantedBy=multi-user.target
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the user data reads like the files it writes."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def app_archive() -> bytes:
    """The app's source files as a tar, byte-for-byte reproducible (fixed order, mtime, owner)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for rel in APP_FILES:
            data = (APP_DIR / rel).read_bytes()
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


def render_user_data(*, region: str, secret_arn: str, writer_endpoint: str,
                     reader_endpoint: str, port: int, db_name: str, engine: str,
                     app_port: int = 80) -> str:
    if not 1 <= int(app_port) <= 65535:
        raise ValueError(f"app_port must be 1..65535; got {app_port}")
    settings = Settings(region=region, secret_arn=secret_arn, writer_host=writer_endpoint,
                        reader_host=reader_endpoint, port=int(port), db_name=db_name, engine=engine)
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
    user_data = "#cloud-config\n" + body
    if len(user_data.encode()) > USER_DATA_LIMIT:
        raise ValueError(f"user data is {len(user_data.encode())} bytes; EC2 allows {USER_DATA_LIMIT}")
    return user_data
