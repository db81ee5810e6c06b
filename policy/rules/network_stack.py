"""VPC and subnet rules that need the whole stack (flow logs, default SG, subnet exposure)."""
from __future__ import annotations

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, UNKNOWN, items
from .routes import SUBNET, VPC, is_public
from .stack import SUBNET_GROUP, Result
from .stackview import StackView, label, stack_rule

FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def _public_ip_on_launch(view: StackView, config: dict) -> Result:
    for subnet in view.of(SUBNET):
        value = view.get(subnet, "mapPublicIpOnLaunch")
        if view.is_unknown(value, subnet, "mapPublicIpOnLaunch") or value is not True:
            continue
        if view.referrers(subnet, SUBNET_GROUP, "subnetIds"):
            yield (f"{label(subnet)} holds databases but maps public IPs on launch: set "
                   "`mapPublicIpOnLaunch: false`."), subnet.urn
        elif not is_public(view, subnet):
            yield (f"{label(subnet)} is private (no internet-gateway route) but maps public IPs "
                   "on launch: set `mapPublicIpOnLaunch: false`."), subnet.urn


def _flow_logs(view: StackView, config: dict) -> Result:
    for vpc in view.of(VPC):
        if not view.referrers(vpc, FLOW_LOG, "vpcId"):
            yield (f'VPC "{vpc.name}" has no flow log: add an aws.ec2.FlowLog with '
                   "`vpcId` from this VPC."), vpc.urn


def _default_sg(view: StackView, config: dict) -> Result:
    for vpc in view.of(VPC):
        if not view.referrers(vpc, DEFAULT_SG, "vpcId"):
            yield (f'VPC "{vpc.name}" leaves its default security group unmanaged (it allows '
                   "all traffic between members): adopt it with aws.ec2.DefaultSecurityGroup "
                   "and no rules."), vpc.urn
    for sg in view.of(DEFAULT_SG):
        for direction in ("ingress", "egress"):
            rules = view.get(sg, direction)
            if rules is UNKNOWN:
                view.note(f"{label(sg)} {direction}")
            elif items(rules):
                yield (f'Default security group "{sg.name}" must have no {direction} rules: '
                       f"remove its `{direction}` entries."), sg.urn


RULES = [
    stack_rule(
        name="subnet-no-public-ip-on-launch", types=(SUBNET,), check=_public_ip_on_launch,
        description="Checks whether private, isolated and database subnets do not map public IPs "
                    "on launch (a subnet is public only if it routes to an internet gateway).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_130", "EC2.15"),
        unknown="unknown mapPublicIpOnLaunch: advisory 'not checked' for that subnet"),
    stack_rule(
        name="vpc-flow-logs-enabled", types=(VPC,), check=_flow_logs,
        description="Checks whether every VPC has a flow log.",
        level=ADVISORY, severity=Severity.MEDIUM, anchors=("CKV2_AWS_11", "EC2.6"),
        unknown="uses dependencies only; never blocked by unknown values"),
    stack_rule(
        name="vpc-default-security-group-closed", types=(VPC, DEFAULT_SG), check=_default_sg,
        description="Checks whether every VPC's default security group is managed and has no "
                    "rules.",
        level=ADVISORY, severity=Severity.MEDIUM, anchors=("CKV2_AWS_12", "EC2.2"),
        unknown="unknown rule lists: advisory 'not checked'"),
]
