"""The label values /metrics may carry: every one from a bounded set, whatever clients send."""

from __future__ import annotations

from mcp_console.backend.gateway.records import TOOLS_CALL, RequestRecord, is_error
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance

# The rule, in one place. Clients choose methods, tool names and (through the servers they
# call) error codes; a label taking those as they come would let one client create series
# without end. So each label is drawn from a bounded set:
# - ``deployment``: ``owner/name`` of a deployment the gateway routes (the id when it has
#   gone meanwhile); bounded by the deployments that exist.
# - ``mcp_method_name``: a method of the MCP specification (MCP_METHODS), ``GET`` or
#   ``DELETE`` for the stream and session end, ``""`` for a body that names none (a
#   client's reply to the server, an unreadable body); any other method is OTHER.
# - ``gen_ai_tool_name``: only on ``tools/call``. A name whose call did not fail (no
#   JSON-RPC or HTTP error) joins the deployment's set, up to MAX_TOOLS names; every other
#   name (failing, past the cap, longer than MAX_NAME_LENGTH) is OTHER. Servers answer an
#   unknown tool with an ``isError`` result, which is no failure here: the cap is what
#   bounds a client sending made-up names.
# - ``state`` (of routed instances): ``healthy``, ``unhealthy`` or ``draining``; ``status``
#   (of the controller's instances): an ``InstanceStatus`` in lower case; ``instance_id``:
#   an instance that is not stopped (both in prometheus_instances).
# - ``error_type``: ``""`` for success (``records.is_error``); a failed request's JSON-RPC
#   code when it is one of JSONRPC_CODES, its HTTP status when that is 400-599, else OTHER.
# Never a session id, a user, an argument or any other free text.
OTHER = "_OTHER"  # the OpenTelemetry conventions' value for "none of the known ones"
MAX_TOOLS = 100
MAX_NAME_LENGTH = 128  # MCP's own limit on a tool name

MCP_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "tools/list",
        TOOLS_CALL,
        "prompts/list",
        "prompts/get",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "completion/complete",
        "logging/setLevel",
        "tasks/get",
        "tasks/result",
        "tasks/list",
        "tasks/cancel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
        "notifications/tasks/status",
        "GET",
        "DELETE",
        "",
    }
)

# JSON-RPC's own codes and the ones MCP defines; a server's other codes are OTHER.
JSONRPC_CODES = frozenset({-32700, -32600, -32601, -32602, -32603, -32002, -32001, -32000})


def deployment_value(owner: str, name: str) -> str:
    """The ``deployment`` value of the deployment ``name`` of user ``owner``."""
    return f"{owner}/{name}"


def deployment_label(route: DeploymentRoute) -> str:
    """The ``deployment`` value of a routed deployment."""
    return deployment_value(route.owner_name, route.name)


def instance_state(instance: UpstreamInstance) -> str:
    """The ``state`` value of a routed instance: ``draining``, ``healthy`` or ``unhealthy``."""
    if instance.draining:
        return "draining"
    return "healthy" if instance.healthy else "unhealthy"


def method_label(method: str) -> str:
    """The ``mcp_method_name`` value of a request's method."""
    return method if method in MCP_METHODS else OTHER


def error_label(record: RequestRecord) -> str:
    """The ``error_type`` value of a finished request (``""`` when it did not fail)."""
    if not is_error(record):
        return ""
    error = record.error
    if not isinstance(error, bool):
        return str(error) if error in JSONRPC_CODES else OTHER
    if 400 <= record.status <= 599:
        return str(record.status)
    return OTHER


class ToolNames:
    """The tool names one deployment's series may carry (at most MAX_TOOLS of them).

    Args:
        limit: How many distinct names to keep before every new one is OTHER.
    """

    __slots__ = ("_known", "_limit")

    def __init__(self, limit: int = MAX_TOOLS) -> None:
        self._known: set[str] = set()
        self._limit = limit

    def label(self, name: str | None, failed: bool) -> str:
        """The ``gen_ai_tool_name`` value of a ``tools/call`` of ``name``.

        Args:
            name: The tool the client named (``None`` when it named none).
            failed: Whether the call failed: the name of a failed call does not join the
                set (it counts as OTHER unless it is already in).
        """
        if name is None:
            return OTHER
        if name in self._known:
            return name
        if failed or len(self._known) >= self._limit or not _plain(name):
            return OTHER
        self._known.add(name)
        return name

    def __len__(self) -> int:
        return len(self._known)


def _plain(name: str) -> bool:
    """A name fit for a label: short, printable, and not the overflow value itself."""
    return 0 < len(name) <= MAX_NAME_LENGTH and name.isprintable() and name != OTHER
