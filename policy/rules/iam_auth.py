"""Guardrails for IAM database authentication (issue 10): when the database uses IAM auth,
passwords are not the app's way in.

1. An app role (the role of an app host's instance profile) must not read the database's
   master secret (the RDS-managed `masterUserSecrets`, or the Secrets Manager secret holding a
   RandomPassword that feeds `masterPassword`) when the database has
   `iamDatabaseAuthenticationEnabled`.
2. An RDS Proxy that requires IAM (`auths[].iamAuth: REQUIRED` or `defaultAuthScheme: IAM_AUTH`)
   must be reachable: some role of this stack holds `rds-db:connect` on it
   (`arn:…:rds-db:<region>:<account>:dbuser:<prx-id>/<user>`, the id being the last segment of
   the proxy's ARN). In preview the id and the documents built from it are unknown: a policy
   document whose input depends on the proxy is taken as the grant being there, and checked
   in full at update ("not checked while unknown").
3. A proxy's role (`roleArn`) trusts only rds.amazonaws.com, pinned to an account with an
   `aws:SourceAccount` (or `aws:SourceArn`) condition (confused-deputy protection).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from pulumi_policy import Severity

from .base import MANDATORY, UNKNOWN, items, text, true
from .database import CLUSTER, DB_INSTANCE, PROXY
from .glob import Glob
from .iamdocs import allows, broad, document, granted, listed, pins_caller, statements
from .roles import ROLE, app_roles, role_documents
from .stack import Result, database_dependencies
from .stackview import StackView, label, stack_rule

SECRET = "aws:secretsmanager/secret:Secret"
READ_SECRET = ["secretsmanager:GetSecretValue"]
CONNECT = ["rds-db:connect"]
RDS_SERVICE = "rds.amazonaws.com"


def _master_secrets(view: StackView, db: Any) -> tuple[set, list]:
    """(known ARNs, Secret resources) of the database's master password."""
    arns = {s.get("secretArn") for s in items(view.get(db, "masterUserSecrets"))
            if isinstance(s, dict) and text(s.get("secretArn"))}
    secrets = [r for r in database_dependencies(view, db) if r.resource_type == SECRET]
    arns |= {a for s in secrets if text(a := view.get(s, "arn"))}
    return arns, secrets


def _depends_on(view: StackView, owner: Any, targets: Iterable[Any]) -> bool:
    wanted = {t.urn for t in targets}
    deps = getattr(owner, "property_dependencies", None) or {}
    return any(d.urn in wanted for found in deps.values() for d in found)


def _reads(statement: dict, arns: set) -> Optional[list]:
    """The resources through which an Allow statement reads one of `arns` (None: unknown)."""
    if not granted(statement, READ_SECRET):
        return []
    if "NotResource" in statement:
        return ["NotResource"]
    resources = statement.get("Resource")
    if resources is UNKNOWN or UNKNOWN in items(resources):
        return None
    return [r for r, pattern in ((r, Glob(r)) for r in listed(resources))
            if broad(r) or any(pattern.match(a) for a in arns)]


def _app_reads_master(view: StackView) -> Result:
    for db in view.of(CLUSTER, DB_INSTANCE):
        if not true(view.get(db, "iamDatabaseAuthenticationEnabled")):
            continue
        arns, secrets = _master_secrets(view, db)
        sources = [db, *secrets]
        for role in app_roles(view):
            for owner, where, raw in role_documents(view, role):
                related = _depends_on(view, owner, sources)
                if raw is UNKNOWN:
                    if related:
                        view.note(f"{label(owner)} policy (may read the master secret of "
                                  f"{label(db)})")
                    continue
                doc, _ = document(raw) if raw is not None else (None, None)
                for i, st in enumerate(statements(doc) if doc else []):
                    found = _reads(st, arns)
                    if found is None:
                        view.note(f"{label(owner)} statement {i} Resource")
                    elif found:
                        yield (f"App role {label(role)} ({where} statement {i}) may read the "
                               f"master secret of {label(db)} ({', '.join(found)}), which uses "
                               "IAM database authentication: connect with an IAM token "
                               "(rds-db:connect) as the app's own user and drop "
                               "secretsmanager:GetSecretValue on the master secret."), owner.urn


def _requires_iam(view: StackView, proxy: Any) -> Any:
    scheme, auths = view.get(proxy, "defaultAuthScheme"), view.get(proxy, "auths")
    if scheme is UNKNOWN or auths is UNKNOWN:
        view.note(f"{label(proxy)} auths")
        return UNKNOWN
    return scheme == "IAM_AUTH" or any(isinstance(a, dict) and a.get("iamAuth") == "REQUIRED"
                                       for a in items(auths))


def proxy_id(view: StackView, proxy: Any) -> Optional[str]:
    """The proxy's resource id (`prx-…`), from its ARN (known after create)."""
    for key in ("arn", "id"):
        value = view.get(proxy, key)
        if isinstance(value, str) and value.rsplit(":", 1)[-1].startswith("prx-"):
            return value.rsplit(":", 1)[-1]
    return None


def _covers(resource: str, prx: str) -> bool:
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or not Glob(parts[2], fold=True).match("rds-db"):
        return False
    kind, _, rest = parts[5].partition(":")
    return Glob(kind).match("dbuser") and Glob(rest.split("/", 1)[0]).match(prx)


def _grant(view: StackView, proxy: Any, prx: Optional[str]) -> Any:
    """True when some role holds rds-db:connect on the proxy; UNKNOWN when only documents not
    yet known (that depend on the proxy) could; False otherwise."""
    pending = False
    for role in view.of(ROLE):
        for owner, _, raw in role_documents(view, role):
            if raw is UNKNOWN:
                pending = pending or _depends_on(view, owner, [proxy])
                continue
            doc, _ = document(raw) if raw is not None else (None, None)
            for st in statements(doc) if doc else []:
                if not allows(st) or not granted(st, CONNECT):
                    continue
                resources = st.get("Resource")
                if resources is UNKNOWN or UNKNOWN in items(resources) or prx is None:
                    pending = pending or _depends_on(view, owner, [proxy])
                elif any(_covers(r, prx) for r in listed(resources)):
                    return True
    return UNKNOWN if pending else False


def _proxy_reachable(view: StackView) -> Result:
    for proxy in view.of(PROXY):
        if _requires_iam(view, proxy) is not True:
            continue
        prx = proxy_id(view, proxy)
        found = _grant(view, proxy, prx)
        if found is UNKNOWN:
            view.note(f"{label(proxy)} rds-db:connect grants (built from its id)")
        elif not found:
            shown = f"dbuser:{prx}/<user>" if prx else "dbuser:<proxy resource id>/<user>"
            yield (f"{label(proxy)} requires IAM authentication, but no role of this stack holds "
                   f"rds-db:connect on it (arn:…:rds-db:<region>:<account>:{shown}): the proxy "
                   "is unusable; grant it to the app role."), proxy.urn


def _trusts_only_rds(view: StackView) -> Result:
    for proxy in view.of(PROXY):
        for role in view.deps(proxy, "roleArn", ROLE):
            raw = view.get(role, "assumeRolePolicy")
            if view.is_unknown(raw, role, "assumeRolePolicy"):
                continue
            doc, problem = document(raw) if raw is not None else (None, "is missing")
            if doc is None:
                yield f"Proxy role {label(role)}: trust policy {problem}.", role.urn
                continue
            for i, st in enumerate(statements(doc)):
                if not allows(st):
                    continue
                principal = st.get("Principal")
                services = listed(principal.get("Service")) if isinstance(principal, dict) else []
                only_rds = isinstance(principal, dict) and set(principal) == {"Service"} and (
                    services and all(s.removesuffix(".cn") == RDS_SERVICE for s in services))
                if not only_rds or not pins_caller(st.get("Condition")):
                    yield (f"Proxy role {label(role)} trust statement {i} must trust only "
                           f"{RDS_SERVICE} with an `aws:SourceAccount` condition naming this "
                           "account (it lets RDS act for this account only)."), role.urn


def _guardrails(view: StackView, config: dict) -> Result:
    yield from _app_reads_master(view)
    yield from _proxy_reachable(view)
    yield from _trusts_only_rds(view)


RULES = [
    stack_rule(
        name="db-iam-auth-guardrails", types=(CLUSTER, DB_INSTANCE, PROXY, ROLE),
        check=_guardrails,
        description="Checks whether app roles cannot read the master secret of a database "
                    "that uses IAM authentication, an RDS Proxy that requires IAM is reachable "
                    "by a role holding rds-db:connect on it, and proxy roles trust only "
                    "rds.amazonaws.com with an aws:SourceAccount condition.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule", "CKV_AWS_162"),
        unknown="documents built from outputs (secret ARNs, the proxy id) are unknown in "
                "preview: related by dependency, advisory 'not checked', checked at update"),
]
