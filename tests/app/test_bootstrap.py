"""The bootstrap statements (app/bootstrap/sql.py) on real MariaDB and PostgreSQL, run by the
stand-in master: the user exists, re-runs converge, and the user's privileges are exactly DML on
its database's tables. Test-only substitutions (the servers have no RDS IAM): the user gets a
password in place of AWSAuthenticationPlugin (MariaDB), a stand-in `rds_iam` role (PostgreSQL)."""
from __future__ import annotations

import pymysql
import pytest

from app.bootstrap.sql import statements

DB, OTHER, USER, PASSWORD = "bootdb", "otherdb", "boot_app", "boot-pw-1"


def app_connection(server, pki, db=DB):
    """The app user over TLS, as the app connects (verify-full)."""
    if server.engine == "aurora-mysql":
        return pymysql.connect(host=server.host, port=server.port, user=USER, password=PASSWORD, database=db,
                               ssl_ca=str(pki.ca_file), ssl_verify_cert=True, ssl_verify_identity=True,
                               autocommit=True)
    import psycopg
    return psycopg.connect(host=server.host, port=server.port, user=USER, password=PASSWORD, dbname=db,
                           sslmode="verify-full", sslrootcert=str(pki.ca_file), autocommit=True)


def run(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    return cur.fetchall() if cur.description else None


def master_sql(server, sql, db=DB):
    conn = server.master(db)
    try:
        return run(conn, sql)
    finally:
        conn.close()


def privileges(server) -> dict:
    """Everything that makes up the user's privileges, as the server reports it."""
    if server.engine == "aurora-mysql":
        return {"grants": sorted(r[0] for r in server.sql(f"SHOW GRANTS FOR '{USER}'@'%'"))}
    q = lambda sql: sorted(master_sql(server, sql))  # noqa: E731
    return {
        "role": q(f"SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin "
                  f"FROM pg_roles WHERE rolname = '{USER}'"),
        "member_of": q(f"SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                       f"JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = '{USER}'"),
        "tables": q(f"SELECT table_name, privilege_type, is_grantable FROM information_schema.role_table_grants "
                    f"WHERE grantee = '{USER}'"),
        "database": q(f"SELECT has_database_privilege('{USER}', '{DB}', 'CONNECT'), "
                      f"has_database_privilege('{USER}', '{DB}', 'CREATE'), "
                      f"has_database_privilege('{USER}', '{DB}', 'TEMP')"),
        "schema": q(f"SELECT has_schema_privilege('{USER}', 'public', 'USAGE'), "
                    f"has_schema_privilege('{USER}', 'public', 'CREATE')"),
        "sequences": q(f"SELECT c.relname, has_sequence_privilege('{USER}', c.oid, 'USAGE'), "
                       f"has_sequence_privilege('{USER}', c.oid, 'UPDATE') FROM pg_class c WHERE c.relkind = 'S'"),
    }


EXPECTED_PG = {
    "role": [(False, False, False, False, False, True)],
    "member_of": [("rds_iam",)],
    "tables": sorted((t, p, "NO") for t in ("entries",) for p in ("DELETE", "INSERT", "SELECT", "UPDATE")),
    "database": [(True, False, False)],
    "schema": [(True, False)],
    "sequences": [("entries_id_seq", True, False)],
}


@pytest.fixture(scope="module")
def booted(server):
    sql = server.bootstrap(USER, db=DB, password=PASSWORD)
    server.create_database(OTHER)
    master_sql(server, "CREATE TABLE IF NOT EXISTS private_t (secret_v VARCHAR(20))", db=OTHER)
    return sql


def test_the_bootstrap_is_the_generators_list(server, booted):
    assert booted == statements(server.engine, DB, USER, password=PASSWORD)


def test_exactly_the_listed_privileges(server, booted):
    got = privileges(server)
    if server.engine == "aurora-mysql":
        digest = server.sql(f"SELECT authentication_string FROM mysql.user WHERE user = '{USER}'")[0][0]
        assert got == {"grants": sorted([
            f"GRANT USAGE ON *.* TO `{USER}`@`%` IDENTIFIED BY PASSWORD '{digest}' REQUIRE SSL",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{DB}`.* TO `{USER}`@`%`"])}
    else:
        assert got == EXPECTED_PG


def test_allowed_dml_works(server, pki, booted):
    conn = app_connection(server, pki)
    try:
        run(conn, "INSERT INTO entries (name, address) VALUES ('a', 'b')")
        assert run(conn, "SELECT name, address FROM entries WHERE name = 'a'")[0] == ("a", "b")
        run(conn, "UPDATE entries SET address = 'c' WHERE name = 'a'")
        run(conn, "DELETE FROM entries WHERE name = 'a'")
        assert not run(conn, "SELECT 1 FROM entries WHERE name = 'a'")
    finally:
        conn.close()


FORBIDDEN = {
    "aurora-mysql": [
        "CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'", "CREATE ROLE intruder",
        f"DROP DATABASE {DB}", "CREATE TABLE t2 (id INT)", "ALTER TABLE entries ADD COLUMN x INT",
        "DROP TABLE entries", "TRUNCATE TABLE entries", "CREATE TEMPORARY TABLE tmp (id INT)",
        f"SELECT * FROM {OTHER}.private_t", f"GRANT SELECT ON {DB}.entries TO 'root'@'localhost'",
        "SELECT * FROM mysql.user", f"CREATE DATABASE {DB}2"],
    "aurora-postgresql": [
        "CREATE USER intruder", "CREATE ROLE intruder", f"DROP DATABASE {DB}", "CREATE TABLE t2 (id INT)",
        "ALTER TABLE entries ADD COLUMN x INT", "DROP TABLE entries", "TRUNCATE entries",
        "CREATE TEMP TABLE tmp (id INT)", "CREATE SCHEMA s2", f"CREATE DATABASE {DB}2",
        "GRANT rds_iam TO CURRENT_USER", "SELECT * FROM pg_authid"],
}


@pytest.mark.parametrize("index", range(12))  # 12 statements per engine (checked below)
def test_forbidden_statements_fail(server, pki, booted, index):
    assert {len(v) for v in FORBIDDEN.values()} == {12}
    sql = FORBIDDEN[server.engine][index]
    conn = app_connection(server, pki)
    try:
        with pytest.raises(Exception) as caught:
            run(conn, sql)
        message = str(caught.value).lower()
        assert any(word in message for word in ("denied", "must be", "must have")), caught.value
    finally:
        conn.close()


def test_cannot_grant_or_read_another_database(server, pki, booted):
    """GRANT without grant option: MySQL refuses, PostgreSQL warns and grants nothing; another
    database's table cannot be read (PostgreSQL: even when connected to that database)."""
    before = privileges(server)
    conn = app_connection(server, pki)
    try:
        try:
            run(conn, "GRANT SELECT ON entries TO PUBLIC" if server.engine == "aurora-postgresql"
                else f"GRANT SELECT ON {DB}.entries TO '{USER}'@'%'")
        except Exception as exc:  # noqa: BLE001 - either refusal counts
            assert "denied" in str(exc).lower()
    finally:
        conn.close()
    assert privileges(server) == before
    if server.engine == "aurora-postgresql":
        assert not master_sql(server, "SELECT 1 FROM information_schema.role_table_grants WHERE grantee = 'PUBLIC' "
                                      "AND table_name = 'entries'")
        other = app_connection(server, pki, db=OTHER)
        try:
            with pytest.raises(Exception, match="permission denied"):
                run(other, "SELECT * FROM private_t")
        finally:
            other.close()


def test_reruns_converge_after_data_drift_and_new_tables(server, pki, booted):
    before = privileges(server)
    conn = app_connection(server, pki)
    try:
        run(conn, "INSERT INTO entries (name, address) VALUES ('kept', 'x')")
    finally:
        conn.close()
    # someone widens the user's privileges by hand
    if server.engine == "aurora-mysql":
        server.sql(f"GRANT ALL ON {DB}.* TO '{USER}'@'%'")
        server.sql(f"GRANT CREATE USER ON *.* TO '{USER}'@'%'")
    else:
        master_sql(server, f"GRANT ALL ON entries TO {USER}")
        master_sql(server, f"GRANT CREATE ON SCHEMA public TO {USER}")
        master_sql(server, f"GRANT TEMP ON DATABASE {DB} TO {USER}")
        master_sql(server, f"ALTER ROLE {USER} CREATEDB")
    assert privileges(server) != before
    for _ in range(2):  # a second up, a re-created host, a restored cluster: the same statements again
        assert server.bootstrap(USER, db=DB, password=PASSWORD) == booted
        assert privileges(server) == before
    assert master_sql(server, "SELECT COUNT(*) FROM entries WHERE name = 'kept'")[0][0] == 1
    # a table the master adds later is the app's to use, and nothing more
    master_sql(server, "CREATE TABLE later_t (id INTEGER PRIMARY KEY, v VARCHAR(10))")
    conn = app_connection(server, pki)
    try:
        run(conn, "INSERT INTO later_t (id, v) VALUES (1, 'x')")
        with pytest.raises(Exception):
            run(conn, "DROP TABLE later_t")
    finally:
        conn.close()
        master_sql(server, "DROP TABLE later_t")


@pytest.mark.parametrize("engine,db,user,message", [
    ("aurora-oracle", "app", "app", "engine 'aurora-oracle': allowed values are aurora-mysql, aurora-postgresql"),
    ("aurora-mysql", "app", "App", "user 'App': must be 1-32 lowercase letters"),
    ("aurora-mysql", "app; DROP", "app", "db_name 'app; DROP': must be"),
    ("aurora-postgresql", "app", "x" * 33, "must be 1-32 lowercase"),
    ("aurora-postgresql", "app", "rds_iam", "user 'rds_iam': reserved administrative name"),
    ("aurora-mysql", "app", "root", "user 'root': reserved"),
])
def test_bad_names_are_one_clear_error(engine, db, user, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        statements(engine, db, user)


def test_iam_statements_name_the_plugin_and_rds_iam_and_no_password():
    mysql = statements("aurora-mysql", "app", "app")
    assert "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL" in mysql[1]
    pg = statements("aurora-postgresql", "app", "app")
    assert 'GRANT rds_iam TO "app"' in pg and any("PASSWORD NULL" in s for s in pg)
    assert not any("IDENTIFIED BY" in s for s in mysql)
    with pytest.raises(ValueError, match="password: printable characters without quotes"):
        statements("aurora-mysql", "app", "app", password="a'b")
