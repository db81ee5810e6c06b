"""Benchmark program: `platform:apps` isolated app+cluster pairs, each the prod composition
(Network -> AuroraCluster -> AppFleet -> SecurityGroupLink, HTTPS ALB) with its own VPC CIDR and
name prefix.

Sizes are stacks (Pulumi.s500/s2000/s5000.yaml); `PLATFORM_APPS=N` overrides the count.
Run: `python -m preflight --program bench/platform --stack s2000 --policy-config policy/config/prod.json`.
"""
import os
import sys
from pathlib import Path

import pulumi

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: `components`

from components.settings import load_settings  # noqa: E402
from components.stack import compose  # noqa: E402

s = load_settings()
apps = int(os.environ.get("PLATFORM_APPS") or pulumi.Config("platform").require_int("apps"))
if not 1 <= apps <= 150:
    raise pulumi.RunError(f"invalid platform:apps = {apps}: must be 1..150 (one /16 per app)")


def app_pair(i: int):
    p = f"a{i:03d}"
    return compose(s, prefix=f"{p}-", vpc_cidr=f"10.{100 + i}.0.0/16", tags={"App": p}).host.url


pulumi.export("app_urls", [app_pair(i) for i in range(apps)])
