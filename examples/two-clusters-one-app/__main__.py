import pulumi
from aurorakit import (AppFleet, AppFleetArgs, AuroraCluster, AuroraClusterArgs, Network, NetworkArgs,
                       SecurityGroupLink)

config = pulumi.Config()
azs = config.require_object("availabilityZones")
net = Network("net", NetworkArgs(availability_zones=azs, nat_mode="per-az", protect=True))


def cluster(name: str, engine: str) -> AuroraCluster:
    """One cluster on the shared isolated subnets (own key, security group, parameter groups)."""
    return AuroraCluster(name, AuroraClusterArgs(
        vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids, availability_zones=azs, engine=engine,
        readers=1, backup_retention_days=14, protect=True))


orders = cluster("orders", "aurora-mysql")         # the app's own database (database_endpoint)
reports = cluster("reports", "aurora-postgresql")  # a second database the app also reads


def connect_as_app(db: AuroraCluster) -> pulumi.Output[dict]:
    """IAM statement: connect to `db` as its app user (created there by the cluster's bootstrap)
    with an IAM token: arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/app."""
    return pulumi.Output.all(db.cluster_arn, db.cluster_resource_id).apply(lambda a: {
        "Sid": "IamDbAuthAsAppUser" + a[1].replace("-", ""), "Effect": "Allow", "Action": ["rds-db:connect"],
        "Resource": [a[0].split(":cluster:")[0].replace(":rds:", ":rds-db:") + f":dbuser:{a[1]}/app"]})


app = AppFleet("app", AppFleetArgs(
    vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids, kms_key_arn=orders.kms_key_arn,
    load_balancer_subnet_ids=net.public_subnet_ids, load_balancer_deletion_protection=True,
    certificate_arn=config.require("certificateArn"), egress_ready=net.egress_ready,
    internet_ready=net.internet_ready, alarm_topic_arn=orders.alarm_topic_arn,
    extra_statements=[connect_as_app(reports)],  # orders' comes with its database_endpoint
    database=orders.database_endpoint))

# One app tier, two databases: each link opens exactly that cluster's port from the hosts.
SecurityGroupLink("app-to-orders", source=app.connections, target=orders.connections)
SecurityGroupLink("app-to-reports", source=app.connections, target=reports.connections)

pulumi.export("url", app.url)
pulumi.export("orders_endpoint", orders.endpoint)
pulumi.export("reports_endpoint", reports.endpoint)
