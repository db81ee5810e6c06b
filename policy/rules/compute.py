"""EC2 instances, launch templates and launch configurations (what an Auto Scaling group's
instances are made of): IMDSv2, encrypted volumes, user data, instance profile, exposure."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, Ctx, is_set, items, resource_rule, target, text, true
from .hosts import ASG, EIP, EIP_ASSOCIATION, LAUNCH_CONFIGURATION, public_hosts
from .stackview import StackView, label, stack_rule
from .userdata import findings

EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
HOSTS = (EC2_INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION)
KIND = {EC2_INSTANCE: "EC2 instance", LAUNCH_TEMPLATE: "Launch template",
        LAUNCH_CONFIGURATION: "Launch configuration", EBS_VOLUME: "EBS volume"}


def _from_template(ctx: Ctx, key: str) -> bool:
    """An instance launched from a launch template takes `key` from it when it does not set it
    itself; the template is judged by the same rule."""
    return ctx.type == EC2_INSTANCE and ctx.get(key) is None and is_set(ctx.get("launchTemplate"))


def _imdsv2(ctx: Ctx) -> Iterable[str]:
    endpoint = ctx.get("metadataOptions", "httpEndpoint")
    if ctx.known(endpoint, "metadataOptions.httpEndpoint") and endpoint == "disabled":
        return  # no metadata service at all: nothing to steal tokens from
    if _from_template(ctx, "metadataOptions"):
        return
    tokens = ctx.get("metadataOptions", "httpTokens")
    if ctx.known(tokens, "metadataOptions.httpTokens") and tokens != "required":
        yield (f"{KIND[ctx.type]} must require IMDSv2: set `metadataOptions.httpTokens` to "
               '"required".')


def _imdsv2_fix(resource_type: str, props: Any) -> Optional[dict]:
    raw = target(props)
    options = target(raw.get("metadataOptions"))
    options = dict(options) if isinstance(options, dict) else {}
    if options.get("httpTokens") == "required":
        return None
    options["httpTokens"] = "required"
    fixed = dict(raw)
    fixed["metadataOptions"] = options
    return fixed


def _volumes(ctx: Ctx) -> Iterable[str]:
    kind = KIND[ctx.type]
    if ctx.type == EBS_VOLUME:
        checks = [("encrypted", ctx.get("encrypted"))]
    elif ctx.type in (EC2_INSTANCE, LAUNCH_CONFIGURATION):
        checks = [] if _from_template(ctx, "rootBlockDevice") else [
            ("rootBlockDevice.encrypted", ctx.get("rootBlockDevice", "encrypted"))]
        devices = ctx.get("ebsBlockDevices")
        if ctx.known(devices, "ebsBlockDevices"):
            checks += [(f"ebsBlockDevices[{i}].encrypted", d.get("encrypted") if isinstance(
                d, dict) else None) for i, d in enumerate(items(devices))]
    else:
        mappings = ctx.get("blockDeviceMappings")
        if not ctx.known(mappings, "blockDeviceMappings"):
            return
        # only EBS mappings hold data: instance-store (virtualName) and noDevice entries do not
        checks = [(f"blockDeviceMappings[{i}].ebs.encrypted",
                   m.get("ebs", {}).get("encrypted") if isinstance(m.get("ebs"), dict) else None)
                  for i, m in enumerate(items(mappings)) if isinstance(m, dict) and (
                      m.get("ebs") is not None or not (is_set(m.get("virtualName"))
                                                       or "noDevice" in m))]
        if not checks:
            yield (f"{kind} must encrypt its volumes: add a `blockDeviceMappings` entry for the "
                   "root device with `ebs.encrypted: true` (without one, instances get the "
                   "AMI's unencrypted root volume).")
    for path, value in checks:
        if ctx.known(value, path) and not true(value):
            yield f"{kind} must encrypt its volumes: set `{path}: true` (absent means unencrypted)."


def _user_data(ctx: Ctx) -> Iterable[str]:
    for key in ("userData", "userDataBase64"):
        value = ctx.get(key)
        if not ctx.known(value, key) or text(value) is None:
            continue
        for finding in findings(value):
            yield (f"{KIND[ctx.type]} user data must not contain secrets: `{key}` holds "
                   f"{finding}; read it at boot from Secrets Manager (the role may read this "
                   "stack's secret).")


def _profile(ctx: Ctx) -> Iterable[str]:
    if _from_template(ctx, "iamInstanceProfile"):
        return
    if not is_set(ctx.get("iamInstanceProfile")):
        yield (f"{KIND[ctx.type]} should have an instance profile (`iamInstanceProfile`) so "
               "instances are reached through SSM Session Manager instead of SSH.")


def _public_ip(ctx: Ctx) -> Iterable[str]:
    if ctx.config.get("allowPublicHost") is True:
        return
    if ctx.type == LAUNCH_TEMPLATE:
        interfaces = ctx.get("networkInterfaces")
        ctx.known(interfaces, "networkInterfaces")
        found = [(f"networkInterfaces[{i}].{key}", n.get(key))
                 for i, n in enumerate(items(interfaces)) if isinstance(n, dict)
                 for key in ("associatePublicIpAddress", "associateCarrierIpAddress")]
    else:
        found = [("associatePublicIpAddress", ctx.get("associatePublicIpAddress"))]
    for path, value in found:
        if ctx.known(value, path) and true(value):
            yield (f"{KIND[ctx.type]} must not give instances a public IP address: set `{path}: "
                   "false` and use a private subnet behind a load balancer (or allow it for "
                   "this stack with the rule's `allowPublicHost` option).")


def _public_hosts(view: StackView, config: dict):
    if config.get("allowPublicHost") is True:
        return
    for blame, host, why in public_hosts(view):
        yield (f"{label(host)} {why}: set `associatePublicIpAddress: false` (launch templates: "
               "on the network interface), use private subnets behind a load balancer and "
               "associate no Elastic IP."), blame.urn


_ALLOW_PUBLIC = {"allowPublicHost": {"type": "boolean", "default": False,
                                     "description": "Allow a public IP on app hosts (dev)."}}
RULES = [
    resource_rule(
        name="ec2-imdsv2-required", types=HOSTS, check=_imdsv2,
        description="Checks whether instances (and launch templates/configurations) require "
                    "IMDSv2 session tokens (remediable: level 'remediate' sets "
                    "metadataOptions.httpTokens).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_79", "EC2.8"),
        unknown="unknown value: advisory 'not checked'; an instance without metadataOptions "
                "launched from a launch template is judged on the template",
        remediate=_imdsv2_fix),
    resource_rule(
        name="ec2-volumes-encrypted", types=(*HOSTS, EBS_VOLUME), check=_volumes,
        description="Checks whether root and EBS volumes (of instances, launch templates and "
                    "launch configurations) are encrypted.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_8", "EC2.3"),
        unknown="unknown value: advisory 'not checked'; an instance without rootBlockDevice "
                "launched from a launch template is judged on the template"),
    resource_rule(
        name="ec2-no-secrets-in-user-data", types=HOSTS, check=_user_data,
        description="Checks whether user data is free of passwords, keys and tokens, in any "
                    "encoding a host decodes (base64, gzip, cloud-init b64/gz+b64 files, MIME).",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("CKV_AWS_46",),
        unknown="user data built from outputs: advisory 'not checked', checked at update"),
    resource_rule(
        name="ec2-instance-profile", types=HOSTS, check=_profile,
        description="Checks whether instances (and launch templates/configurations) have an IAM "
                    "instance profile (SSM access, no SSH).",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV2_AWS_41", "SSM.1"),
        unknown="set-ness only; an unknown value counts as set; an instance without "
                "iamInstanceProfile launched from a launch template is judged on the template"),
    resource_rule(
        name="ec2-no-public-ip", types=HOSTS, check=_public_ip,
        description="Checks whether instances (and launch templates' network interfaces, launch "
                    "configurations) do not ask for a public IP address (unless the stack "
                    "allows a public app host).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_88", "EC2.9"),
        config=_ALLOW_PUBLIC),
    stack_rule(
        name="ec2-no-public-ip-from-subnet", types=(EC2_INSTANCE, ASG, EIP, EIP_ASSOCIATION),
        check=_public_hosts,
        description="Checks whether no instance ends up with a public address by any route: a "
                    "subnet that maps public IPs on launch (or the default VPC) for an instance "
                    "or an Auto Scaling group (through its launch template), a launch template "
                    "interface that asks for one, an Elastic IP associated with it, or a publicIp "
                    "output after an update.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("EC2.9", "CKV_AWS_88"),
        unknown="unknown associatePublicIpAddress or mapPublicIpOnLaunch: advisory 'not "
                "checked'; relations (instance/ASG/template to subnet, EIP to instance) use "
                "dependencies",
        config=_ALLOW_PUBLIC),
]
