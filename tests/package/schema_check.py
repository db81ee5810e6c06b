"""Checks a Pulumi YAML program's use of the aurorakit package against the package schema, as
`pulumi preview` would reject it (no CLI here): resource types, property names, required inputs,
literal types, enum values, nested object types, `${resource.output}` references (the output
exists, its type fits) and that no resource output feeds a `plain` input. Returns the problems."""
from __future__ import annotations

import re
from typing import Any

REF = re.compile(r"\$\{([A-Za-z][\w-]*)(?:\.([A-Za-z]\w*))?\}")
JSON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
              "array": (list,), "object": (dict,)}
CONFIG_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "array": "array",
                "object": "object"}


def check(program: dict, schema: dict) -> list[str]:
    problems: list[str] = []
    resources = program.get("resources", {})
    config = program.get("config", {})

    def output_of(name: str, prop: str, where: str) -> Any:
        if name not in resources:
            problems.append(f"{where}: ${{{name}.{prop}}}: no resource {name!r}")
            return None
        token = resources[name].get("type", "")
        outputs = schema["resources"].get(token, {}).get("properties", {})
        if prop not in outputs:
            problems.append(f"{where}: ${{{name}.{prop}}}: {token} has no output {prop!r}")
            return None
        return outputs[prop]

    def kind(prop: dict) -> str:
        if "$ref" in prop:
            target = schema["types"].get(prop["$ref"].removeprefix("#/types/"), {})
            return target.get("type", "object")
        return prop.get("type", "")

    def value(v: Any, prop: dict, where: str) -> None:
        if isinstance(v, str) and REF.fullmatch(v):
            name, out = REF.fullmatch(v).groups()
            if out is None:  # a config value: known before the program runs, fine for plain inputs
                declared = config.get(name)
                if declared is None:
                    problems.append(f"{where}: ${{{name}}} is neither a resource output nor a declared config key")
                elif CONFIG_TYPES.get(declared.get("type")) != kind(prop):
                    problems.append(f"{where}: config {name} is {declared.get('type')}, the input is {kind(prop)}")
                return
            source = output_of(name, out, where)
            if source is None:
                return
            if prop.get("plain"):
                problems.append(f"{where}: plain input (a literal or config value) given ${{{name}.{out}}}")
            refs = {source.get("$ref"), prop.get("$ref")}
            if kind(source) != kind(prop) or len(refs) > 1:
                problems.append(f"{where}: ${{{name}.{out}}} is {kind(source)}, the input is {kind(prop)}")
            return
        if isinstance(v, str) and "${" in v:
            problems.append(f"{where}: interpolation is not checked here; use a whole-value reference")
            return
        if "$ref" in prop:
            token = prop["$ref"].removeprefix("#/types/")
            typ = schema["types"].get(token)
            if typ is None:
                problems.append(f"{where}: unknown type {token}")
            elif "enum" in typ:
                allowed = [e["value"] for e in typ["enum"]]
                if v not in allowed:
                    problems.append(f"{where}: {v!r} is not one of {allowed}")
            elif not isinstance(v, dict):
                problems.append(f"{where}: expected an object ({token})")
            else:
                props(v, typ.get("properties", {}), typ.get("required", []), where)
            return
        expected = JSON_TYPES.get(prop.get("type", ""), ())
        if not isinstance(v, expected) or (isinstance(v, bool) and prop.get("type") != "boolean"):
            problems.append(f"{where}: {v!r} is not {prop.get('type')}")
            return
        if isinstance(v, list):
            for i, item in enumerate(v):
                value(item, prop.get("items", {}), f"{where}[{i}]")
        elif isinstance(v, dict) and "additionalProperties" in prop:
            for k, item in v.items():
                value(item, prop["additionalProperties"], f"{where}.{k}")

    def props(given: dict, declared: dict, required: list, where: str) -> None:
        for name in required:
            if name not in given:
                problems.append(f"{where}: missing required input {name!r}")
        for name, v in given.items():
            if name not in declared:
                problems.append(f"{where}: no input {name!r} (has {sorted(declared)})")
            else:
                value(v, declared[name], f"{where}.{name}")

    for name, res in resources.items():
        token = res.get("type", "")
        spec = schema["resources"].get(token)
        if spec is None:
            problems.append(f"{name}: unknown resource type {token!r}")
            continue
        props(res.get("properties", {}), spec["inputProperties"], spec.get("requiredInputs", []), name)
    for key, out in program.get("outputs", {}).items():
        match = REF.fullmatch(out) if isinstance(out, str) else None
        if match and match.group(2):
            output_of(match.group(1), match.group(2), f"outputs.{key}")
    return problems
