"""The forum's DynamoDB tables wired into the project's stack as proposed for compose(), for the
integration tests and the diagram (entry: tests/policy/dynamo_program.py). `DEFECT` (set by a
test) changes inputs of named resources, like tests/policy/variants.py."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from components.dynamodb import Capacity, DynamoTables, DynamoTablesArgs, app_access_statements, forum_table_specs
from components.policies import document

# The proposed stack settings: dev stays in the Free Tier with auto scaling off, as the source
# documents advise (and may be deleted); prod scales on target tracking and is protected.
PROPOSED = {
    "dev": dict(capacity=Capacity("PROVISIONED", read=1, write=1), deletion_protection=False),
    "prod": dict(capacity=Capacity("PROVISIONED", read=5, write=5, autoscaling_max=50, autoscaling_target=70),
                 deletion_protection=True),
}
DEFECT: dict = {}  # resource name -> {input: value}


def transformation(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
    if args.name not in DEFECT:
        return None
    return pulumi.ResourceTransformationResult({**args.props, **DEFECT[args.name]}, args.opts)


def wire(stack, settings) -> DynamoTables:
    """What compose() would add: the tables under the stack's CMK, `protect` with the stack, and
    the app role allowed exactly the app's calls (the lead adds the statements to the new role)."""
    tables = DynamoTables("forum", DynamoTablesArgs(
        tables=forum_table_specs(), kms_key_arn=stack.db.kms_key_arn, protect=settings.database.protect,
        tags=settings.tags, **PROPOSED[pulumi.get_stack()]))
    aws.iam.RolePolicy("app-dynamodb-access", role=stack.host.role_arn.apply(lambda arn: arn.rsplit("/", 1)[1]),
                       policy=app_access_statements(tables).apply(document))
    return tables
