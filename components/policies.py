"""IAM / KMS policy documents shared by the components (plain JSON), and `AccountContext`:
the account id, partition and region from invokes (once per component) that the documents need."""
from __future__ import annotations

import json
from typing import Any, Optional

import pulumi
import pulumi_aws as aws


def document(statements: list[dict]) -> str:
    """A policy document as JSON text."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def assume_role_policy(service: str, source_account: Optional[str] = None) -> str:
    """Trust policy letting one AWS service principal assume the role."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole",
                                 "Principal": {"Service": service}}
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document([statement])


class AccountContext:
    """Account id, partition, region and the partition's DNS names as Outputs (one set of
    invokes per component). China uses `*.amazonaws.com.cn` hosts and `cn.com.amazonaws.*`
    endpoint service names, so neither is hard-coded."""

    def __init__(self, opts: pulumi.InvokeOptions):
        identity = aws.get_caller_identity_output(opts=opts)
        partition = aws.get_partition_output(opts=opts)
        region = aws.get_region_output(opts=opts)
        self.account_id: pulumi.Output[str] = identity.account_id
        self.user_id: pulumi.Output[str] = identity.user_id  # aws:userid of whoever runs the program
        self.partition: pulumi.Output[str] = partition.partition
        self.region: pulumi.Output[str] = region.region
        self.dns_suffix: pulumi.Output[str] = partition.dns_suffix
        self.reverse_dns_prefix: pulumi.Output[str] = partition.reverse_dns_prefix

    def service_host(self, service: str) -> pulumi.Output[str]:
        """`<service>.<region>.<dns suffix>`: regional service principals and kms:ViaService values."""
        return pulumi.Output.all(self.region, self.dns_suffix).apply(lambda a: f"{service}.{a[0]}.{a[1]}")

    def endpoint_service(self, service: str) -> pulumi.Output[str]:
        """`<reverse dns prefix>.<region>.<service>`: a VPC endpoint service name."""
        return pulumi.Output.all(self.reverse_dns_prefix, self.region).apply(
            lambda a: f"{a[0]}.{a[1]}.{service}")


def key_policy(account_id: str, partition: str, service_statements: list[dict]) -> str:
    """KMS key policy: the account's IAM may administer/use the key (AWS default statement;
    without it the key is unmanageable) plus service-principal statements."""
    root = {"Sid": "EnableIamPolicies", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*", "Resource": "*"}
    return document([root, *service_statements])


ENCRYPT_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                   "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]


AUTOSCALING_SLR_PATH = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
"""The EC2 Auto Scaling service-linked role (the default one every Auto Scaling group uses)."""


def autoscaling_slr_arn(account_id: str, partition: str) -> str:
    return f"arn:{partition}:iam::{account_id}:{AUTOSCALING_SLR_PATH}"


def autoscaling_key_statements(account_id: str, partition: str) -> list[dict]:
    """Key-policy statements AWS documents for Auto Scaling groups whose launch template encrypts
    volumes with this key ("Required AWS KMS key policy for use with encrypted volumes"): without
    them every launch fails (Client.InternalError). The role is named in a condition, not as the
    Principal: KMS refuses a key policy whose Principal is a role that does not exist
    (MalformedPolicyDocumentException), and the service-linked role appears only with the
    account's first Auto Scaling group, which may come after this key."""
    caller = {"aws:PrincipalArn": autoscaling_slr_arn(account_id, partition), "kms:CallerAccount": account_id}
    return [{"Sid": "AllowEc2AutoScalingServiceLinkedRoleUseOfTheKey", "Effect": "Allow",
             "Principal": {"AWS": "*"}, "Resource": "*",
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Condition": {"StringEquals": caller}},
            {"Sid": "AllowEc2AutoScalingServiceLinkedRoleGrantsForAwsResources", "Effect": "Allow",
             "Principal": {"AWS": "*"}, "Resource": "*", "Action": "kms:CreateGrant",
             "Condition": {"StringEquals": caller, "Bool": {"kms:GrantIsForAWSResource": True}}}]
