"""Operational add-ons of AuroraCluster: alarms, reader autoscaling, RDS Proxy."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from .connections import Connections, SecurityGroupLink
from .engines import ENGINES
from .policies import AccountContext, assume_role_policy, document


def alarms(name: str, cluster: aws.rds.Cluster, topic: aws.sns.Topic, args, tags: dict,
       child: pulumi.ResourceOptions) -> None:
    """CPU, freeable memory, connections (and replica lag with readers) alarms to `topic`."""
    alarms = [("cpu", "CPUUtilization", "GreaterThanThreshold", 80, "Average"),
              ("freeable-memory", "FreeableMemory", "LessThanThreshold", 256 * 1024 * 1024, "Minimum"),
              ("connections", "DatabaseConnections", "GreaterThanThreshold", 500, "Maximum")]
    if args.readers or args.reader_autoscaling_max:
        alarms.append(("replica-lag", "AuroraReplicaLagMaximum", "GreaterThanThreshold", 2000, "Maximum"))
    for suffix, metric, op, threshold, stat in alarms:
        aws.cloudwatch.MetricAlarm(
            f"{name}-{suffix}-alarm", namespace="AWS/RDS", metric_name=metric,
            comparison_operator=op, threshold=threshold, statistic=stat, period=300,
            evaluation_periods=3, datapoints_to_alarm=2, treat_missing_data="missing",
            dimensions={"DBClusterIdentifier": cluster.cluster_identifier},
            alarm_description=f"{name}: {metric} {op} {threshold}",
            alarm_actions=[topic.arn], ok_actions=[topic.arn], tags=tags, opts=child)
    for i, email in enumerate(args.alarm_emails):
        aws.sns.TopicSubscription(f"{name}-alarms-email-{i}", topic=topic.arn, protocol="email",
                                  endpoint=email, opts=child)

def reader_autoscaling(name: str, parent: pulumi.Resource, cluster: aws.rds.Cluster, args,
                   instances: list, child: pulumi.ResourceOptions) -> None:
    """Application Auto Scaling of the reader count on average reader CPU."""
    target = aws.appautoscaling.Target(
        f"{name}-readers-target", service_namespace="rds",
        scalable_dimension="rds:cluster:ReadReplicaCount",
        resource_id=cluster.cluster_identifier.apply(lambda c: f"cluster:{c}"),
        min_capacity=args.readers, max_capacity=args.reader_autoscaling_max,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=instances))
    aws.appautoscaling.Policy(
        f"{name}-readers-cpu", policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace, scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=args.reader_autoscaling_cpu_target, scale_in_cooldown=300, scale_out_cooldown=300,
            predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="RDSReaderAverageCPUUtilization")),
        opts=child)

def proxy(name: str, parent: pulumi.Resource, args, cluster: aws.rds.Cluster, db: Connections,
          ctx: AccountContext, tags: dict, instances: list, child: pulumi.ResourceOptions,
          ) -> tuple[pulumi.Output[str], Optional[pulumi.Output[str]], pulumi.Output[str], Connections]:
    """RDS Proxy with end-to-end IAM authentication (`default_auth_scheme` IAM_AUTH): clients
    connect with IAM tokens for `args.app_db_user` (TLS required) and the proxy connects to the
    cluster with IAM too, so it reads no secret at all. Its role may only `rds-db:connect` as the
    app user on this cluster and is assumable only by RDS from this account. A READ_ONLY endpoint
    serves reads when the cluster has (or may scale to) readers. Returns (read/write endpoint,
    read-only endpoint or None, the proxy's resource id `prx-…`, its Connections)."""
    role = aws.iam.Role(
        f"{name}-proxy-role", description=f"{name}: RDS Proxy connects to the cluster with IAM auth",
        # RDS documents aws:SourceAccount for roles it assumes (confused-deputy protection).
        assume_role_policy=ctx.account_id.apply(lambda acct: assume_role_policy("rds.amazonaws.com", acct)),
        tags=tags, opts=child)
    connect = aws.iam.RolePolicy(f"{name}-proxy-connect", role=role.id, policy=pulumi.Output.all(
        ctx.partition, ctx.region, ctx.account_id, cluster.cluster_resource_id).apply(lambda a: document([
            {"Sid": "IamDbAuthToTheClusterAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
             "Resource": [db_user_arn(a[0], a[1], a[2], a[3], args.app_db_user)]}])),
        opts=child)
    sg = aws.ec2.SecurityGroup(f"{name}-proxy-sg", vpc_id=args.vpc_id,
                               description=f"{name}: RDS Proxy (ingress only via SecurityGroupLink)",
                               tags={**tags, "Name": f"{name}-proxy-sg"}, opts=child)
    rds_proxy = aws.rds.Proxy(
        f"{name}-proxy", engine_family=ENGINES[args.engine]["proxy"], role_arn=role.arn,
        vpc_subnet_ids=args.subnet_ids, vpc_security_group_ids=[sg.id], require_tls=True,
        default_auth_scheme="IAM_AUTH", idle_client_timeout=1800, tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[connect]))
    group = aws.rds.ProxyDefaultTargetGroup(f"{name}-proxy-targets", db_proxy_name=rds_proxy.name, opts=child)
    aws.rds.ProxyTarget(f"{name}-proxy-target", db_proxy_name=rds_proxy.name, target_group_name=group.name,
                        db_cluster_identifier=cluster.cluster_identifier,
                        opts=pulumi.ResourceOptions(parent=parent, depends_on=instances))
    read_only = None
    if args.readers or args.reader_autoscaling_max:  # with no reader a READ_ONLY endpoint has no target
        read_only = aws.rds.ProxyEndpoint(
            f"{name}-proxy-read-only", db_proxy_name=rds_proxy.name,
            db_proxy_endpoint_name=rds_proxy.name.apply(lambda n: f"{n[:59].rstrip('-')}-ro"),
            vpc_subnet_ids=args.subnet_ids, vpc_security_group_ids=[sg.id], target_role="READ_ONLY",
            tags=tags, opts=child).endpoint
    connections = Connections([sg.id], ENGINES[args.engine]["port"], label=f"{name} RDS Proxy")
    SecurityGroupLink(f"{name}-proxy-to-db", source=connections, target=db, opts=child)
    return rds_proxy.endpoint, read_only, rds_proxy.arn.apply(proxy_resource_id), connections


def proxy_resource_id(proxy_arn: str) -> str:
    """`prx-…` from `arn:<partition>:rds:<region>:<account>:db-proxy:prx-…`."""
    return proxy_arn.rsplit(":", 1)[-1]


def db_user_arn(partition: str, region: str, account: str, resource_id: str, user: str) -> str:
    """The `rds-db:connect` resource for `user` on a cluster (`cluster-…`) or proxy (`prx-…`)."""
    return f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"
