"""The estimated monthly baseline: arithmetic on dev and prod from counts derived by hand from
their stack config, recorded resources driving it (an auto scaling group at desired capacity),
unpriced things reported, and the README's figures current."""
from google.protobuf import struct_pb2

from preflight.cost import estimate, load_prices, markdown
from preflight.recorder import Registration

PRICES = load_prices()
EU = PRICES["regions"]["eu-west-1"]
H = PRICES["hours_per_month"]


def price(key, sub=None):
    entry = EU[key][sub] if sub else EU[key]
    return entry["price"]


def lines(est) -> dict:
    return {line.item: line for line in est.lines}


def expected_total(parts) -> float:
    return round(sum(round(p, 2) for p in parts), 2)


def test_dev_arithmetic(project_checks):
    est = project_checks["dev"].cost
    assert est.region == "eu-west-1" and est.checked == str(PRICES["checked"]) and est.hours == 730
    got = lines(est)
    # Pulumi.dev.yaml: Serverless v2 writer only (min 0.5 ACU), t3.micro public host with the
    # default 16 GiB root volume, natMode none, no interface endpoints, no ALB; the cluster's
    # CMK + the flow-log CMK; the RDS-managed master secret; CPU, memory, connections alarms and
    # the database-writability alarm;
    # the forum's 3 tables provisioned at 1 RCU/1 WCU each and 1/1 on the Comment table's index.
    parts = [0.5 * H * price("aurora_acu_hour"), H * price("ec2_hour", "t3.micro"),
             16 * price("ebs_gp3_gb_month"), 1 * H * price("public_ipv4_hour"),
             4 * H * price("dynamodb_rcu_hour"), 4 * H * price("dynamodb_wcu_hour"),
             2 * price("kms_key_month"), 1 * price("secret_month"), 4 * price("alarm_month")]
    assert est.total == expected_total(parts)
    assert got["public IPv4 addresses"].resources == ("app-instance",)
    assert got["Secrets Manager secrets"].resources == ("db-cluster (RDS-managed master secret)",)
    assert not any("NAT" in item or "endpoint" in item or "Load Balancer" in item for item in got)
    assert est.missing == [] and est.notes == []


def test_prod_arithmetic(project_checks):
    est = project_checks["prod"].cost
    got = lines(est)
    # Pulumi.prod.yaml: 3 AZs with per-AZ NAT (3 gateways, 3 EIPs), 6 interface endpoints in 3
    # AZs, writer + 2 db.r7g.large readers, an Auto Scaling group of 2 (desired) t3.small hosts
    # with 20 GiB each behind an internet-facing ALB in the 3 public subnets (3 public addresses),
    # 2 CMKs, 1 secret, 4 DB alarms (replica lag) + 2 tier alarms + the writability alarm; the forum's 3 tables and the
    # Comment table's index at 5 RCU / 5 WCU each (the auto scaling minimum).
    parts = [3 * H * price("nat_gateway_hour"), 18 * H * price("interface_endpoint_az_hour"),
             3 * H * price("aurora_instance_hour", "db.r7g.large"), 2 * H * price("ec2_hour", "t3.small"),
             40 * price("ebs_gp3_gb_month"), H * price("alb_hour"), 6 * H * price("public_ipv4_hour"),
             20 * H * price("dynamodb_rcu_hour"), 20 * H * price("dynamodb_wcu_hour"),
             2 * price("kms_key_month"), price("secret_month"), 7 * price("alarm_month")]
    assert est.total == expected_total(parts)
    assert got["NAT gateways"].count == 3 and got["interface endpoints (6, per AZ)"].count == 18
    assert got["Aurora instances db.r7g.large"].resources == ("db-reader-1", "db-reader-2", "db-writer")
    assert got["Aurora instances db.r7g.large"].status == "unconfirmed"   # said, not hidden
    assert len(got["public IPv4 addresses"].resources) == 6
    assert got["EC2 t3.small"].resources == ("app-fleet", "app-fleet")
    assert est.notes == ["reader autoscaling (db-readers-target) may add up to 2 reader(s) under load, "
                         "each at the reader's instance price; not in the baseline"]
    assert est.total > 10 * project_checks["dev"].cost.total


def reg(rtype, name, deps=None, **inputs):
    s = struct_pb2.Struct()
    s.update(inputs)
    return Registration(f"urn:pulumi:x::p::{rtype}::{name}", rtype, name, True, inputs=s,
                        property_dependencies=deps or {})


def test_it_follows_what_the_program_builds():
    template = reg("aws:ec2/launchTemplate:LaunchTemplate", "fleet-lt", instanceType="t4g.small",
                   blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 30, "volumeType": "gp3"}}])
    group = reg("aws:autoscaling/group:Group", "fleet", {"launchTemplate": [template.urn]},
                desiredCapacity=3, minSize=2, maxSize=6, launchTemplate={"id": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    eip = reg("aws:ec2/eip:Eip", "nat-eip", domain="vpc")
    nlb = reg("aws:lb/loadBalancer:LoadBalancer", "nlb", loadBalancerType="network", subnets=["a", "b"])
    proxy = reg("aws:rds/proxy:Proxy", "proxy")
    est = estimate([template, group, eip, nlb, proxy], "eu-west-1")
    got = lines(est)
    assert got["EC2 t4g.small"].count == 3 and got["EC2 t4g.small"].monthly == round(3 * H * price("ec2_hour", "t4g.small"), 2)
    assert got["EBS gp3 GB (3 volume(s))"].count == 90
    assert got["public IPv4 addresses"].count == 1
    assert [item for item, _ in est.missing] == ["load balancer nlb", "RDS Proxy (billed per vCPU/ACU of its targets)"]


def test_a_region_without_prices_is_said_not_guessed():
    est = estimate([reg("aws:kms/key:Key", "k")], "ap-south-1")
    assert est.lines == [] and est.total is None  # not $0
    from preflight.cost import render_lines, to_json
    assert render_lines(est)[0].endswith("h/month): n/a (no prices for this region)")
    assert to_json(est)["monthlyTotal"] is None
    assert est.missing[0][1].startswith("prices.yaml has no prices for region ap-south-1")


def test_every_price_has_a_known_status_and_source():
    statuses = {"aws-page", "price-list", "billing", "third-party", "unconfirmed"}
    for region, table in PRICES["regions"].items():
        for key, entry in table.items():
            for item in (entry.values() if "price" not in entry else [entry]):
                assert item["status"] in statuses and item["source"] in PRICES["sources"], (region, key)
                assert item["price"] > 0
    assert {"eu-west-1", "us-east-1"} <= set(PRICES["regions"])


def test_the_readme_shows_the_current_dev_and_prod_estimates(project_checks):
    from docs.sync_readme import README

    block = markdown({s: project_checks[s].cost for s in ("dev", "prod")})
    assert block in README.read_text(), "README.md cost block is stale: run `make docs`"
