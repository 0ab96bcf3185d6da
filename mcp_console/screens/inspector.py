"""InspectorScreen: pick a deployment, a URL or a command; see what its server offers, call
its tools."""

from __future__ import annotations

import shlex
from enum import StrEnum
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, Select, Static, TabbedContent, TabPane

from mcp_console.messages import BackendEventReceived
from mcp_console.schemas.deploy import DeploymentView
from mcp_console.schemas.errors import ConsoleError, Invalid
from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome
from mcp_console.schemas.server_target import (
    ServerTarget,
    parse_headers,
    split_command,
    url_target,
)
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.widgets.rpc_view import ExchangeView, listing, server_line
from mcp_console.widgets.tool_pane import ToolPane


class TargetKind(StrEnum):
    """How the inspector names the server it reaches."""

    DEPLOYMENT = "deployment"
    URL = "url"
    COMMAND = "command"


KIND_LABELS = {
    TargetKind.DEPLOYMENT: "Deployment",
    TargetKind.URL: "URL",
    TargetKind.COMMAND: "Command",
}
# What the status line says while nothing is inspected yet.
HINTS = {
    TargetKind.DEPLOYMENT: "Pick a deployment: enter opens the list (d from anywhere).",
    TargetKind.URL: "Type a Streamable HTTP URL, and a header if it asks for a key; enter "
    "connects.",
    TargetKind.COMMAND: "Type the command that starts a stdio server (quoted as in a shell); "
    "enter starts it.",
}


def deployment_label(deployment: DeploymentView) -> str:
    """A deployment as the picker lists it: its address, what it runs, its status."""
    version = f" {deployment.version}" if deployment.version else ""
    status = deployment.status.value.lower()
    return f"{deployment.address} · {deployment.service}{version} · {status}"


class InspectorScreen(ConsoleScreen):
    """An MCP inspector on any deployment the user can reach, through its gateway endpoint,
    or (when the console can open sessions itself) on a server at a URL or started by a
    command, from this machine as its user.

    Every call goes through a worker; what goes wrong is a notification (the unexpected
    also opens the error modal), a wrong argument is marked at its field.
    """

    DEFAULT_CSS = """
    InspectorScreen #inspector-target {
        height: auto;
        margin: 0 1;
    }
    InspectorScreen #inspector-kind {
        width: 16;
        margin-right: 1;
    }
    InspectorScreen #inspector-deployment, InspectorScreen #inspector-url,
    InspectorScreen #inspector-command {
        width: 1fr;
    }
    InspectorScreen #inspector-header {
        width: 1fr;
        margin-left: 1;
    }
    InspectorScreen #inspector-status {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    InspectorScreen #inspector-status.-error {
        color: $text-error;
    }
    InspectorScreen #inspector-tabs {
        height: 1fr;
    }
    InspectorScreen #inspector-tabs TabPane {
        padding: 0;
    }
    InspectorScreen .inspector-scroll {
        padding: 0 1;
    }
    InspectorScreen #inspector-empty {
        padding: 1 2;
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "call", "Call", priority=True, id="call-tool"),
        Binding("d", "pick_deployment", "Deployment", id="pick-deployment"),
        Binding("u", "pick_kind('url')", "URL", id="pick-url"),
        Binding("c", "pick_kind('command')", "Command", id="pick-command"),
        Binding("t", "show_tab('tools')", "Tools", show=False, id="show-tools"),
        Binding("r", "show_tab('resources')", "Resources", show=False, id="show-resources"),
        Binding("p", "show_tab('prompts')", "Prompts", show=False, id="show-prompts"),
        Binding("x", "show_tab('exchange')", "Exchange", id="show-exchange"),
        Binding("ctrl+r", "reinspect", "Inspect again", show=False, id="reinspect"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(
        self,
        context: ConsoleContext,
        deployment: str | None = None,
        server: ServerTarget | None = None,
    ) -> None:
        super().__init__(context)
        self.title = "Inspector"
        self.wanted = deployment
        self.wanted_server = server  # opened at once (the console's --inspect)
        self.deployments: list[DeploymentView] = []
        self.loaded = False  # the deployments are listed
        # What is inspected: a deployment's name, or a server this console reaches itself.
        self.current: str | ServerTarget | None = None
        self.kind = TargetKind.DEPLOYMENT
        if server is not None and context.inspector is not None:
            self.kind = TargetKind.URL if server.url is not None else TargetKind.COMMAND
        self.inspected: InspectReport | None = None
        self.calling = False

    @property
    def deployment(self) -> str | None:
        """The deployment inspected (``None``: none, or a server named by URL or command)."""
        return self.current if isinstance(self.current, str) else None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="inspector-target"):
            yield Select[TargetKind](
                [(label, kind) for kind, label in KIND_LABELS.items()],
                value=self.kind,
                allow_blank=False,
                id="inspector-kind",
                compact=True,
            )
            yield Select[str](
                [],
                prompt="Pick a deployment to inspect (d)",
                id="inspector-deployment",
                compact=True,
            )
            yield Input(placeholder="http://HOST:PORT/mcp (u)", id="inspector-url", compact=True)
            yield Input(
                placeholder="Header, e.g. Authorization: Bearer KEY (optional)",
                password=True,  # a key: never on the screen
                id="inspector-header",
                compact=True,
            )
            yield Input(
                placeholder="COMMAND ARGS that start a stdio server (c)",
                id="inspector-command",
                compact=True,
            )
        yield Static("Loading your deployments…", id="inspector-status")
        with TabbedContent(id="inspector-tabs"):
            with TabPane("Tools", id="tools"):
                yield ToolPane(id="inspector-tools")
            with TabPane("Resources", id="resources"), VerticalScroll(classes="inspector-scroll"):
                yield Static("", id="inspector-resources")
            with TabPane("Prompts", id="prompts"), VerticalScroll(classes="inspector-scroll"):
                yield Static("", id="inspector-prompts")
            with TabPane("Exchange", id="exchange"), VerticalScroll(classes="inspector-scroll"):
                yield ExchangeView(id="inspector-exchange")
        yield Static("", id="inspector-empty")
        yield Footer(compact=True)

    @property
    def picker(self) -> Select[str]:
        """The deployment picker."""
        return self.query_one("#inspector-deployment", Select)

    @property
    def pane(self) -> ToolPane:
        """The tools, the chosen one's form and its last answer."""
        return self.query_one(ToolPane)

    def on_mount(self) -> None:
        self.query_one("#inspector-empty").display = False
        # Without a way to open sessions itself, the console inspects deployments only.
        self.query_one("#inspector-kind").display = self.context.inspector is not None
        self._show_kind()
        self._show_tabs(False)
        self.picker.focus()
        self.load_deployments()
        if self.wanted_server is not None and self.context.inspector is not None:
            self._open(self.wanted_server)

    def _open(self, server: ServerTarget) -> None:
        """Show ``server`` in its inputs (a header only as dots) and inspect it."""
        if server.url is not None:
            self.query_one("#inspector-url", Input).value = server.url
            if len(server.headers) == 1:
                [(name, value)] = server.headers.items()
                self.query_one("#inspector-header", Input).value = f"{name}: {value}"
        else:
            self.query_one("#inspector-command", Input).value = shlex.join(server.command)
        self.query_one(f"#inspector-{self.kind}").focus()
        self._choose(server)

    def _show_kind(self) -> None:
        """Show the inputs of the kind of target chosen."""
        kind = self.kind
        self.picker.display = kind is TargetKind.DEPLOYMENT
        self.query_one("#inspector-url").display = kind is TargetKind.URL
        self.query_one("#inspector-header").display = kind is TargetKind.URL
        self.query_one("#inspector-command").display = kind is TargetKind.COMMAND
        no_deployments = self.loaded and not self.deployments
        self.query_one("#inspector-empty").display = (
            kind is TargetKind.DEPLOYMENT and no_deployments
        )
        if self.current is None:
            loading = kind is TargetKind.DEPLOYMENT and not self.loaded
            self._status("Loading your deployments…" if loading else HINTS[kind])

    def _show_tabs(self, shown: bool) -> None:
        self.query_one("#inspector-tabs").display = shown

    def _status(self, text: str | Text, error: bool = False) -> None:
        status = self.query_one("#inspector-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def _problem(self, error: BaseException, doing: str) -> None:
        """Say what went wrong in a notification (the unexpected also in the error modal)."""
        if isinstance(error, ConsoleError):
            self.notify(describe(error), title=f"Could not {doing}", severity="error", timeout=8)
        else:
            self.report(error, doing)

    # --- the deployment -----------------------------------------------------------------

    @work(exclusive=True, group="inspector-list", exit_on_error=False)
    async def load_deployments(self) -> None:
        """List the deployments the user can inspect; inspect the wanted one."""
        try:
            deployments = await self.client.list_deployments()
        except Exception as error:
            self.loaded = True
            self._status(f"✗ Could not list your deployments: {describe(error)}", error=True)
            self._problem(error, "list your deployments")
            return
        self.deployments = deployments
        self.loaded = True
        names = [d.address for d in deployments]
        keep = self.deployment or self.wanted
        with self.prevent(Select.Changed):
            self.picker.set_options([(deployment_label(d), d.address) for d in deployments])
            if keep in names:
                self.picker.value = keep
        empty = self.query_one("#inspector-empty", Static)
        if not deployments:
            elsewhere = (
                " Or inspect a server by its URL (u) or the command that starts it (c)."
                if self.context.inspector is not None
                else ""
            )
            empty.update(
                "You have no deployments to inspect. Deploy a service from its page in the "
                f"market (1), then come back here.{elsewhere}"
            )
        if self.kind is not TargetKind.DEPLOYMENT:
            return
        empty.display = not deployments
        if not deployments:
            if self.current is None:
                self._show_tabs(False)
                self._status("")
        elif keep in names and self.current is None:
            self._choose(keep)
        elif self.current is None:
            self._status(HINTS[TargetKind.DEPLOYMENT])

    @on(Select.Changed, "#inspector-deployment")
    def _deployment_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.deployment:
            self._choose(event.value)

    def _choose(self, target: str | ServerTarget) -> None:
        self.current = target
        self.inspect(target)

    # --- a URL or a command -------------------------------------------------------------

    @on(Select.Changed, "#inspector-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, TargetKind) and event.value is not self.kind:
            self._pick(event.value)
            # Chosen from the list: the cursor goes where the target is typed or picked.
            where = "deployment" if event.value is TargetKind.DEPLOYMENT else event.value
            self.query_one(f"#inspector-{where}").focus()

    def _pick(self, kind: TargetKind) -> None:
        """Show ``kind``'s inputs; back on deployments, inspect the one picked there."""
        self.kind = kind
        kinds = self.query_one("#inspector-kind", Select)
        with self.prevent(Select.Changed):
            kinds.value = kind
        self._show_kind()
        self.refresh_bindings()
        picked = self.picker.value
        if kind is TargetKind.DEPLOYMENT and isinstance(picked, str) and picked != self.current:
            self._choose(picked)

    @on(Input.Submitted, "#inspector-url, #inspector-header")
    def _url_submitted(self) -> None:
        url = self.query_one("#inspector-url", Input).value.strip()
        header = self.query_one("#inspector-header", Input).value.strip()
        try:
            target = url_target(url, parse_headers([header] if header else []))
        except Invalid as error:
            self._refused(error, "#inspector-url" if error.field == "target" else None)
            return
        self._choose(target)

    @on(Input.Submitted, "#inspector-command")
    def _command_submitted(self, event: Input.Submitted) -> None:
        try:
            words = split_command(event.value)
        except Invalid as error:
            self._refused(error, None)
            return
        self._choose(ServerTarget(label=" ".join(words), command=words))

    def _refused(self, error: Invalid, focus: str | None) -> None:
        """Say why what was typed names no server; nothing is inspected."""
        self._status(f"✗ {describe(error)}", error=True)
        self._problem(error, "inspect that server")
        if focus is not None:
            self.query_one(focus).focus()

    # --- inspecting ---------------------------------------------------------------------

    async def _inspect(self, target: str | ServerTarget) -> InspectReport:
        """What ``target``'s server offers: a deployment's through the backend, any other
        server's through this console's own session."""
        if isinstance(target, str):
            return await self.client.inspect_deployment(target)
        assert self.context.inspector is not None  # no way to name one otherwise
        return await self.context.inspector.inspect(target)

    @work(exclusive=True, group="inspector-inspect", exit_on_error=False)
    async def inspect(self, target: str | ServerTarget) -> None:
        """Ask the server what it offers: a deployment's through its endpoint."""
        name = target if isinstance(target, str) else target.label
        self.inspected = None
        await self._fill(None)
        how = " through its endpoint" if isinstance(target, str) else ""
        self._status(f"Connecting to {name}{how}…")
        try:
            report = await self._inspect(target)
        except Exception as error:
            if self.current is target:
                self._show_tabs(False)
                self._status(
                    f"✗ Could not inspect {name}: {describe(error)} (ctrl+r tries again)",
                    error=True,
                )
            self._problem(error, f"inspect {name}")
            return
        if self.current is not target:
            return
        self.inspected = report
        self.refresh_bindings()
        self._status(server_line(report))
        self._show_tabs(True)
        await self._fill(report)
        row = self.query_one("#inspector-target")
        if self.focused is not None and row in self.focused.ancestors:  # the tools come next
            self.pane.focus_tools()

    async def _fill(self, report: InspectReport | None) -> None:
        tabs = self.query_one(TabbedContent)
        if report is not None:
            counts = {
                "tools": len(report.tools),
                "resources": len(report.resources),
                "prompts": len(report.prompts),
            }
            for tab, count in counts.items():
                tabs.get_tab(tab).label = f"{tab.capitalize()} ({count})"
        resources = report.resources if report else []
        self.query_one("#inspector-resources", Static).update(
            listing(
                [(r.uri, r.name, r.mime_type or "", r.description or "") for r in resources],
                ("URI", "Name", "Type", "Description"),
                "This server offers no resources.",
            )
        )
        prompts = report.prompts if report else []
        self.query_one("#inspector-prompts", Static).update(
            listing(
                [(p.name, ", ".join(p.arguments), p.description or "") for p in prompts],
                ("Prompt", "Arguments", "Description"),
                "This server offers no prompts.",
            )
        )
        if report is None:
            self.query_one(ExchangeView).show([], "")
            await self.pane.show_tools([])
        else:
            self.query_one(ExchangeView).show(report.exchange, f"inspect {report.deployment}")
            await self.pane.show_tools(report.tools, "This server offers no tools.")
        self.refresh_bindings()

    # --- calling ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "call":
            on_tools = self.query_one(TabbedContent).active == "tools"
            return on_tools and self.pane.tool is not None and not self.calling
        if action == "show_tab":
            return self.inspected is not None
        if action == "reinspect":
            return self.current is not None
        if action == "pick_kind":
            return self.context.inspector is not None
        return True

    def action_call(self) -> None:
        if not self.calling:
            self.pane.request_call()

    @on(ToolPane.CallRequested)
    def _call_requested(self, event: ToolPane.CallRequested) -> None:
        if self.current is not None and not self.calling:
            self.call(self.current, event.tool, event.arguments)

    async def _call(
        self, target: str | ServerTarget, tool: str, arguments: dict[str, Any]
    ) -> ToolCallOutcome:
        """Call ``tool`` as ``_inspect`` reaches ``target``."""
        if isinstance(target, str):
            return await self.client.call_tool(target, tool, arguments)
        assert self.context.inspector is not None
        return await self.context.inspector.call(target, tool, arguments)

    @work(exclusive=True, group="inspector-call", exit_on_error=False)
    async def call(self, target: str | ServerTarget, tool: str, arguments: dict[str, Any]) -> None:
        """Call ``tool``; show its answer and the exchange, or mark the wrong argument."""
        pane = self.pane
        self.calling = True
        self.refresh_bindings()
        pane.result.waiting(tool)
        try:
            outcome = await self._call(target, tool, arguments)
        except Exception as error:
            current = pane.tool is not None and pane.tool.name == tool
            wrong = error.field if isinstance(error, Invalid) else None
            if current and wrong and pane.mark(wrong, describe(error)):
                pane.result.clear()
                return
            if current:
                pane.result.failed(f"Could not call {tool}: {describe(error)}")
            self._problem(error, f"call {tool}")
            return
        finally:
            self.calling = False
            self.refresh_bindings()
        self.query_one(ExchangeView).show(outcome.exchange, f"tools/call {tool}")
        if pane.tool is not None and pane.tool.name == tool:
            pane.show_outcome(outcome)

    # --- keys ---------------------------------------------------------------------------

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_pick_deployment(self) -> None:
        if self.kind is not TargetKind.DEPLOYMENT:
            self._pick(TargetKind.DEPLOYMENT)
        self.picker.focus()
        self.picker.expanded = True

    def action_pick_kind(self, kind: str) -> None:
        """Name the server by URL or by command: show that input and put the cursor there."""
        self._pick(TargetKind(kind))
        self.query_one(f"#inspector-{kind}").focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "tools":
            self.pane.focus_tools()
        else:
            self.query_one(f"#{tab} VerticalScroll").focus()

    def action_reinspect(self) -> None:
        if self.current is not None:
            self.inspect(self.current)

    def action_back(self) -> None:
        """From a field back to the tool list, from a URL or command to the choice of kind
        (where u, c and d work); from anywhere else out of the inspector."""
        if self.pane.holds(self.focused):
            self.pane.focus_tools()
        elif isinstance(self.focused, Input):
            self.query_one("#inspector-kind").focus()
        else:
            self.dismiss(None)

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if event.kind.startswith("deployment."):
            self.load_deployments()
