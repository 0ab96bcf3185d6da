"""The gateway's routing table: deployments by owner and name, and their upstream instances."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import urlsplit

from mcp_console.schemas.errors import Invalid, NotFound, Unavailable
from mcp_console.schemas.remote import LOOPBACK_HOSTS, header_problem, url_problem
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.stdio.channel import StdioChannel

SessionMode = Literal["shared", "per-session"]
InstanceTransport = Literal["streamable-http", "stdio"]

SESSION_MODES: tuple[SessionMode, ...] = ("shared", "per-session")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(slots=True, eq=False)
class UpstreamInstance:
    """One running copy of a deployment's server, as the gateway reaches it.

    An HTTP instance is reached at ``url`` (plain http on loopback: the gateway is the one
    door to it); a stdio instance through ``channel``, which the gateway then owns (it reads
    the server's stdout), so nothing else may read that channel while it is routed. Only a
    ``remote`` instance, a server running elsewhere that a remote deployment fronts, may be
    reached over https or on another host, with ``headers`` (its credentials) added to
    every request sent there.

    Attributes:
        instance_id: The instance id on the instance's labels.
        transport: ``streamable-http`` or ``stdio``.
        url: The Streamable HTTP endpoint, e.g. ``http://127.0.0.1:32768/mcp``.
        channel: The JSON-lines channel of a stdio instance.
        healthy: Whether the health checker last found it healthy; unhealthy instances
            get no new sessions and no modern requests.
        draining: Set while it is being retired: no new sessions or modern requests,
            existing sessions stay until they end.
        remote: A server running elsewhere (a remote deployment's URL).
        headers: Sent on every request to a remote instance, replacing any the client
            sent under those names (never shown: they hold credentials).
    """

    instance_id: str
    transport: InstanceTransport
    # A remote URL may carry a key in its query string: never in a repr.
    url: str | None = field(default=None, repr=False)
    channel: StdioChannel | None = None
    healthy: bool = True
    draining: bool = False
    remote: bool = False
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    host: str = field(default="", init=False)
    port: int = field(default=0, init=False)
    path: str = field(default="", init=False, repr=False)
    tls: bool = field(default=False, init=False)
    # The request head's Host line and credential lines, rendered once.
    authority: bytes = field(default=b"", init=False)
    extra_head: bytes = field(default=b"", init=False, repr=False)
    replaced: frozenset[bytes] = field(default=frozenset(), init=False)
    # Owned by the LoadBalancer: requests in flight here, and until when (monotonic
    # seconds) it is passed over after failing to accept a connection.
    inflight: int = field(default=0, init=False)
    ejected_until: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.validate()
        if self.url is not None:
            parts = urlsplit(self.url)
            self.host = parts.hostname or ""
            self.tls = parts.scheme == "https"
            self.port = parts.port or _DEFAULT_PORTS[parts.scheme]
            self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            host = f"[{self.host}]" if ":" in self.host else self.host
            # A remote server (behind a proxy, say) expects the URL's authority as written.
            default = self.remote and parts.port is None
            self.authority = (host if default else f"{host}:{self.port}").encode()
        self.headers = dict(self.headers)
        self.extra_head = b"".join(
            f"{name}: {value}\r\n".encode() for name, value in self.headers.items()
        )
        self.replaced = frozenset(name.lower().encode() for name in self.headers)

    @property
    def routable(self) -> bool:
        """Whether new sessions and modern requests may go here."""
        return self.healthy and not self.draining

    def same_target(self, other: UpstreamInstance) -> bool:
        """Whether ``other`` reaches the same server (only flags differ)."""
        return (
            self.instance_id == other.instance_id
            and self.transport == other.transport
            and self.url == other.url
            and self.channel is other.channel
            and self.remote == other.remote
            and self.headers == other.headers
        )

    def validate(self) -> None:
        """Raise ``Invalid`` naming what is wrong with this instance's address."""
        if not self.instance_id:
            raise Invalid("an instance needs an id", field="instance_id")
        if self.transport == "streamable-http":
            if not self.url:
                raise Invalid(f"HTTP instance {self.instance_id} has no url", field="url")
            if self.remote:
                self._validate_remote(self.url)
            else:
                parts = urlsplit(self.url)
                if parts.scheme != "http":
                    raise Invalid(
                        f"instance url must be plain http on loopback, got {self.url!r}",
                        field="url",
                    )
                if parts.hostname not in LOOPBACK_HOSTS:
                    raise Invalid(
                        f"instance url must point at 127.0.0.1, got {self.url!r}", field="url"
                    )
        elif self.transport == "stdio":
            if self.channel is None:
                raise Invalid(f"stdio instance {self.instance_id} has no channel", field="channel")
        else:
            raise Invalid(
                f"transport must be streamable-http or stdio, got {self.transport!r}",
                field="transport",
            )
        if self.remote and self.transport != "streamable-http":
            raise Invalid(
                f"remote instance {self.instance_id} must speak streamable-http",
                field="transport",
            )
        if self.headers and not self.remote:
            raise Invalid(
                f"instance {self.instance_id} is run by the console: only a remote instance "
                "takes upstream headers",
                field="headers",
            )

    def _validate_remote(self, url: str) -> None:
        # The URL itself may hold a key: name the instance, never quote the URL.
        problem = url_problem(url)
        if problem is not None:
            raise Invalid(f"remote instance {self.instance_id}'s url {problem}", field="url")
        for name, value in self.headers.items():
            problem = header_problem(name, value)
            if problem is not None:
                raise Invalid(f"remote instance {self.instance_id}: {problem}", field="headers")


@dataclass(slots=True, eq=False)
class DeploymentRoute:
    """A deployment as the gateway routes to it.

    Attributes:
        deployment_id: The deployment's database id.
        owner_id: The owner's user id; the owner may always call it.
        owner_name: The owner's user name (the first part of the endpoint path).
        name: The deployment's name, unique per owner (the second part).
        session_mode: ``shared`` balances over the deployment's instances;
            ``per-session`` gives each client session an instance of its own (from the
            gateway's ``InstanceProvider``) and serves handshake-era clients only.
        allowed_user_ids: Users it is shared with, besides the owner.
        allowed_team_ids: Teams it is shared with: their members may call it.
        instances: The shared instances by id (not the per-session ones).
        blocked_tools: Tools whose definitions changed (or are new) since an operator
            approved them, in block mode: hidden from ``tools/list`` and refused to
            ``tools/call`` until approved. Empty for nearly every deployment, which then
            pays nothing for the check.
    """

    deployment_id: int
    owner_id: int
    owner_name: str
    name: str
    session_mode: SessionMode = "shared"
    allowed_user_ids: frozenset[int] = frozenset()
    allowed_team_ids: frozenset[int] = frozenset()
    instances: dict[str, UpstreamInstance] = field(default_factory=dict)
    blocked_tools: frozenset[str] = frozenset()
    candidates: tuple[UpstreamInstance, ...] = field(default=(), init=False)
    # Where the LoadBalancer starts its next scan, so ties rotate.
    rotation: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.session_mode not in SESSION_MODES:
            raise Invalid(
                f"session_mode must be shared or per-session, got {self.session_mode!r}",
                field="session_mode",
            )
        if not self.owner_name or not self.name or "/" in self.owner_name + self.name:
            raise Invalid("owner and deployment names must be non-empty, without '/'", field="name")
        self.allowed_user_ids = frozenset(self.allowed_user_ids)
        self.allowed_team_ids = frozenset(self.allowed_team_ids)
        self.blocked_tools = frozenset(self.blocked_tools)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the instances new work may go to (after any flag changes)."""
        self.candidates = tuple(i for i in self.instances.values() if i.routable)

    def may_call(self, principal: Principal) -> bool:
        """Whether ``principal`` may use this deployment's endpoint: its owner, an admin,
        a user or a member of a team it is shared with, within the key's scope."""
        if not principal.in_scope(self.deployment_id):
            return False
        return (
            principal.user_id == self.owner_id
            or principal.is_admin
            or principal.user_id in self.allowed_user_ids
            or not self.allowed_team_ids.isdisjoint(principal.team_ids)
        )

    @property
    def path(self) -> str:
        """The endpoint path on the gateway."""
        return f"/mcp/{self.owner_name}/{self.name}"


class InstanceLimit(Unavailable):
    """A per-session deployment runs as many session instances as it may: the client is
    told the limit and when to try again (HTTP 503 with ``Retry-After``).

    Attributes:
        limit: The most session instances the deployment may run at once.
        retry_after: Seconds after which a new session may find a free place.
    """

    def __init__(self, message: str, *, limit: int, retry_after: int) -> None:
        super().__init__(message, field="replicas")
        self.limit = limit
        self.retry_after = retry_after


# Ends one gateway session; returns whether it was still open.
EndSession = Callable[[], Awaitable[bool]]


class InstanceProvider(Protocol):
    """Starts and stops the dedicated instances of ``per-session`` deployments.

    The bridge implements it (``SessionInstances``); the gateway calls ``acquire`` when a
    client session begins (at ``initialize``) and ``release`` when it ends (DELETE, kill,
    idle expiry, or the instance dying).
    """

    async def acquire(
        self, route: DeploymentRoute, session_id: str, end_session: EndSession
    ) -> UpstreamInstance:
        """An instance ready to serve MCP, for this session alone; ``end_session`` ends the
        session in the gateway should the instance die or its deployment stop.

        Raises:
            InstanceLimit: the deployment already runs its most session instances.
            Unavailable: no instance could be started.
        """
        ...

    async def release(
        self, deployment_id: int, session_id: str, instance: UpstreamInstance
    ) -> None:
        """The session is over: stop and remove its instance."""
        ...


GoneListener = Callable[[int, UpstreamInstance], None]


class RoutingTable:
    """Deployments and their instances, fed by the deployment controller.

    Lookups are plain dictionary reads, so the request path never waits on it. Every
    mutation happens on the event loop. Listeners hear of each instance that stops being
    reachable (removed, replaced by a different target, or its deployment removed) so
    the gateway can end the sessions pinned to it.
    """

    def __init__(self) -> None:
        self._by_name: dict[tuple[str, str], DeploymentRoute] = {}
        self._by_id: dict[int, DeploymentRoute] = {}
        self._listeners: list[GoneListener] = []

    def add_listener(self, listener: GoneListener) -> None:
        """Call ``listener(deployment_id, instance)`` whenever an instance goes away."""
        self._listeners.append(listener)

    def lookup(self, owner: str, name: str) -> DeploymentRoute | None:
        """The deployment ``owner/name``, or ``None``."""
        return self._by_name.get((owner, name))

    def get(self, deployment_id: int) -> DeploymentRoute | None:
        """The deployment with this id, or ``None``."""
        return self._by_id.get(deployment_id)

    def routes(self) -> list[DeploymentRoute]:
        """Every deployment."""
        return list(self._by_id.values())

    def upsert_deployment(self, route: DeploymentRoute) -> DeploymentRoute:
        """Add a deployment or update its owner, name, mode, sharing and blocked tools.

        Instances already known are kept; those in ``route.instances`` are added (as by
        ``set_instance``). Returns the live route object.

        Raises:
            Invalid: another deployment already has this owner and name.
        """
        key = (route.owner_name, route.name)
        clash = self._by_name.get(key)
        if clash is not None and clash.deployment_id != route.deployment_id:
            raise Invalid(f"{route.path} already routes to another deployment", field="name")
        current = self._by_id.get(route.deployment_id)
        if current is None:
            current = DeploymentRoute(
                deployment_id=route.deployment_id,
                owner_id=route.owner_id,
                owner_name=route.owner_name,
                name=route.name,
                session_mode=route.session_mode,
                allowed_user_ids=route.allowed_user_ids,
                allowed_team_ids=route.allowed_team_ids,
                blocked_tools=route.blocked_tools,
            )
            self._by_id[route.deployment_id] = current
        else:
            self._by_name.pop((current.owner_name, current.name), None)
            current.owner_id = route.owner_id
            current.owner_name = route.owner_name
            current.name = route.name
            current.session_mode = route.session_mode
            current.allowed_user_ids = frozenset(route.allowed_user_ids)
            current.allowed_team_ids = frozenset(route.allowed_team_ids)
            current.blocked_tools = frozenset(route.blocked_tools)
        self._by_name[key] = current
        for instance in route.instances.values():
            self.set_instance(route.deployment_id, instance)
        return current

    def remove_deployment(self, deployment_id: int) -> None:
        """Forget a deployment; its instances count as gone. Unknown ids are ignored."""
        route = self._by_id.pop(deployment_id, None)
        if route is None:
            return
        self._by_name.pop((route.owner_name, route.name), None)
        gone = list(route.instances.values())
        route.instances.clear()
        route.refresh()
        self._notify(deployment_id, gone)

    def set_instance(self, deployment_id: int, instance: UpstreamInstance) -> None:
        """Add or update an instance.

        The same target (id, url or channel) with new flags keeps its sessions; a
        different target under the same id replaces the old one, whose sessions end.

        Raises:
            NotFound: the deployment is not in the table.
        """
        route = self._route(deployment_id)
        old = route.instances.get(instance.instance_id)
        if old is not None and old.same_target(instance):
            old.healthy = instance.healthy
            old.draining = instance.draining
        else:
            route.instances[instance.instance_id] = instance
            if old is not None:
                self._notify(deployment_id, [old])
        route.refresh()

    def set_health(self, deployment_id: int, instance_id: str, healthy: bool) -> None:
        """Record the health checker's verdict on an instance."""
        instance = self._instance(deployment_id, instance_id)
        instance.healthy = healthy
        self._route(deployment_id).refresh()

    def mark_draining(self, deployment_id: int, instance_id: str, draining: bool = True) -> None:
        """Stop (or resume) sending new sessions and modern requests to an instance."""
        instance = self._instance(deployment_id, instance_id)
        instance.draining = draining
        self._route(deployment_id).refresh()

    def remove_instance(self, deployment_id: int, instance_id: str) -> None:
        """Forget an instance; its sessions end (clients get 404 and re-initialize)."""
        route = self._by_id.get(deployment_id)
        if route is None:
            return
        instance = route.instances.pop(instance_id, None)
        if instance is None:
            return
        route.refresh()
        self._notify(deployment_id, [instance])

    def _route(self, deployment_id: int) -> DeploymentRoute:
        route = self._by_id.get(deployment_id)
        if route is None:
            raise NotFound(f"deployment {deployment_id} is not routed", field="deployment_id")
        return route

    def _instance(self, deployment_id: int, instance_id: str) -> UpstreamInstance:
        instance = self._route(deployment_id).instances.get(instance_id)
        if instance is None:
            raise NotFound(
                f"deployment {deployment_id} has no instance {instance_id!r}", field="instance_id"
            )
        return instance

    def _notify(self, deployment_id: int, instances: Iterable[UpstreamInstance]) -> None:
        for instance in instances:
            for listener in self._listeners:
                listener(deployment_id, instance)
