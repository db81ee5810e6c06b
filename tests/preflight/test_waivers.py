"""Waivers: advisory findings acknowledged with a reason (shown, counted separately), an expired
waiver fails the run, an unmatched one is reported, a mandatory rule can never be waived."""
import datetime

import pytest

from preflight.check import Finding, build
from preflight.run import PreflightError, prepare, run_with_pack
from preflight.waivers import Waiver, WaiverError, apply, check_rules, load_waivers

from .conftest import PACK, PROGRAM

TODAY = datetime.date(2026, 11, 30)
ADVISORY_CONFIG = {"cluster-backup-retention": {"enforcementLevel": "advisory", "minDays": 9}}


def write(tmp_path, text: str):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


def test_a_valid_file(tmp_path):
    path = write(tmp_path, "waivers:\n  - rule: r1\n    resource: db\n    reason: because\n"
                           "  - rule: r1\n    resource: '*'\n    reason: all of them\n    expires: 2027-01-31\n")
    first, second = load_waivers(path, "w.yaml")
    assert (first.rule, first.resource, first.reason, first.expires, first.where) == ("r1", "db", "because", None, "w.yaml:2")
    assert second.expires == datetime.date(2027, 1, 31) and second.line == 5
    assert load_waivers(write(tmp_path, "# nothing yet\n")) == []


@pytest.mark.parametrize("text, error", [
    ("- rule: x\n", "expected a mapping with one key, waivers"),
    ("waivers:\n  - rule: x\n    resource: db\n", "w.yaml:2: reason is required"),
    ("waivers:\n  - rule: x\n    resource: db\n    reason: r\n    until: 2027-01-01\n", "w.yaml:2: unknown key 'until'"),
    ("waivers:\n  - rule: x\n    resource: db\n    reason: r\n    expires: next year\n", "expires 'next year': use a date like"),
    ("waivers:\n  - {rule: x, resource: db, reason: r}\n  - {rule: x, resource: db, reason: s}\n",
     "w.yaml:3: duplicate waiver for x on db (first at line 2)"),
    ("waivers: [\n", "not valid YAML"),
    # a date YAML reads as a timestamp but the calendar does not have (PyYAML raised ValueError)
    ("waivers:\n  - rule: x\n    resource: db\n    reason: r\n    expires: 2027-02-30\n",
     "w.yaml:2: expires '2027-02-30': use a date like 2027-06-30"),
])
def test_a_bad_file_is_one_clear_error(tmp_path, text, error):
    with pytest.raises(WaiverError, match=error.replace("(", r"\(").replace(")", r"\)")):
        load_waivers(write(tmp_path, text), "w.yaml")


def test_only_advisory_rules_of_the_pack_can_be_waived():
    levels = {"rds-multi-az": "advisory", "rds-storage-encrypted": "mandatory"}
    check_rules([Waiver("rds-multi-az", "db-cluster", "r", None, "w", 1)], levels, "prod")
    with pytest.raises(WaiverError, match="'rds-storage-encrypted' is mandatory in stack 'prod'; a waiver acknowledges advisory"):
        check_rules([Waiver("rds-storage-encrypted", "db-cluster", "r", None, "w", 3)], levels, "prod")
    with pytest.raises(WaiverError, match="w:4: rule 'rds-multi-azz' is not a policy of the pack"):
        check_rules([Waiver("rds-multi-azz", "db-cluster", "r", None, "w", 4)], levels, "prod")


def _finding(kind="violation", level="advisory", name="db"):
    return Finding("p", level, kind, "preview", f"urn:pulumi:dev::x::aws:rds/cluster:Cluster::{name}",
                   "m", "d", "", "pack", "1", "aws:rds/cluster:Cluster", name)


def test_matching_by_name_type_name_urn_or_star_and_never_a_not_checked_finding():
    findings = [_finding(), _finding(kind="not-checked"), _finding(name="other")]
    for resource in ("db", "aws:rds/cluster:Cluster::db", findings[0].urn):
        for f in findings:
            f.waiver = None
        (status,) = apply([Waiver("p", resource, "r", None, "w", 1)], findings, TODAY)
        assert status.matched == 1 and findings[0].waiver is not None
        assert findings[1].waiver is None and findings[2].waiver is None
    for f in findings:
        f.waiver = None
    (status,) = apply([Waiver("p", "*", "r", None, "w", 1)], findings, TODAY)
    assert status.matched == 2 and findings[1].waiver is None   # "not checked" is not a violation


@pytest.fixture(scope="module")
def advisory_run(fixture_pack):
    """One run of the fixture program with an advisory violation (backups 7 < 9 days)."""
    import json

    from preflight.policyconfig import parse_policy_config

    setup = prepare("dev", program_dir=PROGRAM, pack_dir=PACK,
                    policy_config=parse_policy_config(json.dumps(ADVISORY_CONFIG)))
    result = run_with_pack(fixture_pack, setup.config, setup.main, setup.program_dir, setup.file_config, True)
    return setup, result


def _build(advisory_run, waivers, fail_on="mandatory", today=TODAY):
    setup, result = advisory_run
    return build({"preview": result}, setup, mode="preview", waivers=waivers, waiver_file="w.yaml",
                 fail_on=fail_on, today=today, with_cost=False)


def test_acknowledged_findings_are_shown_and_counted_separately(advisory_run):
    from preflight import report

    plain = _build(advisory_run, [])
    assert [f.policy for f in plain.violations("advisory")] == ["cluster-backup-retention"]
    assert plain.exit_code == 0 and _build(advisory_run, [], fail_on="advisory").exit_code == 1
    waiver = Waiver("cluster-backup-retention", "db", "restores are tested weekly", None, "w.yaml", 2)
    acked = _build(advisory_run, [waiver], fail_on="advisory")
    assert acked.violations("advisory") == [] and len(acked.acknowledged) == 1
    printed = _printed(acked)
    assert "Acknowledged by waivers (1), w.yaml" in printed and "restores are tested weekly" in printed
    assert "Advisory policy violations" not in printed and " ~" in printed   # the tree marker
    assert acked.exit_code == 0   # an acknowledged advisory does not fail even with --fail-on advisory
    doc = report.to_json(acked)
    assert doc["summary"]["acknowledged"] == 1 and doc["summary"]["advisory"] == 0
    (finding,) = doc["findings"]
    assert finding["acknowledged"]["reason"] == "restores are tested weekly"
    assert doc["waivers"]["entries"][0]["state"] == "active"


def test_an_expired_waiver_fails_and_acknowledges_nothing(advisory_run):
    from preflight import report

    waiver = Waiver("cluster-backup-retention", "db", "r", datetime.date(2026, 11, 29), "w.yaml", 2)
    assert _build(advisory_run, [waiver], today=datetime.date(2026, 11, 29)).exit_code == 0  # last day
    expired = _build(advisory_run, [waiver])
    assert expired.exit_code == 1 and len(expired.expired) == 1
    assert expired.acknowledged == [] and len(expired.violations("advisory")) == 1
    line = report.verdict(expired)
    assert line.startswith("preview failed: 1 expired waiver(s)")
    printed = _printed(expired)
    assert "waiver expired on 2026-11-29: cluster-backup-retention on db (w.yaml:2): renew it with a " \
           "new date and a reason, or fix the finding and remove the waiver" in printed
    assert "Advisory policy violations (1)" in printed and printed.rstrip().endswith(line)


def _printed(chk) -> str:
    import io

    from rich.console import Console

    from preflight import report

    out = io.StringIO()
    report.print_report(chk, Console(file=out, width=100_000, soft_wrap=True, highlight=False))
    return out.getvalue()


def test_an_unmatched_waiver_is_reported(advisory_run):
    stale = Waiver("cluster-backup-retention", "net-vpc", "r", None, "w.yaml", 7)
    chk = _build(advisory_run, [stale])
    assert [s.state for s in chk.waivers] == ["unmatched"] and chk.exit_code == 0
    assert "waiver matches nothing: cluster-backup-retention on net-vpc (w.yaml:7)" in _printed(chk)


def test_a_waiver_for_a_mandatory_rule_is_an_error(advisory_run):
    mandatory = Waiver("cluster-protected", "db", "r", None, "w.yaml", 3)
    with pytest.raises(PreflightError, match="'cluster-protected' is mandatory in stack 'dev'"):
        _build(advisory_run, [mandatory])


def test_the_dev_waivers_match_exactly_what_dev_expects(project_checks):
    dev = project_checks["dev"]
    assert dev.waiver_file == "policy/waivers/dev.yaml"
    assert [s.state for s in dev.waivers] == ["active"] * len(dev.waivers)
    assert len(dev.acknowledged) == len(dev.waivers) == 11 and dev.violations("advisory") == []
    assert all(len(s.waiver.reason) > 20 for s in dev.waivers)
    # dev's explicit opt-outs (Pulumi.dev.yaml), one finding each
    assert {(s.waiver.rule, s.waiver.resource) for s in dev.waivers} == {
        ("rds-deletion-protection", "db-cluster"), ("stack-deletion-safety", "db-cluster"),
        ("stack-deletion-safety", "db-key"), ("rds-final-snapshot", "db-cluster"),
        ("kms-key-deletion-window", "db-key"), ("rds-backup-plan-coverage", "db-cluster"),
        ("rds-multi-az", "db-cluster"), ("rds-aurora-mysql-backtrack", "db-cluster"),
        *{("dynamodb-deletion-protection", f"forum-{t}") for t in ("Forum", "Thread", "Comment")}}
    assert project_checks["prod"].waivers == []   # prod acknowledges nothing
