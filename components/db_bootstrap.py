"""DatabaseBootstrap: creates the app's schema and least-privilege IAM database user at deploy time.

A small Lambda function (app/bootstrap/handler.py, stdlib + boto3) outside any VPC runs the
statements of app/bootstrap/sql.py through the RDS Data API as the master user, so no network
path to the database is needed (dev has no NAT) and the machine running `pulumi up` never
reaches the database. An `aws.lambda_.Invocation` runs it once the writer exists, and again
whenever a trigger changes: the cluster's resource id (a replaced or restored cluster), the
engine, database, user, statements or the function's code. Scope CREATE_ONLY: `pulumi destroy`
invokes nothing (the user lives and dies with the cluster and its snapshots), so it can neither
fail nor hang on a database that is being deleted.

Its role may only: read the master secret (the Data API authenticates with it) and decrypt it
via Secrets Manager; ExecuteStatement/BatchExecuteStatement on this cluster; write its own
log group (CMK-encrypted, with retention).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_aws as aws

from .policies import AccountContext, assume_role_policy, document
from .webapp import bootstrap_sql

PACKAGE_DIR = Path(bootstrap_sql.__file__).resolve().parent
PACKAGE_FILES = ("__init__.py", "sql.py", "handler.py")
HANDLER = "bootstrap.handler.handler"
RUNTIME = "python3.13"
TIMEOUT = 300  # seconds; the handler retries transient Data API errors for at most 240 s

# RDS Data API on provisioned and Serverless v2 clusters (AWS's "Supported Regions and Aurora DB
# engines for RDS Data API"): Aurora PostgreSQL 13.11+, 14.8+, 15.3+, 16.1+, 17.4+ and later
# majors; Aurora MySQL 3.07+ (none on Aurora MySQL 2 / 5.7).
_DATA_API_PG = {13: 11, 14: 8, 15: 3, 16: 1, 17: 4}


def data_api_supported(engine: str, version: str) -> bool:
    """Whether the RDS Data API serves this engine version (a bare major counts as supported
    when every minor of it is: a later major)."""
    if engine == "aurora-mysql":
        # Aurora MySQL 3.07+ (MySQL 8.0); the 8.4-compatible line is later than every 3.x
        # (8.4.mysql_aurora.8.4.x): the Data API table lists Aurora MySQL "3.07 and higher".
        if re.fullmatch(r"8\.4\.mysql_aurora\.\d+\.\d+\.\d+", version):
            return True
        found = re.fullmatch(r"8\.0\.mysql_aurora\.(\d+)\.(\d+)(?:\.\d+)?", version)
        return found is not None and (int(found[1]), int(found[2])) >= (3, 7)
    found = re.fullmatch(r"(\d+)(?:\.(\d+))?", version)
    if not found:
        return False
    major, minor = int(found[1]), found[2]
    if major > max(_DATA_API_PG):
        return True
    return major in _DATA_API_PG and minor is not None and int(minor) >= _DATA_API_PG[major]


def package_sources() -> dict[str, str]:
    """The Lambda package: app/bootstrap as the `bootstrap` package (its handler imports `.sql`)."""
    return {f"bootstrap/{rel}": (PACKAGE_DIR / rel).read_text() for rel in PACKAGE_FILES}


def code_digest() -> str:
    return hashlib.sha256(json.dumps(package_sources(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class DatabaseBootstrapArgs:
    """Inputs of `DatabaseBootstrap`."""

    cluster_arn: pulumi.Input[str]
    """The cluster the Data API runs the statements on. Required."""
    cluster_resource_id: pulumi.Input[str]
    """The cluster's resource id: a new one (replaced or restored cluster) re-runs the bootstrap. Required."""
    master_secret_arn: pulumi.Input[str]
    """The master user's secret (the Data API authenticates with it). Required."""
    kms_key_arn: pulumi.Input[str]
    """The key encrypting that secret, and the function's log group. Required."""
    engine: str
    """"aurora-mysql" or "aurora-postgresql". Required."""
    db_name: str
    """The app's database. Required."""
    app_user: str
    """The app's IAM-authenticated user. Required."""
    log_group_name: pulumi.Input[str]
    """The function's log group name (the key's policy must let CloudWatch Logs use the key for it). Required."""
    log_retention_days: int = 30
    """Retention of the function's log group. Default: 30."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable child. Default: {}."""

    def __post_init__(self) -> None:
        try:
            bootstrap_sql.statements(self.engine, self.db_name, self.app_user)
        except ValueError as exc:
            raise ValueError(f"DatabaseBootstrapArgs: {exc}") from None


class DatabaseBootstrap(pulumi.ComponentResource):
    """The deploy-time bootstrap of the app's database user; see the module docstring."""

    function_name: pulumi.Output[str]
    """The bootstrap Lambda function (invoke it by hand to re-apply the same bootstrap)."""
    role_arn: pulumi.Output[str]
    """The function's role."""
    result: pulumi.Output[str]
    """The last run's result (JSON: engine, database, user, statement count and hash; no secret)."""

    def __init__(self, name: str, args: DatabaseBootstrapArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("aurorakit:index:DatabaseBootstrap", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        ctx = AccountContext(pulumi.InvokeOptions(parent=self))
        sql = bootstrap_sql.statements(args.engine, args.db_name, args.app_user)

        logs = aws.cloudwatch.LogGroup(f"{name}-logs", name=args.log_group_name,
                                       retention_in_days=args.log_retention_days,
                                       kms_key_id=args.kms_key_arn, tags=tags, opts=child)
        role = aws.iam.Role(f"{name}-role", description=f"{name}: creates the app's DB user via the Data API",
                            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
                            tags=tags, opts=child)
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=pulumi.Output.all(
            args.master_secret_arn, args.kms_key_arn, args.cluster_arn, logs.arn,
            ctx.service_host("secretsmanager")).apply(lambda a: bootstrap_policy(*a)), opts=child)
        function = aws.lambda_.Function(
            f"{name}-fn", description=f"{name}: app DB user and schema (RDS Data API, master secret)",
            runtime=RUNTIME, handler=HANDLER, role=role.arn, architectures=["arm64"],
            timeout=TIMEOUT, memory_size=128,
            code=pulumi.AssetArchive({path: pulumi.StringAsset(text)
                                      for path, text in package_sources().items()}),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "CLUSTER_ARN": args.cluster_arn, "SECRET_ARN": args.master_secret_arn,
                "ENGINE": args.engine, "DB_NAME": args.db_name, "APP_USER": args.app_user}),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=logs.name),
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        run = aws.lambda_.Invocation(
            f"{name}-run", function_name=function.name, lifecycle_scope="CREATE_ONLY",
            input=json.dumps({"bootstrap": "app-db-user"}),
            triggers={"clusterResourceId": args.cluster_resource_id, "engine": args.engine,
                      "database": args.db_name, "user": args.app_user,
                      "statements": bootstrap_sql.digest(sql), "code": code_digest()},
            opts=child)

        self.function_name = function.name
        self.role_arn = role.arn
        self.result = run.result
        self.register_outputs({"function_name": self.function_name, "role_arn": self.role_arn,
                               "result": self.result})


def bootstrap_policy(secret_arn: str, key_arn: str, cluster_arn: str, log_group_arn: str,
                     secretsmanager_host: str) -> str:
    """The bootstrap role's only permissions."""
    return document([
        {"Sid": "ReadTheMasterSecretForTheDataApi", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue"], "Resource": [secret_arn]},
        {"Sid": "DecryptItViaSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"],
         "Resource": [key_arn], "Condition": {"StringEquals": {"kms:ViaService": secretsmanager_host}}},
        {"Sid": "RunSqlOnThisCluster", "Effect": "Allow",
         "Action": ["rds-data:BatchExecuteStatement", "rds-data:ExecuteStatement"],
         "Resource": [cluster_arn]},
        {"Sid": "WriteItsOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [f"{log_group_arn}:*"]},
    ])
