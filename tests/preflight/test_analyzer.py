"""The analyzer client against the real pulumi-policy gRPC server (fixture pack)."""
import os

import pytest
from google.protobuf import json_format, struct_pb2

from preflight.analyzer import PolicyPack, PolicyPackError, Resource, analyze_request, marshal_properties
from preflight.policyconfig import parse_policy_config

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REF_SIG = {"4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e"}


def cluster(**props):
    return Resource(urn="urn:pulumi:dev::fixture::aws:rds/cluster:Cluster::db",
                    type="aws:rds/cluster:Cluster", name="db", properties=props)


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_info_is_converted_like_the_engine(fixture_pack):
    info = fixture_pack.get_info()
    assert info.name == "fixture-pack" and info.version == "0.2.0"  # PulumiPolicy.yaml wins
    assert [p.name for p in info.policies] == ["cluster-backup-retention", "cluster-protected",
                                              "subnet-no-public-ip"]
    levels = {p.name: (p.enforcement_level, p.policy_type) for p in info.policies}
    assert levels["cluster-backup-retention"] == ("advisory", "resource")
    assert levels["cluster-protected"] == ("mandatory", "stack")


def test_configure_reaches_the_pack(fixture_pack):
    fixture_pack.configure(parse_policy_config('{"cluster-backup-retention": {"minDays": 14}}'))
    diags = fixture_pack.analyze(cluster(backupRetentionPeriod=10))
    assert [(d.policy_name, d.enforcement_level) for d in diags] == [("cluster-backup-retention", "advisory")]
    assert "at least 14" in diags[0].message and diags[0].urn.endswith("::db")
    fixture_pack.configure(parse_policy_config('{"all": "disabled"}'))
    assert fixture_pack.analyze(cluster(backupRetentionPeriod=1)) == []
    fixture_pack.configure(None)
    assert [d.policy_name for d in fixture_pack.analyze(cluster(backupRetentionPeriod=1))] == \
        ["cluster-backup-retention"]


def test_unknown_inputs_give_the_preview_advisory(fixture_pack):
    fixture_pack.configure(None)
    diags = fixture_pack.analyze(cluster(backupRetentionPeriod=UNKNOWN))
    assert len(diags) == 1 and "during preview" in diags[0].message
    assert diags[0].enforcement_level == "advisory"


def test_analyze_stack_attributes_to_resource_or_root(fixture_pack):
    fixture_pack.configure(None)
    r = cluster(backupRetentionPeriod=7)
    diags = fixture_pack.analyze_stack([r])
    assert [(d.policy_name, d.urn) for d in diags] == [("cluster-protected", r.urn)]
    r.protect = True
    assert fixture_pack.analyze_stack([r]) == []


def test_async_analyze_matches_sync(fixture_pack):
    fixture_pack.configure(None)
    r = cluster(backupRetentionPeriod=2)
    before = fixture_pack.calls["Analyze"]
    futures = [fixture_pack.analyze_async(r) for _ in range(20)]
    assert all(f.result() == fixture_pack.analyze(r) for f in futures)
    assert fixture_pack.calls["Analyze"] - before == 40


def test_marshal_downgrades_resource_refs_and_drops_internal_keys():
    s = struct_pb2.Struct()
    s.update({"__defaults": [], "role": {**REF_SIG, "urn": "urn:x", "id": "role-1"},
              "deps": [{**REF_SIG, "urn": "urn:component"}], "plain": {"a": 1}})
    out = marshal_properties(s)
    assert json_format.MessageToDict(out) == {"role": "role-1", "deps": ["urn:component"], "plain": {"a": 1.0}}
    assert "__defaults" in s  # the recorded Struct is left as it was


def test_request_carries_options_and_provider():
    r = cluster(x=1)
    r.parent, r.protect, r.custom_timeouts = "urn:parent", True, ("5m", "", "1h30m")
    r.delete_before_replace = False
    r.provider = Resource(urn="urn:prov", type="pulumi:providers:aws", name="default", properties={"region": "eu-west-1"})
    req = analyze_request(r)
    assert req.options.parent == "urn:parent" and req.options.protect
    assert req.options.deleteBeforeReplaceDefined and not req.options.deleteBeforeReplace
    assert (req.options.customTimeouts.create, req.options.customTimeouts.delete) == (300.0, 5400.0)
    assert req.provider.properties["region"] == "eu-west-1"


def test_process_is_stopped_on_exit_and_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with PolicyPack("tests/preflight/fixtures/pack", project="p", stack="s") as pack:
            pack.connect()
            pid = pack.pid
            raise RuntimeError("boom")
    assert gone(pid)


def test_pack_that_fails_to_start_reports_its_error(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack: missing rules module')\n")
    with PolicyPack(str(tmp_path), project="p", stack="s") as pack:
        pid = pack.pid
        with pytest.raises(PolicyPackError, match="failed to start: broken pack: missing rules module"):
            pack.connect()
    assert gone(pid)


def test_not_a_python_pack(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("name: n\nruntime: nodejs\n")
    with pytest.raises(PolicyPackError, match="runtime is 'nodejs'"):
        PolicyPack(str(tmp_path), project="p", stack="s")


def test_not_checked_is_classified_where_read_with_the_engines_pack_version(fixture_pack):
    """The SDK's "can't run policy" advisory names the pack as '<name>@v0.0.1' (the Python SDK's
    hard-coded version); preflight classifies it once, as NOT_CHECKED, with PulumiPolicy.yaml's."""
    from preflight.analyzer_messages import NOT_CHECKED, VIOLATION, classify

    fixture_pack.configure(None)
    (diag,) = fixture_pack.analyze(cluster(backupRetentionPeriod=UNKNOWN))
    assert diag.kind == NOT_CHECKED and diag.policy_pack_version == "0.2.0"
    assert diag.message.startswith("can't run policy 'cluster-backup-retention' from policy pack "
                                   "'fixture-pack@v0.2.0' during preview: ")
    (violation,) = fixture_pack.analyze(cluster(backupRetentionPeriod=1))
    assert violation.kind == VIOLATION
    text = "Aurora cluster must keep backups ... 'x@v0.0.1' during preview: quoted"
    assert classify(text, "1.0.0") == (VIOLATION, text)   # only the SDK's own prefix counts
