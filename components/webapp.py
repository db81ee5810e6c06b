"""The web app's modules the components use (user data, boot artifacts, settings, forum model,
bootstrap SQL).

In this repository the app is the top-level package `app/`, next to `components/`. The aurorakit
distribution (pyproject.toml) ships both under ONE import name, `aurorakit` (this package) and
`aurorakit.app`, so that a program with its own `app` package never gets ours. Components import
the app only through this module, which picks the app shipped inside this package when there is
one, else the top-level `app`: the same code runs in both layouts.
"""
from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING

_INSIDE = f"{__package__}.app"
APP = _INSIDE if find_spec(_INSIDE) is not None else "app"
"""The app's import name: "aurorakit.app" when installed from the distribution, else "app"."""

if TYPE_CHECKING:  # type checkers read this repository's layout
    from app import boot_artifacts, cloud_init, forum_schema, metric_names, settings
    from app.bootstrap import sql as bootstrap_sql
else:
    boot_artifacts = import_module(f"{APP}.boot_artifacts")
    cloud_init = import_module(f"{APP}.cloud_init")
    forum_schema = import_module(f"{APP}.forum_schema")
    metric_names = import_module(f"{APP}.metric_names")
    settings = import_module(f"{APP}.settings")
    bootstrap_sql = import_module(f"{APP}.bootstrap.sql")

__all__ = ["APP", "boot_artifacts", "bootstrap_sql", "cloud_init", "forum_schema", "metric_names", "settings"]
