"""Resource identity, pinned: the URN of every resource each program registers, one file per
program (`tests/golden/<name>.urns`), checked by tests/golden/test_urns.py.

A URN is a resource's identity in the state: a refactor that changes one (a renamed child, a
component moved under another parent, a changed type token) makes the next `pulumi up` DELETE
the live resource and create a new one: for the cluster, a new empty database. A deliberate
rename carries `aliases` (the old URN), which the check accepts; anything else must be a
reviewed change of these files: `make urns` rewrites them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Program:
    name: str
    program_dir: Path
    stack: str
    main: Optional[Path] = None  # the driver of a YAML program (tests/package/yaml_main.py)

    @property
    def file(self) -> Path:
        return HERE / f"{self.name}.urns"


PROGRAMS = (
    Program("dev", REPO, "dev"),
    Program("prod", REPO, "prod"),
    *(Program(f"example-{d.name}", d, "prod") for d in sorted((REPO / "examples").iterdir())
      if (d / "__main__.py").is_file()),
    Program("example-yaml", REPO / "examples" / "yaml", "prod", REPO / "tests" / "package" / "yaml_main.py"),
)


def registrations(program: Program) -> list:
    from preflight.run import record
    return record(program.stack, program_dir=program.program_dir, main=program.main)


def urns(regs: list) -> list[str]:
    return sorted(r.urn for r in regs)


def pinned(program: Program) -> list[str]:
    return [line for line in program.file.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(program: Program) -> None:
    program.file.write_text("\n".join(urns(registrations(program))) + "\n", encoding="utf-8")


if __name__ == "__main__":  # `make urns`
    sys.path.insert(0, str(REPO))
    for program in PROGRAMS:
        write(program)
        print(f"{program.file.relative_to(REPO)}: {len(pinned(program))} URNs")
