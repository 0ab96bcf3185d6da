"""ToolPane: a server's tools, the chosen one's form, and the answer to its last call."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mcp_console.schemas.monitor import ToolCallOutcome, ToolInfo
from mcp_console.widgets.rpc_view import ToolResult
from mcp_console.widgets.tool_form import ToolForm


class ToolPane(Horizontal):
    """Pick a tool on the left; fill its form on the right; the answer shows under it.

    Enter on a tool goes to its form; enter in the last field (or ``request_call``) asks
    for the call with ``CallRequested``. Whoever calls hands the answer back.
    """

    DEFAULT_CSS = """
    ToolPane #tool-list {
        width: 26;
        height: 1fr;
        border: none;
        border-right: solid $primary-muted;
    }
    ToolPane #tool-call {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
    }
    ToolPane #tool-form-holder {
        height: auto;
    }
    ToolPane #tool-hint {
        margin-top: 1;
        color: $text-muted;
    }
    """

    class CallRequested(Message):
        """The user asked to call ``tool`` with ``arguments`` (checked against its form)."""

        def __init__(self, tool: str, arguments: dict[str, Any]) -> None:
            super().__init__()
            self.tool = tool
            self.arguments = arguments

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tools: list[ToolInfo] = []
        self.tool: ToolInfo | None = None

    def compose(self) -> ComposeResult:
        yield OptionList(id="tool-list")
        with VerticalScroll(id="tool-call"):
            yield Static("", id="tool-about")
            yield Vertical(id="tool-form-holder")
            yield Static("", id="tool-hint")
            yield ToolResult(id="tool-result")

    @property
    def form(self) -> ToolForm | None:
        """The chosen tool's form, once it is built."""
        forms = self.query(ToolForm)
        return forms.first() if forms else None

    @property
    def result(self) -> ToolResult:
        """Where the answer to the last call shows."""
        return self.query_one(ToolResult)

    async def show_tools(self, tools: list[ToolInfo], note: str = "") -> None:
        """List ``tools`` and choose the first (``note`` says why there are none)."""
        self.tools = list(tools)
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options([Option(Text(t.name, style="bold"), id=t.name) for t in tools])
        if tools:
            listing.highlighted = 0
        await self.choose(tools[0] if tools else None, note)

    async def choose(self, tool: ToolInfo | None, note: str = "") -> None:
        """Show ``tool`` with a new form for its input schema, and no answer yet."""
        self.tool = tool
        holder = self.query_one("#tool-form-holder", Vertical)
        await holder.remove_children()
        self.result.clear()
        about = self.query_one("#tool-about", Static)
        hint = self.query_one("#tool-hint", Static)
        if tool is None:
            about.update(Text(note, style="dim"))
            hint.update("")
            return
        title = Text(tool.name, style="bold")
        if tool.title and tool.title != tool.name:
            title.append(f"  {tool.title}", style="italic")
        about.update(Group(title, Text(tool.description or "(no description)")))
        await holder.mount(ToolForm(tool.input_schema, id="tool-form"))
        hint.update(f"ctrl+s calls {tool.name} · esc back to the tools")

    def focus_tools(self) -> None:
        """Put the cursor in the tool list."""
        self.query_one(OptionList).focus()

    def holds(self, widget: Widget | None) -> bool:
        """Whether ``widget`` is one of the form's fields."""
        form = self.form
        return widget is not None and form is not None and form in widget.ancestors

    def _fields(self) -> list[Widget]:
        form = self.form
        return [w for w in form.query("Input, Select") if w.focusable] if form else []

    def request_call(self) -> None:
        """Ask for a call with the form's arguments, or mark the first one that is wrong."""
        form = self.form
        if self.tool is None or form is None:
            return
        arguments, problems = form.arguments()
        if problems:
            self.mark(*problems[0])
            return
        form.show_error(None, None)
        self.post_message(self.CallRequested(self.tool.name, arguments))

    def mark(self, argument: str, message: str) -> bool:
        """Show ``message`` at ``argument``'s field and take the cursor there; ``False``
        when the form has no such field."""
        form = self.form
        if form is None or form.field_for(argument) is None:
            return False
        form.show_error(argument, message)
        widget = form.widget_for(argument)
        if widget is not None:
            widget.focus(scroll_visible=False)
            scroller = self.query_one("#tool-call", VerticalScroll)
            self.call_after_refresh(scroller.scroll_to_center, widget, animate=False)
        return True

    def show_outcome(self, outcome: ToolCallOutcome) -> None:
        """Show the answer to a call of the chosen tool, scrolled into view."""
        self.result.show(outcome)
        scroller = self.query_one("#tool-call", VerticalScroll)
        self.call_after_refresh(scroller.scroll_to_widget, self.result, top=True, animate=False)

    @on(OptionList.OptionHighlighted, "#tool-list")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        tool = next((t for t in self.tools if t.name == event.option.id), None)
        if tool is not None and tool is not self.tool:
            await self.choose(tool)

    @on(OptionList.OptionSelected, "#tool-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        fields = self._fields()
        if fields:
            fields[0].focus()
        else:
            self.request_call()

    @on(Input.Submitted, "#tool-form Input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fields = self._fields()
        if fields and event.input is fields[-1]:
            self.request_call()
        else:
            self.screen.focus_next()
