"""Program entry: the project's __main__.py plus tests/policy/dynamo_wiring.py (run by preflight
with the repository root as cwd)."""
import runpy

import pulumi

from tests.policy import dynamo_wiring

pulumi.runtime.register_stack_transformation(dynamo_wiring.transformation)
program = runpy.run_path("__main__.py", run_name="__main__")
tables = dynamo_wiring.wire(program["stack"], program["settings"])
pulumi.export("dynamodb_table_names", tables.table_names)
