"""The component package's schema, built in-process by the SDK's analyzer exactly as the provider
serves it: committed (provider/schema.json, `make schema`), complete and self-describing."""
import dataclasses
import enum
import json
import re
import typing
from pathlib import Path

import pytest

from components import __version__
from components.knobs import base_type
from components.provider import COMPONENTS, NAME, schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "provider" / "schema.json"


@pytest.fixture(scope="module")
def spec():
    return schema()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def args_of(component) -> type:
    return base_type(typing.get_type_hints(component.__init__)["args"])


def registered_outputs(component) -> set[str]:
    """The keys of the component's register_outputs call (its documented outputs)."""
    import ast
    import inspect
    import textwrap

    init = ast.parse(textwrap.dedent(inspect.getsource(component.__init__))).body[0]
    call = init.body[-1].value
    return {k.value for k in call.args[0].keys}


def test_committed_schema_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), "provider/schema.json is stale: run `make schema`"


def test_package_name_version_and_tokens(spec):
    assert spec["name"] == NAME == "aurorakit" and spec["version"] == __version__
    assert spec.get("dependencies", []) == []  # no other package's resources cross the boundary
    assert list(spec["resources"]) == [f"aurorakit:index:{c.__name__}" for c in COMPONENTS]
    for component in COMPONENTS:  # the token each component registers with is the schema's
        source = Path(__import__("inspect").getsourcefile(component)).read_text()
        assert f'super().__init__("aurorakit:index:{component.__name__}"' in source


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_inputs_are_the_args_fields_required_exactly_when_they_have_no_default(spec, component):
    resource = spec["resources"][f"aurorakit:index:{component.__name__}"]
    args = args_of(component)
    fields = dataclasses.fields(args)
    assert list(resource["inputProperties"]) == [camel(f.name) for f in fields]
    required = {camel(f.name) for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert set(resource["requiredInputs"]) == required and required


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_outputs_are_the_registered_outputs_and_nothing_python_only(spec, component):
    resource = spec["resources"][f"aurorakit:index:{component.__name__}"]
    assert set(resource["properties"]) == {camel(k) for k in registered_outputs(component)}
    assert not any("connections" in name.lower() for name in resource["properties"])
    assert not any(p.get("$ref", "").startswith("#/types/aurorakit:index:Connections")
                   for p in resource["properties"].values())


def _properties(spec):
    """(where, name, property) for every input, output and type property, items and values too."""
    def walk(where, props):
        for name, prop in props.items():
            yield where, name, prop
            for sub in ("items", "additionalProperties"):
                if sub in prop:
                    yield from walk(f"{where}.{name}[{sub}]", {name: prop[sub]})
    for token, resource in spec["resources"].items():
        yield from walk(f"{token} input", resource["inputProperties"])
        yield from walk(f"{token} output", resource["properties"])
    for token, typ in spec["types"].items():
        yield from walk(token, typ.get("properties", {}))


def test_every_component_type_property_and_enum_value_is_described(spec):
    described = [(w, n) for w, n, p in _properties(spec)]
    assert len(described) > 150
    missing = [f"{w} {n}" for w, n, p in _properties(spec) if not (p.get("description") or "").strip()]
    assert not missing, missing
    for token, item in [*spec["resources"].items(), *spec["types"].items()]:
        text = (item.get("description") or "").strip()
        assert text and "module docstring" not in text, token
        for value in item.get("enum", []):
            assert (value.get("description") or "").strip(), f"{token} {value['value']}"


def test_every_input_states_its_default_or_that_it_is_required(spec):
    for token, resource in spec["resources"].items():
        for name, prop in resource["inputProperties"].items():
            text = " ".join(prop["description"].split())
            assert re.search(r"(Default: .+|Required)\.?$", text), f"{token}.{name}"


def _enums_used():
    seen = {}

    def visit(hint):
        base = base_type(hint)
        for arg in typing.get_args(base):
            visit(arg)
        if isinstance(base, type) and issubclass(base, enum.Enum):
            seen[base.__name__] = base
        elif dataclasses.is_dataclass(base) and base.__name__ not in seen:
            seen[base.__name__] = base
            for h in typing.get_type_hints(base).values():
                visit(h)
    for component in COMPONENTS:
        for hint in typing.get_type_hints(args_of(component)).values():
            visit(hint)
    return seen


def test_closed_sets_are_enums_and_nested_types_are_object_types(spec):
    used = _enums_used()
    assert {"NatMode", "Engine", "DbMode", "Placement", "ScalingMetric", "BillingMode", "DatabaseEndpoint",
            "Capacity", "TableSpec", "Key", "GlobalIndex", "Connections"} <= set(used)
    assert set(spec["types"]) == {f"aurorakit:index:{name}" for name in used}
    for name, py in used.items():
        typ = spec["types"][f"aurorakit:index:{name}"]
        if issubclass(py, enum.Enum):
            assert [v["value"] for v in typ["enum"]] == [m.value for m in py] and typ["type"] == "string"
        else:
            assert typ["type"] == "object"
            assert list(typ["properties"]) == [camel(f.name) for f in dataclasses.fields(py)]


def test_plain_where_a_value_decides_what_exists_inputs_where_it_can_come_from_resources(spec):
    cluster = spec["resources"]["aurorakit:index:AuroraCluster"]["inputProperties"]
    assert cluster["vpcId"] == {"description": cluster["vpcId"]["description"], "type": "string"}
    assert cluster["readers"]["plain"] is True and cluster["proxy"]["plain"] is True
    assert cluster["engine"] == {"description": cluster["engine"]["description"], "plain": True,
                                 "$ref": "#/types/aurorakit:index:Engine"}
    fleet = spec["resources"]["aurorakit:index:AppFleet"]["inputProperties"]
    assert "plain" not in fleet["kmsKeyArn"] and fleet["database"]["plain"] is True
    endpoint = spec["types"]["aurorakit:index:DatabaseEndpoint"]["properties"]
    assert "plain" not in endpoint["writerEndpoint"] and endpoint["port"]["plain"] is True


def test_subnet_ids_and_forum_tables_take_outputs_item_by_item(spec):
    """What compose() passes: Network's subnet ids are a list of Outputs and DynamoTables' table
    names a map of Outputs, so no item of these inputs is plain in any language either."""
    cluster = spec["resources"]["aurorakit:index:AuroraCluster"]["inputProperties"]
    fleet = spec["resources"]["aurorakit:index:AppFleet"]["inputProperties"]
    items = {"AuroraCluster.subnetIds": cluster["subnetIds"]["items"],
             "AppFleet.subnetIds": fleet["subnetIds"]["items"],
             "AppFleet.loadBalancerSubnetIds": fleet["loadBalancerSubnetIds"]["items"],
             "AppFleet.forumTables": fleet["forumTables"]["additionalProperties"]}
    assert {name: item for name, item in items.items() if item.get("plain")} == {}
    assert all(item["type"] == "string" for item in items.values())


def test_a_link_is_declared_with_serializable_connections(spec):
    link = spec["resources"]["aurorakit:index:SecurityGroupLink"]
    assert link["requiredInputs"] == ["source", "target"]
    assert link["inputProperties"]["source"]["$ref"] == "#/types/aurorakit:index:Connections"
    conn = spec["types"]["aurorakit:index:Connections"]
    assert conn["required"] == ["securityGroupIds"]
    assert conn["properties"]["securityGroupIds"]["items"]["type"] == "string"
    assert conn["properties"]["defaultPort"]["type"] == "integer"
    for name in ("AuroraCluster", "AppFleet"):  # what a link's source/target is made of
        outputs = spec["resources"][f"aurorakit:index:{name}"]["properties"]
        assert outputs["securityGroupId"]["type"] == "string" and outputs["port"]["type"] == "integer"


def test_schema_json_is_valid_json_with_stable_order():
    assert json.loads(COMMITTED.read_text()) == schema()
    assert schema_text() == schema_text()
