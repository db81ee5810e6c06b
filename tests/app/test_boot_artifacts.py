"""What the host boots from is verified: app/requirements.lock (pinned, hashed, complete, binary
wheels for both architectures) is exactly what cloud-init installs, with --require-hashes; the
RDS CA bundle must match its pinned SHA-256 or the boot script stops. No network."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import subprocess
import tarfile
from importlib.metadata import PackageNotFoundError, distribution

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from app import cloud_init, lockfile
from app.lockfile import (
    ARCHS,
    INSTALL_OPTIONS,
    LOCK,
    PYTHON,
    REQUIREMENTS,
    canonical,
    parse,
)
from tests.app.test_cloud_init import LONG

LOCKED = parse(LOCK.read_text())


def top_level() -> list[Requirement]:
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    return [Requirement(line) for line in lines if line]


def user_data_files() -> dict[str, str]:
    return {f["path"]: f["content"] for f in yaml.safe_load(cloud_init.render_user_data(**LONG))["write_files"]}


@pytest.mark.parametrize("line,message", [
    ("flask\n", "expected 'name==version --hash"),
    ("flask>=3.1 --hash=sha256:" + "a" * 64 + "\n", "expected 'name==version --hash"),
    ("flask==3.1.3\n", "expected 'name==version --hash"),
    ("flask==3.1.3 --hash=md5:" + "a" * 32 + "\n", "expected 'name==version --hash"),
    ("flask==3.1.3 --hash=sha256:" + "a" * 63 + "\n", "expected 'name==version --hash"),
    ("-e git+https://example.com/x.git#egg=x\n", "expected 'name==version --hash"),
    ("--index-url https://example.com/simple\n", "expected 'name==version --hash"),
    ("Flask==3.1.3 --hash=sha256:" + "a" * 64 + "\nflask==3.1.3 --hash=sha256:" + "b" * 64 + "\n", "locked twice"),
])
def test_the_lock_reader_refuses_anything_unpinned_or_unhashed(line, message):
    with pytest.raises(ValueError, match=message):
        parse(line)


def test_every_top_level_pin_is_locked_at_the_same_version():
    assert LOCKED, "app/requirements.lock is empty"
    for req in top_level():
        pins = [s for s in req.specifier if s.operator == "=="]
        assert len(pins) == 1, f"app/requirements.txt: {req} is not pinned with =="
        entry = LOCKED.get(canonical(req.name))
        assert entry and entry.version == pins[0].version, (
            f"{req}: the lock has {entry.version if entry else 'nothing'}; run `make lock`")


def test_the_lock_is_closed_under_dependencies():
    """Every dependency (markers evaluated for the host: Linux, CPython 3.11, each architecture,
    with the extras app/requirements.txt asks for) is locked at a version it accepts: --no-deps on
    the host installs nothing else. Metadata comes from the test venv's copy of the same version."""
    extras = {canonical(r.name): r.extras for r in top_level()}
    checked = set()
    for entry in LOCKED.values():
        try:
            dist = distribution(entry.name)
        except PackageNotFoundError:
            continue
        if dist.version != entry.version:
            continue
        checked.add(entry.name)
        for spec in dist.requires or []:
            dep = Requirement(spec)
            env = [{"python_version": f"{PYTHON[0]}.{PYTHON[1]}", "sys_platform": "linux", "platform_system": "Linux",
                    "implementation_name": "cpython", "platform_machine": arch, "extra": extra}
                   for arch in ARCHS for extra in (extras.get(entry.name) or {""})]
            if dep.marker and not any(dep.marker.evaluate(e) for e in env):
                continue
            locked = LOCKED.get(canonical(dep.name))
            assert locked, f"{entry.name} needs {spec}, which is not in the lock; run `make lock`"
            assert dep.specifier.contains(locked.version, prereleases=True), (
                f"{entry.name} needs {spec}; the lock has {locked.version}")
    assert {canonical(r.name) for r in top_level()} <= checked, checked


def supported(arch: str) -> set:
    platforms = lockfile.platforms(arch)
    return {*cpython_tags(PYTHON, [f"cp{PYTHON[0]}{PYTHON[1]}"], platforms),
            *compatible_tags(PYTHON, f"cp{PYTHON[0]}{PYTHON[1]}", platforms)}


def test_every_package_is_a_binary_wheel_for_each_host_architecture():
    tags = {arch: supported(arch) for arch in ARCHS}
    for entry in LOCKED.values():
        assert set(entry.files) == set(ARCHS), f"{entry.name}: wheels listed for {sorted(entry.files)}"
        for arch, filename in entry.files.items():
            name, version, _, wheel_tags = parse_wheel_filename(filename)
            assert (canonical(name), str(version)) == (entry.name, entry.version), filename
            assert wheel_tags & tags[arch], f"{filename} does not install on {arch}"
        assert len(entry.hashes) == len(set(entry.files.values())), f"{entry.name}: one hash per wheel file"
    # the compiled ones really are per-architecture builds
    binary = {e.name for e in LOCKED.values() if len(set(e.files.values())) == 2}
    assert {"psycopg-binary", "markupsafe", "sqlalchemy"} <= binary, binary


def test_user_data_installs_exactly_the_lock_with_hashes_required():
    files = user_data_files()
    tar_bytes = gzip.decompress(base64.b64decode(files["/opt/aurorakit/app.tar"]))
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        names = tar.getnames()
        shipped = tar.extractfile("app/requirements.lock").read().decode()
    assert "app/requirements.txt" not in names  # the host never reads the unhashed pins
    shipped_entries = parse(shipped)
    assert {n: (e.version, e.hashes) for n, e in shipped_entries.items()} == {
        n: (e.version, e.hashes) for n, e in LOCKED.items()}
    script = files["/opt/aurorakit/install.sh"]
    pip_lines = [line for line in script.splitlines() if "pip install" in line]
    assert len(pip_lines) == 1, pip_lines
    assert pip_lines[0].endswith(f"{INSTALL_OPTIONS} -r $D/app/requirements.lock"), pip_lines[0]
    for option in ("--require-hashes", "--only-binary :all:", "--no-deps"):
        assert option in pip_lines[0]


def test_the_ca_pin_is_checked_before_the_bundle_is_installed():
    assert re.fullmatch(r"[0-9a-f]{64}", cloud_init.RDS_CA_SHA256)
    lines = user_data_files()["/opt/aurorakit/install.sh"].splitlines()
    check = lines.index("verify_ca $D/ca.tmp")
    assert lines[check - 1].startswith("curl ") and lines[check + 1] == "mv $D/ca.tmp $D/rds-global-bundle.pem"
    assert f'if [ "$got" != {cloud_init.RDS_CA_SHA256} ]; then' in [line.strip() for line in lines[:check]]


@pytest.fixture()
def bundles(tmp_path):
    good = tmp_path / "global-bundle.pem"
    good.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB" + b"A" * 60 + b"\n-----END CERTIFICATE-----\n")
    tampered = tmp_path / "tampered.pem"  # still looks like a bundle: one certificate byte changed
    tampered.write_bytes(good.read_bytes().replace(b"MIIBA", b"MIIBB", 1))
    return good, tampered


def run_check(script: str, tmp_path, bundle) -> subprocess.CompletedProcess:
    path = tmp_path / "install.sh"
    path.write_text(script)
    return subprocess.run(["bash", str(path), "--verify-ca", str(bundle)], capture_output=True, text=True,
                          timeout=30, check=False)


def test_a_tampered_ca_bundle_stops_the_boot_script(tmp_path, bundles):
    good, tampered = bundles
    pinned_to_good = cloud_init.install_script(ca_sha256=hashlib.sha256(good.read_bytes()).hexdigest())
    ok = run_check(pinned_to_good, tmp_path, good)
    assert (ok.returncode, ok.stderr) == (0, "")
    bad = run_check(pinned_to_good, tmp_path, tampered)
    assert bad.returncode == 1
    assert bad.stderr.startswith("aurorakit: boot stopped: RDS CA bundle has SHA-256 "
                                 f"{hashlib.sha256(tampered.read_bytes()).hexdigest()}, not the pinned RDS_CA_SHA256")
    missing = run_check(pinned_to_good, tmp_path, tmp_path / "absent.pem")
    assert missing.returncode != 0
    # the script cloud-init really gets refuses anything but the real bundle
    real = run_check(user_data_files()["/opt/aurorakit/install.sh"], tmp_path, good)
    assert real.returncode == 1 and "boot stopped" in real.stderr
