"""URN-keyed indexes over AnalyzeStack resources, built once per check, linear in their number.

Stack rules relate resources only through `property_dependencies` (which resource's output
feeds which input), never by comparing ids: ids are unknown during preview, dependencies are not.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Optional

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from .base import UNKNOWN, CannotCheck, Rule, dig, merged_config, plain, schema

TYPE_LABELS = {
    "aws:rds/cluster:Cluster": "Aurora cluster",
    "aws:rds/clusterInstance:ClusterInstance": "Aurora instance",
    "aws:rds/instance:Instance": "RDS instance",
    "aws:ec2/instance:Instance": "EC2 instance",
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": "Spot Instance request",
    "aws:ec2/spotFleetRequest:SpotFleetRequest": "Spot Fleet request",
    "aws:ec2/fleet:Fleet": "EC2 Fleet",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "security group",
    "aws:kms/key:Key": "KMS key",
    "aws:secretsmanager/secret:Secret": "secret",
    "aws:iam/role:Role": "IAM role",
    "aws:ec2/launchTemplate:LaunchTemplate": "launch template",
    "aws:ec2/launchConfiguration:LaunchConfiguration": "launch configuration",
    "aws:autoscaling/group:Group": "Auto Scaling group",
    "aws:ec2/eip:Eip": "Elastic IP",
    "aws:ec2/eipAssociation:EipAssociation": "Elastic IP association",
    "aws:ec2/route:Route": "route",
    "aws:ec2/routeTable:RouteTable": "route table",
    "aws:ec2/managedPrefixList:ManagedPrefixList": "prefix list",
    "aws:lb/loadBalancer:LoadBalancer": "load balancer",
    "aws:alb/loadBalancer:LoadBalancer": "load balancer",
    "aws:lb/listener:Listener": "listener",
    "aws:alb/listener:Listener": "listener",
    "aws:rds/proxy:Proxy": "RDS Proxy",
    "aws:rds/subnetGroup:SubnetGroup": "DB subnet group",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ingress rule",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "security group rule",
    "aws:cloudwatch/logGroup:LogGroup": "log group",
    "aws:ebs/volume:Volume": "EBS volume",
    "aws:iam/rolePolicy:RolePolicy": "role policy",
    "aws:iam/policy:Policy": "IAM policy",
    "aws:iam/policyAttachment:PolicyAttachment": "policy attachment",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role policy attachment",
}


def label(resource: Any) -> str:
    """`Aurora cluster "db-cluster"` for messages (never a property value)."""
    kind = TYPE_LABELS.get(resource.resource_type, resource.resource_type)
    return f'{kind} "{resource.name}"'


class StackView:
    """The stack's resources with cached plain props and reverse dependency indexes."""

    def __init__(self, resources: Iterable[Any]):
        self.resources = list(resources)
        self._by_type: dict[str, list] = defaultdict(list)
        for r in self.resources:
            self._by_type[r.resource_type].append(r)
        self._props: dict[int, dict] = {}
        self._refs: dict[tuple, dict] = {}
        self.unknown: list[str] = []

    def of(self, *types: str) -> list:
        """Resources of the given types, in stack order."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        return [r for t in types for r in self._by_type.get(t, ())]

    def props(self, resource: Any) -> dict:
        """Plain props of a resource (cached; unknowns are UNKNOWN)."""
        key = id(resource)
        if key not in self._props:
            value = plain(resource.props)
            self._props[key] = value if isinstance(value, dict) else {}
        return self._props[key]

    def get(self, resource: Any, *path: Any) -> Any:
        return dig(self.props(resource), *path)

    @staticmethod
    def deps(resource: Any, key: str, *types: str) -> list:
        """The resources whose outputs feed input `key` of `resource` (optionally by type)."""
        found = (getattr(resource, "property_dependencies", None) or {}).get(key) or []
        return [d for d in found if not types or d.resource_type in types]

    def referrers(self, target: Any, source_type: str, key: str) -> list:
        """Resources of `source_type` whose input `key` depends on `target`."""
        index_key = (source_type, key)
        if index_key not in self._refs:
            index: dict[str, list] = defaultdict(list)
            for r in self.of(source_type):
                for dep in self.deps(r, key):
                    index[dep.urn].append(r)
            self._refs[index_key] = index
        return self._refs[index_key].get(target.urn, [])

    def identities(self, resource: Any) -> set:
        """The known strings other inputs use to name `resource`: its `id`, `name`, `arn` and
        the ARN's last segment (`arn:…:security-group/sg-0ab…` -> `sg-0ab…`). AnalyzeStack
        sends outputs, which carry no `id` for most types, so the ARN is the reliable one."""
        out = {v for k in ("id", "name", "arn") if isinstance(v := self.get(resource, k), str)
               and v}
        arn = self.get(resource, "arn")
        if isinstance(arn, str) and "/" in arn:
            out.add(arn.rsplit("/", 1)[-1])
        return out

    def by_identity(self, *types: str) -> dict[str, Any]:
        """Resources of `types` by every identity string (see `identities`), built once."""
        index_key = ("identity", types)
        if index_key not in self._refs:
            self._refs[index_key] = {i: r for r in self.of(*types) for i in self.identities(r)}
        return self._refs[index_key]

    def resolve(self, resource: Any, key: str, values: Any, *types: str
                ) -> tuple[list, list[str], bool]:
        """Which resources of `types` the ids in input `key` of `resource` name, and which ids
        this stack does not define: (resources, foreign ids, unaccounted unknown). `values` is
        the input (a string or a list). An id names a resource when it is one of its
        identities; while the dependencies' identities are unknown (preview), the input's
        dependencies account for as many ids as there are dependencies."""
        values = values if isinstance(values, list) else [values]
        values = [v for v in values if v is not None and v != ""]
        deps = self.deps(resource, key, *types)
        by_identity = self.by_identity(*types)
        known_deps = any(self.identities(d) for d in deps)
        found, foreign, unaccounted, spare = [], [], False, len(deps)
        for v in values:
            if isinstance(v, str) and v in by_identity:
                found.append(by_identity[v])
                spare -= 1
            elif (v is UNKNOWN or not known_deps) and spare > 0:
                spare -= 1
                found += deps
            elif v is UNKNOWN:
                unaccounted = True
            elif isinstance(v, str):
                foreign.append(v)
        return list({r.urn: r for r in found}.values()), foreign, unaccounted

    def note(self, what: str) -> None:
        """Record something the rule could not check (reported as advisory)."""
        if what not in self.unknown:
            self.unknown.append(what)

    def is_unknown(self, value: Any, resource: Any, prop: str) -> bool:
        if value is UNKNOWN:
            self.note(f"{label(resource)} {prop}")
            return True
        return False


def stack_rule(*, name: str, description: str, types: Iterable[str],
               check: Callable[[StackView, dict], Iterable[tuple[str, Optional[str]]]],
               level: EnforcementLevel, severity: Severity, anchors: Iterable[str] = (),
               unknown: str = "", config: Optional[dict] = None) -> Rule:
    """Wrap a pure stack check `check(view, config) -> (message, urn)` into a Rule."""
    config = config or {}

    def validate(args, report_violation) -> None:
        view = StackView(args.resources)
        for message, urn in check(view, merged_config(config, args.get_config())):
            report_violation(message, urn)
        if view.unknown:
            raise CannotCheck(view.unknown)

    policy = StackValidationPolicy(name=name, description=description, validate=validate,
                                   enforcement_level=level, config_schema=schema(config),
                                   severity=severity)
    return Rule(name, description, tuple(types), level, severity, tuple(anchors), unknown, policy,
                config)
