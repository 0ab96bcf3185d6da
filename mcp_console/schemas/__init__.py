"""Pydantic DTOs shared by the TUI, the clients, the API and the backend services."""
