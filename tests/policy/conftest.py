"""Shared fixtures of the policy tests."""
import pytest

from preflight.analyzer import PolicyPack
from preflight.run import REPO
from preflight.stackconfig import load_stack_config


@pytest.fixture(scope="module")
def packs():
    """One pack process per stack for the whole module, started as the engine starts it."""
    started: dict = {}
    try:
        for stack in ("dev", "prod"):
            cfg = load_stack_config(stack, REPO)
            started[stack] = PolicyPack(str(REPO / "policy"), project=cfg.project, stack=stack,
                                        dry_run=True, config=cfg, secret_keys=cfg.secret_keys)
        yield started
    finally:
        for pack in started.values():
            pack.close()
