"""Package routes: upload a built package (a wheel, an npm tarball) for ``dev publish``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Path, Request

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.deploy import PackageStored

router = APIRouter(tags=["packages"])

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put("/packages/{registry}/{name}/{version}/{filename}", openapi_extra=_BINARY_BODY)
async def upload_package(
    rt: RuntimeDep,
    actor: Actor,
    request: Request,
    registry: Annotated[str, Path(description="pypi (a wheel) or npm (a tarball).")],
    name: Annotated[str, Path(description="The package's name; a scope's '/' sent as %2F.")],
    version: str,
    filename: str,
) -> PackageStored:
    """Store a package's file, the request's body (the same bytes again change nothing)."""
    return await rt.drivers.packages.upload(
        actor, registry, unquote(name), version, filename, request.stream()
    )
