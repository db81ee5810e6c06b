"""AWS Lambda entry point: applies `sql.statements(...)` to the cluster through the RDS Data API
(`rds-data:ExecuteStatement`), authenticated by the master user's Secrets Manager secret.

The function is outside any VPC and needs no network path to the database. Its configuration
comes from its environment (set by components/db_bootstrap.py), never from the event: whoever
may invoke it can only re-apply the same bootstrap. The result (no secret) is logged and
returned to the `aws.lambda_.Invocation` that runs it at deploy time.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Callable, Optional

import boto3
from botocore.exceptions import ClientError

from .sql import current_user_sql, digest, statements

log = logging.getLogger("aurorakit.bootstrap")
log.setLevel(logging.INFO)

ENV = {"cluster_arn": "CLUSTER_ARN", "secret_arn": "SECRET_ARN", "engine": "ENGINE",
       "db_name": "DB_NAME", "app_user": "APP_USER"}
# Transient while a cluster starts, resumes (Serverless v2 at 0 ACU) or a new role's policy
# propagates; anything else (a SQL error) fails the deployment at once with its message.
RETRYABLE = frozenset({"DatabaseResumingException", "DatabaseUnavailableException",
                       "DatabaseNotFoundException", "HttpEndpointNotEnabledException",
                       "ServiceUnavailableError", "InternalServerErrorException",
                       "StatementTimeoutException", "AccessDeniedException", "ForbiddenException"})
DEFAULT_BUDGET = 240.0  # seconds of retrying in all; the function's timeout is longer


def config_from_env(env=os.environ) -> dict[str, str]:
    missing = [name for name in ENV.values() if not env.get(name)]
    if missing:
        raise RuntimeError(f"bootstrap function misconfigured: environment variable(s) "
                           f"{', '.join(missing)} missing")
    return {key: env[name] for key, name in ENV.items()}


class DataApi:
    """ExecuteStatement with bounded retries of transient errors (exponential backoff)."""

    def __init__(self, client, config: dict, *, budget: float = DEFAULT_BUDGET,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.client, self.config, self.sleep, self.clock = client, config, sleep, clock
        self.deadline = clock() + budget

    def execute(self, sql: str) -> dict:
        delay = 1.0
        while True:
            try:
                return self.client.execute_statement(
                    resourceArn=self.config["cluster_arn"], secretArn=self.config["secret_arn"],
                    database=self.config["db_name"], sql=sql)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in RETRYABLE or self.clock() + delay > self.deadline:
                    raise
                log.warning("Data API %s; retrying in %.0f s", code, delay)
                self.sleep(delay)
                delay = min(delay * 2, 15.0)


def run(config: dict, client, **retry: Any) -> dict:
    """Apply the bootstrap; returns what was applied (no secret)."""
    sql = statements(config["engine"], config["db_name"], config["app_user"])
    api = DataApi(client, config, **retry)
    records = api.execute(current_user_sql(config["engine"])).get("records") or [[{}]]
    runs_as = records[0][0].get("stringValue")
    if runs_as == config["app_user"]:
        raise RuntimeError(f"refusing to bootstrap: the app user {runs_as!r} is the user the "
                           "Data API runs as (the master user); choose another app user name")
    for statement in sql:
        api.execute(statement)
    return {"engine": config["engine"], "database": config["db_name"], "user": config["app_user"],
            "ranAs": runs_as, "statements": len(sql), "sha256": digest(sql)}


def handler(event: Any, context: Any, client: Optional[Any] = None) -> dict:
    config = config_from_env()
    budget = DEFAULT_BUDGET
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        budget = min(budget, context.get_remaining_time_in_millis() / 1000 - 20)
    result = run(config, client or boto3.client("rds-data"), budget=budget)
    log.info(json.dumps(result, sort_keys=True))
    return result
