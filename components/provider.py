"""The aurorakit component package: these components, served to every Pulumi language.

`pulumi package add <repo>/provider@v<version>` runs provider/__main__.py (PulumiPlugin.yaml),
which calls `main()`: Pulumi's component provider host, whose schema is inferred from the
components' type annotations and docstrings (pulumi.provider.experimental). `schema()` builds
that same schema in-process (no CLI); provider/schema.json is its committed copy (`make schema`).

Type tokens are `aurorakit:index:<Class>`, the tokens the components register with: the package
name is `aurorakit`, so a consuming program should not itself be named aurorakit (its stack
config would be read as this package's provider configuration).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .app_fleet import AppFleet
from .connections import SecurityGroupLink
from .database import AuroraCluster
from .dynamodb import DynamoTables
from .network import Network

NAME = "aurorakit"
COMPONENTS = (Network, AuroraCluster, AppFleet, DynamoTables, SecurityGroupLink)


def schema() -> dict[str, Any]:
    """The package schema exactly as the provider serves it (GetSchema)."""
    from pulumi.provider.experimental.component import ComponentProvider

    text = ComponentProvider(list(COMPONENTS), NAME, version=__version__).schema
    if text is None:  # typed Optional on the SDK's base Provider; the component provider always has one
        raise RuntimeError("the component provider built no schema")
    return json.loads(text)


def schema_text() -> str:
    """provider/schema.json's content."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Serve the components (the engine starts this as the package's plugin)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(list(COMPONENTS), NAME, version=__version__)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-schema"] and len(sys.argv) == 3:
        Path(sys.argv[2]).write_text(schema_text(), encoding="utf-8")
    else:
        main()
