"""Declarative configuration: deployments written down as YAML documents and applied."""
