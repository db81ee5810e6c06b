"""The invokes `RecordingMocks.call` answers (availability zones, AMI lookups, caller identity...)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .awsids import _alnum_upper, _ec2_id, _zone_id_prefix

if TYPE_CHECKING:
    from .mocks import RecordingMocks

AL2023_AMI_PARAMETER_PREFIX = "/aws/service/ami-amazon-linux-latest/al2023-ami-"


class UnknownInvokeError(NotImplementedError):
    """Raised for an invoke the mocks do not answer (add it to RecordingMocks.call)."""


def _azs(m, args):
    names = [f"{m.region}{s}" for s in "abc"]
    return {"id": m.region, "names": names, "zoneIds": [f"{_zone_id_prefix(m.region)}-az{n}" for n in (1, 2, 3)],
            "groupNames": [m.region] * 3, "state": args.get("state", "available")}


def _ami_id(m, name: str) -> str:
    return _ec2_id("ami", f"ami|{m.region}|{name}")


def _ssm_parameter(m, args):
    name = args.get("name", "")
    if not name.startswith(AL2023_AMI_PARAMETER_PREFIX):
        raise UnknownInvokeError(f"RecordingMocks answers aws:ssm/getParameter only for public "
                                 f"AMI parameters ({AL2023_AMI_PARAMETER_PREFIX}*), not {name!r}")
    value = _ami_id(m, name)
    return {"id": name, "name": name, "arn": f"arn:aws:ssm:{m.region}::parameter{name}",
            "type": "String", "value": value, "insecureValue": value, "version": 97,
            "withDecryption": args.get("withDecryption", True)}


def _get_ami(m, args):
    by_id = [v for f in args.get("filters", []) if f.get("name") == "image-id" for v in f.get("values", [])]
    if by_id:  # a pinned AMI: its architecture as registered on the mocks, else "" (preflight cannot know it)
        ami, arch = by_id[0], m.ami_architectures.get(by_id[0], "")
    else:
        arch = "arm64" if any("arm64" in str(f) for f in args.get("filters", [])) else "x86_64"
        ami = _ami_id(m, f"getAmi|{arch}")
    return {"id": ami, "imageId": ami, "architecture": arch, "name": f"al2023-ami-2023.9-{arch}",
            "ownerId": "137112412989", "rootDeviceName": "/dev/xvda", "state": "available",
            "mostRecent": args.get("mostRecent", False), "owners": args.get("owners", [])}


_INVOKES: dict[str, Callable[[RecordingMocks, dict], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _azs,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
    "aws:ec2/getAmi:getAmi": _get_ami,
    "aws:index/getCallerIdentity:getCallerIdentity": lambda m, a: {
        "accountId": m.account_id, "id": m.account_id, "userId": "AIDA" + _alnum_upper("user", 17),
        "arn": f"arn:aws:iam::{m.account_id}:user/aurorakit-ci"},
    "aws:index/getPartition:getPartition": lambda m, a: {
        "id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getRegion:getRegion": lambda m, a: {
        "id": m.region, "name": m.region, "region": m.region,
        "endpoint": f"ec2.{m.region}.amazonaws.com", "description": "Europe (Ireland)"},
}
