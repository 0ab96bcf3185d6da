"""Deployments: the controller, runtime drivers (Docker, processes), image builds, sharing."""
