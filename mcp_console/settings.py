"""Settings, read from MCP_CONSOLE_* environment variables (nested groups with "__")."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The XDG data dir for mcp-console (``$XDG_DATA_HOME/mcp-console``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mcp-console"


class ImageSettings(BaseModel):
    """Where images for PyPI-packaged services come from."""

    base_image: str = "mcp-console/python-base:bookworm"
    wheel_dir: Path | None = None


class Settings(BaseSettings):
    """Everything configurable about mcp-console."""

    model_config = SettingsConfigDict(
        env_prefix="MCP_CONSOLE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    api_key: str | None = None
    bind_host: str = "127.0.0.1"
    api_port: int = 8765
    gateway_port: int = 8766
    runtime: str = "auto"
    images: ImageSettings = Field(default_factory=ImageSettings)
    local_admin_name: str = "admin"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'mcp-console.db'}"
