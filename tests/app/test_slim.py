"""The app ships without comments and docstrings (app/cloud_init.slim_python): same code, less
user data. Proven on every app module and on tricky cases: the AST is unchanged except that
docstrings are gone (a block left empty holds `...`)."""
from __future__ import annotations

import ast
import base64
import gzip
import io
import tokenize

import pytest

from app import cloud_init
from app.cloud_init import APP_DIR, USER_DATA_LIMIT, render_user_data, slim_python
from app.settings import ForumTables, Settings
from tests.app.test_cloud_init import LONG, files_of

TRICKY = '''"""Module docstring before the future import."""
from __future__ import annotations

import re  # a trailing comment

URL = "http://example.com/#anchor"  # '#' in a string stays
PATTERN = re.compile(r"""[#"']+""")


def only_doc():
    """Nothing but a docstring."""


class Empty:
    """Also only a docstring."""


def keeps_strings(x):
    """Doc."""
    "a string statement in the middle goes too"
    y = ("not a docstring"
         "implicitly concatenated")  # comment inside a bracket continuation
    z = f"{x} # not a comment"
    return """multi
# line string with a hash
""" + y + z


# a comment-only line

def last():
    x = 1
    """trailing string statement"""
    return x
'''


def without_docstrings(tree: ast.AST) -> str:
    """The AST with docstrings (and other lone string statements) removed and empty blocks
    holding `...`, dumped: what slimming must preserve."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                and isinstance(s.value.value, str))]
                setattr(node, field, kept or ([] if isinstance(node, ast.Module) else
                                              [ast.Expr(ast.Constant(Ellipsis))]))
    return ast.dump(tree)


@pytest.mark.parametrize("rel", sorted(p.name for p in APP_DIR.glob("*.py")))
def test_every_app_module_keeps_its_code(rel):
    source = (APP_DIR / rel).read_text()
    slim = slim_python(source)
    assert without_docstrings(ast.parse(slim)) == without_docstrings(ast.parse(source))
    assert len(slim) < len(source)
    assert not [t for t in tokenize.generate_tokens(io.StringIO(slim).readline) if t.type == tokenize.COMMENT]


def test_tricky_source_keeps_its_code_and_strings():
    slim = slim_python(TRICKY)
    assert without_docstrings(ast.parse(slim)) == without_docstrings(ast.parse(TRICKY))
    namespace: dict = {}
    exec(compile(slim, "tricky", "exec"), namespace)  # noqa: S102 - our own test source
    assert namespace["URL"] == "http://example.com/#anchor" and namespace["PATTERN"].pattern == "[#\"']+"
    assert namespace["keeps_strings"]("v").startswith("multi\n# line string with a hash\n")
    assert namespace["keeps_strings"]("v").endswith("not a docstringimplicitly concatenatedv # not a comment")
    assert namespace["only_doc"]() is None and namespace["last"]() == 1
    for gone in ("Module docstring", "trailing comment", "comment-only", "Nothing but", "in the middle",
                 "trailing string statement", "inside a bracket"):
        assert gone not in slim, gone
    assert slim.startswith("from __future__ import annotations\n")


def test_with_the_forum_configured_the_user_data_fits_and_slimming_shrinks_the_app(monkeypatch):
    tables = ForumTables(*(f"aurorakit-production-forum-{t}" for t in ("Forum", "Thread", "Comment")))
    user_data = render_user_data(**LONG, forum_tables=tables)
    assert len(base64.b64decode(cloud_init.encode_user_data(user_data))) < USER_DATA_LIMIT
    env_text = files_of(user_data)["/etc/aurorakit/app.env"]["content"]
    env = dict(line.split("=", 1) for line in env_text.splitlines())
    assert Settings.from_env(env).forum_tables == tables
    slim = len(gzip.compress(cloud_init.app_archive(), compresslevel=9, mtime=0))
    monkeypatch.setattr(cloud_init, "slim_python", lambda source: source)  # ship the sources as they are
    full = len(gzip.compress(cloud_init.app_archive(), compresslevel=9, mtime=0))
    assert slim < full * 0.9, (slim, full)
