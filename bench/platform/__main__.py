"""Benchmark program: `platform:apps` isolated app+cluster pairs, each the prod composition
(Network -> AuroraCluster -> AppHost -> SecurityGroupLink, HTTPS ALB) with its own VPC CIDR and
name prefix.

Sizes are stacks (Pulumi.s500/s2000/s5000.yaml); `PLATFORM_APPS=N` overrides the count.
Run: `python -m preflight --program bench/platform --stack s2000 --policy-config policy/config/prod.json`.
"""
import os
import sys
from pathlib import Path

import pulumi

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: `components`

from components import (AppHost, AppHostArgs, AuroraCluster, AuroraClusterArgs,  # noqa: E402
                        DatabaseEndpoint, Network, NetworkArgs, SecurityGroupLink)
from components.settings import load_settings  # noqa: E402

s = load_settings()
net, dbs, hs = s.network, s.database, s.host
apps = int(os.environ.get("PLATFORM_APPS") or pulumi.Config("platform").require_int("apps"))
if not 1 <= apps <= 150:
    raise pulumi.RunError(f"invalid platform:apps = {apps}: must be 1..150 (one /16 per app)")


def app_pair(i: int) -> str:
    p = f"a{i:03d}"
    network = Network(f"{p}-network", NetworkArgs(
        availability_zones=net.availability_zones, cidr_block=f"10.{100 + i}.0.0/16",
        subnet_prefix_length=net.subnet_prefix_length, nat_mode=net.nat_mode,
        interface_endpoints=net.interface_endpoints, flow_log_retention_days=net.log_retention_days,
        protect=dbs.protect, tags={**s.tags, "App": p}))
    db = AuroraCluster(f"{p}-db", AuroraClusterArgs(
        vpc_id=network.vpc_id, subnet_ids=network.isolated_subnet_ids,
        availability_zones=net.availability_zones, engine=dbs.engine, engine_version=dbs.engine_version,
        serverless=False, instance_class=dbs.instance_class, readers=dbs.readers,
        db_name=dbs.db_name, master_username=dbs.master_username, managed_password=dbs.managed_password,
        backup_retention_days=dbs.backup_retention_days, deletion_protection=dbs.deletion_protection,
        backtrack_hours=dbs.backtrack_hours, monitoring_interval=dbs.monitoring_interval,
        performance_insights_retention_days=dbs.performance_insights_retention_days,
        reader_autoscaling_max=dbs.reader_autoscaling_max,
        reader_autoscaling_cpu_target=dbs.reader_autoscaling_cpu_target, alarm_emails=dbs.alarm_emails,
        log_retention_days=net.log_retention_days, protect=dbs.protect, tags={**s.tags, "App": p}))
    host = AppHost(f"{p}-app", AppHostArgs(
        vpc_id=network.vpc_id, subnet_id=network.private_subnet_ids[0],
        database=DatabaseEndpoint(
            writer_endpoint=db.endpoint, reader_endpoint=db.reader_endpoint, port=db.port,
            db_name=dbs.db_name, engine=dbs.engine, secret_arn=db.master_user_secret_arn,
            kms_key_arn=db.kms_key_arn, cluster_resource_id=db.cluster_resource_id),
        kms_key_arn=db.kms_key_arn, egress_ready=network.egress_ready, public=False,
        load_balancer_subnet_ids=network.public_subnet_ids, load_balancer_ingress_cidrs=hs.alb_ingress_cidrs,
        certificate_arn=hs.alb_certificate_arn, load_balancer_deletion_protection=dbs.protect,
        load_balancer_access_logs_bucket=hs.alb_access_logs_bucket, instance_type=hs.instance_type,
        arm64=hs.arm64, root_volume_gb=hs.root_volume_gb, app_port=hs.app_port,
        app_db_user=dbs.app_db_user, tags={**s.tags, "App": p}))
    SecurityGroupLink(f"{p}-app-to-db", source=host.connections, target=db.connections)
    return host.url


pulumi.export("app_urls", [app_pair(i) for i in range(apps)])
