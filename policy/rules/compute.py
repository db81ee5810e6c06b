"""EC2 instances and launch templates: IMDSv2, encrypted volumes, user data, exposure."""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Iterable, Optional

from pulumi_policy import Severity

from .base import ADVISORY, MANDATORY, Ctx, is_set, items, resource_rule, target, text
from .stackview import StackView, label, stack_rule

EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
SUBNET = "aws:ec2/subnet:Subnet"
KIND = {EC2_INSTANCE: "EC2 instance", LAUNCH_TEMPLATE: "Launch template", EBS_VOLUME: "EBS volume"}


def _true(value: Any) -> bool:
    """Launch templates carry booleans as strings ("true")."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


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
    elif ctx.type == EC2_INSTANCE:
        checks = [] if _from_template(ctx, "rootBlockDevice") else [
            ("rootBlockDevice.encrypted", ctx.get("rootBlockDevice", "encrypted"))]
        devices = ctx.get("ebsBlockDevices")
        if ctx.known(devices, "ebsBlockDevices"):
            checks += [(f"ebsBlockDevices[{i}].encrypted", d.get("encrypted") if isinstance(
                d, dict) else None) for i, d in enumerate(items(devices))]
    else:
        mappings = ctx.get("blockDeviceMappings")
        # only EBS mappings hold data: instance-store (virtualName) and noDevice entries do not
        checks = [] if not ctx.known(mappings, "blockDeviceMappings") else [
            (f"blockDeviceMappings[{i}].ebs.encrypted",
             m.get("ebs", {}).get("encrypted") if isinstance(m.get("ebs"), dict) else None)
            for i, m in enumerate(items(mappings)) if isinstance(m, dict) and (
                m.get("ebs") is not None or not (is_set(m.get("virtualName"))
                                                 or "noDevice" in m))]
    for path, value in checks:
        if ctx.known(value, path) and not _true(value):
            yield f"{kind} must encrypt its volumes: set `{path}: true` (absent means unencrypted)."


_KEY_WORDS = r"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)"
_ASSIGNMENT = re.compile(
    r"([A-Za-z0-9_.\-]*" + _KEY_WORDS + r"[A-Za-z0-9_.\-]*)[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"([^\s\"',;})\]]*)", re.IGNORECASE)
_FLAG = re.compile(r"(--password)(?:=|[ \t]+)([^\s\"']+)", re.IGNORECASE)
_PATTERNS = (
    (re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"), "a PEM private key block"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
)
# Keys that name or point at a secret rather than hold it.
_REFERENCE_SUFFIXES = ("arn", "id", "ids", "name", "file", "path", "ref", "url", "uri", "length",
                       "region", "endpoint", "policy", "manager", "rotation", "version", "stage",
                       "type", "kind", "header", "source", "backend")
_REFERENCE_PREFIXES = ("arn:", "$", "{{", "<", "!", "/", "resolve:", "ssm:", "secretsmanager:")
_EMPTY_VALUES = ("", "null", "none", "true", "false", "[]", "{}", "''", '""', "~", "|", ">")


def _is_literal(key: str, value: str) -> bool:
    simple = re.sub(r"[^a-z]", "", key.lower())
    if simple.endswith(_REFERENCE_SUFFIXES) or value.lower() in _EMPTY_VALUES:
        return False
    if value.startswith(_REFERENCE_PREFIXES) or any(c in value for c in "([{$`<>"):
        return False
    if re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", value):  # attribute access in code
        return False
    return True


def user_data_findings(data: str) -> list[str]:
    """What secret-looking content `data` holds, named by key/pattern (never the value)."""
    found: list[str] = []
    for pattern, what in _PATTERNS:
        if pattern.search(data):
            found.append(what)
    for regex in (_ASSIGNMENT, _FLAG):
        for match in regex.finditer(data):
            key, value = match.group(1), match.group(2)
            if _is_literal(key, value):
                found.append(f"a literal value for `{key}`")
    return list(dict.fromkeys(found))


def _decoded(value: str) -> Optional[str]:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _user_data(ctx: Ctx) -> Iterable[str]:
    sources = [("userData", ctx.get("userData"), ctx.type == LAUNCH_TEMPLATE),
               ("userDataBase64", ctx.get("userDataBase64"), True)]
    for key, value, encoded in sources:
        if not ctx.known(value, key) or text(value) is None:
            continue
        data = (_decoded(value) or value) if encoded else value
        for finding in user_data_findings(data):
            yield (f"{KIND[ctx.type]} user data must not contain secrets: it holds {finding}; "
                   "read it at boot from Secrets Manager (the role may read this stack's secret).")


def _profile(ctx: Ctx) -> Iterable[str]:
    if not is_set(ctx.get("iamInstanceProfile")):
        yield ("EC2 instance should have an instance profile (`iamInstanceProfile`) so it is "
               "reached through SSM Session Manager instead of SSH.")


def _public_ip(ctx: Ctx) -> Iterable[str]:
    if ctx.config.get("allowPublicHost") is True:
        return
    if ctx.type == LAUNCH_TEMPLATE:
        interfaces = ctx.get("networkInterfaces")
        ctx.known(interfaces, "networkInterfaces")
        found = [(f"networkInterfaces[{i}].associatePublicIpAddress",
                  n.get("associatePublicIpAddress"))
                 for i, n in enumerate(items(interfaces)) if isinstance(n, dict)]
    else:
        found = [("associatePublicIpAddress", ctx.get("associatePublicIpAddress"))]
    for path, value in found:
        if ctx.known(value, path) and _true(value):
            yield (f"{KIND[ctx.type]} must not give instances a public IP address: set `{path}: "
                   "false` and use a private subnet behind a load balancer (or allow it for "
                   "this stack with the rule's `allowPublicHost` option).")


def _public_via_subnet(view: StackView, config: dict):
    if config.get("allowPublicHost") is True:
        return
    for host in view.of(EC2_INSTANCE):
        explicit = view.get(host, "associatePublicIpAddress")
        if view.is_unknown(explicit, host, "associatePublicIpAddress") or explicit is False:
            continue  # an explicit false wins over the subnet's default
        if explicit is True or text(view.get(host, "publicIp")):
            # after an update the outputs say what AWS did, whatever the inputs asked for
            yield (f"{label(host)} has a public IP address: set `associatePublicIpAddress: "
                   "false` and use a private subnet behind a load balancer."), host.urn
            continue
        if is_set(view.get(host, "networkInterfaces")) or (
                view.get(host, "subnetId") is None and is_set(view.get(host, "launchTemplate"))):
            continue  # the attached interfaces (or the template's) decide, not a subnet default
        subnets = view.deps(host, "subnetId", SUBNET)
        if not subnets and view.get(host, "subnetId") in (None, ""):
            yield (f"{label(host)} has no `subnetId`: it launches in the default VPC, whose "
                   "subnets give every instance a public IP; set `subnetId` to a private "
                   "subnet."), host.urn
        for subnet in subnets:
            mapped = view.get(subnet, "mapPublicIpOnLaunch")
            if not view.is_unknown(mapped, subnet, "mapPublicIpOnLaunch") and mapped is True:
                yield (f"{label(host)} gets a public IP from {label(subnet)} "
                       "(`mapPublicIpOnLaunch: true`): set `associatePublicIpAddress: false` or "
                       "use a private subnet."), host.urn


_ALLOW_PUBLIC = {"allowPublicHost": {"type": "boolean", "default": False,
                                     "description": "Allow a public IP on app hosts (dev)."}}
RULES = [
    resource_rule(
        name="ec2-imdsv2-required", types=(EC2_INSTANCE, LAUNCH_TEMPLATE), check=_imdsv2,
        description="Checks whether instances require IMDSv2 session tokens (remediable: level "
                    "'remediate' sets metadataOptions.httpTokens).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_79", "EC2.8"),
        unknown="unknown value: advisory 'not checked'; an instance without metadataOptions "
                "launched from a launch template is judged on the template",
        remediate=_imdsv2_fix),
    resource_rule(
        name="ec2-volumes-encrypted", types=(EC2_INSTANCE, LAUNCH_TEMPLATE, EBS_VOLUME),
        check=_volumes,
        description="Checks whether root and EBS volumes are encrypted.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_8", "EC2.3"),
        unknown="unknown value: advisory 'not checked'; an instance without rootBlockDevice "
                "launched from a launch template is judged on the template"),
    resource_rule(
        name="ec2-no-secrets-in-user-data", types=(EC2_INSTANCE, LAUNCH_TEMPLATE),
        check=_user_data,
        description="Checks whether user data is free of passwords, keys and tokens.",
        level=MANDATORY, severity=Severity.CRITICAL, anchors=("CKV_AWS_46",),
        unknown="user data built from outputs: advisory 'not checked', checked at update"),
    resource_rule(
        name="ec2-instance-profile", types=(EC2_INSTANCE,), check=_profile,
        description="Checks whether instances have an IAM instance profile (SSM access, no SSH).",
        level=ADVISORY, severity=Severity.LOW, anchors=("CKV2_AWS_41", "SSM.1"),
        unknown="set-ness only; an unknown value counts as set"),
    resource_rule(
        name="ec2-no-public-ip", types=(EC2_INSTANCE, LAUNCH_TEMPLATE), check=_public_ip,
        description="Checks whether instances (and launch templates' network interfaces) do not "
                    "ask for a public IP address (unless the stack allows a public app host).",
        level=MANDATORY, severity=Severity.HIGH, anchors=("CKV_AWS_88", "EC2.9"),
        config=_ALLOW_PUBLIC),
    stack_rule(
        name="ec2-no-public-ip-from-subnet", types=(EC2_INSTANCE,), check=_public_via_subnet,
        description="Checks whether instances end up without a public IP: not in a subnet that "
                    "maps public IPs on launch (or the default VPC) unless "
                    "associatePublicIpAddress is false, and no publicIp output after an update.",
        level=MANDATORY, severity=Severity.HIGH, anchors=("EC2.9", "CKV_AWS_88"),
        unknown="unknown associatePublicIpAddress or mapPublicIpOnLaunch: advisory 'not "
                "checked'; the instance-to-subnet relation uses dependencies",
        config=_ALLOW_PUBLIC),
]
