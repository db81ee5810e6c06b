"""AURORAKIT_DDB_*_TABLE: all three or none (the forum is then off), valid table names, round trip."""
from __future__ import annotations

import pytest

from app.settings import ForumTables, Settings

BASE = {"AURORAKIT_REGION": "eu-west-1", "AURORAKIT_DB_USER": "app",
        "AURORAKIT_DB_WRITER_HOST": "w", "AURORAKIT_DB_READER_HOST": "r", "AURORAKIT_DB_PORT": "3306",
        "AURORAKIT_DB_NAME": "app", "AURORAKIT_DB_ENGINE": "aurora-mysql"}
FORUM = {"AURORAKIT_DDB_FORUM_TABLE": "aurorakit-dev-forum-Forum", "AURORAKIT_DDB_THREAD_TABLE": "aurorakit-dev-forum-Thread",
         "AURORAKIT_DDB_COMMENT_TABLE": "aurorakit-dev-forum-Comment"}


def test_absent_means_off_and_nothing_is_written_to_the_env_file():
    settings = Settings.from_env(BASE)
    assert settings.forum_tables is None and not any("DDB" in k for k in settings.to_env())


def test_all_three_round_trip():
    settings = Settings.from_env({**BASE, **FORUM})
    assert settings.forum_tables == ForumTables(*FORUM.values())
    assert Settings.from_env(settings.to_env()) == settings


def test_a_partial_configuration_names_what_is_missing():
    with pytest.raises(ValueError) as err:
        Settings.from_env({**BASE, "AURORAKIT_DDB_FORUM_TABLE": "aurorakit-dev-forum-Forum"})
    assert str(err.value).startswith("AURORAKIT_DDB_THREAD_TABLE, AURORAKIT_DDB_COMMENT_TABLE required: set all of")


@pytest.mark.parametrize("name", ["ab", "has space", "a/b", "x" * 256])
def test_a_table_name_dynamodb_would_reject_is_refused(name):
    with pytest.raises(ValueError, match="AURORAKIT_DDB_COMMENT_TABLE must be a DynamoDB table name"):
        Settings.from_env({**BASE, **FORUM, "AURORAKIT_DDB_COMMENT_TABLE": name})
