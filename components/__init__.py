"""aurorakit components: import these from any Pulumi program.

    from components import Network, NetworkArgs, AuroraCluster, AuroraClusterArgs
    from components import AppFleet, AppFleetArgs, DatabaseEndpoint, SecurityGroupLink
"""
from .app_fleet import AppFleet, AppFleetArgs, DatabaseEndpoint, Placement, ScalingMetric
from .connections import Connections, SecurityGroupLink
from .database import AuroraCluster, AuroraClusterArgs, DbMode
from .engines import Engine
from .knobs import ArgsError
from .network import NatMode, Network, NetworkArgs

__all__ = ["AppFleet", "AppFleetArgs", "ArgsError", "AuroraCluster", "AuroraClusterArgs", "Connections",
           "DatabaseEndpoint", "DbMode", "Engine", "NatMode", "Network", "NetworkArgs", "Placement",
           "ScalingMetric", "SecurityGroupLink"]
