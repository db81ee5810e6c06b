"""AppHost: the EC2 host running the web app, reached via SSM (no SSH by default).

IAM role + instance profile (SSM core; GetSecretValue/Decrypt only on this stack's secret and
key; rds-db:connect for the app user), its own SG with explicit egress rules only, Amazon Linux
2023 with IMDSv2 required, an encrypted root volume (CMK) and cloud-init user data from
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

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from app.cloud_init import render_user_data

from .connections import Connections, SecurityGroupLink
from .policies import AccountContext, assume_role_policy, document

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class DatabaseEndpoint:
    """What the host needs to know about the database (no secret values)."""

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
    secret_arn: pulumi.Input[str]
    """ARN of the credentials secret (the host may read only this secret). Required."""
    kms_key_arn: pulumi.Input[str]
    """Key encrypting the secret (the host may decrypt only via Secrets Manager). Required."""
    cluster_resource_id: pulumi.Input[str]
    """Cluster resource id, for the rds-db:connect ARN. Required."""


@dataclass(frozen=True)
class AppHostArgs:
    """Inputs of `AppHost`. Any change to the rendered user data (app code, endpoints, port)
    replaces the instance, create-before-delete (see the module docstring for why)."""

    vpc_id: pulumi.Input[str]
    """VPC of the host (and ALB). Required."""
    subnet_id: pulumi.Input[str]
    """Subnet of the host: a private subnet, or a public one when `public` is True. Required."""
    database: DatabaseEndpoint
    """Endpoints, secret ARN and key ARN of the database. Required."""
    kms_key_arn: pulumi.Input[str]
    """CMK for the root volume. Required."""
    egress_ready: Optional[pulumi.Input[bool]] = None
    """`Network.egress_ready`: the instance launches only after the subnet's route exists
    (cloud-init installs packages on first boot). Default: None (no wait)."""
    public: bool = False
    """Public host with a public IP (explicit opt-in). Default: False."""
    ingress_cidrs: Sequence[str] = ()
    """CIDRs allowed to the app port of a public host. Default: () (none)."""
    load_balancer_subnet_ids: Optional[pulumi.Input[Sequence[str]]] = None
    """Public subnets for an internet-facing ALB in front of a private host. Default: None (no ALB)."""
    load_balancer_ingress_cidrs: Sequence[str] = ("0.0.0.0/0",)
    """CIDRs allowed to the ALB listeners. Default: ("0.0.0.0/0",)."""
    load_balancer_deletion_protection: bool = False
    """AWS deletion protection on the ALB (prod). Default: False."""
    load_balancer_access_logs_bucket: Optional[str] = None
    """S3 bucket (its policy must let ELB log delivery write; SSE-S3, not KMS) for ALB access logs
    under the prefix `<name>-alb`. Default: None (no access logs)."""
    certificate_arn: Optional[str] = None
    """ACM certificate: HTTPS listener + HTTP→HTTPS redirect. Default: None (HTTP only)."""
    instance_type: str = "t3.micro"
    """EC2 instance type. Default: "t3.micro"."""
    arm64: bool = False
    """Use the arm64 AMI (Graviton types). Default: False."""
    ami_id: Optional[str] = None
    """AMI override; when absent, later AL2023 releases are ignored so they never replace the
    running host. Default: None (latest AL2023 from the public SSM parameter at create time)."""
    root_volume_gb: int = 16
    """Root volume size (gp3). Default: 16."""
    app_port: int = 80
    """Port the app serves HTTP on. Default: 80."""
    app_db_user: str = "app"
    """DB user for rds-db:connect. Default: "app"."""
    key_pair_name: Optional[str] = None
    """EC2 key pair (SSH opt-in, needs admin_cidr). Default: None."""
    admin_cidr: Optional[str] = None
    """CIDR allowed to port 22 when a key pair is set. Default: None."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default: {}."""

    def __post_init__(self) -> None:
        if bool(self.key_pair_name) != bool(self.admin_cidr):
            raise ValueError("AppHostArgs.key_pair_name and admin_cidr: set both (SSH opt-in) or neither")
        if self.public and self.load_balancer_subnet_ids is not None:
            raise ValueError("AppHostArgs.public: a public host is not put behind the ALB; choose one")
        if self.load_balancer_access_logs_bucket and self.load_balancer_subnet_ids is None:
            raise ValueError("AppHostArgs.load_balancer_access_logs_bucket: needs load_balancer_subnet_ids (the ALB)")
        if self.certificate_arn and self.load_balancer_subnet_ids is None:
            raise ValueError("AppHostArgs.certificate_arn: needs load_balancer_subnet_ids (the ALB)")


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
        role = aws.iam.Role(f"{name}-role", description=f"{name}: app host (SSM, its DB secret, IAM DB auth)",
                            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                            tags=tags, opts=child)
        ssm_core = aws.iam.RolePolicyAttachment(f"{name}-ssm-core", role=role.name, policy_arn=ctx.partition.apply(
            lambda p: f"arn:{p}:iam::aws:policy/AmazonSSMManagedInstanceCore"), opts=child)
        db_access = aws.iam.RolePolicy(f"{name}-db-access", role=role.id, policy=pulumi.Output.all(
            db.secret_arn, db.kms_key_arn, db.cluster_resource_id, ctx.partition, ctx.region,
            ctx.account_id, ctx.service_host("secretsmanager")).apply(lambda a: document([
                {"Sid": "ReadThisStacksDbSecret", "Effect": "Allow",
                 "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": [a[0]]},
                {"Sid": "DecryptWithThisStacksKey", "Effect": "Allow", "Action": ["kms:Decrypt"],
                 "Resource": [a[1]],
                 "Condition": {"StringEquals": {"kms:ViaService": a[6]}}},
                {"Sid": "IamDbAuthAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                 "Resource": [f"arn:{a[3]}:rds-db:{a[4]}:{a[5]}:dbuser:{a[2]}/{args.app_db_user}"]}])),
            opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)

        sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                   description=f"{name}: app host (rules are standalone resources)",
                                   tags={**tags, "Name": f"{name}-sg"}, opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-https", security_group_id=sg.id, cidr_ipv4="0.0.0.0/0", ip_protocol="tcp",
            from_port=443, to_port=443, description="HTTPS: SSM, Secrets Manager, packages, RDS CA bundle",
            opts=child)
        for i, cidr in enumerate(args.ingress_cidrs if args.public else ()):
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
        user_data = pulumi.Output.all(ctx.region, db.secret_arn, db.writer_endpoint, db.reader_endpoint,
                                      args.egress_ready).apply(
            # render_user_data enforces EC2's 16 KB user data limit (app.cloud_init.USER_DATA_LIMIT).
            lambda a: render_user_data(
                region=a[0], secret_arn=a[1], writer_endpoint=a[2], reader_endpoint=a[3], port=db.port,
                db_name=db.db_name, engine=db.engine, app_port=args.app_port))
        instance = aws.ec2.Instance(
            f"{name}-instance", ami=ami, instance_type=args.instance_type, subnet_id=args.subnet_id,
            vpc_security_group_ids=[sg.id], iam_instance_profile=profile.name,
            associate_public_ip_address=args.public, key_name=args.key_pair_name,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True, kms_key_id=args.kms_key_arn, volume_type="gp3",
                volume_size=args.root_volume_gb, delete_on_termination=True),
            user_data=user_data, user_data_replace_on_change=True, monitoring=True,
            tags={**tags, "Name": f"{name}-instance"}, volume_tags={**tags, "Name": f"{name}-root"},
            # The role's permissions exist before first boot (cloud-init reads the secret, the SSM
            # agent registers). An unpinned AMI (SSM parameter, republished every few weeks) must
            # not replace the running host on the next `up`; pin hostAmiId to roll it on purpose.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ssm_core, db_access],
                                        ignore_changes=[] if args.ami_id else ["ami"]))

        self.connections = Connections([sg.id], args.app_port, label=f"{name} host")
        self.load_balancer_connections = None
        if args.load_balancer_subnet_ids is not None:
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
                        default_actions=[forward], tags={**tags, "aurorakit:allow-plain-http": "true"}, opts=child)
        return lb.dns_name.apply(lambda d: f"http://{d}")
