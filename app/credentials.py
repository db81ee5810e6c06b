"""Database credentials from a Secrets Manager secret (RDS-managed format), cached in memory."""
from __future__ import annotations

import json
import threading

import logging

import boto3

# botocore logs response bodies (the secret string) at DEBUG: never let that through.
logging.getLogger("botocore").setLevel(max(logging.getLogger("botocore").level, logging.INFO))


class SecretCredentials:
    """Fetches {"username", "password"} once; `refresh()` re-fetches (after an auth failure)."""

    def __init__(self, secret_arn: str, region: str, client=None):
        self._arn = secret_arn
        self._client = client or boto3.client("secretsmanager", region_name=region)
        self._lock = threading.Lock()
        self._value: tuple[str, str] | None = None
        self.fetches = 0

    def _fetch(self) -> tuple[str, str]:
        self.fetches += 1
        raw = self._client.get_secret_value(SecretId=self._arn)["SecretString"]
        try:
            data = json.loads(raw)
            return str(data["username"]), str(data["password"])
        except (ValueError, KeyError, TypeError):
            # Never echo the secret's content.
            raise ValueError(f"secret {self._arn} must be JSON with 'username' and 'password'") from None

    def get(self) -> tuple[str, str]:
        with self._lock:
            if self._value is None:
                self._value = self._fetch()
            return self._value

    def refresh(self, stale: tuple[str, str]) -> bool:
        """Re-fetch unless another thread already did; True when the credentials changed."""
        with self._lock:
            if self._value is not None and self._value != stale:
                return True
            self._value = self._fetch()
            return self._value != stale
