"""The `main` preflight runs for a Pulumi YAML example (working directory: the example)."""
from pathlib import Path

from tests.package.yaml_engine import run

run(Path.cwd())
