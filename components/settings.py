"""Typed, validated stack settings: `load_settings()` reads `aurorakit:*` + `aws:region`.

Every default is stated once, in `KEYS` below. An invalid value raises `SettingsError` (a
`pulumi.RunError`, shown by `pulumi up` as one line without a traceback) naming the key, the
value and what is allowed — before the program registers any resource.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime.config import (CONFIG, get_config_env, get_config_secret_keys_env,
                                   is_config_secret)

from .app_host import AppHostArgs
from .database import AuroraClusterArgs as _DB
from .engines import DEFAULT_ENGINE_VERSIONS, ENGINES, supports_zero_acu
from .network import NAT_MODES, NetworkArgs

NAMESPACE = "aurorakit"


class SettingsError(pulumi.RunError, ValueError):
    """One invalid stack config value: names the key, the value and what is allowed.
    The value of a secret config key is never shown: the message says `[secret]` instead."""

    def __init__(self, key: str, value: Any, allowed: str):
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        if _is_secret(full):
            value = _SECRET
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid stack config {full} = {value!r}: {allowed}")


class _Secret:
    def __repr__(self) -> str:
        return "[secret]"


_SECRET = _Secret()


def _is_secret(full_key: str) -> bool:
    """Secret per the engine's list (set_all_config) or PULUMI_CONFIG_SECRET_KEYS."""
    return is_config_secret(full_key) or full_key in get_config_secret_keys_env()


# key -> (default, one-line description); defaults come from the components' Args (stated once).
KEYS: dict[str, tuple[Any, str]] = {
    "vpcCidr": (NetworkArgs.cidr_block, "IPv4 CIDR of the VPC, /16../24"),
    "availabilityZones": (None, "list of 2-3 AZ names in aws:region; absent = first azCount AZs of the region"),
    "azCount": (3, "number of AZs when availabilityZones is absent: 2 or 3 (only without availabilityZones)"),
    "subnetPrefixLength": (NetworkArgs.subnet_prefix_length, "prefix length of every subnet (3 tiers x AZs carved from vpcCidr), ≤ 28"),
    "natMode": (NetworkArgs.nat_mode, "egress for the private tier: none | single | per-az"),
    "interfaceEndpoints": (NetworkArgs.interface_endpoints, "interface endpoints (ssm, ssmmessages, ec2messages, secretsmanager, kms): that traffic stays in the VPC"),
    "logRetentionDays": (NetworkArgs.flow_log_retention_days, "CloudWatch retention of VPC flow logs and exported DB logs (a CloudWatch-allowed value)"),
    "dbEngine": (_DB.engine, "aurora-mysql | aurora-postgresql"),
    "dbEngineVersion": (None, "engine version at creation; quote it in YAML ('16.10', not 16.10: other YAML readers see the number 16.1) (later AWS minor upgrades are kept, never reverted); absent = " + " / ".join(DEFAULT_ENGINE_VERSIONS.values())),
    "dbMode": ("provisioned", "provisioned | serverless (Serverless v2, instance class db.serverless)"),
    "dbInstanceClass": (_DB.instance_class, "instance class, e.g. db.r7g.large (only with dbMode provisioned)"),
    "dbServerlessMinAcu": (_DB.serverless_min_acu, "Serverless v2 minimum ACU, 0..256 in steps of 0.5 (only with dbMode serverless)"),
    "dbServerlessMaxAcu": (_DB.serverless_max_acu, "Serverless v2 maximum ACU, 1..256 in steps of 0.5, ≥ min (only with dbMode serverless)"),
    "dbReaders": (_DB.readers, "reader instances 0..15; the writer is in the first AZ, readers round-robin over the other AZs (never in the writer's)"),
    "dbName": (_DB.db_name, "initial database name"),
    "dbMasterUsername": (_DB.master_username, "master user name (not admin/root/postgres/rdsadmin)"),
    "dbManagedPassword": (_DB.managed_password, "RDS manages the master password in Secrets Manager (false = RandomPassword + secret)"),
    "dbBackupRetentionDays": (_DB.backup_retention_days, "automated backup retention 1..35"),
    "dbDeletionProtection": (_DB.deletion_protection, "RDS deletion protection (false is an explicit dev opt-out)"),
    "dbBacktrackHours": (_DB.backtrack_hours, "aurora-mysql backtrack window in hours 0..72 (set at cluster creation: RDS cannot turn it on later)"),
    "dbMonitoringInterval": (_DB.monitoring_interval, "enhanced monitoring seconds: 0, 1, 5, 10, 15, 30, 60"),
    "dbPerformanceInsightsRetentionDays": (_DB.performance_insights_retention_days, "Performance Insights retention: 7 or a multiple of 31 up to 731"),
    "dbReaderAutoscalingMax": (_DB.reader_autoscaling_max, "0 = off; else max readers by Application Auto Scaling (≥ dbReaders, ≤ 15)"),
    "dbReaderAutoscalingCpuTarget": (_DB.reader_autoscaling_cpu_target, "reader autoscaling target CPU % 10..90 (only with dbReaderAutoscalingMax)"),
    "dbAlarmEmails": (list(_DB.alarm_emails), "e-mail addresses subscribed to the alarm topic (CPU, memory, connections, replica lag)"),
    "dbProxy": (_DB.proxy, "create an RDS Proxy (TLS required, IAM auth) in front of the cluster"),
    "dbKmsKeyArn": (None, "use this KMS key ARN instead of creating a CMK"),
    "appDbUser": (AppHostArgs.app_db_user, "database user the host may connect as with IAM auth (rds-db:connect)"),
    "protect": (_DB.protect, "pulumi protect on the cluster, KMS keys and secret, plus ALB deletion protection (prod: true)"),
    "hostInstanceType": (AppHostArgs.instance_type, "EC2 instance type, e.g. t3.micro, t4g.small (arm64 AMI for Graviton)"),
    "hostAmiId": (None, "AMI id override; absent = latest Amazon Linux 2023 from the public SSM parameter"),
    "hostRootVolumeGb": (AppHostArgs.root_volume_gb, "root volume size in GiB 8..1024 (gp3, encrypted with the CMK)"),
    "hostPlacement": ("private", "private (behind an ALB) | public (public subnet + public IP: explicit opt-in)"),
    "hostIngressCidrs": ([], "CIDRs allowed to the app port of a public host"),
    "appPort": (AppHostArgs.app_port, "port the app serves HTTP on, 1..65535 (not 22/3306/5432)"),
    "albCertificateArn": (None, "ACM certificate ARN: HTTPS listener + HTTP→HTTPS redirect; required for hostPlacement private unless albAllowHttp"),
    "albAllowHttp": (False, "explicit opt-in: the ALB serves plain HTTP because there is no albCertificateArn yet (only for hostPlacement private without a certificate)"),
    "albIngressCidrs": (list(AppHostArgs.load_balancer_ingress_cidrs), "CIDRs allowed to the ALB listeners (only for hostPlacement private)"),
    "albAccessLogsBucket": (AppHostArgs.load_balancer_access_logs_bucket, "S3 bucket for ALB access logs (its policy must allow ELB log delivery); absent = off"),
    "hostKeyPairName": (None, "EC2 key pair (explicit opt-in; needs hostAdminCidr)"),
    "hostAdminCidr": (None, "CIDR allowed to port 22 when hostKeyPairName is set (not 0.0.0.0/0)"),
    "tags": ({}, "extra tags (object of string -> string) on every taggable resource"),
}

_RETENTION = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
              2192, 2557, 2922, 3288, 3653)
_VERSION_RE = {"aurora-mysql": r"(5\.7|8\.0)\.mysql_aurora\.\d+\.\d+\.\d+",
               "aurora-postgresql": r"\d{2}(\.\d+)?"}
_INSTANCE_TYPE_RE = re.compile(r"[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|metal|\d*xlarge)")
# Aurora has no micro/small classes (smallest: db.t3.medium / db.t4g.medium).
_DB_CLASS_RE = re.compile(r"db\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.(medium|large|\d*xlarge)")
_RESERVED_USERS = {"admin", "root", "postgres", "rdsadmin", "rdsrepladmin", "mysql", "master"}
_FORBIDDEN_APP_PORTS = {22, 3306, 3389, 5432}


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str
    availability_zones: tuple[str, ...]
    subnet_prefix_length: int
    nat_mode: str
    interface_endpoints: bool
    log_retention_days: int


@dataclass(frozen=True)
class DatabaseSettings:
    engine: str
    engine_version: str
    mode: str
    instance_class: str
    serverless_min_acu: float
    serverless_max_acu: float
    readers: int
    db_name: str
    master_username: str
    managed_password: bool
    backup_retention_days: int
    deletion_protection: bool
    backtrack_hours: int
    monitoring_interval: int
    performance_insights_retention_days: int
    reader_autoscaling_max: int
    reader_autoscaling_cpu_target: int
    alarm_emails: tuple[str, ...]
    proxy: bool
    kms_key_arn: Optional[str]
    app_db_user: str
    protect: bool


@dataclass(frozen=True)
class HostSettings:
    instance_type: str
    ami_id: Optional[str]
    root_volume_gb: int
    placement: str
    ingress_cidrs: tuple[str, ...]
    app_port: int
    alb_certificate_arn: Optional[str]
    alb_ingress_cidrs: tuple[str, ...]
    alb_access_logs_bucket: Optional[str]
    key_pair_name: Optional[str]
    admin_cidr: Optional[str]
    alb_allow_http: bool = False

    @property
    def arm64(self) -> bool:
        """Graviton families (a1, t4g, m7g, c6gn, r8g…) need the arm64 AMI."""
        family = self.instance_type.split(".")[0]
        return family == "a1" or bool(re.fullmatch(r"[a-z]+\d+g[a-z]*", family))

    @property
    def load_balanced(self) -> bool:
        return self.placement == "private"


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    region: str
    network: NetworkSettings
    database: DatabaseSettings
    host: HostSettings
    tags: dict


class _Reader:
    """Reads raw strings from the engine config map and converts them with clear errors."""

    def __init__(self) -> None:
        self.cfg = pulumi.Config(NAMESPACE)

    def raw(self, key: str) -> Optional[str]:
        return self.cfg.get(key)

    def only(self, key: str, applies: bool, condition: str) -> None:
        """A key that is SET but has no effect is an error, never silently ignored."""
        raw = self.raw(key)
        if raw is not None and not applies:
            raise SettingsError(key, raw, f"only {condition}; remove the key")

    def value(self, key: str, convert: Callable[[str, str], Any]) -> Any:
        raw = self.raw(key)
        return KEYS[key][0] if raw is None else convert(key, raw)


def _str(key: str, raw: str) -> str:
    return raw.strip()


_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _bool(key: str, raw: str) -> bool:
    """YAML 1.2 booleans only (what yaml.v3 types as bool); yes/no/on/off are not booleans."""
    if raw.strip() not in _BOOLS:
        raise SettingsError(key, raw, "allowed values are true or false")
    return _BOOLS[raw.strip()]


def _int(key: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SettingsError(key, raw, "must be an integer") from None


def _float(key: str, raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise SettingsError(key, raw, "must be a number") from None


def _json(kind: type):
    def convert(key: str, raw: str) -> Any:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise SettingsError(key, raw, f"must be a YAML/JSON {kind.__name__}") from None
        if not isinstance(value, kind):
            raise SettingsError(key, raw, f"must be a YAML/JSON {kind.__name__}")
        return value
    return convert


def _one_of(key: str, value: Any, allowed: tuple) -> Any:
    if value not in allowed:
        raise SettingsError(key, value, "allowed values are " + ", ".join(map(str, allowed)))
    return value


def _range(key: str, value: float, low: float, high: float) -> Any:
    if not low <= value <= high:
        raise SettingsError(key, value, f"must be between {low} and {high}")
    return value


def _cidr(key: str, value: Any) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value), strict=True)
    except ValueError:
        raise SettingsError(key, value, "must be an IPv4 CIDR like 10.0.0.0/16 (host bits zero)") from None


def _check_unknown_keys() -> None:
    keys = set(CONFIG.get()) | set(get_config_env() or {})
    for full in sorted(keys):
        ns, _, key = full.partition(":")
        if ns == NAMESPACE and key not in KEYS:
            raise SettingsError(full, "(set)", "unknown key; known keys are " + ", ".join(sorted(KEYS)))


def _network(r: _Reader, region: str) -> NetworkSettings:
    vpc = _cidr("vpcCidr", r.value("vpcCidr", _str))
    if not 16 <= vpc.prefixlen <= 24:
        raise SettingsError("vpcCidr", str(vpc), "prefix length must be between /16 and /24")
    if not vpc.is_private:
        raise SettingsError("vpcCidr", str(vpc), "must be a private (RFC 1918) range")
    azs = r.value("availabilityZones", _json(list))
    r.only("azCount", azs is None, "without availabilityZones (which already lists the AZs)")
    if azs is None:
        count = _one_of("azCount", r.value("azCount", _int), (2, 3))
        azs = _region_azs(region)[:count]
    if not all(isinstance(a, str) for a in azs) or len(set(azs)) != len(azs) \
            or not 2 <= len(azs) <= 3:
        raise SettingsError("availabilityZones", azs,
                            "must list 2 or 3 distinct AZ names (the DB subnet group needs ≥ 2)")
    for az in azs:
        if not re.fullmatch(re.escape(region) + r"[a-z]", az):
            raise SettingsError("availabilityZones", azs,
                                f"every AZ must be in aws:region {region} (e.g. {region}a)")
    prefix = r.value("subnetPrefixLength", _int)
    if not vpc.prefixlen < prefix <= 28:
        raise SettingsError("subnetPrefixLength", prefix,
                            f"must be greater than the VPC's /{vpc.prefixlen} and at most 28")
    needed, available = 3 * len(azs), 2 ** (prefix - vpc.prefixlen)
    if needed > available:
        raise SettingsError("subnetPrefixLength", prefix,
                            f"{needed} subnets (3 tiers x {len(azs)} AZs) do not fit in {vpc}: "
                            f"only {available} /{prefix} blocks; use a longer prefix or larger vpcCidr")
    nat = _one_of("natMode", r.value("natMode", _str), NAT_MODES)
    retention = _one_of("logRetentionDays", r.value("logRetentionDays", _int), _RETENTION)
    return NetworkSettings(str(vpc), tuple(azs), prefix, nat,
                           r.value("interfaceEndpoints", _bool), retention)


def _region_azs(region: str) -> list[str]:
    """Fallback when availabilityZones is not configured (needs an AWS call at preview).
    Only the region's own AZs: opted-in Local/Wavelength Zones lack Aurora and NAT gateways."""
    import pulumi_aws as aws
    found = aws.get_availability_zones(state="available", filters=[aws.GetAvailabilityZonesFilterArgs(
        name="opt-in-status", values=["opt-in-not-required"])])
    return sorted(n for n in found.names if re.fullmatch(re.escape(region) + r"[a-z]", n))


def _database(r: _Reader) -> DatabaseSettings:
    engine = _one_of("dbEngine", r.value("dbEngine", _str), tuple(ENGINES))
    version = r.value("dbEngineVersion", _str) or DEFAULT_ENGINE_VERSIONS[engine]
    if not re.fullmatch(_VERSION_RE[engine], version):
        raise SettingsError("dbEngineVersion", version,
                            f"not a {engine} version (e.g. {DEFAULT_ENGINE_VERSIONS[engine]})")
    mode = _one_of("dbMode", r.value("dbMode", _str), ("provisioned", "serverless"))
    klass = r.value("dbInstanceClass", _str)
    if not _DB_CLASS_RE.fullmatch(klass):
        raise SettingsError("dbInstanceClass", klass,
                            "must be an Aurora instance class like db.r7g.large or db.t4g.medium (no micro/small)")
    r.only("dbInstanceClass", mode == "provisioned", "with dbMode provisioned (serverless uses db.serverless)")
    for key in ("dbServerlessMinAcu", "dbServerlessMaxAcu"):
        r.only(key, mode == "serverless", "with dbMode serverless")
    lo, hi = r.value("dbServerlessMinAcu", _float), r.value("dbServerlessMaxAcu", _float)
    for key, v, low in (("dbServerlessMinAcu", lo, 0), ("dbServerlessMaxAcu", hi, 1)):
        if not low <= v <= 256 or (v * 2) != int(v * 2):
            raise SettingsError(key, v, f"must be {low}..256 in steps of 0.5")
    if lo > hi:
        raise SettingsError("dbServerlessMinAcu", lo, f"must not exceed dbServerlessMaxAcu ({hi})")
    if mode == "serverless" and lo == 0 and not supports_zero_acu(engine, version):
        raise SettingsError("dbServerlessMinAcu", lo, f"0 ACU (auto-pause) needs aurora-mysql ≥ 3.08.0 or "
                            f"aurora-postgresql ≥ 13.15/14.12/15.7/16.3 (dbEngineVersion is {version}); use ≥ 0.5")
    readers = _range("dbReaders", r.value("dbReaders", _int), 0, 15)
    name = r.value("dbName", _str)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", name):
        raise SettingsError("dbName", name, "must start with a letter; letters, digits, _; ≤ 63 chars")
    user = r.value("dbMasterUsername", _str)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", user) or user.lower() in _RESERVED_USERS:
        raise SettingsError("dbMasterUsername", user, "1-16 letters/digits/_ starting with a letter, "
                            "not one of " + ", ".join(sorted(_RESERVED_USERS)))
    backtrack = _range("dbBacktrackHours", r.value("dbBacktrackHours", _int), 0, 72)
    if backtrack and engine != "aurora-mysql":
        raise SettingsError("dbBacktrackHours", backtrack, "backtrack exists only for aurora-mysql; use 0")
    pi = r.value("dbPerformanceInsightsRetentionDays", _int)
    if not (pi == 7 or (pi % 31 == 0 and 31 <= pi <= 731)):
        raise SettingsError("dbPerformanceInsightsRetentionDays", pi,
                            "allowed values are 7 or a multiple of 31 up to 731")
    scale_max = r.value("dbReaderAutoscalingMax", _int)
    if scale_max and not max(readers, 1) <= scale_max <= 15:
        raise SettingsError("dbReaderAutoscalingMax", scale_max,
                            f"must be 0 (off) or between max(dbReaders, 1)={max(readers, 1)} and 15")
    r.only("dbReaderAutoscalingCpuTarget", bool(scale_max), "with dbReaderAutoscalingMax (autoscaling is off)")
    kms = r.value("dbKmsKeyArn", _str)
    if kms and not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})", kms):
        raise SettingsError("dbKmsKeyArn", kms, "must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    emails = r.value("dbAlarmEmails", _json(list))
    if not all(isinstance(e, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e) for e in emails):
        raise SettingsError("dbAlarmEmails", emails, "must be a list of e-mail addresses like ops@example.com")
    app_user = r.value("appDbUser", _str)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", app_user) or app_user == user.lower():
        raise SettingsError("appDbUser", app_user,
                            "1-16 lowercase letters/digits/_ starting with a letter, not the master user")
    return DatabaseSettings(
        engine=engine, engine_version=version, mode=mode, instance_class=klass,
        serverless_min_acu=lo, serverless_max_acu=hi, readers=readers, db_name=name,
        master_username=user, managed_password=r.value("dbManagedPassword", _bool),
        backup_retention_days=_range("dbBackupRetentionDays", r.value("dbBackupRetentionDays", _int), 1, 35),
        deletion_protection=r.value("dbDeletionProtection", _bool), backtrack_hours=backtrack,
        monitoring_interval=_one_of("dbMonitoringInterval", r.value("dbMonitoringInterval", _int),
                                    (0, 1, 5, 10, 15, 30, 60)),
        performance_insights_retention_days=pi, reader_autoscaling_max=scale_max,
        reader_autoscaling_cpu_target=_range("dbReaderAutoscalingCpuTarget",
                                             r.value("dbReaderAutoscalingCpuTarget", _int), 10, 90),
        alarm_emails=tuple(emails), proxy=r.value("dbProxy", _bool), kms_key_arn=kms or None, app_db_user=app_user,
        protect=r.value("protect", _bool))


def _cidr_list(key: str, value: list, world_ok: bool) -> tuple[str, ...]:
    out = []
    for item in value:
        net = _cidr(key, item)
        if net.prefixlen == 0 and not world_ok:
            raise SettingsError(key, value, "0.0.0.0/0 is not allowed here; list specific CIDRs")
        out.append(str(net))
    return tuple(out)


def _host(r: _Reader, nat_mode: str) -> HostSettings:
    itype = r.value("hostInstanceType", _str)
    if not _INSTANCE_TYPE_RE.fullmatch(itype):
        raise SettingsError("hostInstanceType", itype, "must be an EC2 instance type like t3.micro or m7g.large")
    ami = r.value("hostAmiId", _str)
    if ami and not re.fullmatch(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", ami):
        raise SettingsError("hostAmiId", ami, "must be an AMI id like ami-0123456789abcdef0")
    placement = _one_of("hostPlacement", r.value("hostPlacement", _str), ("private", "public"))
    ingress = _cidr_list("hostIngressCidrs", r.value("hostIngressCidrs", _json(list)), world_ok=True)
    if ingress and placement != "public":
        raise SettingsError("hostIngressCidrs", list(ingress),
                            "only for hostPlacement public; a private host is reached through the ALB")
    if placement == "private" and nat_mode == "none":
        raise SettingsError("natMode", "none", "a private host needs natMode single or per-az: its "
                            "cloud-init fetches packages and the RDS CA bundle from the internet")
    port = _range("appPort", r.value("appPort", _int), 1, 65535)
    if port in _FORBIDDEN_APP_PORTS:
        raise SettingsError("appPort", port, "must not be an admin or database port (22, 3306, 3389, 5432)")
    cert = r.value("albCertificateArn", _str)
    if cert and not re.fullmatch(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}", cert):
        raise SettingsError("albCertificateArn", cert, "must be an ACM certificate ARN")
    if cert and placement == "public":
        raise SettingsError("albCertificateArn", cert, "needs hostPlacement private (the ALB terminates TLS)")
    bucket = r.value("albAccessLogsBucket", _str)
    if bucket and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise SettingsError("albAccessLogsBucket", bucket, "must be an S3 bucket name (3-63 lowercase letters, digits, . -)")
    if bucket and placement == "public":
        raise SettingsError("albAccessLogsBucket", bucket, "needs hostPlacement private (there is no ALB)")
    r.only("albIngressCidrs", placement == "private", "for hostPlacement private (there is no ALB; "
           "a public host uses hostIngressCidrs)")
    allow_http = r.value("albAllowHttp", _bool)
    r.only("albAllowHttp", placement == "private" and not cert,
           "for hostPlacement private without albCertificateArn (the opt-in to plain HTTP)")
    if placement == "private" and not cert and not allow_http:
        raise SettingsError("albCertificateArn", None, "HTTPS needs an ACM certificate: set albCertificateArn, "
                            "or set albAllowHttp: true as an explicit opt-in to plain HTTP")
    key_pair, admin = r.value("hostKeyPairName", _str), r.value("hostAdminCidr", _str)
    if key_pair and not admin:
        raise SettingsError("hostAdminCidr", None, "required when hostKeyPairName is set (SSH opt-in)")
    if admin:
        if not key_pair:
            raise SettingsError("hostAdminCidr", admin, "only with hostKeyPairName (SSH is off by default)")
        admin = _cidr_list("hostAdminCidr", [admin], world_ok=False)[0]
    return HostSettings(
        instance_type=itype, ami_id=ami or None,
        root_volume_gb=_range("hostRootVolumeGb", r.value("hostRootVolumeGb", _int), 8, 1024),
        placement=placement, ingress_cidrs=ingress, app_port=port, alb_certificate_arn=cert or None,
        alb_ingress_cidrs=_cidr_list("albIngressCidrs", r.value("albIngressCidrs", _json(list)), True),
        alb_access_logs_bucket=bucket or None, alb_allow_http=allow_http,
        key_pair_name=key_pair or None, admin_cidr=admin or None)


def load_settings() -> Settings:
    """Read and validate the whole stack config; raises SettingsError on the first bad value."""
    region = pulumi.Config("aws").get("region")
    if not region or not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
        raise SettingsError("aws:region", region, "must be set to an AWS region like eu-west-1")
    _check_unknown_keys()
    r = _Reader()
    network = _network(r, region)
    database = _database(r)
    host = _host(r, network.nat_mode)
    tags = r.value("tags", _json(dict))
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise SettingsError("tags", tags, "must be an object of string -> string")
    base = {"Project": pulumi.get_project(), "Stack": pulumi.get_stack(), "ManagedBy": "pulumi"}
    return Settings(pulumi.get_project(), pulumi.get_stack(), region, network, database, host,
                    {**base, **tags})
