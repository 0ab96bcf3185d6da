"""Live routes: a deployment's figures, its gateway sessions, and the inspector."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from mcp_console.backend.api.deps import RuntimeDep, ScopedActor
from mcp_console.backend.api.routes.deployments import DeploymentName
from mcp_console.schemas.monitor import (
    DeploymentMetrics,
    InspectReport,
    SessionView,
    ToolCallOutcome,
)
from mcp_console.schemas.server_docs import ServerDefinitions

# Included before the deployment routes: their bare ``/deployments/{name:path}`` would
# take ``/deployments/calc/metrics`` for a deployment called ``calc/metrics``.
router = APIRouter(tags=["live"])

SessionId = Annotated[str, Path(description="The session's id (its Mcp-Session-Id).")]


class ToolCallBody(BaseModel):
    """A tool to call and its arguments."""

    tool: str = Field(min_length=1, max_length=500)
    arguments: dict[str, Any] = Field(default_factory=dict)


@router.get("/deployments/{name:path}/metrics")
async def deployment_metrics(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> DeploymentMetrics:
    """The last minute of gateway traffic, second by second, and each instance now."""
    return await rt.live_figures.deployment_metrics(actor, name)


@router.get("/deployments/{name:path}/sessions")
async def list_sessions(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> list[SessionView]:
    """The client sessions the gateway holds for the deployment, newest first."""
    return await rt.gateway_sessions.list_sessions(actor, name)


@router.post("/deployments/{name:path}/sessions/{session_id}/drain")
async def drain_session(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, session_id: SessionId
) -> SessionView:
    """Let a session finish what it is doing, then end it."""
    return await rt.gateway_sessions.drain_session(actor, name, session_id)


@router.delete(
    "/deployments/{name:path}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def kill_session(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, session_id: SessionId
) -> None:
    """End a session now, cancelling its requests in flight."""
    await rt.gateway_sessions.kill_session(actor, name, session_id)


@router.get("/deployments/{name:path}/inspect")
async def inspect_deployment(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> InspectReport:
    """Connect through the deployment's endpoint as the caller and list what it offers."""
    return await rt.inspector.inspect(actor, name)


@router.get("/deployments/{name:path}/definitions")
async def server_definitions(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName
) -> ServerDefinitions:
    """Every tool, resource, resource template and prompt the deployment's server lists."""
    return await rt.inspector.definitions(actor, name)


@router.post("/deployments/{name:path}/tools/call")
async def call_tool(
    rt: RuntimeDep, actor: ScopedActor, name: DeploymentName, body: ToolCallBody
) -> ToolCallOutcome:
    """Call one tool through the deployment's endpoint as the caller."""
    return await rt.inspector.call_tool(actor, name, body.tool, body.arguments)
