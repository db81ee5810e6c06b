"""A proposed speed-up for the policy pack, measured by `bench/run.py --pack-fastpath` (not used
by policy/ itself: the pack's maintainer decides).

pulumi-policy 1.21 converts the same request properties with json_format.MessageToDict once per
policy: 29x per Analyze (plus the provider's), and every resource once per stack policy (11x)
in AnalyzeStack. Within one RPC the request does not change and the dict is only read
(deserialize_properties copies it), so a memo scoped to the RPC returns what the SDK would
compute. `install()` does nothing if the SDK's internals are not what this expects.
Together with `gc.disable()` in the pack process (a per-preview process).
"""
import functools
import threading

from google.protobuf import json_format

_memo = threading.local()


class _JsonFormat:
    """What pulumi_policy.policy sees as `json_format`: the real module, with a per-RPC memo."""

    def __getattr__(self, name):
        return getattr(json_format, name)

    @staticmethod
    def MessageToDict(message, *args, **kwargs):  # noqa: N802 - protobuf's name
        cache = getattr(_memo, "cache", None)
        if cache is None or args or kwargs:
            return json_format.MessageToDict(message, *args, **kwargs)
        hit = cache.get(id(message))
        if hit is None or hit[0] is not message:  # the message is held: its id is not reused
            hit = cache[id(message)] = (message, json_format.MessageToDict(message))
        return hit[1]


def _per_rpc(method):
    @functools.wraps(method)
    def wrapper(self, request, context):
        _memo.cache = {}
        try:
            return method(self, request, context)
        finally:
            _memo.cache = None
    return wrapper


def install() -> bool:
    try:
        from pulumi_policy import policy
        servicer = policy._PolicyAnalyzerServicer
        if policy.json_format is not json_format:
            return False
    except (ImportError, AttributeError):
        return False
    policy.json_format = _JsonFormat()
    for name in ("Analyze", "AnalyzeStack", "Remediate"):
        setattr(servicer, name, _per_rpc(getattr(servicer, name)))
    return True
