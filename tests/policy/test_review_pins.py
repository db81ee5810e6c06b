"""A third review of the public-policy and wildcard rules: AWS's and pulumi-aws's own documented
pins must not be a false mandatory (S3 source ARNs have no account field; organization paths end
in `/*`; role unique ids in aws:userid; an unquoted account number), and grant resources are
judged by what their pin names, not by whether it is set (`sourceArn: "*"` pins nothing; an
EventBridge bus permission for `*` is a grant like Lambda's). `log-group:*:*` is every log
group. Ids read `r9-…` (this review)."""
from __future__ import annotations

import pytest

from . import factories as f
from .cases import Case, resource
from .support import check_resource
from .test_review_classes import ACCOUNT, PUBLIC, WILDCARDS, _allow, _policy

EVENT_PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"


def _anyone(action: str, condition: dict) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": action, "Resource": "*",
            "Condition": condition}


UNSAFE = [
    Case("r9-lambda-permission-wildcard-source-arn", PUBLIC, resource(PUBLIC, f.LAMBDA_PERMISSION, {
        **f.lambda_permission(), "principal": "*", "sourceArn": "*"}), "with a wildcard in"),
    Case("r9-lambda-permission-any-api-gateway", PUBLIC, resource(PUBLIC, f.LAMBDA_PERMISSION, {
        **f.lambda_permission(), "principal": "*", "sourceArn": "arn:aws:execute-api:*:*:*"}),
         "with a wildcard in"),
    Case("r9-lambda-permission-wildcard-account", PUBLIC, resource(PUBLIC, f.LAMBDA_PERMISSION, {
        "action": "lambda:InvokeFunction", "function": "fn", "principal": "*", "sourceAccount": "*"}),
         "principal `*`"),
    Case("r9-public-event-bus", PUBLIC, resource(PUBLIC, EVENT_PERMISSION, {
        "principal": "*", "statementId": "s"}), "Event bus permission"),
    Case("r9-event-bus-with-a-wildcard-org", PUBLIC, resource(PUBLIC, EVENT_PERMISSION, {
        "principal": "*", "statementId": "s",
        "condition": {"key": "aws:PrincipalOrgID", "type": "StringEquals", "value": "o-*"}}),
         "Event bus permission"),
    Case("r9-org-path-with-a-wildcard-root", PUBLIC, resource(PUBLIC, QUEUE_POLICY, {
        "queueUrl": "q", "policy": f.doc(_anyone("sqs:SendMessage", {
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-*/*"}}))}), "does not pin"),
    Case("r9-user-id-wildcard-unique-id", PUBLIC, resource(PUBLIC, QUEUE_POLICY, {
        "queueUrl": "q", "policy": f.doc(_anyone("sqs:SendMessage", {
            "StringLike": {"aws:userid": "*:app"}}))}), "does not pin"),
    Case("r9-s3-source-arn-any-bucket", PUBLIC, resource(PUBLIC, TOPIC_POLICY, {
        "arn": "t", "policy": f.doc(_anyone("sns:Publish", {
            "ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}))}), "does not pin"),
    Case("r9-every-log-group-by-two-wildcards", WILDCARDS, resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow(
        "logs:*", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*:*"))), "logs:*"),
]
CLEAN = [
    # pulumi-aws's aws.s3.BucketNotification example: the bucket's ARN has no account field
    ("r9-s3-notification-topic-policy", resource(PUBLIC, TOPIC_POLICY, {
        "arn": "t", "policy": f.doc(_anyone("sns:Publish", {
            "ArnEquals": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}}))})),
    ("r9-org-path-as-aws-documents-it", resource(PUBLIC, QUEUE_POLICY, {
        "queueUrl": "q", "policy": f.doc(_anyone("sqs:SendMessage", {
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}))})),
    ("r9-role-unique-id-in-user-id", resource(PUBLIC, QUEUE_POLICY, {
        "queueUrl": "q", "policy": f.doc(_anyone("sqs:SendMessage", {
            "StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}))})),
    ("r9-unquoted-source-account", resource(PUBLIC, QUEUE_POLICY, {
        "queueUrl": "q", "policy": f.doc(_anyone("sqs:SendMessage", {
            "StringEquals": {"aws:SourceAccount": int(ACCOUNT)}}))})),
    ("r9-lambda-permission-one-api", resource(PUBLIC, f.LAMBDA_PERMISSION, {
        **f.lambda_permission(), "principal": "*",
        "sourceArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:abc123/*/GET/items"})),
    ("r9-event-bus-for-the-organization", resource(PUBLIC, EVENT_PERMISSION, {
        "principal": "*", "statementId": "s",
        "condition": {"key": "aws:PrincipalOrgID", "type": "StringEquals", "value": "o-a1b2c3d4e5"}})),
    ("r9-event-bus-for-one-account", resource(PUBLIC, EVENT_PERMISSION, {
        "principal": ACCOUNT, "statementId": "s"})),
    ("r9-one-log-group-and-its-streams", resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow(
        "logs:*", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/app/web:*")))),
]


@pytest.mark.parametrize("case", UNSAFE, ids=[c.id for c in UNSAFE])
def test_unsafe_variant_is_reported(case):
    out = case.run()
    assert any(case.fragment in m for m in out.messages), (case.fragment, out.messages)


@pytest.mark.parametrize("run", [c[1] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_safe_look_alike_is_clean(run):
    out = run()
    assert out.ok and out.not_checked is None, out


def test_an_event_bus_condition_of_the_wrong_kind_pins_nothing():
    out = check_resource(PUBLIC, EVENT_PERMISSION, {"principal": "*", "statementId": "s", "condition": {
        "key": "aws:PrincipalOrgID", "type": "StringNotEquals", "value": "o-a1b2c3d4e5"}})
    assert out.messages
