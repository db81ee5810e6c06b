"""`python -m preflight` as a user runs it: exit codes, one-line errors, the JSON report.
All invocations start at once (module fixture) so the subprocesses overlap."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from .conftest import PACK, PROGRAM

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "preflight" / "report.schema.json").read_text())
FIXTURE = ("--program", str(PROGRAM), "--policy-pack", str(PACK))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "strict.json").write_text('{"cluster-backup-retention": {"enforcementLevel": "mandatory", "minDays": 9}}')
    (tmp / "bad.json").write_text('{"subnet-no-public-ip": "sometimes"}')
    argv = {
        "clean": [*FIXTURE, "--stack", "dev", "--json", str(tmp / "clean.json")],
        "strict": [*FIXTURE, "--stack", "dev", "--quiet", "--policy-config", str(tmp / "strict.json"),
                   "--json", str(tmp / "strict.json.out")],
        "no-stack-file": [*FIXTURE, "--stack", "prod"],
        "bad-level": [*FIXTURE, "--stack", "dev", "--policy-config", str(tmp / "bad.json")],
        "no-pack": ["--stack", "dev", "--program", str(PROGRAM), "--policy-pack", str(tmp)],
        "no-args": [],
        "bad-diagram": [*FIXTURE, "--stack", "dev", "--diagram", str(tmp / "d.gif")],
    }
    procs = {k: subprocess.Popen([sys.executable, "-m", "preflight", *a], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k, a in argv.items()}
    out = {}
    for key, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[key] = (p.returncode, stdout, stderr)
    out["tmp"] = tmp
    return out


def test_clean_stack_exit_0_with_tree_and_verdict(runs):
    code, stdout, stderr = runs["clean"]
    assert code == 0, stderr
    assert "net-subnet aws:ec2/subnet:Subnet" in stdout
    assert stdout.strip().splitlines()[-1].startswith("preview passed: no mandatory policy violations")
    doc = json.loads((runs["tmp"] / "clean.json").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["summary"]["analyzeCalls"] == doc["summary"]["resources"] == 11


def test_mandatory_violation_exit_1(runs):
    code, stdout, stderr = runs["strict"]
    assert code == 1, stderr
    assert "net-vpc" not in stdout  # --quiet: no tree
    assert "Aurora cluster must keep backups for at least 9.0 days (has 7.0)." in stdout
    assert stdout.strip().splitlines()[-1].startswith("preview failed: 1 mandatory policy violation(s)")
    doc = json.loads((runs["tmp"] / "strict.json.out").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert [d["policyName"] for d in doc["diagnostics"]] == ["cluster-backup-retention"]


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
