"""`python -m preflight` as a user runs it: exit codes, one-line errors, the reports on every
exit. All invocations start at once (module fixture) so the subprocesses overlap."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from .conftest import PACK, PROGRAM

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "preflight" / "report.schema.json").read_text())
FIXTURE = ("--program", str(PROGRAM), "--policy-pack", str(PACK))


def reports(tmp, name):
    return ["--json", str(tmp / f"{name}.json"), "--sarif", str(tmp / f"{name}.sarif"),
            "--junit", str(tmp / f"{name}.xml")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "strict.json").write_text('{"cluster-backup-retention": {"enforcementLevel": "mandatory", "minDays": 9}}')
    (tmp / "advisory.json").write_text('{"cluster-backup-retention": {"enforcementLevel": "advisory", "minDays": 9}}')
    (tmp / "bad.json").write_text('{"subnet-no-public-ip": "sometimes"}')
    advisory = [*FIXTURE, "--stack", "dev", "--policy-config", str(tmp / "advisory.json")]
    argv = {
        "clean": [*FIXTURE, "--stack", "dev", *reports(tmp, "clean")],
        "again": [*FIXTURE, "--stack", "dev", *reports(tmp, "again")],
        "strict": [*FIXTURE, "--stack", "dev", "--quiet", "--mode", "preview", "--policy-config", str(tmp / "strict.json"),
                   "--json", str(tmp / "strict.json.out")],
        "fail-on-advisory": [*advisory, "--mode", "preview", "--fail-on", "advisory"],
        "no-stack-file": [*FIXTURE, "--stack", "prod", *reports(tmp, "error")],
        "bad-level": [*FIXTURE, "--stack", "dev", "--policy-config", str(tmp / "bad.json")],
        "no-pack": ["--stack", "dev", "--program", str(PROGRAM), "--policy-pack", str(tmp)],
        "no-args": [],
        "bad-diagram": [*FIXTURE, "--stack", "dev", "--diagram", str(tmp / "d.gif")],
        "help": ["--help"],
        "bad-flag": [*FIXTURE, "--stack", "dev", "--fail-on", "bogus", *reports(tmp, "usage")],
        "empty-stack": [*FIXTURE, "--stack", ""],
        "other-project": [*FIXTURE, "--stack", "acme/someone-else/dev"],
    }
    procs = {k: subprocess.Popen([sys.executable, "-m", "preflight", *a], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k, a in argv.items()}
    out = {}
    for key, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[key] = (p.returncode, stdout, stderr)
    out["tmp"] = tmp
    return out


def test_clean_stack_exit_0_with_tree_legend_and_verdict(runs):
    code, stdout, stderr = runs["clean"]
    assert code == 0, stderr
    assert "net-subnet aws:ec2/subnet:Subnet" in stdout
    legend = [ln for ln in stdout.splitlines() if ln.startswith("legend: ")]
    assert legend and all(m in legend[0] for m in ("✗ mandatory", "! advisory", "? not checked", "~ acknowledged"))
    assert stdout.strip().splitlines()[-1].startswith(
        "preview + update (mocked outputs) passed: no mandatory policy violations")
    doc = json.loads((runs["tmp"] / "clean.json").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["mode"] == "full" and doc["summary"]["resources"] == 11
    assert doc["summary"]["phases"] == {"preview": {"analyzeCalls": 11, "analyzeStackCalls": 1},
                                        "update": {"analyzeCalls": 11, "analyzeStackCalls": 1}}


def test_output_to_a_pipe_is_not_wrapped_at_80_columns(runs):
    _, stdout, _ = runs["clean"]
    assert max(len(line) for line in stdout.splitlines()) > 100     # the legend, the cost lines
    assert "  excluded (usage-based): data processing" in stdout     # one line, not broken up


def test_mandatory_violation_exit_1(runs):
    code, stdout, stderr = runs["strict"]
    assert code == 1, stderr
    assert "net-vpc" not in stdout  # --quiet: no tree
    assert "Aurora cluster must keep backups for at least 9.0 days (has 7.0)." in stdout
    assert stdout.strip().splitlines()[-1].startswith("preview failed: 1 mandatory policy violation(s)")
    doc = json.loads((runs["tmp"] / "strict.json.out").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert [(f["policyName"], f["phase"]) for f in doc["findings"]] == [("cluster-backup-retention", "preview")]


def test_fail_on_advisory(runs):
    """(Without --fail-on the same advisory passes: tests/preflight/test_waivers.py.)"""
    code, stdout, _ = runs["fail-on-advisory"]
    assert code == 1
    assert "Advisory policy violations (1)" in stdout
    assert stdout.strip().splitlines()[-1].startswith(
        "preview failed: 1 advisory violation(s) with --fail-on advisory")


def test_every_report_is_written_on_exit_2(runs):
    code, _, stderr = runs["no-stack-file"]
    assert code == 2 and "Pulumi.prod.yaml: file not found" in stderr
    tmp = runs["tmp"]
    doc = json.loads((tmp / "error.json").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["error"]["message"].endswith("Pulumi.prod.yaml: file not found")
    assert doc["summary"] == {"verdict": "error", "exitCode": 2, "line": "preflight: error: " + doc["error"]["message"]}
    sarif = json.loads((tmp / "error.sarif").read_text())
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    assert ET.parse(tmp / "error.xml").getroot().get("errors") == "1"


def test_two_runs_write_identical_reports_except_the_run_object(runs):
    tmp = runs["tmp"]
    first, second = (json.loads((tmp / f"{n}.json").read_text()) for n in ("clean", "again"))
    assert first.pop("run") != {} and second.pop("run") != {}
    assert first == second
    for ext in ("sarif", "xml"):
        assert (tmp / f"clean.{ext}").read_bytes() == (tmp / f"again.{ext}").read_bytes()


def test_help_says_any_stack_and_names_the_modes(runs):
    code, stdout, _ = runs["help"]
    assert code == 0 and "(dev, prod)" not in stdout
    assert "any stack" in stdout and "--sarif" in stdout and "--fail-on" in stdout


@pytest.mark.parametrize("key, text", [
    ("no-stack-file", "Pulumi.prod.yaml: file not found"),
    ("bad-level", "'sometimes' is not a valid enforcement level (allowed: advisory, mandatory, remediate, disabled)"),
    ("no-pack", "PulumiPolicy.yaml not found"),
    ("no-args", "the following arguments are required: --stack"),
    ("bad-diagram", "use a .svg, .png or .dot"),
])
def test_errors_exit_2_with_one_line(runs, key, text):
    code, stdout, stderr = runs[key]
    assert code == 2, (stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("preflight: error: ") and text in lines[0], stderr


def test_a_usage_error_still_writes_the_reports_it_names(runs):
    code, _, stderr = runs["bad-flag"]
    assert code == 2 and stderr.count("\n") == 1 and "argument --fail-on: invalid choice: 'bogus'" in stderr
    tmp = runs["tmp"]
    doc = json.loads((tmp / "usage.json").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["stack"] == "dev" and "invalid choice: 'bogus'" in doc["error"]["message"]
    assert json.loads((tmp / "usage.sarif").read_text())["runs"][0]["invocations"][0]["exitCode"] == 2
    assert ET.parse(tmp / "usage.xml").getroot().get("errors") == "1"


def test_a_stack_name_is_checked_and_a_qualified_one_is_accepted(runs, tmp_path):
    from preflight.stackconfig import StackConfigError, plain_stack_name

    code, _, stderr = runs["empty-stack"]
    assert code == 2 and "--stack '': a stack name is letters, digits" in stderr
    code, _, stderr = runs["other-project"]
    assert code == 2 and "project 'someone-else' is not this program's" in stderr
    (tmp_path / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    assert [plain_stack_name(s, tmp_path) for s in ("dev", "acme/dev", "acme/shop/prod")] == ["dev", "dev", "prod"]
    for bad in ("a/b/c/d", "dev stack", "../dev"):
        with pytest.raises(StackConfigError):
            plain_stack_name(bad, tmp_path)
