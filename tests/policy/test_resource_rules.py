"""Every resource rule: the happy path passes, one mutated field per case fails with the rule's
message (AWSGuard's pattern). Rules are called exactly as the SDK calls them (proxied props)."""
from __future__ import annotations

import base64
import copy

import pytest
from pulumi_policy import ResourceValidationPolicy
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE

from policy.rules import REGISTRY

from . import factories as f
from .support import check_resource

DELETE = object()
ESCALATION = "iam-no-privilege-escalation"
RESOURCE_RULES = [r for r in REGISTRY if isinstance(r.policy, ResourceValidationPolicy)]


def mutate(props: dict, changes: dict) -> dict:
    out = copy.deepcopy(props)
    for path, value in changes.items():
        keys = path.split(".")
        node = out
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        last = keys[-1]
        if value is DELETE:
            node.pop(last, None)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return out


@pytest.mark.parametrize("type_", sorted(f.HAPPY))
def test_happy_path_passes_every_rule(type_):
    props = f.HAPPY[type_]()
    for rule in RESOURCE_RULES:
        out = check_resource(rule.name, type_, props)
        assert out.ok and out.not_checked is None, (rule.name, out)


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
CASES = [
    # rule, type, changes, expected message fragment, rule config
    ("rds-storage-encrypted", f.CLUSTER, {"storageEncrypted": DELETE}, "encrypt its storage", None),
    ("rds-storage-encrypted", f.DB_INSTANCE, {"storageEncrypted": False}, "RDS instance must", None),
    ("rds-customer-managed-key", f.CLUSTER, {"kmsKeyId": DELETE}, "customer-managed KMS key", None),
    ("rds-customer-managed-key", f.DB_INSTANCE, {"kmsKeyId": ""}, "customer-managed", None),
    ("rds-deletion-protection", f.CLUSTER, {"deletionProtection": DELETE}, "deletion protection", None),
    ("rds-deletion-protection", f.DB_INSTANCE, {"deletionProtection": False}, "deletionProtection", None),
    ("rds-backup-retention", f.CLUSTER, {"backupRetentionPeriod": DELETE}, "unset (1 day)", None),
    ("rds-backup-retention", f.CLUSTER, {"backupRetentionPeriod": 3.0}, "at least 7 days", None),
    ("rds-backup-retention", f.CLUSTER, {"backupRetentionPeriod": 7.0}, "at least 14 days",
     {"minimumRetentionDays": 14.0}),
    ("rds-final-snapshot", f.CLUSTER, {"skipFinalSnapshot": True}, "skipFinalSnapshot", None),
    ("rds-final-snapshot", f.DB_INSTANCE, {"finalSnapshotIdentifier": DELETE},
     "finalSnapshotIdentifier", None),
    ("rds-log-exports", f.CLUSTER, {"enabledCloudwatchLogsExports": ["error"]}, "audit", None),
    ("rds-log-exports", f.CLUSTER, {"engine": "aurora-postgresql"}, "postgresql", None),
    ("rds-log-exports", f.DB_INSTANCE, {"enabledCloudwatchLogsExports": DELETE}, "audit, error",
     None),
    ("rds-iam-authentication", f.CLUSTER, {"iamDatabaseAuthenticationEnabled": False},
     "IAM database authentication", None),
    ("rds-copy-tags-to-snapshot", f.DB_INSTANCE, {"copyTagsToSnapshot": DELETE}, "tags", None),
    ("rds-aurora-mysql-backtrack", f.CLUSTER, {"backtrackWindow": 0.0}, "Backtrack", None),
    ("rds-non-default-master-username", f.CLUSTER, {"masterUsername": "Admin"}, "well-known",
     None),
    ("rds-non-default-master-username", f.DB_INSTANCE, {"masterUsername": "dbadmin"},
     "well-known", {"forbiddenNames": ["dbadmin"]}),
    ("rds-not-publicly-accessible", f.CLUSTER_INSTANCE, {"publiclyAccessible": True},
     "must not be publicly accessible", None),
    ("rds-not-publicly-accessible", f.DB_INSTANCE, {"publiclyAccessible": True}, "RDS instance",
     None),
    ("rds-performance-insights-cmk", f.CLUSTER_INSTANCE, {"performanceInsightsKmsKeyId": DELETE},
     "performanceInsightsKmsKeyId", None),
    ("rds-performance-insights-cmk", f.DB_INSTANCE, {"performanceInsightsEnabled": DELETE},
     "Performance Insights", None),
    ("rds-enhanced-monitoring", f.CLUSTER_INSTANCE, {"monitoringInterval": 0.0},
     "Enhanced Monitoring", None),
    ("rds-auto-minor-version-upgrade", f.CLUSTER_INSTANCE, {"autoMinorVersionUpgrade": False},
     "minor engine upgrades", None),
    ("ec2-imdsv2-required", f.EC2, {"metadataOptions.httpTokens": "optional"}, "IMDSv2", None),
    ("ec2-imds-hop-limit", f.LAUNCH_TEMPLATE, {"metadataOptions.httpPutResponseHopLimit": 2.0},
     "2 network hops", None),
    ("ec2-imdsv2-required", f.EC2, {"metadataOptions": DELETE}, "httpTokens", None),
    ("ec2-imdsv2-required", f.LAUNCH_TEMPLATE, {"metadataOptions": DELETE}, "Launch template",
     None),
    ("ec2-volumes-encrypted", f.EC2, {"rootBlockDevice.encrypted": DELETE},
     "rootBlockDevice.encrypted", None),
    ("ec2-volumes-encrypted", f.EC2, {"rootBlockDevice": DELETE}, "absent means unencrypted", None),
    ("ec2-volumes-encrypted", f.EC2, {"ebsBlockDevices.0.encrypted": False}, "ebsBlockDevices[0]",
     None),
    ("ec2-volumes-encrypted", f.LAUNCH_TEMPLATE, {"blockDeviceMappings.0.ebs.encrypted": "false"},
     "blockDeviceMappings[0]", None),
    ("ec2-volumes-encrypted", f.VOLUME, {"encrypted": DELETE}, "EBS volume", None),
    ("ec2-no-secrets-in-user-data", f.EC2, {"userData": f.USER_DATA + "DB_PASSWORD=hunter2x\n"},
     "`DB_PASSWORD`", None),
    ("ec2-no-secrets-in-user-data", f.EC2, {"userData": '{"api_key": "abc123def"}'}, "`api_key`",
     None),
    ("ec2-no-secrets-in-user-data", f.EC2, {"userData": "mysql --password=s3cr3t -h db"},
     "`--password`", None),
    ("ec2-no-secrets-in-user-data", f.EC2, {"userData": "export X=AKIAABCDEFGHIJKLMNOP"},
     "AWS access key id", None),
    ("ec2-no-secrets-in-user-data", f.EC2, {"userData": DELETE,
                                            "userDataBase64": base64.b64encode(PEM.encode()).decode()},
     "PEM private key", None),
    ("ec2-no-secrets-in-user-data", f.LAUNCH_TEMPLATE,
     {"userData": base64.b64encode(b"token: abcdef123").decode()}, "`token`", None),
    ("ec2-instance-profile", f.EC2, {"iamInstanceProfile": DELETE}, "instance profile", None),
    ("ec2-no-public-ip", f.EC2, {"associatePublicIpAddress": True}, "public IP", None),
    ("sg-no-world-ingress-to-sensitive-ports", f.SG, {"ingress.0.fromPort": 22.0,
                                                       "ingress.0.toPort": 22.0}, "port(s) 22", None),
    ("sg-no-world-ingress-to-sensitive-ports", f.SG, {"ingress.0.cidrBlocks": [],
                                                       "ingress.0.fromPort": 3389.0,
                                                       "ingress.0.toPort": 3389.0}, "::/0", None),
    ("sg-no-world-ingress-to-sensitive-ports", f.SG, {"ingress.0.protocol": "-1"}, "all ports",
     None),
    ("sg-no-world-ingress-to-sensitive-ports", f.SG_RULE, {"sourceSecurityGroupId": DELETE,
                                                           "cidrBlocks": ["0.0.0.0/0"]},
     "port(s) 3306", None),
    ("sg-no-world-ingress-to-sensitive-ports", f.SG_RULE, {"fromPort": 0.0, "toPort": 65535.0,
                                                           "ipv6CidrBlocks": ["::/0"]},
     "all ports", None),
    ("sg-no-world-ingress-to-sensitive-ports", f.VPC_INGRESS, {"referencedSecurityGroupId": DELETE,
                                                               "cidrIpv4": "0.0.0.0/0",
                                                               "fromPort": 5432.0,
                                                               "toPort": 5432.0}, "5432", None),
    ("sg-no-world-ingress-to-sensitive-ports", f.VPC_INGRESS, {"cidrIpv6": "::/0",
                                                               "ipProtocol": "-1"}, "all ports",
     None),
    ("sg-no-world-ingress-to-sensitive-ports", f.SG, {"ingress.0.fromPort": 8443.0,
                                                       "ingress.0.toPort": 8443.0},
     "port(s) 8443", {"ports": [8443.0]}),
    ("sg-rules-described", f.SG, {"description": DELETE}, "Managed by Pulumi", None),
    ("sg-rules-described", f.SG, {"egress.0.description": ""}, "`egress[0]`", None),
    ("sg-rules-described", f.VPC_EGRESS, {"description": DELETE}, "description", None),
    ("kms-key-rotation-enabled", f.KMS_KEY, {"enableKeyRotation": DELETE}, "enableKeyRotation",
     None),
    ("kms-key-deletion-window", f.KMS_KEY, {"deletionWindowInDays": 7.0}, "at least 14 days", None),
    ("secret-customer-managed-key", f.SECRET, {"kmsKeyId": DELETE}, "customer-managed", None),
    ("iam-no-wildcard-actions", f.ROLE_POLICY, {"policy": f.doc({"Effect": "Allow", "Action": "*",
                                                                 "Resource": "*"})},
     "must not allow *", None, {ESCALATION}),
    ("iam-no-wildcard-actions", f.MANAGED_POLICY, {"policy": f.doc({"Effect": "Allow",
                                                                    "NotAction": "iam:*",
                                                                    "Resource": "*"})},
     "NotAction", None, {ESCALATION}),
    ("iam-no-wildcard-actions", f.ROLE, {"inlinePolicies.0.policy": f.doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": "*"})},
     "inlinePolicies[0].policy", None, {ESCALATION}),
    ("iam-no-wildcard-actions", f.ROLE_POLICY, {"policy": "{not json"}, "not valid JSON", None,
     {ESCALATION}),
    ("iam-no-wildcard-actions", f.MANAGED_POLICY, {"policy": f.doc(
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"})}, "every action of a service",
     None),
    ("iam-trust-only-services", f.ROLE, {"assumeRolePolicy": f.trust("ecs-tasks.amazonaws.com")},
     "ecs-tasks.amazonaws.com", None),
    ("iam-trust-only-services", f.ROLE, {"assumeRolePolicy": f.doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}})},
     "AWS principals", None),
    ("iam-trust-only-services", f.ROLE, {"assumeRolePolicy": f.doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"})},
     "service principal", None),
    ("dynamodb-table-encryption-enabled", f.TABLE, {"serverSideEncryption": DELETE},
     "server-side encryption", None),
    ("dynamodb-point-in-time-recovery", f.TABLE, {"pointInTimeRecovery.enabled": False},
     "point-in-time recovery", None),
    ("dynamodb-deletion-protection", f.TABLE, {"deletionProtectionEnabled": DELETE},
     "deletion protection", None),
    ("ec2-no-public-ip", f.LAUNCH_TEMPLATE, {"networkInterfaces": [
        {"associatePublicIpAddress": "true"}]}, "networkInterfaces[0]", None),
    ("rds-proxy-require-tls", f.PROXY, {"requireTls": DELETE}, "RDS Proxy must require TLS",
     None),
    ("sns-topic-encrypted", f.TOPIC, {"kmsMasterKeyId": DELETE}, "kmsMasterKeyId", None),
    ("cloudwatch-log-group-encrypted", f.LOG_GROUP, {"kmsKeyId": ""}, "customer-managed", None),
    ("cloudwatch-log-group-retention", f.LOG_GROUP, {"retentionInDays": DELETE}, "forever",
     None),
    ("cloudwatch-log-group-retention", f.LOG_GROUP, {"retentionInDays": 0.0}, "forever", None),
    ("cloudwatch-log-group-retention", f.LOG_GROUP, {"retentionInDays": 14.0},
     "at least 30 days", {"minimumDays": 30.0}),
    ("alb-drop-invalid-header-fields", f.LB, {"dropInvalidHeaderFields": DELETE},
     "drop invalid HTTP header fields", None),
    ("alb-drop-invalid-header-fields", f.ALB, {"loadBalancerType": DELETE,
                                               "dropInvalidHeaderFields": False},
     "dropInvalidHeaderFields", None),
    ("alb-deletion-protection", f.LB, {"enableDeletionProtection": DELETE},
     "enableDeletionProtection", None),
    ("alb-desync-mitigation", f.ALB, {"desyncMitigationMode": "monitor"}, '"monitor"', None),
    ("alb-access-logs", f.LB, {"accessLogs": DELETE}, "access logs", None),
    ("alb-access-logs", f.LB, {"accessLogs.enabled": False}, "access logs", None),
    ("lb-listener-modern-tls", f.LISTENER, {"sslPolicy": DELETE},
     "unset (ELBSecurityPolicy-2016-08)", None),
    ("lb-listener-modern-tls", f.LISTENER, {"sslPolicy": "ELBSecurityPolicy-TLS13-1-0-2021-06"},
     "TLS 1.2+", None),
    ("lb-listener-modern-tls", f.LISTENER, {"protocol": "TLS",
                                            "sslPolicy": "ELBSecurityPolicy-FS-2018-06"},
     "TLS listener", None),
    ("iam-no-privilege-escalation", f.ROLE_POLICY, {"policy": f.doc(
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "iam:PassRole"], "Resource": "*"})},
     "iam:PassRole on *", None),
    ("iam-no-privilege-escalation", f.ROLE, {"inlinePolicies.0.policy": f.doc(
        {"Effect": "Allow", "Action": "iam:Pass*",
         "Resource": f"arn:aws:iam::{f.ACCOUNT}:role/*"})}, "role/*", None),
    ("iam-no-admin-managed-policy", f.ROLE_ATTACHMENT,
     {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, "AdministratorAccess", None),
    ("iam-no-admin-managed-policy", f.POLICY_ATTACHMENT,
     {"policyArn": "arn:aws-cn:iam::aws:policy/PowerUserAccess"}, "PowerUserAccess", None),
    ("iam-no-admin-managed-policy", f.ROLE, {"managedPolicyArns": [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/IAMFullAccess"]}, "managedPolicyArns[1]", None),
    ("resource-policy-no-public-principal", f.KMS_KEY, {"policy": f.doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"})},
     "any AWS principal", None),
    ("resource-policy-no-public-principal", f.TOPIC, {"policy": f.doc(
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"})},
     "statement 0", None),
    ("iam-no-user-policies", f.POLICY_ATTACHMENT, {"users": ["alice"]}, "not be attached to users",
     None),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_one_bad_field_is_reported(case):
    rule, type_, changes, fragment, config, *also = case
    props = mutate(f.HAPPY[type_](), changes)
    out = check_resource(rule, type_, props, config)
    assert len(out.messages) >= 1, out
    assert any(fragment in m for m in out.messages), out.messages
    # one bad field trips exactly this rule (and the rules a case names as overlapping)
    others = [r.name for r in RESOURCE_RULES
              if r.name != rule and check_resource(r.name, type_, props).messages]
    assert set(others) == (also[0] if also else set()), (rule, others)


def test_every_resource_rule_has_a_failing_case():
    assert {r.name for r in RESOURCE_RULES} == {c[0] for c in CASES}


def test_public_host_allowed_by_config():
    props = mutate(f.ec2(), {"associatePublicIpAddress": True})
    assert check_resource("ec2-no-public-ip", f.EC2, props, {"allowPublicHost": True}).ok


def test_rule_ignores_other_resource_types():
    assert check_resource("rds-storage-encrypted", f.EC2, {"storageEncrypted": False}).ok


def test_user_data_message_never_echoes_the_value():
    props = mutate(f.ec2(), {"userData": "PGPASSWORD=Zq7-very-secret-Value\nAPI_TOKEN: tok_9f8e7d"})
    out = check_resource("ec2-no-secrets-in-user-data", f.EC2, props)
    assert len(out.messages) == 2
    joined = " ".join(out.messages)
    assert "Zq7-very-secret-Value" not in joined and "tok_9f8e7d" not in joined
    assert "`PGPASSWORD`" in joined and "`API_TOKEN`" in joined


@pytest.mark.parametrize("user_data", [
    f.USER_DATA,
    "password = secret['password']\nconn = connect(password=creds.password)\n",
    "DB_PASSWORD_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:1:secret:x\npassword: ${DB_PASSWORD}\n",
    "aws secretsmanager get-secret-value --secret-id aurorakit-db\n",
])
def test_user_data_references_are_not_secrets(user_data):
    props = mutate(f.ec2(), {"userData": user_data})
    assert check_resource("ec2-no-secrets-in-user-data", f.EC2, props).ok


def test_icmp_and_egress_are_not_world_ingress():
    props = mutate(f.sg(), {"ingress.0.protocol": "icmp", "ingress.0.fromPort": -1.0,
                            "ingress.0.toPort": -1.0})
    props["egress"][0]["fromPort"] = 22.0
    assert check_resource("sg-no-world-ingress-to-sensitive-ports", f.SG, props).ok


def test_asymmetric_kms_key_needs_no_rotation():
    props = mutate(f.kms_key(), {"enableKeyRotation": DELETE, "customerMasterKeySpec": "RSA_2048"})
    assert check_resource("kms-key-rotation-enabled", f.KMS_KEY, props).ok


def test_unknown_rule_lists_are_not_checked_rather_than_passed():
    sg = mutate(f.sg(), {"ingress": UNKNOWN_ARRAY_VALUE})
    out = check_resource("sg-no-world-ingress-to-sensitive-ports", f.SG, sg)
    assert out.ok and "ingress" in out.not_checked
    role = mutate(f.role(), {"inlinePolicies": UNKNOWN_ARRAY_VALUE})
    assert "inlinePolicies" in check_resource("iam-no-wildcard-actions", f.ROLE, role).not_checked


def test_user_inline_policy_is_reported():
    props = {"user": "alice", "policy": f.managed_policy()["policy"]}
    out = check_resource("iam-no-user-policies", f.USER_POLICY, props)
    assert len(out.messages) == 1 and "group or a role" in out.messages[0]


def test_disabled_metadata_service_needs_no_tokens():
    props = mutate(f.ec2(), {"metadataOptions": {"httpEndpoint": "disabled",
                                                 "httpTokens": "optional"}})
    assert check_resource("ec2-imdsv2-required", f.EC2, props).ok


@pytest.mark.parametrize("protocol,ports,flagged", [
    ("6", (22.0, 22.0), True), (6.0, (20.0, 25.0), True), ("TCP", (3300.0, 3310.0), True),
    ("17", (3389.0, 3389.0), True), ("1", (-1.0, -1.0), False), (1.0, (-1.0, -1.0), False),
    ("58", (-1.0, -1.0), False), ("50", (22.0, 22.0), False), ("tcp", (23.0, 1432.0), False),
])
def test_protocol_numbers_and_port_ranges(protocol, ports, flagged):
    props = mutate(f.sg(), {"ingress.0.protocol": protocol, "ingress.0.fromPort": ports[0],
                            "ingress.0.toPort": ports[1]})
    out = check_resource("sg-no-world-ingress-to-sensitive-ports", f.SG, props)
    assert out.ok is not flagged, out.messages


def test_egress_type_security_group_rule_is_not_ingress():
    props = mutate(f.sg_rule(), {"type": "egress", "sourceSecurityGroupId": DELETE,
                                 "cidrBlocks": ["0.0.0.0/0"], "fromPort": 22.0, "toPort": 22.0})
    assert check_resource("sg-no-world-ingress-to-sensitive-ports", f.SG_RULE, props).ok


def test_instance_store_and_no_device_mappings_hold_no_ebs_data():
    props = mutate(f.launch_template(), {"blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}},
        {"deviceName": "/dev/sdb", "virtualName": "ephemeral0"},
        {"deviceName": "/dev/sdc", "noDevice": ""}]})
    assert check_resource("ec2-volumes-encrypted", f.LAUNCH_TEMPLATE, props).ok


def test_network_load_balancer_needs_no_http_settings():
    props = {"loadBalancerType": "network", "enableDeletionProtection": True}
    for rule in ("alb-drop-invalid-header-fields", "alb-desync-mitigation", "alb-access-logs"):
        assert check_resource(rule, f.LB, props).ok


def test_http_listener_needs_no_tls_policy_and_never_expiring_logs_can_be_allowed():
    http = mutate(f.listener(), {"protocol": "HTTP", "port": 80.0, "sslPolicy": DELETE})
    assert check_resource("lb-listener-modern-tls", f.LISTENER, http).ok
    forever = mutate(f.log_group(), {"retentionInDays": DELETE})
    assert check_resource("cloudwatch-log-group-retention", f.LOG_GROUP, forever,
                          {"allowNeverExpire": True}).ok


def test_passrole_on_named_roles_is_fine():
    props = mutate(f.role_policy(), {"policy": f.doc({
        "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{f.ACCOUNT}:role/app-role",
        "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}})})
    assert check_resource("iam-no-privilege-escalation", f.ROLE_POLICY, props).ok


def test_instance_from_launch_template_is_judged_on_the_template():
    props = mutate(f.ec2(), {"metadataOptions": DELETE, "rootBlockDevice": DELETE,
                             "iamInstanceProfile": DELETE,
                             "launchTemplate": {"id": "lt-0a1b2c3d4e5f60718",
                                                "version": "$Latest"}})
    for rule in ("ec2-imdsv2-required", "ec2-volumes-encrypted", "ec2-instance-profile"):
        assert check_resource(rule, f.EC2, props).ok, rule
    props["metadataOptions"] = {"httpTokens": "optional"}  # its own setting wins over the template
    assert not check_resource("ec2-imdsv2-required", f.EC2, props).ok
    del props["launchTemplate"]  # without a template, no profile is no profile
    assert not check_resource("ec2-instance-profile", f.EC2, props).ok


def test_conditioned_or_named_principals_are_not_public():
    props = mutate(f.secret(), {"policy": f.doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "secretsmanager:GetSecretValue",
         "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": f.ACCOUNT}}},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{f.ACCOUNT}:root"},
         "Action": "secretsmanager:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"})})
    assert check_resource("resource-policy-no-public-principal", f.SECRET, props).ok


def test_china_service_principals_match_the_allow_list():
    props = mutate(f.role(), {"assumeRolePolicy": f.trust("ec2.amazonaws.com.cn")})
    assert check_resource("iam-trust-only-services", f.ROLE, props).ok
    props = mutate(f.role(), {"assumeRolePolicy": f.trust("ecs-tasks.amazonaws.com.cn")})
    assert not check_resource("iam-trust-only-services", f.ROLE, props).ok
