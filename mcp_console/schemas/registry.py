"""Registry logins: the credentials a deployment pulls its images with."""

from __future__ import annotations

from pydantic import Field

from mcp_console.schemas.base import Dto

# ``host[:port]`` of an image registry.
REGISTRY_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$"


class RegistryLogin(Dto):
    """A username and password for the registry a deployment's images come from.

    ``registry`` defaults to the image's own; the password is stored encrypted, used for
    pulls only and never shown again (views list ``username@registry``).
    """

    registry: str | None = Field(default=None, pattern=REGISTRY_PATTERN, max_length=255)
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=4096, repr=False)
