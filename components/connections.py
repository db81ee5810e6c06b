"""CDK-style connections: one link writes ingress on the target AND egress on the source.

Each component exposes ``.connections`` (its security group ids and default port).
``SecurityGroupLink(name, source=host.connections, target=db.connections)`` creates a standalone
``aws.vpc.SecurityGroupIngressRule`` on every target SG (source = the source SG, port = the
target's default port unless given) and the matching ``aws.vpc.SecurityGroupEgressRule`` on every
source SG. Never mixed with inline rules.

From other languages (the component package) a link takes `SecurityGroupLinkArgs`: `source` and
`target` are `Connections` given as data (security group ids, default port, label), e.g. a
component's `securityGroupId` output and its `port`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from .knobs import args_class, between, knob, published


@published
@dataclass(frozen=True)
class Connections:
    """The security groups of one component and the port it serves on (if any)."""

    security_group_ids: Sequence[pulumi.Input[str]]
    """Security group ids attached to the component's network interfaces. Required."""
    default_port: Optional[int] = None
    """Port a link uses when none is given. Default: None (links must then pass `port`)."""
    label: str = field(default="component")
    """Human-readable name used in rule descriptions. Default: "component"."""

    def allow_from(self, name: str, other: Connections, port: Optional[int] = None,
                   opts: Optional[pulumi.ResourceOptions] = None) -> SecurityGroupLink:
        """Allow `other` to reach this component on `port` (ingress here, egress there)."""
        return SecurityGroupLink(name, source=other, target=self, port=port, opts=opts)

    def allow_default_port_from(self, name: str, other: Connections,
                                opts: Optional[pulumi.ResourceOptions] = None) -> SecurityGroupLink:
        """Allow `other` to reach this component on its default port (error when it has none)."""
        return SecurityGroupLink(name, source=other, target=self, opts=opts)


@args_class
class SecurityGroupLinkArgs:
    """Inputs of `SecurityGroupLink` (in Python, the keywords `source`, `target`, `port` do the same)."""

    source: Connections = knob()
    """The side that connects: egress rules are written on its security groups. Required."""
    target: Connections = knob()
    """The side that is reached: ingress rules are written on its security groups. Required."""
    port: Optional[int] = knob(default=None, check=lambda v: between(1, 65535)(v) and "port must be an int 1..65535")
    """TCP port to open, 1..65535. Default: None (the target's default_port)."""


@published
class SecurityGroupLink(pulumi.ComponentResource):
    """Ingress on the target's SGs from the source's SGs, plus the matching egress on the source."""

    port: int
    """The TCP port the link opens."""
    ingress_rule_ids: pulumi.Output[list[str]]
    """Ids of the ingress rules written on the target security groups."""
    egress_rule_ids: pulumi.Output[list[str]]
    """Ids of the egress rules written on the source security groups."""

    def __init__(self, name: str, args: Optional[SecurityGroupLinkArgs] = None,
                 opts: Optional[pulumi.ResourceOptions] = None, *, source: Optional[Connections] = None,
                 target: Optional[Connections] = None, port: Optional[int] = None):
        """Either `args` (a `SecurityGroupLinkArgs` or its dict, as a component provider passes
        it) or the keywords `source`, `target` and optionally `port`."""
        if args is not None and (source, target, port) != (None, None, None):
            raise ValueError(f"SecurityGroupLink {name!r}: pass either args or source=/target=/port=, not both")
        if args is None:
            if source is None or target is None:
                raise ValueError(f"SecurityGroupLink {name!r}: source and target are required")
            args = SecurityGroupLinkArgs(source=source, target=target, port=port)
        elif isinstance(args, Mapping):
            args = SecurityGroupLinkArgs(**args)
        source, target = args.source, args.target
        resolved = args.port if args.port is not None else target.default_port
        if resolved is None:
            raise ValueError(
                f"SecurityGroupLink {name!r}: no port: pass port=… or give the target "
                f"({target.label}) Connections a default_port")
        if isinstance(resolved, bool) or not isinstance(resolved, int) or not 1 <= resolved <= 65535:
            raise ValueError(f"SecurityGroupLink {name!r}: port must be an int 1..65535, got {resolved!r}")
        if not source.security_group_ids or not target.security_group_ids:
            raise ValueError(f"SecurityGroupLink {name!r}: source and target need ≥ 1 security group")
        super().__init__("aurorakit:index:SecurityGroupLink", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.port = resolved
        ingress, egress = [], []
        for ti, target_sg in enumerate(target.security_group_ids):
            for si, source_sg in enumerate(source.security_group_ids):
                suffix = "" if (ti, si) == (0, 0) else f"-{ti}-{si}"
                ingress.append(aws.vpc.SecurityGroupIngressRule(
                    f"{name}-ingress{suffix}", security_group_id=target_sg,
                    referenced_security_group_id=source_sg, ip_protocol="tcp",
                    from_port=resolved, to_port=resolved,
                    description=f"{target.label} tcp/{resolved} from {source.label}", opts=child))
                egress.append(aws.vpc.SecurityGroupEgressRule(
                    f"{name}-egress{suffix}", security_group_id=source_sg,
                    referenced_security_group_id=target_sg, ip_protocol="tcp",
                    from_port=resolved, to_port=resolved,
                    description=f"{source.label} to {target.label} tcp/{resolved}", opts=child))
        self.ingress_rule_ids = pulumi.Output.all(*[r.id for r in ingress])
        self.egress_rule_ids = pulumi.Output.all(*[r.id for r in egress])
        self.register_outputs({"port": self.port, "ingress_rule_ids": self.ingress_rule_ids,
                               "egress_rule_ids": self.egress_rule_ids})
