"""The app's schema and database identity as SQL, per engine: one list of statements that the
bootstrap Lambda runs through the RDS Data API as the master user, and that the tests run on
real MariaDB and PostgreSQL.

Every run converges to the same state (a second run, a re-created host, a restored cluster):
- the schema (table `entries`) exists, owned by the master user: the app never runs DDL;
- the app user exists, authenticates with IAM tokens only (MySQL `AWSAuthenticationPlugin`,
  REQUIRE SSL; PostgreSQL LOGIN + member of `rds_iam`, no password);
- its privileges are exactly DML on the app database's tables (PostgreSQL: plus USAGE/SELECT on
  their sequences, CONNECT on the database and USAGE on schema public, also for tables the master
  creates later); anything else granted by hand is revoked. It cannot create users or roles,
  run DDL, create temporary tables, read other databases or drop the database.

`password=` replaces IAM authentication by a password, for test servers only (MariaDB has no
AWSAuthenticationPlugin; a local PostgreSQL needs a stand-in `rds_iam` role, created by the
tests): the Lambda never passes it.
Stdlib only (it is packaged into the Lambda).
"""
from __future__ import annotations

import hashlib
import re
from typing import Optional

ENGINES = ("aurora-mysql", "aurora-postgresql")
TABLE = "entries"
DML = "SELECT, INSERT, UPDATE, DELETE"
# Lowercase identifiers only: nothing to quote or escape, and the same name on both engines
# (MySQL user names are at most 32 characters).
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Never the app user: RDS's own and well-known administrative names, and the stand-ins' roles.
RESERVED = frozenset({"admin", "administrator", "master", "mysql", "postgres", "public", "rdsadmin",
                      "rdsproxyadmin", "rds_iam", "rds_superuser", "rds_replication", "rdsrepladmin",
                      "root", "sa"})

_MYSQL_TABLE = (
    "CREATE TABLE IF NOT EXISTS `{db}`.`entries` ("
    "`id` INTEGER NOT NULL AUTO_INCREMENT, "
    "`name` VARCHAR(100) NOT NULL, "
    "`address` VARCHAR(200) NOT NULL, "
    "`created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "
    "PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
_PG_TABLE = (
    "CREATE TABLE IF NOT EXISTS public.entries ("
    "id SERIAL PRIMARY KEY, "
    "name VARCHAR(100) NOT NULL, "
    "address VARCHAR(200) NOT NULL, "
    "created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP)")


def check_names(db_name: str, user: str) -> None:
    """One clear error for a database or user name the statements cannot carry safely."""
    for label, value in (("db_name", db_name), ("user", user)):
        if not isinstance(value, str) or not NAME.fullmatch(value):
            raise ValueError(f"{label} {value!r}: must be 1-32 lowercase letters, digits or '_', "
                             "starting with a letter")
    if user in RESERVED:
        raise ValueError(f"user {user!r}: reserved administrative name; allowed: any other name "
                         f"(not {', '.join(sorted(RESERVED))})")


def _literal(password: str) -> str:
    if "'" in password or "\\" in password or not password.isprintable():
        raise ValueError("password: printable characters without quotes or backslashes")
    return f"'{password}'"


def _mysql(db: str, user: str, password: Optional[str]) -> list[str]:
    who = f"'{user}'@'%'"
    auth = (f"IDENTIFIED BY {_literal(password)}" if password is not None
            else "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'")
    return [
        _MYSQL_TABLE.format(db=db),
        f"CREATE USER IF NOT EXISTS {who} {auth} REQUIRE SSL",
        f"ALTER USER {who} {auth} REQUIRE SSL",  # an existing user converges too
        f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {who}",
        f"GRANT {DML} ON `{db}`.* TO {who}",
    ]


def _postgres(db: str, user: str, password: Optional[str]) -> list[str]:
    role = f'"{user}"'
    secret = f"PASSWORD {_literal(password)}" if password is not None else "PASSWORD NULL"
    # Each REVOKE + GRANT pair runs in one DO block: one statement, one transaction, so a
    # re-run never leaves the running app without its privileges, not even for a moment.
    return [
        _PG_TABLE,
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
        f"'{user}') THEN CREATE ROLE {role} LOGIN; END IF; END$$",
        f"ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE {secret}",
        f"GRANT rds_iam TO {role}",
        f'DO $$BEGIN REVOKE ALL ON DATABASE "{db}" FROM PUBLIC; REVOKE ALL ON DATABASE "{db}" '
        f'FROM {role}; GRANT CONNECT ON DATABASE "{db}" TO {role}; END$$',
        f"DO $$BEGIN REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE ALL ON SCHEMA public "
        f"FROM {role}; GRANT USAGE ON SCHEMA public TO {role}; END$$",
        f"DO $$BEGIN REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; GRANT {DML} ON "
        f"ALL TABLES IN SCHEMA public TO {role}; END$$",
        f"DO $$BEGIN REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}; GRANT USAGE, "
        f"SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}; END$$",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {DML} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def statements(engine: str, db_name: str, user: str, *, password: Optional[str] = None) -> list[str]:
    """The bootstrap, in order; run them as the master user connected to `db_name`."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: allowed values are {', '.join(ENGINES)}")
    check_names(db_name, user)
    return (_mysql if engine == "aurora-mysql" else _postgres)(db_name, user, password)


def current_user_sql(engine: str) -> str:
    """The user the statements run as (the bootstrap refuses to turn that user into the app user)."""
    return ("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)" if engine == "aurora-mysql"
            else "SELECT CAST(current_user AS TEXT)")


def digest(sql: list[str]) -> str:
    """sha256 of the statement list: a change re-runs the bootstrap (an Invocation trigger)."""
    return hashlib.sha256("\n;\n".join(sql).encode()).hexdigest()
