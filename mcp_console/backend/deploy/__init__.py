"""Deployments: runtime drivers (Docker, processes), image builds, and the services on top."""
