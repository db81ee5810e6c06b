"""The host's boot artifacts: the S3 objects `AppFleet` stores and the user data pins. Build-side
only (not shipped to the host).

Every artifact is one object whose SHA-256 is written into the user data (`artifacts.txt`);
install.sh fetches it through the VPC's S3 gateway endpoint and stops the boot unless the bytes
have exactly that SHA-256:

* the app: `app_archive()` (APP_FILES, with requirements.lock), a reproducible tar built in
  memory from the repository (key `app/<sha256>.tar`);
* the RDS CA bundle, pinned by RDS_CA_SHA256 (key `rds-ca/<sha256>.pem`);
* for each package of app/requirements.lock, its wheel for the host's architecture, pinned by
  the lock's hash (key `wheels/<wheel file name>`); pip checks it again (--require-hashes).

The keys follow the content, so a deploy is a new set of objects. Everything the user data
needs comes from the repository alone (the lock, the CA pin, the app's bytes): preview,
preflight and the tests need neither the network nor built files. Only what uploads the files
(`pulumi up`, and a real `pulumi preview`, which hashes them) needs them locally:
`make artifacts` (= `python -m app.boot_artifacts`) downloads the wheels of both architectures
from PyPI and the CA bundle from AWS into build/artifacts/ and checks every one against its pin.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .cloud_init import CA_BUNDLE_URL, RDS_CA_FILE, RDS_CA_SHA256, app_archive
from .lockfile import ARCHS, INDEX_URL, LOCK, PYTHON, Locked, parse, platforms

CACHE = Path(__file__).resolve().parent.parent / "build" / "artifacts"
CA_FILE = RDS_CA_FILE


@dataclass(frozen=True)
class Artifact:
    """One S3 object of the host's boot."""

    name: str
    """Short stable name: app, rds-ca or the package's canonical name."""
    key: str
    """S3 object key (derived from the content)."""
    sha256: str
    """SHA-256 of the bytes, pinned in the user data."""
    dest: str
    """Where install.sh puts it, relative to /opt/aurorakit."""
    source: Path | bytes = field(repr=False)
    """The bytes (the app archive) or the local file `make artifacts` fills."""

    @property
    def cached(self) -> bool:
        """The local file is there with exactly the pinned bytes (always true for bytes)."""
        if isinstance(self.source, bytes):
            return True
        return self.source.is_file() and _sha256(self.source.read_bytes()) == self.sha256


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_sha256(entry: Locked, arch: str) -> str:
    """The hash of `entry`'s wheel for `arch`: the lock lists one hash per distinct wheel file,
    in ARCHS order (app/lockfile.py generate())."""
    distinct = list(dict.fromkeys(entry.files[a] for a in ARCHS))
    if len(distinct) != len(entry.hashes):
        raise ValueError(f"requirements.lock: {entry.name} lists {len(entry.hashes)} hashes for "
                         f"{len(distinct)} wheel files; run `make lock`")
    return entry.hashes[distinct.index(entry.files[arch])]


def manifest(arch: str, cache: Path = CACHE) -> tuple[Artifact, ...]:
    """The artifacts of a host of `arch` (x86_64 or aarch64): the app, the CA bundle, the wheels."""
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}; got {arch!r}")
    app = app_archive()
    app_sha = _sha256(app)
    found = [Artifact("app", f"app/{app_sha}.tar", app_sha, "app.tar", app),
             Artifact("rds-ca", f"rds-ca/{RDS_CA_SHA256}.pem", RDS_CA_SHA256, CA_FILE, cache / CA_FILE)]
    for entry in sorted(parse(LOCK.read_text()).values(), key=lambda e: e.name):
        if arch not in entry.files:
            raise ValueError(f"requirements.lock: {entry.name} names no wheel for {arch}; run `make lock`")
        wheel = entry.files[arch]
        found.append(Artifact(entry.name, f"wheels/{wheel}", wheel_sha256(entry, arch), f"wheels/{wheel}",
                              cache / "wheels" / wheel))
    return tuple(found)


def _download_wheels(arch: str, into: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    env["PIP_CONFIG_FILE"] = os.devnull  # PyPI only, as `make lock` resolved it
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--require-hashes", "--only-binary", ":all:", "--index-url", INDEX_URL,
           "--implementation", "cp", "--python-version", f"{PYTHON[0]}.{PYTHON[1]}",
           "--abi", f"cp{PYTHON[0]}{PYTHON[1]}", *[a for p in platforms(arch) for a in ("--platform", p)],
           "--dest", str(into), "-r", str(LOCK)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise SystemExit(f"artifacts: pip download for {arch} failed: {lines[-1] if lines else result.returncode}")


def fetch(cache: Path = CACHE) -> list[Artifact]:
    """Fill `cache` with every file the manifests of both architectures name, each checked
    against its pin; a file already there with the right bytes is kept."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    wanted = {a.key: a for arch in ARCHS for a in manifest(arch, cache) if not isinstance(a.source, bytes)}
    if not all(a.cached for a in wanted.values() if a.key.startswith("wheels/")):
        for arch in ARCHS:
            _download_wheels(arch, wheels)
    ca = wanted[f"rds-ca/{RDS_CA_SHA256}.pem"]
    if not ca.cached:
        with urllib.request.urlopen(CA_BUNDLE_URL, timeout=60) as response:
            data = response.read()
        if _sha256(data) != RDS_CA_SHA256:
            raise SystemExit(f"artifacts: {CA_BUNDLE_URL} has SHA-256 {_sha256(data)}, not the pinned "
                             "RDS_CA_SHA256 (app/cloud_init.py); README: 'Update the RDS CA pin'")
        with tempfile.NamedTemporaryFile(dir=cache, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, cache / CA_FILE)
    bad = [a for a in wanted.values() if not a.cached]
    if bad:
        raise SystemExit("artifacts: not the pinned bytes: " + ", ".join(str(a.source) for a in bad))
    return sorted(wanted.values(), key=lambda a: a.key)


def missing(artifacts: tuple[Artifact, ...]) -> list[Artifact]:
    """The artifacts whose local file is absent or differs from its pin."""
    return [a for a in artifacts if not a.cached]


def main() -> None:
    found = fetch()
    total = sum(a.source.stat().st_size for a in found if isinstance(a.source, Path))
    print(f"artifacts: {len(found)} files in {CACHE} ({total / 1e6:.1f} MB), each matching its pin "
          f"(requirements.lock, RDS_CA_SHA256), for {', '.join(ARCHS)}")


if __name__ == "__main__":
    main()
