"""Clients of the backend: the ConsoleClient protocol and its local and remote transports."""
