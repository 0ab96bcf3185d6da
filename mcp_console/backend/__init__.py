"""The embedded asyncio backend, in layers (pyproject.toml's import contract keeps them).

From the top: daemon, api, runtime, monitor, bridge, deploy | gateway (never each other),
catalog, security, ports, stdio | events, db.
"""
