"""The aurorakit policy pack (a directory the Pulumi CLI runs; see policy/__main__.py).

Importing `policy` (or `policy.rules`) never starts the pack; only running __main__ does.
"""
