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
