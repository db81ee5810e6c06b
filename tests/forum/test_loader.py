"""The batch loader (app/load_sample.py) against moto: the sample data set lands in the tables in
calls of at most 25; UnprocessedItems (which moto never returns, so a wrapper injects them) are
retried with a bounded exponential backoff; bad files and AWS errors get one clear error."""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import load_sample
from app.forum_store import ForumStore
from app.load_sample import BATCH_SIZE, Backoff, LoadError, load

from .conftest import PHYSICAL, TABLES

SAMPLE = Path(load_sample.__file__).parent / "sample_data" / "forum.json"


class Flaky:
    """A DynamoDB client whose batch_write_item leaves the last `hold` requests of each call
    unprocessed for the first `times` calls (the rest really written), like a throttled table."""

    def __init__(self, client, times: int, hold: int = 3):
        self.client, self.times, self.hold, self.calls = client, times, hold, []

    def describe_table(self, **kw):
        return self.client.describe_table(**kw)

    def batch_write_item(self, RequestItems, **kw):
        sent = [(t, r) for t, reqs in RequestItems.items() for r in reqs]
        self.calls.append(len(sent))
        keep = self.hold if len(self.calls) <= self.times else 0
        done, left = sent[:len(sent) - keep], sent[len(sent) - keep:]
        response = {"UnprocessedItems": {}, "ConsumedCapacity": []}
        if done:
            grouped: dict = {}
            for t, r in done:
                grouped.setdefault(t, []).append(r)
            response = self.client.batch_write_item(RequestItems=grouped, **kw)
        for t, r in left:
            response["UnprocessedItems"].setdefault(t, []).append(r)
        return response


def recording_backoff(**kw) -> tuple[Backoff, list]:
    slept: list = []
    return Backoff(sleep=slept.append, jitter=lambda: 1.0, **kw), slept


def sample_counts() -> dict:
    data = json.loads(SAMPLE.read_text())
    return {PHYSICAL[t]: len(reqs) for t, reqs in data.items()}


def test_the_sample_data_loads_in_calls_of_25_and_serves_the_app(ddb, capsys):
    assert load_sample.main([str(SAMPLE), "--tables", json.dumps(PHYSICAL)], client=ddb) == 0
    counts = sample_counts()
    assert sum(counts.values()) > BATCH_SIZE  # more than one call's worth
    for table, n in counts.items():
        assert ddb.scan(TableName=table, Select="COUNT")["Count"] == n
    out = capsys.readouterr().out
    assert f"{-(-sum(counts.values()) // BATCH_SIZE)} BatchWriteItem call(s), 0 retried" in out
    assert "t-Comment: 24 written, 0 unprocessed" in out and '"S"' not in out  # no item contents printed
    # the sample is consistent with the app: counters match the comments, listing works
    store = ForumStore(TABLES, ddb)
    comments, _ = store.thread_comments("Databases", "Partition key design", limit=10)
    assert len(comments) == 6 and comments[0]["posted_at"] > comments[-1]["posted_at"]
    thread = ddb.get_item(TableName=TABLES.thread, Key={"ForumName": {"S": "Databases"},
                                                        "Subject": {"S": "Partition key design"}})["Item"]
    assert thread["Comments"] == {"N": "6"}
    assert [c["thread"] for c in store.user_comments("Saqib", limit=50)[0]].count("Partition key design") == 2


def test_unprocessed_items_are_retried_with_exponential_backoff_until_written(ddb, tmp_path):
    flaky = Flaky(ddb, times=3)
    backoff, slept = recording_backoff(base=0.1, cap=5.0, max_attempts=8)
    report = load(flaky, SAMPLE, PHYSICAL, backoff)
    assert report.unprocessed == {} and report.written == sample_counts()
    for table, n in sample_counts().items():
        assert ddb.scan(TableName=table, Select="COUNT")["Count"] == n
    # first batch: 25 sent, 3 held back three times, then written; second batch in one call
    assert flaky.calls == [25, 3, 3, 3, sum(sample_counts().values()) - 25]
    assert slept == [0.1, 0.2, 0.4] and report.retries == 3


def test_retries_are_bounded_and_what_is_left_is_reported(ddb, tmp_path, capsys):
    flaky = Flaky(ddb, times=10**6, hold=2)  # never drains
    backoff, slept = recording_backoff(base=1.0, cap=4.0, max_attempts=5)
    report = load(flaky, SAMPLE, PHYSICAL, backoff)
    batches = -(-sum(sample_counts().values()) // BATCH_SIZE)
    assert len(flaky.calls) == 5 * batches  # max_attempts calls per batch, no more
    assert slept == [1.0, 2.0, 4.0, 4.0] * batches  # doubling, capped
    assert sum(report.unprocessed.values()) == 2 * batches and sum(report.written.values()) == \
        sum(sample_counts().values()) - 2 * batches
    slept.clear()
    with pytest.MonkeyPatch.context() as mp:  # the command exits 1 and says so
        mp.setattr(load_sample, "time", SimpleNamespace(sleep=slept.append))
        assert load_sample.main([str(SAMPLE), "--tables", json.dumps(PHYSICAL), "--max-attempts", "2"],
                                client=Flaky(ddb, times=10**6)) == 1
    assert len(slept) == batches and all(0.05 <= d <= 0.1 for d in slept)  # one jittered retry per batch
    assert "left unprocessed after the last attempt" in capsys.readouterr().err


def test_jittered_delays_never_exceed_the_bound():
    slept: list = []
    backoff = Backoff(base=0.5, cap=3.0, sleep=slept.append)
    delays = [backoff.wait(n) for n in range(1, 12)]
    assert all(0.5 * backoff.bound(n) <= d <= backoff.bound(n) <= 3.0 for n, d in enumerate(delays, 1))
    assert slept == delays and backoff.bound(11) == 3.0


@pytest.mark.parametrize("content,message", [
    ("{", "not readable JSON"),
    ("[]", "must be a JSON object"),
    ('{"Forum": {}}', "Forum must be a list"),
    ('{"Forum": [{"PutRequest": {"Item": {}}}]}', "Forum[0]: must be"),
    ('{"Forum": [{"PutRequest": {"Item": {"Name": {"S": "x"}}}, "Extra": 1}]}', "Forum[0]: must be"),
    ('{"Forum": [{"UpdateRequest": {"Item": {"Name": {"S": "x"}}}}]}', "Forum[0]: must be"),
    ('{"Forum": [{"PutRequest": {"Item": {"Name": "Events"}}}]}', "attribute 'Name' must be DynamoDB JSON"),
    ('{"Forum": [{"PutRequest": {"Item": {"Name": {"STRING": "x"}}}}]}', "attribute 'Name'"),
])
def test_bad_files_get_one_clear_error_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "data.json"
    path.write_text(content)
    with pytest.raises(LoadError, match=re.escape(message)):
        load(None, path, {})
    assert load_sample.main([str(path)], client=object()) == 2
    assert message.split("'")[0] in capsys.readouterr().err


def test_an_aws_error_names_the_code_and_exits_2(ddb, capsys):
    assert load_sample.main([str(SAMPLE), "--tables", '{"Forum": "missing-table"}'], client=ddb) == 2
    err = capsys.readouterr().err
    assert re.search(r"DescribeTable on [\w-]+ failed: ResourceNotFoundException", err) and "Events" not in err

    class Refusing(Flaky):  # the tables exist; the write is refused
        def batch_write_item(self, RequestItems, **kw):
            from botocore.exceptions import ClientError
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchWriteItem")

    assert load_sample.main([str(SAMPLE), "--tables", json.dumps(PHYSICAL)], client=Refusing(ddb, 0)) == 2
    err = capsys.readouterr().err
    assert "BatchWriteItem on" in err and "AccessDeniedException" in err and "Events" not in err


@pytest.mark.parametrize("argv,message", [
    (["--tables", "[1]"], "--tables must be a JSON object"),
    (["--tables", "{nope"], "--tables must be a JSON object"),
    (["--max-attempts", "0"], "--max-attempts 0: allowed 1..20"),
])
def test_bad_arguments_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        load_sample.main([str(SAMPLE), *argv], client=object())
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_key_written_twice_goes_in_the_next_call_and_the_later_wins(ddb, tmp_path):
    """DynamoDB refuses one BatchWriteItem that writes a key twice (moto too): the second request
    for a key starts a new call, so the file loads and, in file order, the later item wins."""
    forum = PHYSICAL["Forum"]
    item = {"Name": {"S": "Events"}, "Category": {"S": "Old"}}
    again = {"Name": {"S": "Events"}, "Category": {"S": "New"}}
    other = {"Name": {"S": "Other"}, "Category": {"S": "x"}}
    path = tmp_path / "twice.json"
    path.write_text(json.dumps({"Forum": [{"PutRequest": {"Item": i}} for i in (item, other, again)]}))
    report = load(ddb, path, PHYSICAL, recording_backoff()[0])
    assert report.calls == 2 and report.written == {forum: 3}
    got = ddb.get_item(TableName=forum, Key={"Name": {"S": "Events"}})["Item"]
    assert got["Category"] == {"S": "New"}
    requests = [(forum, {"PutRequest": {"Item": i}}) for i in (item, other, again)]
    split = load_sample.batches(requests, keys={forum: ("Name",)})
    assert [sum(map(len, b.values())) for b in split] == [2, 1]
