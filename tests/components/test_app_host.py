"""AppHost under mocks: IMDSv2, encrypted root, IAM least privilege, exposure, user data."""
import json

import pytest

from components import AppHost, AppHostArgs, DatabaseEndpoint
import app.cloud_init as cloud_init
import components.app_host as app_host

from .conftest import resolve, settle

KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-AbCdEf"
DB = DatabaseEndpoint(writer_endpoint="db.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com",
                      reader_endpoint="db.cluster-ro-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com",
                      port=3306, db_name="app", engine="aurora-mysql",
                      cluster_resource_id="cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
E = "aws:ec2/"
ING = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGR = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


PUBLIC_SUBNETS = ["subnet-0public1", "subnet-0public2"]


def build(name="app", **kw):
    kw.setdefault("subnet_id", "subnet-0private")
    if kw.get("placement") != "public":
        kw.setdefault("load_balancer_subnet_ids", PUBLIC_SUBNETS)
        if not kw.get("certificate_arn"):
            kw.setdefault("load_balancer_allow_http", True)
    return settle(lambda: AppHost(name, AppHostArgs(vpc_id="vpc-0a1b2c3d4e5f60718", database=DB,
                                                    kms_key_arn=KEY, **kw)))


def test_secure_defaults_private_host(mocks):
    host = build()
    inst = mocks.only(E + "instance:Instance").inputs
    assert inst["metadataOptions"]["httpTokens"] == "required"
    assert inst["rootBlockDevice"]["encrypted"] is True and inst["rootBlockDevice"]["kmsKeyId"] == KEY
    assert "keyName" not in inst and inst["associatePublicIpAddress"] is False
    assert inst["subnetId"] == "subnet-0private"
    assert inst["iamInstanceProfile"] == mocks.only("aws:iam/instanceProfile:InstanceProfile").outputs["name"]
    ssm_ami = [c for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"][0]
    assert ssm_ami.args["name"] == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    assert inst["ami"] == ssm_ami.result["value"]
    assert not [r for r in mocks.resources_of(ING) if r.inputs["fromPort"] == 22]
    assert resolve(host.ssm_session_command) == \
        f"aws ssm start-session --target {resolve(host.instance_id)} --region eu-west-1"


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
    statements = json.loads(mocks.only("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    # exactly one permission: connect as the app user to this cluster (no secret, no key)
    assert statements == [{"Sid": "IamDbAuthAsAppUser", "Effect": "Allow", "Action": ["rds-db:connect"],
                           "Resource": ["arn:aws:rds-db:eu-west-1:123456789012:dbuser:"
                                        "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/webapp"]}]
    for s in statements:
        assert all("*" not in a for a in s["Action"]) and all("*" not in r for r in s["Resource"])


def test_user_data_from_render_user_data_without_secret_values(mocks):
    from app.cloud_init import render_user_data
    build(app_port=8080)
    inst = mocks.only(E + "instance:Instance").inputs
    expected = render_user_data(region="eu-west-1", db_user="app", writer_endpoint=DB.writer_endpoint,
                                reader_endpoint=DB.reader_endpoint, port=3306, db_name="app",
                                engine="aurora-mysql", app_port=8080)
    assert inst["userData"] == expected and inst["userDataReplaceOnChange"] is True
    assert "password" not in inst["userData"].lower().replace("password_file", "")


def test_public_host_opt_in(mocks):
    host = build(placement="public", load_balancer_subnet_ids=None, ingress_cidrs=("203.0.113.10/32",), subnet_id="subnet-0public")
    inst = mocks.only(E + "instance:Instance").inputs
    assert inst["associatePublicIpAddress"] is True
    rule = mocks.only(ING).inputs
    assert (rule["cidrIpv4"], rule["fromPort"], rule["toPort"]) == ("203.0.113.10/32", 80, 80)
    assert resolve(host.url).startswith("http://ec2-") and resolve(host.url).endswith(".compute.amazonaws.com")


def test_private_host_behind_alb_with_https_and_redirect(mocks):
    cert = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    host = build(load_balancer_subnet_ids=["subnet-0pub1", "subnet-0pub2"], certificate_arn=cert)
    lb = mocks.only("aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["dropInvalidHeaderFields"] is True and lb.inputs["internal"] is False
    assert lb.inputs["subnets"] == ["subnet-0pub1", "subnet-0pub2"]
    listeners = {l.inputs["port"]: l.inputs for l in mocks.resources_of("aws:lb/listener:Listener")}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["certificateArn"] == cert
    assert listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"
    tg = mocks.only("aws:lb/targetGroup:TargetGroup").inputs
    assert tg["port"] == 80 and tg["healthCheck"]["path"] == "/healthz"
    sgs = {r.name: r for r in mocks.resources_of(E + "securityGroup:SecurityGroup")}
    host_sg, alb_sg = sgs.pop("app-sg"), sgs.pop("app-alb-sg")   # by name: registration order varies
    assert not sgs
    to_host = [r.inputs for r in mocks.resources_of(ING) if r.inputs["securityGroupId"] == host_sg.id]
    assert to_host == [{**to_host[0], "referencedSecurityGroupId": alb_sg.id, "fromPort": 80, "toPort": 80}]
    alb_in = sorted(r.inputs["fromPort"] for r in mocks.resources_of(ING) if r.inputs["securityGroupId"] == alb_sg.id)
    assert alb_in == [80, 443]
    alb_out = [r.inputs for r in mocks.resources_of(EGR) if r.inputs["securityGroupId"] == alb_sg.id]
    assert alb_out[0]["referencedSecurityGroupId"] == host_sg.id and alb_out[0]["fromPort"] == 80
    assert resolve(host.url).startswith("https://app-alb-") and resolve(host.url).endswith(".elb.amazonaws.com")


def test_ssh_is_explicit_opt_in(mocks):
    build(key_pair_name="ops", admin_cidr="198.51.100.7/32", placement="public")
    assert mocks.only(E + "instance:Instance").inputs["keyName"] == "ops"
    rule = mocks.only(ING).inputs
    assert (rule["cidrIpv4"], rule["fromPort"]) == ("198.51.100.7/32", 22)


def test_graviton_and_ami_override(mocks):
    build(instance_type="t4g.small")
    names = [c.args["name"] for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"]
    assert names == ["/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"]


def test_ami_override_skips_the_lookup(mocks):
    build(ami_id="ami-0123456789abcdef0")
    assert mocks.only(E + "instance:Instance").inputs["ami"] == "ami-0123456789abcdef0"
    assert not [c for c in mocks.calls if c.token == "aws:ssm/getParameter:getParameter"]


@pytest.mark.parametrize("kw,message", [
    ({"key_pair_name": "ops"}, "AppHostArgs.admin_cidr = None: required when AppHostArgs.key_pair_name is set"),
    ({"placement": "public", "load_balancer_subnet_ids": ["s"]}, "not put behind the ALB"),
    ({"load_balancer_subnet_ids": None}, "AppHostArgs.load_balancer_subnet_ids = None: required with AppHostArgs.placement private"),
    ({"load_balancer_allow_http": False}, "AppHostArgs.certificate_arn = None: HTTPS needs an ACM certificate"),
    ({"placement": "public", "load_balancer_subnet_ids": None,
      "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
     "only with AppHostArgs.placement private"),
])
def test_args_validation(kw, message):
    kw = {"load_balancer_subnet_ids": ["p1", "p2"], "load_balancer_allow_http": True, **kw}
    if kw.get("placement") == "public":
        kw.pop("load_balancer_allow_http")
    with pytest.raises(ValueError, match=message):
        AppHostArgs(vpc_id="v", subnet_id="s", database=DB, kms_key_arn=KEY, **kw)


def test_two_hosts_do_not_collide_and_outputs_resolve(mocks):
    a, b = settle(lambda: (AppHost("a", AppHostArgs(vpc_id="v", subnet_id="s", database=DB, kms_key_arn=KEY,
                                                    placement="public")),
                           AppHost("b", AppHostArgs(vpc_id="v", subnet_id="s", database=DB, kms_key_arn=KEY,
                                                    load_balancer_subnet_ids=["p1", "p2"],
                                                    load_balancer_allow_http=True))))
    names = [(r.type, r.name) for r in mocks.resources if r.custom]
    assert len(names) == len(set(names)) and all(n.startswith(("a-", "b-")) for _, n in names)
    assert resolve(a.url).startswith("http://ec2-") and resolve(b.url).startswith("http://b-alb-")
    assert resolve(a.role_arn).startswith("arn:aws:iam::123456789012:role/a-role-")
    assert resolve(b.private_ip).startswith("10.")


def test_user_data_limit_is_defined_once_and_enforced_by_the_renderer_the_host_uses(monkeypatch):
    assert not hasattr(app_host, "USER_DATA_LIMIT") and cloud_init.USER_DATA_LIMIT == 16384
    assert app_host.render_user_data is cloud_init.render_user_data
    kw = dict(region="eu-west-1", db_user="app", writer_endpoint=DB.writer_endpoint,
              reader_endpoint=DB.reader_endpoint, port=3306, db_name="app", engine="aurora-mysql")
    size = len(cloud_init.render_user_data(**kw).encode())
    monkeypatch.setattr(cloud_init, "USER_DATA_LIMIT", size - 1)
    with pytest.raises(ValueError, match=f"user data is {size} bytes; EC2 allows {size - 1}"):
        cloud_init.render_user_data(**kw)
