"""Build the aurorakit policy pack from the rule registry. Nothing else lives here.

The CLI runs this as `python -m pulumi.policy <engine-address> .` from the policy/ directory;
constructing PolicyPack starts the analyzer's gRPC server and serves until the engine stops it,
so never import this module (tests import `policy.rules`).
"""
import gc

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import REGISTRY

# The pack lives for one preview/update. Modules loaded by now are never garbage (freeze: full
# collections skip them), and AnalyzeStack builds a proxy per resource per stack policy, which
# the default thresholds turned into ~30% of its time at 2,000 resources (docs/BENCHMARKS.md).
gc.freeze()
gc.set_threshold(50_000, 20, 20)

PolicyPack(
    name="aurorakit",
    description="Guardrails for a web app on EC2 backed by a private Aurora cluster.",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=REGISTRY.policies(),
)
