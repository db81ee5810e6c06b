"""The per-type table of outputs AWS would compute, used by `RecordingMocks.new_resource`.

`_COMPUTE` maps a type token to ``fn(mocks, seed, name, inputs) -> dict``: camelCase output
keys plus ``"__id"`` (the physical id). Values come from preflight/awsids.py, so they are
stable per (type, name).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from .awsids import _alnum_upper, _ec2_id, _hex, _physical_name, _private_ip, _public_ip, _uuid, _zone_id_prefix
from .mock_outputs_web import WEB_OUTPUTS

_ENGINE_PORTS = {"aurora-mysql": 3306, "mysql": 3306, "mariadb": 3306,
                 "aurora-postgresql": 5432, "postgres": 5432}


def _vpc(m, seed, name, i):
    vid = _ec2_id("vpc", seed)
    return {"__id": vid, "arn": m._arn("ec2", f"vpc/{vid}"), "ownerId": m.account_id,
            "defaultSecurityGroupId": _ec2_id("sg", seed + "default-sg"),
            "defaultRouteTableId": _ec2_id("rtb", seed + "main-rtb"),
            "mainRouteTableId": _ec2_id("rtb", seed + "main-rtb"),
            "defaultNetworkAclId": _ec2_id("acl", seed + "nacl"),
            "dhcpOptionsId": _ec2_id("dopt", seed),
            "instanceTenancy": i.get("instanceTenancy", "default")}


def _subnet(m, seed, name, i):
    sid = _ec2_id("subnet", seed)
    if i.get("mapPublicIpOnLaunch"):
        with m._lock:
            m._public_subnets.add(sid)
    az = i.get("availabilityZone") or f"{m.region}a"
    return {"__id": sid, "arn": m._arn("ec2", f"subnet/{sid}"), "ownerId": m.account_id,
            "availabilityZone": az,
            "availabilityZoneId": f"{_zone_id_prefix(m.region)}-az{ord(az[-1]) - 96 if az[-1].isalpha() else 1}",
            "mapPublicIpOnLaunch": bool(i.get("mapPublicIpOnLaunch", False))}


def _simple_ec2(prefix: str, arn_kind: Optional[str] = None):
    def fn(m, seed, name, i):
        rid = _ec2_id(prefix, seed)
        out: dict[str, Any] = {"__id": rid, "ownerId": m.account_id}
        if arn_kind:
            out["arn"] = m._arn("ec2", f"{arn_kind}/{rid}")
        return out
    return fn


def _security_group(m, seed, name, i):
    sid = _ec2_id("sg", seed)
    return {"__id": sid, "arn": m._arn("ec2", f"security-group/{sid}"), "ownerId": m.account_id,
            "name": _physical_name(name, i, seed=seed)}


def _default_security_group(m, seed, name, i):
    sid = _ec2_id("sg", seed)
    return {"__id": sid, "arn": m._arn("ec2", f"security-group/{sid}"), "ownerId": m.account_id,
            "name": "default", "description": "default VPC security group"}


def _sg_rule(m, seed, name, i):
    rid = _ec2_id("sgr", seed)
    return {"__id": rid, "securityGroupRuleId": rid,
            "arn": m._arn("ec2", f"security-group-rule/{rid}")}


def _eip(m, seed, name, i):
    aid = _ec2_id("eipalloc", seed)
    ip = _public_ip(seed)
    return {"__id": aid, "allocationId": aid, "publicIp": ip, "domain": "vpc",
            "publicDns": f"ec2-{ip.replace('.', '-')}.{m.region}.compute.amazonaws.com",
            "arn": m._arn("ec2", f"elastic-ip/{aid}")}


def _nat(m, seed, name, i):
    nid = _ec2_id("nat", seed)
    return {"__id": nid, "privateIp": _private_ip(seed, i), "publicIp": _public_ip(seed),
            "networkInterfaceId": _ec2_id("eni", seed),
            "connectivityType": i.get("connectivityType", "public")}


def _route(m, seed, name, i):
    return {"__id": f"r-{i.get('routeTableId', 'rtb-unknown')}{int(_hex(seed, 8), 16) % 10**10}",
            "origin": "CreateRoute", "state": "active"}


def _vpc_endpoint(m, seed, name, i):
    vid = _ec2_id("vpce", seed)
    service = i.get("serviceName", "")
    out: dict[str, Any] = {"__id": vid, "arn": m._arn("ec2", f"vpc-endpoint/{vid}"),
                           "ownerId": m.account_id, "state": "available"}
    if i.get("vpcEndpointType", "Gateway") == "Interface":
        short = service.rsplit(".", 1)[-1]
        out["dnsEntries"] = [{"dnsName": f"{vid}-{_hex(seed, 8)}.{short}.{m.region}.vpce.amazonaws.com",
                              "hostedZoneId": "Z7HUB22UULQXV"}]
        out["networkInterfaceIds"] = [_ec2_id("eni", f"{seed}{s}") for s in i.get("subnetIds", [])]
    else:
        out["prefixListId"] = _ec2_id("pl", seed)[:11]
    return out


def _flow_log(m, seed, name, i):
    fid = _ec2_id("fl", seed)
    return {"__id": fid, "arn": m._arn("ec2", f"vpc-flow-log/{fid}")}


def _instance(m, seed, name, i):
    iid = _ec2_id("i", seed)
    priv = _private_ip(seed, i)
    out = {"__id": iid, "arn": m._arn("ec2", f"instance/{iid}"), "instanceState": "running",
           "privateIp": priv, "privateDns": f"ip-{priv.replace('.', '-')}.{m.region}.compute.internal",
           "primaryNetworkInterfaceId": _ec2_id("eni", seed), "publicIp": "", "publicDns": "",
           "availabilityZone": i.get("availabilityZone") or f"{m.region}a"}
    template = (i.get("launchTemplate") or {}).get("id")
    public = i.get("associatePublicIpAddress")
    if public is None:  # not said on the instance: its template's interface, else its subnet's auto-assign
        public = template in m._public_templates or i.get("subnetId") in m._public_subnets
    if public:
        ip = _public_ip(seed)
        out["publicIp"] = ip
        out["publicDns"] = f"ec2-{ip.replace('.', '-')}.{m.region}.compute.amazonaws.com"
    return out


def _kms_key(m, seed, name, i):
    kid = _uuid(seed)
    return {"__id": kid, "keyId": kid, "arn": m._arn("kms", f"key/{kid}")}


def _kms_alias(m, seed, name, i):
    alias = _physical_name(name, i, seed=seed)
    return {"__id": alias, "name": alias, "arn": m._arn("kms", alias),
            "targetKeyArn": m._arn("kms", f"key/{i.get('targetKeyId', '')}")}


def _log_group(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn("logs", f"log-group:{n}")}


def _iam_role(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": f"arn:aws:iam::{m.account_id}:role{i.get('path', '/')}{n}",
            "uniqueId": "AROA" + _alnum_upper(seed, 17), "createDate": "2026-01-01T00:00:00Z"}


def _iam_instance_profile(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n,
            "arn": f"arn:aws:iam::{m.account_id}:instance-profile{i.get('path', '/')}{n}",
            "uniqueId": "AIPA" + _alnum_upper(seed, 17)}


def _iam_policy(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    arn = f"arn:aws:iam::{m.account_id}:policy{i.get('path', '/')}{n}"
    return {"__id": arn, "name": n, "arn": arn, "policyId": "ANPA" + _alnum_upper(seed, 17)}


def _role_policy(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": f"{i.get('role', '')}:{n}", "name": n}


def _role_policy_attachment(m, seed, name, i):
    return {"__id": f"{i.get('role', '')}-{_hex(seed, 26)}"}


def _rds_named(service_kind: str, key: str = "name"):
    def fn(m, seed, name, i):
        n = _physical_name(name, i, key=key, lower=True, seed=seed)
        return {"__id": n, key: n, "arn": m._arn("rds", f"{service_kind}:{n}")}
    return fn


def _cluster(m, seed, name, i):
    ident = _physical_name(name, i, key="clusterIdentifier", lower=True, seed=seed)
    engine = i.get("engine", "aurora-mysql")
    suffix = _hex(seed + "dns", 12)
    out = {"__id": ident, "clusterIdentifier": ident, "arn": m._arn("rds", f"cluster:{ident}"),
           "clusterResourceId": "cluster-" + _alnum_upper(seed, 26),
           "endpoint": f"{ident}.cluster-{suffix}.{m.region}.rds.amazonaws.com",
           "readerEndpoint": f"{ident}.cluster-ro-{suffix}.{m.region}.rds.amazonaws.com",
           "port": i.get("port") or _ENGINE_PORTS.get(engine, 3306),
           "hostedZoneId": "Z29XKXDKYMONMX", "engineVersionActual": i.get("engineVersion", ""),
           "availabilityZones": i.get("availabilityZones")
           or [f"{m.region}a", f"{m.region}b", f"{m.region}c"],
           "members": [], "masterUserSecrets": []}
    if i.get("manageMasterUserPassword"):
        sname = f"rds!cluster-{_uuid(seed)}"
        key = i.get("masterUserSecretKmsKeyId") or m._arn("kms", f"key/{_uuid('aws/secretsmanager')}")
        out["masterUserSecrets"] = [{
            "secretArn": m._arn("secretsmanager", f"secret:{sname}-{_hex(seed, 6)}"),
            "secretStatus": "active", "kmsKeyId": key}]
    return out


def _cluster_instance(m, seed, name, i):
    ident = _physical_name(name, i, key="identifier", lower=True, seed=seed)
    engine = i.get("engine", "aurora-mysql")
    cluster = i.get("clusterIdentifier", "")
    with m._lock:  # the first instance registered in a cluster becomes its writer, as in RDS
        writer = cluster not in m._clusters_with_writer
        m._clusters_with_writer.add(cluster)
    return {"__id": ident, "identifier": ident, "arn": m._arn("rds", f"db:{ident}"),
            "dbiResourceId": "db-" + _alnum_upper(seed, 26), "writer": writer,
            "endpoint": f"{ident}.{_hex(m.account_id + m.region, 12)}.{m.region}.rds.amazonaws.com",
            "port": _ENGINE_PORTS.get(engine, 3306),
            "availabilityZone": i.get("availabilityZone") or f"{m.region}a",
            "storageEncrypted": True, "kmsKeyId": "", "networkType": "IPV4"}


def _secret(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    arn = m._arn("secretsmanager", f"secret:{n}-{_alnum_upper(seed, 6)}")
    return {"__id": arn, "arn": arn, "name": n}


def _secret_version(m, seed, name, i):
    vid = _uuid(seed)
    return {"__id": f"{i.get('secretId', '')}|{vid}", "versionId": vid,
            "arn": i.get("secretId", ""), "versionStages": ["AWSCURRENT"]}


def _sns_topic(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    arn = m._arn("sns", n)
    return {"__id": arn, "arn": arn, "name": n, "owner": m.account_id}


def _metric_alarm(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn("cloudwatch", f"alarm:{n}")}


def _lb(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)[:32]
    suffix = f"app/{n}/{_hex(seed, 16)}"
    arn = m._arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    return {"__id": arn, "arn": arn, "arnSuffix": suffix, "name": n,
            "dnsName": f"{n}-{int(_hex(seed, 8), 16) % 10**10}.{m.region}.elb.amazonaws.com",
            "zoneId": "Z32O12XQLNTSW2", "vpcId": ""}


def _target_group(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)[:32]
    suffix = f"targetgroup/{n}/{_hex(seed, 16)}"
    arn = m._arn("elasticloadbalancing", suffix)
    return {"__id": arn, "arn": arn, "arnSuffix": suffix, "name": n}


def _listener(m, seed, name, i):
    arn = m._arn("elasticloadbalancing", f"listener/app/{name}/{_hex(seed, 16)}/{_hex(seed + 'l', 16)}")
    return {"__id": arn, "arn": arn}


def _proxy(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn("rds", f"db-proxy:prx-{_hex(seed, 17)}"),
            "endpoint": f"{n}.proxy-{_hex(seed, 12)}.{m.region}.rds.amazonaws.com"}


def _proxy_endpoint(m, seed, name, i):
    n = i.get("dbProxyEndpointName") or _physical_name(name, i, seed=seed)
    return {"__id": f"{i.get('dbProxyName', '')}/{n}",
            "arn": m._arn("rds", f"db-proxy-endpoint:prx-endpoint-{_hex(seed, 17)}"),
            "endpoint": f"{n}.endpoint.proxy-{_hex(seed, 12)}.{m.region}.rds.amazonaws.com",
            "isDefault": False, "vpcId": _ec2_id("vpc", seed)}


def _lambda_function(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    arn = m._arn("lambda", f"function:{n}")
    return {"__id": n, "name": n, "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST",
            "invokeArn": f"arn:aws:apigateway:{m.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
            "lastModified": "2026-01-01T00:00:00.000+0000", "sourceCodeHash": _hex(seed + "code", 44),
            "sourceCodeSize": 4096}


def _lambda_invocation(m, seed, name, i):
    return {"__id": f"{i.get('functionName', '')}_$LATEST_{_hex(seed, 32)}", "result": "{}"}


def _app_scaling_target(m, seed, name, i):
    return {"__id": i.get("resourceId", name),
            "arn": m._arn("application-autoscaling", f"scalable-target/{_hex(seed, 28)}")}


def _launch_template(m, seed, name, i):
    tid = _ec2_id("lt", seed)
    if any(str(n.get("associatePublicIpAddress")).lower() == "true" for n in i.get("networkInterfaces") or []):
        with m._lock:
            m._public_templates.add(tid)
    return {"__id": tid, "arn": m._arn("ec2", f"launch-template/{tid}"),
            "name": _physical_name(name, i, seed=seed), "latestVersion": 1, "defaultVersion": 1}


def _auto_scaling_group(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn(
        "autoscaling", f"autoScalingGroup:{_uuid(seed)}:autoScalingGroupName/{n}"),
        "availabilityZones": [], "predictedCapacity": 0, "warmPoolSize": 0}


def _auto_scaling_policy(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn(
        "autoscaling", f"scalingPolicy:{_uuid(seed)}:autoScalingGroupName/"
                       f"{i.get('autoscalingGroupName', '')}:policyName/{n}")}


def _app_scaling_policy(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    service = i.get("serviceNamespace", "rds")
    return {"__id": n, "name": n, "arn": m._arn(
        "autoscaling", f"scalingPolicy:{_uuid(seed)}:resource/{service}/{i.get('resourceId', '')}:policyName/{n}")}


def _dynamodb_table(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn("dynamodb", f"table/{n}"),
            "billingMode": i.get("billingMode", "PROVISIONED"), "streamArn": "", "streamLabel": ""}


def _backup_vault(m, seed, name, i):
    n = _physical_name(name, i, seed=seed)
    return {"__id": n, "name": n, "arn": m._arn("backup", f"backup-vault:{n}"), "recoveryPoints": 0}


def _backup_plan(m, seed, name, i):
    pid = _uuid(seed)
    return {"__id": pid, "arn": m._arn("backup", f"backup-plan:{pid}"), "name": _physical_name(name, i, seed=seed),
            "version": _hex(seed + "v", 32)}


def _random_password(m, seed, name, i):
    length = int(i.get("length", 32))
    value = _hex(seed + "pw", length)
    return {"__id": "none", "result": value, "bcryptHash": "$2a$10$" + _hex(seed + "bc", 53)}


def _random_id(m, seed, name, i):
    n = int(i.get("byteLength", 4))
    h = _hex(seed, 2 * n)
    return {"__id": h, "hex": (i.get("prefix") or "") + h, "dec": str(int(h, 16)),
            "b64Std": h, "b64Url": h}


def _random_string(m, seed, name, i):
    value = _hex(seed, int(i.get("length", 8)))
    return {"__id": value, "result": value}


def _by_id(fn_id: Callable[[Any, str, str, dict], str]):
    def fn(m, seed, name, i):
        return {"__id": fn_id(m, seed, name, i)}
    return fn


_COMPUTE: dict[str, Callable[..., dict]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/internetGateway:InternetGateway": _simple_ec2("igw", "internet-gateway"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/routeTable:RouteTable": _simple_ec2("rtb", "route-table"),
    "aws:ec2/route:Route": _route,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _by_id(lambda m, s, n, i: _ec2_id("rtbassoc", s)),
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _default_security_group,
    "aws:ec2/securityGroupRule:SecurityGroupRule": _by_id(lambda m, s, n, i: f"sgrule-{int(_hex(s, 8), 16)}"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _sg_rule,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _sg_rule,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:ec2/instance:Instance": _instance,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:autoscaling/group:Group": _auto_scaling_group,
    "aws:autoscaling/policy:Policy": _auto_scaling_policy,
    "aws:ec2/keyPair:KeyPair": lambda m, s, n, i: {"__id": _physical_name(n, i, key="keyName", seed=s),
                                                   "keyPairId": _ec2_id("key", s)},
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/instanceProfile:InstanceProfile": _iam_instance_profile,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _role_policy_attachment,
    "aws:rds/subnetGroup:SubnetGroup": _rds_named("subgrp"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _rds_named("cluster-pg"),
    "aws:rds/parameterGroup:ParameterGroup": _rds_named("pg"),
    "aws:rds/cluster:Cluster": _cluster,
    "aws:rds/clusterInstance:ClusterInstance": _cluster_instance,
    "aws:rds/proxy:Proxy": _proxy,
    "aws:rds/proxyEndpoint:ProxyEndpoint": _proxy_endpoint,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/invocation:Invocation": _lambda_invocation,
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": lambda m, s, n, i: {
        "__id": i.get("dbProxyName", n), "name": "default",
        "arn": m._arn("rds", f"target-group:prx-tg-{_hex(s, 17)}")},
    "aws:rds/proxyTarget:ProxyTarget": lambda m, s, n, i: {
        "__id": f"{i.get('dbProxyName', '')}/{i.get('targetGroupName', '')}/TRACKED_CLUSTER/"
                f"{i.get('dbClusterIdentifier', '')}",
        "endpoint": "", "port": 0, "type": "TRACKED_CLUSTER"},
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:appautoscaling/target:Target": _app_scaling_target,
    "aws:appautoscaling/policy:Policy": _app_scaling_policy,
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": _by_id(
        lambda m, s, n, i: f"{i.get('targetGroupArn', '')}-{int(_hex(s, 8), 16)}"),
    "aws:backup/vault:Vault": _backup_vault,
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": lambda m, s, n, i: {
        "__id": i.get("backupVaultName", n),
        "backupVaultArn": m._arn("backup", f"backup-vault:{i.get('backupVaultName', n)}")},
    "aws:backup/plan:Plan": _backup_plan,
    "aws:backup/selection:Selection": lambda m, s, n, i: {"__id": _uuid(s), "name": _physical_name(n, i, seed=s)},
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomId:RandomId": _random_id,
    "random:index/randomString:RandomString": _random_string,
}

_COMPUTE.update(WEB_OUTPUTS)  # ACM, Route 53, S3 (preflight/mock_outputs_web.py)
