"""Deployments converging on real processes and containers, with the controller running."""
