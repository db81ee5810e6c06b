"""The host's user data: valid cloud-config, small (the app ships as an S3 artifact), reproducible,
no secrets."""
from __future__ import annotations

import base64
import gzip
import io
import subprocess
import tarfile

import pytest
import yaml

from app import cloud_init
from app.boot_artifacts import manifest
from app.cloud_init import APP_DIR, USER_DATA_LIMIT, encode_user_data, render_user_data
from app.settings import Settings

# The longest bucket name AppFleet's bucket_prefix can produce (24 + "-artifacts-" + 26).
BUCKET = "aurorakit-production-app-artifacts-20261130120000000000000001"
# Realistic worst-case lengths (long cluster identifiers, a 32-character user name).
LONG = dict(
    region="ap-southeast-2",
    db_user="aurorakit_application_user_32ch",
    writer_endpoint="aurorakit-production-aurora-cluster-0a1b2c3d.cluster-c9akciq32xyz.ap-southeast-2.rds.amazonaws.com",
    reader_endpoint="aurorakit-production-aurora-cluster-0a1b2c3d.cluster-ro-c9akciq32xyz.ap-southeast-2.rds.amazonaws.com",
    port=5432, db_name="aurorakit", engine="aurora-postgresql", bucket=BUCKET, artifacts=manifest("aarch64"))


def files_of(user_data: str) -> dict[str, dict]:
    assert user_data.startswith("#cloud-config\n")
    return {f["path"]: f for f in yaml.safe_load(user_data)["write_files"]}


@pytest.mark.parametrize("engine,port", [("aurora-postgresql", 5432), ("aurora-mysql", 3306)])
def test_valid_cloud_config_under_the_ec2_limit(tmp_path, engine, port):
    user_data = render_user_data(**{**LONG, "engine": engine, "port": port, "app_port": 8080})
    size = len(base64.b64decode(encode_user_data(user_data)))  # what EC2 counts: the gzip bytes
    # the app, the wheels and the CA bundle are S3 objects: the user data only lists them
    assert size < USER_DATA_LIMIT // 4, size
    assert gzip.decompress(base64.b64decode(encode_user_data(user_data))).decode() == user_data
    path = tmp_path / "user-data.yaml"
    path.write_text(user_data)
    result = subprocess.run(["cloud-init", "schema", "--config-file", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Valid cloud-config" in result.stdout, result.stdout + result.stderr


def test_output_is_byte_identical_across_runs():
    assert render_user_data(**LONG) == render_user_data(**LONG)
    assert cloud_init.app_archive() == cloud_init.app_archive()


def test_archive_carries_exactly_the_app_sources():
    (app,) = [a for a in LONG["artifacts"] if a.dest == "app.tar"]
    assert app.source == cloud_init.app_archive()
    assert set(files_of(render_user_data(**LONG))) == {  # the user data does not carry the app
        "/etc/aurorakit/app.env", "/etc/systemd/system/aurorakit.service", "/opt/aurorakit/install.sh",
        "/opt/aurorakit/artifacts.txt"}
    with tarfile.open(fileobj=io.BytesIO(app.source)) as tar:
        packed = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        assert {(m.uid, m.mtime, m.mode) for m in tar.getmembers()} == {(0, 0, 0o644)}
    for rel in cloud_init.APP_FILES:
        assert packed.pop(f"app/{rel}") == cloud_init.packed(rel), rel
        source = (APP_DIR / rel).read_bytes()
        if rel.endswith(".py"):  # comments and docstrings dropped (tests/app/test_slim.py)
            assert cloud_init.packed(rel) == cloud_init.slim_python(source.decode()).encode(), rel
        elif rel != "requirements.lock":  # the lock ships without its comment lines (test_lock.py)
            assert cloud_init.packed(rel) == source, rel
    assert packed == {}
    # every module the app needs is packed (the renderer, the lock generator and the operator's
    # loader stay behind)
    modules = {p.name for p in APP_DIR.glob("*.py")} - {"cloud_init.py", "lockfile.py", "load_sample.py",
                                                        "boot_artifacts.py"}
    assert modules <= set(cloud_init.APP_FILES)


def test_env_file_has_only_non_secret_settings_and_round_trips():
    env_text = files_of(render_user_data(**LONG))["/etc/aurorakit/app.env"]["content"]
    env = dict(line.split("=", 1) for line in env_text.splitlines())
    assert set(env) == {"AURORAKIT_REGION", "AURORAKIT_DB_USER", "AURORAKIT_DB_WRITER_HOST",
                        "AURORAKIT_DB_READER_HOST", "AURORAKIT_DB_PORT", "AURORAKIT_DB_NAME",
                        "AURORAKIT_DB_ENGINE", "AURORAKIT_DB_CA_BUNDLE", "AURORAKIT_DB_POOLING"}
    s = Settings.from_env(env)
    assert (s.region, s.db_user, s.writer_host, s.reader_host, s.port, s.db_name, s.engine) == (
        LONG["region"], LONG["db_user"], LONG["writer_endpoint"], LONG["reader_endpoint"],
        LONG["port"], LONG["db_name"], LONG["engine"])
    assert s.ca_bundle == "/opt/aurorakit/db-ca.pem"
    assert "password" not in render_user_data(**LONG).lower()
    assert "secret" not in env_text.lower()  # the app reads no secret: it signs IAM tokens


def test_unit_runs_unprivileged_on_the_app_port_and_installs_at_boot():
    user_data = render_user_data(**{**LONG, "app_port": 8080})
    files = files_of(user_data)
    unit = files["/etc/systemd/system/aurorakit.service"]["content"]
    for line in ("User=aurorakit", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "EnvironmentFile=/etc/aurorakit/app.env", "Restart=always"):
        assert line in unit.splitlines()
    assert "--bind 0.0.0.0:8080" in unit and "'app.web:create_app()'" in unit
    script = files["/opt/aurorakit/install.sh"]["content"]
    assert "set -euo pipefail" in script and "aws s3 cp" in script
    assert "pip install" in script and "-r $D/app/requirements.lock" in script
    # no internet at boot: nothing but S3 (the artifacts) and dnf (the packages, also S3)
    assert "curl" not in script and "http" not in script.replace("https://", "")
    assert "pypi" not in user_data.lower() and cloud_init.CA_BUNDLE_URL not in user_data
    assert yaml.safe_load(user_data)["runcmd"] == [["bash", "/opt/aurorakit/install.sh"]]


@pytest.mark.parametrize("bad,message", [
    ({"engine": "mysql"}, "AURORAKIT_DB_ENGINE must be one of aurora-mysql, aurora-postgresql"),
    ({"port": 0}, "AURORAKIT_DB_PORT must be 1..65535"),
    ({"app_port": 70000}, "app_port must be 1..65535"),
    ({"db_name": "a b"}, "AURORAKIT_DB_NAME must be a non-empty value without spaces"),
    ({"db_user": ""}, "AURORAKIT_DB_USER must be a non-empty value"),
])
def test_bad_input_is_one_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        render_user_data(**{**LONG, **bad})


def test_settings_from_env_names_the_missing_or_bad_key():
    good = Settings(region="eu-west-1", db_user="app", writer_host="w", reader_host="r", port=3306,
                    db_name="d", engine="aurora-mysql").to_env()
    with pytest.raises(ValueError, match="AURORAKIT_DB_USER is required"):
        Settings.from_env({k: v for k, v in good.items() if k != "AURORAKIT_DB_USER"})
    with pytest.raises(ValueError, match="AURORAKIT_DB_PORT must be an integer"):
        Settings.from_env({**good, "AURORAKIT_DB_PORT": "33o6"})
    with pytest.raises(ValueError, match="AURORAKIT_DB_POOLING must be one of on, off"):
        Settings.from_env({**good, "AURORAKIT_DB_POOLING": "yes"})
    assert Settings.from_env(good).port == 3306


def test_systemd_accepts_every_unit_directive(tmp_path):
    """`systemd-analyze verify` in a scratch root: no unknown/invalid directive in the unit."""
    unit = files_of(render_user_data(**LONG))["/etc/systemd/system/aurorakit.service"]["content"]
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    (tmp_path / "etc/systemd/system/aurorakit.service").write_text(unit)
    gunicorn = tmp_path / "opt/aurorakit/venv/bin/gunicorn"
    gunicorn.parent.mkdir(parents=True)
    gunicorn.write_text("#!/bin/sh\n")
    gunicorn.chmod(0o755)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", "aurorakit.service"],
                            capture_output=True, text=True, timeout=60)
    # The scratch root has no targets at all; everything else systemd reports is a problem.
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "Unit sysinit.target not found" not in line]
    assert problems == []
