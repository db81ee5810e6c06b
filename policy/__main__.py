"""Build the aurorakit policy pack from the rule registry. Nothing else lives here.

The CLI runs this as `python -m pulumi.policy <engine-address> .` from the policy/ directory;
constructing PolicyPack starts the analyzer's gRPC server and serves until the engine stops it,
so never import this module (tests import `policy.rules`).
"""
from pulumi_policy import EnforcementLevel, PolicyPack

from rules import REGISTRY

PolicyPack(
    name="aurorakit",
    description="Guardrails for a web app on EC2 backed by a private Aurora cluster.",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=REGISTRY.policies(),
)
