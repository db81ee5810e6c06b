"""EC2 hosts: instances, Spot Instance requests, launch templates and launch configurations
(what Auto Scaling groups, EC2 Fleets and Spot Fleets launch) and Spot Fleet launch
specifications (a Spot Fleet's inline hosts): IMDSv2 and its hop limit, encrypted volumes,
user data, instance profile, exposure."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from pulumi_policy import Severity

from .base import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Ctx,
    dig,
    is_set,
    items,
    number,
    resource_rule,
    target,
    text,
    true,
)
from .hosts import (
    ASG,
    EIP,
    EIP_ASSOCIATION,
    FLEET,
    INSTANCE,
    INSTANCES,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    SPOT_FLEET,
    SPOT_INSTANCE,
    public_hosts,
)
from .stackview import StackView, label, stack_rule
from .userdata import findings, runs_containers

EC2_INSTANCE = INSTANCE
EBS_VOLUME = "aws:ebs/volume:Volume"
HOSTS = (EC2_INSTANCE, SPOT_INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, SPOT_FLEET)
KIND = {EC2_INSTANCE: "EC2 instance", SPOT_INSTANCE: "Spot Instance request",
        LAUNCH_TEMPLATE: "Launch template", LAUNCH_CONFIGURATION: "Launch configuration",
        SPOT_FLEET: "Spot Fleet request", EBS_VOLUME: "EBS volume"}
SPECS = "launchSpecifications"


def _from_template(ctx: Ctx, key: str) -> bool:
    """An instance launched from a launch template takes `key` from it when it does not set it
    itself; the template is judged by the same rule."""
    return ctx.type in INSTANCES and ctx.get(key) is None and is_set(ctx.get("launchTemplate"))


def _specs(ctx: Ctx) -> list[tuple[str, dict]]:
    """A Spot Fleet's launch specifications as (path prefix, spec); [] for other types."""
    if ctx.type != SPOT_FLEET:
        return []
    specs = ctx.get(SPECS)
    if not ctx.known(specs, SPECS):
        return []
    return [(f"{SPECS}[{i}].", s) for i, s in enumerate(items(specs)) if isinstance(s, dict)]


def _word(value: Any) -> Any:
    """An enum-like string compared as AWS spells it, whatever the case and spaces."""
    return value.strip().lower() if isinstance(value, str) else value


def _imdsv2(ctx: Ctx) -> Iterable[str]:
    for path, _ in _specs(ctx):
        yield (f"Spot Fleet request cannot require IMDSv2 for `{path.rstrip('.')}` (launch "
               "specifications have no metadata options): launch from `launchTemplateConfigs` "
               'with a launch template whose `metadataOptions.httpTokens` is "required".')
    if ctx.type == SPOT_FLEET:
        return                              # its templates are judged as templates
    endpoint = ctx.get("metadataOptions", "httpEndpoint")
    if ctx.known(endpoint, "metadataOptions.httpEndpoint") and _word(endpoint) == "disabled":
        return  # no metadata service at all: nothing to steal tokens from
    if _from_template(ctx, "metadataOptions"):
        return
    tokens = ctx.get("metadataOptions", "httpTokens")
    if ctx.known(tokens, "metadataOptions.httpTokens") and _word(tokens) != "required":
        yield (f"{KIND[ctx.type]} must require IMDSv2: set `metadataOptions.httpTokens` to "
               '"required".')


def _hop_limit(ctx: Ctx) -> Iterable[str]:
    options = ctx.get("metadataOptions")
    if not ctx.known(options, "metadataOptions") or _from_template(ctx, "metadataOptions"):
        return
    endpoint = dig(options, "httpEndpoint")
    if ctx.known(endpoint, "metadataOptions.httpEndpoint") and _word(endpoint) == "disabled":
        return
    limit = dig(options, "httpPutResponseHopLimit")
    if not ctx.known(limit, "metadataOptions.httpPutResponseHopLimit"):
        return
    hops = number(limit)
    maximum = number(ctx.config.get("maximumHops")) or 1.0
    if hops is None or hops <= maximum:
        return                              # unset: the AWS default of 1 (2 on some AMIs)
    user_data = [ctx.get(k) for k in ("userData", "userDataBase64")]
    if any(v is UNKNOWN for v in user_data):
        ctx.known(UNKNOWN, "userData (does the host run containers?)")
        return
    if any(runs_containers(v) for v in user_data if text(v)):
        return                              # containers need the extra hop to reach IMDS
    yield (f"{KIND[ctx.type]} lets IMDS responses travel {hops:g} network hops "
           f"(`metadataOptions.httpPutResponseHopLimit`) but its user data starts no container "
           f"runtime: set it to {maximum:g} so a token cannot be relayed off the host (raise it "
           "only for hosts that run containers).")


def _imdsv2_fix(resource_type: str, props: Any) -> Optional[dict]:
    if resource_type == SPOT_FLEET:
        return None                         # launch specifications have no metadata options
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
    checks: list[tuple[str, Any]] = []
    if ctx.type == EBS_VOLUME:
        checks = [("encrypted", ctx.get("encrypted"))]
    elif ctx.type == SPOT_FLEET:
        for path, spec in _specs(ctx):
            roots = spec.get("rootBlockDevices")
            if roots is UNKNOWN:
                ctx.known(UNKNOWN, f"{path}rootBlockDevices")
            elif not items(roots):
                yield (f"{kind} must encrypt its volumes: add `{path}rootBlockDevices` with "
                       "`encrypted: true` (without it, instances get the AMI's unencrypted root "
                       "volume).")
            for key in ("rootBlockDevices", "ebsBlockDevices"):
                checks += [(f"{path}{key}[{i}].encrypted", d.get("encrypted") if isinstance(
                    d, dict) else None) for i, d in enumerate(items(spec.get(key)))]
    elif ctx.type in (*INSTANCES, LAUNCH_CONFIGURATION):
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
    sources = [("", ctx.props)] if ctx.type != SPOT_FLEET else _specs(ctx)
    for path, props in sources:
        for key in ("userData", "userDataBase64"):
            value = props.get(key)
            data = text(value) if ctx.known(value, path + key) else None
            if data is None:
                continue
            for finding in findings(data):
                yield (f"{KIND[ctx.type]} user data must not contain secrets: `{path}{key}` "
                       f"holds {finding}; read it at boot from Secrets Manager (the role may "
                       "read this stack's secret).")


def _profile(ctx: Ctx) -> Iterable[str]:
    if ctx.type == SPOT_FLEET:
        for path, spec in _specs(ctx):
            if not (is_set(spec.get("iamInstanceProfile"))
                    or is_set(spec.get("iamInstanceProfileArn"))):
                yield (f"{KIND[ctx.type]} should give `{path.rstrip('.')}` an instance profile "
                       "(`iamInstanceProfile` / `iamInstanceProfileArn`) so instances are "
                       "reached through SSM Session Manager instead of SSH.")
        return
    if _from_template(ctx, "iamInstanceProfile"):
        return
    if not is_set(ctx.get("iamInstanceProfile")):
        yield (f"{KIND[ctx.type]} should have an instance profile (`iamInstanceProfile`) so "
               "instances are reached through SSM Session Manager instead of SSH.")


def _public_ip(ctx: Ctx) -> Iterable[str]:
    if ctx.config.get("allowPublicHost") is True:
        return
    if ctx.type == SPOT_FLEET:
        found = [(f"{path}associatePublicIpAddress", spec.get("associatePublicIpAddress"))
                 for path, spec in _specs(ctx)]
    elif ctx.type == LAUNCH_TEMPLATE:
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
        description="Checks whether instances and Spot Instance requests (and launch "
                    "templates/configurations; Spot Fleet launch specifications, which cannot) "
                    "require IMDSv2 session tokens, however `httpTokens` is cased (remediable: "
                    "level 'remediate' sets metadataOptions.httpTokens).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_79", "EC2.8"),
        unknown="unknown value: advisory 'not checked'; an instance without metadataOptions "
                "launched from a launch template is judged on the template",
        remediate=_imdsv2_fix),
    resource_rule(
        name="ec2-imds-hop-limit", types=HOSTS, check=_hop_limit,
        description="Checks whether instances (and launch templates/configurations) that start "
                    "no container runtime in their user data keep the IMDS response hop limit "
                    "(`metadataOptions.httpPutResponseHopLimit`) at 1, so an IMDSv2 token cannot "
                    "be relayed off the host.",
        level=ADVISORY, severity=Severity.MEDIUM, anchors=("EC2.170", "AWS IMDS hop limit"),
        unknown="unknown hop limit or user data: advisory 'not checked'",
        config={"maximumHops": {"type": "integer", "minimum": 1, "maximum": 64, "default": 1,
                                "description": "Largest hop limit for hosts without "
                                               "containers."}}),
    resource_rule(
        name="ec2-volumes-encrypted", types=(*HOSTS, EBS_VOLUME), check=_volumes,
        description="Checks whether root and EBS volumes (of instances, Spot Instance requests, "
                    "launch templates, launch configurations and Spot Fleet launch "
                    "specifications) are encrypted.",
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
        description="Checks whether instances (and Spot Instance requests, launch "
                    "templates/configurations, Spot Fleet launch specifications) have an IAM "
                    "instance profile (SSM access, no SSH).",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV2_AWS_41", "SSM.1"),
        unknown="set-ness only; an unknown value counts as set; an instance without "
                "iamInstanceProfile launched from a launch template is judged on the template"),
    resource_rule(
        name="ec2-no-public-ip", types=HOSTS, check=_public_ip,
        description="Checks whether instances and Spot Instance requests (and launch "
                    "templates' network interfaces, launch configurations, Spot Fleet launch "
                    "specifications) do not ask for a public IP address (unless the stack "
                    "allows a public app host).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_88", "EC2.9"),
        config=_ALLOW_PUBLIC),
    stack_rule(
        name="ec2-no-public-ip-from-subnet",
        types=(EC2_INSTANCE, SPOT_INSTANCE, ASG, FLEET, SPOT_FLEET, EIP, EIP_ASSOCIATION),
        check=_public_hosts,
        description="Checks whether no instance ends up with a public address by any route: a "
                    "subnet that maps public IPs on launch (or the default VPC) for an instance, "
                    "a Spot Instance request, an Auto Scaling group, an EC2 Fleet or a Spot "
                    "Fleet (through its launch templates, overrides or launch specifications), "
                    "a launch template interface that asks for one, an Elastic IP associated "
                    "with it, or a publicIp output after an update.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("EC2.9", "CKV_AWS_88"),
        unknown="unknown associatePublicIpAddress or mapPublicIpOnLaunch: advisory 'not "
                "checked'; relations (instance/ASG/template to subnet, EIP to instance) use "
                "dependencies",
        config=_ALLOW_PUBLIC),
]
