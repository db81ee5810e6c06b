"""The CI formats: SARIF 2.1.0 (validated against the official OASIS schema), JUnit XML (parsed),
and the determinism of every report (two runs, identical files except the `run` object)."""
import copy
import datetime
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from preflight import report
from preflight.check import check
from preflight.junit import error_junit, to_junit
from preflight.sarif import error_sarif, to_sarif

from .conftest import PACK, PROGRAM

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
SARIF = jsonschema.Draft4Validator(SARIF_SCHEMA)
TODAY = datetime.date(2026, 11, 30)


@pytest.fixture(scope="module")
def failing():
    """The fixture program with an unprotected cluster: a mandatory stack-rule violation."""
    return check("dev", program_dir=PROGRAM, pack_dir=PACK, policy_config=None, today=TODAY,
                 config_overrides={"fixture:protect": "false"})


def line_of(path: Path, key: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.strip().startswith(key + ":"))


def results_of(doc: dict, rule: str) -> list:
    return [r for r in doc["runs"][0]["results"] if r["ruleId"] == rule]


def test_sarif_is_valid_against_the_oasis_schema(project_checks, failing):
    docs = [to_sarif(c) for c in (*project_checks.values(), failing)] + [error_sarif("dev", "boom")]
    for doc in docs:
        errors = [e.message for e in SARIF.iter_errors(doc)]
        assert errors == [], errors[:3]
    broken = copy.deepcopy(docs[0])
    broken["runs"][0]["results"][0]["level"] = "fatal"        # not a SARIF level
    broken["runs"][0]["results"][0]["rank"] = 101             # out of range
    assert len(list(SARIF.iter_errors(broken))) == 2          # the schema does bite


def test_sarif_has_one_result_per_finding_and_every_rule_with_help(project_checks):
    chk = project_checks["dev"]
    doc = to_sarif(chk)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    # every rule, not only the fired; and the stack-setting warnings' own rule (dev has one)
    assert set(rules) == {p.name for p in chk.primary.policies} | {"stack-setting-warning"}
    assert len(run["results"]) == len(chk.findings) + len(chk.setting_warnings) > len(chk.setting_warnings) == 1
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
    rule = rules["rds-deletion-protection"]
    assert rule["properties"]["tags"] == ["policy", "CKV_AWS_139", "RDS.7"]   # the anchors
    assert rule["defaultConfiguration"]["level"] == "warning"                 # advisory in dev
    for text in ("RDS.7", "dbDeletionProtection", "AuroraClusterArgs.deletion_protection", "advisory"):
        assert text in rule["help"]["text"] and text in rule["help"]["markdown"], text
    assert rules["rds-storage-encrypted"]["defaultConfiguration"]["level"] == "error"


def test_sarif_levels_kinds_locations_and_suppressions(project_checks, failing):
    dev = to_sarif(project_checks["dev"])
    (deletion,) = results_of(dev, "rds-deletion-protection")
    # The advice's setting is in the stack file: the result points at its line.
    location = deletion["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "Pulumi.dev.yaml"
    assert location["region"]["startLine"] == line_of(ROOT / "Pulumi.dev.yaml", "aurorakit:dbDeletionProtection")
    assert deletion["kind"] == "fail" and deletion["level"] == "warning"
    (suppression,) = deletion["suppressions"]     # acknowledged by policy/waivers/dev.yaml
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert "disposable" in suppression["justification"]
    # A "not checked while unknown" finding is its own kind: open, level none, judged at update.
    (userdata,) = results_of(dev, "ec2-no-secrets-in-user-data")
    assert (userdata["kind"], userdata["level"]) == ("open", "none")
    assert userdata["properties"] == {"phase": "preview", "enforcementLevel": "advisory",
                                      "findingKind": "not-checked", "judgedAtUpdate": "passed"}
    # No setting line in the stack file (albAccessLogsBucket is unset in prod): the program file.
    prod = to_sarif(project_checks["prod"])
    (logs,) = results_of(prod, "alb-access-logs")
    assert logs["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "__main__.py"}}
    assert "albAccessLogsBucket" in logs["message"]["text"] and logs["level"] == "warning"
    assert logs["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].endswith("::app-alb")
    assert results_of(prod, "alb-listener-https") == []  # prod serves HTTPS on its domain
    (mandatory,) = results_of(to_sarif(failing), "cluster-protected")
    assert (mandatory["kind"], mandatory["level"]) == ("fail", "error")
    assert to_sarif(failing)["runs"][0]["invocations"][0]["exitCode"] == 1


def test_junit_one_case_per_rule_and_resource(project_checks, failing):
    chk = project_checks["dev"]
    root = ET.fromstring(ET.tostring(to_junit(chk).getroot()))
    suites = root.findall("testsuite")
    cases = [(s.get("name"), c.get("name")) for s in suites for c in s.findall("testcase")]
    assert len(cases) == len(set(cases)) == int(root.get("tests"))
    for key in ("tests", "failures", "skipped"):
        assert int(root.get(key)) == sum(int(s.get(key)) for s in suites)
    by_suite = {s.get("name"): s for s in suites}
    keys = by_suite["preflight.dev.kms-key-rotation-enabled"].findall("testcase")
    assert sorted(c.get("name") for c in keys) == sorted(
        f"aws:kms/key:Key::{r.name}" for r in chk.registrations if r.type == "aws:kms/key:Key")
    (deletion,) = by_suite["preflight.dev.rds-deletion-protection"].findall("testcase")
    assert deletion.get("name") == "aws:rds/cluster:Cluster::db-cluster"
    assert deletion.find("skipped").get("message").startswith("acknowledged by waiver (policy/waivers/dev.yaml:")
    assert root.get("failures") == "0" and int(root.get("skipped")) == len(chk.acknowledged)
    fail_root = to_junit(failing).getroot()
    (case,) = [c for c in fail_root.iter("testcase") if c.find("failure") is not None]
    assert case.get("classname") == "preflight.dev.cluster-protected" and case.get("name") == "aws:rds/cluster:Cluster::db"
    assert case.find("failure").get("type") == "mandatory" and fail_root.get("failures") == "1"
    err = error_junit("dev", "boom").getroot()
    assert err.get("errors") == "1" and err.find("testsuite/testcase/error").get("message") == "boom"


def _outputs(chk) -> tuple:
    doc = report.to_json(chk)
    volatile = doc.pop("run")
    return (json.dumps(doc, sort_keys=True), json.dumps(to_sarif(chk), sort_keys=True),
            ET.tostring(to_junit(chk).getroot()), volatile)


def test_two_runs_give_identical_reports_except_run(project_checks):
    again = check("dev", today=TODAY)
    first, second = _outputs(project_checks["dev"]), _outputs(again)
    assert first[:3] == second[:3]
    assert set(first[3]) == {"timings", "today"} and first[3]["timings"]["preview"]["total"] > 0


def test_a_stack_setting_warning_is_an_advisory_finding_in_every_format(project_checks):
    """dev ships a documentation-range hostIngressCidrs: a SARIF warning at its line, a JUnit
    case, counted in the JSON summary; it fails the run only with --fail-on advisory."""
    import dataclasses

    from preflight.junit import to_junit
    from preflight.report import to_json

    dev = project_checks["dev"]
    line = line_of(ROOT / "Pulumi.dev.yaml", "aurorakit:hostIngressCidrs")
    for fail_on, code in (("mandatory", 0), ("advisory", 1)):
        chk = dataclasses.replace(dev, fail_on=fail_on)
        assert chk.exit_code == code
        (result,) = results_of(to_sarif(chk), "stack-setting-warning")
        assert result["level"] == "warning" and "documentation range" in result["message"]["text"]
        assert result["locations"][0]["physicalLocation"] == {
            "artifactLocation": {"uri": "Pulumi.dev.yaml"}, "region": {"startLine": line}}
        notes = to_sarif(chk)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert [n["message"]["text"] for n in notes] == [w for w in chk.warnings if "stack config" not in w]
        suite = to_junit(chk).getroot().find("testsuite[@name='preflight.dev.stack-setting-warning']")
        (case,) = suite.findall("testcase")
        assert case.get("name") == f"aurorakit:hostIngressCidrs (Pulumi.dev.yaml:{line})"
        assert (case.find("failure") is not None) == (fail_on == "advisory")
        summary = to_json(chk)["summary"]
        assert summary["settingWarnings"] == 1 and summary["exitCode"] == code
