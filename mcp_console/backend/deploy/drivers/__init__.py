"""Runtime drivers behind one engine-neutral protocol: Docker containers and local processes."""

from mcp_console.backend.deploy.drivers.base import (
    InstanceHandle,
    InstanceSpec,
    ManagedInstance,
    PackageSource,
    ResourceLimits,
    RuntimeDriver,
    RuntimeEvent,
)
from mcp_console.backend.deploy.drivers.stdio import ChannelClosed, StdioChannel, stdio_transport

__all__ = [
    "ChannelClosed",
    "InstanceHandle",
    "InstanceSpec",
    "ManagedInstance",
    "PackageSource",
    "ResourceLimits",
    "RuntimeDriver",
    "RuntimeEvent",
    "StdioChannel",
    "stdio_transport",
]
