"""Elastic Load Balancing v2 (`aws.lb` and its `aws.alb` aliases): load balancers and listeners.

Absent means the provider default: `loadBalancerType` application, `dropInvalidHeaderFields` and
`enableDeletionProtection` false, `desyncMitigationMode` defensive, no access logs, listener
`sslPolicy` ELBSecurityPolicy-2016-08 (allows TLS 1.0), redirect `protocol` "#{protocol}".
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .base import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Ctx,
    is_set,
    items,
    number,
    resource_rule,
    text,
    true,
)
from .cidrs import has_public
from .glob import Glob
from .ingress import ingress_of
from .network import INTERNET_THRESHOLDS, SECURITY_GROUP, reach
from .stackview import StackView, label, stack_rule

LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"
MODERN_TLS = ["ELBSecurityPolicy-TLS13-1-2-*", "ELBSecurityPolicy-TLS13-1-3-*",
              "ELBSecurityPolicy-TLS-1-2-*", "ELBSecurityPolicy-FS-1-2-*"]
PLAIN_HTTP_OPT_IN = "aurorakit:allow-plain-http"  # tag on a listener: "true" = explicit opt-in


def _kind(ctx: Ctx) -> Any:
    """'application', 'network', 'gateway' or UNKNOWN (noted)."""
    kind = ctx.get("loadBalancerType")
    if not ctx.known(kind, "loadBalancerType"):
        return UNKNOWN
    return kind if isinstance(kind, str) and kind else "application"


def _alb_flag(key: str, message: str):
    """An ALB check: props[key] must be true (absent = provider default false)."""
    def check(ctx: Ctx) -> Iterable[str]:
        if _kind(ctx) != "application":
            return
        value = ctx.get(key)
        if ctx.known(value, key) and value is not True:
            yield f"Application Load Balancer must {message} (set `{key}: true`)."
    return check


def _deletion(ctx: Ctx) -> Iterable[str]:
    value = ctx.get("enableDeletionProtection")
    if ctx.known(value, "enableDeletionProtection") and value is not True:
        yield ("Load balancer must have deletion protection: set `enableDeletionProtection: "
               "true` (a deleted load balancer's DNS name cannot be recovered).")


def _desync(ctx: Ctx) -> Iterable[str]:
    if _kind(ctx) != "application":
        return
    mode = ctx.get("desyncMitigationMode")
    if ctx.known(mode, "desyncMitigationMode") and mode not in (None, "defensive", "strictest"):
        yield ("Application Load Balancer must mitigate HTTP desync: set "
               '`desyncMitigationMode` to "defensive" or "strictest" (not "monitor").')


def _access_logs(ctx: Ctx) -> Iterable[str]:
    if _kind(ctx) != "application":
        return
    enabled, bucket = ctx.get("accessLogs", "enabled"), ctx.get("accessLogs", "bucket")
    if ctx.known(enabled, "accessLogs.enabled") and (enabled is not True or not is_set(bucket)):
        yield ("Application Load Balancer should write access logs: set `accessLogs` with a "
               "`bucket` and `enabled: true`.")


def _tls_policy(ctx: Ctx) -> Iterable[str]:
    protocol, policy = ctx.get("protocol"), ctx.get("sslPolicy")
    if not ctx.known(protocol, "protocol") or protocol not in ("HTTPS", "TLS"):
        return
    if not ctx.known(policy, "sslPolicy"):
        return
    allowed = [str(p) for p in items(ctx.config.get("allowedPolicies"))]
    name = text(policy) or DEFAULT_SSL_POLICY
    if not any(Glob(pattern).match(name) for pattern in allowed):
        shown = name if text(policy) else f"unset ({DEFAULT_SSL_POLICY})"
        yield (f"{protocol} listener must use a TLS 1.2+ security policy: `sslPolicy` is {shown}; "
               "use e.g. ELBSecurityPolicy-TLS13-1-2-2021-06.")


def _redirects_to_https(actions: Any) -> bool:
    """Every action is a redirect to HTTPS (an empty list redirects nothing)."""
    found = [a for a in items(actions) if isinstance(a, dict)]
    return bool(found) and all(a.get("type") == "redirect" and isinstance(a.get("redirect"), dict)
                               and a["redirect"].get("protocol") == "HTTPS" for a in found)


def _listeners_of(view: StackView, lb: Any) -> list:
    return [x for t in LISTENERS for x in view.referrers(lb, t, "loadBalancerArn")]


def internet_facing_albs(view: StackView) -> list:
    """Application Load Balancers that are not `internal` (unknown: noted, skipped)."""
    out = []
    for lb in view.of(*LOAD_BALANCERS):
        internal, kind = view.get(lb, "internal"), view.get(lb, "loadBalancerType")
        if view.is_unknown(internal, lb, "internal") or view.is_unknown(
                kind, lb, "loadBalancerType"):
            continue
        if not true(internal) and kind in (None, "application"):
            out.append(lb)
    return out


def _opted_in(view: StackView, listener: Any) -> bool:
    return any(isinstance(tags := view.get(listener, key), dict)
               and true(tags.get(PLAIN_HTTP_OPT_IN)) for key in ("tags", "tagsAll"))


def _plain_http(view: StackView, config: dict):
    for lb in internet_facing_albs(view):
        listeners = _listeners_of(view, lb)
        protocols = [view.get(x, "protocol") for x in listeners]
        if "HTTPS" in protocols:
            continue  # an HTTP listener beside HTTPS must redirect: alb-http-redirects-to-https
        for listener, protocol in zip(listeners, protocols, strict=True):
            if view.is_unknown(protocol, listener, "protocol") or protocol not in (None, "HTTP"):
                continue
            actions = view.get(listener, "defaultActions")
            if view.is_unknown(actions, listener, "defaultActions") or _opted_in(view, listener):
                continue
            rules = [r for t in LISTENER_RULES for r in view.referrers(listener, t, "listenerArn")
                     if not _redirects_to_https(view.get(r, "actions"))]
            if not _redirects_to_https(actions) or rules:
                yield (f'HTTP listener "{listener.name}" of internet-facing {label(lb)} serves '
                       "plain HTTP: add an HTTPS listener with an ACM certificate and redirect "
                       "HTTP to it, or mark the explicit opt-in with the tag "
                       f'`{PLAIN_HTTP_OPT_IN}: "true"` on the listener (the stack\'s '
                       "`albAllowHttp`)."), listener.urn


def _http_redirect(view: StackView, config: dict):
    for listener in view.of(*LISTENERS):
        protocol = view.get(listener, "protocol")
        if view.is_unknown(protocol, listener, "protocol") or protocol not in (None, "HTTP"):
            continue
        balancers = view.deps(listener, "loadBalancerArn", *LOAD_BALANCERS)
        if any(view.get(lb, "loadBalancerType") not in (None, "application") for lb in balancers):
            continue  # network/gateway listeners carry no HTTP
        siblings = [s for lb in balancers for s in view.referrers(lb, LISTENERS[0],
                                                                  "loadBalancerArn")
                    + view.referrers(lb, LISTENERS[1], "loadBalancerArn")]
        if not any(view.get(s, "protocol") == "HTTPS" for s in siblings):
            continue  # HTTP only (no certificate): alb-listener-https says so
        actions = view.get(listener, "defaultActions")
        if view.is_unknown(actions, listener, "defaultActions"):
            continue
        rules = [r for t in LISTENER_RULES for r in view.referrers(listener, t, "listenerArn")]
        forwarding = [r for r in rules if not _redirects_to_https(view.get(r, "actions"))
                      and view.get(r, "actions") is not UNKNOWN]
        why = "its load balancer has an HTTPS listener"
        if not _redirects_to_https(actions):
            yield (f'HTTP listener "{listener.name}" must redirect to HTTPS ({why}): make its '
                   '`defaultActions` a redirect with `protocol: "HTTPS"`.'), listener.urn
        for rule in forwarding:
            yield (f'Listener rule "{rule.name}" on HTTP listener "{listener.name}" serves plain '
                   f"HTTP ({why}): redirect to HTTPS instead."), rule.urn


def _listener_ports(view: StackView, lb: Any) -> Any:
    """The known ports `lb` listens on, or UNKNOWN (noted) when one is unknown."""
    ports: set = set()
    for listener in view.referrers(lb, LISTENERS[0], "loadBalancerArn") + view.referrers(
            lb, LISTENERS[1], "loadBalancerArn"):
        port = view.get(listener, "port")
        if view.is_unknown(port, listener, "port"):
            return UNKNOWN
        numbered = number(port)
        if numbered is not None:
            ports.add(int(numbered))
    return ports


def _exposed_ports(view: StackView, config: dict):
    for lb in view.of(*LOAD_BALANCERS):
        internal = view.get(lb, "internal")
        if view.is_unknown(internal, lb, "internal") or true(internal):
            continue
        groups = view.deps(lb, "securityGroups", SECURITY_GROUP)
        ports = _listener_ports(view, lb) if groups else UNKNOWN
        if not isinstance(ports, set):  # UNKNOWN
            continue
        shown = ", ".join(map(str, sorted(ports))) or "no port"
        for sg in groups:
            beyond = []  # permissions that open more than the listener ports
            for ing in ingress_of(view, sg):
                perm = ing.perm
                if view.is_unknown(perm.ports, ing.owner, f"{perm.path} ports") or (
                        perm.ports is None):
                    continue  # ICMP and other port-less protocols (e.g. path MTU discovery)
                low, high = perm.ports
                if high - low < 65535 and all(p in ports for p in range(low, high + 1)):
                    continue
                if UNKNOWN in ing.cidrs:
                    view.note(f"{label(ing.owner)} {perm.path} source CIDR")
                beyond.append(ing)
            whole = reach([c for ing in beyond for c in ing.cidrs], config)
            for ing in beyond:
                own = reach(ing.cidrs, config)
                if not own and not (whole and has_public(
                        [c for c in ing.cidrs if isinstance(c, str)])):
                    continue
                why = f"its sources are {own}" if own else (
                    f"with the group's other such rules its sources make {whole}")
                low, high = ing.perm.ports
                yield (f'Internet-facing load balancer "{lb.name}" lets the internet reach ports '
                       f"{low}-{high} through {label(sg)} ({label(ing.owner)}; {why}), but "
                       f"listens only on {shown}: open only the listener ports."), ing.owner.urn


_FIELD = "unknown value: advisory 'not checked', checked at update"
RULES = [
    resource_rule(
        name="alb-drop-invalid-header-fields", types=LOAD_BALANCERS,
        check=_alb_flag("dropInvalidHeaderFields", "drop invalid HTTP header fields"),
        description="Checks whether Application Load Balancers drop invalid HTTP header fields.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_131", "ELB.4")),
    resource_rule(
        name="alb-deletion-protection", types=LOAD_BALANCERS, check=_deletion,
        description="Checks whether load balancers have deletion protection.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_150", "ELB.6")),
    resource_rule(
        name="alb-desync-mitigation", types=LOAD_BALANCERS, check=_desync,
        description="Checks whether Application Load Balancers mitigate HTTP desync in "
                    "defensive or strictest mode.",
        level=MANDATORY, severity=Severity.MEDIUM, anchors=("CKV_AWS_328", "ELB.12")),
    resource_rule(
        name="alb-access-logs", types=LOAD_BALANCERS, check=_access_logs,
        description="Checks whether Application Load Balancers write access logs to S3.",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV_AWS_91", "ELB.5"),
        unknown="unknown accessLogs.enabled: advisory 'not checked'; bucket: set-ness only"),
    resource_rule(
        name="lb-listener-modern-tls", types=LISTENERS, check=_tls_policy,
        description="Checks whether HTTPS/TLS listeners use a security policy with TLS 1.2 or "
                    "later (absent = ELBSecurityPolicy-2016-08, which allows TLS 1.0).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_103", "ELB.17"),
        unknown=_FIELD,
        config={"allowedPolicies": {"type": "array", "items": {"type": "string"},
                                    "default": MODERN_TLS,
                                    "description": "sslPolicy names (glob patterns) accepted."}}),
    stack_rule(
        name="alb-http-redirects-to-https", types=LISTENERS, check=_http_redirect,
        description="Checks whether HTTP listeners (and their listener rules) redirect to HTTPS "
                    "when their load balancer has an HTTPS listener.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV2_AWS_20", "ELB.1"),
        unknown="unknown protocol or actions: advisory 'not checked' for that listener; the "
                "listener-to-load-balancer relation uses dependencies"),
    stack_rule(
        name="alb-listener-https", types=LISTENERS, check=_plain_http,
        description="Checks whether internet-facing Application Load Balancers without an "
                    "HTTPS listener serve plain HTTP only with the stack's explicit opt-in (tag "
                    f'`{PLAIN_HTTP_OPT_IN}: "true"` on the listener); a redirect to HTTPS is '
                    "fine.",
        level=ADVISORY, severity=Severity.HIGH, anchors=("CKV_AWS_2", "ELB.1"),
        unknown="unknown protocol, actions, `internal` or type: advisory 'not checked' for that "
                "listener; the listener-to-load-balancer relation uses dependencies"),
    stack_rule(
        name="lb-world-ingress-only-listener-ports", types=LOAD_BALANCERS, check=_exposed_ports,
        description="Checks whether internet-facing load balancers' security groups let the "
                    "internet (0.0.0.0/0, ::/0, blocks that together cover it, public blocks "
                    "wider than the configured prefix, prefix lists holding such blocks) reach "
                    "only the ports the load balancer listens on.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("stack rule",),
        unknown="unknown listener port, rule ports or `internal`: advisory 'not checked' for "
                "that load balancer; relations use dependencies",
        config=INTERNET_THRESHOLDS),
]
