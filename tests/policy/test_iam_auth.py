"""Issue 10's guardrails (rule `db-iam-auth-guardrails`): with IAM database authentication an
app role does not read the master secret; an IAM-only RDS Proxy is reachable by a role holding
rds-db:connect on its `prx-` id; a proxy role trusts only rds.amazonaws.com for this account."""
from __future__ import annotations

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from . import factories as f
from .stack_factory import T, good_stack, policy_doc

RULE = "db-iam-auth-guardrails"
PRX = "prx-0a1b2c3d4e5f60718"
PROXY_ARN = f"arn:aws:rds:eu-west-1:{f.ACCOUNT}:db-proxy:{PRX}"
SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": f.ACCOUNT}}


def _with_proxy(s, trust_condition=SOURCE_ACCOUNT, auths=None, **props):
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": "rds.amazonaws.com"}}
    if trust_condition:
        statement["Condition"] = trust_condition
    role = s.add(T["role"], "db-proxy-role", {"assumeRolePolicy": policy_doc(statement)})
    return s.add(T["proxy"], "db-proxy", {**f.proxy(), "arn": PROXY_ARN, **props,
                                          **({"auths": auths} if auths is not None else {})},
                 {"roleArn": [role], "vpcSecurityGroupIds": [s.find("db-sg")]})


def _grant_connect(s, resource: str, deps=None):
    s.add(T["rp"], "app-proxy-connect", {"role": "app-role", "policy": policy_doc(
        {"Effect": "Allow", "Action": "rds-db:connect", "Resource": resource})},
        {"role": [s.find("app-role")], **(deps or {})})


def test_app_role_that_reads_the_managed_master_secret_is_reported():
    s = good_stack()
    s.set("app-read-secret", "policy", policy_doc(f.READ_SECRET, f.DECRYPT))
    out = s.check(RULE)
    assert len(out.messages) == 1 and "may read the master secret" in out.messages[0]
    s.set("db-cluster", "iamDatabaseAuthenticationEnabled", False)  # passwords are the way in
    assert s.check(RULE).ok


def test_wildcards_that_cover_the_master_secret_are_reported():
    s = good_stack()
    s.set("app-read-secret", "policy", policy_doc({
        "Effect": "Allow", "Action": "secretsmanager:Get*",
        "Resource": f"arn:aws:secretsmanager:eu-west-1:{f.ACCOUNT}:secret:rds!*"}))
    assert "rds!*" in s.check(RULE).messages[0]


def test_master_secret_written_from_a_random_password_is_the_master_secret_too():
    s = good_stack()
    rnd = s.add(T["random"], "db-password", {"length": 32.0})
    secret = s.add(T["secret"], "db-master", {**f.secret(), "arn": f.SECRET_ARN + "-master"})
    s.add(T["sv"], "db-master-value", {"secretString": UNKNOWN_STRING_VALUE},
          {"secretId": [secret], "secretString": [rnd]})
    s.find("db-cluster").property_dependencies["masterPassword"] = [rnd]
    s.set("app-read-secret", "policy", policy_doc({**f.READ_SECRET,
                                                   "Resource": f.SECRET_ARN + "-master"}))
    assert "may read the master secret" in s.check(RULE).messages[0]


def test_in_preview_a_document_built_from_the_cluster_is_not_checked_not_passed():
    s = good_stack()
    s.set("app-read-secret", "policy", UNKNOWN_STRING_VALUE)
    out = s.check(RULE)
    assert out.ok and "may read the master secret" in out.not_checked


def test_iam_only_proxy_without_any_connect_grant_is_unusable():
    s = good_stack()
    _with_proxy(s)
    out = s.check(RULE)
    assert len(out.messages) == 1 and f"dbuser:{PRX}/<user>" in out.messages[0]
    _grant_connect(s, f"arn:aws:rds-db:eu-west-1:{f.ACCOUNT}:dbuser:{PRX}/app")
    assert s.check(RULE).ok


def test_end_to_end_iam_proxy_needs_the_grant_too_and_a_grant_elsewhere_does_not_count():
    s = good_stack()
    _with_proxy(s, auths=[], defaultAuthScheme="IAM_AUTH")
    _grant_connect(s, f"arn:aws:rds-db:eu-west-1:{f.ACCOUNT}:dbuser:prx-0ffffffffffffffff/app")
    assert s.check(RULE).messages
    s.set("db-proxy", "defaultAuthScheme", "NONE")  # no IAM required: nothing to reach
    assert s.check(RULE).ok


def test_in_preview_the_grant_is_related_by_dependency_on_the_proxy():
    s = good_stack()
    proxy = _with_proxy(s)
    s.set("db-proxy", "arn", UNKNOWN_STRING_VALUE)
    s.add(T["rp"], "app-proxy-connect", {"role": "app-role", "policy": UNKNOWN_STRING_VALUE},
          {"role": [s.find("app-role")], "policy": [proxy]})
    out = s.check(RULE)
    assert out.ok and "rds-db:connect grants" in out.not_checked
    s.remove("app-proxy-connect")  # nothing refers to the proxy: provably unreachable
    assert s.check(RULE).messages


def test_proxy_role_trusts_only_rds_for_this_account():
    s = good_stack()
    _with_proxy(s, trust_condition=None)
    _grant_connect(s, "*")
    assert "aws:SourceAccount" in s.check(RULE).messages[0]
    s = good_stack()
    _with_proxy(s, trust_condition={"StringLike": {"aws:SourceAccount": "*"}})
    _grant_connect(s, "*")
    assert s.check(RULE).messages
    s = good_stack()
    _with_proxy(s)
    _grant_connect(s, "*")
    assert s.check(RULE).ok
