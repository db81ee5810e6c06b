"""Aurora engine facts: ports, log exports, TLS parameters, default versions, PG families,
Performance Insights support per instance class."""
from __future__ import annotations

import re
from enum import StrEnum


class Engine(StrEnum):
    """The Aurora engine."""

    AURORA_MYSQL = "aurora-mysql"
    """Aurora MySQL (port 3306)."""
    AURORA_POSTGRESQL = "aurora-postgresql"
    """Aurora PostgreSQL (port 5432)."""


ENGINES = {"aurora-mysql": {"port": 3306, "logs": ["audit", "error", "slowquery"], "proxy": "MYSQL",
                            "tls": {"require_secure_transport": "ON"}},
           "aurora-postgresql": {"port": 5432, "logs": ["postgresql"], "proxy": "POSTGRESQL",
                                 "tls": {"rds.force_ssl": "1"}}}
DEFAULT_ENGINE_VERSIONS = {"aurora-mysql": "8.0.mysql_aurora.3.08.2", "aurora-postgresql": "16.6"}
VERSION_PATTERNS = {"aurora-mysql": r"(5\.7|8\.0)\.mysql_aurora\.\d+\.\d+\.\d+",
                    "aurora-postgresql": r"\d{2}(\.\d+)?"}
# Cluster-level and dynamic; the slowquery export needs the slow log written to FILE (AWS's
# Database Insights guide sets exactly these in the DB cluster parameter group).
MYSQL_AUDIT = {"server_audit_logging": "1", "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
               "slow_query_log": "1", "log_output": "FILE"}


def parameter_group_family(engine: str, version: str) -> str:
    """aurora-mysql8.0 / aurora-mysql5.7 / aurora-postgresql16 from the engine version."""
    if engine == "aurora-mysql":
        return "aurora-mysql" + ("5.7" if version.startswith("5.7") else "8.0")
    return "aurora-postgresql" + re.match(r"\d+", version).group(0)


# Aurora MySQL has no Performance Insights on these classes (AWS rejects the instance);
# Aurora PostgreSQL and db.serverless support it everywhere.
_MYSQL_NO_PI = re.compile(r"db\.(t2|t3)\..*|db\.t4g\.(micro|small)")


def performance_insights_supported(engine: str, instance_class: str) -> bool:
    """Whether RDS accepts Performance Insights for `engine` on `instance_class`."""
    return not (engine == "aurora-mysql" and _MYSQL_NO_PI.fullmatch(instance_class))


# Serverless v2 minimum 0 ACU (auto-pause): Aurora MySQL 3.08.0+, Aurora PostgreSQL 13.15+,
# 14.12+, 15.7+, 16.3+ and every later major.
_ZERO_ACU_PG = {13: 15, 14: 12, 15: 7, 16: 3}


def supports_zero_acu(engine: str, version: str) -> bool:
    """Whether a Serverless v2 minimum of 0 ACU is accepted for this engine version."""
    if engine == "aurora-mysql":
        found = re.fullmatch(r"8\.0\.mysql_aurora\.(\d+)\.(\d+)\.\d+", version)
        return bool(found) and (int(found[1]), int(found[2])) >= (3, 8)
    found = re.fullmatch(r"(\d+)\.(\d+)", version)
    if not found:
        return False  # a bare major resolves to a minor we cannot check here
    major, minor = int(found[1]), int(found[2])
    return major > 16 or (major in _ZERO_ACU_PG and minor >= _ZERO_ACU_PG[major])
