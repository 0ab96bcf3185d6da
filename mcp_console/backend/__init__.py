"""The embedded asyncio backend: storage, catalog, deployments, gateway, monitoring."""
