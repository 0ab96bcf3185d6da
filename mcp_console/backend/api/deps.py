"""Request dependencies: the runtime, the authenticated caller and service names in paths."""

from __future__ import annotations

from typing import Annotated, cast
from urllib.parse import unquote

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.principals import require_unscoped
from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal

bearer = HTTPBearer(
    auto_error=False,
    description="An mcp-console API key (`mcp-console user create` prints one).",
)


def runtime_of(request: Request) -> Runtime:
    """The runtime the app was created for."""
    return cast(Runtime, request.app.state.runtime)


async def key_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The user owning the bearer token, whatever the key may reach: a key limited to some
    deployments (scoped) included. Only routes that keep to a scope take it as is.

    Raises:
        Unauthorized: no bearer token, or one that matches no live API key.
    """
    if credentials is None:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    return await runtime_of(request).users.authenticate(credentials.credentials)


async def current_principal(principal: Annotated[Principal, Depends(key_principal)]) -> Principal:
    """The user owning the bearer token, whose key is not limited to some deployments.

    Every route takes this one unless it keeps to a key's scope by itself: a scoped key is
    for an agent using its deployments, never for managing users, keys, teams, shares or
    the catalog.

    Raises:
        Unauthorized: no bearer token, or one that matches no live API key.
        Forbidden: the key is scoped.
    """
    require_unscoped(principal)
    return principal


def service_name(
    name: Annotated[
        str,
        Path(
            description="The service name. Its '/' may be sent as is or as %2F; "
            "%2F keeps names ending in an action word (e.g. 'acme/reviews') unambiguous."
        ),
    ],
) -> str:
    """The service name from the path, with encoded slashes restored."""
    # Names never contain '%' (their pattern forbids it), so decoding is lossless.
    return unquote(name)


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Actor = Annotated[Principal, Depends(current_principal)]
# The caller of a route that keeps to a scoped key's deployments (deployment and live routes,
# catalog reads, /me): the services refuse what lies outside the scope.
ScopedActor = Annotated[Principal, Depends(key_principal)]
ServiceName = Annotated[str, Depends(service_name)]
