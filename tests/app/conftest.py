"""Fixtures: one TLS MariaDB and one TLS PostgreSQL for tests/app, Secrets Manager via moto.

The writer endpoint is the server itself (127.0.0.1); the reader endpoint is a counting forwarder
on 127.0.0.2 (same port) to the same server, so tests can see which endpoint the app used.

Package-scoped so the servers, moto and the AWS test env vars end with the app tests."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

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


@pytest.fixture(scope="package")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="package")
def aws():
    """Secrets Manager served by moto; the app uses its real boto3 client code path."""
    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION=REGION)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)
    os.environ.clear()
    os.environ.update(saved)


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
    secret_arn: str
    password: str
    aws: object
    reader: Forwarder  # the reader endpoint (settings.reader_host)

    def app(self, **overrides):
        return create_app(replace(self.settings, **overrides))

    def rotate(self, password: str, *, secret: bool = True, database: bool = True):
        if database:
            self.server.set_password(APP_USER, password)
        if secret:
            self.aws.put_secret_value(SecretId=self.secret_arn,
                                      SecretString=json.dumps({"username": APP_USER, "password": password}))
        self.password = password


@pytest.fixture(scope="package")
def reader_endpoint(server):
    forwarder = Forwarder((READER_HOST, server.port), (server.host, server.port))
    yield forwarder
    forwarder.close()


@pytest.fixture(scope="package")
def deployment(server, aws, pki, reader_endpoint):
    """The app user + an RDS-style managed secret for it, and matching non-secret settings."""
    settings, arn, password = provision(server, aws, pki, REGION, reader_host=READER_HOST)
    return Deployment(server, settings, arn, password, aws, reader_endpoint)


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
        apps.append(deployment.app(writer_host=writer.address[0], reader_host=reader.address[0],
                                   port=writer.address[1], **overrides))
        return apps[-1]
    yield make
    for application in apps:
        for engine in (application.extensions["aurorakit"].writer, application.extensions["aurorakit"].reader):
            engine.dispose()


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
