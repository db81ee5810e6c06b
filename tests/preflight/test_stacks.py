"""preflight on the project's own dev and prod stacks, with the project's policy pack and config."""
import json
from pathlib import Path

import jsonschema
import pytest

from preflight import report
from preflight.run import run

SCHEMA = json.loads((Path(report.__file__).parent / "report.schema.json").read_text())


@pytest.fixture(scope="module", params=["dev", "prod"])
def result(request):
    return run(request.param)


def test_no_mandatory_violation(result):
    assert result.exit_code == 0, [(d.policy_name, d.urn) for d in result.mandatory]


def test_json_report_is_valid(result):
    doc = report.to_json(result)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["summary"]["verdict"] == "passed" and doc["summary"]["exitCode"] == 0
    assert "[secret value not decrypted" not in json.dumps(doc)


def test_every_resource_analyzed_once_and_stack_once(result):
    regs = result.registrations
    custom = [r for r in regs if r.custom]
    assert len(custom) > 40  # the whole program ran: network, cluster, host, links
    assert {r.urn for r in custom} <= set(result.analyzed)
    assert result.analyzed == {r.urn: 1 for r in regs}  # counted on the gRPC channel
    assert result.calls["AnalyzeStack"] == 1
    assert result.calls["Configure"] == 1 and result.calls["GetAnalyzerInfo"] == 1


def test_policy_config_file_was_applied(result):
    expected = json.loads((Path(__file__).resolve().parents[2] / "policy" / "config" /
                           f"{result.stack}.json").read_text())
    for name, value in expected.items():
        if name == "all":
            continue
        level = value if isinstance(value, str) else value.get("enforcementLevel")
        if level:
            assert result.policy_config[name].enforcement_level == level, name
