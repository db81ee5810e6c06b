"""An ESTIMATED monthly baseline cost of what the program declares, from `prices.yaml`.

Computed from the RECORDED resources (so it follows whatever the program builds): NAT
gateways, interface endpoints per AZ, Aurora instances by class or the Serverless v2 minimum
ACU, EC2 hosts (and auto scaling groups at their desired capacity) with their gp3 volumes,
ALBs, public IPv4 addresses (EIPs, public hosts, one per internet-facing ALB subnet), KMS keys,
secrets (including the one RDS manages for the master password) and CloudWatch alarms.
Usage-based charges are listed as excluded, priced resources with no price in the table as not
estimated: the total is a floor for a running stack, never the bill.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from google.protobuf import json_format

PRICES = Path(__file__).with_name("prices.yaml")
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class Line:
    item: str
    count: float
    rate: str            # e.g. "730 h × $0.048"
    monthly: float
    status: str          # the price's status in prices.yaml (worst of the line's prices)
    resources: tuple[str, ...] = ()


@dataclass
class Estimate:
    region: str
    checked: str
    currency: str
    hours: int
    lines: list = field(default_factory=list)
    missing: list = field(default_factory=list)     # (item, why): present, but not priced
    notes: list = field(default_factory=list)       # on top of the baseline, e.g. autoscaling
    excluded: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    priced: bool = True                             # False: no prices for the region at all

    @property
    def total(self) -> Optional[float]:
        """The baseline in the currency; None when the region has no prices (not $0)."""
        return round(sum(line.monthly for line in self.lines), 2) if self.priced else None

    @property
    def unconfirmed(self) -> list[str]:
        return [line.item for line in self.lines if line.status == "unconfirmed"]


_STATUS_ORDER = ("aws-page", "price-list", "billing", "third-party", "unconfirmed")


def load_prices(path: Path = PRICES) -> dict:
    import yaml
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _props(reg) -> dict:
    return json_format.MessageToDict(reg.inputs) if reg.inputs is not None else {}


def _num(value: Any) -> Optional[float]:
    if isinstance(value, bool) or value in (None, _UNKNOWN):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _Prices:
    def __init__(self, table: dict, region: str):
        self.table = table.get("regions", {}).get(region)

    def get(self, key: str, sub: Optional[str] = None) -> Optional[dict]:
        if self.table is None:
            return None
        entry = self.table.get(key)
        if sub is not None:
            entry = (entry or {}).get(sub)
        return entry if isinstance(entry, dict) and "price" in entry else None


def _money(value: Optional[float]) -> str:
    """Totals in cents; a unit price below 10 cents with every digit it has (up to 6 decimals)."""
    if value is None:
        return "n/a (no prices for this region)"
    return f"${value:,.6f}".rstrip("0").rstrip(".") if value < 0.1 else f"${value:,.2f}"


class _Builder:
    def __init__(self, prices: _Prices, est: Estimate):
        self.prices, self.est = prices, est

    def hourly(self, item: str, key: str, count: float, names, sub: Optional[str] = None) -> None:
        self._add(item, key, count, names, sub, hourly=True)

    def monthly(self, item: str, key: str, count: float, names, sub: Optional[str] = None) -> None:
        self._add(item, key, count, names, sub, hourly=False)

    def _add(self, item, key, count, names, sub, hourly) -> None:
        if not count:
            return
        entry = self.prices.get(key, sub)
        if entry is None:
            what = f"{key}[{sub}]" if sub else key
            self.est.missing.append((item, f"no {self.est.region} price for {what} in prices.yaml"))
            return
        price = float(entry["price"])
        per = self.est.hours * price if hourly else price
        rate = (f"{self.est.hours} h × {_money(price)}" if hourly else f"{_money(price)}/month")
        qty = f"{count:g} × " if count != 1 else ""
        self.est.lines.append(Line(item, count, qty + rate, round(count * per, 2),
                                   entry.get("status", "unconfirmed"), tuple(sorted(names))))


def estimate(registrations: list, region: str, table: Optional[dict] = None) -> Estimate:
    """The monthly baseline of `registrations` (preflight's recorded resources) in `region`."""
    table = table if table is not None else load_prices()
    est = Estimate(region, str(table.get("checked", "?")), table.get("currency", "USD"),
                   int(table.get("hours_per_month", 730)), excluded=list(table.get("excluded", [])),
                   sources=dict(table.get("sources", {})))
    prices = _Prices(table, region)
    if prices.table is None:
        est.priced = False
        est.missing.append(("everything", f"prices.yaml has no prices for region {region} "
                                          f"(it has {', '.join(sorted(table.get('regions', {})))})"))
        return est
    b = _Builder(prices, est)
    by_type: dict[str, list] = collections.defaultdict(list)
    by_urn = {r.urn: r for r in registrations}
    for r in registrations:
        if r.custom:
            by_type[r.type].append(r)
    props = {r.urn: _props(r) for rs in by_type.values() for r in rs}
    public_ips: list[str] = [r.name for r in by_type["aws:ec2/eip:Eip"]]

    b.hourly("NAT gateways", "nat_gateway_hour", len(by_type["aws:ec2/natGateway:NatGateway"]),
             [r.name for r in by_type["aws:ec2/natGateway:NatGateway"]])
    endpoints = [r for r in by_type["aws:ec2/vpcEndpoint:VpcEndpoint"]
                 if props[r.urn].get("vpcEndpointType") == "Interface"]
    azs = sum(max(len(props[r.urn].get("subnetIds") or []), 1) for r in endpoints)
    b.hourly(f"interface endpoints ({len(endpoints)}, per AZ)", "interface_endpoint_az_hour", azs,
             [r.name for r in endpoints])
    _database(b, by_type, props, by_urn)
    _hosts(b, by_type, props, by_urn, public_ips)
    _load_balancers(b, by_type, props, public_ips)
    b.hourly("public IPv4 addresses", "public_ipv4_hour", len(public_ips), public_ips)
    _dynamodb(b, by_type, props)
    keys = by_type["aws:kms/key:Key"]
    b.monthly("KMS keys", "kms_key_month", len(keys), [r.name for r in keys])
    secrets = [r.name for r in by_type["aws:secretsmanager/secret:Secret"]]
    secrets += [f"{r.name} (RDS-managed master secret)" for r in by_type["aws:rds/cluster:Cluster"]
                if props[r.urn].get("manageMasterUserPassword") is True]
    b.monthly("Secrets Manager secrets", "secret_month", len(secrets), secrets)
    alarms = by_type["aws:cloudwatch/metricAlarm:MetricAlarm"]
    b.monthly("CloudWatch alarms", "alarm_month", len(alarms), [r.name for r in alarms])
    for rtype, what in (("aws:rds/proxy:Proxy", "RDS Proxy (billed per vCPU/ACU of its targets)"),
                        ("aws:rds/instance:Instance", "RDS (non-Aurora) instances"),
                        ("aws:ec2/transitGateway:TransitGateway", "transit gateways")):
        if by_type[rtype]:
            est.missing.append((what, "not modelled by preflight's estimate"))
    return est


def _dynamodb(b: _Builder, by_type, props) -> None:
    """Provisioned read/write capacity units of the tables and their indexes (the minimum when
    auto scaling; on-demand tables are usage-based, excluded)."""
    units = {"read": 0.0, "write": 0.0}
    tables: dict[str, list[str]] = {"read": [], "write": []}  # the tables counted in each
    for r in by_type["aws:dynamodb/table:Table"]:
        p = props[r.urn]
        if p.get("billingMode") != "PROVISIONED":
            continue
        for index in [p, *(p.get("globalSecondaryIndexes") or [])]:
            for kind in units:
                value = _num(index.get(f"{kind}Capacity"))
                if value:
                    units[kind] += value
                    tables[kind].append(r.name)
    for kind, count in units.items():
        if count:
            b.hourly(f"DynamoDB provisioned {kind} capacity units", f"dynamodb_{kind[0]}cu_hour", count,
                     sorted(set(tables[kind])))


def _database(b: _Builder, by_type, props, by_urn) -> None:
    instances = by_type["aws:rds/clusterInstance:ClusterInstance"]
    by_class: dict[str, list[str]] = collections.defaultdict(list)
    acu_floor, serverless = 0.0, []
    for r in instances:
        klass = props[r.urn].get("instanceClass")
        if klass == "db.serverless":
            deps = r.property_dependencies.get("clusterIdentifier") or []
            cluster = by_urn.get(deps[0]) if deps else None
            floor = _num((props.get(cluster.urn, {}) if cluster else {})
                         .get("serverlessv2ScalingConfiguration", {}).get("minCapacity"))
            if floor is None:
                b.est.missing.append((f"Aurora Serverless v2 instance {r.name}",
                                      "its cluster's minimum ACU is not known"))
                continue
            acu_floor += floor
            serverless.append(r.name)
        elif isinstance(klass, str) and klass != _UNKNOWN:
            by_class[klass].append(r.name)
        else:
            b.est.missing.append((f"Aurora instance {r.name}", "instance class not known"))
    for klass in sorted(by_class):
        b.hourly(f"Aurora instances {klass}", "aurora_instance_hour", len(by_class[klass]),
                 by_class[klass], sub=klass)
    if serverless:
        b.hourly(f"Aurora Serverless v2 minimum ACU ({len(serverless)} instance(s))",
                 "aurora_acu_hour", acu_floor, serverless)
    for target in by_type["aws:appautoscaling/target:Target"]:
        p = props[target.urn]
        if p.get("scalableDimension") != "rds:cluster:ReadReplicaCount":
            continue
        lo, hi = _num(p.get("minCapacity")), _num(p.get("maxCapacity"))
        if lo is not None and hi is not None and hi > lo:
            b.est.notes.append(f"reader autoscaling ({target.name}) may add up to {hi - lo:g} "
                               "reader(s) under load, each at the reader's instance price; not in "
                               "the baseline")


def _template_of(reg, props, by_urn) -> dict:
    """The launch template an instance or group is launched from (its props; {} when none)."""
    deps = [u for u in reg.property_dependencies.get("launchTemplate") or [] if "launchTemplate:LaunchTemplate::" in u]
    return props.get(deps[0], {}) if deps else {}


def _public_host(p: dict, template: dict, reg, props, by_urn) -> bool:
    if p.get("associatePublicIpAddress") is not None:
        return p.get("associatePublicIpAddress") is True
    nics = template.get("networkInterfaces") or []
    if nics and isinstance(nics[0], dict) and nics[0].get("associatePublicIpAddress") is not None:
        return str(nics[0]["associatePublicIpAddress"]).lower() == "true"
    deps = [u for u in reg.property_dependencies.get("subnetId") or [] if "ec2/subnet:Subnet::" in u]
    subnet = by_urn.get(deps[0]) if deps else None
    return bool(subnet is not None and props.get(subnet.urn, {}).get("mapPublicIpOnLaunch") is True)


def _template_volumes(template: dict) -> list[dict]:
    return [m.get("ebs") or {} for m in template.get("blockDeviceMappings") or [] if isinstance(m, dict)]


def _hosts(b: _Builder, by_type, props, by_urn, public_ips: list) -> None:
    by_itype: dict[str, list[str]] = collections.defaultdict(list)
    gb, volumes = 0.0, []
    for r in by_type["aws:ec2/instance:Instance"]:
        p = props[r.urn]
        template = _template_of(r, props, by_urn)  # what the instance does not set comes from it
        by_itype[str(p.get("instanceType") or template.get("instanceType"))].append(r.name)
        devices = [p.get("rootBlockDevice") or {}, *(p.get("ebsBlockDevices") or [])] \
            if p.get("rootBlockDevice") or not template else _template_volumes(template)
        for dev in devices:
            size = _num(dev.get("volumeSize"))
            if size is None:
                b.est.missing.append((f"EBS volume of {r.name}", "size from the AMI (not declared)"))
            elif dev.get("volumeType", "gp3") != "gp3":
                b.est.missing.append((f"EBS volume of {r.name}", f"{dev.get('volumeType')} not priced"))
            else:
                gb += size
                volumes.append(r.name)
        if _public_host(p, template, r, props, by_urn):
            public_ips.append(r.name)
    for group in by_type["aws:autoscaling/group:Group"]:
        p = props[group.urn]
        count = _num(p.get("desiredCapacity"))
        count = _num(p.get("minSize")) if count is None else count
        tp = _template_of(group, props, by_urn)
        itype = tp.get("instanceType")
        if count is None or not isinstance(itype, str) or itype == _UNKNOWN:
            b.est.missing.append((f"auto scaling group {group.name}",
                                  "desired capacity or launch-template instance type not known"))
            continue
        by_itype[itype].extend([group.name] * int(count))
        for ebs in _template_volumes(tp):
            size = _num(ebs.get("volumeSize"))
            if size is not None and ebs.get("volumeType", "gp3") == "gp3":
                gb += size * count
                volumes.extend([group.name] * int(count))
    for itype in sorted(by_itype):
        b.hourly(f"EC2 {itype}", "ec2_hour", len(by_itype[itype]), by_itype[itype], sub=itype)
    b.monthly(f"EBS gp3 GB ({len(volumes)} volume(s))", "ebs_gp3_gb_month", gb, volumes)


def _load_balancers(b: _Builder, by_type, props, public_ips: list) -> None:
    albs = []
    for r in by_type["aws:lb/loadBalancer:LoadBalancer"] + by_type["aws:alb/loadBalancer:LoadBalancer"]:
        p = props[r.urn]
        if p.get("loadBalancerType", "application") != "application":
            b.est.missing.append((f"load balancer {r.name}", f"{p.get('loadBalancerType')} not priced"))
            continue
        albs.append(r.name)
        if not p.get("internal"):
            subnets = p.get("subnets") or p.get("subnetMappings")
            # unknown in a preview when the list is computed (e.g. rides with the internet route):
            # then the subnets it depends on
            nodes = len(subnets) if isinstance(subnets, list) else sum(
                1 for urn in r.property_dependencies.get("subnets", []) if "ec2/subnet:Subnet::" in urn)
            public_ips.extend([f"{r.name} (node {i + 1})" for i in range(nodes)])
    b.hourly("Application Load Balancers", "alb_hour", len(albs), albs)


def render_lines(est: Estimate) -> list[str]:
    """Plain-text lines (console and README): the estimate, what it leaves out, its sources."""
    out = [f"ESTIMATED monthly baseline, {est.region}, list prices checked {est.checked} "
           f"({est.currency}, on-demand, {est.hours} h/month): {_money(est.total)}"]
    for line in est.lines:
        flag = " (price unconfirmed)" if line.status == "unconfirmed" else ""
        out.append(f"  {line.item}: {line.rate} = {_money(line.monthly)}{flag}")
    for item, why in est.missing:
        out.append(f"  not estimated: {item}: {why}")
    for note in est.notes:
        out.append(f"  on top: {note}")
    out.append("  excluded (usage-based): " + "; ".join(est.excluded))
    return out


def to_json(est: Estimate) -> dict:
    return {
        "estimate": True, "region": est.region, "pricesChecked": est.checked,
        "currency": est.currency, "hoursPerMonth": est.hours, "monthlyTotal": est.total,
        "lines": [{"item": ln.item, "count": ln.count, "rate": ln.rate, "monthly": ln.monthly,
                   "priceStatus": ln.status, "resources": list(ln.resources)} for ln in est.lines],
        "notEstimated": [{"item": i, "why": w} for i, w in est.missing],
        "notes": list(est.notes), "excluded": list(est.excluded),
        "sources": dict(sorted(est.sources.items())),
    }


def markdown(estimates: dict) -> str:
    """The README's table: one column per stack (the same region and price table for all)."""
    stacks = list(estimates)
    first = estimates[stacks[0]]
    items: list[str] = []
    for est in estimates.values():
        items += [line.item for line in est.lines if line.item not in items]
    flag = {s: {ln.item: ln for ln in est.lines} for s, est in estimates.items()}
    star = "\\*"
    rows = [f"ESTIMATED monthly baseline in {first.region}, list prices checked {first.checked} "
            f"(`preflight/prices.yaml`: {first.currency}, on-demand, {first.hours} h/month; "
            "\\* = price not confirmed on an AWS source). Usage-based charges (data processing and "
            "transfer, log ingestion, Aurora storage and I/O, backups) are excluded.", "",
            "| item | " + " | ".join(stacks) + " |", "|---|" + "---|" * len(stacks)]
    for item in items:
        cells = []
        for s in stacks:
            line = flag[s].get(item)
            cells.append("—" if line is None else
                         f"{line.rate} = {_money(line.monthly)}{star if line.status == 'unconfirmed' else ''}")
        rows.append(f"| {item} | " + " | ".join(cells) + " |")
    rows.append("| **total** | " + " | ".join(f"**{_money(e.total)}**" for e in estimates.values()) + " |")
    for s, est in estimates.items():
        rows += [f"\n{s}, not estimated: {i} ({w})." for i, w in est.missing]
        rows += [f"\n{s}, on top of the baseline: {n}." for n in est.notes]
    return "\n".join(rows)


def readme_block(stacks=("dev", "prod")) -> str:
    """`make docs`: the estimate of each project stack, from its recorded resources."""
    from .run import REPO, record
    from .stackconfig import load_stack_config

    return markdown({s: estimate(record(s), load_stack_config(s, REPO).get("aws:region", "eu-west-1"))
                     for s in stacks})
