"""InspectorScreen: pick a deployment, see what its server offers, call its tools."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Select, Static, TabbedContent, TabPane

from mcp_console.messages import BackendEventReceived
from mcp_console.schemas.deploy import DeploymentView
from mcp_console.schemas.errors import ConsoleError, Invalid
from mcp_console.schemas.monitor import InspectReport
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.widgets.rpc_view import ExchangeView, listing, server_line
from mcp_console.widgets.tool_pane import ToolPane


def deployment_label(deployment: DeploymentView) -> str:
    """A deployment as the picker lists it: its address, what it runs, its status."""
    version = f" {deployment.version}" if deployment.version else ""
    status = deployment.status.value.lower()
    return f"{deployment.address} · {deployment.service}{version} · {status}"


class InspectorScreen(ConsoleScreen):
    """An MCP inspector on any deployment the user can reach, through its gateway endpoint.

    Every call goes through a worker; what goes wrong is a notification (the unexpected
    also opens the error modal), a wrong argument is marked at its field.
    """

    DEFAULT_CSS = """
    InspectorScreen #inspector-deployment {
        margin: 0 1;
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
        Binding("t", "show_tab('tools')", "Tools", show=False, id="show-tools"),
        Binding("r", "show_tab('resources')", "Resources", show=False, id="show-resources"),
        Binding("p", "show_tab('prompts')", "Prompts", show=False, id="show-prompts"),
        Binding("x", "show_tab('exchange')", "Exchange", id="show-exchange"),
        Binding("ctrl+r", "reinspect", "Inspect again", show=False, id="reinspect"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, context: ConsoleContext, deployment: str | None = None) -> None:
        super().__init__(context)
        self.title = "Inspector"
        self.wanted = deployment
        self.deployments: list[DeploymentView] = []
        self.loaded = False  # the deployments are listed
        self.deployment: str | None = None
        self.inspected: InspectReport | None = None
        self.calling = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Select[str](
            [], prompt="Pick a deployment to inspect (d)", id="inspector-deployment", compact=True
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
        self._show_tabs(False)
        self.picker.focus()
        self.load_deployments()

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
        empty.display = not deployments
        if not deployments:
            self._show_tabs(False)
            self._status("")
            empty.update(
                "You have no deployments to inspect. Deploy a service from its page in the "
                "market (1), then come back here."
            )
        elif keep in names and keep != self.deployment:
            self._choose(keep)
        elif self.deployment is None:
            self._status("Pick a deployment: enter opens the list (d from anywhere).")

    @on(Select.Changed, "#inspector-deployment")
    def _deployment_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.deployment:
            self._choose(event.value)

    def _choose(self, name: str) -> None:
        self.deployment = name
        self.inspect(name)

    @work(exclusive=True, group="inspector-inspect", exit_on_error=False)
    async def inspect(self, name: str) -> None:
        """Ask the deployment's server what it offers, through its endpoint."""
        self.inspected = None
        await self._fill(None)
        self._status(f"Connecting to {name} through its endpoint…")
        try:
            report = await self.client.inspect_deployment(name)
        except Exception as error:
            if self.deployment == name:
                self._show_tabs(False)
                self._status(
                    f"✗ Could not inspect {name}: {describe(error)} (ctrl+r tries again)",
                    error=True,
                )
            self._problem(error, f"inspect {name}")
            return
        if self.deployment != name:
            return
        self.inspected = report
        self.refresh_bindings()
        self._status(server_line(report))
        self._show_tabs(True)
        await self._fill(report)
        if self.focused is self.picker:  # picked: the tools are what comes next
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
            return self.deployment is not None
        return True

    def action_call(self) -> None:
        if not self.calling:
            self.pane.request_call()

    @on(ToolPane.CallRequested)
    def _call_requested(self, event: ToolPane.CallRequested) -> None:
        if self.deployment is not None and not self.calling:
            self.call(self.deployment, event.tool, event.arguments)

    @work(exclusive=True, group="inspector-call", exit_on_error=False)
    async def call(self, deployment: str, tool: str, arguments: dict[str, Any]) -> None:
        """Call ``tool``; show its answer and the exchange, or mark the wrong argument."""
        pane = self.pane
        self.calling = True
        self.refresh_bindings()
        pane.result.waiting(tool)
        try:
            outcome = await self.client.call_tool(deployment, tool, arguments)
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
        self.picker.focus()
        self.picker.expanded = True

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "tools":
            self.pane.focus_tools()
        else:
            self.query_one(f"#{tab} VerticalScroll").focus()

    def action_reinspect(self) -> None:
        if self.deployment is not None:
            self.inspect(self.deployment)

    def action_back(self) -> None:
        """From a field back to the tool list; from anywhere else out of the inspector."""
        if self.pane.holds(self.focused):
            self.pane.focus_tools()
        else:
            self.dismiss(None)

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if event.kind.startswith("deployment."):
            self.load_deployments()
