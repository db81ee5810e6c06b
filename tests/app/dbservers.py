"""Throwaway MariaDB / PostgreSQL servers with TLS for the app tests and bench/app.py.

Debian binaries (mariadb-server, postgresql 15), temp dirs, 127.0.0.1 on free ports, TLS from a
test CA generated here (the certificate names 127.0.0.1 and the reader endpoint 127.0.0.2; the
servers accept logins from both, and log each statement with the client's address). PostgreSQL refuses to run as root, so as root it
runs as `nobody`.
(pytest-postgresql / pytest-mysql don't cover TLS or root; these ~200 lines do.)

The database side of the product path: a stand-in master user (MariaDB: root; PostgreSQL:
`dbadmin`, CREATEDB + CREATEROLE but not a superuser, like Aurora's rds_superuser master) runs
the bootstrap statements of app/bootstrap/sql.py; the app user then accepts exactly the IAM
tokens the app presents (no AWSAuthenticationPlugin / rds_iam here: MariaDB accepts the tokens
as passwords through an `IDENTIFIED VIA … OR …` chain, PostgreSQL through a stand-in `rds_iam`
role plus an LDAP server that holds the accepted tokens; see tests/app/ldap_passwords.py).
"""
from __future__ import annotations

import atexit
import datetime
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PG_BIN = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"         # the server itself, and the writer endpoint
READER_HOST = "127.0.0.2"  # the reader endpoint: a forwarder (tests/app/forwarder.py) on the same port


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool, san=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class TestPKI:
    ca_file: Path          # CA that signed the servers' certificate
    other_ca_file: Path    # an unrelated CA (must be rejected)
    cert_file: Path        # server cert: SAN IP:127.0.0.1 + IP:127.0.0.2 only ("localhost" must be rejected)
    key_file: Path


def make_pki(directory: Path) -> TestPKI:
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for label in ("ca", "other-ca"):
        key = ec.generate_private_key(ec.SECP256R1())
        files[label] = (key, _cert(f"aurorakit test {label}", key, f"aurorakit test {label}", key, ca=True))
    ca_key, ca_cert = files["ca"]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("aurorakit test db", key, ca_cert.subject.rfc4514_string().split("=", 1)[1], ca_key,
                 ca=False, san=[x509.IPAddress(ipaddress.ip_address(h)) for h in (HOST, READER_HOST)])
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    out = TestPKI(directory / "ca.pem", directory / "other-ca.pem", directory / "server.pem",
                  directory / "server-key.pem")
    out.ca_file.write_bytes(pem(ca_cert))
    out.other_ca_file.write_bytes(pem(files["other-ca"][1]))
    out.cert_file.write_bytes(pem(cert))
    out.key_file.write_bytes(_pem_key(key))
    out.key_file.chmod(0o600)
    return out


def _wait(check, what: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"{what} did not become ready ({exc}); log tail:\n{tail}") from exc
            time.sleep(0.05)


_TEMPLATES: dict[str, Path] = {}  # engine -> initialized data dir (see DbServer._fresh_data_dir)


class DbServer:
    """Common lifecycle; subclasses define init/command/admin SQL for their engine."""
    engine: str
    db_name = "appdb"
    stop_signal = signal.SIGTERM

    def __init__(self, pki: TestPKI, workdir: Path | None = None):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"aurorakit-{self.engine}-"))
        self.port = free_port()
        self.host = HOST
        self.proc: subprocess.Popen | None = None
        self.log = self.workdir / "server.log"
        self.pki = pki
        self._init()

    def start(self):
        self.proc = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("ab"), start_new_session=True,
                                     **self._run_as())
        _wait(lambda: self.admin().close(), f"{self.engine} on port {self.port}", self.proc, self.log)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    iam_plugin = True  # the server can run the IAM statements as they are (see the docstring)

    def bootstrap(self, user: str, *, db: str | None = None, password: str | None = None) -> list[str]:
        """Create `db` (default the app database) and run the app's bootstrap in it as the
        stand-in master, exactly as the Lambda runs it on Aurora (MariaDB: with a password in
        place of AWSAuthenticationPlugin); returns the statements."""
        import secrets

        from app.bootstrap.sql import statements
        db = db or self.db_name
        if password is None and not self.iam_plugin:  # MariaDB: a password stands in for IAM
            password = secrets.token_urlsafe(18)
        self.create_database(db)
        sql = statements(self.engine, db, user, password=password)
        conn = self.master(db)
        try:
            for statement in sql:
                conn.cursor().execute(statement)
        finally:
            conn.close()
        return sql

    def sql(self, statement: str, params=(), *, in_app_db: bool = False) -> list[tuple]:
        """Run one admin statement (superuser over the unix socket); returns rows if any."""
        conn = self.admin(self.db_name) if in_app_db else self.admin()
        try:
            cur = conn.cursor()
            cur.execute(statement, params or None)
            return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def _run_as(self) -> dict:
        return {}

    def _fresh_data_dir(self, target: Path, make) -> None:
        """`target` = a copy of a never-started data dir initialized once per process by
        `make(dir)` (mariadb-install-db / initdb cost seconds; a copy a fraction of that)."""
        template = _TEMPLATES.get(self.engine)
        if template is None:
            parent = Path(tempfile.mkdtemp(prefix=f"aurorakit-template-{self.engine}-"))
            atexit.register(shutil.rmtree, parent, True)
            if self._run_as():
                os.chown(parent, pwd.getpwnam("nobody").pw_uid, -1)
            make(parent / "data")
            template = _TEMPLATES[self.engine] = parent / "data"
        subprocess.run(["cp", "-a", str(template), str(target)], check=True)

    def _wait_gone(self, user: str, sessions: list[tuple], timeout: float = 10.0):
        """Return once the killed sessions have ended (a commit in flight is then in the log)."""
        deadline = time.monotonic() + timeout
        while set(sessions) & set(self.sql(self.SESSIONS_SQL, (user,))):
            assert time.monotonic() < deadline, f"sessions of {user} still open after kill"
            time.sleep(0.01)


class MariaDbServer(DbServer):
    engine = "aurora-mysql"
    server_id: int | None = None  # set (replication_pair) = binlog on, a replication member

    def _init(self):
        self.socket = self.workdir / "mysqld.sock"
        self.general_log = self.workdir / "general.log"
        user = ["--user=root"] if os.geteuid() == 0 else []
        self._fresh_data_dir(self.workdir / "data", lambda data: subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--innodb-log-file-size=4M",
             "--auth-root-authentication-method=normal", "--skip-test-db", *user],
            check=True, capture_output=True))

    def _command(self):
        user = ["--user=root"] if os.geteuid() == 0 else []
        return ["mariadbd", "--no-defaults", *user, f"--datadir={self.workdir / 'data'}",
                f"--port={self.port}", f"--bind-address={HOST}", f"--socket={self.socket}",
                f"--pid-file={self.workdir / 'mysqld.pid'}", f"--log-error={self.log}",
                f"--ssl-ca={self.pki.ca_file}", f"--ssl-cert={self.pki.cert_file}",
                f"--ssl-key={self.pki.key_file}", "--require-secure-transport=ON",
                "--general-log=1", f"--general-log-file={self.general_log}",
                "--skip-name-resolve",
                *([f"--server-id={self.server_id}", f"--log-bin={self.workdir / 'binlog'}",
                   f"--relay-log={self.workdir / 'relay'}"] if self.server_id else ["--skip-log-bin"]),
                "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=200"]

    def admin(self, dbname: str | None = None):
        import pymysql
        return pymysql.connect(unix_socket=str(self.socket), user="root", database=dbname, autocommit=True)

    master_user = "root"  # stands in for Aurora's master user
    iam_plugin = False     # no AWSAuthenticationPlugin in MariaDB

    def master(self, dbname: str | None = None):
        return self.admin(dbname)

    def create_database(self, db: str):
        self.sql(f"CREATE DATABASE IF NOT EXISTS `{db}`")

    def set_password(self, user: str, password: str):
        self.sql(f"ALTER USER '{user}'@'%%' IDENTIFIED BY %s", (password,))

    def accept_tokens(self, user: str, tokens):
        """`user` logs in with any of `tokens` (each as a password), over TLS only."""
        chain = " OR ".join("mysql_native_password USING PASSWORD(%s)" for _ in tokens)
        self.sql(f"ALTER USER '{user}'@'%%' IDENTIFIED VIA {chain} REQUIRE SSL", tuple(tokens))

    SESSIONS_SQL = "SELECT id FROM information_schema.processlist WHERE user = %s"

    def kill_sessions(self, user: str):
        killed = self.sql(self.SESSIONS_SQL, (user,))
        for (pid,) in killed:
            try:
                self.sql(f"KILL CONNECTION {int(pid)}")
            except Exception as exc:  # noqa: BLE001 - it ended by itself meanwhile (1094 unknown thread)
                if getattr(exc, "args", (None,))[0] != 1094:
                    raise
        self._wait_gone(user, killed)

    # Replication (replication_pair): the replica follows this primary over TLS from its binlog start.
    def follow(self, primary: "MariaDbServer"):
        password = "repl-" + os.urandom(8).hex()
        primary.sql("CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY %s REQUIRE SSL", (password,))
        primary.sql("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'")
        first = primary.sql("SHOW BINARY LOGS")[0][0]
        self.sql(f"CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={primary.port}, "
                 f"MASTER_USER='repl', MASTER_PASSWORD=%s, MASTER_SSL=1, MASTER_SSL_CA='{self.pki.ca_file}', "
                 f"MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4", (password,))
        self.sql("SET GLOBAL read_only = ON")
        self.sql("START SLAVE")

    def demote(self):
        """Old writer: refuses writes from now on (what an Aurora reader does)."""
        self.sql("SET GLOBAL read_only = ON")

    def catch_up(self, primary: "MariaDbServer", timeout: float = 10):
        position = primary.sql("SELECT @@global.gtid_binlog_pos")[0][0]
        assert self.sql("SELECT MASTER_GTID_WAIT(%s, %s)", (position, timeout))[0][0] == 0, "replica lags"

    def promote(self):
        self.sql("STOP SLAVE")
        self.sql("RESET SLAVE ALL")
        self.sql("SET GLOBAL read_only = OFF")

    def statements(self) -> list[tuple[str, str]]:
        """(client address, SQL) for each query in the general log; the address is the server's
        view of the peer (from the session's Connect line), not anything the client says."""
        peers: dict[int, str] = {}
        out, line_re = [], re.compile(r"^(?:\d{6}\s+[\d:]+)?\s+(\d+)\s+(\w+)\t(.*)$")
        for line in self.general_log.read_text(errors="replace").splitlines():
            m = line_re.match(line)
            if m and m.group(2) == "Connect":  # "user@127.0.0.2 on appdb using SSL/TLS"
                peers[int(m.group(1))] = re.match(r"[^@]*@(\S+)", m.group(3)).group(1)
            elif m and m.group(2) in ("Query", "Execute"):
                out.append((peers.get(int(m.group(1)), "?"), m.group(3)))
            elif not m and out:
                out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        return out


class PostgresServer(DbServer):
    engine = "aurora-postgresql"
    stop_signal = signal.SIGINT  # "fast" shutdown: don't wait for clients to disconnect

    def __init__(self, pki: TestPKI, workdir: Path | None = None, primary: "PostgresServer | None" = None):
        self.primary = primary  # set: a streaming replica of that (started) server
        super().__init__(pki, workdir)

    def _run_as(self) -> dict:
        return {"user": "nobody", "group": "nogroup", "extra_groups": []} if os.geteuid() == 0 else {}

    def _init(self):
        self.data = self.workdir / "data"
        tls = self.workdir / "tls"
        tls.mkdir()
        for src in (self.pki.cert_file, self.pki.key_file):
            shutil.copy(src, tls / src.name)
        (tls / self.pki.key_file.name).chmod(0o600)
        if os.geteuid() == 0:
            uid = pwd.getpwnam("nobody").pw_uid
            for p in (self.workdir, tls, *tls.iterdir()):
                os.chown(p, uid, -1)
        if self.primary:  # a copy of the primary that streams its WAL (standby.signal, -R)
            subprocess.run([str(PG_BIN / "pg_basebackup"), "-D", str(self.data), "-h", str(self.primary.workdir),
                            "-p", str(self.primary.port), "-U", "postgres", "-X", "stream", "-R", "-c", "fast",
                            "--no-sync"], check=True, capture_output=True, **self._run_as())
        else:
            self._fresh_data_dir(self.data, lambda data: subprocess.run(
                [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"],
                check=True, capture_output=True, **self._run_as()))
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nlocal replication all trust\n"
            + "".join(f"hostssl all all {h}/32 scram-sha-256\n" for h in (HOST, READER_HOST)))

    def _command(self):
        tls = self.workdir / "tls"
        settings = {"listen_addresses": HOST, "port": self.port,
                    "unix_socket_directories": self.workdir, "ssl": "on",
                    "ssl_cert_file": tls / self.pki.cert_file.name,
                    "ssl_key_file": tls / self.pki.key_file.name, "log_statement": "all",
                    "log_line_prefix": "%h|", "fsync": "off", "synchronous_commit": "off",
                    "max_connections": 200, "shared_buffers": "16MB"}
        return [str(PG_BIN / "postgres"), "-D", str(self.data),
                *[a for k, v in settings.items() for a in ("-c", f"{k}={v}")]]

    def admin(self, dbname: str = "postgres"):
        import psycopg
        # the superuser writes even on a demoted server (as MariaDB's root does with read_only)
        return psycopg.connect(host=str(self.workdir), port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, options="-c default_transaction_read_only=off")

    master_user = "dbadmin"  # CREATEDB + CREATEROLE, not a superuser: like Aurora's master

    def master(self, dbname: str = "postgres"):
        import psycopg
        return psycopg.connect(host=str(self.workdir), port=self.port, user=self.master_user,
                               dbname=dbname, autocommit=True)

    def create_database(self, db: str):
        from psycopg import sql
        for role, options in ((self.master_user, "LOGIN CREATEDB CREATEROLE"), ("rds_iam", "NOLOGIN")):
            if not self.sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
                self.sql(f"CREATE ROLE {role} {options}")  # rds_iam: stand-in for RDS's role
        if not self.sql("SELECT 1 FROM pg_database WHERE datname = %s", (db,)):
            self.sql(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), sql.Identifier(self.master_user)))

    def accept_tokens(self, user: str, tokens):
        """`user` logs in with any of `tokens` over TLS: pg_hba hands its logins to an LDAP
        stand-in holding the tokens (a role has only one password)."""
        from tests.app.ldap_passwords import PasswordSetLdap
        if getattr(self, "ldap", None) is None:
            self.ldap = PasswordSetLdap()
            lines = "".join(f"hostssl all {user} {h}/32 ldap {self.ldap.pg_hba_options()}\n"
                            for h in (HOST, READER_HOST))
            hba = self.data / "pg_hba.conf"
            hba.write_text(hba.read_text().replace("local all all trust\n", "local all all trust\n" + lines))
            self.sql("SELECT pg_reload_conf()")
        self.ldap.accept(user, tokens)

    def destroy(self):
        super().destroy()
        if getattr(self, "ldap", None) is not None:
            self.ldap.close()

    def set_password(self, user: str, password: str):
        from psycopg import sql
        self.sql(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(user), sql.Literal(password)))

    SESSIONS_SQL = "SELECT pid FROM pg_stat_activity WHERE usename = %s"

    def kill_sessions(self, user: str):
        killed = self.sql(self.SESSIONS_SQL, (user,))
        self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (user,))
        self._wait_gone(user, killed)

    def demote(self):
        """Old writer: refuses writes from now on, like an Aurora reader (every session, new and
        open, gets default_transaction_read_only)."""
        self.sql("ALTER SYSTEM SET default_transaction_read_only = on")
        self.sql("SELECT pg_reload_conf()")

    def catch_up(self, primary: "PostgresServer", timeout: float = 10):
        position = primary.sql("SELECT pg_current_wal_insert_lsn()")[0][0]
        deadline = time.monotonic() + timeout
        while not self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (position,))[0][0]:
            assert time.monotonic() < deadline, "replica lags"
            time.sleep(0.02)

    def promote(self):
        assert self.sql("SELECT pg_promote(true, 10)")[0][0] is True

    def statements(self) -> list[tuple[str, str]]:
        """(client address, SQL) for each statement in the server log (%h: the server's view of the peer)."""
        out, line_re = [], re.compile(r"^([^|]*)\|LOG:\s+(?:statement|execute [^:]*):\s(.*)$")
        for line in self.log.read_text(errors="replace").splitlines():
            m = line_re.match(line)
            if m:
                out.append((m.group(1), m.group(2)))
            elif out and line.startswith(("\t", " ")):
                out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        return out


SERVERS = {"mariadb": MariaDbServer, "postgres": PostgresServer}
APP_USER = "aurorakit_app"


def replication_pair(kind: str, pki: TestPKI) -> tuple[DbServer, DbServer]:
    """A started primary and a started replica of it (`kind` in SERVERS), for failover tests: the
    replica has every committed write once `catch_up` returns (Aurora's shared storage gives a
    promoted reader that for free). Stop both with destroy()."""
    if kind == "mariadb":
        primary, replica = MariaDbServer(pki), MariaDbServer(pki)
        primary.server_id, replica.server_id = 1, 2
        primary.start()
        replica.start().follow(primary)
        return primary, replica
    primary = PostgresServer(pki).start()
    return primary, PostgresServer(pki, primary=primary).start()


def provision(server: DbServer, pki: TestPKI, region: str, reader_host: str | None = None):
    """The app's database as the deploy creates it (the bootstrap run by the stand-in master) and
    the app's non-secret settings pointing at `server` (the reader endpoint at `reader_host`,
    default the server itself). The caller makes the app user accept the app's tokens."""
    from app.settings import Settings

    server.bootstrap(APP_USER)
    return Settings(region=region, db_user=APP_USER, writer_host=server.host,
                    reader_host=reader_host or server.host, port=server.port,
                    db_name=server.db_name, engine=server.engine, ca_bundle=str(pki.ca_file),
                    connect_timeout=3)
