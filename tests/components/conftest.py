"""Shared fixtures: fresh RecordingMocks per test (never installed at import time)."""
import runpy
from pathlib import Path

import pulumi
import pytest

from preflight.mocks import RecordingMocks, install_mocks
from preflight.recorder import RecordingMonitor
from preflight.stackconfig import load_stack_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mocks():
    """RecordingMocks installed with only aws:region set (preview=False: values resolve)."""
    return install_mocks({"aws:region": "eu-west-1"}, stack="test")


@pytest.fixture
def recording():
    """(mocks, monitor): like `mocks`, plus the RecordingMonitor (options, dependencies)."""
    mocks = RecordingMocks(region="eu-west-1")
    monitor = RecordingMonitor(mocks, preview=False, config={"aws:region": "eu-west-1"})
    install_mocks({"aws:region": "eu-west-1"}, stack="test", mocks=mocks, monitor=monitor)
    return mocks, monitor


def resolve(value):
    """Await an Output (or plain value) inside the running mocks and return its value."""
    result = {}

    @pulumi.runtime.test
    def wait():
        return pulumi.Output.from_input(value).apply(lambda v: result.setdefault("v", v))
    wait()
    return result.get("v")


class StackRun:
    """The result of running __main__.py under mocks: recorded resources, protect flags, exports."""

    def __init__(self, mocks: RecordingMocks, monitor: RecordingMonitor, outputs: dict):
        self.mocks, self.monitor, self.outputs = mocks, monitor, outputs


def run_stack(stack: str, overrides=None) -> StackRun:
    """Run the real program for `stack` (its Pulumi.<stack>.yaml + overrides) under mocks."""
    config = load_stack_config(stack, ROOT)
    if overrides:
        config = config.with_overrides(overrides)
    mocks = RecordingMocks(region=config.get("aws:region", "eu-west-1"))
    monitor = RecordingMonitor(mocks, preview=False, config=config)
    install_mocks(config, stack=stack, mocks=mocks, monitor=monitor)
    outputs = {}

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        exported = pulumi.runtime.get_root_resource().outputs
        return pulumi.Output.all(**exported).apply(outputs.update)
    program()
    return StackRun(mocks, monitor, outputs)


def settle(build):
    """Run `build()` under the installed mocks, wait for every registration, return its result.

    Assertions on recorded inputs then run after ALL resources exist (an `apply` on one output
    may run before sibling resources are registered)."""
    box = {}

    @pulumi.runtime.test
    def program():
        box["v"] = build()
    program()
    return box["v"]
