"""The app fleet's internet-facing Application Load Balancer (children of `AppFleet`).

Its own security group (listener ports from the allowed CIDRs; to the app port of the fleet via
SecurityGroupLink), the ALB in the public subnets — created only once the public tier's internet
route exists (AWS rejects an internet-facing load balancer in a VPC without an attached internet
gateway: `InvalidSubnet`) — a target group whose health check does not touch the database
(`/livez`: a database outage must not make the ALB and the Auto Scaling group recycle every host),
and the listeners: HTTPS (TLS 1.2+) with HTTP redirected when there is a certificate — the one
the stack creates for `domain_name` (components/domain.py, with the alias record to the ALB) or
an existing `certificate_arn` — and plain HTTP only as the explicit opt-in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .connections import Connections, SecurityGroupLink
from .domain import alias_record, validated_certificate
from .rule_names import cidr_rules

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
LIVENESS_PATH = "/livez"   # the app answers it without touching the database (app/web.py)
DEREGISTRATION_DELAY = 30  # seconds a leaving host keeps its in-flight requests (≥ gunicorn's graceful timeout)
IDLE_TIMEOUT = 60          # seconds; gunicorn's keep-alive is longer, so the ALB closes idle connections first
PLAIN_HTTP_OPT_IN_TAG = "aurorakit:allow-plain-http"  # read by the policy pack


@dataclass(frozen=True)
class LoadBalancer:
    """What the fleet needs from its ALB."""

    url: pulumi.Output[str]
    target_group: aws.lb.TargetGroup
    load_balancer: aws.lb.LoadBalancer
    connections: Connections
    security_group_id: pulumi.Output[str]  # the ALB's own (connections' only one)
    listener: aws.lb.Listener  # the one forwarding to the target group: targets are `unused` until it exists


def internet_facing_alb(name: str, args, fleet: Connections, tags: dict,
                        parent: pulumi.Resource) -> LoadBalancer:
    """The ALB in front of `fleet` (its SGs and app port). `args` is the AppFleetArgs."""
    child = pulumi.ResourceOptions(parent=parent)
    certificate = (validated_certificate(name, args.domain_name, args.hosted_zone_id, tags, parent)
                   if args.domain_name else args.certificate_arn)
    https = certificate is not None
    sg = aws.ec2.SecurityGroup(f"{name}-alb-sg", vpc_id=args.vpc_id,
                               description=f"{name}: internet-facing ALB (rules are standalone resources)",
                               tags={**tags, "Name": f"{name}-alb-sg"}, opts=child)
    for port in ([80, 443] if https else [80]):
        for rule, cidr, alias in cidr_rules(f"{name}-alb-ingress-{port}", args.load_balancer_ingress_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                rule, security_group_id=sg.id, cidr_ipv4=cidr,
                ip_protocol="tcp", from_port=port, to_port=port,
                description=f"ALB listener tcp/{port} from {cidr}", opts=pulumi.ResourceOptions.merge(child, alias))
    connections = Connections([sg.id], 443 if https else 80, label=f"{name} ALB")
    SecurityGroupLink(f"{name}-alb-to-host", source=connections, target=fleet, opts=child)
    # The subnets ride with `internet_ready`: the ALB is created after the internet route.
    subnets = pulumi.Output.all(args.load_balancer_subnet_ids, args.internet_ready).apply(lambda a: a[0])
    lb = aws.lb.LoadBalancer(
        f"{name}-alb", load_balancer_type="application", internal=False, subnets=subnets,
        security_groups=[sg.id], drop_invalid_header_fields=True, enable_http2=True,
        idle_timeout=IDLE_TIMEOUT, enable_deletion_protection=args.load_balancer_deletion_protection,
        access_logs=aws.lb.LoadBalancerAccessLogsArgs(
            bucket=args.load_balancer_access_logs_bucket, prefix=f"{name}-alb", enabled=True)
        if args.load_balancer_access_logs_bucket else None,
        desync_mitigation_mode="strictest", tags=tags, opts=child)
    group = aws.lb.TargetGroup(
        f"{name}-targets", port=args.app_port, protocol="HTTP", target_type="instance",
        vpc_id=args.vpc_id, deregistration_delay=DEREGISTRATION_DELAY,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            path=LIVENESS_PATH, matcher="200", interval=15, timeout=5, healthy_threshold=2,
            unhealthy_threshold=3),
        tags=tags, opts=child)
    forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)
    redirect = aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
        port="443", protocol="HTTPS", status_code="HTTP_301"))
    secure = None
    if https:
        secure = aws.lb.Listener(f"{name}-https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS",
                                 ssl_policy=TLS_POLICY, certificate_arn=certificate,
                                 default_actions=[forward], tags=tags, opts=child)
    # Port 80 is ONE listener whatever it does: forward (the plain-HTTP opt-in) or redirect to
    # HTTPS. Switching between them is an in-place ModifyListener (two logical listeners would be
    # created before the other is deleted, and the ELB refuses a second listener on port 80:
    # DuplicateListener). It redirects only once the HTTPS listener serves. Stacks created with
    # the redirect under its own name keep that listener (alias).
    plain = aws.lb.Listener(f"{name}-http", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                    default_actions=[redirect if https else forward],
                    tags=tags if https else {**tags, PLAIN_HTTP_OPT_IN_TAG: "true"},
                    opts=pulumi.ResourceOptions(parent=parent, depends_on=[secure] if secure else None,
                                                aliases=[pulumi.Alias(name=f"{name}-http-redirect")]))
    if https and args.domain_name:  # the URL resolves once the name points at the ALB
        url = alias_record(name, args.domain_name, args.hosted_zone_id, lb, parent).fqdn.apply(
            lambda d: f"https://{d}")
    else:
        url = lb.dns_name.apply(lambda d: f"{'https' if https else 'http'}://{d}")
    return LoadBalancer(url, group, lb, connections, sg.id, secure or plain)


def fleet_alarms(name: str, lb: LoadBalancer, topic_arn: Optional[pulumi.Input[str]], tags: dict,
                 parent: pulumi.Resource) -> None:
    """Operator-visible health of the tier: hosts failing the ALB's health check, and 5xx
    answers from the app (a database that is down or read-only shows here: the app answers 503)."""
    child = pulumi.ResourceOptions(parent=parent)
    actions = [topic_arn] if topic_arn is not None else []
    dims = pulumi.Output.all(lb.load_balancer.arn_suffix, lb.target_group.arn_suffix).apply(
        lambda a: {"LoadBalancer": a[0], "TargetGroup": a[1]})
    for suffix, metric, threshold, stat in (("unhealthy-hosts", "UnHealthyHostCount", 0, "Maximum"),
                                            ("target-5xx", "HTTPCode_Target_5XX_Count", 10, "Sum")):
        aws.cloudwatch.MetricAlarm(
            f"{name}-{suffix}-alarm", namespace="AWS/ApplicationELB", metric_name=metric,
            comparison_operator="GreaterThanThreshold", threshold=threshold, statistic=stat,
            period=60, evaluation_periods=5, datapoints_to_alarm=3, treat_missing_data="notBreaching",
            dimensions=dims, alarm_description=f"{name}: {metric} > {threshold}",
            alarm_actions=actions, ok_actions=actions, tags=tags, opts=child)
