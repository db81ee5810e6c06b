"""EC2 hosts as the stack declares them: instances and Spot Instance requests, Auto Scaling
groups, EC2 Fleets and Spot Fleet requests (through their launch templates, launch
configurations or Spot Fleet launch specifications), and the Elastic IPs associated with them.
Which security groups the hosts carry, and which hosts end up with a public address by any route.

Relations come from property dependencies only (ids are unknown in preview): an ASG names its
template in `launchTemplate` / `mixedInstancesPolicy` / `launchConfiguration`, its subnets in
`vpcZoneIdentifiers`; an EC2 Fleet / Spot Fleet its templates and (override) subnets in
`launchTemplateConfigs`, a Spot Fleet its inline hosts' subnets, security groups and profiles
in `launchSpecifications`; an instance (or Spot Instance request) its subnet in `subnetId` (or
its template's interface); an EIP its instance in `instance` (`instanceId` on an
EipAssociation) or an interface attached to one (`networkInterface` / `networkInterfaceId`).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import UNKNOWN, false, is_set, items, text, true
from .stackview import StackView, label

INSTANCE = "aws:ec2/instance:Instance"
SPOT_INSTANCE = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
FLEET = "aws:ec2/fleet:Fleet"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
INSTANCES = (INSTANCE, SPOT_INSTANCE)       # one host, an instance's inputs
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
ASG = "aws:autoscaling/group:Group"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
ENI = "aws:ec2/networkInterface:NetworkInterface"
ENI_ATTACHMENT = "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
GROUPS = (ASG, FLEET, SPOT_FLEET)           # many hosts, from templates (or specifications)
HOST_TYPES = (*INSTANCES, *GROUPS)          # what launches instances
TEMPLATES = (LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION)
_INSTANCE_SG_KEYS = ("vpcSecurityGroupIds", "securityGroups")
_SG_KEYS = {INSTANCE: _INSTANCE_SG_KEYS, SPOT_INSTANCE: _INSTANCE_SG_KEYS,
            LAUNCH_TEMPLATE: ("vpcSecurityGroupIds", "networkInterfaces", "securityGroupNames"),
            LAUNCH_CONFIGURATION: ("securityGroups",), SPOT_FLEET: ("launchSpecifications",),
            ASG: (), FLEET: ()}


def templates(view: StackView, host: Any) -> list:
    """The launch templates/configurations an instance or group launches from (of this
    stack)."""
    if host.resource_type in INSTANCES:
        return view.deps(host, "launchTemplate", LAUNCH_TEMPLATE)
    if host.resource_type == ASG:
        return (view.deps(host, "launchTemplate", LAUNCH_TEMPLATE)
                + view.deps(host, "mixedInstancesPolicy", LAUNCH_TEMPLATE)
                + view.deps(host, "launchConfiguration", LAUNCH_CONFIGURATION))
    if host.resource_type in (FLEET, SPOT_FLEET):
        return view.deps(host, "launchTemplateConfigs", LAUNCH_TEMPLATE)
    return []


def security_groups(view: StackView, resource: Any) -> list:
    """Security groups of this stack that an instance/template/group attaches (a group's are
    its templates' and, for a Spot Fleet, its launch specifications')."""
    found = [sg for key in _SG_KEYS.get(resource.resource_type, ())
             for sg in view.deps(resource, key, SECURITY_GROUP)]
    if resource.resource_type in GROUPS or (resource.resource_type in INSTANCES and not found):
        found += [sg for t in templates(view, resource) for sg in security_groups(view, t)]
    return found


def _interfaces(view: StackView, template: Any) -> list[dict]:
    return [n for n in items(view.get(template, "networkInterfaces")) if isinstance(n, dict)]


def _template_public_ip(view: StackView, template: Any) -> Any:
    """True / False (asked explicitly) / None (the subnet decides) / UNKNOWN (noted)."""
    if template.resource_type == LAUNCH_CONFIGURATION:
        values = [view.get(template, "associatePublicIpAddress")]
        where = "associatePublicIpAddress"
    else:
        values = [n.get(k) for n in _interfaces(view, template)
                  for k in ("associatePublicIpAddress", "associateCarrierIpAddress")]
        where = "networkInterfaces[].associatePublicIpAddress"
    if any(v is UNKNOWN for v in values) or view.get(template, "networkInterfaces") is UNKNOWN:
        view.note(f"{label(template)} {where}")
        return UNKNOWN
    if any(true(v) for v in values):
        return True
    return False if any(false(v) for v in values) else None


def _subnet_reasons(view: StackView, host: Any, subnets: list, via: str,
                    verb: str = "gets") -> Iterable[str]:
    for subnet in subnets:
        mapped = view.get(subnet, "mapPublicIpOnLaunch")
        if not view.is_unknown(mapped, subnet, "mapPublicIpOnLaunch") and true(mapped):
            yield (f"{verb} a public IP from {label(subnet)} (`mapPublicIpOnLaunch: true`){via}")


def _instance_reasons(view: StackView, host: Any) -> Iterable[str]:
    explicit = view.get(host, "associatePublicIpAddress")
    if view.is_unknown(explicit, host, "associatePublicIpAddress") or false(explicit):
        return  # an explicit false wins over the subnet's default
    if true(explicit) or text(view.get(host, "publicIp")):
        # after an update the outputs say what AWS did, whatever the inputs asked for
        yield "has a public IP address (`associatePublicIpAddress` / `publicIp`)"
        return
    if is_set(view.get(host, "networkInterfaces")):
        return  # attached interfaces decide (their EIPs are checked separately)
    subnets = view.deps(host, "subnetId", SUBNET)
    if view.get(host, "subnetId") in (None, "") and is_set(view.get(host, "launchTemplate")):
        for template in templates(view, host):  # the template's interface decides
            asked = _template_public_ip(view, template)
            if asked is True:
                yield f"asks for a public IP through {label(template)}"
            elif asked is None:
                yield from _subnet_reasons(view, host, view.deps(
                    template, "networkInterfaces", SUBNET), f" via {label(template)}")
        return
    if not subnets and view.get(host, "subnetId") in (None, ""):
        yield ("has no `subnetId`: it launches in the default VPC, whose subnets give every "
               "instance a public IP")
    yield from _subnet_reasons(view, host, subnets, "")


def _spec_reasons(view: StackView, fleet: Any) -> Iterable[str]:
    """A Spot Fleet's inline launch specifications (each one an instance's network inputs)."""
    specs = view.get(fleet, "launchSpecifications")
    if view.is_unknown(specs, fleet, "launchSpecifications"):
        return
    subnet_decides = False
    for i, spec in enumerate(s for s in items(specs) if isinstance(s, dict)):
        explicit = spec.get("associatePublicIpAddress")
        if view.is_unknown(explicit, fleet, f"launchSpecifications[{i}].associatePublicIpAddress"):
            continue
        if true(explicit):
            yield (f"launches instances with a public IP (`launchSpecifications[{i}]."
                   "associatePublicIpAddress`)")
        elif not false(explicit):
            subnet_decides = True
            if spec.get("subnetId") in (None, ""):
                yield (f"launches `launchSpecifications[{i}]` without a `subnetId`: in the "
                       "default VPC, whose subnets give every instance a public IP")
    if subnet_decides:
        for reason in _subnet_reasons(view, fleet, view.deps(
                fleet, "launchSpecifications", SUBNET), "", "get"):
            yield "launches instances that " + reason


def override_subnets(configs: Any) -> list:
    """The `subnetId`s an EC2 Fleet / Spot Fleet's launchTemplateConfigs override (None when unset)."""
    return [o.get("subnetId") for c in items(configs) if isinstance(c, dict)
            for o in items(c.get("overrides")) if isinstance(o, dict)]


def _fleet_subnets(view: StackView, fleet: Any, used: list) -> Any:
    """(subnets of this stack, any subnet named at all) of an EC2 Fleet / Spot Fleet's template
    configs: the overrides' `subnetId`s and the templates' interfaces; UNKNOWN (noted)."""
    configs = view.get(fleet, "launchTemplateConfigs")
    if view.is_unknown(configs, fleet, "launchTemplateConfigs"):
        return UNKNOWN
    named = override_subnets(configs) + [n.get("subnetId") for t in used for n in _interfaces(view, t)]
    subnets = view.deps(fleet, "launchTemplateConfigs", SUBNET) + [
        s for t in used for s in view.deps(t, "networkInterfaces", SUBNET)]
    return subnets, any(v not in (None, "") for v in named)


def _group_reasons(view: StackView, group: Any) -> Iterable[str]:
    used = templates(view, group)
    asked = [(_template_public_ip(view, t), t) for t in used]
    for value, template in asked:
        if value is True:
            yield f"launches instances with a public IP ({label(template)} asks for one)"
    if group.resource_type == SPOT_FLEET:
        yield from _spec_reasons(view, group)
    if any(v is not None for v, _ in asked):
        return  # explicit (or unknown) template settings win over the subnets' default
    if group.resource_type == ASG:
        zones = view.get(group, "vpcZoneIdentifiers")
        if view.is_unknown(zones, group, "vpcZoneIdentifiers"):
            return
        subnets, named = view.deps(group, "vpcZoneIdentifiers", SUBNET), bool(items(zones))
        where = "`vpcZoneIdentifiers`"
    else:
        if not is_set(view.get(group, "launchTemplateConfigs")):
            return  # a Spot Fleet of launch specifications only (judged above)
        found = _fleet_subnets(view, group, used)
        if found is UNKNOWN:
            return
        subnets, named = found
        where = "subnet (`launchTemplateConfigs[].overrides[].subnetId`)"
    if not subnets and not named:
        yield (f"has no {where}: its instances launch in the default VPC, whose subnets give "
               "every instance a public IP")
    for reason in _subnet_reasons(view, group, subnets, "", "get"):
        yield "launches instances that " + reason


def _instances_behind(view: StackView, eni: Any) -> list:
    found = [i for a in view.referrers(eni, ENI_ATTACHMENT, "networkInterfaceId")
             for i in view.deps(a, "instanceId", *INSTANCES)]
    return found + [i for t in INSTANCES for key in ("networkInterfaces", "primaryNetworkInterface")
                    for i in view.referrers(eni, t, key)]


def _eip_hosts(view: StackView) -> Iterable[tuple[Any, Any]]:
    """(EIP or association, instance) for every Elastic IP associated with an instance."""
    for eip in view.of(EIP):
        for host in view.deps(eip, "instance", *INSTANCES):
            yield eip, host
        for eni in view.deps(eip, "networkInterface", ENI):
            for host in _instances_behind(view, eni):
                yield eip, host
    for assoc in view.of(EIP_ASSOCIATION):
        for host in view.deps(assoc, "instanceId", *INSTANCES):
            yield assoc, host
        for eni in view.deps(assoc, "networkInterfaceId", ENI):
            for host in _instances_behind(view, eni):
                yield assoc, host


def public_hosts(view: StackView) -> list[tuple[Any, Any, str]]:
    """(resource to blame, host, why) for every host that gets a public address."""
    found: list[tuple[Any, Any, str]] = []
    for host in view.of(*INSTANCES):
        found += [(host, host, why) for why in _instance_reasons(view, host)]
    for group in view.of(*GROUPS):
        found += [(group, group, why) for why in _group_reasons(view, group)]
    for blame, host in _eip_hosts(view):
        found.append((blame, host, f"gets a public address from {label(blame)}"))
    return found


def public_members(view: StackView) -> dict[str, str]:
    """URN -> why, for every public host and every template a public group (ASG, EC2 Fleet,
    Spot Fleet) launches from (the security groups of both are what reaches other
    resources)."""
    out: dict[str, str] = {}
    for _, host, why in public_hosts(view):
        out.setdefault(host.urn, why)
        for template in templates(view, host) if host.resource_type in GROUPS else ():
            out.setdefault(template.urn, f"is what {label(host)} launches, which {why}")
    return out


def host_groups(view: StackView, types: Iterable[str]) -> dict[str, list]:
    """Security group URN -> the resources of `types` that attach it (instances and templates
    by all their security-group inputs; anything else, e.g. an RDS Proxy, by
    `vpcSecurityGroupIds`)."""
    out: dict[str, list] = {}
    for r in view.of(*dict.fromkeys(types)):
        groups = security_groups(view, r) if r.resource_type in _SG_KEYS else view.deps(
            r, "vpcSecurityGroupIds", SECURITY_GROUP)
        for sg in groups:
            out.setdefault(sg.urn, []).append(r)
    return out
