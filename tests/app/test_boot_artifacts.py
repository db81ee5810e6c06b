"""What the host boots from is verified: app/requirements.lock (pinned, hashed, complete, binary
wheels for both architectures) is exactly what cloud-init installs, offline with --require-hashes;
every boot artifact (the app, the RDS CA bundle, each wheel) is an S3 object pinned by its SHA-256
in the user data, and install.sh stops the boot on any other bytes. No network."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import shlex
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import PackageNotFoundError, distribution

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from app import boot_artifacts, cloud_init, lockfile
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
    (app,) = [a for a in LONG["artifacts"] if a.dest == "app.tar"]
    with tarfile.open(fileobj=io.BytesIO(app.source)) as tar:
        names = tar.getnames()
        shipped = tar.extractfile("app/requirements.lock").read().decode()
    assert "app/requirements.txt" not in names  # the host never reads the unhashed pins
    shipped_entries = parse(shipped)
    assert {n: (e.version, e.hashes) for n, e in shipped_entries.items()} == {
        n: (e.version, e.hashes) for n, e in LOCKED.items()}
    script = user_data_files()["/opt/aurorakit/install.sh"]
    pip_lines = [line for line in script.splitlines() if "pip install" in line]
    assert len(pip_lines) == 1, pip_lines
    assert pip_lines[0].endswith(f"{INSTALL_OPTIONS} -r $D/app/requirements.lock"), pip_lines[0]
    for option in ("--require-hashes", "--only-binary :all:", "--no-deps", "--no-index --find-links $D/wheels"):
        assert option in pip_lines[0]


def artifact_lines(arch: str = "aarch64") -> dict[str, tuple[str, str]]:
    """artifacts.txt of the user data: dest -> (sha256, s3 URI)."""
    text = yaml.safe_load(cloud_init.render_user_data(**{**LONG, "artifacts": boot_artifacts.manifest(arch)}))
    content = {f["path"]: f["content"] for f in text["write_files"]}["/opt/aurorakit/artifacts.txt"]
    rows = [line.split(" ") for line in content.splitlines()]
    assert all(len(row) == 3 for row in rows), content
    return {dest: (sha, uri) for sha, uri, dest in rows}


@pytest.mark.parametrize("arch", ARCHS)
def test_every_artifact_is_pinned_in_the_user_data(arch):
    """The app archive by its own hash, the CA bundle by RDS_CA_SHA256, each locked package by the
    lock's hash of exactly its wheel for the hosts' architecture; nothing else is fetched."""
    lines = artifact_lines(arch)
    app_sha = hashlib.sha256(cloud_init.app_archive()).hexdigest()
    bucket = f"s3://{LONG['bucket']}/"
    assert lines.pop("app.tar") == (app_sha, f"{bucket}app/{app_sha}.tar")
    assert lines.pop("rds-global-bundle.pem") == (cloud_init.RDS_CA_SHA256,
                                                  f"{bucket}rds-ca/{cloud_init.RDS_CA_SHA256}.pem")
    for entry in LOCKED.values():
        wheel = entry.files[arch]
        sha, uri = lines.pop(f"wheels/{wheel}")
        assert uri == f"{bucket}wheels/{wheel}" and sha in entry.hashes
        if len(entry.hashes) == 2:  # per-architecture builds: the lock lists x86_64's hash first
            assert sha == entry.hashes[ARCHS.index(arch)]
    assert lines == {}


def test_the_wheel_hash_follows_the_locks_order_and_refuses_a_mismatch():
    both = lockfile.Locked("x", "1", ["a" * 64, "b" * 64], {"x86_64": "x-1-x86.whl", "aarch64": "x-1-arm.whl"})
    assert [boot_artifacts.wheel_sha256(both, a) for a in ARCHS] == ["a" * 64, "b" * 64]
    shared = lockfile.Locked("x", "1", ["c" * 64], {"x86_64": "x-1-any.whl", "aarch64": "x-1-any.whl"})
    assert {boot_artifacts.wheel_sha256(shared, a) for a in ARCHS} == {"c" * 64}
    broken = lockfile.Locked("x", "1", ["c" * 64], {"x86_64": "x-1-x86.whl", "aarch64": "x-1-arm.whl"})
    with pytest.raises(ValueError, match="x lists 1 hashes for 2 wheel files; run `make lock`"):
        boot_artifacts.wheel_sha256(broken, "aarch64")


@pytest.mark.parametrize("bad,message", [
    ({"bucket": "Not_A_Bucket"}, "artifact bucket must be an S3 bucket name"),
    ({"artifacts": ()}, "at least the app archive"),
    ({"sha256": "A" * 64}, "sha256 must be 64 lowercase hex digits"),
    ({"key": "../etc/passwd"}, "artifact key must be a relative path"),
    ({"dest": "wheels/../../usr/bin/python3"}, "artifact dest must be a relative path"),
    ({"dest": "app tar"}, "artifact dest must be a relative path"),
])
def test_a_bad_artifact_list_is_one_clear_error(bad, message):
    good = LONG["artifacts"][0]
    artifact = boot_artifacts.Artifact(good.name, bad.get("key", good.key), bad.get("sha256", good.sha256),
                                       bad.get("dest", good.dest), good.source)
    kw = {**LONG, "artifacts": bad.get("artifacts", (artifact,)), "bucket": bad.get("bucket", LONG["bucket"])}
    with pytest.raises(ValueError, match=message):
        cloud_init.render_user_data(**kw)


FAKE_AWS = """#!/bin/bash
# stands in for the AWS CLI: `aws s3 cp [options] s3://BUCKET/KEY FILE` copies $FAKE_S3/BUCKET/KEY
echo "$*" >> "$FAKE_S3/calls.log"
for a in "$@"; do case "$a" in s3://*) src=${a#s3://};; esac; done
cp "$FAKE_S3/$src" "${@: -1}"
"""


@pytest.fixture()
def bucket(tmp_path):
    """A fake S3 bucket (a directory), the `aws` command serving it, and three artifacts in it."""
    s3, bin_dir = tmp_path / "s3", tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    contents = {"app": cloud_init.app_archive(),
                "rds-ca": b"-----BEGIN CERTIFICATE-----\nMIIB" + b"A" * 60 + b"\n-----END CERTIFICATE-----\n",
                "tiny": b"PK\x05\x06" + b"\0" * 18}
    dests = {"app": "app.tar", "rds-ca": "rds-global-bundle.pem", "tiny": "wheels/tiny-1.0-py3-none-any.whl"}
    artifacts = []
    for name, data in contents.items():
        sha = hashlib.sha256(data).hexdigest()
        key = f"{name}/{sha}"
        (s3 / LONG["bucket"] / name).mkdir(parents=True)
        (s3 / LONG["bucket"] / key).write_bytes(data)
        artifacts.append(boot_artifacts.Artifact(name, key, sha, dests[name], data))
    host = tmp_path / "opt-aurorakit"  # stands in for /opt/aurorakit
    host.mkdir()
    files = yaml.safe_load(cloud_init.render_user_data(**{**LONG, "artifacts": tuple(artifacts)}))["write_files"]
    for f in files:
        if f["path"].startswith("/opt/aurorakit/"):
            (host / f["path"].removeprefix("/opt/aurorakit/")).write_text(f["content"])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_S3": str(s3)}
    return host, s3 / LONG["bucket"], artifacts, env


def fetch(host, env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(host / "install.sh"), "--fetch", str(host), "ap-southeast-2"],
                          capture_output=True, text=True, timeout=30, env=env, check=False)


def test_the_boot_fetches_every_artifact_from_s3_and_checks_it(bucket):
    host, s3, artifacts, env = bucket
    result = fetch(host, env)
    assert (result.returncode, result.stderr) == (0, "")
    for a in artifacts:
        assert (host / a.dest).read_bytes() == a.source, a.dest
    calls = (s3.parent / "calls.log").read_text().splitlines()
    assert calls == [f"s3 cp --only-show-errors --region ap-southeast-2 s3://{LONG['bucket']}/{a.key} "
                     f"{host}/{a.dest}.part" for a in artifacts]
    assert not list(host.rglob("*.part"))


@pytest.mark.parametrize("victim", ["app", "rds-ca", "tiny"])
def test_a_tampered_artifact_stops_the_boot_script(bucket, victim):
    """One byte changed in one S3 object: the boot stops at it with a message naming the file, what
    S3 served and the pin, and the file is never moved into place."""
    host, s3, artifacts, env = bucket
    (target,) = [a for a in artifacts if a.name == victim]
    data = bytearray(target.source)
    data[len(data) // 2] ^= 1
    (s3 / target.key).write_bytes(bytes(data))
    result = fetch(host, env)
    assert result.returncode == 1
    assert result.stderr == (f"aurorakit: boot stopped: {target.dest} (s3://{LONG['bucket']}/{target.key}) has "
                             f"SHA-256 {hashlib.sha256(data).hexdigest()}, not the pinned {target.sha256} "
                             "(/opt/aurorakit/artifacts.txt)\n")
    assert not (host / target.dest).exists()
    later = artifacts[[a.name for a in artifacts].index(victim) + 1:]
    assert not any((host / a.dest).exists() for a in later)  # nothing after it is even fetched


def test_a_missing_artifact_stops_the_boot_script(bucket):
    host, s3, artifacts, env = bucket
    (s3 / artifacts[1].key).unlink()
    result = fetch(host, env)
    assert result.returncode != 0 and not (host / artifacts[1].dest).exists()


def test_the_real_script_pins_the_real_ca_bundle(tmp_path):
    """`--verify` runs the same check the fetch uses: the RDS CA pin refuses any other bundle."""
    script = tmp_path / "install.sh"
    script.write_text(user_data_files()["/opt/aurorakit/install.sh"])
    fake = tmp_path / "bundle.pem"
    fake.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    result = subprocess.run(["bash", str(script), "--verify", str(fake), cloud_init.RDS_CA_SHA256, "rds-global-bundle.pem"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1 and result.stderr.startswith("aurorakit: boot stopped: rds-global-bundle.pem has SHA-256 ")
    assert artifact_lines()["rds-global-bundle.pem"][0] == cloud_init.RDS_CA_SHA256


def _wheel(path, name: str, version: str) -> bytes:
    """A minimal valid wheel of one module."""
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}.py": b"VALUE = 42\n",
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
                     for n, d in files.items()) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for n, d in {**files, f"{dist}/RECORD": record.encode()}.items():
            z.writestr(n, d)
    return path.read_bytes()


def test_the_install_is_offline_and_hash_checked_with_the_scripts_options(tmp_path):
    """pip with exactly the script's options against a local wheel directory: a wheel whose hash is
    in the lock installs with no index at all; the same wheel with one byte changed is refused."""
    script = user_data_files()["/opt/aurorakit/install.sh"]
    (line,) = [x for x in script.splitlines() if "pip install" in x]
    options = shlex.split(line.split("pip install", 1)[1].replace("$D", str(tmp_path)))
    (tmp_path / "wheels").mkdir()
    (tmp_path / "app").mkdir()
    data = _wheel(tmp_path / "wheels" / "tinypkg-1.0-py3-none-any.whl", "tinypkg", "1.0")
    (tmp_path / "app" / "requirements.lock").write_text(
        f"tinypkg==1.0 --hash=sha256:{hashlib.sha256(data).hexdigest()}\n")
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": "http://127.0.0.1:9/unreachable"}

    def pip(target):
        return subprocess.run([sys.executable, "-m", "pip", "install", "--target", str(target), *options],
                              capture_output=True, text=True, timeout=120, env=env, check=False)
    ok = pip(tmp_path / "ok")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "ok" / "tinypkg.py").read_text() == "VALUE = 42\n"
    tampered = bytearray(data)
    tampered[-30] ^= 1
    (tmp_path / "wheels" / "tinypkg-1.0-py3-none-any.whl").write_bytes(bytes(tampered))
    bad = pip(tmp_path / "bad")
    assert bad.returncode != 0 and "DO NOT MATCH THE HASHES" in bad.stderr, bad.stderr
