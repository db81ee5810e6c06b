"""The bootstrap Lambda handler against a stubbed RDS Data API (botocore Stubber: every request is
validated against the real rds-data API model and must match the expected calls, in order).
moto's rds-data executes no SQL and records no calls, so it could not show what was sent."""
from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from app.bootstrap import handler
from app.bootstrap.sql import current_user_sql, digest, statements

CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:db-0a1b2c3d"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0f1e2d3c-AbCdEf"
ENV = {"CLUSTER_ARN": CLUSTER, "SECRET_ARN": SECRET, "ENGINE": "aurora-postgresql", "DB_NAME": "app",
       "APP_USER": "app"}


def data_api():
    client = boto3.client("rds-data", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def expect(stub, sql, db="app", response=None):
    stub.add_response("execute_statement", response or {"numberOfRecordsUpdated": 0},
                      {"resourceArn": CLUSTER, "secretArn": SECRET, "database": db, "sql": sql})


def who(name):
    return {"records": [[{"stringValue": name}]]}


class Context:
    def get_remaining_time_in_millis(self):
        return 300_000


@pytest.mark.parametrize("engine", ["aurora-mysql", "aurora-postgresql"])
def test_handler_runs_exactly_the_generators_statements(monkeypatch, engine):
    for key, value in {**ENV, "ENGINE": engine}.items():
        monkeypatch.setenv(key, value)
    client, stub = data_api()
    expect(stub, current_user_sql(engine), response=who("dbadmin"))
    sql = statements(engine, "app", "app")
    for statement in sql:
        expect(stub, statement)
    with stub:
        result = handler.handler({"bootstrap": "app-db-user"}, Context(), client=client)
        stub.assert_no_pending_responses()
    assert result == {"engine": engine, "database": "app", "user": "app", "ranAs": "dbadmin",
                      "statements": len(sql), "sha256": digest(sql)}


def test_refuses_to_turn_the_master_into_the_app_user():
    client, stub = data_api()
    config = handler.config_from_env(ENV)
    expect(stub, current_user_sql("aurora-postgresql"), response=who("app"))
    with stub, pytest.raises(RuntimeError, match="the app user 'app' is the user the Data API runs as"):
        handler.run(config, client)
    stub.assert_no_pending_responses()  # nothing else was sent


def test_transient_errors_are_retried_with_backoff_then_succeed():
    client, stub = data_api()
    sleeps = []
    stub.add_client_error("execute_statement", "DatabaseResumingException", "resuming", 400)
    stub.add_client_error("execute_statement", "DatabaseResumingException", "resuming", 400)
    expect(stub, current_user_sql("aurora-postgresql"), response=who("dbadmin"))
    for statement in statements("aurora-postgresql", "app", "app"):
        expect(stub, statement)
    with stub:
        handler.run(handler.config_from_env(ENV), client, sleep=sleeps.append)
    assert sleeps == [1.0, 2.0]


def test_sql_errors_fail_at_once_and_the_budget_bounds_retries():
    client, stub = data_api()
    stub.add_client_error("execute_statement", "BadRequestException", "syntax error", 400)
    with stub, pytest.raises(Exception, match="syntax error"):
        handler.run(handler.config_from_env(ENV), client, sleep=lambda s: None)
    client, stub = data_api()
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    for _ in range(10):
        stub.add_client_error("execute_statement", "DatabaseUnavailableException", "down", 504)
    with stub, pytest.raises(Exception, match="DatabaseUnavailableException"):
        handler.run(handler.config_from_env(ENV), client, sleep=sleep, clock=lambda: now[0], budget=30)
    assert now[0] <= 30


def test_missing_configuration_is_one_clear_error():
    with pytest.raises(RuntimeError, match="environment variable\\(s\\) SECRET_ARN, APP_USER missing"):
        handler.config_from_env({k: v for k, v in ENV.items() if k not in ("SECRET_ARN", "APP_USER")})


def test_the_lambda_package_imports_only_stdlib_and_boto3():
    allowed = {"__future__", "hashlib", "json", "logging", "os", "re", "time", "typing", "boto3", "botocore"}
    for path in Path(handler.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = {node.module.split(".")[0]}
            else:
                continue
            assert names <= allowed, (path.name, names)
