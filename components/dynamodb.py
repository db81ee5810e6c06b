"""DynamoTables: DynamoDB tables from typed specs, secure by default.

Each `TableSpec` gives a partition key and an optional sort key (with their types), global
secondary indexes and an optional TTL attribute. Every table is encrypted with the given
customer-managed KMS key, has point-in-time recovery and deletion protection (both explicit
opt-outs) and, with `protect`, pulumi protect. Billing is on-demand (`PAY_PER_REQUEST`) or
`PROVISIONED` with read/write capacity units and, optionally, Application Auto Scaling target
tracking on the table and its indexes (off by default: the source documents switch it off to
stay in the Free Tier).

Tables get explicit names `<project>-<stack>-<component>-<table>` (override: `name_prefix`):
their ARNs, and so the app role's policy, are known at preview. A change DynamoDB can only make
by replacing a table (its keys) therefore fails instead of silently recreating it empty: add a
new table instead.

`app_access_statements(tables)` returns the IAM statements the app role needs for the forum
model (app/forum_schema.py): exactly the actions the app calls on exactly these tables and the
index, and use of the tables' key only through DynamoDB.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from .knobs import Rule, args_class, between, knob, published
from .policies import ENCRYPT_ACTIONS, AccountContext
from .tags import component_tags_problem
from .webapp import forum_schema as schema

PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
MAX_CAPACITY = 40000  # DynamoDB's default per-table quota for read (and write) capacity units
_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_DIMENSIONS = (("read", "Read"), ("write", "Write"))


@published
@dataclass(frozen=True)
class Key:
    """A key attribute: name and DynamoDB scalar type."""

    name: str
    """Attribute name. Required."""
    type: str = "S"
    """"S" (string), "N" (number) or "B" (binary). Default: "S"."""

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 255:
            raise ValueError(f"Key.name {self.name!r}: 1..255 characters")
        if self.type not in schema.KEY_TYPES:
            raise ValueError(f"Key.type {self.type!r} (attribute {self.name}): allowed values are "
                             f"{', '.join(schema.KEY_TYPES)}")


@published
@dataclass(frozen=True)
class GlobalIndex:
    """A global secondary index (same billing and capacity as its table)."""

    name: str
    """Index name (3..255 of letters, digits, _ . -). Required."""
    partition_key: Key
    """The index's partition key. Required."""
    sort_key: Optional[Key] = None
    """The index's sort key. Default: None."""
    projection: str = "KEYS_ONLY"
    """"ALL", "KEYS_ONLY" or "INCLUDE" (with `non_key_attributes`). Default: "KEYS_ONLY"."""
    non_key_attributes: Sequence[str] = ()
    """Attributes projected besides the keys; only (and required) with INCLUDE. Default: ()."""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"GlobalIndex.name {self.name!r}: 3..255 of letters, digits, _ . -")
        if self.projection not in PROJECTIONS:
            raise ValueError(f"GlobalIndex.projection {self.projection!r} (index {self.name}): "
                             f"allowed values are {', '.join(PROJECTIONS)}")
        if bool(self.non_key_attributes) != (self.projection == "INCLUDE"):
            raise ValueError(f"GlobalIndex.non_key_attributes (index {self.name}): required with "
                             "projection INCLUDE and only with it")


class BillingMode(StrEnum):
    """How a table pays for throughput."""

    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    """On demand: per request, no capacity to plan."""
    PROVISIONED = "PROVISIONED"
    """Read/write capacity units per second (the Free Tier's model), optionally auto scaled."""


_PROVISIONED = (lambda a: a.mode == BillingMode.PROVISIONED, "with {mode} PROVISIONED")


def _autoscaling_max(a) -> Optional[str]:
    if a.autoscaling_max and not max(a.read, a.write) <= a.autoscaling_max <= MAX_CAPACITY:
        return f"must be 0 (off) or max({{read}}, {{write}})={max(a.read, a.write)}..{MAX_CAPACITY}"
    return None


@args_class
class Capacity:
    """Billing and throughput of a table and its indexes."""

    mode: BillingMode = knob(default=BillingMode.PAY_PER_REQUEST, key="forumBillingMode")
    """PAY_PER_REQUEST (on-demand) or PROVISIONED. Default: "PAY_PER_REQUEST"."""
    read: int = knob(default=5, key="forumReadCapacity", check=between(1, MAX_CAPACITY), only=_PROVISIONED)
    """Provisioned read capacity units (the minimum when auto scaling), 1..40000. Default: 5."""
    write: int = knob(default=5, key="forumWriteCapacity", check=between(1, MAX_CAPACITY), only=_PROVISIONED)
    """Provisioned write capacity units (the minimum when auto scaling), 1..40000. Default: 5."""
    autoscaling_max: int = knob(default=0, key="forumAutoscalingMax", only=_PROVISIONED)
    """0 = auto scaling off; else the maximum read and write units for target tracking
    (≥ read and write, ≤ 40000). Default: 0."""
    autoscaling_target: int = knob(default=70, key="forumAutoscalingTarget", check=between(20, 90), only=(
        lambda a: bool(a.autoscaling_max), "with {autoscaling_max} (auto scaling is off)"))
    """Target consumed/provisioned utilization % for auto scaling, 20..90. Default: 70."""

    _rules = (Rule("autoscaling_max", _autoscaling_max, requires=("read", "write")),)

    @property
    def provisioned(self) -> bool:
        return self.mode == BillingMode.PROVISIONED


@published
@dataclass(frozen=True)
class TableSpec:
    """One table: keys, indexes, TTL."""

    name: str
    """Logical name, the suffix of the physical name (e.g. "Comment"). Required."""
    partition_key: Key
    """Partition (hash) key. Required."""
    sort_key: Optional[Key] = None
    """Sort (range) key. Default: None (partition key only)."""
    indexes: Sequence[GlobalIndex] = ()
    """Global secondary indexes (at most 20). Default: ()."""
    ttl_attribute: Optional[str] = None
    """Number attribute holding each item's expiry (epoch seconds); DynamoDB deletes expired
    items. Default: None (no TTL)."""
    capacity: Optional[Capacity] = None
    """This table's billing and throughput. Default: None (`DynamoTablesArgs.capacity`)."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.name):
            raise ValueError(f"TableSpec.name {self.name!r}: 1..64 of letters, digits, _ . -")
        if len(self.indexes) > 20 or len({i.name for i in self.indexes}) != len(self.indexes):
            raise ValueError(f"TableSpec.indexes (table {self.name}): at most 20, names unique")
        self.attributes()  # one type per attribute name
        if self.ttl_attribute is not None and not 1 <= len(self.ttl_attribute) <= 255:
            raise ValueError(f"TableSpec.ttl_attribute (table {self.name}): 1..255 characters")

    def attributes(self) -> dict[str, str]:
        """Every key attribute of the table and its indexes -> its type (first seen first)."""
        out: dict[str, str] = {}
        keys = [self.partition_key, self.sort_key]
        keys += [k for i in self.indexes for k in (i.partition_key, i.sort_key)]
        for key in keys:
            if key is None:
                continue
            if out.setdefault(key.name, key.type) != key.type:
                raise ValueError(f"TableSpec {self.name}: attribute {key.name} is used as "
                                 f"{out[key.name]} and as {key.type}; one type per attribute")
        return out


def _tables(value: Sequence[TableSpec]) -> Optional[str]:
    names = [t.name for t in value]
    return None if names and len(set(names)) == len(names) else "at least one table, logical names unique"


@args_class
class DynamoTablesArgs:
    """Inputs of `DynamoTables`."""

    tables: Sequence[TableSpec] = knob(check=_tables)
    """The tables (logical names unique). Required."""
    kms_key_arn: pulumi.Input[str] = knob()
    """Customer-managed KMS key for server-side encryption of every table. Required."""
    capacity: Capacity = knob(default_factory=Capacity)
    """Billing and throughput of every table without its own. Default: Capacity() (on-demand)."""
    point_in_time_recovery: bool = knob(default=True, key="forumPointInTimeRecovery")
    """Continuous backups with point-in-time restore (35 days). Default: True."""
    deletion_protection: bool = knob(default=True, key="forumDeletionProtection")
    """DynamoDB deletion protection (False is an explicit opt-out, e.g. dev). Default: True."""
    protect: bool = knob(default=False)
    """pulumi `protect` on every table (the stack's `protect` sets it). Default: False."""
    name_prefix: Optional[str] = None
    """Prefix of the physical table names. Default: None (`<project>-<stack>-<component name>-`)."""
    tags: Mapping[str, str] = knob(default_factory=dict, check=component_tags_problem)
    """Tags on every table: at most 44, keys 1-128 and values up to 256 characters of letters,
    digits, spaces and _ . : / = + - @, no aws: or aurorakit: prefix. Default: {}."""


def default_prefix(component: str) -> str:
    """`<project>-<stack>-<component>-`, reduced to the characters table names allow."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{component}-")


def forum_table_specs() -> tuple[TableSpec, ...]:
    """The forum model's tables (app/forum_schema.py) as specs."""
    def key(pair):
        return Key(*pair) if pair else None
    specs = []
    for table in schema.TABLES:
        pk, sk = schema.KEYS[table]
        indexes = [GlobalIndex(name, key(ipk), key(isk), "INCLUDE" if extra else "KEYS_ONLY", extra)
                   for name, (itable, ipk, isk, extra) in schema.INDEXES.items() if itable == table]
        specs.append(TableSpec(table, key(pk), key(sk), tuple(indexes)))
    return tuple(specs)


@published
class DynamoTables(pulumi.ComponentResource):
    """DynamoDB tables from typed specs (keys, global secondary indexes, TTL), encrypted with the
    given KMS key, with point-in-time recovery and deletion protection; on-demand or provisioned
    capacity with optional auto scaling."""

    table_names: dict[str, pulumi.Output[str]]
    """Logical name -> physical table name (what the app is configured with)."""
    table_arns: dict[str, pulumi.Output[str]]
    """Logical name -> table ARN."""
    index_arns: dict[str, dict[str, pulumi.Output[str]]]
    """Logical table name -> index name -> index ARN (`<table ARN>/index/<name>`)."""
    kms_key_arn: pulumi.Output[str]
    """The key encrypting the tables."""
    kms_via_service: pulumi.Output[str]
    """`dynamodb.<region>.<dns suffix>`: the kms:ViaService value for callers of these tables."""

    def __init__(self, name: str, args: DynamoTablesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        if isinstance(args, Mapping):  # a component provider passes a dict
            args = DynamoTablesArgs(**args)
        super().__init__("aurorakit:index:DynamoTables", name, None, opts)
        prefix = default_prefix(name) if args.name_prefix is None else args.name_prefix
        tags = dict(args.tags)
        ctx = AccountContext(pulumi.InvokeOptions(parent=self))
        self.table_names, self.table_arns, self.index_arns = {}, {}, {}
        for spec in args.tables:
            physical = f"{prefix}{spec.name}"
            if not _NAME.fullmatch(physical):
                raise ValueError(f"DynamoTables {name}: table name {physical!r} must be 3..255 of "
                                 "letters, digits, _ . - (check name_prefix)")
            table = self._table(name, spec, physical, spec.capacity or args.capacity, args, tags)
            # Built from the (input) name, so known at preview like the policies that use it.
            arn = pulumi.Output.all(ctx.partition, ctx.region, ctx.account_id, table.name).apply(
                lambda a: f"arn:{a[0]}:dynamodb:{a[1]}:{a[2]}:table/{a[3]}")
            self.table_names[spec.name] = table.name
            self.table_arns[spec.name] = arn
            self.index_arns[spec.name] = {i.name: _index_path(arn, i.name) for i in spec.indexes}
        self.kms_key_arn = pulumi.Output.from_input(args.kms_key_arn)
        self.kms_via_service = ctx.service_host("dynamodb")
        self.register_outputs({"table_names": self.table_names, "table_arns": self.table_arns,
                               "index_arns": self.index_arns, "kms_key_arn": self.kms_key_arn,
                               "kms_via_service": self.kms_via_service})

    def _table(self, name: str, spec: TableSpec, physical: str, cap: Capacity,
               args: DynamoTablesArgs, tags: dict) -> aws.dynamodb.Table:
        units: dict[str, Any] = {"read_capacity": cap.read, "write_capacity": cap.write} if cap.provisioned else {}
        indexes = [aws.dynamodb.TableGlobalSecondaryIndexArgs(
            name=i.name, projection_type=i.projection,
            key_schemas=[aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=k.name, key_type=kind)
                         for k, kind in ((i.partition_key, "HASH"), (i.sort_key, "RANGE")) if k is not None],
            non_key_attributes=list(i.non_key_attributes) or None, **units) for i in spec.indexes]
        # Auto scaling owns the provisioned units after creation: `up` must not reset them.
        ignore = (["read_capacity", "write_capacity", "globalSecondaryIndexes[*].readCapacity",
                   "globalSecondaryIndexes[*].writeCapacity"] if cap.autoscaling_max else [])
        table = aws.dynamodb.Table(
            f"{name}-{spec.name}", name=physical, billing_mode=cap.mode.value,
            hash_key=spec.partition_key.name, range_key=spec.sort_key.name if spec.sort_key else None,
            attributes=[aws.dynamodb.TableAttributeArgs(name=a, type=t) for a, t in spec.attributes().items()],
            global_secondary_indexes=indexes or None,
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
            if spec.ttl_attribute else aws.dynamodb.TableTtlArgs(enabled=False),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.kms_key_arn),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=args.point_in_time_recovery),
            deletion_protection_enabled=args.deletion_protection,
            tags={**tags, "Name": physical}, **units,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=ignore or None))
        if cap.autoscaling_max:
            resources = [(f"{name}-{spec.name}", "table", table.name.apply(lambda n: f"table/{n}"))]
            resources += [(f"{name}-{spec.name}-{i.name}", "index",
                           _index_path(table.name, i.name, "table/")) for i in spec.indexes]
            for prefix, kind, resource_id in resources:
                self._autoscaling(prefix, kind, resource_id, cap)
        return table

    def _autoscaling(self, prefix: str, kind: str, resource_id: pulumi.Output[str], cap: Capacity) -> None:
        """Target tracking of read and write units of one table or index."""
        child = pulumi.ResourceOptions(parent=self)
        for short, dim in _DIMENSIONS:
            target = aws.appautoscaling.Target(
                f"{prefix}-{short}-target", service_namespace="dynamodb",
                scalable_dimension=f"dynamodb:{kind}:{dim}CapacityUnits", resource_id=resource_id,
                min_capacity=getattr(cap, short), max_capacity=cap.autoscaling_max, opts=child)
            aws.appautoscaling.Policy(
                f"{prefix}-{short}-scaling", policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace, scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=cap.autoscaling_target,
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=f"DynamoDB{dim}CapacityUtilization")),
                opts=child)


def _index_path(table: pulumi.Output[str], index: str, prefix: str = "") -> pulumi.Output[str]:
    """`<prefix><table>/index/<index>`: an index's ARN from its table's, or its scaling resource id."""
    return table.apply(lambda t: f"{prefix}{t}/index/{index}")


def app_access_statements(tables: DynamoTables) -> pulumi.Output[list[dict]]:
    """The app role's statements for the forum model: exactly the actions of
    `app.forum_schema.TABLE_ACTIONS`/`INDEX_ACTIONS` on exactly these tables and index (one
    statement per action set), plus the tables' KMS key only via DynamoDB (DynamoDB uses it on
    the caller's behalf). No wildcard action, no `*` resource."""
    grants: list[tuple[tuple[str, ...], pulumi.Output[str]]] = []
    for table, actions in schema.TABLE_ACTIONS.items():
        if table not in tables.table_arns:
            raise ValueError(f"app_access_statements: DynamoTables has no {table!r} table "
                             f"(has {', '.join(sorted(tables.table_arns))})")
        grants.append((actions, tables.table_arns[table]))
    for index, actions in schema.INDEX_ACTIONS.items():
        table = schema.INDEXES[index][0]
        arn = tables.index_arns.get(table, {}).get(index)
        if arn is None:
            raise ValueError(f"app_access_statements: table {table!r} has no index {index!r}")
        grants.append((actions, arn))

    def build(values: list) -> list[dict]:
        key, via, arns = values[0], values[1], values[2:]
        by_actions: dict[tuple[str, ...], list[str]] = {}
        for (actions, _), arn in zip(grants, arns, strict=True):
            by_actions.setdefault(tuple(sorted(actions)), []).append(arn)
        statements: list[dict[str, Any]] = [
            {"Sid": "DynamoDb" + "".join(a.split(":", 1)[1] for a in actions), "Effect": "Allow",
             "Action": list(actions), "Resource": sorted(resources)}
            for actions, resources in by_actions.items()]
        statements.append({"Sid": "DynamoDbTableKey", "Effect": "Allow", "Action": list(ENCRYPT_ACTIONS),
                           "Resource": [key], "Condition": {"StringEquals": {"kms:ViaService": via}}})
        return statements

    return pulumi.Output.all(tables.kms_key_arn, tables.kms_via_service, *[arn for _, arn in grants]).apply(build)
