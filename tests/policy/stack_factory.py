"""A small, fully compliant stack (outputs + property dependencies) for the stack rules.

Shape (like the project's prod stack): VPC with flow log and closed default SG; 2 public subnets
routed to an IGW; 2 private subnets routed to NAT; 2 isolated DB subnets with a route table and
no default route; a KMS key; an Aurora MySQL cluster (TLS parameter group, managed password,
IAM auth) with 2 instances in 2 AZs, in an AWS Backup selection; DB SG with one ingress rule
from the app SG on 3306; an app host with instance profile -> role -> policy that connects with
IAM auth (rds-db:connect) and reads only the app's own secret with the key; an HTTPS ALB with
a WAF web ACL.
"""
from __future__ import annotations

import json

from . import factories as f
from .support import Stack

T = {
    "vpc": "aws:ec2/vpc:Vpc", "subnet": "aws:ec2/subnet:Subnet",
    "igw": "aws:ec2/internetGateway:InternetGateway", "nat": "aws:ec2/natGateway:NatGateway",
    "rt": "aws:ec2/routeTable:RouteTable", "route": "aws:ec2/route:Route",
    "rta": "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "flow": "aws:ec2/flowLog:FlowLog", "dsg": "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "sg": f.SG, "ingress": f.VPC_INGRESS, "sgrule": f.SG_RULE, "key": f.KMS_KEY,
    "alias": "aws:kms/alias:Alias", "log": "aws:cloudwatch/logGroup:LogGroup",
    "sng": "aws:rds/subnetGroup:SubnetGroup",
    "cpg": "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    "cluster": f.CLUSTER, "ci": f.CLUSTER_INSTANCE, "dbi": f.DB_INSTANCE,
    "pg": "aws:rds/parameterGroup:ParameterGroup", "secret": f.SECRET, "ec2": f.EC2,
    "role": f.ROLE, "rp": f.ROLE_POLICY, "profile": "aws:iam/instanceProfile:InstanceProfile",
    "att": "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "policy": f.MANAGED_POLICY,
    "random": "random:index/randomPassword:RandomPassword",
    "lb": f.LB, "listener": f.LISTENER, "lrule": "aws:lb/listenerRule:ListenerRule",
    "rotation": "aws:secretsmanager/secretRotation:SecretRotation",
    "lt": f.LAUNCH_TEMPLATE, "asg": "aws:autoscaling/group:Group", "eip": "aws:ec2/eip:Eip",
    "eipassoc": "aws:ec2/eipAssociation:EipAssociation",
    "pl": "aws:ec2/managedPrefixList:ManagedPrefixList",
    "plentry": "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
    "waf": "aws:wafv2/webAclAssociation:WebAclAssociation",
    "backup": "aws:backup/selection:Selection", "proxy": f.PROXY,
    "cra": "aws:rds/clusterRoleAssociation:ClusterRoleAssociation",
    "polatt": f.POLICY_ATTACHMENT, "sv": "aws:secretsmanager/secretVersion:SecretVersion",
    "tgw": "aws:ec2transitgateway/transitGateway:TransitGateway",
}
API_SECRET_ARN = f.SECRET_ARN + "-api"
CONNECT = {"Effect": "Allow", "Action": "rds-db:connect", "Resource":
           f"arn:aws:rds-db:eu-west-1:{f.ACCOUNT}:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app"}
APP_POLICY = f.doc({**f.READ_SECRET, "Resource": [API_SECRET_ARN]}, f.DECRYPT, CONNECT)


def good_stack() -> Stack:
    s = Stack()
    vpc = s.add(T["vpc"], "net-vpc", {"cidrBlock": "10.0.0.0/16", "id": "vpc-0a1b"})
    s.add(T["dsg"], "net-default-sg", {"vpcId": "vpc-0a1b", "ingress": [], "egress": []},
          {"vpcId": [vpc]})
    log_key = s.add(T["key"], "net-logs-key", {"enableKeyRotation": True,
                                                "arn": f.KEY_ARN + "-logs"}, protect=True)
    log = s.add(T["log"], "net-flow-logs", {"retentionInDays": 365.0, "kmsKeyId": f.KEY_ARN},
                {"kmsKeyId": [log_key]})
    s.add(T["flow"], "net-flow", {"vpcId": "vpc-0a1b", "trafficType": "ALL"},
          {"vpcId": [vpc], "logDestination": [log]})
    igw = s.add(T["igw"], "net-igw", {"vpcId": "vpc-0a1b"}, {"vpcId": [vpc]})
    public_rt = s.add(T["rt"], "net-public-rt", {"vpcId": "vpc-0a1b"}, {"vpcId": [vpc]})
    s.add(T["route"], "net-public-default", {"routeTableId": "rtb-1",
                                              "destinationCidrBlock": "0.0.0.0/0",
                                              "gatewayId": "igw-0a1b"},
          {"routeTableId": [public_rt], "gatewayId": [igw]})
    nat = None
    for i, az in enumerate(("eu-west-1a", "eu-west-1b")):
        pub = s.add(T["subnet"], f"net-public-{i}", {"availabilityZone": az,
                                                      "mapPublicIpOnLaunch": True},
                    {"vpcId": [vpc]})
        s.add(T["rta"], f"net-public-rta-{i}", {"subnetId": "subnet-p"},
              {"subnetId": [pub], "routeTableId": [public_rt]})
        nat = nat or s.add(T["nat"], "net-nat", {"subnetId": "subnet-p"}, {"subnetId": [pub]})
    private_rt = s.add(T["rt"], "net-private-rt", {
        "vpcId": "vpc-0a1b", "routes": [{"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-0a1b"}]},
        {"vpcId": [vpc], "routes": [nat]})
    isolated_rt = s.add(T["rt"], "net-isolated-rt", {"vpcId": "vpc-0a1b", "routes": []},
                        {"vpcId": [vpc]})
    db_subnets = []
    for i, az in enumerate(("eu-west-1a", "eu-west-1b")):
        priv = s.add(T["subnet"], f"net-private-{i}", {"availabilityZone": az,
                                                        "mapPublicIpOnLaunch": False},
                     {"vpcId": [vpc]})
        s.add(T["rta"], f"net-private-rta-{i}", {}, {"subnetId": [priv],
                                                     "routeTableId": [private_rt]})
        iso = s.add(T["subnet"], f"net-isolated-{i}", {"availabilityZone": az,
                                                        "mapPublicIpOnLaunch": False},
                    {"vpcId": [vpc]})
        s.add(T["rta"], f"net-isolated-rta-{i}", {}, {"subnetId": [iso],
                                                      "routeTableId": [isolated_rt]})
        db_subnets.append(iso)

    key = s.add(T["key"], "db-key", {**f.kms_key(), "arn": f.KEY_ARN}, protect=True)
    sng = s.add(T["sng"], "db-subnets", {"subnetIds": ["subnet-i0", "subnet-i1"]},
                {"subnetIds": db_subnets})
    cpg = s.add(T["cpg"], "db-params", {"family": "aurora-mysql8.0", "parameters": [
        {"name": "require_secure_transport", "value": "ON"}]})
    db_sg = s.add(T["sg"], "db-sg", {"description": "Aurora cluster", "vpcId": "vpc-0a1b"},
                  {"vpcId": [vpc]})
    app_sg = s.add(T["sg"], "app-sg", {"description": "App host", "vpcId": "vpc-0a1b"},
                   {"vpcId": [vpc]})
    s.add(T["ingress"], "link-db-ingress", f.vpc_ingress(),
          {"securityGroupId": [db_sg], "referencedSecurityGroupId": [app_sg]})
    cluster_props = {**f.cluster(), "dbSubnetGroupName": "db-subnets-1a2b",
                     "dbClusterParameterGroupName": "db-params-1a2b",
                     "vpcSecurityGroupIds": ["sg-0db"], "masterUserSecrets": [
        {"secretArn": f.SECRET_ARN, "kmsKeyId": f.KEY_ARN, "secretStatus": "active"}]}
    cluster = s.add(T["cluster"], "db-cluster", cluster_props, {
        "kmsKeyId": [key], "masterUserSecretKmsKeyId": [key], "dbSubnetGroupName": [sng],
        "dbClusterParameterGroupName": [cpg], "vpcSecurityGroupIds": [db_sg]}, protect=True)
    for i, az in enumerate(("eu-west-1a", "eu-west-1b")):
        s.add(T["ci"], f"db-instance-{i}", {**f.cluster_instance(), "availabilityZone": az},
              {"clusterIdentifier": [cluster], "performanceInsightsKmsKeyId": [key]})

    role = s.add(T["role"], "app-role", {"assumeRolePolicy": f.trust("ec2.amazonaws.com")})
    s.add(T["rp"], "app-read-secret", {"role": "app-role", "policy": APP_POLICY},
          {"role": [role], "policy": [cluster, key]})
    s.add(T["backup"], "db-backup", {"name": "db", "planId": "plan-1", "resources": [
        "arn:aws:rds:eu-west-1:123456789012:cluster:db-cluster-1a2b"]},
        {"resources": [cluster]})
    s.add(T["att"], "app-ssm", {"role": "app-role", "policyArn":
                                "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
          {"role": [role]})
    profile = s.add(T["profile"], "app-profile", {"role": "app-role"}, {"role": [role]})
    s.add(T["ec2"], "app-host", f.ec2(), {
        "iamInstanceProfile": [profile], "vpcSecurityGroupIds": [app_sg],
        "subnetId": [s.find("net-private-0")], "rootBlockDevice": [key], "ebsBlockDevices": [key]})
    alb_sg = s.add(T["sg"], "alb-sg", {"description": "ALB", "vpcId": "vpc-0a1b"},
                   {"vpcId": [vpc]})
    for port in (80.0, 443.0):
        s.add(T["ingress"], f"alb-ingress-{port:g}", {
            "ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": "0.0.0.0/0",
            "description": f"listener {port:g}"}, {"securityGroupId": [alb_sg]})
    alb = s.add(T["lb"], "app-alb", {**f.load_balancer(), "securityGroups": ["sg-alb"]}, {
        "subnets": [s.find("net-public-0"), s.find("net-public-1")], "securityGroups": [alb_sg]})
    s.add(T["waf"], "app-waf", {"resourceArn": f.LB_ARN, "webAclArn": "arn:aws:wafv2:eu-west-1:"
                                f"{f.ACCOUNT}:regional/webacl/app/0b1c2d3e"},
          {"resourceArn": [alb]})
    s.add(T["listener"], "app-https", f.listener(), {"loadBalancerArn": [alb]})
    s.add(T["listener"], "app-http-redirect", {
        "loadBalancerArn": f.LB_ARN, "port": 80.0, "protocol": "HTTP", "defaultActions": [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                              "statusCode": "HTTP_301"}}]},
        {"loadBalancerArn": [alb]})
    api_secret = s.add(T["secret"], "app-api-secret", {**f.secret(), "arn": API_SECRET_ARN},
                       {"kmsKeyId": [key]}, protect=True)
    s.add(T["rotation"], "app-api-secret-rotation", {
        "secretId": f.SECRET_ARN + "-api", "rotationRules": {"automaticallyAfterDays": 30.0}},
        {"secretId": [api_secret]})
    return s


def policy_doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
