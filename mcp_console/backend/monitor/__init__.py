"""Live figures of deployments, their gateway sessions, and the inspector."""
