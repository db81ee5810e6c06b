"""Fixtures: one TLS MariaDB and one TLS PostgreSQL for tests/app, AWS via moto.

The database is set up as a deploy sets it up: the bootstrap statements (app/bootstrap/sql.py)
run by a stand-in master user; the app connects as its own user with IAM tokens signed by
boto3's real signer (moto's fixed credentials, and botocore's clock frozen by `signing_clock`
so the tokens are known in advance), which the servers accept as passwords
(tests/app/dbservers.py: `accept_tokens`).

The writer endpoint is the server itself (127.0.0.1); the reader endpoint is a counting forwarder
on 127.0.0.2 (same port) to the same server, so tests can see which endpoint the app used.

Package-scoped so the servers, moto and the AWS test env vars end with the app tests."""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, replace
from types import SimpleNamespace
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from app.credentials import for_endpoints
from app.settings import Settings
from app.web import create_app
from tests.app.dbservers import (
    APP_USER,
    READER_HOST,
    SERVERS,
    DbServer,
    make_pki,
    provision,
)
from tests.app.forwarder import Forwarder, endpoint_pair

REGION = "eu-west-1"


def tokens_for(settings: Settings) -> list[str]:
    """The IAM tokens an app with `settings` presents now (one per endpoint: a token is bound to
    the host name it was signed for), signed by the app's own code."""
    return [creds.get()[1] for creds in for_endpoints(settings).values()]


class SigningClock:
    """Stands in for botocore's clock (`botocore.auth.get_current_datetime`): frozen, moved by tests."""

    def __init__(self):
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)

    def __call__(self, remove_tzinfo: bool = True) -> datetime.datetime:
        return self.now if remove_tzinfo else self.now.replace(tzinfo=datetime.timezone.utc)

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture(scope="package")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="package")
def aws():
    """AWS served by moto (Secrets Manager holds the master secret; the app never calls AWS)."""
    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION=REGION)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="package")
def signing_clock():
    clock = SigningClock()
    with mock.patch("botocore.auth.get_current_datetime", clock):
        yield clock


@pytest.fixture(scope="package", params=sorted(SERVERS))
def server(request, pki):
    srv: DbServer = SERVERS[request.param](pki)
    try:
        srv.start()
        yield srv
    finally:
        srv.destroy()


@dataclass
class Deployment:
    server: DbServer
    settings: Settings
    master_secret_arn: str
    aws: object
    reader: Forwarder  # the reader endpoint (settings.reader_host)
    clock: SigningClock

    def app(self, **overrides):
        return create_app(replace(self.settings, **overrides))

    def tokens(self) -> list[str]:
        """The tokens the app presents now (writer, reader): signed by the app's own code."""
        return tokens_for(self.settings)

    def accept_current_tokens(self, settings: Settings | None = None) -> list[str]:
        """The app user accepts the tokens of an app with `settings` (default: the deployment's).
        Two at most (writer, reader): MariaDB's `IDENTIFIED VIA … OR …` stand-in switches
        authentication once per wrong alternative, and PyMySQL follows one switch only."""
        tokens = tokens_for(settings or self.settings)
        self.server.accept_tokens(APP_USER, tokens)
        return tokens


@pytest.fixture(scope="package")
def reader_endpoint(server):
    forwarder = Forwarder((READER_HOST, server.port), (server.host, server.port))
    yield forwarder
    forwarder.close()


@pytest.fixture(scope="package")
def deployment(server, aws, pki, reader_endpoint, signing_clock):
    """The bootstrapped database, the app user accepting the app's current tokens, the master
    user's secret (RDS-style; only the bootstrap would read it) and the app's settings."""
    settings = provision(server, pki, REGION, reader_host=READER_HOST)
    arn = aws.create_secret(Name=f"rds!cluster-master-{server.engine}", SecretString=json.dumps(
        {"username": server.master_user, "password": "master-password-v1"}))["ARN"]
    deployment = Deployment(server, settings, arn, aws, reader_endpoint, signing_clock)
    deployment.accept_current_tokens()
    return deployment


@pytest.fixture(scope="package")
def app(deployment):
    application = create_app(deployment.settings)
    yield application
    for engine in (application.extensions["aurorakit"].writer, application.extensions["aurorakit"].reader):
        engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def endpoints(deployment):
    """A writer and a reader endpoint (forwarders, one port) in front of the one server."""
    upstream = (deployment.server.host, deployment.server.port)
    writer, reader = endpoint_pair(upstream, upstream)
    yield writer, reader
    writer.close()
    reader.close()


@pytest.fixture()
def app_behind(deployment, endpoints):
    """make(**settings overrides): an app that reaches the server through `endpoints`."""
    apps = []

    def make(**overrides):
        writer, reader = endpoints
        settings = replace(deployment.settings, writer_host=writer.address[0], reader_host=reader.address[0],
                           port=writer.address[1], **overrides)
        deployment.accept_current_tokens(settings)  # tokens are bound to the endpoint's host name
        apps.append(create_app(settings))
        return apps[-1]
    yield make
    for application in apps:
        for engine in (application.extensions["aurorakit"].writer, application.extensions["aurorakit"].reader):
            engine.dispose()
    deployment.accept_current_tokens()  # the package's own app again


@pytest.fixture()
def read_only(deployment):
    """demote() the server (open sessions too: a demoted writer); restore() (also at teardown)."""
    server = deployment.server

    def restore():
        if server.engine == "aurora-mysql":
            server.sql("SET GLOBAL read_only = OFF")
        else:
            server.sql(f"ALTER ROLE {APP_USER} RESET default_transaction_read_only")
            server.sql("ALTER SYSTEM RESET default_transaction_read_only")
            server.sql("SELECT pg_reload_conf()")
    yield SimpleNamespace(demote=server.demote, restore=restore)
    restore()
