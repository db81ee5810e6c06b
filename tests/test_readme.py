"""The README keeps its promises: generated tables are current, the two set-up commands exist,
and .ci/run calls the README's test command."""
from pathlib import Path

from docs.sync_readme import README, render

ROOT = Path(__file__).resolve().parent.parent


def test_generated_blocks_are_current():
    text = README.read_text()
    assert render(text) == text, "README.md is stale: run `make docs`"


def test_two_setup_commands_and_ci_calls_the_test_command():
    text = README.read_text()
    setup = text.split("## Set up", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in setup.strip().splitlines()]
    assert commands == ["make preview", "make test"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1].strip() == "make test", "the README's test command must end .ci/run"


def test_every_rule_and_config_key_is_documented():
    from components.settings import SETTINGS as KEYS
    from policy.rules import REGISTRY
    text = README.read_text()
    assert all(f"| `{name}` |" in text for name in REGISTRY.names())
    assert all(f"| `{key}` |" in text for key in KEYS)


def test_every_relative_link_and_image_exists():
    import re
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)\)", text)
    local = [t for t in targets if "://" not in t]
    assert "docs/architecture.svg" in local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
