"""The forum's DynamoDB schema, named once for the app, the component (components/dynamodb.py:
tables and the app role's IAM statements) and the tests; the model is in the README."""
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

# Exactly the actions the app calls (IAM authorizes each TransactWriteItems item by its own action).
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    COMMENT: ("dynamodb:PutItem", "dynamodb:Query"),
    THREAD: ("dynamodb:UpdateItem",),
    FORUM: ("dynamodb:UpdateItem",),
}
INDEX_ACTIONS: dict[str, tuple[str, ...]] = {BY_USER_INDEX: ("dynamodb:Query",)}
