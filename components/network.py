"""Network: VPC with public / private (app) / isolated (db) subnet tiers over 2-3 AZs.

The isolated tier's route table has no route at all (no IGW, no NAT). NAT mode is
``none | single | per-az``. The default security group is managed with no rules, VPC flow logs
go to a KMS-encrypted log group, and interface endpoints (ssm, ssmmessages, ec2messages,
secretsmanager, kms, monitoring) are optional so a private host works without NAT. S3 and DynamoDB gateway
endpoints (free) are attached to the private route tables, the S3 one to the public route table
too: hosts fetch their boot artifacts and the Amazon Linux 2023 packages (whose repositories are
S3 buckets) through it, with no NAT, and the artifact bucket accepts reads only through it.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Optional

import pulumi
import pulumi_aws as aws

from .knobs import Rule, args_class, ipv4_cidr, knob, one_of, published
from .policies import ENCRYPT_ACTIONS, AccountContext, assume_role_policy, document, key_policy
from .tags import component_tags_problem

TIERS = ("public", "private", "isolated")
INTERFACE_ENDPOINT_SERVICES = ("ssm", "ssmmessages", "ec2messages", "secretsmanager", "kms", "monitoring")
FLOW_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                           2192, 2557, 2922, 3288, 3653)  # what CloudWatch Logs accepts


class NatMode(StrEnum):
    """Internet egress of the private (app) tier."""

    NONE = "none"
    """No NAT gateway: the private tier has no internet route."""
    SINGLE = "single"
    """One NAT gateway in the first AZ for every private subnet (an AZ outage cuts egress)."""
    PER_AZ = "per-az"
    """One NAT gateway per AZ (no cross-AZ dependency)."""


def _vpc_cidr(value: str) -> Optional[str]:
    problem = ipv4_cidr(value)
    if problem:
        return problem
    net = ipaddress.IPv4Network(value)
    if not 16 <= net.prefixlen <= 24:
        return "prefix length must be between /16 and /24"
    if not net.is_private:
        return "must be a private (RFC 1918) range"
    return None


def azs_problem(value: Sequence[str]) -> Optional[str]:
    """2 or 3 distinct AZ names (a list; a single string is not one)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) \
            or not all(isinstance(a, str) for a in value) or len(set(value)) != len(value) \
            or not 2 <= len(value) <= 3:
        return "must list 2 or 3 distinct AZ names (the DB subnet group needs ≥ 2)"
    return None


def _at_most_28(value: int) -> Optional[str]:
    return None if isinstance(value, int) and value <= 28 else "must be at most 28"


def _fit(cidr: str, prefix: int, az_count: int) -> Optional[str]:
    vpc = ipaddress.IPv4Network(cidr)
    needed, available = 3 * az_count, 2 ** max(prefix - vpc.prefixlen, 0)
    if not vpc.prefixlen < prefix <= 28:
        return f"must be greater than the VPC's /{vpc.prefixlen} and at most 28"
    if needed > available:
        return (f"{needed} subnets (3 tiers x {az_count} AZs) do not fit in {vpc}: only {available} "
                f"/{prefix} blocks; use a longer prefix or a larger VPC CIDR")
    return None


def _subnets_fit(a) -> Optional[str]:
    return _fit(a.cidr_block, a.subnet_prefix_length, len(a.availability_zones))


@args_class
class NetworkArgs:
    """Inputs of `Network`."""

    availability_zones: Sequence[str] = knob(check=azs_problem)
    """2 or 3 AZ names; subnets of every tier are created in each. Required."""
    cidr_block: str = knob(default="10.0.0.0/16", key="vpcCidr", check=_vpc_cidr)
    """IPv4 CIDR of the VPC: a private (RFC 1918) range, /16../24. Default: "10.0.0.0/16"."""
    subnet_prefix_length: int = knob(default=24, key="subnetPrefixLength", check=_at_most_28)
    """Prefix length of every subnet (3 tiers x AZs carved in order from the VPC CIDR), ≤ 28.
    Default: 24."""
    nat_mode: NatMode = knob(default=NatMode.SINGLE, key="natMode")
    """Internet egress of the private tier: none, single (one NAT gateway) or per-az.
    Default: "single"."""
    interface_endpoints: bool = knob(default=False, key="interfaceEndpoints")
    """Interface endpoints for ssm, ssmmessages, ec2messages, secretsmanager, kms and monitoring
    (CloudWatch metrics), so that
    traffic stays in the VPC. Default: False."""
    flow_log_retention_days: int = knob(default=30, key="logRetentionDays", check=one_of(*FLOW_LOG_RETENTION_DAYS))
    """CloudWatch retention in days of the VPC flow logs (the stack setting also sets the
    exported DB logs' retention); a value CloudWatch accepts. Default: 30."""
    protect: bool = knob(default=False)
    """pulumi `protect` on the flow-log KMS key. Default: False."""
    tags: Mapping[str, str] = knob(default_factory=dict, check=component_tags_problem)
    """Tags on every taggable child: at most 44, keys 1-128 and values up to 256 characters of letters,
    digits, spaces and _ . : / = + - @, no aws: or aurorakit: prefix. Default: {}."""

    _rules = (Rule("subnet_prefix_length", _subnets_fit, requires=("cidr_block", "availability_zones")),)


def subnet_cidrs(cidr: str, prefix: int, az_count: int) -> dict[str, list[str]]:
    """Carve tier x AZ subnets from `cidr` in order: public, private, isolated."""
    problem = _fit(cidr, prefix, az_count)
    if problem:
        raise ValueError(f"subnet prefix length {prefix}: {problem}")
    vpc = ipaddress.IPv4Network(cidr)
    blocks = vpc.subnets(new_prefix=prefix)
    return {tier: [str(next(blocks)) for _ in range(az_count)] for tier in TIERS}


@published
class Network(pulumi.ComponentResource):
    """A three-tier VPC over 2 or 3 AZs: public, private (app) and isolated (db) subnets, the
    isolated tier without any route to the internet; NAT none, single or per-az; the default
    security group without rules; flow logs to a KMS-encrypted log group; S3 and DynamoDB
    gateway endpoints (and optional interface endpoints) for the private tier."""

    vpc_id: pulumi.Output[str]
    """The VPC id."""
    vpc_cidr: str
    """The VPC's IPv4 CIDR."""
    availability_zones: list[str]
    """AZs in tier-subnet order."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Public subnet ids (IGW route; ALB, NAT, an opt-in public host)."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private (app) subnet ids (egress via NAT when natMode is not none)."""
    isolated_subnet_ids: list[pulumi.Output[str]]
    """Isolated (db) subnet ids: their route table has no route to the internet."""
    isolated_route_table_id: pulumi.Output[str]
    """The isolated tier's route table (no routes)."""
    nat_gateway_ids: list[pulumi.Output[str]]
    """NAT gateway ids (empty when natMode is none)."""
    flow_log_id: pulumi.Output[str]
    """The VPC flow log id."""
    s3_endpoint_id: pulumi.Output[str]
    """The S3 gateway endpoint (private and public route tables): pass it to
    `AppFleetArgs.s3_endpoint_id`."""
    egress_ready: pulumi.Output[bool]
    """Resolves once every default route and route-table association exists; pass it to
    `AppFleetArgs.egress_ready` so a host's first boot (cloud-init) has its internet path."""
    internet_ready: pulumi.Output[bool]
    """Resolves once the public tier's internet-gateway route and associations exist; pass it to
    `AppFleetArgs.internet_ready` so an internet-facing ALB is created only after them."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        if isinstance(args, Mapping):  # a component provider passes a dict
            args = NetworkArgs(**args)
        super().__init__("aurorakit:index:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        azs = list(args.availability_zones)
        cidrs = subnet_cidrs(args.cidr_block, args.subnet_prefix_length, len(azs))

        def tagged(suffix: str) -> dict:
            return {**tags, "Name": f"{name}-{suffix}"}

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr_block, enable_dns_support=True,
                          enable_dns_hostnames=True, tags=tagged("vpc"), opts=child)
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id,
                                     tags=tagged("default-sg-no-rules"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tagged("igw"), opts=child)

        subnets: dict[str, list[aws.ec2.Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [aws.ec2.Subnet(
                f"{name}-{tier}-{i}", vpc_id=vpc.id, cidr_block=cidrs[tier][i], availability_zone=az,
                map_public_ip_on_launch=(tier == "public"),
                tags={**tagged(f"{tier}-{az}"), "Tier": tier}, opts=child) for i, az in enumerate(azs)]

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, tags=tagged("public-rt"), opts=child)
        routes: list[pulumi.CustomResource] = [aws.ec2.Route(
            f"{name}-public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id, opts=child)]
        routes += self._associate(name, "public", subnets["public"], [public_rt] * len(azs), child)
        internet = list(routes)  # the public tier's internet route and its associations

        nats = []
        nat_count = {NatMode.NONE: 0, NatMode.SINGLE: 1, NatMode.PER_AZ: len(azs)}[args.nat_mode]
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc", tags=tagged(f"nat-eip-{i}"), opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=subnets["public"][i].id,
                connectivity_type="public", tags=tagged(f"nat-{azs[i]}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        private_rts = []
        for i, az in enumerate(azs):
            rt = aws.ec2.RouteTable(f"{name}-private-rt-{i}", vpc_id=vpc.id,
                                    tags=tagged(f"private-rt-{az}"), opts=child)
            if nats:  # the Route waits until its NAT gateway is available
                routes.append(aws.ec2.Route(f"{name}-private-default-{i}", route_table_id=rt.id,
                                            destination_cidr_block="0.0.0.0/0",
                                            nat_gateway_id=nats[i % len(nats)].id, opts=child))
            private_rts.append(rt)
        routes += self._associate(name, "private", subnets["private"], private_rts, child)

        # The isolated (db) tier: its own route table with no route at all.
        isolated_rt = aws.ec2.RouteTable(f"{name}-isolated-rt", vpc_id=vpc.id,
                                         tags=tagged("isolated-rt-no-routes"), opts=child)
        self._associate(name, "isolated", subnets["isolated"], [isolated_rt] * len(azs), child)

        ctx = AccountContext(pulumi.InvokeOptions(parent=self))
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3-gateway", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
            service_name=ctx.endpoint_service("s3"),
            route_table_ids=[rt.id for rt in private_rts] + [public_rt.id], tags=tagged("s3-gateway"), opts=child)
        # DynamoDB is reached the same way (free; no NAT): access is governed by the callers'
        # IAM policies (components/dynamodb.py: app_access_statements), not an endpoint policy.
        aws.ec2.VpcEndpoint(
            f"{name}-dynamodb-gateway", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
            service_name=ctx.endpoint_service("dynamodb"),
            route_table_ids=[rt.id for rt in private_rts], tags=tagged("dynamodb-gateway"), opts=child)
        self.endpoint_security_group_id: Optional[pulumi.Output[str]] = None
        if args.interface_endpoints:
            self.endpoint_security_group_id = self._interface_endpoints(
                name, vpc, args.cidr_block, subnets["private"], ctx, tagged, child)

        flow_log = self._flow_logs(name, vpc, args, ctx, tagged, child)

        self.vpc_id = vpc.id
        self.vpc_cidr = args.cidr_block
        self.availability_zones = azs
        self.public_subnet_ids = [s.id for s in subnets["public"]]
        self.private_subnet_ids = [s.id for s in subnets["private"]]
        self.isolated_subnet_ids = [s.id for s in subnets["isolated"]]
        self.isolated_route_table_id = isolated_rt.id
        self.nat_gateway_ids = [n.id for n in nats]
        self.flow_log_id = flow_log.id
        self.s3_endpoint_id = s3.id
        self.egress_ready = pulumi.Output.all(*[r.id for r in routes]).apply(lambda ids: all(ids))
        self.internet_ready = pulumi.Output.all(*[r.id for r in internet]).apply(lambda ids: all(ids))
        self.register_outputs({
            "vpc_id": self.vpc_id, "vpc_cidr": self.vpc_cidr,
            "availability_zones": self.availability_zones,
            "public_subnet_ids": self.public_subnet_ids, "private_subnet_ids": self.private_subnet_ids,
            "isolated_subnet_ids": self.isolated_subnet_ids,
            "isolated_route_table_id": self.isolated_route_table_id,
            "nat_gateway_ids": self.nat_gateway_ids, "flow_log_id": self.flow_log_id,
            "s3_endpoint_id": self.s3_endpoint_id,
            "egress_ready": self.egress_ready, "internet_ready": self.internet_ready})

    def _associate(self, name, tier, subnets, tables, child) -> list[aws.ec2.RouteTableAssociation]:
        return [aws.ec2.RouteTableAssociation(f"{name}-{tier}-rta-{i}", subnet_id=subnet.id,
                                              route_table_id=table.id, opts=child)
                for i, (subnet, table) in enumerate(zip(subnets, tables, strict=True))]

    def _interface_endpoints(self, name, vpc, cidr, subnets, ctx, tagged, child):
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg", vpc_id=vpc.id,
            description="Interface VPC endpoints: HTTPS from inside the VPC",
            tags=tagged("endpoints-sg"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https", security_group_id=sg.id, cidr_ipv4=cidr, ip_protocol="tcp",
            from_port=443, to_port=443, description="HTTPS to the endpoints from the VPC CIDR", opts=child)
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}-endpoint", vpc_id=vpc.id, vpc_endpoint_type="Interface",
                service_name=ctx.endpoint_service(service),
                private_dns_enabled=True, subnet_ids=[s.id for s in subnets],
                security_group_ids=[sg.id], tags=tagged(f"{service}-endpoint"), opts=child)
        return sg.id

    def _flow_logs(self, name, vpc, args, ctx, tagged, child) -> aws.ec2.FlowLog:
        # An explicit group name makes the role policy's ARNs known at preview (policy-checkable).
        group_name = f"/vpc-flow-logs/{pulumi.get_project()}-{pulumi.get_stack()}-{name}"
        policy = pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region, ctx.service_host("logs")).apply(
            lambda a: key_policy(a[0], a[1], [{
                "Sid": "AllowCloudWatchLogs", "Effect": "Allow",
                "Principal": {"Service": a[3]},
                "Action": ENCRYPT_ACTIONS, "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                          f"arn:{a[1]}:logs:{a[2]}:{a[0]}:log-group:{group_name}"}}}]))
        key = aws.kms.Key(f"{name}-flow-logs-key", description=f"{name}: VPC flow log encryption",
                          enable_key_rotation=True, deletion_window_in_days=30, policy=policy,
                          tags=tagged("flow-logs-key"),
                          opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", name=group_name,
                                        retention_in_days=args.flow_log_retention_days,
                                        kms_key_id=key.arn, tags=tagged("flow-logs"), opts=child)
        role = aws.iam.Role(f"{name}-flow-logs-role",
                            assume_role_policy=ctx.account_id.apply(
                                lambda acct: assume_role_policy("vpc-flow-logs.amazonaws.com", acct)),
                            description="VPC flow logs delivery to CloudWatch Logs",
                            tags=tagged("flow-logs-role"), opts=child)
        groups = pulumi.Output.all(ctx.partition, ctx.region, ctx.account_id).apply(
            lambda a: f"arn:{a[0]}:logs:{a[1]}:{a[2]}:log-group:")
        write = aws.iam.RolePolicy(f"{name}-flow-logs-write", role=role.id, policy=groups.apply(
            lambda prefix: document([{
                "Sid": "WriteThisGroup", "Effect": "Allow",
                "Resource": [f"{prefix}{group_name}", f"{prefix}{group_name}:*"],
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]}, {
                # DescribeLogGroups is a list call: IAM authorizes it on log-group:* only.
                "Sid": "ListGroups", "Effect": "Allow", "Resource": [f"{prefix}*"],
                "Action": ["logs:DescribeLogGroups"]}])), opts=child)
        # The delivery role must hold its permissions before the flow log starts delivering.
        return aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=vpc.id, traffic_type="ALL",
                               log_destination_type="cloud-watch-logs", log_destination=group.arn,
                               iam_role_arn=role.arn, max_aggregation_interval=60,
                               tags=tagged("flow-log"),
                               opts=pulumi.ResourceOptions(parent=self, depends_on=[write]))
