"""The recording monitor is called from the SDK's threads: the first resources of a package,
registered at once, must create its default provider once (a duplicate-URN error for
`pulumi:providers:aws::default_…` showed up under load in test_run's duplicate case)."""
import threading
import time
from types import SimpleNamespace

from google.protobuf import struct_pb2

from preflight import recorder
from preflight.mocks import RecordingMocks
from preflight.recorder import RecordingMonitor


def slow_struct():
    """Widens the window between "is it there?" and "add it" as a loaded machine does."""
    time.sleep(0.02)
    return struct_pb2.Struct()


def test_concurrent_first_resources_create_one_default_provider(monkeypatch):
    monkeypatch.setattr(recorder, "struct_pb2", SimpleNamespace(Struct=slow_struct))
    monitor = RecordingMonitor(RecordingMocks(region="eu-west-1"), preview=False, config={"aws:region": "eu-west-1"})
    start, errors, urns = threading.Barrier(8), [], []

    def first_resource():
        start.wait()
        try:
            urns.append(monitor._default_provider("aws:ec2/vpc:Vpc", "7.51.1"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=first_resource) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and len(set(urns)) == 1 and len(urns) == 8
    assert [r.name for r in monitor.registrations] == ["default_7_51_1"]
