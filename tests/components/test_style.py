"""STYLE.md for components: documented Args fields, type tokens, register_outputs keys."""
import ast
import re
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
MODULES = ["network.py", "database.py", "app_fleet.py", "connections.py", "stack.py", "dynamodb.py"]


def _classes(module):
    return [n for n in ast.parse((COMPONENTS / module).read_text()).body if isinstance(n, ast.ClassDef)]


@pytest.mark.parametrize("module", MODULES)
def test_every_args_field_has_a_docstring_ending_in_default_or_required(module):
    for cls in _classes(module):
        if not any(ast.unparse(d) in ("args_class", "dataclass(frozen=True)") for d in cls.decorator_list):
            continue
        body = cls.body
        for i, node in enumerate(body):
            if isinstance(node, ast.AnnAssign):
                doc = body[i + 1] if i + 1 < len(body) else None
                text = doc.value.value if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) else ""
                assert re.search(r"(Default: .+|Required)\.?$", " ".join(text.split())), f"{cls.name}.{node.target.id}"


@pytest.mark.parametrize("module", MODULES)
def test_type_token_and_register_outputs_match_annotations(module):
    source = (COMPONENTS / module).read_text()
    for cls in _classes(module):
        bases = [ast.unparse(b) for b in cls.bases]
        if "pulumi.ComponentResource" not in bases:
            continue
        assert f'"aurorakit:index:{cls.name}"' in source
        annotated = {n.target.id for n in cls.body
                     if isinstance(n, ast.AnnAssign) and not n.target.id.endswith("connections")}
        init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
        last = init.body[-1]
        assert ast.unparse(last).startswith("self.register_outputs("), cls.name
        keys = {k.value for k in last.value.args[0].keys}
        assert keys == annotated, (cls.name, keys ^ annotated)


def _literal(text: str, cls: type):
    """The value after `Default: ` in a docstring (up to an explanation in parentheses): a
    literal, or a call of a class of the Args' module (e.g. `Capacity()`)."""
    import sys
    value = re.sub(r"\s+\(.*$", "", text.split("Default: ", 1)[1]).rstrip(".")
    try:
        return ast.literal_eval(value)
    except ValueError:
        return eval(value, vars(sys.modules[cls.__module__]))  # noqa: S307 - our own docstrings


def test_the_default_a_docstring_states_is_the_fields_default():
    """One default: the knob's; the docstring (the schema's description) must say the same."""
    import dataclasses
    import enum

    from components.knobs import default_of, field_docs
    from components.settings import SPECS
    checked = 0
    for _, cls in SPECS:
        docs = field_docs(cls)
        for f in dataclasses.fields(cls):
            default = default_of(cls, f.name)
            if default is dataclasses.MISSING:
                assert docs[f.name].endswith("Required."), f"{cls.__name__}.{f.name}"
                continue
            stated = _literal(docs[f.name], cls)
            actual = default.value if isinstance(default, enum.Enum) else default
            assert stated == actual or (isinstance(actual, tuple) and stated == tuple(actual)), \
                f"{cls.__name__}.{f.name}: docstring says {stated!r}, the field's default is {actual!r}"
            checked += 1
    assert checked >= 40
