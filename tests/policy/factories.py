"""Happy-path props (camelCase, as the analyzer receives them): no rule may flag any of these."""
from __future__ import annotations

import base64
import json

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
SECRET_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:rds!cluster-1a2b3c-AbCdEf"

CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
DB_INSTANCE = "aws:rds/instance:Instance"
EC2 = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
CLUSTER_SNAPSHOT = "aws:rds/clusterSnapshot:ClusterSnapshot"
SNAPSHOT_COPY = "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VOLUME = "aws:ebs/volume:Volume"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
TABLE = "aws:dynamodb/table:Table"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LB = "aws:lb/loadBalancer:LoadBalancer"
ALB = "aws:alb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
PROXY = "aws:rds/proxy:Proxy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
SPOT_INSTANCE = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
FLEET = "aws:ec2/fleet:Fleet"
BUCKET = "aws:s3/bucket:Bucket"
DYNAMO_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"
VAULT_POLICY = "aws:backup/vaultPolicy:VaultPolicy"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
CERT_ARN = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
LB_ARN = (f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/app-alb-1a2b3c4/"
          "50dc6c495c0c9188")

USER_DATA = f"""#cloud-config
write_files:
  - path: /etc/aurorakit/app.env
    content: |
      DB_SECRET_ARN={SECRET_ARN}
      DB_HOST=db.cluster-abc123.eu-west-1.rds.amazonaws.com
      secret_name: aurorakit-db
      PASSWORD_FILE=/run/aurorakit/password
runcmd:
  - [systemctl, enable, --now, aurorakit]
"""


def trust(*services: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": list(services) or ["ec2.amazonaws.com"]}}]})


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ_SECRET = {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
               "Resource": [SECRET_ARN]}
DECRYPT = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}


def cluster() -> dict:
    return {"engine": "aurora-mysql", "engineVersion": "8.0.mysql_aurora.3.08.0",
            "storageEncrypted": True, "kmsKeyId": KEY_ARN, "deletionProtection": True,
            "backupRetentionPeriod": 14.0, "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": "db-final-1a2b3c4d",
            "enabledCloudwatchLogsExports": ["audit", "error", "slowquery"],
            "iamDatabaseAuthenticationEnabled": True, "copyTagsToSnapshot": True,
            "backtrackWindow": 86400.0, "masterUsername": "dbadmin",
            "manageMasterUserPassword": True, "masterUserSecretKmsKeyId": KEY_ARN, "port": 3306.0}


def db_instance() -> dict:
    return {**cluster(), "engine": "mysql", "instanceClass": "db.t4g.micro",
            "publiclyAccessible": False, "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": KEY_ARN, "monitoringInterval": 60.0,
            "autoMinorVersionUpgrade": True, "multiAz": True, "allocatedStorage": 20.0}


def cluster_instance() -> dict:
    return {"engine": "aurora-mysql", "instanceClass": "db.r6g.large",
            "clusterIdentifier": "db-cluster", "publiclyAccessible": False,
            "performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": KEY_ARN,
            "monitoringInterval": 60.0, "autoMinorVersionUpgrade": True,
            "availabilityZone": "eu-west-1a"}


def ec2() -> dict:
    return {"ami": "ami-0a1b2c3d4e5f60718", "instanceType": "t3.micro",
            "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
            "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN, "volumeSize": 20.0},
            "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}],
            "userData": USER_DATA, "iamInstanceProfile": "app-host-profile",
            "associatePublicIpAddress": False}


def launch_template() -> dict:
    return {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1.0},
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
                "encrypted": "true", "kmsKeyId": KEY_ARN, "volumeType": "gp3"}}],
            "iamInstanceProfile": {"name": "app-host-profile"},
            "networkInterfaces": [{"deviceIndex": 0.0, "associatePublicIpAddress": "false",
                                   "securityGroups": ["sg-0app"]}],
            "userData": base64.b64encode(USER_DATA.encode()).decode()}


def launch_configuration() -> dict:
    return {"imageId": "ami-0a1b2c3d4e5f60718", "instanceType": "t3.micro",
            "metadataOptions": {"httpTokens": "required"},
            "rootBlockDevice": {"encrypted": True, "volumeSize": 20.0},
            "userData": USER_DATA, "iamInstanceProfile": "app-host-profile",
            "associatePublicIpAddress": False, "securityGroups": ["sg-0app"]}


def cluster_snapshot() -> dict:
    return {"dbClusterIdentifier": "db-cluster", "dbClusterSnapshotIdentifier": "db-snap-1",
            "sharedAccounts": ["210987654321"]}


def snapshot_copy() -> dict:
    return {"sourceDbClusterSnapshotIdentifier": "arn:aws:rds:eu-west-1:123456789012:"
            "cluster-snapshot:db-snap-1", "targetDbClusterSnapshotIdentifier": "db-snap-1-copy",
            "kmsKeyId": KEY_ARN, "sharedAccounts": []}


def bucket_policy() -> dict:
    return {"bucket": "aurorakit-alb-logs", "policy": doc({
        "Effect": "Allow", "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::aurorakit-alb-logs/*"})}


def volume() -> dict:
    return {"availabilityZone": "eu-west-1a", "size": 10.0, "encrypted": True}


def sg() -> dict:
    return {"description": "App host: HTTPS from the internet", "vpcId": "vpc-0a1b2c3d4e5f60718",
            "ingress": [{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0,
                         "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"],
                         "description": "HTTPS"}],
            "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0,
                        "cidrBlocks": ["0.0.0.0/0"], "description": "All outbound"}]}


def sg_rule() -> dict:
    return {"type": "ingress", "protocol": "tcp", "fromPort": 3306.0, "toPort": 3306.0,
            "securityGroupId": "sg-0db", "sourceSecurityGroupId": "sg-0app",
            "description": "MySQL from the app host"}


def vpc_ingress() -> dict:
    return {"securityGroupId": "sg-0db", "ipProtocol": "tcp", "fromPort": 3306.0,
            "toPort": 3306.0, "referencedSecurityGroupId": "sg-0app",
            "description": "MySQL from the app host"}


def vpc_egress() -> dict:
    return {"securityGroupId": "sg-0app", "ipProtocol": "tcp", "fromPort": 3306.0,
            "toPort": 3306.0, "referencedSecurityGroupId": "sg-0db",
            "description": "MySQL to the database"}


def kms_key() -> dict:
    return {"description": "aurorakit data key", "enableKeyRotation": True,
            "deletionWindowInDays": 30.0}


def secret() -> dict:
    return {"name": "aurorakit-db", "kmsKeyId": KEY_ARN}


def role() -> dict:
    return {"assumeRolePolicy": trust("ec2.amazonaws.com"),
            "inlinePolicies": [{"name": "read-db-secret", "policy": doc(READ_SECRET, DECRYPT)}]}


def role_policy() -> dict:
    return {"role": "app-host-role", "policy": doc(READ_SECRET, DECRYPT)}


def managed_policy() -> dict:
    return {"policy": doc({"Effect": "Allow", "Action": "ssm:GetParameter",
                           "Resource": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/*"})}


def table() -> dict:
    return {"hashKey": "id", "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": True}


def topic() -> dict:
    return {"name": "db-alarms-1a2b3c4", "kmsMasterKeyId": KEY_ARN}


def log_group() -> dict:
    return {"name": "/aws/rds/cluster/db-1a2b3c4d/audit", "retentionInDays": 90.0,
            "kmsKeyId": KEY_ARN}


def load_balancer() -> dict:
    return {"loadBalancerType": "application", "internal": False,
            "subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5061728"],
            "dropInvalidHeaderFields": True, "enableDeletionProtection": True,
            "desyncMitigationMode": "strictest",
            "accessLogs": {"bucket": "aurorakit-alb-logs", "prefix": "app-alb", "enabled": True}}


def listener() -> dict:
    return {"loadBalancerArn": LB_ARN, "port": 443.0, "protocol": "HTTPS",
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificateArn": CERT_ARN,
            "defaultActions": [{"type": "forward", "targetGroupArn": LB_ARN + "-tg"}]}


def proxy() -> dict:
    return {"engineFamily": "MYSQL", "requireTls": True,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/db-proxy-role",
            "vpcSubnetIds": ["subnet-0a1b2c3d4e5f60718"], "auths": [
                {"authScheme": "SECRETS", "secretArn": SECRET_ARN, "iamAuth": "REQUIRED"}]}


def role_attachment() -> dict:
    return {"role": "app-role", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}


def policy_attachment() -> dict:
    return {"name": "ssm-core", "roles": ["app-role"], "groups": [],
            "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}


def spot_instance() -> dict:
    return {**ec2(), "spotType": "one-time", "waitForFulfillment": True}


def spot_fleet() -> dict:
    """A Spot Fleet that launches from a launch template (its inline launch specifications
    cannot require IMDSv2)."""
    return {"iamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/spot-fleet", "targetCapacity": 2.0,
            "launchTemplateConfigs": [{"launchTemplateSpecification": {
                "id": "lt-0a1b2c3d4e5f60718", "version": "1"}, "overrides": [
                {"subnetId": "subnet-0a1b2c3d4e5f60718"}]}]}


def fleet() -> dict:
    return {"type": "maintain", "targetCapacitySpecification": {
                "defaultTargetCapacityType": "spot", "totalTargetCapacity": 2.0},
            "launchTemplateConfigs": [{"launchTemplateSpecification": {
                "launchTemplateId": "lt-0a1b2c3d4e5f60718", "version": "1"}, "overrides": [
                {"subnetId": "subnet-0a1b2c3d4e5f60718"}]}]}


def bucket() -> dict:
    return {"bucket": "aurorakit-artifacts", "policy": doc({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::aurorakit-artifacts/*"})}


def dynamo_policy() -> dict:
    return {"resourceArn": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/forum", "policy": doc({
        "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem",
        "Resource": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/forum",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})}


def vault_policy() -> dict:
    return {"backupVaultName": "aurorakit-db", "policy": doc({
        "Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint",
        "Resource": "*"})}


def lambda_permission() -> dict:
    return {"action": "lambda:InvokeFunction", "function": "aurorakit-bootstrap",
            "principal": "events.amazonaws.com",
            "sourceArn": f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/nightly"}


def function_url() -> dict:
    return {"functionName": "aurorakit-bootstrap", "authorizationType": "AWS_IAM"}


HAPPY = {CLUSTER: cluster, CLUSTER_INSTANCE: cluster_instance, DB_INSTANCE: db_instance,
         EC2: ec2, LAUNCH_TEMPLATE: launch_template, VOLUME: volume, SG: sg, SG_RULE: sg_rule,
         VPC_INGRESS: vpc_ingress, VPC_EGRESS: vpc_egress, KMS_KEY: kms_key, SECRET: secret,
         ROLE: role, ROLE_POLICY: role_policy, MANAGED_POLICY: managed_policy, TABLE: table,
         TOPIC: topic, LOG_GROUP: log_group, LB: load_balancer, ALB: load_balancer,
         LISTENER: listener, PROXY: proxy, ROLE_ATTACHMENT: role_attachment,
         POLICY_ATTACHMENT: policy_attachment, LAUNCH_CONFIGURATION: launch_configuration,
         CLUSTER_SNAPSHOT: cluster_snapshot, SNAPSHOT_COPY: snapshot_copy,
         BUCKET_POLICY: bucket_policy, SPOT_INSTANCE: spot_instance, SPOT_FLEET: spot_fleet,
         FLEET: fleet, BUCKET: bucket, DYNAMO_POLICY: dynamo_policy, VAULT_POLICY: vault_policy,
         LAMBDA_PERMISSION: lambda_permission, FUNCTION_URL: function_url}
