"""Failures before the database is even reached are connection failures like an unreachable
server: no IAM token can be signed (no, expired or refused instance credentials), or the CA
bundle is missing or corrupt. The app starts, answers 503 (JSON / page), /healthz says
"unavailable", and serves again once the cause is gone; no credential value is logged."""
from __future__ import annotations

import logging
from dataclasses import replace

import boto3
import pytest
from botocore.exceptions import ClientError

from app.credentials import for_endpoints
from app.web import create_app
from tests.app.conftest import REGION

UNAVAILABLE = {"error": "database unavailable, try again"}


def assert_unavailable(client) -> None:
    for resp in (client.get("/api/entries"), client.post("/api/entries", json={"name": "n", "address": "a"})):
        assert resp.status_code == 503 and resp.get_json() == UNAVAILABLE, resp.data[:200]
    page = client.get("/")
    assert page.status_code == 503 and b"Database unavailable" in page.data and b"Traceback" not in page.data
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"
    for role in ("writer", "reader"):
        assert health.get_json()[role]["error"] == "OperationalError", health.get_json()


class Signer:
    """The app's RDS client, broken until `fixed`: `broken` signs with botocore's real signer and
    no credentials at all (NoCredentialsError), or raises the given error."""

    def __init__(self, broken, real):
        self.broken, self.real, self.fixed = broken, real, False

    def generate_db_auth_token(self, **kw):
        if self.fixed:
            return self.real.generate_db_auth_token(**kw)
        if isinstance(self.broken, Exception):
            raise self.broken
        return self.broken.generate_db_auth_token(**kw)


def no_credentials_client(monkeypatch):
    """An RDS client whose credential chain finds nothing (no env, files, IMDS or container)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in (("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"), ("AWS_CONFIG_FILE", "/dev/null"),
                       ("AWS_EC2_METADATA_DISABLED", "true")):
        monkeypatch.setenv(key, value)
    return boto3.session.Session().client("rds", region_name=REGION)


@pytest.mark.parametrize("kind", ["no-credentials", "expired-token"])
def test_credentials_that_cannot_sign_are_a_503_until_they_can(deployment, monkeypatch, caplog, kind):
    real = boto3.client("rds", region_name=REGION)  # moto's test credentials, the deployment's tokens
    broken = no_credentials_client(monkeypatch) if kind == "no-credentials" else ClientError(
        {"Error": {"Code": "ExpiredToken", "Message": "The security token AKIAEXAMPLESECRET expired"}}, "Sign")
    signer = Signer(broken, real)
    caplog.set_level(logging.INFO)
    app = create_app(deployment.settings, creds=for_endpoints(deployment.settings, client=signer))  # no raise
    client = app.test_client()
    assert_unavailable(client)
    assert ("NoCredentialsError" if kind == "no-credentials" else "ClientError ExpiredToken") in caplog.text
    assert "AKIAEXAMPLESECRET" not in caplog.text and "X-Amz-Signature" not in caplog.text
    signer.fixed = True  # the instance role's credentials are back
    assert client.get("/api/entries").status_code == 200 and client.get("/healthz").status_code == 200
    for engine in (app.extensions["aurorakit"].writer, app.extensions["aurorakit"].reader):
        engine.dispose()


BUNDLES = {"missing": None, "empty": "", "not-pem": "garbage\n",
           "corrupt-pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}


@pytest.mark.parametrize("bundle", sorted(BUNDLES) + ["directory"])
def test_an_unusable_ca_bundle_is_a_503_and_one_clear_start_message(deployment, tmp_path, caplog, bundle):
    """PyMySQL raised FileNotFoundError / ssl.SSLError out of create_app and every request (500);
    libpq already reported an OperationalError: both engines now behave alike."""
    path = tmp_path if bundle == "directory" else tmp_path / "ca.pem"
    if BUNDLES.get(bundle) is not None:
        path.write_text(BUNDLES[bundle])
    caplog.set_level(logging.ERROR, "aurorakit.db")
    app = create_app(replace(deployment.settings, ca_bundle=str(path)))  # no raise
    start = [r.getMessage() for r in caplog.records if "unusable" in r.getMessage()]
    assert len(start) == 1 and f"CA bundle {str(path)!r} unusable" in start[0] and "AURORAKIT_DB_CA_BUNDLE" in start[0]
    assert_unavailable(app.test_client())
    for engine in (app.extensions["aurorakit"].writer, app.extensions["aurorakit"].reader):
        engine.dispose()
