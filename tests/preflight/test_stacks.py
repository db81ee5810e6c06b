"""preflight on the project's own dev and prod stacks, with the project's policy pack, config
and waivers, in the default mode (preview, then update with mocked outputs)."""
import json
from pathlib import Path

import jsonschema
import pytest

from preflight import report

SCHEMA = json.loads((Path(report.__file__).parent / "report.schema.json").read_text())
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["dev", "prod"])
def check(request, project_checks):
    return project_checks[request.param]


def test_no_mandatory_violation(check):
    assert check.exit_code == 0, [(f.policy, f.urn) for f in check.violations("mandatory")]


def test_json_report_is_valid(check):
    doc = report.to_json(check)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["summary"]["verdict"] == "passed" and doc["summary"]["exitCode"] == 0
    assert doc["mode"] == "full" and set(doc["summary"]["phases"]) == {"preview", "update"}
    assert "[secret value not decrypted" not in json.dumps(doc)


def test_every_resource_analyzed_once_per_phase_and_stack_once(check):
    for phase, result in check.runs.items():
        regs = result.registrations
        custom = [r for r in regs if r.custom]
        assert len(custom) > 40, phase  # the whole program ran: network, cluster, host, links
        assert result.analyzed == {r.urn: 1 for r in regs}  # counted on the gRPC channel
        assert result.calls["AnalyzeStack"] == 1
        assert result.calls["Configure"] == 1
    # One pack process serves both phases: GetAnalyzerInfo once, configured afresh per phase.
    assert sum(r.calls.get("GetAnalyzerInfo", 0) for r in check.runs.values()) == 1
    assert sorted(r.urn for r in check.runs["preview"].registrations) == \
        sorted(r.urn for r in check.runs["update"].registrations)


def test_policy_config_file_was_applied(check):
    expected = json.loads((ROOT / "policy" / "config" / f"{check.stack}.json").read_text())
    for phase, result in check.runs.items():
        for name, value in expected.items():
            if name == "all":
                continue
            level = value if isinstance(value, str) else value.get("enforcementLevel")
            if level:
                assert result.policy_config[name].enforcement_level == level, (phase, name)


def test_pack_version_is_the_one_of_pulumipolicy_yaml_everywhere(check):
    """The Python SDK writes 'aurorakit@v0.0.1' into its "can't run policy" messages; preflight
    reads them with the version the engine reports (PulumiPolicy.yaml: 0.1.0)."""
    text = json.dumps(report.to_json(check))
    assert "@v0.0.1" not in text and "aurorakit@v0.1.0" in text
    assert check.not_checked and all("'aurorakit@v0.1.0'" in f.message for f in check.not_checked)
