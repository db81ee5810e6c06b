"""An attacker review's bypasses, each closed as a class: for every item an unsafe variant per
spelling the pack used to let through (reported now, by the named rule) and safe look-alikes
that stay clean. Ids read `r<item>-<variant>` (the review's numbering); the broken-prod variants
through the real program and the pack are in variants.py with the same prefixes.

Rules are called as the SDK calls them (proxied props; a compliant stack from stack_factory
with one change)."""
from __future__ import annotations

import base64
import gzip
import json
from typing import Any, Optional

import pytest

from policy.rules import REGISTRY
from policy.rules.userdata import findings

from . import factories as f
from .cases import Case, resource, stack
from .stack_factory import T, policy_doc
from .support import check_resource

ACCOUNT = f.ACCOUNT
ESCALATION = "iam-no-privilege-escalation"
WILDCARDS = "iam-no-wildcard-actions"
PUBLIC = "resource-policy-no-public-principal"





def _policy(*statements: dict) -> dict:
    return {"policy": f.doc(*statements)}


def _allow(action: Any, resource_: Any, **more: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource_, **more}


# r1: IAM wildcards are judged by what they match, not by how they are spelled -------------
ROLE_STAR = f"arn:aws:iam::{ACCOUNT}:role*"
R1 = [
    Case("r1-passrole-on-role-star-without-slash", ESCALATION,
         resource(ESCALATION, f.ROLE_POLICY, _policy(_allow("iam:PassRole", ROLE_STAR))),
         "iam:PassRole on " + ROLE_STAR),
    Case("r1-passrole-on-role-double-star", ESCALATION,
         resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
             "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/**"))), "role/**"),
    Case("r1-passrole-on-role-question-star", ESCALATION,
         resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
             "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/?*"))), "role/?*"),
    Case("r1-assume-role-on-any-arn", ESCALATION,
         resource(ESCALATION, f.ROLE_POLICY, _policy(_allow("sts:AssumeRole", "arn:aws:*"))),
         "sts:AssumeRole on arn:aws:*"),
    Case("r1-passrole-type-with-question-mark", ESCALATION,
         resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
             "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:ro?e/*"))), "ro?e/*"),
    Case("r1-s3-double-star-on-every-bucket", WILDCARDS,
         resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow("s3:**", "arn:aws:s3:::**"))),
         "every action of a service (s3:**) on arn:aws:s3:::**"),
    Case("r1-s3-star-question-on-every-object", WILDCARDS,
         resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow("s3:*?", "arn:aws:s3:::*/*"))),
         "(s3:*?)"),
    Case("r1-service-without-colon", WILDCARDS,
         resource(WILDCARDS, f.MANAGED_POLICY, _policy(_allow("s3*", "*"))), "(s3*)"),
    Case("r1-service-with-question-mark", WILDCARDS,
         resource(WILDCARDS, f.MANAGED_POLICY, _policy(_allow("?3:*", "*"))), "(?3:*)"),
    Case("r1-star-question-is-every-action", WILDCARDS,
         resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow("*?", f.KEY_ARN))),
         "must not allow *?"),
    Case("r1-star-colon-star-question-is-every-action", WILDCARDS,
         resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow("*:*?", f.KEY_ARN))),
         "must not allow *:*?"),
    Case("r1-service-wildcard-on-not-resource", WILDCARDS,
         resource(WILDCARDS, f.ROLE_POLICY, _policy({"Effect": "Allow", "Action": "kms:*",
                                                     "NotResource": f.KEY_ARN})),
         "on NotResource"),
    Case("r1-lowercase-effect-is-no-deny", WILDCARDS,
         resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow("*", "*", Effect="allow"))),
         "must not allow *"),
    Case("r1-not-action-grants-the-master-secret-read", "app-role-least-privilege",
         stack("app-role-least-privilege", lambda s: s.set("app-read-secret", "policy", policy_doc(
             {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))),
         "secretsmanager:GetSecretValue"),
    Case("r1-read-secret-through-a-wildcard-action", "app-role-least-privilege",
         stack("app-role-least-privilege", lambda s: s.set("app-read-secret", "policy", policy_doc(
             _allow("secretsmanager:Get*Val?e*", "arn:aws:secretsmanager:*")))),
         "secretsmanager:GetSecretValue"),
]
R1_CLEAN = [
    ("r1-passrole-on-named-role-prefix", resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
        "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/app-*",
        Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}))), None),
    ("r1-objects-of-one-bucket", resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow(
        "s3:*", "arn:aws:s3:::aurorakit-artifacts/*"))), None),
    ("r1-reads-on-every-bucket", resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow(
        "s3:Get*", "arn:aws:s3:::*"))), None),
    ("r1-secret-with-its-random-suffix", resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:app-??????"))), None),
    ("r1-bracket-is-a-literal", resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
        "iam:[P]assRole", "*"))), None),
    ("r1-deny-is-no-grant", resource(WILDCARDS, f.ROLE_POLICY, _policy(_allow(
        "*", "*", Effect="Deny"))), None),
]


# r2: public resource policies on any resource type ----------------------------------------
PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
AUTOSCALING_ROLE = (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
                    "AWSServiceRoleForAutoScaling")
R2 = [
    Case("r2-bucket-inline-policy", PUBLIC, resource(PUBLIC, f.BUCKET, {
        "bucket": "b", "policy": f.doc(PUBLIC_READ)}), "`policy` statement 0 allows any"),
    Case("r2-dynamodb-resource-policy", PUBLIC, resource(PUBLIC, f.DYNAMO_POLICY, {
        "resourceArn": "arn:aws:dynamodb:eu-west-1:1:table/t", "policy": f.doc(PUBLIC_READ)}),
         "any AWS principal"),
    Case("r2-backup-vault-policy", PUBLIC, resource(PUBLIC, f.VAULT_POLICY, {
        "backupVaultName": "v", "policy": f.doc(PUBLIC_READ)}), "any AWS principal"),
    Case("r2-opensearch-access-policies", PUBLIC, resource(
        PUBLIC, "aws:opensearch/domain:Domain", {"domainName": "d", "accessPolicies": f.doc(
            {**PUBLIC_READ, "Principal": {"AWS": ["*"]}})}), "`accessPolicies`"),
    Case("r2-logs-resource-policy-document", PUBLIC, resource(
        PUBLIC, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", {
            "policyName": "p", "policyDocument": f.doc(PUBLIC_READ)}), "`policyDocument`"),
    Case("r2-principal-list-with-star", PUBLIC, resource(PUBLIC, f.BUCKET_POLICY, {
        "bucket": "b", "policy": f.doc({**PUBLIC_READ, "Principal": {
            "AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}})}), "any AWS principal"),
    Case("r2-wildcard-account-principal", PUBLIC, resource(PUBLIC, f.BUCKET_POLICY, {
        "bucket": "b", "policy": f.doc({**PUBLIC_READ, "Principal": {
            "AWS": "arn:aws:iam::*:root"}})}), "any AWS principal"),
    Case("r2-source-ip-is-no-identity", PUBLIC, resource(PUBLIC, f.DYNAMO_POLICY, {
        "resourceArn": "t", "policy": f.doc({**PUBLIC_READ, "Condition": {
            "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})}), "does not pin the caller"),
    Case("r2-secure-transport-alone-on-a-bucket", PUBLIC, resource(PUBLIC, f.BUCKET, {
        "bucket": "b", "policy": f.doc({**PUBLIC_READ, "Condition": {
            "Bool": {"aws:SecureTransport": "true"}}})}), "does not pin the caller"),
    Case("r2-negated-principal-arn-is-no-pin", PUBLIC, resource(PUBLIC, f.KMS_KEY, {
        **f.kms_key(), "policy": f.doc({**PUBLIC_READ, "Principal": {"AWS": "*"}, "Condition": {
            "StringNotEquals": {"aws:PrincipalArn": AUTOSCALING_ROLE}}})}),
         "does not pin the caller"),
    Case("r2-if-exists-is-no-pin", PUBLIC, resource(PUBLIC, f.BUCKET_POLICY, {
        "bucket": "b", "policy": f.doc({**PUBLIC_READ, "Condition": {
            "StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}})}), "does not pin the caller"),
    Case("r2-wildcard-account-in-principal-arn-is-no-pin", PUBLIC, resource(PUBLIC, f.KMS_KEY, {
        **f.kms_key(), "policy": f.doc({**PUBLIC_READ, "Principal": {"AWS": "*"}, "Condition": {
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}})}), "does not pin the caller"),
    Case("r2-not-principal", PUBLIC, resource(PUBLIC, f.VAULT_POLICY, {
        "backupVaultName": "v", "policy": f.doc({"Effect": "Allow", "NotPrincipal": {
            "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "*", "Resource": "*"})}),
         "NotPrincipal"),
    Case("r2-unreadable-bucket-policy", PUBLIC, resource(PUBLIC, f.BUCKET, {
        "bucket": "b", "policy": "{" * 3}), "cannot be checked"),
    Case("r2-lambda-permission-for-anyone", PUBLIC, resource(PUBLIC, f.LAMBDA_PERMISSION, {
        "action": "lambda:InvokeFunction", "function": "fn", "principal": "*"}),
         "principal `*` (anyone)"),
    Case("r2-lambda-url-permission-for-anyone", PUBLIC, resource(PUBLIC, f.LAMBDA_PERMISSION, {
        "action": "lambda:InvokeFunctionUrl", "function": "fn", "principal": "*",
        "functionUrlAuthType": "NONE"}), "without `sourceArn`"),
    Case("r2-layer-shared-with-everyone", PUBLIC, resource(
        PUBLIC, "aws:lambda/layerVersionPermission:LayerVersionPermission", {
            "layerName": "l", "versionNumber": 1.0, "action": "lambda:GetLayerVersion",
            "principal": "*", "statementId": "s"}), "`organizationId`"),
    Case("r2-function-url-without-auth", PUBLIC, resource(PUBLIC, f.FUNCTION_URL, {
        "functionName": "fn", "authorizationType": "NONE"}), "anyone on the internet"),
    Case("r2-function-url-auth-lowercase-none", PUBLIC, resource(PUBLIC, f.FUNCTION_URL, {
        "functionName": "fn", "authorizationType": "none"}), "anyone on the internet"),
]
R2_CLEAN = [
    ("r2-kms-statement-pinned-to-the-autoscaling-role", resource(PUBLIC, f.KMS_KEY, {
        **f.kms_key(), "policy": f.doc({
            "Sid": "AutoScalingUsesTheKey", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"],
            "Resource": "*", "Condition": {
                "StringEquals": {"kms:CallerAccount": ACCOUNT},
                "ArnEquals": {"aws:PrincipalArn": AUTOSCALING_ROLE}}})}), None),
    ("r2-kms-autoscaling-statement-both-keys-in-string-equals", resource(PUBLIC, f.KMS_KEY, {
        **f.kms_key(), "policy": f.doc({
            "Sid": "Allow service-linked role use of the customer managed key", "Effect": "Allow",
            "Principal": {"AWS": "*"}, "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                                                  "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*", "Condition": {"StringEquals": {
                "aws:PrincipalArn": AUTOSCALING_ROLE, "kms:CallerAccount": ACCOUNT}}})}), None),
    ("r2-principal-arn-alone-pins", resource(PUBLIC, f.KMS_KEY, {
        **f.kms_key(), "policy": f.doc({**PUBLIC_READ, "Principal": {"AWS": "*"}, "Condition": {
            "ArnLike": {"aws:PrincipalArn": AUTOSCALING_ROLE}}})}), None),
    ("r2-bucket-policy-for-one-endpoint", resource(PUBLIC, f.BUCKET_POLICY, {
        "bucket": "b", "policy": f.doc({**PUBLIC_READ, "Condition": {
            "StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}})}), None),
    ("r2-vpc-endpoint-policy-is-no-grant", resource(PUBLIC, "aws:ec2/vpcEndpoint:VpcEndpoint", {
        "vpcId": "vpc-1", "serviceName": "com.amazonaws.eu-west-1.s3",
        "policy": f.doc(PUBLIC_READ)}), None),
    ("r2-policy-name-is-no-document", resource(PUBLIC, "aws:example/thing:Thing", {
        "policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}), None),
    ("r2-lambda-permission-for-a-pinned-service", resource(PUBLIC, f.LAMBDA_PERMISSION,
                                                          f.lambda_permission()), None),
    ("r2-lambda-permission-star-with-source-account", resource(PUBLIC, f.LAMBDA_PERMISSION, {
        "action": "lambda:InvokeFunction", "function": "fn", "principal": "*",
        "sourceAccount": ACCOUNT}), None),
    ("r2-function-url-with-iam", resource(PUBLIC, f.FUNCTION_URL, f.function_url()), None),
    ("r2-reviewed-public-resource", resource(PUBLIC, f.BUCKET, {
        "bucket": "b", "policy": f.doc(PUBLIC_READ)}, {"allowedPublicResources": ["site"]},
        name="site"), None),
]


def test_r2_the_generic_rule_applies_to_every_type_with_a_policy_input():
    rule = REGISTRY[PUBLIC]
    assert rule.types == ("*",)
    for type_ in ("aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:glacier/vault:Vault",
                  "aws:apigateway/restApi:RestApi", "aws:sqs/queue:Queue"):
        for key in ("policy", "resourcePolicy", "accessPolicy"):
            out = check_resource(PUBLIC, type_, {key: f.doc(PUBLIC_READ)})
            assert len(out.messages) == 1 and f"`{key}`" in out.messages[0], (type_, key)


# r3: hosts launched by fleets and Spot requests are hosts ---------------------------------
SPOT_SPEC = {"ami": "ami-0a1b2c3d4e5f60718", "instanceType": "t3.small",
             "iamInstanceProfile": "app-host-profile", "subnetId": "subnet-0a1b",
             "associatePublicIpAddress": False, "userData": f.USER_DATA,
             "rootBlockDevices": [{"encrypted": True, "volumeSize": 20.0}]}


def _spec_fleet(**spec: Any) -> dict:
    return {"iamFleetRole": "arn:aws:iam::1:role/f", "targetCapacity": 1.0,
            "launchSpecifications": [{**SPOT_SPEC, **spec}]}


def _spot(**changes: Any) -> dict:
    return {**f.spot_instance(), **changes}


def _template(s, name: str = "fleet-lt", **props: Any):
    return s.add(T["lt"], name, {**f.launch_template(), "networkInterfaces": [
        {"deviceIndex": 0.0, "securityGroups": ["sg-0app"]}], **props},
        {"networkInterfaces": [s.find("app-sg")]})


def _fleet_in(subnet: Optional[str], type_: str = f.FLEET):
    def change(s):
        template = _template(s)
        config = {"launchTemplateSpecification": {"launchTemplateId": "lt-1", "version": "1"}}
        deps = [template]
        if subnet:
            config["overrides"] = [{"subnetId": "subnet-1"}]
            deps.append(s.find(subnet))
        props = {**(f.fleet() if type_ == f.FLEET else f.spot_fleet()),
                 "launchTemplateConfigs": [config]}
        s.add(type_, "app-fleet", props, {"launchTemplateConfigs": deps})
    return change


def _spec_fleet_in_public(s):
    s.add(f.SPOT_FLEET, "spec-fleet", _spec_fleet(associatePublicIpAddress=None),
          {"launchSpecifications": [s.find("net-public-0"), s.find("app-sg")]})


def _public_spot_instance_with_app_sg(s):
    s.add(f.SPOT_INSTANCE, "spot-host", _spot(associatePublicIpAddress=None),
          {"subnetId": [s.find("net-public-0")], "vpcSecurityGroupIds": [s.find("app-sg")]})


def _eip_on_spot_instance(s):
    host = s.add(f.SPOT_INSTANCE, "spot-host", _spot(), {"subnetId": [s.find("net-private-0")]})
    s.add(T["eip"], "spot-eip", {"domain": "vpc"}, {"instance": [host]})


def _spec_fleet_with_app_role_reading_everything(s):
    role = s.add(T["role"], "spot-role", {"assumeRolePolicy": f.trust("ec2.amazonaws.com")})
    s.add(T["rp"], "spot-role-secrets", {"role": "spot-role", "policy": policy_doc(
        _allow("secretsmanager:GetSecretValue", "*"))}, {"role": [role]})
    profile = s.add(T["profile"], "spot-profile", {"role": "spot-role"}, {"role": [role]})
    s.add(f.SPOT_FLEET, "spec-fleet", _spec_fleet(),
          {"launchSpecifications": [profile, s.find("net-private-0")]})


def _fleet_template_by_literal_id(s):
    s.add(f.FLEET, "app-fleet", f.fleet(), {})


R3 = [
    Case("r3-spot-instance-imdsv1", "ec2-imdsv2-required", resource(
        "ec2-imdsv2-required", f.SPOT_INSTANCE, _spot(metadataOptions={"httpTokens": "optional"})),
         "Spot Instance request must require IMDSv2"),
    Case("r3-spot-instance-unencrypted-root", "ec2-volumes-encrypted", resource(
        "ec2-volumes-encrypted", f.SPOT_INSTANCE, _spot(rootBlockDevice={"volumeSize": 8.0})),
         "rootBlockDevice.encrypted"),
    Case("r3-spot-instance-secret-in-user-data", "ec2-no-secrets-in-user-data", resource(
        "ec2-no-secrets-in-user-data", f.SPOT_INSTANCE, _spot(
            userData="#!/bin/bash\nDB_PASSWORD=hunter2hunter2 ./start\n")), "`DB_PASSWORD`"),
    Case("r3-spot-instance-public-ip", "ec2-no-public-ip", resource(
        "ec2-no-public-ip", f.SPOT_INSTANCE, _spot(associatePublicIpAddress=True)),
         "associatePublicIpAddress"),
    Case("r3-spot-fleet-specification-has-no-imdsv2", "ec2-imdsv2-required", resource(
        "ec2-imdsv2-required", f.SPOT_FLEET, _spec_fleet()), "launchSpecifications[0]"),
    Case("r3-spot-fleet-specification-unencrypted", "ec2-volumes-encrypted", resource(
        "ec2-volumes-encrypted", f.SPOT_FLEET, _spec_fleet(rootBlockDevices=[
            {"volumeSize": 8.0}])), "launchSpecifications[0].rootBlockDevices[0].encrypted"),
    Case("r3-spot-fleet-specification-without-root-device", "ec2-volumes-encrypted", resource(
        "ec2-volumes-encrypted", f.SPOT_FLEET, _spec_fleet(rootBlockDevices=[])),
         "AMI's unencrypted root volume"),
    Case("r3-spot-fleet-specification-secret", "ec2-no-secrets-in-user-data", resource(
        "ec2-no-secrets-in-user-data", f.SPOT_FLEET, _spec_fleet(
            userData="#!/bin/bash\necho 'root:Sup3r!Secret' | chpasswd\n")),
         "`launchSpecifications[0].userData`"),
    Case("r3-spot-fleet-specification-public-ip", "ec2-no-public-ip", resource(
        "ec2-no-public-ip", f.SPOT_FLEET, _spec_fleet(associatePublicIpAddress=True)),
         "launchSpecifications[0].associatePublicIpAddress"),
    Case("r3-spot-fleet-specification-without-profile", "ec2-instance-profile", resource(
        "ec2-instance-profile", f.SPOT_FLEET, _spec_fleet(iamInstanceProfile=None)),
         "launchSpecifications[0]"),
    Case("r3-ec2-fleet-in-a-public-subnet", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _fleet_in("net-public-0")), 'EC2 Fleet "app-fleet"'),
    Case("r3-ec2-fleet-without-subnet", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _fleet_in(None)), "default VPC"),
    Case("r3-spot-fleet-templates-in-a-public-subnet", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _fleet_in("net-public-1", f.SPOT_FLEET)),
         'Spot Fleet request "app-fleet"'),
    Case("r3-spot-fleet-specification-in-a-public-subnet", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _spec_fleet_in_public), "mapPublicIpOnLaunch"),
    Case("r3-spot-instance-in-a-public-subnet", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _public_spot_instance_with_app_sg),
         'Spot Instance request "spot-host"'),
    Case("r3-elastic-ip-on-a-spot-instance", "ec2-no-public-ip-from-subnet",
         stack("ec2-no-public-ip-from-subnet", _eip_on_spot_instance), "Elastic IP"),
    Case("r3-db-reached-from-a-public-spot-instance", "db-ingress-only-from-app-hosts",
         stack("db-ingress-only-from-app-hosts", _public_spot_instance_with_app_sg),
         'from Spot Instance request "spot-host"'),
    Case("r3-db-reached-from-a-public-fleet-template", "db-ingress-only-from-app-hosts",
         stack("db-ingress-only-from-app-hosts", _fleet_in("net-public-0")),
         'launch template "fleet-lt"'),
    Case("r3-spot-fleet-role-reads-every-secret", "app-role-least-privilege",
         stack("app-role-least-privilege", _spec_fleet_with_app_role_reading_everything),
         'App role "spot-role"'),
    Case("r3-fleet-template-by-literal-id", "exposure-inputs-verifiable",
         stack("exposure-inputs-verifiable", _fleet_template_by_literal_id),
         "lt-0a1b2c3d4e5f60718"),
]
R3_CLEAN = [
    ("r3-ec2-fleet-in-a-private-subnet", stack("ec2-no-public-ip-from-subnet",
                                               _fleet_in("net-private-0")), None),
    ("r3-spot-fleet-from-templates-only", resource("ec2-imdsv2-required", f.SPOT_FLEET,
                                                   f.spot_fleet()), None),
    ("r3-spot-instance-from-a-template", resource("ec2-imdsv2-required", f.SPOT_INSTANCE, {
        "launchTemplate": {"id": "lt-1", "version": "1"}}), None),
]


# r6: the IMDS hop limit on hosts without containers (advisory) ---------------------------
HOPS = "ec2-imds-hop-limit"


def _hops(limit: Any, user_data: str = f.USER_DATA, **options: Any) -> dict:
    return {**f.launch_template(), "userData": base64.b64encode(user_data.encode()).decode(),
            "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": limit,
                                **options}}


DOCKER = "#!/bin/bash\ndnf install -y docker\nsystemctl enable --now docker\n"
R6 = [
    Case("r6-hop-limit-2-without-containers", HOPS, resource(HOPS, f.LAUNCH_TEMPLATE, _hops(2.0)),
         "2 network hops"),
    Case("r6-hop-limit-as-a-string", HOPS, resource(HOPS, f.EC2, {
        **f.ec2(), "metadataOptions": {"httpTokens": "required",
                                       "httpPutResponseHopLimit": "3"}}), "3 network hops"),
    Case("r6-hop-limit-on-a-spot-instance", HOPS, resource(HOPS, f.SPOT_INSTANCE, _spot(
        metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 64.0})),
         "64 network hops"),
    Case("r6-tokens-spelled-optional-in-capitals", "ec2-imdsv2-required", resource(
        "ec2-imdsv2-required", f.LAUNCH_TEMPLATE, _hops(1.0, httpTokens="OPTIONAL")), "IMDSv2"),
]
R6_CLEAN = [
    ("r6-hop-limit-1", resource(HOPS, f.LAUNCH_TEMPLATE, _hops(1.0)), None),
    ("r6-container-host-needs-2", resource(HOPS, f.LAUNCH_TEMPLATE, _hops(2.0, DOCKER)), None),
    ("r6-gzipped-ecs-host-needs-2", resource(HOPS, f.LAUNCH_TEMPLATE, {
        **_hops(2.0), "userData": base64.b64encode(gzip.compress(
            b"#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n", mtime=0)).decode()}),
     None),
    ("r6-configured-maximum", resource(HOPS, f.LAUNCH_TEMPLATE, _hops(2.0),
                                       {"maximumHops": 2}), None),
    ("r6-metadata-disabled", resource(HOPS, f.LAUNCH_TEMPLATE, _hops(
        5.0, httpEndpoint="disabled")), None),
    ("r6-tokens-required-in-capitals", resource("ec2-imdsv2-required", f.LAUNCH_TEMPLATE,
                                                _hops(1.0, httpTokens="Required")), None),
]


# r7: secrets in user data without a key name ----------------------------------------------
def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET = "Sup3r!Secret-9x"
USER_DATA_SECRETS = {
    "r7-chpasswd-from-echo": (f"#!/bin/bash\necho 'root:{SECRET}' | chpasswd\n", "chpasswd"),
    "r7-chpasswd-here-string": (f"#!/bin/bash\nchpasswd <<< \"ec2-user:{SECRET}\"\n",
                                "chpasswd"),
    "r7-chpasswd-cloud-config-list": (
        f"#cloud-config\nchpasswd:\n  expire: false\n  list: |\n    root:{SECRET}\n", "chpasswd"),
    "r7-chpasswd-cloud-config-list-items": (
        f"#cloud-config\nchpasswd:\n  list:\n    - ubuntu:{SECRET}\n", "chpasswd"),
    "r7-usermod-password-hash": ("#!/bin/bash\nusermod -p '$6$rounds=4096$salt$Hq0a9' root\n",
                                 "useradd/usermod"),
    "r7-pgpass-echo": (f"#!/bin/bash\necho 'db.internal:5432:app:app:{SECRET}' > ~/.pgpass\n",
                       ".pgpass"),
    "r7-pgpass-write-files": (
        "#cloud-config\nwrite_files:\n  - path: /root/.pgpass\n    permissions: '0600'\n"
        f"    content: |\n      *:*:*:app:{SECRET}\n", ".pgpass"),
    "r7-my-cnf-printf": (f"#!/bin/bash\nprintf '[client]\\nuser=app\\npassword={SECRET}\\n' > "
                         "/root/.my.cnf\n", "`password`"),
    "r7-my-cnf-heredoc": (f"#!/bin/bash\ncat > /root/.my.cnf <<EOF\n[client]\npassword={SECRET}"
                          "\nEOF\n", "`password`"),
    "r7-base64-piped-to-a-shell": (f"#!/bin/bash\necho {_b64('export DB_PASSWORD=' + SECRET)}"
                                   "|base64 -d|bash\n", "`DB_PASSWORD`"),
    "r7-base64-decoded-into-a-credential-file": (
        f"#!/bin/bash\necho \"{_b64(SECRET)}\" | base64 --decode > /etc/app/db_password\n",
        "base64-decoded literal content written to a credential file"),
    "r7-literal-into-a-token-file": (f"#!/bin/bash\nprintf '%s' '{SECRET}' | tee /etc/app/api-token"
                                     " >/dev/null\n", "credential file (`api-token`)"),
    "r7-heredoc-into-a-credential-file": (
        f"#!/bin/bash\ncat <<'END' > /etc/app/db.secret\n{SECRET}\nEND\n", "here-document"),
    "r7-write-files-credential-base64": (
        "#cloud-config\nwrite_files:\n  - encoding: b64\n    path: /etc/app/db_password\n"
        f"    content: {_b64(SECRET)}\n", "write_files"),
    "r7-pgpassword-env": (f"#!/bin/bash\nPGPASSWORD='{SECRET}' psql -h db -U app\n",
                          "`PGPASSWORD`"),
    "r7-mysql-pwd-env": (f"[Service]\nEnvironment=\"MYSQL_PWD={SECRET}\"\n", "`MYSQL_PWD`"),
}
USER_DATA_CLEAN = {
    "r7-chpasswd-from-a-variable": "#!/bin/bash\necho \"root:$ROOT_PW\" | chpasswd\n",
    "r7-chpasswd-random": "#cloud-config\nchpasswd:\n  list: |\n    root:RANDOM\n  expire: true\n",
    "r7-credential-file-from-secrets-manager": (
        "#!/bin/bash\naws secretsmanager get-secret-value --secret-id db --query SecretString "
        "--output text > /etc/app/db_password\necho \"$(cat /run/pw)\" > /etc/app/db_password\n"),
    "r7-printf-format-of-a-variable": "#!/bin/bash\nprintf '%s\\n' \"$PW\" > /root/.pgpass\n",
    "r7-my-cnf-without-password": "#!/bin/bash\necho '[client]' > /root/.my.cnf\n",
    "r7-ipv6-addresses": "#!/bin/bash\nip -6 route add 2001:0:85a3:0000:0000:8a2e:0370:7334 dev eth0\n",
    "r7-base64-of-a-config-file": (f"#!/bin/bash\necho {_b64('listen: 8080')} | base64 -d > "
                                   "/etc/app/app.yaml\n"),
    "r7-pgpass-from-the-environment": "#!/bin/bash\necho \"db:5432:app:app:$PGPW\" > ~/.pgpass\n",
    "r7-write-files-config": ("#cloud-config\nwrite_files:\n  - path: /etc/app/app.env\n"
                              "    content: |\n      DB_HOST=db.internal\n"),
}
R7 = [Case(name, "ec2-no-secrets-in-user-data", resource(
    "ec2-no-secrets-in-user-data", f.LAUNCH_TEMPLATE, {**f.launch_template(),
                                                       "userData": _b64(text)}), fragment)
      for name, (text, fragment) in USER_DATA_SECRETS.items()]
R7_CLEAN = [(name, resource("ec2-no-secrets-in-user-data", f.EC2, {**f.ec2(), "userData": text}),
             None) for name, text in USER_DATA_CLEAN.items()]


# r8: privilege-escalation actions, case-insensitive and through wildcards -----------------
NEW_ESCALATIONS = ["ec2:ModifyInstanceAttribute", "ec2:CreateLaunchTemplateVersion",
                   "lambda:UpdateFunctionConfiguration", "iam:PutRolePermissionsBoundary",
                   "iam:DeleteUserPermissionsBoundary", "glue:UpdateDevEndpoint"]
R8 = [Case(f"r8-{a.replace(':', '-').lower()}-on-star", ESCALATION, resource(
    ESCALATION, f.ROLE_POLICY, _policy(_allow(a, "*"))), a) for a in NEW_ESCALATIONS] + [
    Case("r8-put-star-covers-put-role-policy", ESCALATION, resource(
        ESCALATION, f.ROLE_POLICY, _policy(_allow("iam:Put*", "*"))), "iam:PutRolePolicy"),
    Case("r8-action-in-capitals", ESCALATION, resource(
        ESCALATION, f.ROLE_POLICY, _policy(_allow("IAM:PASSROLE", "*"))), "iam:PassRole"),
    Case("r8-wildcard-inside-the-name", ESCALATION, resource(
        ESCALATION, f.ROLE_POLICY, _policy(_allow("iam:*Role*", "*"))), "iam:UpdateAssumeRolePolicy"),
    Case("r8-question-marks", ESCALATION, resource(
        ESCALATION, f.ROLE_POLICY, _policy(_allow("ssm:Send?ommand", "*"))), "ssm:SendCommand"),
    Case("r8-not-action-grants-escalation", ESCALATION, resource(
        ESCALATION, f.ROLE_POLICY, _policy({"Effect": "Allow", "NotAction": "s3:*",
                                            "Resource": "*"})), "iam:PassRole"),
    Case("r8-update-code-on-every-function", ESCALATION, resource(
        ESCALATION, f.ROLE_POLICY, _policy(_allow(
            ["lambda:UpdateFunctionCode", "iam:PassRole"],
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:*"))), "lambda:UpdateFunctionCode"),
]
R8_CLEAN = [
    ("r8-modify-one-instance", resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
        "ec2:ModifyInstanceAttribute",
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0a1b2c3d4e5f60718"))), None),
    ("r8-read-only-iam", resource(ESCALATION, f.ROLE_POLICY, _policy(_allow(
        ["iam:Get*", "iam:List*"], "*"))), None),
]

ALL = R1 + R2 + R3 + R6 + R7 + R8
CLEAN = R1_CLEAN + R2_CLEAN + R3_CLEAN + R6_CLEAN + R7_CLEAN + R8_CLEAN


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_unsafe_variant_is_reported(case):
    out = case.run()
    assert out.messages, (case.id, out)
    assert any(case.fragment in m for m in out.messages), (case.fragment, out.messages)
    for m in out.messages:
        assert SECRET not in m and "hunter2hunter2" not in m and "Hq0a9" not in m


@pytest.mark.parametrize("run", [c[1] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_safe_look_alike_is_clean(run):
    out = run()
    assert out.ok and out.not_checked is None, out


def test_every_item_has_unsafe_and_safe_variants():
    for item in ("r1", "r2", "r3", "r6", "r7", "r8"):
        assert any(c.id.startswith(item) for c in ALL), item
        assert any(c[0].startswith(item) for c in CLEAN), item


def test_r6_hop_limit_is_advisory_in_both_stacks():
    from policy import ruletable
    configs = {s: json.loads((ruletable.CONFIG_DIR / f"{s}.json").read_text())
               for s in ruletable.STACKS}
    assert {ruletable.level(c, REGISTRY[HOPS]) for c in configs.values()} == {"advisory"}


def test_r7_findings_never_echo_the_secret_and_look_inside_every_layer():
    layered = base64.b64encode(gzip.compress(
        f"#!/bin/bash\necho 'root:{SECRET}' | chpasswd\n".encode(), mtime=0)).decode()
    found = findings(layered)
    assert found == ["a password for chpasswd (`user:password`) (in gzip in base64 content)"]
    for text, _ in USER_DATA_SECRETS.values():
        assert all(SECRET not in x for x in findings(text))
