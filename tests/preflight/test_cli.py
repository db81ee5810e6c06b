"""`python -m preflight` as a user runs it: exit codes, one-line errors, the JSON report."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from .conftest import PACK, PROGRAM

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "preflight" / "report.schema.json").read_text())


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def fixture_cli(*args):
    return cli("--program", str(PROGRAM), "--policy-pack", str(PACK), *args)


def test_clean_stack_exit_0_with_tree_and_verdict(tmp_path):
    out = fixture_cli("--stack", "dev", "--json", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    assert "net-subnet aws:ec2/subnet:Subnet" in out.stdout
    assert out.stdout.strip().splitlines()[-1].startswith("preview passed: no mandatory policy violations")
    doc = json.loads((tmp_path / "r.json").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["summary"]["analyzeCalls"] == doc["summary"]["resources"] == 11


def test_mandatory_violation_exit_1(tmp_path):
    (tmp_path / "p.json").write_text('{"cluster-backup-retention": {"enforcementLevel": "mandatory", "minDays": 9}}')
    out = fixture_cli("--stack", "dev", "--quiet", "--policy-config", str(tmp_path / "p.json"),
                      "--json", str(tmp_path / "r.json"))
    assert out.returncode == 1, out.stderr
    assert "net-vpc" not in out.stdout  # --quiet: no tree
    assert "Aurora cluster must keep backups for at least 9.0 days (has 7.0)." in out.stdout
    assert out.stdout.strip().splitlines()[-1].startswith("preview failed: 1 mandatory policy violation(s)")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [d["policyName"] for d in doc["diagnostics"]] == ["cluster-backup-retention"]


def test_errors_exit_2_with_one_line(tmp_path):
    (tmp_path / "bad.json").write_text('{"subnet-no-public-ip": "sometimes"}')
    cases = [
        (fixture_cli("--stack", "prod"), "Pulumi.prod.yaml: file not found"),
        (fixture_cli("--stack", "dev", "--policy-config", str(tmp_path / "bad.json")),
         "'sometimes' is not a valid enforcement level (allowed: advisory, mandatory, remediate, disabled)"),
        (cli("--stack", "dev", "--program", str(PROGRAM), "--policy-pack", str(tmp_path)),
         "PulumiPolicy.yaml not found"),
        (cli(), "the following arguments are required: --stack"),
        (fixture_cli("--stack", "dev", "--diagram", str(tmp_path / "d.gif")), "use a .svg, .png or .dot"),
    ]
    for out, text in cases:
        assert out.returncode == 2, (out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("preflight: error: ") and text in lines[0], out.stderr
