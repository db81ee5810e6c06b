"""Shared fixtures for preflight's tests: one fixture pack process per module where possible."""
from pathlib import Path

import pytest

from preflight.analyzer import PolicyPack

FIXTURES = Path(__file__).parent / "fixtures"
PACK = FIXTURES / "pack"
PROGRAM = FIXTURES / "program"


@pytest.fixture(scope="session")
def fixture_result():
    """One clean preview of the fixture program with the fixture pack (shared, read-only)."""
    from preflight.run import run

    return run("dev", program_dir=PROGRAM, pack_dir=PACK, policy_config=None)


@pytest.fixture(scope="module")
def fixture_pack():
    with PolicyPack(str(PACK), project="fixture", stack="dev", config={"aws:region": "eu-west-1"}) as pack:
        pack.connect()
        yield pack


@pytest.fixture(scope="session")
def project_checks():
    """The project's dev and prod stacks checked as `python -m preflight` does by default
    (full mode: preview, then update with mocked outputs; the project's pack, config, waivers).
    Shared, read-only: the expensive runs happen once per session."""
    import datetime

    from preflight.check import check

    today = datetime.date(2026, 11, 30)
    return {stack: check(stack, today=today) for stack in ("dev", "prod")}
