import pulumi
from aurorakit import (AppFleet, AppFleetArgs, AuroraCluster, AuroraClusterArgs, Network, NetworkArgs,
                       SecurityGroupLink)

config = pulumi.Config()
azs = config.require_object("availabilityZones")

net = Network("net", NetworkArgs(availability_zones=azs, nat_mode="single", protect=True))
db = AuroraCluster("db", AuroraClusterArgs(
    vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids, availability_zones=azs,
    engine="aurora-postgresql", mode="serverless", serverless_min_acu=0.5, serverless_max_acu=8,
    readers=1, proxy=True, backup_retention_days=14, protect=True))
app = AppFleet("app", AppFleetArgs(
    vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids, kms_key_arn=db.kms_key_arn,
    load_balancer_subnet_ids=net.public_subnet_ids, load_balancer_deletion_protection=True,
    certificate_arn=config.require("certificateArn"),
    egress_ready=net.egress_ready, internet_ready=net.internet_ready, alarm_topic_arn=db.alarm_topic_arn,
    database=db.database_endpoint))  # endpoints, port, database, engine; the proxy's when enabled
# The app reaches the database only through the proxy (port from the target).
SecurityGroupLink("app-to-proxy", source=app.connections, target=db.proxy_connections)

pulumi.export("url", app.url)
pulumi.export("proxy_endpoint", db.proxy_endpoint)
