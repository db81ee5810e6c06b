"""Deterministic AWS-looking values for the mocks (preflight/mocks.py, mock_outputs.py).

Every value is derived from a hash of a seed (the mocks use ``"<type>|<name>"``), so the same
program always gets the same ids, ARNs, addresses and names.
"""
from __future__ import annotations

import hashlib


def _hex(seed: str, n: int) -> str:
    out = ""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}#{counter}".encode()).hexdigest()
        counter += 1
    return out[:n]


def _alnum_upper(seed: str, n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    digest = hashlib.sha256(seed.encode()).digest() * (n // 32 + 1)
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


def _zone_id_prefix(region: str) -> str:
    """eu-west-1 -> euw1 (the AZ-id prefix AWS uses, e.g. euw1-az2)."""
    parts = region.split("-")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _physical_name(name: str, inputs: dict, key: str = "name", lower: bool = False,
                   seed: str = "") -> str:
    """The provider's auto-naming: the explicit value, else `<logical>-<7 hex>`."""
    explicit = inputs.get(key)
    if explicit:
        return explicit
    prefix = inputs.get(f"{key}Prefix")
    value = f"{prefix}{_hex(seed, 26)}" if prefix else f"{name}-{_hex(seed, 7)}"
    return value.lower() if lower else value


def _ec2_id(prefix: str, seed: str) -> str:
    return f"{prefix}-0{_hex(seed, 16)}"


def _private_ip(seed: str, inputs: dict) -> str:
    h = bytes.fromhex(_hex(seed, 8))
    return f"10.{h[0] % 16}.{h[1]}.{h[2] % 250 + 4}"


def _public_ip(seed: str) -> str:
    h = bytes.fromhex(_hex(seed, 8))
    return f"{[3, 18, 34, 52, 54][h[0] % 5]}.{h[1]}.{h[2]}.{h[3] % 250 + 4}"
