"""aurorakit: settings -> Network -> AuroraCluster -> AppFleet (-> ALB) -> links -> exports."""
import pulumi

from components.settings import load_settings
from components.stack import compose

settings = load_settings()  # one clear error per invalid key, before any resource is registered
stack = compose(settings)   # components/stack.py: the wiring from settings to components

pulumi.export("app_url", stack.host.url)
pulumi.export("cluster_endpoint", stack.db.endpoint)
pulumi.export("cluster_reader_endpoint", stack.db.reader_endpoint)
pulumi.export("master_user_secret_arn", stack.db.master_user_secret_arn)
pulumi.export("vpc_id", stack.network.vpc_id)
if stack.host.auto_scaling_group_name is not None:
    pulumi.export("app_auto_scaling_group", stack.host.auto_scaling_group_name)
if stack.host.instance_id is not None:
    pulumi.export("app_instance_id", stack.host.instance_id)
pulumi.export("ssm_session_command", stack.host.ssm_session_command)
if stack.forum is not None:
    pulumi.export("dynamodb_table_names", stack.forum.table_names)  # for the sample loader
