"""AppFleet: the EC2 hosts running the web app, reached via SSM (no SSH by default).

One hardened launch template (Amazon Linux 2023 from the public SSM parameter, resolved at
create and rolled only when asked; IMDSv2 required with hop limit 1; the role may only
`rds-db:connect` as the app user (the app signs IAM tokens; it reads no secret); root volume
encrypted with the CMK; no key pair unless the SSH opt-in; instance profile; cloud-init user data from
`app.cloud_init.render_user_data`: the hosts boot from verified artifacts in the fleet's S3
bucket, components/artifact_store.py) and, by placement:

* private (prod): an Auto Scaling group over the private subnets of every AZ behind an
  internet-facing ALB (components/load_balancer.py): ELB health checks on `/livez` (never the
  database) with a grace period, target tracking on CPU or requests per target, and
  AWS-initiated replacements launched before the old host leaves.
* public (dev's explicit opt-in): one instance from the same template in a public subnet with
  a public IP, reached on the app port from the allowed CIDRs.

Deploys are create-before-delete. The user data pins the boot artifacts by SHA-256 (their S3
keys follow their content), so an app change (or a new lock, or an AMI roll) is a new launch
template version, which REPLACES the Auto Scaling group: the new group is
created first and `pulumi up` waits until its hosts pass the ALB health check
(`wait_for_elb_capacity`), then the old group is scaled in, its hosts drained by the target
group's deregistration delay, and deleted — so `up` does not report success while the old app
still serves, and no request is dropped. (An instance refresh would not do: the provider starts
it and returns at once.) The public instance is replaced the same way (a new public IP).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from .artifact_store import artifact_store
from .cidrs import admin_cidr_problem
from .connections import Connections
from .database_ops import db_user_arn
from .domain import domain_problem, placeholder_problem, zone_id_problem
from .instance_types import instance_type_problem
from .knobs import Rule, args_class, between, each, ipv4_cidr, knob, matches, published
from .load_balancer import fleet_alarms, internet_facing_alb
from .policies import AccountContext, assume_role_policy, document
from .rule_names import cidr_rules
from .tags import component_tags_problem
from .webapp import cloud_init, metric_names, settings

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
HEALTH_CHECK_GRACE = 600   # seconds: first boot installs Python and the app before /livez answers
CAPACITY_TIMEOUT = "20m"   # how long `up` waits for a new group's hosts to become healthy


def template_name(name: str, arm64: bool) -> str:
    """The launch template's logical name, one per architecture: the template keeps the AMI of its
    creation (imageId is ignored), so a change of architecture must create a new template, which
    resolves the AMI of the new architecture. x86_64 keeps the name templates always had; no alias
    links the two, since an alias cannot tell which architecture the stack's template was made for
    (a stack whose hosts are Graviton already gets its template, and its hosts, renewed once)."""
    return f"{name}-template-arm64" if arm64 else f"{name}-template"


def is_graviton(instance_type: str) -> bool:
    """Graviton families (a1, t4g, m7g, c6gn, r8g…) run arm64 and need the arm64 AMI."""
    family = instance_type.split(".")[0]
    return family == "a1" or bool(re.fullmatch(r"[a-z]+\d+g[a-z]*", family))


@published
@dataclass(frozen=True)
class DatabaseEndpoint:
    """What the hosts need to know about the database (no secret values): the app connects as
    `AppFleetArgs.app_db_user` with IAM tokens, through the proxy's endpoints when given."""

    writer_endpoint: pulumi.Input[str]
    """Cluster (writer) endpoint. Required."""
    reader_endpoint: pulumi.Input[str]
    """Reader endpoint. Required."""
    port: int
    """Database port. Required."""
    db_name: str
    """Database name. Required."""
    engine: str
    """aurora-mysql or aurora-postgresql. Required."""
    cluster_resource_id: pulumi.Input[str]
    """Cluster resource id, for the rds-db:connect ARN. Required."""
    proxy_endpoint: Optional[pulumi.Input[str]] = None
    """RDS Proxy read/write endpoint: the app writes through it. Default: None (cluster endpoints)."""
    proxy_read_only_endpoint: Optional[pulumi.Input[str]] = None
    """RDS Proxy READ_ONLY endpoint: the app reads through it (without it, reads use
    `proxy_endpoint` when that is set, else the reader endpoint). Default: None."""
    proxy_resource_id: Optional[pulumi.Input[str]] = None
    """The proxy's resource id (prx-…), for its rds-db:connect ARN; required with `proxy_endpoint`.
    Default: None."""

    def __post_init__(self) -> None:
        if (self.proxy_endpoint is None) != (self.proxy_resource_id is None):
            raise ValueError("DatabaseEndpoint.proxy_endpoint and proxy_resource_id: set both (the app "
                             "uses the proxy) or neither")
        if self.proxy_read_only_endpoint is not None and self.proxy_endpoint is None:
            raise ValueError("DatabaseEndpoint.proxy_read_only_endpoint: needs proxy_endpoint")


class Placement(StrEnum):
    """Where the app runs and how it is reached."""

    PRIVATE = "private"
    """An Auto Scaling group in the private subnets, behind an internet-facing ALB."""
    PUBLIC = "public"
    """One instance in a public subnet with a public IP (explicit opt-in), on the app port."""


class ScalingMetric(StrEnum):
    """What target tracking keeps at `scaling_target`."""

    CPU = "cpu"
    """Average CPU utilization of the group, in percent."""
    REQUESTS = "requests"
    """ALB requests per host per minute (ALBRequestCountPerTarget)."""


FORBIDDEN_APP_PORTS = (22, 3306, 3389, 5432)
SCALING_TARGET_DEFAULTS = {ScalingMetric.CPU: 50.0, ScalingMetric.REQUESTS: 1000.0}
_PUBLIC = (lambda a: a.placement == Placement.PUBLIC,
           "with {placement} public; a private fleet is reached through the ALB")
_PRIVATE = (lambda a: a.placement == Placement.PRIVATE, "with {placement} private (there is no ALB)")
_FLEET = (lambda a: a.placement == Placement.PRIVATE, "with {placement} private (a public host is a single instance)")


def _app_port(v: int) -> Optional[str]:
    return between(1, 65535)(v) or (
        "must not be an admin or database port (22, 3306, 3389, 5432)" if v in FORBIDDEN_APP_PORTS else None)


def _https(a) -> Optional[str]:
    if a.placement == Placement.PRIVATE and not (a.domain_name or a.certificate_arn or a.load_balancer_allow_http):
        return ("HTTPS needs a certificate: set {domain_name} with {hosted_zone_id} (the stack creates and "
                "validates one), or {certificate_arn} (an existing ACM certificate), or set "
                "{load_balancer_allow_http} to true as an explicit opt-in to plain HTTP")
    return None


def _zone(a) -> Optional[str]:
    if a.domain_name and a.hosted_zone_id is None:
        return "needs {hosted_zone_id}: the id of the Route 53 public hosted zone that serves it"
    return None


def _placeholder(field: str):
    def rule(a) -> Optional[str]:
        if not (a.domain_name and a.hosted_zone_id):
            return None
        found = placeholder_problem(a.domain_name, a.hosted_zone_id)
        return found[1] if found and found[0] == field else None
    return rule


def _one_certificate(a) -> Optional[str]:
    if a.domain_name and a.certificate_arn:
        return ("choose one: {domain_name} (the stack creates and validates a certificate) or "
                "{certificate_arn} (an existing one)")
    return None


def _ssh(a) -> Optional[str]:
    if a.key_pair_name and not a.admin_cidr:
        return "required when {key_pair_name} is set (SSH opt-in)"
    if a.admin_cidr and not a.key_pair_name:
        return "only with {key_pair_name} (SSH is off by default)"
    return None


def _load_balancer(a) -> Optional[str]:
    if a.placement == Placement.PRIVATE and a.load_balancer_subnet_ids is None:
        return "required with {placement} private (the ALB's public subnets)"
    if a.placement == Placement.PUBLIC and a.load_balancer_subnet_ids is not None:
        return "a public host is not put behind the ALB; choose one ({placement})"
    return None


def _sizes(a) -> Optional[str]:
    if a.placement != Placement.PRIVATE:
        return None
    if a.desired_size is not None and not a.min_size <= a.desired_size <= a.max_size:
        return f"must be between {{min_size}} ({a.min_size}) and {{max_size}} ({a.max_size})"
    return None


def _min_max(a) -> Optional[str]:
    if a.placement == Placement.PRIVATE and a.min_size > a.max_size:
        return f"must not exceed {{max_size}} ({a.max_size})"
    return None


def _scaling_target(a) -> Optional[str]:
    if a.scaling_target is None:
        return None
    low, high = (10, 90) if a.scaling_metric == ScalingMetric.CPU else (1, 100_000)
    return between(low, high)(a.scaling_target) and \
        f"must be between {low} and {high} for {{scaling_metric}} {a.scaling_metric}"


@args_class
class AppFleetArgs:
    """Inputs of `AppFleet`. A change to the rendered user data (app code, endpoints, port) or
    to the AMI rolls the hosts, create-before-delete (see the module docstring)."""

    vpc_id: pulumi.Input[str]
    """VPC of the hosts (and the ALB). Required."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets of the hosts: the private subnets of every AZ (placement private), or public
    subnets (placement public: the instance goes in the first). Required."""
    database: DatabaseEndpoint
    """Endpoints and resource ids of the database (and its proxy). Required."""
    kms_key_arn: pulumi.Input[str]
    """CMK for the root volumes. Required."""
    egress_ready: Optional[pulumi.Input[bool]] = None
    """`Network.egress_ready`: hosts launch only after their subnets' routes exist (cloud-init
    installs packages on first boot). Default: None (no wait)."""
    internet_ready: Optional[pulumi.Input[bool]] = None
    """`Network.internet_ready`: the ALB is created only after the public tier's internet route
    (AWS rejects an internet-facing load balancer in a VPC without an internet gateway).
    Default: None (no wait)."""
    alarm_topic_arn: Optional[pulumi.Input[str]] = None
    """SNS topic for the tier's alarms (unhealthy hosts, 5xx answers). Default: None (alarms
    without actions)."""
    forum_tables: Optional[pulumi.Input[Mapping[str, pulumi.Input[str]]]] = None
    """The forum's DynamoDB tables, logical name (Forum, Thread, Comment) -> physical name
    (`DynamoTables.table_names`): the app serves the forum API with them. Default: None (off)."""
    extra_statements: Optional[pulumi.Input[Sequence[Mapping[str, Any]]]] = None
    """More IAM statements for the hosts' role, e.g. `dynamodb.app_access_statements(tables)`
    (exactly the app's DynamoDB calls). Default: None."""
    s3_endpoint_id: Optional[pulumi.Input[str]] = None
    """`Network.s3_endpoint_id`: the VPC's S3 gateway endpoint (on the hosts' route tables). The
    boot artifacts may then be read only through it (or by the principal running `pulumi up`),
    and hosts launch once it exists. Default: None (no endpoint condition on the bucket)."""
    placement: Placement = knob(default=Placement.PRIVATE, key="hostPlacement")
    """private (an Auto Scaling group behind an ALB) or public (one instance in a public subnet
    with a public IP: explicit opt-in). Default: "private"."""
    min_size: int = knob(default=2, key="hostMinCount", check=between(1, 100), only=_FLEET)
    """Fewest hosts in the Auto Scaling group; ≥ 2 keeps serving through the loss of a host or
    an AZ. Default: 2."""
    desired_size: Optional[int] = knob(default=None, key="hostDesiredCount", check=between(1, 100), only=_FLEET)
    """Hosts the group is set to on every `up` (and a deploy's new group starts with), between min
    and max; None leaves the size to target tracking and a new group starts at min_size (CDK's
    advice: a fixed desired capacity undoes scaling on each deploy). Default: None."""
    max_size: int = knob(default=4, key="hostMaxCount", check=between(1, 100), only=_FLEET)
    """Most hosts target tracking may run. Default: 4."""
    scaling_metric: ScalingMetric = knob(default=ScalingMetric.CPU, key="hostScalingMetric", only=_FLEET)
    """Target tracking on cpu (average %) or requests (ALB requests per host per minute).
    Default: "cpu"."""
    scaling_target: Optional[float] = knob(default=None, key="hostScalingTarget", only=_FLEET)
    """Target value of the scaling metric: 10..90 (cpu %) or 1..100000 (requests). Default: None
    (50 for cpu, 1000 for requests)."""
    ingress_cidrs: Sequence[str] = knob(default=(), key="hostIngressCidrs", check=each(ipv4_cidr, "IPv4 CIDRs"),
                                        only=_PUBLIC)
    """CIDRs allowed to the app port of a public host. Default: () (none)."""
    load_balancer_subnet_ids: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None
    """Public subnets of the internet-facing ALB in front of a private fleet. Default: None
    (required with placement private)."""
    load_balancer_ingress_cidrs: Sequence[str] = knob(default=("0.0.0.0/0",), key="albIngressCidrs",
                                                      check=each(ipv4_cidr, "IPv4 CIDRs"), only=_PRIVATE)
    """CIDRs allowed to the ALB listeners (private placement). Default: ("0.0.0.0/0",)."""
    load_balancer_deletion_protection: bool = knob(default=False)
    """AWS deletion protection on the ALB (the stack's `protect` sets it). Default: False."""
    load_balancer_access_logs_bucket: Optional[str] = knob(
        default=None, key="albAccessLogsBucket", only=_PRIVATE, check=matches(
            r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "must be an S3 bucket name (3-63 lowercase letters, digits, . -)"))
    """S3 bucket for ALB access logs under the prefix `<name>-alb` (its policy must let ELB log
    delivery write; SSE-S3, not KMS). Default: None (no access logs)."""
    domain_name: Optional[str] = knob(default=None, key="appDomainName", check=domain_problem, only=(
        lambda a: a.placement == Placement.PRIVATE, "with {placement} private (the ALB terminates TLS)"))
    """The app's host name, e.g. app.example.org: the stack requests an ACM certificate for it,
    validates it through DNS in hosted_zone_id, serves HTTPS with it on the ALB (TLS 1.2+, HTTP
    redirected) and points the name at the ALB; the app's URL is then https://<name>. Default:
    None."""
    hosted_zone_id: Optional[str] = knob(default=None, key="appHostedZoneId", check=zone_id_problem, only=(
        lambda a: a.domain_name is not None, "with {domain_name}"))
    """Id of the Route 53 public hosted zone that serves domain_name (its validation and alias
    records go there). Default: None."""
    certificate_arn: Optional[str] = knob(default=None, key="albCertificateArn", check=matches(
        r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}", "must be an ACM certificate ARN"),
        only=(lambda a: a.placement == Placement.PRIVATE, "with {placement} private (the ALB terminates TLS)"))
    """An existing ACM certificate ARN in the stack's region, instead of domain_name: HTTPS
    listener + HTTP→HTTPS redirect on the ALB, whose DNS name is then the app's URL. Default:
    None."""
    load_balancer_allow_http: bool = knob(default=False, key="albAllowHttp", only=(
        lambda a: a.placement == Placement.PRIVATE and not a.certificate_arn and not a.domain_name,
        "with {placement} private without {domain_name} or {certificate_arn} (the opt-in to plain HTTP)"))
    """Explicit opt-in: the ALB serves plain HTTP because there is no certificate yet.
    Default: False."""
    instance_type: str = knob(default="t3.micro", key="hostInstanceType", check=instance_type_problem)
    """EC2 instance type, e.g. t3.micro or t4g.small (Graviton types get the arm64 AMI).
    Default: "t3.micro"."""
    ami_id: Optional[str] = knob(default=None, key="hostAmiId", check=matches(
        r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "must be an AMI id like ami-0123456789abcdef0"))
    """AMI override (setting or changing it rolls the hosts); when absent, the latest Amazon Linux
    2023 from the public SSM parameter when the launch template is created (per architecture):
    later releases never roll the hosts by surprise, `up` warns naming a newer one, and setting
    this to it rolls them. Default: None."""
    root_volume_gb: int = knob(default=16, key="hostRootVolumeGb", check=between(8, 1024))
    """Root volume size in GiB, 8..1024 (gp3, encrypted with the CMK). Default: 16."""
    app_port: int = knob(default=80, key="appPort", check=_app_port)
    """Port the app serves HTTP on, 1..65535 (not 22/3306/3389/5432). Default: 80."""
    app_db_user: str = "app"
    """The database user the app connects as with IAM tokens (rds-db:connect). Default: "app"."""
    key_pair_name: Optional[str] = knob(default=None, key="hostKeyPairName")
    """EC2 key pair: the SSH opt-in (needs admin_cidr). Default: None."""
    admin_cidr: Optional[str] = knob(default=None, key="hostAdminCidr", check=admin_cidr_problem)
    """CIDR allowed to port 22 when a key pair is set: at most a /24 of public addresses (private
    ranges of any size). Default: None."""
    tags: Mapping[str, str] = knob(default_factory=dict, check=component_tags_problem)
    """Tags on every taggable child: at most 44, keys 1-128 and values up to 256 characters of letters,
    digits, spaces and _ . : / = + - @, no aws: or aurorakit: prefix. Default: {}."""

    _rules = (Rule("load_balancer_subnet_ids", _load_balancer, requires=("placement",)),
              Rule("domain_name", _https, requires=("placement", "certificate_arn", "load_balancer_allow_http")),
              Rule("domain_name", _zone, requires=("hosted_zone_id",)),
              Rule("domain_name", _placeholder("domain_name"), requires=("hosted_zone_id",)),
              Rule("hosted_zone_id", _placeholder("hosted_zone_id"), requires=("domain_name",)),
              Rule("certificate_arn", _one_certificate, requires=("domain_name",)),
              Rule("admin_cidr", _ssh, requires=("key_pair_name",)),
              Rule("desired_size", _sizes, requires=("placement", "min_size", "max_size")),
              Rule("min_size", _min_max, requires=("placement", "max_size")),
              Rule("scaling_target", _scaling_target, requires=("scaling_metric",)))

    @property
    def arm64(self) -> bool:
        return is_graviton(self.instance_type)

    @property
    def arch(self) -> str:
        """The hosts' architecture as the lock names it."""
        return "aarch64" if self.arm64 else "x86_64"


@published
class AppFleet(pulumi.ComponentResource):
    """The app's EC2 hosts from one hardened launch template (IMDSv2, encrypted root volume, no
    SSH by default, an IAM role that may only connect to the database as the app user): an Auto
    Scaling group in the private subnets behind an internet-facing ALB, or one public instance
    (explicit opt-in); new app versions roll create-before-delete."""

    url: pulumi.Output[str]
    """URL of the app (the ALB's DNS name, or the public host's)."""
    security_group_id: pulumi.Output[str]
    """The hosts' security group (with `port`: a SecurityGroupLink's source, or the ALB's target)."""
    port: int
    """The port the hosts serve the app on (`AppFleetArgs.app_port`)."""
    load_balancer_security_group_id: Optional[pulumi.Output[str]]
    """The ALB's security group (placement private)."""
    role_arn: pulumi.Output[str]
    """The hosts' IAM role."""
    launch_template_id: pulumi.Output[str]
    """The hosts' launch template."""
    artifact_bucket: pulumi.Output[str]
    """The S3 bucket of the hosts' boot artifacts."""
    auto_scaling_group_name: Optional[pulumi.Output[str]]
    """The Auto Scaling group (placement private)."""
    instance_id: Optional[pulumi.Output[str]]
    """The single instance (placement public)."""
    ssm_session_command: pulumi.Output[str]
    """A command that opens a shell on a host with `aws ssm start-session`."""

    def __init__(self, name: str, args: AppFleetArgs, opts: Optional[pulumi.ResourceOptions] = None):
        if isinstance(args, Mapping):  # a component provider passes a dict
            args = AppFleetArgs(**args)
        # Renamed from AppHost: the alias keeps the URNs of the children both have (role, SG, ALB…).
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            aliases=[pulumi.Alias(type_="aurorakit:index:AppHost")]))
        super().__init__("aurorakit:index:AppFleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        ctx = AccountContext(pulumi.InvokeOptions(parent=self))
        public = args.placement == Placement.PUBLIC

        role, profile, permissions = self._role(name, args, ctx, tags, child)
        store = artifact_store(name, arch=args.arch, kms_key_arn=args.kms_key_arn, role=role,
                               endpoint_id=args.s3_endpoint_id, ctx=ctx, tags=tags, parent=self)
        permissions = [*permissions, *store.ready]  # a host boots once it can fetch its artifacts
        sg = self._security_group(name, args, tags, child)
        self._connections = Connections([sg.id], args.app_port, label=f"{name} host")
        template = self._launch_template(name, args, ctx, profile, sg, tags, store)

        self._load_balancer_connections: Optional[Connections] = None
        self.load_balancer_security_group_id = None
        self.auto_scaling_group_name = self.instance_id = None
        if public:
            instance = aws.ec2.Instance(
                f"{name}-instance",
                launch_template=aws.ec2.InstanceLaunchTemplateArgs(
                    id=template.id, version=template.latest_version.apply(str)),
                subnet_id=pulumi.Output.all(args.subnet_ids, args.egress_ready).apply(lambda a: a[0][0]),
                tags={**tags, "Name": f"{name}-instance"},
                # A new template version (app or AMI change) replaces the instance (provider
                # ForceNew), create-before-delete; the role's permissions exist before first boot.
                opts=pulumi.ResourceOptions(parent=self, depends_on=permissions))
            self.instance_id = instance.id
            self.url = instance.public_dns.apply(
                lambda d: f"http://{d}" + ("" if args.app_port == 80 else f":{args.app_port}") if d else "")
            target = instance.id
        else:
            lb = internet_facing_alb(name, args, self._connections, tags, self)
            self._load_balancer_connections = lb.connections
            self.load_balancer_security_group_id = lb.security_group_id
            group = self._auto_scaling_group(name, args, template, lb, permissions, tags)
            self._scaling_policy(name, args, group, lb)
            fleet_alarms(name, lb, args.alarm_topic_arn, tags, self)
            self.auto_scaling_group_name = group.name
            self.url = lb.url
            target = group.name.apply(lambda g: (
                f"$(aws ec2 describe-instances --filters Name=tag:aws:autoscaling:groupName,Values={g} "
                "Name=instance-state-name,Values=running --query 'Reservations[0].Instances[0].InstanceId' "
                "--output text"))
        self._writability_alarm(name, args, tags)

        self.security_group_id = sg.id
        self.port = args.app_port
        self.role_arn = role.arn
        self.launch_template_id = template.id
        self.artifact_bucket = store.bucket.bucket
        self.ssm_session_command = pulumi.Output.all(target, ctx.region).apply(
            lambda a: f"aws ssm start-session --region {a[1]} --target {a[0]}")
        self.register_outputs({
            "url": self.url, "security_group_id": self.security_group_id, "port": self.port,
            "load_balancer_security_group_id": self.load_balancer_security_group_id, "role_arn": self.role_arn,
            "launch_template_id": self.launch_template_id, "artifact_bucket": self.artifact_bucket,
            "auto_scaling_group_name": self.auto_scaling_group_name, "instance_id": self.instance_id,
            "ssm_session_command": self.ssm_session_command})

    # Python-only handles (not schema outputs: other languages use the security group ids + port).
    @property
    def connections(self) -> Connections:
        """The hosts' SG + app port, for SecurityGroupLink."""
        return self._connections

    @property
    def load_balancer_connections(self) -> Optional[Connections]:
        """The ALB's SG + listener port (placement private)."""
        return self._load_balancer_connections

    def _writability_alarm(self, name, args, tags) -> None:
        """The writer the app is configured with must accept writes: every host publishes it each
        minute (app/health.py); missing data (no host publishing) counts as breaching."""
        db = args.database
        writer = db.writer_endpoint if db.proxy_endpoint is None else db.proxy_endpoint
        actions = [args.alarm_topic_arn] if args.alarm_topic_arn is not None else []
        aws.cloudwatch.MetricAlarm(
            f"{name}-db-writable-alarm", namespace=metric_names.NAMESPACE,
            metric_name=metric_names.WRITER_WRITABLE, dimensions={metric_names.DIMENSION: writer},
            comparison_operator="LessThanThreshold", threshold=1, statistic="Minimum", period=60,
            evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="breaching",
            alarm_description=f"{name}: a host found the database writer unreachable or read-only "
                              "for 3 minutes (or no host reports)",
            alarm_actions=actions, ok_actions=actions, tags=tags, opts=pulumi.ResourceOptions(parent=self))

    def _role(self, name, args, ctx, tags, child):
        db = args.database
        # No aws:SourceAccount condition: EC2 does not send it when it assumes an instance-profile
        # role, so the instance would get no credentials (iam:PassRole already gates the role).
        role = aws.iam.Role(f"{name}-role", description=f"{name}: app hosts (SSM, IAM DB auth)",
                            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                            tags=tags, opts=child)
        ssm_core = aws.iam.RolePolicyAttachment(f"{name}-ssm-core", role=role.name, policy_arn=ctx.partition.apply(
            lambda p: f"arn:{p}:iam::aws:policy/AmazonSSMManagedInstanceCore"), opts=child)
        # No secret: the app signs IAM tokens; only RDS and the bootstrap read the master secret.
        # The cluster and the proxy are granted in separate policies, each naming its one resource.
        db_access = aws.iam.RolePolicy(f"{name}-db-access", role=role.id, policy=pulumi.Output.all(
            ctx.partition, ctx.region, ctx.account_id, db.cluster_resource_id
        ).apply(lambda a: document([
                {"Sid": "IamDbAuthAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                 "Resource": [db_user_arn(a[0], a[1], a[2], a[3], args.app_db_user)]},
                # PutMetricData has no resource-level permissions (AWS: Resource "*"); the
                # condition keeps it to the app's own namespace (app/metric_names.py).
                {"Sid": "PublishTheAppsDbHealthMetrics", "Effect": "Allow",
                 "Action": ["cloudwatch:PutMetricData"], "Resource": ["*"],
                 "Condition": {"StringEquals": {"cloudwatch:namespace": metric_names.NAMESPACE}}}])),
            opts=child)
        permissions = [ssm_core, db_access]
        if db.proxy_resource_id is not None:
            permissions.append(aws.iam.RolePolicy(f"{name}-proxy-access", role=role.id, policy=pulumi.Output.all(
                ctx.partition, ctx.region, ctx.account_id, db.proxy_resource_id).apply(lambda a: document([
                    {"Sid": "IamDbAuthToTheProxyAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                     "Resource": [db_user_arn(a[0], a[1], a[2], a[3], args.app_db_user)]}])), opts=child))
        if args.extra_statements is not None:
            permissions.append(aws.iam.RolePolicy(
                f"{name}-extra-access", role=role.id,
                policy=pulumi.Output.from_input(args.extra_statements).apply(lambda st: document(list(st))),
                opts=child))
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)
        return role, profile, permissions

    def _security_group(self, name, args, tags, child) -> aws.ec2.SecurityGroup:
        sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                   description=f"{name}: app hosts (rules are standalone resources)",
                                   tags={**tags, "Name": f"{name}-sg"}, opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-https", security_group_id=sg.id, cidr_ipv4="0.0.0.0/0", ip_protocol="tcp",
            from_port=443, to_port=443, description="HTTPS: S3 (boot artifacts, dnf), SSM, DynamoDB",
            opts=child)
        public = args.placement == Placement.PUBLIC
        for rule, cidr, alias in cidr_rules(f"{name}-app-ingress", args.ingress_cidrs if public else ()):
            aws.vpc.SecurityGroupIngressRule(
                rule, security_group_id=sg.id, cidr_ipv4=cidr, ip_protocol="tcp",
                from_port=args.app_port, to_port=args.app_port,
                description=f"app tcp/{args.app_port} from {cidr} (public host opt-in)",
                opts=pulumi.ResourceOptions.merge(child, alias))
        if args.key_pair_name:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-ssh-admin", security_group_id=sg.id, cidr_ipv4=args.admin_cidr, ip_protocol="tcp",
                from_port=22, to_port=22, description="SSH from the admin CIDR (opt-in)", opts=child)
        return sg

    def _launch_template(self, name, args, ctx, profile, sg, tags, store) -> aws.ec2.LaunchTemplate:
        db = args.database
        arch = "arm64" if args.arm64 else "x86_64"
        # insecure_value: a public AMI id is no secret (`value` would show as [secret] in every preview).
        ami = args.ami_id or aws.ssm.get_parameter_output(
            name=AL2023_PARAMETER.format(arch=arch), with_decryption=False,
            opts=pulumi.InvokeOptions(parent=self)).insecure_value
        # gzip-compressed (cloud-init detects it) and base64-encoded, within EC2's 16 KB limit.
        writer = db.writer_endpoint if db.proxy_endpoint is None else db.proxy_endpoint
        reader = (db.reader_endpoint if db.proxy_endpoint is None
                  else db.proxy_read_only_endpoint or db.proxy_endpoint)
        user_data = pulumi.Output.all(ctx.region, writer, reader, args.forum_tables, store.bucket.bucket).apply(
            lambda a: cloud_init.encode_user_data(cloud_init.render_user_data(
                region=a[0], db_user=args.app_db_user, writer_endpoint=a[1], reader_endpoint=a[2],
                port=db.port, db_name=db.db_name, engine=db.engine, app_port=args.app_port,
                forum_tables=settings.ForumTables(**{k.lower(): v for k, v in a[3].items()}) if a[3] else None,
                bucket=a[4], artifacts=store.artifacts)))
        public = args.placement == Placement.PUBLIC
        template = aws.ec2.LaunchTemplate(
            template_name(name, args.arm64), description=f"{name}: app hosts", image_id=ami,
            instance_type=args.instance_type, key_name=args.key_pair_name,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda", ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true", kms_key_id=args.kms_key_arn, volume_type="gp3",
                    volume_size=args.root_volume_gb, delete_on_termination="true"))],
            # Fleet hosts: one interface that never asks for a public IP. The public (dev) host
            # takes its public IP from its public subnet (auto-assign): EC2 refuses a launch
            # template's network interfaces together with the instance's own subnet
            # ("InvalidParameterCombination"), so there the groups are set without an interface.
            network_interfaces=None if public else [aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                device_index=0, associate_public_ip_address="false", security_groups=[sg.id],
                delete_on_termination="true")],
            vpc_security_group_ids=[sg.id] if public else None,
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=user_data, update_default_version=True,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={**tags, "Name": f"{name}-{suffix}"})
                for kind, suffix in (("instance", "host"), ("volume", "root"))],
            tags=tags,
            # The SSM parameter is republished every few weeks: a new AMI must not roll the hosts
            # on the next `up` (the template keeps the AMI it was created with, and `up` says when
            # a newer one exists); set hostAmiId to roll. (`pulumi up --replace` would not: the
            # engine fills an ignored property from the state, on a replacement too.)
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if args.ami_id else ["imageId"]))
        if not args.ami_id:
            pulumi.Output.all(template.image_id, ami).apply(lambda a: self._note_newer_ami(name, arch, a[0], a[1]))
        return template

    def _note_newer_ami(self, name: str, arch: str, kept: Optional[str], latest: Optional[str]) -> None:
        """The template keeps the AMI of its creation (ignored imageId): say when a newer one exists."""
        if kept and latest and kept != latest:
            pulumi.log.warn(
                f"{name}: the hosts keep {kept}; the latest Amazon Linux 2023 ({arch}) is {latest}. To roll them "
                f"to it (create-before-delete), set aurorakit:hostAmiId: {latest} (AppFleetArgs.ami_id)",
                resource=self)

    def _auto_scaling_group(self, name, args, template, lb, permissions, tags) -> aws.autoscaling.Group:
        subnets = pulumi.Output.all(args.subnet_ids, args.egress_ready).apply(lambda a: a[0])
        return aws.autoscaling.Group(
            f"{name}-fleet", vpc_zone_identifiers=subnets,
            # No desired capacity unless the stack sets one: a new group (each deploy) starts at the
            # minimum and target tracking owns the size. A configured one is applied on every `up`
            # (ignore_changes would instead hand every replacement the FIRST value from the state,
            # below a raised minimum: CreateAutoScalingGroup refuses it).
            min_size=args.min_size, max_size=args.max_size, desired_capacity=args.desired_size,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)),
            target_group_arns=[lb.target_group.arn], health_check_type="ELB",
            health_check_grace_period=HEALTH_CHECK_GRACE, default_instance_warmup=300,
            # `up` waits until the new group's hosts pass the ALB health check: at creation only
            # and "at least" (min_elb_capacity), so a size change in place never waits for an exact
            # count that target tracking has moved (wait_for_elb_capacity would, on every update).
            min_elb_capacity=args.desired_size or args.min_size, wait_for_capacity_timeout=CAPACITY_TIMEOUT,
            # AWS's own replacements (health, AZ rebalancing) launch before they terminate.
            instance_maintenance_policy=aws.autoscaling.GroupInstanceMaintenancePolicyArgs(
                min_healthy_percentage=100, max_healthy_percentage=200),
            termination_policies=["OldestLaunchTemplate", "OldestInstance"],
            enabled_metrics=[aws.autoscaling.Metric(m) for m in (
                "GroupInServiceInstances", "GroupDesiredCapacity", "GroupMinSize",
                "GroupMaxSize", "GroupPendingInstances", "GroupTerminatingInstances")],
            tags=[aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False)
                  for k, v in sorted({**tags, "Name": f"{name}-fleet"}.items())],
            opts=pulumi.ResourceOptions(
                # After the forwarding listener: its targets count as healthy only once it exists
                # (on a first `up` the HTTPS listener waits for the certificate's validation).
                parent=self, depends_on=[*permissions, lb.listener],
                # A new launch template version = a new group, created before the old one goes.
                replace_on_changes=["launchTemplate"]))

    def _scaling_policy(self, name, args, group, lb) -> None:
        target = args.scaling_target or SCALING_TARGET_DEFAULTS[args.scaling_metric]
        if args.scaling_metric == ScalingMetric.CPU:
            metric = aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ASGAverageCPUUtilization")
        else:
            metric = aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ALBRequestCountPerTarget",
                resource_label=pulumi.Output.all(lb.load_balancer.arn_suffix, lb.target_group.arn_suffix).apply(
                    lambda a: f"{a[0]}/{a[1]}"))
        aws.autoscaling.Policy(
            f"{name}-scaling", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
            estimated_instance_warmup=300,
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                target_value=target, predefined_metric_specification=metric),
            opts=pulumi.ResourceOptions(parent=self))
