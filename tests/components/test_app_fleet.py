"""AppFleet under mocks: the hardened launch template, the private fleet (AZ spread, ELB health,
create-before-delete rolls, scaling), the public single host, the ALB, IAM, user data."""
import base64
import gzip
import json

import pytest

import app.cloud_init as cloud_init
import components.app_fleet as app_fleet
from app.boot_artifacts import manifest
from components import AppFleet, AppFleetArgs, DatabaseEndpoint

from .conftest import resolve, settle

KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
DB = DatabaseEndpoint(writer_endpoint="db.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com",
                      reader_endpoint="db.cluster-ro-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com",
                      port=3306, db_name="app", engine="aurora-mysql",
                      cluster_resource_id="cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
PRIVATE = ["subnet-0priv1", "subnet-0priv2", "subnet-0priv3"]
PUBLIC = ["subnet-0pub1", "subnet-0pub2", "subnet-0pub3"]
E = "aws:ec2/"
LT = E + "launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
ING = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGR = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def build(name="app", **kw):
    if kw.get("placement") == "public":
        kw.setdefault("subnet_ids", PUBLIC)
    else:
        kw.setdefault("subnet_ids", PRIVATE)
        kw.setdefault("load_balancer_subnet_ids", PUBLIC)
        if not kw.get("certificate_arn") and not kw.get("domain_name"):
            kw.setdefault("load_balancer_allow_http", True)
    return settle(lambda: AppFleet(name, AppFleetArgs(vpc_id="vpc-0a1b2c3d4e5f60718", database=DB,
                                                      kms_key_arn=KEY, **kw)))


def user_data(inputs) -> str:
    return gzip.decompress(base64.b64decode(inputs["userData"])).decode()


def test_launch_template_is_hardened(mocks):
    build()
    lt = mocks.only(LT).inputs
    assert lt["metadataOptions"] == {"httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1}
    ebs = lt["blockDeviceMappings"][0]["ebs"]
    assert (ebs["encrypted"], ebs["kmsKeyId"], ebs["volumeType"]) == ("true", KEY, "gp3")
    nic = lt["networkInterfaces"][0]
    assert nic["associatePublicIpAddress"] == "false"
    assert nic["securityGroups"] == [r.id for r in mocks.resources_of(E + "securityGroup:SecurityGroup")
                                     if r.name == "app-sg"]
    assert "keyName" not in lt and "vpcSecurityGroupIds" not in lt
    assert lt["iamInstanceProfile"]["arn"] == mocks.only("aws:iam/instanceProfile:InstanceProfile").outputs["arn"]
    ssm = [c for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"][0]
    assert ssm.args["name"] == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    assert ssm.args["withDecryption"] is False  # the AMI id is no secret: previews show it
    assert lt["imageId"] == ssm.result["insecureValue"]
    assert lt["updateDefaultVersion"] is True and lt["monitoring"] == {"enabled": True}
    assert not [r for r in mocks.resources_of(ING) if r.inputs["fromPort"] == 22]


def test_an_unpinned_ami_never_rolls_the_fleet_by_surprise(recording):
    build()
    assert recording[1].named("app-template").ignore_changes == ["imageId"]


def test_a_pinned_ami_is_used_and_rolls_when_changed(recording):
    mocks, monitor = recording
    build(ami_id="ami-0123456789abcdef0")
    assert mocks.only(LT).inputs["imageId"] == "ami-0123456789abcdef0"
    assert monitor.named("app-template").ignore_changes == []
    assert not [c for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"]


def test_graviton_types_get_the_arm64_ami(mocks):
    build(instance_type="t4g.small")
    names = [c.args["name"] for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"]
    assert names == ["/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"]


def test_private_fleet_spreads_over_every_az_behind_the_alb(mocks):
    build(min_size=2, desired_size=3, max_size=6)
    asg = mocks.only(ASG)
    g = asg.inputs
    assert g["vpcZoneIdentifiers"] == PRIVATE
    assert (g["minSize"], g["desiredCapacity"], g["maxSize"]) == (2, 3, 6)
    assert g["healthCheckType"] == "ELB" and g["healthCheckGracePeriod"] >= 300
    assert g["targetGroupArns"] == [mocks.only("aws:lb/targetGroup:TargetGroup").outputs["arn"]]
    assert g["launchTemplate"] == {"id": mocks.only(LT).outputs["id"], "version": "1"}
    assert g["instanceMaintenancePolicy"] == {"minHealthyPercentage": 100, "maxHealthyPercentage": 200}
    # up waits until the new group's hosts pass the ALB health check: at creation, at least
    assert g["minElbCapacity"] == 3 and g["waitForCapacityTimeout"] == app_fleet.CAPACITY_TIMEOUT
    assert "waitForElbCapacity" not in g   # exact, on every update: fights target tracking
    assert mocks.resources_of(E + "instance:Instance") == []


def test_without_a_desired_count_target_tracking_owns_the_size(mocks):
    """The default: no desired capacity (a new group starts at the minimum), so nothing in the
    state can hand a replacement a stale size below a raised minimum."""
    build(min_size=3, max_size=6)
    g = mocks.only(ASG).inputs
    assert "desiredCapacity" not in g and (g["minSize"], g["maxSize"], g["minElbCapacity"]) == (3, 6, 3)


def test_a_deploy_replaces_the_group_create_before_delete(recording):
    """App or AMI change = new template version = a new group, created before the old goes, and
    after the listener that forwards to its targets (targets are `unused` until one exists).
    Nothing is ignored: an ignored property is taken from the state on a replacement too."""
    build()
    group = recording[1].named("app-fleet")
    assert group.replace_on_changes == ["launchTemplate"]
    assert not group.ignore_changes and not group.delete_before_replace
    assert any(d.endswith("::app-http") for d in group.dependencies)  # plain-HTTP opt-in: it forwards
    build("web", certificate_arn=CERT)
    assert any(d.endswith("::web-https") for d in recording[1].named("web-fleet").dependencies)


def test_hosts_launch_after_their_egress_routes_and_permissions(recording):
    import pulumi_aws as aws

    def program():
        route = aws.ec2.Route("nat-route", route_table_id="rtb-0abc", destination_cidr_block="0.0.0.0/0",
                              nat_gateway_id="nat-0abc")
        return AppFleet("app", AppFleetArgs(
            vpc_id="vpc-0a", database=DB, kms_key_arn=KEY, subnet_ids=PRIVATE, load_balancer_subnet_ids=PUBLIC,
            load_balancer_allow_http=True, egress_ready=route.id.apply(bool)))
    settle(program)
    group = recording[1].named("app-fleet")
    assert {d.split("::")[-1] for d in group.dependencies} >= {"app-ssm-core", "app-db-access", "nat-route"}
    assert any(d.endswith("::nat-route") for d in group.property_dependencies["vpcZoneIdentifiers"])


@pytest.mark.parametrize("metric,predefined,target", [
    ("cpu", "ASGAverageCPUUtilization", 50.0), ("requests", "ALBRequestCountPerTarget", 1000.0)])
def test_target_tracking_from_config(mocks, metric, predefined, target):
    build(scaling_metric=metric)
    policy = mocks.only("aws:autoscaling/policy:Policy").inputs
    spec = policy["targetTrackingConfiguration"]
    assert policy["policyType"] == "TargetTrackingScaling" and spec["targetValue"] == target
    assert spec["predefinedMetricSpecification"]["predefinedMetricType"] == predefined
    if metric == "requests":
        lb, tg = mocks.only("aws:lb/loadBalancer:LoadBalancer"), mocks.only("aws:lb/targetGroup:TargetGroup")
        assert spec["predefinedMetricSpecification"]["resourceLabel"] == \
            f"{lb.outputs['arnSuffix']}/{tg.outputs['arnSuffix']}"


def test_health_check_never_touches_the_database_and_drains(mocks):
    build()
    tg = mocks.only("aws:lb/targetGroup:TargetGroup").inputs
    assert tg["healthCheck"]["path"] == "/livez" and tg["deregistrationDelay"] == 30
    lb = mocks.only("aws:lb/loadBalancer:LoadBalancer").inputs
    assert lb["idleTimeout"] == 60 and lb["dropInvalidHeaderFields"] is True


def test_alb_waits_for_the_internet_route(recording):
    import pulumi_aws as aws

    def program():
        route = aws.ec2.Route("igw-route", route_table_id="rtb-0abc", destination_cidr_block="0.0.0.0/0",
                              gateway_id="igw-0abc")
        return AppFleet("app", AppFleetArgs(
            vpc_id="vpc-0a", database=DB, kms_key_arn=KEY, subnet_ids=PRIVATE, load_balancer_subnet_ids=PUBLIC,
            load_balancer_allow_http=True, internet_ready=route.id.apply(bool)))
    settle(program)
    lb = recording[1].named("app-alb")
    assert any(d.endswith("::igw-route") for d in lb.property_dependencies["subnets"]), lb.property_dependencies


def test_tier_alarms_go_to_the_topic(mocks):
    topic = "arn:aws:sns:eu-west-1:123456789012:db-alarms"
    build(alarm_topic_arn=topic)
    alarms = {a.name: a.inputs for a in mocks.resources_of("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.name != "app-db-writable-alarm"}  # the app's own metric: the test below
    assert set(alarms) == {"app-unhealthy-hosts-alarm", "app-target-5xx-alarm"}
    assert all(a["alarmActions"] == [topic] and a["namespace"] == "AWS/ApplicationELB" for a in alarms.values())


def test_public_host_is_one_instance_from_the_same_template(mocks):
    import pulumi_aws as aws

    def program():
        subnets = [aws.ec2.Subnet(f"public-{i}", vpc_id="vpc-0a", cidr_block=f"10.0.{i}.0/24",
                                  map_public_ip_on_launch=True) for i in range(2)]
        return subnets, AppFleet("app", AppFleetArgs(
            vpc_id="vpc-0a", database=DB, kms_key_arn=KEY, placement="public",
            subnet_ids=[s.id for s in subnets], ingress_cidrs=("198.51.100.10/32",)))
    subnets, host = settle(program)
    lt = mocks.only(LT)
    # EC2 refuses a template's network interfaces with the instance's own subnet
    # (InvalidParameterCombination): the groups are set on the template, the public IP comes from
    # the public subnet's auto-assign
    assert "networkInterfaces" not in lt.inputs and lt.inputs["vpcSecurityGroupIds"] == [mocks.by_name("app-sg").id]
    inst = mocks.only(E + "instance:Instance").inputs
    assert inst["launchTemplate"] == {"id": lt.outputs["id"], "version": "1"}
    assert inst["subnetId"] == resolve(subnets[0].id) and "associatePublicIpAddress" not in inst
    assert mocks.resources_of(ASG) == [] and mocks.resources_of("aws:lb/loadBalancer:LoadBalancer") == []
    rule = mocks.only(ING).inputs
    assert (rule["cidrIpv4"], rule["fromPort"], rule["toPort"]) == ("198.51.100.10/32", 80, 80)
    assert resolve(host.url).startswith("http://ec2-") and resolve(host.url).endswith(".compute.amazonaws.com")
    assert resolve(host.ssm_session_command) == \
        f"aws ssm start-session --region eu-west-1 --target {resolve(host.instance_id)}"


def test_private_fleet_ssm_command_finds_a_running_host(mocks):
    host = build()
    command = resolve(host.ssm_session_command)
    group = resolve(host.auto_scaling_group_name)
    assert command.startswith("aws ssm start-session --region eu-west-1 --target $(aws ec2 describe-instances")
    assert f"Values={group}" in command and host.instance_id is None


def test_egress_is_explicit_rules_only(mocks):
    build(placement="public")
    sg = mocks.only(E + "securityGroup:SecurityGroup").inputs
    assert sg["description"] and not sg.get("ingress") and not sg.get("egress")
    egress = mocks.only(EGR).inputs
    assert (egress["cidrIpv4"], egress["fromPort"], egress["toPort"]) == ("0.0.0.0/0", 443, 443)
    assert egress["description"] and mocks.resources_of(ING) == []


def test_iam_least_privilege(mocks):
    build(app_db_user="webapp")
    role = mocks.only("aws:iam/role:Role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ec2.amazonaws.com"}]
    attachment = mocks.only("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    statements = json.loads(mocks.by_name("app-db-access").inputs["policy"])["Statement"]
    # the database: connect as the app user to this cluster (no secret, no key), and publish the
    # app's own health metrics (PutMetricData has no resource-level permissions: its namespace is
    # pinned); the only other policy is the boot artifacts' (tests/components/test_artifact_store.py)
    assert {p.name for p in mocks.resources_of("aws:iam/rolePolicy:RolePolicy")} == {"app-db-access",
                                                                                    "app-boot-artifacts"}
    assert statements == [{"Sid": "IamDbAuthAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                           "Resource": ["arn:aws:rds-db:eu-west-1:123456789012:dbuser:"
                                        "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/webapp"]},
                          {"Sid": "PublishTheAppsDbHealthMetrics", "Effect": "Allow",
                           "Action": ["cloudwatch:PutMetricData"], "Resource": ["*"],
                           "Condition": {"StringEquals": {"cloudwatch:namespace": "aurorakit/App"}}}]


def test_user_data_is_the_rendered_cloud_config_compressed_without_secret_values(mocks):
    build(app_port=8080)
    expected = cloud_init.render_user_data(
        region="eu-west-1", db_user="app", writer_endpoint=DB.writer_endpoint,
        reader_endpoint=DB.reader_endpoint, port=3306, db_name="app", engine="aurora-mysql", app_port=8080,
        bucket=mocks.only("aws:s3/bucket:Bucket").outputs["bucket"], artifacts=manifest("x86_64"))
    text = user_data(mocks.only(LT).inputs)
    assert text == expected and "password" not in text.lower().replace("password_file", "")
    assert "secretsmanager" not in text and "AURORAKIT_DB_USER=app" in text


def test_user_data_limit_is_defined_once_and_enforced_on_what_ec2_receives(monkeypatch):
    assert not hasattr(app_fleet, "USER_DATA_LIMIT") and cloud_init.USER_DATA_LIMIT == 16384
    assert app_fleet.cloud_init is cloud_init  # the encoder (and its limit) is cloud_init's
    text = cloud_init.render_user_data(
        region="eu-west-1", db_user="app", writer_endpoint=DB.writer_endpoint,
        reader_endpoint=DB.reader_endpoint, port=3306, db_name="app", engine="aurora-mysql",
        bucket="app-artifacts-0123", artifacts=manifest("x86_64"))
    size = len(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    monkeypatch.setattr(cloud_init, "USER_DATA_LIMIT", size - 1)
    with pytest.raises(ValueError, match=f"user data is {size} bytes gzip-compressed; EC2 allows {size - 1}"):
        cloud_init.encode_user_data(text)


def test_https_listener_and_redirect_with_a_certificate(mocks):
    host = build(certificate_arn=CERT)
    listeners = {li.inputs["port"]: li.inputs for li in mocks.resources_of("aws:lb/listener:Listener")}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["certificateArn"] == CERT
    assert listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"
    sgs = {r.name: r for r in mocks.resources_of(E + "securityGroup:SecurityGroup")}
    host_sg, alb_sg = sgs.pop("app-sg"), sgs.pop("app-alb-sg")
    assert not sgs
    to_host = [r.inputs for r in mocks.resources_of(ING) if r.inputs["securityGroupId"] == host_sg.id]
    assert to_host == [{**to_host[0], "referencedSecurityGroupId": alb_sg.id, "fromPort": 80, "toPort": 80}]
    alb_out = [r.inputs for r in mocks.resources_of(EGR) if r.inputs["securityGroupId"] == alb_sg.id]
    assert alb_out[0]["referencedSecurityGroupId"] == host_sg.id and alb_out[0]["fromPort"] == 80
    assert resolve(host.url).startswith("https://app-alb-")


def test_plain_http_listener_carries_the_explicit_opt_in_tag(mocks):
    build(load_balancer_allow_http=True)
    (listener,) = mocks.resources_of("aws:lb/listener:Listener")
    assert listener.inputs["protocol"] == "HTTP" and listener.inputs["tags"]["aurorakit:allow-plain-http"] == "true"


def test_ssh_is_explicit_opt_in(mocks):
    build(key_pair_name="ops", admin_cidr="198.51.100.7/32", placement="public")
    assert mocks.only(LT).inputs["keyName"] == "ops"
    rule = mocks.only(ING).inputs
    assert (rule["cidrIpv4"], rule["fromPort"]) == ("198.51.100.7/32", 22)


@pytest.mark.parametrize("kw,message", [
    ({"key_pair_name": "ops"}, "AppFleetArgs.admin_cidr = None: required when AppFleetArgs.key_pair_name is set"),
    ({"placement": "public", "load_balancer_subnet_ids": ["s"]}, "not put behind the ALB"),
    ({"load_balancer_subnet_ids": None}, "AppFleetArgs.load_balancer_subnet_ids = None: required with AppFleetArgs.placement private"),
    ({"load_balancer_allow_http": False}, "AppFleetArgs.domain_name = None: HTTPS needs a certificate: set "
     "AppFleetArgs.domain_name with AppFleetArgs.hosted_zone_id"),
    ({"placement": "public", "load_balancer_subnet_ids": None, "certificate_arn": CERT},
     "only with AppFleetArgs.placement private"),
    ({"min_size": 3, "desired_size": 2}, "AppFleetArgs.desired_size = 2: must be between AppFleetArgs.min_size \\(3\\)"),
    ({"scaling_metric": "cpu", "scaling_target": 95}, "AppFleetArgs.scaling_target = 95: must be between 10 and 90"),
    ({"scaling_metric": "memory"}, "AppFleetArgs.scaling_metric = 'memory': allowed values are cpu, requests"),
    ({"placement": "public", "load_balancer_subnet_ids": None, "min_size": 3}, "AppFleetArgs.min_size = 3: only with"),
])
def test_args_validation(kw, message):
    kw = {"load_balancer_subnet_ids": PUBLIC, "load_balancer_allow_http": True, **kw}
    if kw.get("placement") == "public":
        kw.pop("load_balancer_allow_http")
    with pytest.raises(ValueError, match=message):
        AppFleetArgs(vpc_id="v", subnet_ids=PRIVATE, database=DB, kms_key_arn=KEY, **kw)


def test_args_from_a_component_provider_dict(mocks):
    """A component provider passes plain dicts (nested ones too) and enum values as strings."""
    fleet = settle(lambda: AppFleet("app", {
        "vpc_id": "vpc-0a", "subnet_ids": PRIVATE, "kms_key_arn": KEY, "load_balancer_subnet_ids": PUBLIC,
        "load_balancer_allow_http": True, "scaling_metric": "requests",
        "database": {"writer_endpoint": DB.writer_endpoint, "reader_endpoint": DB.reader_endpoint,
                     "port": 3306, "db_name": "app", "engine": "aurora-mysql",
                     "cluster_resource_id": DB.cluster_resource_id}}))
    assert resolve(fleet.url).startswith("http://app-alb-")


def test_renamed_from_app_host_with_an_alias(recording):
    build()
    fleet = recording[1].named("app")
    assert fleet.type == "aurorakit:index:AppFleet"
    assert fleet.aliases == ["urn:pulumi:test::aurorakit::aurorakit:index:AppHost::app"], fleet.aliases


def test_two_fleets_do_not_collide(mocks):
    settle(lambda: [AppFleet(n, AppFleetArgs(vpc_id="v", subnet_ids=PRIVATE, database=DB, kms_key_arn=KEY,
                                            load_balancer_subnet_ids=PUBLIC, load_balancer_allow_http=True))
                    for n in ("a", "b")])
    names = [(r.type, r.name) for r in mocks.resources if r.custom]
    assert len(names) == len(set(names)) and all(n.startswith(("a-", "b-")) for _, n in names)


@pytest.mark.parametrize("placement", ["private", "public"])
def test_an_alarm_watches_the_writability_the_hosts_publish(mocks, placement):
    from app import metric_names
    topic = "arn:aws:sns:eu-west-1:123456789012:db-alarms"
    build(placement=placement, alarm_topic_arn=topic)
    alarm = mocks.by_name("app-db-writable-alarm").inputs
    assert (alarm["namespace"], alarm["metricName"]) == (metric_names.NAMESPACE, metric_names.WRITER_WRITABLE)
    assert alarm["dimensions"] == {metric_names.DIMENSION: DB.writer_endpoint}  # what app/health.py sends
    assert (alarm["statistic"], alarm["comparisonOperator"], alarm["threshold"]) == ("Minimum", "LessThanThreshold", 1)
    assert alarm["treatMissingData"] == "breaching" and alarm["alarmActions"] == [topic]
