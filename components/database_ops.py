"""Operational add-ons of AuroraCluster: alarms, reader autoscaling, RDS Proxy."""
from __future__ import annotations

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
      secret_arn, key_arn, ctx: AccountContext, tags: dict, instances: list,
      child: pulumi.ResourceOptions) -> tuple[pulumi.Output[str], Connections]:
    """RDS Proxy (TLS + IAM auth required) reading the master secret; linked to the cluster SG."""
    role = aws.iam.Role(f"{name}-proxy-role", description=f"{name}: RDS Proxy reads the master secret",
                        assume_role_policy=assume_role_policy("rds.amazonaws.com"), tags=tags, opts=child)
    read_secret = aws.iam.RolePolicy(f"{name}-proxy-secret", role=role.id, policy=pulumi.Output.all(
        secret_arn, key_arn, ctx.service_host("secretsmanager")).apply(lambda a: document([
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [a[0]]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [a[1]],
             "Condition": {"StringEquals": {"kms:ViaService": a[2]}}}])),
        opts=child)
    sg = aws.ec2.SecurityGroup(f"{name}-proxy-sg", vpc_id=args.vpc_id,
                               description=f"{name}: RDS Proxy (ingress only via SecurityGroupLink)",
                               tags={**tags, "Name": f"{name}-proxy-sg"}, opts=child)
    rds_proxy = aws.rds.Proxy(
        f"{name}-proxy", engine_family=ENGINES[args.engine]["proxy"], role_arn=role.arn,
        vpc_subnet_ids=args.subnet_ids, vpc_security_group_ids=[sg.id], require_tls=True,
        auths=[aws.rds.ProxyAuthArgs(auth_scheme="SECRETS", secret_arn=secret_arn, iam_auth="REQUIRED",
                                     description="master credentials from Secrets Manager")],
        idle_client_timeout=1800, tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[read_secret]))  # reads the secret at once
    group = aws.rds.ProxyDefaultTargetGroup(f"{name}-proxy-targets", db_proxy_name=rds_proxy.name, opts=child)
    aws.rds.ProxyTarget(f"{name}-proxy-target", db_proxy_name=rds_proxy.name, target_group_name=group.name,
                        db_cluster_identifier=cluster.cluster_identifier,
                        opts=pulumi.ResourceOptions(parent=parent, depends_on=instances))
    connections = Connections([sg.id], ENGINES[args.engine]["port"], label=f"{name} RDS Proxy")
    SecurityGroupLink(f"{name}-proxy-to-db", source=connections, target=db, opts=child)
    return rds_proxy.endpoint, connections
