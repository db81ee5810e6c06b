"""The stack's composition in one place: validated `Settings` -> Network -> AuroraCluster ->
AppHost (-> ALB) -> links. Used by `__main__.py` and by the benchmark's platform program.

`prefix` prefixes every top-level name ("" keeps the project's own names: network, db, app,
app-to-db); `vpc_cidr` and `tags` let one program hold several isolated copies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .app_host import AppHost, AppHostArgs, DatabaseEndpoint
from .connections import SecurityGroupLink
from .database import AuroraCluster, AuroraClusterArgs
from .network import Network, NetworkArgs
from .settings import Settings


@dataclass(frozen=True)
class Composition:
    network: Network
    db: AuroraCluster
    host: AppHost


def compose(s: Settings, prefix: str = "", vpc_cidr: Optional[str] = None,
            tags: Optional[dict] = None) -> Composition:
    net, dbs, hs = s.network, s.database, s.host
    tags = {**s.tags, **(tags or {})}
    network = Network(f"{prefix}network", NetworkArgs(
        availability_zones=net.availability_zones, cidr_block=vpc_cidr or net.vpc_cidr,
        subnet_prefix_length=net.subnet_prefix_length, nat_mode=net.nat_mode,
        interface_endpoints=net.interface_endpoints, flow_log_retention_days=net.log_retention_days,
        protect=dbs.protect, tags=tags))

    db = AuroraCluster(f"{prefix}db", AuroraClusterArgs(
        vpc_id=network.vpc_id, subnet_ids=network.isolated_subnet_ids,
        availability_zones=net.availability_zones, engine=dbs.engine, engine_version=dbs.engine_version,
        serverless=dbs.mode == "serverless", instance_class=dbs.instance_class,
        serverless_min_acu=dbs.serverless_min_acu, serverless_max_acu=dbs.serverless_max_acu,
        readers=dbs.readers, db_name=dbs.db_name, master_username=dbs.master_username,
        managed_password=dbs.managed_password, backup_retention_days=dbs.backup_retention_days,
        deletion_protection=dbs.deletion_protection, backtrack_hours=dbs.backtrack_hours,
        monitoring_interval=dbs.monitoring_interval,
        performance_insights_retention_days=dbs.performance_insights_retention_days,
        reader_autoscaling_max=dbs.reader_autoscaling_max,
        reader_autoscaling_cpu_target=dbs.reader_autoscaling_cpu_target,
        alarm_emails=dbs.alarm_emails, proxy=dbs.proxy,
        log_retention_days=net.log_retention_days,
        kms_key_arn=dbs.kms_key_arn, protect=dbs.protect, tags=tags))

    public = hs.placement == "public"
    host = AppHost(f"{prefix}app", AppHostArgs(
        vpc_id=network.vpc_id,
        subnet_id=(network.public_subnet_ids if public else network.private_subnet_ids)[0],
        database=DatabaseEndpoint(
            writer_endpoint=db.endpoint, reader_endpoint=db.reader_endpoint, port=db.port,
            db_name=dbs.db_name, engine=dbs.engine, secret_arn=db.master_user_secret_arn,
            kms_key_arn=db.kms_key_arn, cluster_resource_id=db.cluster_resource_id),
        kms_key_arn=db.kms_key_arn, egress_ready=network.egress_ready, public=public,
        ingress_cidrs=hs.ingress_cidrs,
        load_balancer_subnet_ids=None if public else network.public_subnet_ids,
        load_balancer_ingress_cidrs=hs.alb_ingress_cidrs, certificate_arn=hs.alb_certificate_arn,
        load_balancer_deletion_protection=dbs.protect,
        load_balancer_access_logs_bucket=hs.alb_access_logs_bucket,
        instance_type=hs.instance_type, arm64=hs.arm64, ami_id=hs.ami_id,
        root_volume_gb=hs.root_volume_gb, app_port=hs.app_port, app_db_user=dbs.app_db_user,
        key_pair_name=hs.key_pair_name, admin_cidr=hs.admin_cidr, tags=tags))

    SecurityGroupLink(f"{prefix}app-to-db", source=host.connections, target=db.connections)
    if dbs.proxy:
        SecurityGroupLink(f"{prefix}app-to-proxy", source=host.connections, target=db.proxy_connections)
    return Composition(network, db, host)
