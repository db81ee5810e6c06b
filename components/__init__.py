"""aurorakit components: import these from any Pulumi program.

    from components import Network, NetworkArgs, AuroraCluster, AuroraClusterArgs
    from components import AppHost, AppHostArgs, DatabaseEndpoint, SecurityGroupLink
"""
from .app_host import AppHost, AppHostArgs, DatabaseEndpoint
from .connections import Connections, SecurityGroupLink
from .database import AuroraCluster, AuroraClusterArgs
from .network import Network, NetworkArgs

__all__ = ["AppHost", "AppHostArgs", "AuroraCluster", "AuroraClusterArgs", "Connections",
           "DatabaseEndpoint", "Network", "NetworkArgs", "SecurityGroupLink"]
