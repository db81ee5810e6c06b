"""Database credentials: the app user and an IAM authentication token per endpoint.

The token is a SigV4-presigned `rds-db:connect` request signed locally with the host's instance
role credentials (boto3 `generate_db_auth_token`: no network call, no password anywhere on the
host). RDS accepts a token for 15 minutes, and only when a connection is opened (open
connections are unaffected by its expiry), so one token is cached and renewed after
`RENEW_AFTER` seconds, or at once after an authentication failure. Tokens are bound to the
host name they were signed for: one `IamTokenCredentials` per endpoint (writer, reader).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

import boto3

from .settings import Settings

# botocore logs request details at DEBUG: keep tokens out of the logs.
logging.getLogger("botocore").setLevel(max(logging.getLogger("botocore").level, logging.INFO))

TOKEN_LIFETIME = 900  # seconds RDS accepts a token for (fixed by AWS)
RENEW_AFTER = 600     # seconds a cached token is used for: well inside its lifetime


class IamTokenCredentials:
    """`get()` -> (user, token); `refresh(stale)` signs a new token (after an auth failure)."""

    def __init__(self, host: str, port: int, user: str, region: str, *, client=None,
                 clock: Callable[[], float] = time.monotonic, renew_after: float = RENEW_AFTER):
        if not 0 < renew_after < TOKEN_LIFETIME:
            raise ValueError(f"renew_after must be 0 < seconds < {TOKEN_LIFETIME}; got {renew_after}")
        self.host, self.port, self.user, self.region = host, int(port), user, region
        self._client = client or boto3.client("rds", region_name=region)
        self._clock, self._renew_after = clock, renew_after
        self._lock = threading.Lock()
        self._value: Optional[tuple[str, str]] = None
        self._signed_at = 0.0
        self.tokens = 0  # tokens signed so far (tests and metrics)

    def _sign(self) -> tuple[str, str]:
        self.tokens += 1
        token = self._client.generate_db_auth_token(
            DBHostname=self.host, Port=self.port, DBUsername=self.user, Region=self.region)
        self._signed_at = self._clock()
        return self.user, token

    def get(self) -> tuple[str, str]:
        with self._lock:
            if self._value is None or self._clock() - self._signed_at >= self._renew_after:
                self._value = self._sign()
            return self._value

    def refresh(self, stale: tuple[str, str]) -> bool:
        """Sign anew unless another thread already did; True when the credentials changed."""
        with self._lock:
            if self._value is not None and self._value != stale:
                return True
            self._value = self._sign()
            return self._value != stale


def for_endpoints(settings: Settings, **kw) -> dict[str, IamTokenCredentials]:
    """One token source per endpoint role ("writer", "reader"), sharing one boto3 client."""
    kw.setdefault("client", boto3.client("rds", region_name=settings.region))
    return {role: IamTokenCredentials(host, settings.port, settings.db_user, settings.region, **kw)
            for role, host in (("writer", settings.writer_host), ("reader", settings.reader_host))}
