"""The launch template's AMI: resolved when the template is created (per architecture), kept
until asked (hostAmiId), a newer release named by a warning rather than dropped silently, and a
change of architecture a new template with the AMI of that architecture."""
import pytest

from preflight.mocks import RecordingMocks, install_mocks
from preflight.recorder import RecordingMonitor

from .test_app_fleet import ASG, LT, build

KEPT = "ami-0123456789abcdef0"   # what the stack's template was created with (an older release)


class KeptAmiMocks(RecordingMocks):
    """A template whose state keeps an older AMI (imageId is ignored, so the engine keeps it)."""

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.typ == LT:
            outputs = {**outputs, "imageId": KEPT}
        return resource_id, outputs


def recorded(mocks=None, **kw):
    mocks = mocks or RecordingMocks(region="eu-west-1")
    monitor = RecordingMonitor(mocks, preview=False, config={"aws:region": "eu-west-1"})
    install_mocks({"aws:region": "eu-west-1"}, stack="test", mocks=mocks, monitor=monitor)
    build(**kw)
    return mocks, monitor


def latest(mocks, arch):
    [call] = [c for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"]
    assert call.args["name"].endswith(arch)
    return call.result["insecureValue"]


@pytest.mark.parametrize("itype,arch,name", [("t3.small", "x86_64", "app-template"),
                                             ("t4g.small", "arm64", "app-template-arm64")])
def test_one_template_per_architecture_with_that_architectures_ami(itype, arch, name):
    mocks, monitor = recorded(instance_type=itype)
    [template] = mocks.resources_of(LT)
    assert template.name == name and template.inputs["imageId"] == latest(mocks, arch)
    assert monitor.named(name).ignore_changes == ["imageId"]   # later releases do not roll the hosts
    group = mocks.only(ASG).inputs["launchTemplate"]
    assert group["id"] == template.outputs["id"] and monitor.named("app-fleet").replace_on_changes == ["launchTemplate"]


def test_a_newer_release_is_named_with_how_to_roll_to_it(caplog):
    mocks, _ = recorded(KeptAmiMocks(region="eu-west-1"))
    new = latest(mocks, "x86_64")
    assert new != KEPT
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and KEPT in r.getMessage()]
    assert warned == [f"app: the hosts keep {KEPT}; the latest Amazon Linux 2023 (x86_64) is {new}. To roll them "
                      f"to it (create-before-delete), set aurorakit:hostAmiId: {new} (AppFleetArgs.ami_id)"]


def test_an_explicit_ami_is_applied_and_rolls(caplog):
    mocks, monitor = recorded(KeptAmiMocks(region="eu-west-1"), ami_id="ami-0fedcba9876543210")
    [template] = mocks.resources_of(LT)
    assert template.inputs["imageId"] == "ami-0fedcba9876543210" and monitor.named("app-template").ignore_changes == []
    assert not [c for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"]
    assert not [r for r in caplog.records if r.levelname == "WARNING" and "latest Amazon Linux" in r.getMessage()]


def test_no_warning_while_the_hosts_run_the_latest(caplog):
    recorded()
    assert not [r for r in caplog.records if r.levelname == "WARNING" and "latest Amazon Linux" in r.getMessage()]
