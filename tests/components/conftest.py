"""Shared fixtures: fresh RecordingMocks per test (never installed at import time)."""
import pytest

from preflight.mocks import install_mocks


@pytest.fixture
def mocks():
    """RecordingMocks installed with an empty config (preview=False: values resolve)."""
    return install_mocks({"aws:region": "eu-west-1"}, stack="test")
