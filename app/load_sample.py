"""Batch-load a JSON file into DynamoDB tables: the documents' `aws dynamodb batch-write-item`
step, with the retries the CLI leaves to you.

    python -m app.load_sample app/sample_data/forum.json \\
        --tables "$(pulumi stack output dynamodb_table_names --json)" --region eu-west-1

The file is what `batch-write-item --request-items` takes: table name -> write requests in
DynamoDB JSON ({"Forum": [{"PutRequest": {"Item": {"Name": {"S": "Events"}, ...}}}], ...}),
any number of them. `--tables` maps those names to the physical table names (JSON object; a
name it does not map is used as is). Requests go out in BatchWriteItem calls of at most 25 (a
second request for a key already in a call starts the next one: DynamoDB refuses a batch that
writes one key twice; the tables' keys come from DescribeTable);
what DynamoDB returns as UnprocessedItems is sent again after an exponential backoff (with
jitter, capped) up to `--max-attempts` calls per batch. Exit 0: everything written; 1: items
still unprocessed after the last attempt (counted per table); 2: bad input or an AWS error.
Run it from the operator's machine or CloudShell (the app role may not BatchWriteItem).
Item contents are never printed; consumed capacity is, per call.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

BATCH_SIZE = 25  # BatchWriteItem's limit
ATTRIBUTE_TYPES = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


class LoadError(Exception):
    """Bad input or a refused call: one line for the operator."""


@dataclass
class Backoff:
    """Delay before retry n (1-based): min(cap, base * 2**(n-1)), times a jitter in [0.5, 1]."""

    base: float = 0.1
    cap: float = 5.0
    max_attempts: int = 8
    sleep: Callable[[float], None] = field(default=lambda delay: time.sleep(delay))
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.5, 1.0))

    def bound(self, retry: int) -> float:
        return min(self.cap, self.base * 2 ** (retry - 1))

    def wait(self, retry: int) -> float:
        delay = self.bound(retry) * self.jitter()
        self.sleep(delay)
        return delay


@dataclass
class Report:
    written: dict = field(default_factory=dict)    # physical table -> requests done
    unprocessed: dict = field(default_factory=dict)  # physical table -> requests given up on
    calls: int = 0
    retries: int = 0
    slept: float = 0.0
    capacity: dict = field(default_factory=dict)   # physical table -> capacity units consumed


def read_requests(path: Path, tables: Mapping[str, str]) -> list[tuple[str, dict]]:
    """(physical table, request) pairs in file order; LoadError names the first bad entry."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"{path}: not readable JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not data:
        raise LoadError(f"{path}: must be a JSON object of table name -> list of write requests")
    out = []
    for table, requests in data.items():
        if not isinstance(requests, list):
            raise LoadError(f"{path}: {table} must be a list of write requests")
        for i, req in enumerate(requests):
            where = f"{path}: {table}[{i}]"
            kind = next(iter(req), None) if isinstance(req, dict) and len(req) == 1 else None
            body = req.get(kind) if kind else None
            part = {"PutRequest": "Item", "DeleteRequest": "Key"}.get(kind or "")
            values = body.get(part) if isinstance(body, dict) and part and set(body) == {part} else None
            if not isinstance(values, dict) or not values:
                raise LoadError(f"{where}: must be {{\"PutRequest\": {{\"Item\": {{...}}}}}} or "
                                "{\"DeleteRequest\": {\"Key\": {...}}}")
            for name, value in values.items():
                if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ATTRIBUTE_TYPES):
                    raise LoadError(f"{where}: attribute {name!r} must be DynamoDB JSON such as "
                                    f"{{\"S\": \"text\"}} (types: {', '.join(sorted(ATTRIBUTE_TYPES))})")
            out.append((tables.get(table, table), req))
    return out


def _key(request: dict, attributes: tuple[str, ...]) -> str:
    body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
    return json.dumps([body.get(a) for a in attributes], sort_keys=True)


def batches(requests: list[tuple[str, dict]], size: int = BATCH_SIZE,
            keys: Optional[Mapping[str, tuple[str, ...]]] = None) -> list[dict[str, list]]:
    """RequestItems of at most `size` requests each, in file order. With `keys` (table -> key
    attribute names), a request for a key already in the batch starts a new one: DynamoDB refuses
    a batch that writes one key twice (ValidationException), and in file order the later wins."""
    out: list[dict[str, list]] = []
    items: dict[str, list] = {}
    seen: set[tuple[str, str]] = set()
    count = 0
    for table, req in requests:
        key = (table, _key(req, keys[table])) if keys and table in keys else None
        if count == size or (key is not None and key in seen):
            out.append(items)
            items, seen, count = {}, set(), 0
        items.setdefault(table, []).append(req)
        count += 1
        if key is not None:
            seen.add(key)
    if items:
        out.append(items)
    return out


def key_attributes(client, tables: list[str]) -> dict[str, tuple[str, ...]]:
    """table -> its key attribute names (DescribeTable)."""
    out = {}
    for table in tables:
        try:
            schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
        except (ClientError, BotoCoreError) as exc:  # name the error, never the items
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise LoadError(f"DescribeTable on {table} failed: {code}") from None
        out[table] = tuple(k["AttributeName"] for k in schema)
    return out


def write_batch(client, items: dict[str, list], backoff: Backoff, report: Report) -> None:
    """One batch: BatchWriteItem, then its UnprocessedItems again with backoff, bounded."""
    pending = items
    for attempt in range(1, backoff.max_attempts + 1):
        if attempt > 1:
            report.retries += 1
            report.slept += backoff.wait(attempt - 1)
        try:
            response = client.batch_write_item(RequestItems=pending, ReturnConsumedCapacity="TOTAL")
        except (ClientError, BotoCoreError) as exc:  # name the error, never the items
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise LoadError(f"BatchWriteItem on {', '.join(sorted(pending))} failed: {code}") from None
        report.calls += 1
        for used in response.get("ConsumedCapacity") or []:
            table = used.get("TableName", "?")
            report.capacity[table] = report.capacity.get(table, 0) + (used.get("CapacityUnits") or 0)
        left = response.get("UnprocessedItems") or {}
        for table, reqs in pending.items():
            done = len(reqs) - len(left.get(table, []))
            report.written[table] = report.written.get(table, 0) + done
        if not left:
            return
        pending = left
    for table, reqs in pending.items():
        report.unprocessed[table] = report.unprocessed.get(table, 0) + len(reqs)


def load(client, path: Path, tables: Mapping[str, str], backoff: Optional[Backoff] = None) -> Report:
    report, backoff = Report(), backoff or Backoff()
    requests = read_requests(path, tables)
    keys = key_attributes(client, sorted({table for table, _ in requests}))
    for items in batches(requests, keys=keys):
        write_batch(client, items, backoff, report)
    return report


def _parse(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m app.load_sample", description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, help="JSON in the batch-write-item --request-items format")
    p.add_argument("--tables", default="{}", help='JSON object: name in the file -> physical table name')
    p.add_argument("--region", help="AWS region (default: from the AWS environment/profile)")
    p.add_argument("--endpoint-url", help="DynamoDB endpoint (e.g. DynamoDB Local)")
    p.add_argument("--max-attempts", type=int, default=Backoff.max_attempts,
                   help="BatchWriteItem calls per batch of 25, retries included (1..20)")
    args = p.parse_args(argv)
    if not 1 <= args.max_attempts <= 20:
        p.error(f"--max-attempts {args.max_attempts}: allowed 1..20")
    try:
        args.tables = json.loads(args.tables)
    except ValueError:
        args.tables = None
    if not isinstance(args.tables, dict) or not all(isinstance(v, str) and v for v in args.tables.values()):
        p.error("--tables must be a JSON object of name -> table name")
    return args


def main(argv: Optional[list[str]] = None, client: Any = None) -> int:
    args = _parse(argv)
    try:
        if client is None:
            import boto3
            from botocore.config import Config
            client = boto3.client("dynamodb", region_name=args.region, endpoint_url=args.endpoint_url,
                                  config=Config(retries={"mode": "standard", "max_attempts": 10}))
        report = load(client, args.file, args.tables, Backoff(max_attempts=args.max_attempts))
    except BotoCoreError as exc:  # e.g. no region or no credentials configured
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for table in sorted(set(report.written) | set(report.unprocessed)):
        print(f"{table}: {report.written.get(table, 0)} written, {report.unprocessed.get(table, 0)} unprocessed, "
              f"{report.capacity.get(table, 0):g} capacity units")
    print(f"{report.calls} BatchWriteItem call(s), {report.retries} retried, {report.slept:.1f}s backoff")
    if report.unprocessed:
        print("error: items left unprocessed after the last attempt; run again (puts are idempotent)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
