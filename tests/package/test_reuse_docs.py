"""The README's reuse section shows both routes at the current version, and its Python example is
the example program the tests install and run (test_distribution, test_examples)."""
import re
from pathlib import Path

from components import __version__

ROOT = Path(__file__).resolve().parents[2]


def reuse_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Reusing the components in your own program", 1)[1].split("\n## ", 1)[0]


def test_the_python_example_is_the_example_program():
    blocks = re.findall(r"```python\n(.*?)```", reuse_section(), flags=re.S)
    assert blocks == [(ROOT / "examples" / "postgres-serverless-proxy" / "__main__.py").read_text()]


def test_both_routes_at_the_current_version():
    section = reuse_section()
    tag = f"v{__version__}"
    assert f"pulumi package add https://github.com/<org>/aurorakit/provider@{tag}" in section
    assert f'pip install "aurorakit @ git+https://github.com/<org>/aurorakit@{tag}"' in section
    mentions = [ROOT / "provider" / "PulumiPlugin.yaml", ROOT / "examples" / "yaml" / "README.md",
                *sorted((ROOT / "examples").glob("*/requirements.txt"))]
    for path in mentions:  # every other place that names a release names this one
        assert re.findall(r"@v\d+\.\d+\.\d+", path.read_text()) == [f"@{tag}"], path
