"""STYLE.md for components: documented Args fields, type tokens, register_outputs keys."""
import ast
import re
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
MODULES = ["network.py", "database.py", "app_host.py", "connections.py", "dynamodb.py"]


def _classes(module):
    return [n for n in ast.parse((COMPONENTS / module).read_text()).body if isinstance(n, ast.ClassDef)]


@pytest.mark.parametrize("module", MODULES)
def test_every_args_field_has_a_docstring_ending_in_default_or_required(module):
    for cls in _classes(module):
        if not any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "dataclass" for d in cls.decorator_list):
            continue
        body = cls.body
        for i, node in enumerate(body):
            if isinstance(node, ast.AnnAssign):
                doc = body[i + 1] if i + 1 < len(body) else None
                text = doc.value.value if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) else ""
                assert re.search(r"(Default: .+|Required)\.?$", text.strip()), f"{cls.name}.{node.target.id}"


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
