"""Advice in the user's terms: which stack setting (or component argument) fixes a violation.

The pack's messages name the raw resource property (`backtrackWindow`); a person running this
project changes `dbBacktrackHours` in `Pulumi.<stack>.yaml`, and a library user changes
`AuroraClusterArgs.backtrack_hours`. `FIXES` maps each rule, for the aurorakit component the
resource belongs to, to that setting and argument (one table: it can later be derived from the
settings metadata, whose keys are the same). `advise` picks the advice for one finding:

* the project's own program (this repository): the stack setting, else what the component does;
* another program (a library user): the component's argument, else what the component does;
* a resource outside the aurorakit components: fix it where the program declares it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

NAMESPACE = "aurorakit"          # the project's config namespace (components/settings.py)
COMPONENT_PREFIX = "aurorakit:index:"

# What to say when a component always sets the compliant value and no setting changes it.
_OUTSIDE = ("something outside the component changed it (a transformation, an extra resource "
            "or a modified component): remove that change")


@dataclass(frozen=True)
class Fix:
    """How to fix `rule` on a resource that `component` creates."""

    component: str                  # Network | AuroraCluster | AppFleet | DynamoTables | SecurityGroupLink
    change: str                     # what the value must become, in words
    setting: Optional[str] = None   # stack setting key (without namespace); None: no setting
    argument: Optional[str] = None  # field of <component>Args; None: not an argument
    types: tuple[str, ...] = ()     # resource types it is about (empty: any)
    argument_change: Optional[str] = None  # the change in argument terms, if it reads differently
    good: tuple = ()                # setting values (raw text; None = unset) that already comply

    @property
    def argument_path(self) -> Optional[str]:
        return f"{self.component}Args.{self.argument}" if self.argument else None


def _always(component: str, what: str, *, types: tuple[str, ...] = ()) -> Fix:
    return Fix(component, f"{component} always sets {what}; {_OUTSIDE}", types=types)


_CLUSTER = ("aws:rds/cluster:Cluster",)
_TRUE = ("true", "True", "TRUE")
_PRIVATE_HOST = Fix("AppFleet", "private (behind the ALB; remove hostIngressCidrs)", "hostPlacement",
                    "placement", argument_change='"private", with load_balancer_subnet_ids (behind an ALB)',
                    good=("private", None))
_HTTPS = Fix("AppFleet", "your domain, with appHostedZoneId (the stack then requests, validates and serves "
             "an ACM certificate and redirects HTTP; or set albCertificateArn to an existing certificate in "
             "the stack's region; remove albAllowHttp)", "appDomainName", "domain_name",
             argument_change="your domain, with hosted_zone_id (or certificate_arn: an existing certificate)")

FIXES: dict[str, tuple[Fix, ...]] = {
    # --- database -------------------------------------------------------------------------
    "rds-aurora-mysql-backtrack": (
        Fix("AuroraCluster", "1..72 hours, e.g. 24 (RDS enables backtrack only when the cluster "
            "is created: a new cluster)", "dbBacktrackHours", "backtrack_hours"),),
    "rds-deletion-protection": (
        Fix("AuroraCluster", "true", "dbDeletionProtection", "deletion_protection",
            argument_change="True", good=("true", "True", "TRUE", None)),),
    "rds-multi-az": (
        Fix("AuroraCluster", "at least 1 reader (readers go to the AZs other than the writer's)",
            "dbReaders", "readers"),),
    "rds-backup-plan-coverage": (
        Fix("AuroraCluster", "true: a daily AWS Backup plan into a vault encrypted with the stack's CMK",
            "dbAwsBackup", "aws_backup", argument_change="True", good=(*_TRUE, None)),),
    "rds-backup-retention": (
        Fix("AuroraCluster", "at least the policy's minimumRetentionDays (1..35)",
            "dbBackupRetentionDays", "backup_retention_days"),),
    "rds-enhanced-monitoring": (
        Fix("AuroraCluster", "1, 5, 10, 15, 30 or 60 seconds (0 turns monitoring off)",
            "dbMonitoringInterval", "monitoring_interval"),),
    "secret-rotation-configured": (
        Fix("AuroraCluster", "true: RDS manages (and rotates) the master secret",
            "dbManagedPassword", "managed_password", good=("true", "True", "TRUE", None)),),
    "rds-no-literal-master-password": (
        Fix("AuroraCluster", "true: RDS manages the password (false generates one with "
            "RandomPassword); the cluster never gets a literal password from the components",
            "dbManagedPassword", "managed_password", good=("true", "True", "TRUE", None)),),
    "rds-customer-managed-key": (
        Fix("AuroraCluster", "unset (the stack creates its own CMK) or a customer-managed key ARN",
            "dbKmsKeyArn", "kms_key_arn", argument_change="None (the component creates its own "
            "CMK) or a customer-managed key ARN", good=(None,)),),
    "encryption-uses-stack-cmk": (
        Fix("AuroraCluster", "unset: the stack creates its own CMK and encrypts storage, the "
            "secret, logs and Performance Insights with it", "dbKmsKeyArn", "kms_key_arn",
            argument_change="None: the component creates its own CMK", good=(None,)),
        Fix("AppFleet", "the stack's CMK (the composition passes the cluster's key); "
            "AppFleet encrypts the root volumes with it", argument="kms_key_arn")),
    "rds-storage-encrypted": (_always("AuroraCluster", "storageEncrypted: true"),),
    "rds-final-snapshot": (
        Fix("AuroraCluster", "true: deleting the cluster then leaves a final snapshot (and the "
            "automated backups, the key, the logs)", "dbKeepOnDestroy", "keep_on_destroy",
            argument_change="True", good=(*_TRUE, None)),),
    "rds-log-exports": (_always("AuroraCluster", "every log export of the engine"),),
    "rds-iam-authentication": (_always("AuroraCluster", "iamDatabaseAuthenticationEnabled: true"),),
    "rds-copy-tags-to-snapshot": (_always("AuroraCluster", "copyTagsToSnapshot: true"),),
    "rds-not-publicly-accessible": (_always("AuroraCluster", "publiclyAccessible: false"),),
    "rds-auto-minor-version-upgrade": (_always("AuroraCluster", "autoMinorVersionUpgrade: true"),),
    "rds-performance-insights-cmk": (_always("AuroraCluster", "the stack's CMK for Performance Insights"),),
    "rds-tls-enforced": (_always("AuroraCluster", "the engine's TLS-only parameter in the cluster parameter group"),),
    "rds-proxy-require-tls": (_always("AuroraCluster", "requireTls: true on the RDS Proxy (dbProxy)"),),
    "db-iam-auth-guardrails": (
        _always("AppFleet", "a host role that may only rds-db:connect as the app user (cluster and "
                "proxy) and reads no secret"),
        _always("AuroraCluster", "a proxy role trusting only rds.amazonaws.com with aws:SourceAccount, "
                "and the bootstrap role (not an app role) reading the master secret")),
    "exposure-inputs-verifiable": tuple(
        _always(c, "the security groups and subnets the composition passes (this stack's own); "
                "an id of another stack goes in the rule's allowedExternalIds")
        for c in ("AppFleet", "AuroraCluster", "Network", "SecurityGroupLink")),
    "rds-non-default-master-username": (
        Fix("AuroraCluster", "a name that is not admin/root/postgres/rdsadmin",
            "dbMasterUsername", "master_username"),),
    "db-ingress-only-from-app-hosts": (
        _always("SecurityGroupLink", "source-security-group rules on the database port"),
        _always("AuroraCluster", "a security group without rules of its own")),
    "db-subnets-no-internet-route": (_always("Network", "an isolated route table with no route"),),
    "kms-key-rotation-enabled": (
        _always("AuroraCluster", "enableKeyRotation: true"), _always("Network", "enableKeyRotation: true")),
    "kms-key-deletion-window": (
        Fix("AuroraCluster", "true: the cluster's key then has a 30-day deletion window (false: 7 "
            "days, for throwaway stacks)", "dbKeepOnDestroy", "keep_on_destroy",
            argument_change="True", good=(*_TRUE, None)),
        _always("Network", "a 30-day deletion window")),
    "resource-policy-no-public-principal": (
        _always("AuroraCluster", "a key policy limited to this account and named services"),
        _always("Network", "a key policy limited to this account and CloudWatch Logs")),
    "secret-customer-managed-key": (_always("AuroraCluster", "the stack's CMK on the master secret"),),
    "sns-topic-encrypted": (_always("AuroraCluster", "the stack's CMK on the alarm topic"),),
    "cloudwatch-log-group-encrypted": (
        _always("AuroraCluster", "the stack's CMK on the DB log groups"),
        _always("Network", "the flow-log CMK on the flow-log group")),
    "cloudwatch-log-group-retention": (
        Fix("Network", "at least the policy's minimumDays (a CloudWatch-allowed value)",
            "logRetentionDays", "flow_log_retention_days"),
        Fix("AuroraCluster", "at least the policy's minimumDays (a CloudWatch-allowed value)",
            "logRetentionDays", "log_retention_days")),
    "stack-deletion-safety": (
        Fix("AuroraCluster", "true: pulumi protect on the cluster, its KMS key and secret",
            "protect", "protect", argument_change="True", good=("true", "True", "TRUE")),
        Fix("Network", "true: pulumi protect on the flow-log KMS key", "protect", "protect",
            argument_change="True", good=("true", "True", "TRUE"))),
    # --- network ------------------------------------------------------------------------------
    "vpc-flow-logs-enabled": (_always("Network", "a flow log on its VPC"),),
    "vpc-default-security-group-closed": (_always("Network", "a managed default security group with no rules"),),
    "subnet-no-public-ip-on-launch": (_always("Network", "mapPublicIpOnLaunch only on the public tier"),),
    "sg-rules-described": (
        _always("AppFleet", "a description on every rule"), _always("Network", "a description on every rule"),
        _always("AuroraCluster", "a description on every rule"),
        _always("SecurityGroupLink", "a description on every rule")),
    "sg-no-world-ingress-to-sensitive-ports": (
        Fix("AppFleet", "a specific CIDR (port 22 opens only with hostKeyPairName; never 0.0.0.0/0)",
            "hostAdminCidr", "admin_cidr", good=(None,)),),
    "sg-no-world-ingress-across-rules": (
        Fix("AppFleet", "one specific CIDR (port 22 opens only with hostKeyPairName): the rules on "
            "a port must not add up to the internet", "hostAdminCidr", "admin_cidr", good=(None,)),),
    # --- host and load balancer ---------------------------------------------------------------
    "ec2-no-public-ip": (_PRIVATE_HOST,),
    "ec2-no-public-ip-from-subnet": (_PRIVATE_HOST,),
    "ec2-imdsv2-required": (_always("AppFleet", "httpTokens: required"),),
    "ec2-imds-hop-limit": (_always("AppFleet", "httpPutResponseHopLimit: 1 (its hosts run no "
                                   "containers)"),),
    "ec2-volumes-encrypted": (_always("AppFleet", "an encrypted root volume"),),
    "ec2-no-secrets-in-user-data": (_always("AppFleet", "user data without secrets (the app signs IAM "
                                            "database tokens and reads no secret)"),),
    "ec2-instance-profile": (_always("AppFleet", "an instance profile"),),
    "alb-deletion-protection": (
        Fix("AppFleet", "true (the ALB's deletion protection follows protect)", "protect",
            "load_balancer_deletion_protection", argument_change="True",
            good=("true", "True", "TRUE")),),
    "alb-access-logs": (
        Fix("AppFleet", "an S3 bucket whose policy allows ELB log delivery", "albAccessLogsBucket",
            "load_balancer_access_logs_bucket"),),
    "alb-listener-https": (_HTTPS,),
    "alb-http-redirects-to-https": (_HTTPS,),
    "alb-drop-invalid-header-fields": (_always("AppFleet", "dropInvalidHeaderFields: true"),),
    "alb-desync-mitigation": (_always("AppFleet", "desyncMitigationMode: strictest"),),
    "lb-listener-modern-tls": (_always("AppFleet", "a TLS 1.2+ security policy on the HTTPS listener"),),
    "alb-waf-enabled": (
        Fix("AppFleet", "no setting: AppFleet attaches no AWS WAF web ACL; associate one with the ALB "
            "in the program (aws.wafv2.WebAclAssociation with resource_arn = the load balancer's ARN)"),),
    "lb-world-ingress-only-listener-ports": (
        Fix("AppFleet", "the CIDRs allowed to the ALB's listener ports only", "albIngressCidrs",
            "load_balancer_ingress_cidrs"),),
    # --- IAM ----------------------------------------------------------------------------------
    "iam-no-wildcard-actions": (
        _always("AppFleet", "named actions in the host role's policy"),
        _always("AuroraCluster", "named actions in its roles' policies"),
        _always("Network", "named actions in the flow-log role's policy")),
    "iam-no-privilege-escalation": (
        _always("AppFleet", "no privilege-escalation action (iam:PassRole, iam:Put*Policy, "
                "sts:AssumeRole, ssm:SendCommand …) in the host role's policies"),
        _always("AuroraCluster", "no privilege-escalation action in its roles' policies"),
        _always("Network", "no privilege-escalation action in the flow-log role's policy")),
    "iam-trust-only-services": (
        _always("AppFleet", "a trust policy for ec2.amazonaws.com"),
        _always("AuroraCluster", "trust policies for monitoring.rds / rds.amazonaws.com"),
        _always("Network", "a trust policy for vpc-flow-logs.amazonaws.com")),
    "iam-no-admin-managed-policy": (
        _always("AppFleet", "AmazonSSMManagedInstanceCore only"),
        _always("AuroraCluster", "AmazonRDSEnhancedMonitoringRole only")),
    "app-role-least-privilege": (
        Fix("AuroraCluster", "unset: the host role may then read only the stack's own secret and "
            "decrypt only with the stack's own key", "dbKmsKeyArn", "kms_key_arn",
            types=_CLUSTER, good=(None,)),
        _always("AppFleet", "a role limited to rds-db:connect, its boot artifacts (read and decrypt "
                "through S3 only) and SSM")),
    # --- DynamoDB (the forum's tables) -------------------------------------------------------
    "dynamodb-deletion-protection": (
        Fix("DynamoTables", "true", "forumDeletionProtection", "deletion_protection",
            argument_change="True", good=(*_TRUE, None)),),
    "dynamodb-point-in-time-recovery": (
        Fix("DynamoTables", "true", "forumPointInTimeRecovery", "point_in_time_recovery",
            argument_change="True", good=(*_TRUE, None)),),
    "dynamodb-table-encryption-enabled": (_always("DynamoTables", "server-side encryption with the stack's CMK"),),
}
# Rules about resources no aurorakit component creates: advice is always "fix it in the program".
NO_COMPONENT_RULES = ("iam-no-user-policies",)


@dataclass(frozen=True)
class Advice:
    """What to change, in the user's terms. kind: setting | argument | component | code."""

    kind: str
    text: str
    setting: Optional[str] = None    # full config key, e.g. aurorakit:dbBacktrackHours
    argument: Optional[str] = None   # e.g. AuroraClusterArgs.backtrack_hours


# Components only another component creates: their resources are advised as the creator's.
INTERNAL_COMPONENTS = ("DatabaseBootstrap",)   # AuroraCluster's


def component_of(urn: str, by_urn: dict) -> Optional[str]:
    """The aurorakit component (class name) a resource was created by, from its parents."""
    seen = 0
    reg = by_urn.get(urn)
    while reg is not None and seen < 64:     # bounded: parent chains are short
        name = reg.type[len(COMPONENT_PREFIX):] if reg.type.startswith(COMPONENT_PREFIX) else None
        if name is not None and name not in INTERNAL_COMPONENTS:
            return name
        reg = by_urn.get(reg.parent)
        seen += 1
    return None


def fix_for(rule: str, resource_type: str, component: Optional[str]) -> Optional[Fix]:
    """The table entry for `rule` on a `resource_type` created by `component` (None if none)."""
    if component is None:
        return None
    for fix in FIXES.get(rule, ()):
        if fix.component == component and (not fix.types or resource_type in fix.types):
            return fix
    return None


def advise(rule: str, resource_type: str, component: Optional[str], own_program: bool,
           stack_file: str = "Pulumi.<stack>.yaml", config: Optional[dict] = None) -> Advice:
    """Advice for one violation (never None: a resource outside the components gets `code`).
    `config` (the stack's config map) lets it say when the setting already has a compliant
    value: then the violation comes from outside the components, and the advice says so."""
    fix = fix_for(rule, resource_type, component)
    if component is None:
        return Advice("code", "not created by the aurorakit components: fix it where the program "
                              "declares this resource")
    if fix is None:
        return Advice("component", f"created by {component}; no stack setting or argument is "
                                   f"mapped to {rule}: see the rule's message")
    setting = f"{NAMESPACE}:{fix.setting}" if fix.setting else None
    if own_program and fix.setting:
        current = (config or {}).get(setting)
        if config is not None and fix.good and current in fix.good:
            shown = "unset" if current is None else current
            return Advice("component", f"`{fix.setting}` is already {shown} in {stack_file}: "
                                       f"{_OUTSIDE}", setting, fix.argument_path)
        return Advice("setting", f"set `{fix.setting}` in {stack_file}: {fix.change}", setting,
                      fix.argument_path)
    if not own_program and fix.argument:
        return Advice("argument", f"set `{fix.argument_path}`: {fix.argument_change or fix.change}",
                      setting, fix.argument_path)
    return Advice("component", fix.change, setting, fix.argument_path)
