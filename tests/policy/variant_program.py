"""Program entry for a broken prod variant: the project's __main__.py plus one defect.

Run by preflight (cwd = the repository root, which is on sys.path) with
`tests.policy.variants.ACTIVE` set by the test.
"""
import runpy

import pulumi

from tests.policy import variants

pulumi.runtime.register_stack_transformation(variants.transformation)
variants.CAPTURED["program"] = runpy.run_path("__main__.py", run_name="__main__")
if variants.ACTIVE is not None and variants.ACTIVE.extra is not None:
    variants.ACTIVE.extra()
