"""Entry point of the aurorakit component package: the Pulumi CLI runs `python provider/`
(PulumiPlugin.yaml) and this serves the components (aurorakit.provider, i.e. components/provider.py)."""
from aurorakit.provider import main

if __name__ == "__main__":
    main()
