"""Shared fixtures for preflight's tests: one fixture pack process per module where possible."""
from pathlib import Path

import pytest

from preflight.analyzer import PolicyPack

FIXTURES = Path(__file__).parent / "fixtures"
PACK = FIXTURES / "pack"
PROGRAM = FIXTURES / "program"


@pytest.fixture(scope="module")
def fixture_pack():
    with PolicyPack(str(PACK), project="fixture", stack="dev", config={"aws:region": "eu-west-1"}) as pack:
        pack.connect()
        yield pack
