"""Aurora engine facts: ports, log exports, TLS parameters (and whether RDS applies each one
without a reboot), default versions, version syntax and parameter-group families, Performance
Insights support per instance class, and the Regions without Backtrack."""
from __future__ import annotations

import re
from enum import StrEnum
from typing import TypedDict


class Engine(StrEnum):
    """The Aurora engine."""

    AURORA_MYSQL = "aurora-mysql"
    """Aurora MySQL (port 3306)."""
    AURORA_POSTGRESQL = "aurora-postgresql"
    """Aurora PostgreSQL (port 5432)."""


class EngineFacts(TypedDict):
    port: int
    logs: list[str]  # CloudWatch log exports
    proxy: str  # RDS Proxy engine family
    tls: dict[str, str]  # cluster parameters that enforce TLS


ENGINES: dict[str, EngineFacts] = {
    "aurora-mysql": {"port": 3306, "logs": ["audit", "error", "slowquery"], "proxy": "MYSQL",
                     "tls": {"require_secure_transport": "ON"}},
    "aurora-postgresql": {"port": 5432, "logs": ["postgresql"], "proxy": "POSTGRESQL",
                          "tls": {"rds.force_ssl": "1"}}}
# The engines' own databases: the cluster's initial database (dbName) must be another one.
SYSTEM_DATABASES = {"aurora-mysql": ("information_schema", "mysql", "performance_schema", "sys"),
                    "aurora-postgresql": ("postgres", "rdsadmin", "template0", "template1")}
DEFAULT_ENGINE_VERSIONS = {"aurora-mysql": "8.0.mysql_aurora.3.08.2", "aurora-postgresql": "16.6"}
# Aurora MySQL 2 / 3 / 8.4: 5.7.mysql_aurora.2.12.4, 8.0.mysql_aurora.3.08.2, 8.4.mysql_aurora.8.4.7
# (RDS API engine versions; 8.4 numbers its releases 8.4.<minor>, the part after "mysql_aurora.").
VERSION_PATTERNS = {"aurora-mysql": r"(5\.7|8\.0|8\.4)\.mysql_aurora\.\d+\.\d+\.\d+",
                    "aurora-postgresql": r"\d{2}(\.\d+)?"}
# Cluster-level; the slowquery export needs the slow log written to FILE (AWS's Database
# Insights guide sets exactly these in the DB cluster parameter group).
MYSQL_AUDIT = {"server_audit_logging": "1", "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
               "slow_query_log": "1", "log_output": "FILE"}

# How RDS applies a change to each parameter this project sets. "dynamic": the change applies
# at once (apply method "immediate"); anything else waits for the next reboot ("pending-reboot",
# which RDS accepts for every parameter, while "immediate" is rejected for static ones).
# - require_secure_transport, log_output, slow_query_log: dynamic in aurora-mysql8.0 cluster
#   groups (terraform-aws-modules/rds-aurora's CI-applied mysql example sets them "immediate").
# - server_audit_logging, server_audit_events: dynamic (Advanced Auditing is switched on and off
#   without a reboot).
# - rds.force_ssl: treated as static. RDS has documented it as static for some PostgreSQL
#   versions; its value is fixed at creation here, so nothing ever waits on it.
PARAMETER_APPLY = {"require_secure_transport": "dynamic", "server_audit_logging": "dynamic",
                   "server_audit_events": "dynamic", "slow_query_log": "dynamic", "log_output": "dynamic",
                   "rds.force_ssl": "static"}


def apply_method(parameter: str) -> str:
    """"immediate" for a dynamic parameter, else "pending-reboot" (unknown ones are static)."""
    return "immediate" if PARAMETER_APPLY.get(parameter) == "dynamic" else "pending-reboot"


def major_version(engine: str, version: str) -> str:
    """"5.7" / "8.0" / "8.4" for aurora-mysql, "16" for aurora-postgresql 16.x."""
    if engine == "aurora-mysql":
        return version[:3]
    found = re.match(r"\d+", version)
    if found is None:
        raise ValueError(f"not an {engine} version: {version!r}")
    return found.group(0)


def parameter_group_family(engine: str, version: str) -> str:
    """aurora-mysql5.7 / aurora-mysql8.0 / aurora-mysql8.4 / aurora-postgresql16 from the version."""
    return engine + major_version(engine, version)


def version_key(version: str) -> tuple[int, ...]:
    """The version's numbers in order, for comparisons ("8.0.mysql_aurora.3.08.2" -> (8, 0, 3, 8, 2))."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


def is_newer(version: str, than: str) -> bool:
    """Whether `version` is later than `than`. A partial version ("16") covers its releases
    ("16.6"), as the provider treats it (no diff)."""
    if version == than or version.startswith(than + "."):
        return False
    return version_key(version) > version_key(than)


# Aurora MySQL has no Performance Insights on these classes (AWS rejects the instance);
# Aurora PostgreSQL and db.serverless support it everywhere.
_MYSQL_NO_PI = re.compile(r"db\.(t2|t3)\..*|db\.t4g\.(micro|small)")


def performance_insights_supported(engine: str, instance_class: str) -> bool:
    """Whether RDS accepts Performance Insights for `engine` on `instance_class`."""
    return not (engine == "aurora-mysql" and _MYSQL_NO_PI.fullmatch(instance_class))


def pi_retention_valid(days: int) -> bool:
    """Performance Insights retention RDS accepts: 7, 31 x 1..23 months, or 731 (2 years)."""
    return isinstance(days, int) and not isinstance(days, bool) and \
        (days in (7, 731) or (days % 31 == 0 and 31 <= days <= 713))


# Database Insights' Advanced mode needs Performance Insights kept at least 15 months.
ADVANCED_INSIGHTS_MIN_RETENTION = 465

# Serverless v2 minimum 0 ACU (auto-pause): Aurora MySQL 3.08.0+ and 8.4, Aurora PostgreSQL
# 13.15+, 14.12+, 15.7+, 16.3+ and every later major.
_ZERO_ACU_PG = {13: 15, 14: 12, 15: 7, 16: 3}


def supports_zero_acu(engine: str, version: str) -> bool:
    """Whether a Serverless v2 minimum of 0 ACU is accepted for this engine version."""
    if engine == "aurora-mysql":
        if re.fullmatch(r"8\.4\.mysql_aurora\.\d+\.\d+\.\d+", version):
            return True
        found = re.fullmatch(r"8\.0\.mysql_aurora\.(\d+)\.(\d+)\.\d+", version)
        return found is not None and (int(found[1]), int(found[2])) >= (3, 8)
    found = re.fullmatch(r"(\d+)\.(\d+)", version)
    if not found:
        return False  # a bare major resolves to a minor we cannot check here
    major, minor = int(found[1]), int(found[2])
    return major > 16 or (major in _ZERO_ACU_PG and minor >= _ZERO_ACU_PG[major])


# Regions where AWS's knowledge center ("aurora-mysql-cluster-backtrack") says Backtrack is not
# available. AWS publishes no complete machine-readable list: Regions launched later may lack it
# too, and then RDS refuses the cluster at creation.
BACKTRACK_UNAVAILABLE_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "cn-northwest-1", "eu-north-1", "eu-south-1", "me-south-1", "sa-east-1"})
