"""The forum model's DynamoDB schema, named once: table keys, the index, and the calls the app makes.

Shared by the app (app/forum_store.py), the infrastructure (components/dynamodb.py builds the
tables and the app role's IAM statements from it) and the tests. Plain data, no imports, so the
Pulumi program can read it without Flask or boto3.

Model (the source documents' phase 2): a `Forum` has `Thread`s; a thread has `Comment`s.
  Forum    partition key Name (S)                           counters Threads, Comments
  Thread   partition key ForumName (S), sort key Subject (S) counter Comments
  Comment  partition key Id (S) = "<forum>#<subject>", sort key CommentDateTime (S) =
           "<UTC ISO-8601 with microseconds>Z#<8 hex>" (time order, unique); PostedBy, Message
  Comment index PostedBy-index: partition key PostedBy (S), sort key CommentDateTime (S),
           projects Message (plus the table's keys)
"""
from __future__ import annotations

FORUM, THREAD, COMMENT = "Forum", "Thread", "Comment"
TABLES = (FORUM, THREAD, COMMENT)

KEY_TYPES = ("S", "N", "B")
# table -> ((partition key, type), (sort key, type) or None)
KEYS: dict[str, tuple[tuple[str, str], tuple[str, str] | None]] = {
    FORUM: (("Name", "S"), None),
    THREAD: (("ForumName", "S"), ("Subject", "S")),
    COMMENT: (("Id", "S"), ("CommentDateTime", "S")),
}
BY_USER_INDEX = "PostedBy-index"
# index -> (table, (partition key, type), (sort key, type), projected non-key attributes)
INDEXES: dict[str, tuple[str, tuple[str, str], tuple[str, str], tuple[str, ...]]] = {
    BY_USER_INDEX: (COMMENT, ("PostedBy", "S"), ("CommentDateTime", "S"), ("Message",)),
}

# Exactly the DynamoDB API actions the app calls (IAM authorizes each item of a
# TransactWriteItems by its own action: Put -> PutItem, Update -> UpdateItem).
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    COMMENT: ("dynamodb:PutItem", "dynamodb:Query"),
    THREAD: ("dynamodb:UpdateItem",),
    FORUM: ("dynamodb:UpdateItem",),
}
INDEX_ACTIONS: dict[str, tuple[str, ...]] = {BY_USER_INDEX: ("dynamodb:Query",)}
