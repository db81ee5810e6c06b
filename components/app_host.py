"""AppHost: the EC2 host running the web app, reached via SSM (no SSH by default).

IAM role + instance profile (SSM core; rds-db:connect as the app user on this cluster and its
proxy, no database secret: the app signs IAM tokens), its own SG with explicit egress rules
only, Amazon Linux 2023 with IMDSv2 required, an encrypted root volume (CMK) and cloud-init user data from
`app.cloud_init.render_user_data`. Exposure: a public host with a public IP (explicit opt-in,
ingress to the app port from given CIDRs) or a private host behind an ALB in the public tier
(HTTPS when a certificate ARN is given, HTTP redirected to HTTPS).

Deploying the app REPLACES the host: the app ships in the user data, and any change to it (app
code, endpoints, port) replaces the instance (`user_data_replace_on_change`), create-before-
delete. Deliberate: updating user data in place would stop/start the same instance and
cloud-init (once per instance) would not re-run, so the old app would keep running while
`pulumi up` reported success. Cost: the host is immutable and stateless, so a replacement
loses nothing but time: behind the ALB the old host serves until it is deleted at the end of
the update and the new one serves once cloud-init has installed the app (a few minutes; a
short gap is possible); a public host also gets a new public IP (the `app_url` output changes).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Optional

import pulumi
import pulumi_aws as aws

from app.cloud_init import render_user_data

from .connections import Connections, SecurityGroupLink
from .database_ops import db_user_arn
from .knobs import Rule, args_class, between, each, ipv4_cidr, knob, matches
from .policies import AccountContext, assume_role_policy, document

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class DatabaseEndpoint:
    """What the host needs to know about the database (no secret values): the app connects as
    `AppHostArgs.app_db_user` with IAM tokens, through the proxy's endpoints when given."""

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


def is_graviton(instance_type: str) -> bool:
    """Graviton families (a1, t4g, m7g, c6gn, r8g…) run arm64 and need the arm64 AMI."""
    family = instance_type.split(".")[0]
    return family == "a1" or bool(re.fullmatch(r"[a-z]+\d+g[a-z]*", family))


class Placement(StrEnum):
    """Where the app host runs and how it is reached."""

    PRIVATE = "private"
    """A private subnet, behind an internet-facing ALB in the public subnets."""
    PUBLIC = "public"
    """A public subnet with a public IP (explicit opt-in), reached on the app port."""


FORBIDDEN_APP_PORTS = (22, 3306, 3389, 5432)
_PUBLIC = (lambda a: a.placement == Placement.PUBLIC, "with {placement} public; a private host is reached through the ALB")
_PRIVATE = (lambda a: a.placement == Placement.PRIVATE, "with {placement} private (there is no ALB)")


def _cidrs(world_ok: bool):
    def check(v) -> Optional[str]:
        text = each(ipv4_cidr, "IPv4 CIDRs")(v)
        if text is None and not world_ok and any(ipaddress.IPv4Network(c).prefixlen == 0 for c in v):
            return "0.0.0.0/0 is not allowed here; list specific CIDRs"
        return text
    return check


def _app_port(v: int) -> Optional[str]:
    return between(1, 65535)(v) or (
        "must not be an admin or database port (22, 3306, 3389, 5432)" if v in FORBIDDEN_APP_PORTS else None)


def _https(a) -> Optional[str]:
    if a.placement == Placement.PRIVATE and not a.certificate_arn and not a.load_balancer_allow_http:
        return ("HTTPS needs an ACM certificate: set {certificate_arn}, or set {load_balancer_allow_http} "
                "to true as an explicit opt-in to plain HTTP")
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


@args_class
class AppHostArgs:
    """Inputs of `AppHost`. Any change to the rendered user data (app code, endpoints, port)
    replaces the instance, create-before-delete (see the module docstring for why)."""

    vpc_id: pulumi.Input[str]
    """VPC of the host (and ALB). Required."""
    subnet_id: pulumi.Input[str]
    """Subnet of the host: a private subnet, or a public one with placement public. Required."""
    database: DatabaseEndpoint
    """Endpoints and resource ids of the database (and its proxy). Required."""
    kms_key_arn: pulumi.Input[str]
    """CMK for the root volume. Required."""
    egress_ready: Optional[pulumi.Input[bool]] = None
    """`Network.egress_ready`: the instance launches only after the subnet's route exists
    (cloud-init installs packages on first boot). Default: None (no wait)."""
    placement: Placement = knob(Placement.PRIVATE, key="hostPlacement")
    """private (behind an ALB) or public (public subnet + public IP: explicit opt-in).
    Default: "private"."""
    ingress_cidrs: Sequence[str] = knob((), key="hostIngressCidrs", check=_cidrs(world_ok=True), only=_PUBLIC)
    """CIDRs allowed to the app port of a public host. Default: () (none)."""
    load_balancer_subnet_ids: Optional[pulumi.Input[Sequence[str]]] = None
    """Public subnets of the internet-facing ALB in front of a private host. Default: None
    (required with placement private)."""
    load_balancer_ingress_cidrs: Sequence[str] = knob(("0.0.0.0/0",), key="albIngressCidrs",
                                                      check=_cidrs(world_ok=True), only=_PRIVATE)
    """CIDRs allowed to the ALB listeners (private placement). Default: ("0.0.0.0/0",)."""
    load_balancer_deletion_protection: bool = knob(False)
    """AWS deletion protection on the ALB (the stack's `protect` sets it). Default: False."""
    load_balancer_access_logs_bucket: Optional[str] = knob(None, key="albAccessLogsBucket", only=_PRIVATE, check=matches(
        r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "must be an S3 bucket name (3-63 lowercase letters, digits, . -)"))
    """S3 bucket for ALB access logs under the prefix `<name>-alb` (its policy must let ELB log
    delivery write; SSE-S3, not KMS). Default: None (no access logs)."""
    certificate_arn: Optional[str] = knob(None, key="albCertificateArn", check=matches(
        r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}", "must be an ACM certificate ARN"),
        only=(lambda a: a.placement == Placement.PRIVATE, "with {placement} private (the ALB terminates TLS)"))
    """ACM certificate ARN: HTTPS listener + HTTP→HTTPS redirect on the ALB. Default: None."""
    load_balancer_allow_http: bool = knob(False, key="albAllowHttp", only=(
        lambda a: a.placement == Placement.PRIVATE and not a.certificate_arn,
        "with {placement} private without {certificate_arn} (the opt-in to plain HTTP)"))
    """Explicit opt-in: the ALB serves plain HTTP because there is no certificate yet.
    Default: False."""
    instance_type: str = knob("t3.micro", key="hostInstanceType", check=matches(
        r"[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|metal|\d*xlarge)",
        "must be an EC2 instance type like t3.micro or m7g.large"))
    """EC2 instance type, e.g. t3.micro or t4g.small (Graviton types get the arm64 AMI).
    Default: "t3.micro"."""
    ami_id: Optional[str] = knob(None, key="hostAmiId", check=matches(
        r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "must be an AMI id like ami-0123456789abcdef0"))
    """AMI override; when absent, the latest Amazon Linux 2023 from the public SSM parameter at
    create time (later releases are ignored so they never replace the running host).
    Default: None."""
    root_volume_gb: int = knob(16, key="hostRootVolumeGb", check=between(8, 1024))
    """Root volume size in GiB, 8..1024 (gp3, encrypted with the CMK). Default: 16."""
    app_port: int = knob(80, key="appPort", check=_app_port)
    """Port the app serves HTTP on, 1..65535 (not 22/3306/3389/5432). Default: 80."""
    app_db_user: str = "app"
    """The database user the app connects as with IAM tokens (rds-db:connect). Default: "app"."""
    key_pair_name: Optional[str] = knob(None, key="hostKeyPairName")
    """EC2 key pair: the SSH opt-in (needs admin_cidr). Default: None."""
    admin_cidr: Optional[str] = knob(None, key="hostAdminCidr",
                                     check=lambda v: _cidrs(world_ok=False)([v]))
    """CIDR allowed to port 22 when a key pair is set (not 0.0.0.0/0). Default: None."""
    tags: Mapping[str, str] = knob(default_factory=dict)
    """Tags on every taggable child. Default: {}."""

    _rules = (Rule("load_balancer_subnet_ids", _load_balancer, requires=("placement",)),
              Rule("certificate_arn", _https, requires=("placement", "load_balancer_allow_http")),
              Rule("admin_cidr", _ssh, requires=("key_pair_name",)))

    @property
    def arm64(self) -> bool:
        return is_graviton(self.instance_type)


class AppHost(pulumi.ComponentResource):
    """The app's EC2 host (and optional ALB); see the module docstring."""

    instance_id: pulumi.Output[str]
    """The EC2 instance id (target of `aws ssm start-session`)."""
    private_ip: pulumi.Output[str]
    """The host's private IP."""
    url: pulumi.Output[str]
    """URL of the app (ALB DNS name, or the public host's DNS name)."""
    security_group_id: pulumi.Output[str]
    """The host's security group."""
    role_arn: pulumi.Output[str]
    """The host's IAM role."""
    ssm_session_command: pulumi.Output[str]
    """`aws ssm start-session …` command for a shell on the host."""
    connections: Connections
    """Host SG + app port, for SecurityGroupLink."""
    load_balancer_connections: Optional[Connections]
    """The ALB's SG + listener port, when the host is behind an ALB."""

    def __init__(self, name: str, args: AppHostArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("aurorakit:index:AppHost", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        db = args.database
        ctx = AccountContext(pulumi.InvokeOptions(parent=self))

        # No aws:SourceAccount condition: EC2 does not send it when it assumes an instance-profile
        # role, so the instance would get no credentials (iam:PassRole already gates the role).
        role = aws.iam.Role(f"{name}-role", description=f"{name}: app host (SSM, IAM DB auth)",
                            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                            tags=tags, opts=child)
        ssm_core = aws.iam.RolePolicyAttachment(f"{name}-ssm-core", role=role.name, policy_arn=ctx.partition.apply(
            lambda p: f"arn:{p}:iam::aws:policy/AmazonSSMManagedInstanceCore"), opts=child)
        # No secret: the app signs IAM tokens; only RDS and the bootstrap read the master secret.
        db_access = aws.iam.RolePolicy(f"{name}-db-access", role=role.id, policy=pulumi.Output.all(
            ctx.partition, ctx.region, ctx.account_id, db.cluster_resource_id, db.proxy_resource_id
        ).apply(lambda a: document([
                {"Sid": "IamDbAuthAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                 "Resource": [db_user_arn(*a[:3], rid, args.app_db_user) for rid in a[3:] if rid]}])),
            opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)

        sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                   description=f"{name}: app host (rules are standalone resources)",
                                   tags={**tags, "Name": f"{name}-sg"}, opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-https", security_group_id=sg.id, cidr_ipv4="0.0.0.0/0", ip_protocol="tcp",
            from_port=443, to_port=443, description="HTTPS: SSM, packages, RDS CA bundle",
            opts=child)
        for i, cidr in enumerate(args.ingress_cidrs if args.placement == Placement.PUBLIC else ()):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-app-ingress-{i}", security_group_id=sg.id, cidr_ipv4=cidr, ip_protocol="tcp",
                from_port=args.app_port, to_port=args.app_port,
                description=f"app tcp/{args.app_port} from {cidr} (public host opt-in)", opts=child)
        if args.key_pair_name:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-ssh-admin", security_group_id=sg.id, cidr_ipv4=args.admin_cidr, ip_protocol="tcp",
                from_port=22, to_port=22, description="SSH from the admin CIDR (opt-in)", opts=child)

        ami = args.ami_id or aws.ssm.get_parameter_output(
            name=AL2023_PARAMETER.format(arch="arm64" if args.arm64 else "x86_64"),
            opts=pulumi.InvokeOptions(parent=self)).value
        # egress_ready rides along only for its dependencies (the routes the first boot needs).
        writer = db.writer_endpoint if db.proxy_endpoint is None else db.proxy_endpoint
        reader = (db.reader_endpoint if db.proxy_endpoint is None
                  else db.proxy_read_only_endpoint or db.proxy_endpoint)
        user_data = pulumi.Output.all(ctx.region, writer, reader, args.egress_ready).apply(
            # render_user_data enforces EC2's 16 KB user data limit (app.cloud_init.USER_DATA_LIMIT).
            lambda a: render_user_data(
                region=a[0], db_user=args.app_db_user, writer_endpoint=a[1], reader_endpoint=a[2],
                port=db.port, db_name=db.db_name, engine=db.engine, app_port=args.app_port))
        instance = aws.ec2.Instance(
            f"{name}-instance", ami=ami, instance_type=args.instance_type, subnet_id=args.subnet_id,
            vpc_security_group_ids=[sg.id], iam_instance_profile=profile.name,
            associate_public_ip_address=args.placement == Placement.PUBLIC, key_name=args.key_pair_name,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True, kms_key_id=args.kms_key_arn, volume_type="gp3",
                volume_size=args.root_volume_gb, delete_on_termination=True),
            user_data=user_data, user_data_replace_on_change=True, monitoring=True,
            tags={**tags, "Name": f"{name}-instance"}, volume_tags={**tags, "Name": f"{name}-root"},
            # The role's permissions exist before first boot (the app signs DB tokens, the SSM
            # agent registers). An unpinned AMI (SSM parameter, republished every few weeks) must
            # not replace the running host on the next `up`; pin hostAmiId to roll it on purpose.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ssm_core, db_access],
                                        ignore_changes=[] if args.ami_id else ["ami"]))

        self.connections = Connections([sg.id], args.app_port, label=f"{name} host")
        self.load_balancer_connections = None
        if args.placement == Placement.PRIVATE:
            url = self._load_balancer(name, args, instance, tags, child)
        else:
            url = instance.public_dns.apply(lambda d: f"http://{d}" + ("" if args.app_port == 80 else f":{args.app_port}")
                                            if d else "")

        self.instance_id = instance.id
        self.private_ip = instance.private_ip
        self.url = url
        self.security_group_id = sg.id
        self.role_arn = role.arn
        self.ssm_session_command = pulumi.Output.all(instance.id, ctx.region).apply(
            lambda a: f"aws ssm start-session --target {a[0]} --region {a[1]}")
        self.register_outputs({
            "instance_id": self.instance_id, "private_ip": self.private_ip, "url": self.url,
            "security_group_id": self.security_group_id, "role_arn": self.role_arn,
            "ssm_session_command": self.ssm_session_command})

    def _load_balancer(self, name, args, instance, tags, child) -> pulumi.Output[str]:
        sg = aws.ec2.SecurityGroup(f"{name}-alb-sg", vpc_id=args.vpc_id,
                                   description=f"{name}: internet-facing ALB (rules are standalone resources)",
                                   tags={**tags, "Name": f"{name}-alb-sg"}, opts=child)
        ports = [80, 443] if args.certificate_arn else [80]
        for port in ports:
            for i, cidr in enumerate(args.load_balancer_ingress_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-ingress-{port}-{i}", security_group_id=sg.id, cidr_ipv4=cidr,
                    ip_protocol="tcp", from_port=port, to_port=port,
                    description=f"ALB listener tcp/{port} from {cidr}", opts=child)
        self.load_balancer_connections = Connections([sg.id], 443 if args.certificate_arn else 80,
                                                     label=f"{name} ALB")
        SecurityGroupLink(f"{name}-alb-to-host", source=self.load_balancer_connections,
                          target=self.connections, opts=child)
        lb = aws.lb.LoadBalancer(f"{name}-alb", load_balancer_type="application", internal=False,
                                 subnets=args.load_balancer_subnet_ids, security_groups=[sg.id],
                                 drop_invalid_header_fields=True, enable_http2=True, idle_timeout=60,
                                 enable_deletion_protection=args.load_balancer_deletion_protection,
                                 access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                                     bucket=args.load_balancer_access_logs_bucket, prefix=f"{name}-alb",
                                     enabled=True) if args.load_balancer_access_logs_bucket else None,
                                 desync_mitigation_mode="strictest", tags=tags, opts=child)
        group = aws.lb.TargetGroup(
            f"{name}-targets", port=args.app_port, protocol="HTTP", target_type="instance",
            vpc_id=args.vpc_id, deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(path=HEALTH_PATH, matcher="200",
                                                           interval=15, healthy_threshold=2),
            tags=tags, opts=child)
        aws.lb.TargetGroupAttachment(f"{name}-target", target_group_arn=group.arn, target_id=instance.id,
                                     port=args.app_port, opts=child)
        forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)
        if args.certificate_arn:
            aws.lb.Listener(f"{name}-https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS",
                            ssl_policy=TLS_POLICY, certificate_arn=args.certificate_arn,
                            default_actions=[forward], tags=tags, opts=child)
            aws.lb.Listener(f"{name}-http-redirect", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                            default_actions=[aws.lb.ListenerDefaultActionArgs(
                                type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                                    port="443", protocol="HTTPS", status_code="HTTP_301"))],
                            tags=tags, opts=child)
            return lb.dns_name.apply(lambda d: f"https://{d}")
        aws.lb.Listener(f"{name}-http", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                        default_actions=[forward], tags=tags, opts=child)
        return lb.dns_name.apply(lambda d: f"http://{d}")
