"""preflight.run end to end on the fixture program and pack (real pack process, real gRPC)."""
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest

from preflight import report
from preflight.run import PreflightError, run

from preflight import run as run_module

from .conftest import PACK, PROGRAM

SCHEMA = json.loads((Path(report.__file__).parent / "report.schema.json").read_text())


@pytest.fixture(autouse=True)
def pack_pids(monkeypatch):
    """Record the pid of every pack process a test starts; all must be gone afterwards."""
    pids = []

    class Tracked(run_module.PolicyPack):
        def _start(self):
            super()._start()
            pids.append(self.pid)

    monkeypatch.setattr(run_module, "PolicyPack", Tracked)
    yield pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def fixture_run(**kw):
    kw.setdefault("program_dir", PROGRAM)
    kw.setdefault("pack_dir", PACK)
    kw.setdefault("policy_config", None)
    return run("dev", **kw)


@pytest.fixture
def clean(fixture_result):
    return fixture_result


def test_clean_run_passes_and_json_is_valid(clean):
    jsonschema.Draft7Validator.check_schema(SCHEMA)  # the published schema is itself valid
    assert clean.exit_code == 0 and clean.mandatory == []
    doc = report.to_json(clean)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["summary"]["verdict"] == "passed"
    assert doc["summary"]["phases"] == {"preview": {"analyzeCalls": 11, "analyzeStackCalls": 1}}
    doc["findings"].append({"policyName": "x", "enforcementLevel": "loud"})
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject a bad report
        jsonschema.Draft7Validator(SCHEMA).validate(doc)


def test_every_resource_analyzed_exactly_once(clean):
    regs = clean.registrations
    types = sorted(r.type for r in regs if r.custom)
    assert types == ["aws:ec2/instance:Instance", "aws:ec2/securityGroup:SecurityGroup",
                     "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/subnet:Subnet", "aws:ec2/vpc:Vpc",
                     "aws:rds/cluster:Cluster", "aws:rds/subnetGroup:SubnetGroup",
                     "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "pulumi:providers:aws"]
    assert len({r.urn for r in regs}) == len(regs) == 11  # + the stack and the component
    # Counted on the gRPC channel: one Analyze RPC per registration, like the engine.
    assert clean.analyzed == {r.urn: 1 for r in regs}
    assert clean.calls["Analyze"] == len(regs)
    assert clean.calls["AnalyzeStack"] == 1 and clean.calls["Configure"] == 1


def test_recorded_relationships_and_preview_unknowns(clean):
    by_name = {(r.type, r.name): r for r in clean.registrations}
    subnet = by_name[("aws:ec2/subnet:Subnet", "net-subnet")]
    vpc = by_name[("aws:ec2/vpc:Vpc", "net-vpc")]
    net = by_name[("fixture:index:Net", "net")]
    assert subnet.parent == net.urn and vpc.urn in subnet.dependencies
    assert subnet.property_dependencies["vpcId"] == [vpc.urn]
    assert subnet.inputs["vpcId"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown in preview
    cluster = by_name[("aws:rds/cluster:Cluster", "db")]
    assert cluster.protect and cluster.outputs["storageEncrypted"] is True
    assert cluster.outputs["endpoint"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert cluster.provider.endswith("pulumi:providers:aws::default_7_51_1")
    provider_inputs = [r for r in clean.registrations if r.type == "pulumi:providers:aws"][0].inputs
    assert provider_inputs["region"] == "eu-west-1" and provider_inputs["version"] == "7.51.1"


def test_no_preview_gives_mocked_aws_outputs():
    result = fixture_run(preview=False)
    cluster = [r for r in result.registrations if r.type == "aws:rds/cluster:Cluster"][0]
    assert re.fullmatch(r"db-[0-9a-f]{7}\.cluster-[0-9a-f]{12}\.eu-west-1\.rds\.amazonaws\.com",
                        cluster.outputs["endpoint"])
    assert result.exit_code == 0


@pytest.mark.parametrize("overrides, rule, urn_tail", [
    ({"fixture:publicSubnet": "true"}, "subnet-no-public-ip", "aws:ec2/subnet:Subnet::net-subnet"),
    ({"fixture:protect": "false"}, "cluster-protected", "aws:rds/cluster:Cluster::db"),
])
def test_broken_variants_fail_with_the_rule(overrides, rule, urn_tail):
    result = fixture_run(config_overrides=overrides)
    assert result.exit_code == 1
    doc = report.to_json(result)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    hits = [d for d in doc["findings"] if d["enforcementLevel"] == "mandatory"]
    assert [(d["policyName"], d["urn"].split("::", 2)[2].split("$")[-1]) for d in hits] == [(rule, urn_tail)]


def test_policy_config_changes_level_and_values(tmp_path):
    cfg = tmp_path / "dev.json"
    cfg.write_text(json.dumps({"cluster-backup-retention": {"enforcementLevel": "mandatory", "minDays": 30}}))
    result = fixture_run(policy_config=cfg)
    assert [(d.policy_name, d.enforcement_level) for d in result.diagnostics] == \
        [("cluster-backup-retention", "mandatory")]
    assert "at least 30" in result.diagnostics[0].message


@pytest.mark.parametrize("kwargs, message", [
    ({"config_overrides": {"fixture:raise": "boom"}}, "__main__.py failed: ValueError: fixture: boom"),
    ({"program_dir": PACK}, "Pulumi.yaml: file not found"),
    ({"config_overrides": {"fixture:duplicate": "true"}},
     "Duplicate resource URN 'urn:pulumi:dev::fixture::fixture:index:Net\\$aws:ec2/vpc:Vpc::net-vpc'"),
    ({"config_overrides": {"fixture:explode": "true"}}, "policy pack Analyze failed: .*fixture policy bug"),
])
def test_program_and_stack_errors(kwargs, message, pack_pids):
    with pytest.raises(PreflightError, match=message):
        fixture_run(**kwargs)
    assert len(pack_pids) == (1 if "config_overrides" in kwargs else 0)


def test_secrets_reach_the_pack_but_not_the_report(clean):
    vpc = [r for r in clean.registrations if r.type == "aws:ec2/vpc:Vpc"][0]
    token = vpc.inputs["tags"]["Token"]  # the SDK's secret wrapper, as the engine passes it on
    assert token["value"] == "fixture-s3cr3t"
    text = json.dumps(report.to_json(clean))
    assert "fixture-s3cr3t" not in text and '"Token": "[secret]"' in text


def test_bad_policy_config_value(tmp_path, pack_pids):
    cfg = tmp_path / "bad.json"
    cfg.write_text('{"cluster-backup-retention": {"minDays": 0}}')
    with pytest.raises(PreflightError, match="cluster-backup-retention: minDays: 0 is less than the minimum of 1"):
        fixture_run(policy_config=cfg)
    assert len(pack_pids) == 1  # started, then stopped (checked by the fixture)


def test_a_failed_run_leaves_nothing_for_the_next(clean):
    with pytest.raises(PreflightError, match="Duplicate resource URN"):
        fixture_run(config_overrides={"fixture:duplicate": "true"})
    again = fixture_run()
    assert sorted(r.urn for r in again.registrations) == sorted(r.urn for r in clean.registrations)
    assert again.analyzed == {r.urn: 1 for r in again.registrations}


def test_run_with_pack_reuses_one_process_and_counts_per_run(fixture_pack):
    from preflight.run import run_with_pack
    from preflight.stackconfig import load_stack_config

    cfg = load_stack_config("dev", PROGRAM)
    first = run_with_pack(fixture_pack, cfg, PROGRAM / "__main__.py", PROGRAM)
    second = run_with_pack(fixture_pack, cfg.with_overrides({"fixture:protect": "false"}),
                           PROGRAM / "__main__.py", PROGRAM)
    assert first.exit_code == 0 and second.exit_code == 1
    for result in (first, second):
        assert result.analyzed == {r.urn: 1 for r in result.registrations}
        assert result.calls["AnalyzeStack"] == 1 and result.calls["Configure"] == 1
