"""Runs a Pulumi YAML program that uses the aurorakit component package, the way the engine
would, but in this process and without a CLI: each `aurorakit:index:*` resource is constructed
by the package's own provider (`ComponentProvider.construct`: the schema's camelCase inputs
mapped to the Python Args, enums and integers converted as over the wire), `${resource.output}`
references resolve to the constructed components' state, `${configKey}` to the stack config.

Only what the examples use: whole-value references (no string interpolation, no functions,
no other resource types): anything else raises, so an example cannot silently use more.
Used by tests/package/yaml_main.py under preflight (recording mocks + the real policy pack).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components import __version__
from components.provider import COMPONENTS, NAME

REF = re.compile(r"\$\{([A-Za-z][\w-]*)(?:\.([A-Za-z]\w*))?\}")


def load(program_dir: Path) -> dict:
    return yaml.safe_load((program_dir / "Pulumi.yaml").read_text(encoding="utf-8"))


def references(value: Any) -> set[str]:
    """Resource or config names a property value refers to."""
    if isinstance(value, str):
        return {m.group(1) for m in REF.finditer(value)}
    if isinstance(value, dict):
        return set().union(*map(references, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(references, value)) if value else set()
    return set()


def order(resources: dict) -> list[str]:
    """Resource names, each after the resources it refers to (ValueError on a cycle)."""
    done: list[str] = []
    pending = dict(resources)
    while pending:
        ready = [n for n, r in pending.items()
                 if not (references(r.get("properties", {})) & set(pending))]
        if not ready:
            raise ValueError(f"reference cycle among {sorted(pending)}")
        for name in ready:
            done.append(name)
            del pending[name]
    return done


def _wire(value: Any) -> Any:
    """Numbers as the engine sends them (protobuf Struct: every number is a double)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def run(program_dir: Path) -> dict[str, dict]:
    """Construct every resource of the program; returns name -> the provider's state."""
    from pulumi.provider.experimental.component import ComponentProvider

    program = load(program_dir)
    declared = program.get("config", {})
    config = pulumi.Config()
    provider = ComponentProvider(list(COMPONENTS), NAME, version=__version__)
    states: dict[str, dict] = {}

    def config_value(key: str) -> Any:
        if key not in declared:
            raise ValueError(f"${{{key}}}: neither a resource nor a config key of the program")
        kind = declared[key].get("type", "string") if isinstance(declared[key], dict) else "string"
        return config.require_object(key) if kind in ("array", "object") else config.require(key)

    def resolve(value: Any) -> Any:
        if isinstance(value, str):
            match = REF.fullmatch(value)
            if match is None:
                if "${" in value:
                    raise ValueError(f"{value!r}: only whole-value references are supported here")
                return value
            name, prop = match.groups()
            if prop is None:
                return config_value(name)
            if prop not in states[name]:
                raise ValueError(f"{value!r}: {name} has no output {prop!r} (has {sorted(states[name])})")
            return states[name][prop]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    resources = program.get("resources", {})
    for name in order(resources):
        spec = resources[name]
        if not spec["type"].startswith(f"{NAME}:index:"):
            raise ValueError(f"{name}: {spec['type']} is not a component of the {NAME} package")
        inputs = _wire(resolve(spec.get("properties", {})))
        states[name] = provider.construct(name, spec["type"], inputs, pulumi.ResourceOptions()).state
    for key, value in program.get("outputs", {}).items():
        pulumi.export(key, resolve(value))
    return states
