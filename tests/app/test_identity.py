"""The app's database identity end to end: IAM tokens from boto3's real signer (fixed credentials,
frozen clock), renewed before RDS's 15 minutes end and at once after an auth failure, accepted by
the real servers (the app user accepts exactly the tokens the app presents: see conftest.py);
the schema is checked, never created; the master secret is never read by the app."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import uuid
from unittest import mock
from urllib.parse import parse_qsl, quote

import boto3
import botocore.client

from app.credentials import (
    RENEW_AFTER,
    TOKEN_LIFETIME,
    IamTokenCredentials,
    for_endpoints,
)
from app.web import create_app
from tests.app.dbservers import APP_USER


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def verify_token(token: str, *, host: str, port: int, user: str, region: str, secret_key: str) -> dict:
    """Check an RDS IAM token as RDS does, independently of botocore: a SigV4 presigned GET of
    `Action=connect&DBUser=…` for service rds-db, host `host:port`, valid 900 s."""
    assert token.startswith(f"{host}:{port}/?"), token[:60]
    query = dict(parse_qsl(token.split("?", 1)[1], keep_blank_values=True))
    assert (query["Action"], query["DBUser"], query["X-Amz-Expires"]) == ("connect", user, str(TOKEN_LIFETIME))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-SignedHeaders"] == "host"
    akid, date, scope_region, service, terminator = query["X-Amz-Credential"].split("/")
    assert (scope_region, service, terminator) == (region, "rds-db", "aws4_request")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in sorted(query.items()) if k != "X-Amz-Signature")
    empty_body = hashlib.sha256(b"").hexdigest()  # botocore signs the empty body of the GET
    canonical = "\n".join(["GET", "/", canonical_query, f"host:{host}:{port}", "", "host", empty_body])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", query["X-Amz-Date"], f"{date}/{region}/rds-db/aws4_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), date), region), "rds-db"), "aws4_request")
    assert hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == query["X-Amz-Signature"]
    return query


def signed_at(token: str) -> datetime.datetime:
    stamp = dict(parse_qsl(token.split("?", 1)[1]))["X-Amz-Date"]
    return datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")


def test_token_is_a_valid_rds_db_connect_signature(deployment):
    s = deployment.settings
    creds = for_endpoints(s)
    for role, host in (("writer", s.writer_host), ("reader", s.reader_host)):
        user, token = creds[role].get()
        assert user == APP_USER
        verify_token(token, host=host, port=s.port, user=APP_USER, region=s.region,
                     secret_key=os.environ["AWS_SECRET_ACCESS_KEY"])
        assert signed_at(token) == deployment.clock.now
    assert creds["writer"].get()[1] != creds["reader"].get()[1]  # bound to the host name


def test_tokens_are_cached_and_renewed_well_before_they_expire(deployment):
    clock, signing = FakeClock(), deployment.clock
    start = signing.now
    creds = IamTokenCredentials("db.example", 3306, APP_USER, "eu-west-1", clock=clock)
    oldest = 0.0
    try:
        for _ in range(480):  # four simulated hours in 30-second steps
            _, token = creds.get()
            age = (signing.now - signed_at(token)).total_seconds()
            oldest = max(oldest, age)
            clock.t += 30
            signing.advance(30)
        assert oldest == RENEW_AFTER - 30 < TOKEN_LIFETIME  # never presented after 10 of its 15 minutes
        assert creds.tokens == 480 * 30 // RENEW_AFTER
    finally:
        signing.now = start


def test_the_servers_accept_the_renewed_token_and_an_auth_failure_signs_anew(deployment):
    """After 10 minutes the app signs a new token; a token the server no longer accepts makes
    exactly one new signature and the request succeeds (no restart, no retry loop)."""
    s, signing, clock = deployment.settings, deployment.clock, FakeClock()
    start = signing.now
    creds = for_endpoints(s, clock=clock)
    app = create_app(s, creds=creds)
    client = app.test_client()
    try:
        assert client.post("/api/entries", json={"name": f"iam-{uuid.uuid4().hex[:8]}", "address": "x"}).status_code == 201
        first = creds["writer"].tokens
        # 10 minutes later: the server accepts only tokens signed now
        signing.advance(RENEW_AFTER)
        clock.t += RENEW_AFTER
        deployment.accept_current_tokens()
        deployment.server.kill_sessions(APP_USER)
        assert client.get("/api/entries").status_code == 200
        assert client.post("/api/entries", json={"name": "renewed", "address": "x"}).status_code == 201
        assert creds["writer"].tokens == first + 1
        # the server stops accepting the cached token before the app would renew it
        signing.advance(5)
        deployment.accept_current_tokens()
        deployment.server.kill_sessions(APP_USER)
        assert client.post("/api/entries", json={"name": "refreshed", "address": "x"}).status_code == 201
        assert creds["writer"].tokens == first + 2
    finally:
        signing.now = start
        deployment.accept_current_tokens()  # the package's app keeps its first tokens
        for engine in (app.extensions["aurorakit"].writer, app.extensions["aurorakit"].reader):
            engine.dispose()
    if deployment.server.engine == "aurora-postgresql":  # the LDAP stand-in saw both outcomes
        outcomes = {ok for user, ok in deployment.server.ldap.binds if user == APP_USER}
        assert outcomes == {True, False}


def test_master_secret_rotation_does_not_touch_the_running_app(deployment, client):
    """The app reads no secret and calls no AWS API: rotating the master secret (and, on
    PostgreSQL, the master's password) changes nothing for it, not even for new connections."""
    calls = []
    real = botocore.client.BaseClient._make_api_call

    def spy(self, operation, params):
        calls.append((self.meta.service_model.service_name, operation))
        return real(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", spy):
        assert client.get("/api/entries").status_code == 200
        app_calls = list(calls)
        deployment.aws.put_secret_value(SecretId=deployment.master_secret_arn,
                                        SecretString='{"username": "x", "password": "rotated-v2"}')
        if deployment.server.engine == "aurora-postgresql":
            deployment.server.set_password(deployment.server.master_user, "rotated-v2")
        deployment.server.kill_sessions(APP_USER)
        assert client.post("/api/entries", json={"name": "after-rotation", "address": "x"}).status_code == 201
        assert client.get("/healthz").status_code == 200
    assert app_calls == [] and calls == [("secretsmanager", "PutSecretValue")]
    assert not any("secret" in key.lower() for key in deployment.settings.to_env())


def test_a_missing_schema_is_reported_clearly_and_never_created(deployment):
    master = deployment.server
    rename = ("ALTER TABLE entries RENAME TO entries_moved", "ALTER TABLE entries_moved RENAME TO entries")
    master.sql(rename[0], in_app_db=True)
    try:
        client = deployment.app().test_client()
        resp = client.get("/api/entries")
        assert resp.status_code == 503
        assert "schema missing" in resp.get_json()["error"] and "bootstrap" in resp.get_json()["error"]
        assert not master.sql("SELECT 1 FROM information_schema.tables WHERE table_name = 'entries' "
                              f"AND table_schema IN ('public', '{master.db_name}')",
                              in_app_db=True)  # the app did not create it
    finally:
        master.sql(rename[1], in_app_db=True)
    assert deployment.app().test_client().get("/api/entries").status_code == 200


def test_token_signing_makes_no_network_call():
    """generate_db_auth_token signs locally: no endpoint is contacted."""
    client = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="secret", endpoint_url="https://127.0.0.1:9")
    with mock.patch("botocore.endpoint.Endpoint.make_request", side_effect=AssertionError("network")):
        user, token = IamTokenCredentials("h.example", 5432, "app", "eu-west-1", client=client).get()
    verify_token(token, host="h.example", port=5432, user="app", region="eu-west-1", secret_key="secret")
