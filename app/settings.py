"""Non-secret settings from the environment (the host's /etc/aurorakit/app.env)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional

ENGINES = ("aurora-mysql", "aurora-postgresql")
PREFIX = "AURORAKIT_"
# The drivers' CA file on the host: the RDS CAs (cluster endpoints) + Amazon Trust Services'
# roots (RDS Proxy endpoints present ACM certificates); install.sh writes it (app/cloud_init.py).
DEFAULT_CA_BUNDLE = "/opt/aurorakit/db-ca.pem"
# Optional: the forum's DynamoDB tables (app/forum.py); all three or none (= the feature is off).
FORUM_TABLE_KEYS = ("DDB_FORUM_TABLE", "DDB_THREAD_TABLE", "DDB_COMMENT_TABLE")


@dataclass(frozen=True)
class ForumTables:
    forum: str
    thread: str
    comment: str

    def names(self) -> tuple[str, str, str]:
        return self.forum, self.thread, self.comment

    def __post_init__(self):
        for key, name in zip(FORUM_TABLE_KEYS, self.names()):
            if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", name):
                raise ValueError(f"{PREFIX}{key} must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -); "
                                 f"got {name!r}")


@dataclass(frozen=True)
class Settings:
    region: str
    writer_host: str
    reader_host: str
    port: int
    db_name: str
    engine: str
    db_user: str  # the app's IAM-authenticated database user (app/credentials.py signs its tokens)
    ca_bundle: str = DEFAULT_CA_BUNDLE
    pooling: bool = True
    connect_timeout: int = 3    # s: TCP + TLS + login (PostgreSQL: at least 2)
    read_timeout: float = 10.0  # s: the longest wait for any answer of the server
    forum_tables: Optional[ForumTables] = None

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(f"{PREFIX}DB_ENGINE must be one of {', '.join(ENGINES)}; got {self.engine!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"{PREFIX}DB_PORT must be 1..65535; got {self.port}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        def get(key, default=None):
            value = env.get(PREFIX + key, default)
            if value is None or value == "":
                raise ValueError(f"{PREFIX}{key} is required")
            return value

        port = get("DB_PORT")
        if not port.isdigit():
            raise ValueError(f"{PREFIX}DB_PORT must be an integer; got {port!r}")
        pooling = get("DB_POOLING", "on")
        if pooling not in ("on", "off"):
            raise ValueError(f"{PREFIX}DB_POOLING must be one of on, off; got {pooling!r}")
        tables = [env.get(PREFIX + key, "") for key in FORUM_TABLE_KEYS]
        if any(tables) and not all(tables):
            missing = [PREFIX + k for k, v in zip(FORUM_TABLE_KEYS, tables) if not v]
            raise ValueError(f"{', '.join(missing)} required: set all of "
                             f"{', '.join(PREFIX + k for k in FORUM_TABLE_KEYS)} or none (the forum is then off)")
        return cls(region=get("REGION"), db_user=get("DB_USER"),
                   writer_host=get("DB_WRITER_HOST"), reader_host=get("DB_READER_HOST"),
                   port=int(port), db_name=get("DB_NAME"), engine=get("DB_ENGINE"),
                   ca_bundle=get("DB_CA_BUNDLE", DEFAULT_CA_BUNDLE), pooling=pooling == "on",
                   forum_tables=ForumTables(*tables) if all(tables) else None)

    def to_env(self) -> dict[str, str]:
        """The inverse of from_env (what cloud-init writes to the env file)."""
        return {PREFIX + k: str(v) for k, v in (
            ("REGION", self.region), ("DB_USER", self.db_user),
            ("DB_WRITER_HOST", self.writer_host), ("DB_READER_HOST", self.reader_host),
            ("DB_PORT", self.port), ("DB_NAME", self.db_name), ("DB_ENGINE", self.engine),
            ("DB_CA_BUNDLE", self.ca_bundle), ("DB_POOLING", "on" if self.pooling else "off"),
            *zip(FORUM_TABLE_KEYS, self.forum_tables.names() if self.forum_tables else ()))}
