"""app/requirements.lock: every Python package the host installs, pinned with SHA-256 hashes of
the binary wheels for the host's platform. Build-side only (not shipped to the host).

`make lock` (= `venv/bin/python -m app.lockfile`) regenerates it from app/requirements.txt: pip
resolves the requirements once per architecture of the host (Amazon Linux 2023: CPython 3.11,
glibc 2.34, x86_64 and aarch64) from PyPI with binary wheels only, and the lock lists, for each
package, the wheel file chosen for each architecture and its hash. It stops with one line when a
package has no wheel for an architecture, when the two architectures resolve differently, or
when a dependency's marker depends on the machine (pip evaluates markers on THIS machine).
Needs the network (PyPI); the tests only read the lock (parse()).

The host runs `pip install --require-hashes --only-binary :all: --no-deps -r requirements.lock`:
no source build, nothing unpinned, no file whose hash is not listed here.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
REQUIREMENTS, LOCK = APP_DIR / "requirements.txt", APP_DIR / "requirements.lock"
INDEX_URL = "https://pypi.org/simple"
PYTHON, GLIBC = (3, 11), (2, 34)  # Amazon Linux 2023's python3.11 and glibc
ARCHS = ("x86_64", "aarch64")
INSTALL_OPTIONS = "--require-hashes --only-binary :all: --no-deps"
_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)$")
_HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})$")
_FILE = re.compile(r"^# (" + "|".join(ARCHS) + r"): (\S+\.whl)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def platforms(arch: str) -> list[str]:
    """pip --platform values for `arch`, best first: manylinux_2_34 down to the oldest."""
    oldest = 17 if arch == "aarch64" else 5
    tags = [f"manylinux_{GLIBC[0]}_{minor}_{arch}" for minor in range(GLIBC[1], oldest - 1, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    return tags + [f"{name}_{arch}" for name, minor in legacy.items() if minor >= oldest]


@dataclass
class Locked:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # arch -> wheel file name


def parse(text: str) -> dict[str, Locked]:
    """The lock's entries by canonical name; ValueError naming the line for anything else than
    `name==version` with --hash=sha256 options, `# <arch>: <wheel>` comments and other comments."""
    entries: dict[str, Locked] = {}
    files: dict[str, str] = {}
    logical = re.sub(r"\\\n", " ", text)
    for number, line in enumerate(logical.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _FILE.match(line)
            if m:
                files[m.group(1)] = m.group(2)
            continue
        words = line.split()
        m = _REQ.match(words[0])
        hashes = [_HASH.match(w) for w in words[1:]]
        if not m or not hashes or not all(hashes):
            raise ValueError(f"requirements.lock line {number}: expected 'name==version --hash=sha256:<hex> ...', "
                             f"got {line[:80]!r}")
        name = canonical(m.group(1))
        if name in entries:
            raise ValueError(f"requirements.lock line {number}: {name} is locked twice")
        entries[name] = Locked(name, m.group(2), [h.group(1) for h in hashes if h], files)
        files = {}
    return entries


def _resolve(arch: str) -> dict[str, dict]:
    """pip's resolution for `arch` (dry run, binary wheels only): canonical name -> report item."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in ("PIP_CERT",)}
    env["PIP_CONFIG_FILE"] = os.devnull  # no local find-links, mirrors or constraints: PyPI only
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
               "--disable-pip-version-check", "--target", str(Path(tmp) / "target"), "--index-url", INDEX_URL,
               "--report", str(report), "--only-binary", ":all:", "--implementation", "cp",
               "--python-version", f"{PYTHON[0]}.{PYTHON[1]}", "--abi", f"cp{PYTHON[0]}{PYTHON[1]}",
               *[a for p in platforms(arch) for a in ("--platform", p)], "-r", str(REQUIREMENTS)]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            why = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode
            raise SystemExit(f"lock: no complete set of binary wheels for {arch}: {why}")
        items = json.loads(report.read_text())["install"]
    return {canonical(i["metadata"]["name"]): i for i in items}


def _machine_dependent(items: dict[str, dict]) -> list[str]:
    """Requirements whose marker differs between the host's architectures."""
    from packaging.requirements import Requirement

    out = []
    for item in items.values():
        extras = item.get("requested_extras") or [""]
        for spec in item["metadata"].get("requires_dist") or []:
            req = Requirement(spec)
            if req.marker and len({any(req.marker.evaluate({"platform_machine": a, "extra": e}) for e in extras)
                                   for a in ARCHS}) > 1:
                out.append(f"{item['metadata']['name']}: {spec}")
    return out


def generate() -> str:
    by_arch = {arch: _resolve(arch) for arch in ARCHS}
    versions = {arch: {n: i["metadata"]["version"] for n, i in items.items()} for arch, items in by_arch.items()}
    if len({tuple(sorted(v.items())) for v in versions.values()}) != 1:
        raise SystemExit(f"lock: the architectures resolve differently: {versions}")
    problems = _machine_dependent(by_arch[ARCHS[0]])
    if problems:
        raise SystemExit("lock: markers depend on the machine (resolve on each architecture): " + "; ".join(problems))
    lines = ["# Generated by `make lock` (python -m app.lockfile) from app/requirements.txt; do not edit.",
             (f"# Host: CPython {PYTHON[0]}.{PYTHON[1]}, glibc {GLIBC[0]}.{GLIBC[1]} (Amazon Linux 2023), "
              f"{' and '.join(ARCHS)}; binary wheels only."),
             f"# Installed with: pip install {INSTALL_OPTIONS} -r requirements.lock"]
    for name in sorted(by_arch[ARCHS[0]]):
        hashes: list[str] = []
        for arch in ARCHS:
            info = by_arch[arch][name]["download_info"]
            digest = info["archive_info"]["hashes"]["sha256"]
            lines.append(f"# {arch}: {info['url'].rsplit('/', 1)[-1]}")
            hashes += [digest] if digest not in hashes else []
        lines.append(f"{name}=={versions[ARCHS[0]][name]} \\")
        lines += [f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "") for i, h in enumerate(hashes)]
    return "\n".join(lines) + "\n"


def main() -> None:
    text = generate()
    LOCK.write_text(text)
    for entry in parse(text).values():
        print(f"{entry.name:20} {entry.version:12} " + "  ".join(f"{a}: {f}" for a, f in entry.files.items()))
    print(f"wrote {LOCK.relative_to(APP_DIR.parent)}: {len(parse(text))} packages, "
          f"binary wheels for {', '.join(ARCHS)}")


if __name__ == "__main__":
    main()
