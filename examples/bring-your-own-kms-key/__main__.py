import pulumi
from aurorakit import AuroraCluster, AuroraClusterArgs, Network, NetworkArgs

config = pulumi.Config()
azs = config.require_object("availabilityZones")

net = Network("net", NetworkArgs(availability_zones=azs, nat_mode="none", protect=True))
# Storage, Performance Insights, the managed master secret, the exported logs and the alarm
# topic all use the given key; the component creates no key of its own.
db = AuroraCluster("db", AuroraClusterArgs(
    vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids, availability_zones=azs,
    engine="aurora-mysql", instance_class="db.r7g.large", readers=2,
    kms_key_arn=config.require("kmsKeyArn"), backup_retention_days=14, protect=True))

pulumi.export("cluster_endpoint", db.endpoint)
pulumi.export("kms_key_arn", db.kms_key_arn)
