"""The stack's composition in one place: validated `Settings` -> Network -> AuroraCluster ->
AppFleet (-> ALB) -> links. Used by `__main__.py` and by the benchmark's platform program.

Each component gets the values its Args fields' stack keys set (`settings.args(...)`), so a new
setting needs no change here; what this file adds is the wiring BETWEEN components (ids,
endpoints, the AZs, and the few settings one component's field carries for the others:
`protect`, `logRetentionDays`, `appDbUser`). `StackArgs` holds the settings that belong to no
single component.

`prefix` prefixes every top-level name ("" keeps the project's own names: network, db, app,
app-to-db); `vpc_cidr` and `tags` let one program hold several isolated copies.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from .app_fleet import AppFleet, AppFleetArgs, Placement
from .connections import SecurityGroupLink
from .database import AuroraCluster, AuroraClusterArgs
from .dynamodb import Capacity, DynamoTables, DynamoTablesArgs, app_access_statements, forum_table_specs
from .knobs import args_class, knob, one_of
from .network import Network, NetworkArgs, azs_problem
from .tags import tags_problem

if TYPE_CHECKING:
    from .settings import Settings


@args_class
class StackArgs:
    """Stack-wide settings that are no single component's argument."""

    availability_zones: Optional[Sequence[str]] = knob(default=None, key="availabilityZones", check=azs_problem)
    """2 or 3 AZ names in aws:region. Default: None (the first az_count AZs of the region, an
    AWS call at preview)."""
    az_count: int = knob(default=3, key="azCount", check=one_of(2, 3), only=(
        lambda a: a.availability_zones is None, "without {availability_zones} (which already lists the AZs)"))
    """Number of AZs when availability_zones is absent: 2 or 3. Default: 3."""
    tags: Mapping[str, str] = knob(default_factory=dict, key="tags", check=tags_problem)
    """Extra tags (string -> string) on every taggable resource: at most 40, keys 1-128 and
    values ≤ 256 characters (letters, digits, spaces, _ . : / = + - @), no aws: or aurorakit:
    prefix, not Name, Project, Stack or ManagedBy (the stack sets them). Default: {}."""
    forum: bool = knob(default=False, key="forum")
    """The forum on DynamoDB (components/dynamodb.py): its tables under the stack's CMK, the
    gateway endpoint's path for the hosts, the app's routes and exactly the IAM it needs.
    Default: False."""


WIRED = "<set by compose>"  # stands for an Output that compose passes (it is always set)


def wired(spec: str, r: dict[str, dict], azs: Sequence[str]) -> dict:
    """What compose passes to `spec`'s Args besides the stack file's values, as plain stand-ins,
    so that `load_settings()` validates the Args compose will build (e.g. the subnets must fit
    the AZs; a private host gets the ALB's subnets). Keep in step with `compose` below."""
    private = r["host"]["placement"] == Placement.PRIVATE
    return {
        "network": {"availability_zones": tuple(azs), "protect": r["database"]["protect"]},
        "forum": {"protect": r["database"]["protect"]},
        "database": {"availability_zones": tuple(azs),
                     "log_retention_days": r["network"]["flow_log_retention_days"]},
        "host": {"load_balancer_subnet_ids": WIRED if private else None, "s3_endpoint_id": WIRED,
                 "load_balancer_deletion_protection": r["database"]["protect"],
                 "app_db_user": r["database"]["app_db_user"]},
    }.get(spec, {})


@dataclass(frozen=True)
class Composition:
    """The components compose() built."""

    network: Network
    """The VPC. Required."""
    forum: Optional[DynamoTables]
    """The forum's DynamoDB tables (setting `forum`). Required."""
    db: AuroraCluster
    """The Aurora cluster. Required."""
    host: AppFleet
    """The app tier. Required."""


def compose(s: Settings, prefix: str = "", vpc_cidr: Optional[str] = None,
            tags: Optional[dict] = None) -> Composition:
    tags = {**s.tags, **(tags or {})}
    db_settings, host_settings = s.resolved["database"], s.resolved["host"]
    network = Network(f"{prefix}network", NetworkArgs(**{
        **s.args("network"), "availability_zones": s.availability_zones,
        **({"cidr_block": vpc_cidr} if vpc_cidr else {}), "protect": db_settings.protect, "tags": tags}))

    db = AuroraCluster(f"{prefix}db", AuroraClusterArgs(
        **s.args("database"), vpc_id=network.vpc_id, subnet_ids=network.isolated_subnet_ids,
        availability_zones=s.availability_zones,
        log_retention_days=s.resolved["network"].flow_log_retention_days, tags=tags))

    forum = None
    if s.resolved["stack"].forum:
        forum = DynamoTables(f"{prefix}forum", DynamoTablesArgs(
            **s.args("forum"), tables=forum_table_specs(), kms_key_arn=db.kms_key_arn,
            capacity=Capacity(**s.args("forum_capacity")), protect=db_settings.protect, tags=tags))

    public = host_settings.placement == Placement.PUBLIC
    host = AppFleet(f"{prefix}app", AppFleetArgs(
        **s.args("host"), vpc_id=network.vpc_id,
        subnet_ids=network.public_subnet_ids if public else network.private_subnet_ids,
        database=db.database_endpoint,
        kms_key_arn=db.kms_key_arn, egress_ready=network.egress_ready, s3_endpoint_id=network.s3_endpoint_id,
        internet_ready=network.internet_ready, alarm_topic_arn=db.alarm_topic_arn,
        load_balancer_subnet_ids=None if public else network.public_subnet_ids,
        load_balancer_deletion_protection=db_settings.protect,
        app_db_user=db_settings.app_db_user,
        forum_tables=forum.table_names if forum else None,
        extra_statements=app_access_statements(forum) if forum else None, tags=tags))

    SecurityGroupLink(f"{prefix}app-to-db", source=host.connections, target=db.connections)
    if db_settings.proxy:
        SecurityGroupLink(f"{prefix}app-to-proxy", source=host.connections, target=db.proxy_connections)
    return Composition(network, forum, db, host)
