"""aurorakit components: import these from any Pulumi program.

In this repository (its own program and the tests) the package is `components`; installed from
the aurorakit distribution (pyproject.toml) the same modules are the package `aurorakit`:

    from aurorakit import Network, NetworkArgs, AuroraCluster, AuroraClusterArgs
    from aurorakit import AppFleet, AppFleetArgs, DatabaseEndpoint, SecurityGroupLink
"""
__version__ = "0.1.0"
"""The distribution's and the component package's version (pyproject.toml reads it here)."""

from .app_fleet import AppFleet, AppFleetArgs, DatabaseEndpoint, Placement, ScalingMetric  # noqa: E402
from .connections import Connections, SecurityGroupLink, SecurityGroupLinkArgs  # noqa: E402
from .database import AuroraCluster, AuroraClusterArgs, DbMode  # noqa: E402
from .dynamodb import (  # noqa: E402
    BillingMode,
    Capacity,
    DynamoTables,
    DynamoTablesArgs,
    GlobalIndex,
    Key,
    TableSpec,
)
from .engines import Engine  # noqa: E402
from .knobs import ArgsError  # noqa: E402
from .network import NatMode, Network, NetworkArgs  # noqa: E402

__all__ = ["AppFleet", "AppFleetArgs", "ArgsError", "AuroraCluster", "AuroraClusterArgs", "BillingMode",
           "Capacity", "Connections", "DatabaseEndpoint", "DbMode", "DynamoTables", "DynamoTablesArgs",
           "Engine", "GlobalIndex", "Key", "NatMode", "Network", "NetworkArgs", "Placement", "ScalingMetric",
           "SecurityGroupLink", "SecurityGroupLinkArgs", "TableSpec"]
