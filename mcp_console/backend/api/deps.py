"""Request dependencies: the runtime, the authenticated caller and service names in paths."""

from __future__ import annotations

from typing import Annotated, cast
from urllib.parse import unquote

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal

bearer = HTTPBearer(
    auto_error=False,
    description="An mcp-console API key (`mcp-console user create` prints one).",
)


def runtime_of(request: Request) -> Runtime:
    """The runtime the app was created for."""
    return cast(Runtime, request.app.state.runtime)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The user owning the bearer token.

    Raises:
        Unauthorized: no bearer token, or one that matches no live API key.
    """
    if credentials is None:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    return await runtime_of(request).users.authenticate(credentials.credentials)


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
ServiceName = Annotated[str, Depends(service_name)]
