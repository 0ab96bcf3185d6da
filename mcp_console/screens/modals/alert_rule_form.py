"""AlertRuleModal: a new alert rule, refused values shown under their field."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from mcp_console.durations import read_duration
from mcp_console.pairs import read_pairs
from mcp_console.schemas.alerts import (
    ALERT_METRICS,
    Comparison,
    RuleCreate,
    RuleView,
    Severity,
)
from mcp_console.schemas.errors import ConsoleError, Invalid, NotFound
from mcp_console.screens.modals.field_form import FieldFormModal
from mcp_console.widgets.choice import Choice

SubmitRule = Callable[[RuleCreate], Awaitable[RuleView]]
# The form's fields, top to bottom; ``window`` and ``for`` are ``window_s``/``for_s`` to
# the backend.
RULE_FIELDS = (
    "name",
    "metric",
    "op",
    "threshold",
    "window",
    "for",
    "deployment",
    "severity",
    "labels",
    "description",
)
_BACKEND_NAMES = {"window_s": "window", "for_s": "for"}
_DURATIONS = "30s, 5m, 1h or 2d"
DEFAULT_WINDOW = "5m"


def field_of(error: ConsoleError) -> str | None:
    """Which of the form's fields a refusal is about (``None``: the rule as a whole)."""
    if isinstance(error, NotFound) and "deployment" in error.message:
        # The backend names the deployment it could not find by its own field, ``name``.
        return "deployment"
    field = (error.field or "").split(".")[0]
    field = _BACKEND_NAMES.get(field, field)
    return field if field in RULE_FIELDS else None


def _seconds(text: str, field: str, *, zero: bool) -> int:
    """A typed duration in seconds; ``0`` is allowed only where ``zero`` says so."""
    if zero and text in ("", "0", "0s"):
        return 0
    duration = read_duration(text)
    if duration is None:
        raise Invalid(f"{field}: a duration such as {_DURATIONS}, not {text!r}", field=field)
    return int(duration.total_seconds())


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Invalid(f"threshold: a number such as 0.05 or 2000, not {text!r}", field="threshold")
    return value


class AlertRuleModal(FieldFormModal[RuleView]):
    """Dismisses with the rule as the backend added it, or ``None`` on ``esc``.

    Enter in a field or ctrl+s adds it. A refusal keeps everything typed and shows the
    reason under the field it is about (or under the form when it is about no one field).
    """

    DEFAULT_CSS = """
    AlertRuleModal .rule-row {
        height: auto;
    }
    AlertRuleModal .rule-row > Label {
        width: 12;
        text-style: bold;
    }
    AlertRuleModal .rule-row > Input, AlertRuleModal .rule-row > Select {
        width: 1fr;
    }
    AlertRuleModal .field-error {
        padding-left: 12;
    }
    AlertRuleModal #rule-metric-help {
        padding-left: 12;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Add rule", priority=True, id="save-rule"),
    ]
    PREFIX = "rule"
    FIELDS = RULE_FIELDS

    def __init__(self, deployments: Sequence[str], submit: SubmitRule) -> None:
        super().__init__()
        self.deployments = list(deployments)
        self._submit = submit

    def _row(self, field: str, label: str, widget: Widget) -> ComposeResult:
        with Horizontal(classes="rule-row"):
            yield Label(label)
            yield widget
        yield Static("", id=f"rule-{field}-error", classes="field-error")

    def compose(self) -> ComposeResult:
        deployment_hint = "empty: every deployment"
        if self.deployments:
            deployment_hint += f" · e.g. {self.deployments[0]}"
        with VerticalScroll(id="rule-dialog", classes="dialog"):
            yield Label("New alert rule", classes="dialog-title")
            yield from self._row(
                "name", "Name", Input(placeholder="SlowSearch", id="rule-name", compact=True)
            )
            yield from self._row(
                "metric",
                "Metric",
                Select(
                    [(name, name) for name in ALERT_METRICS],
                    value=next(iter(ALERT_METRICS)),
                    allow_blank=False,
                    compact=True,
                    id="rule-metric",
                ),
            )
            yield Static("", id="rule-metric-help")
            yield from self._row(
                "op", "Compare", Choice([(op.value, op.value) for op in Comparison], id="rule-op")
            )
            yield from self._row(
                "threshold",
                "Threshold",
                Input(placeholder="a number: 0.05, 2000", id="rule-threshold", compact=True),
            )
            yield from self._row(
                "window",
                "Window",
                Input(DEFAULT_WINDOW, placeholder=_DURATIONS, id="rule-window", compact=True),
            )
            yield from self._row(
                "for",
                "For",
                Input(
                    placeholder="held this long first (empty: at once)", id="rule-for", compact=True
                ),
            )
            yield from self._row(
                "deployment",
                "Deployment",
                Input(
                    placeholder=deployment_hint,
                    suggester=SuggestFromList(self.deployments, case_sensitive=False),
                    id="rule-deployment",
                    compact=True,
                ),
            )
            yield from self._row(
                "severity",
                "Severity",
                Choice(
                    [(s.value, s.value) for s in Severity],
                    value=Severity.WARNING.value,
                    id="rule-severity",
                ),
            )
            yield from self._row(
                "labels",
                "Labels",
                Input(placeholder="team=payments, tier=1", id="rule-labels", compact=True),
            )
            yield from self._row(
                "description",
                "About",
                Input(
                    placeholder="what it means (optional)",
                    id="rule-description",
                    max_length=500,
                    compact=True,
                ),
            )
            yield Static("", id="rule-error", classes="field-error")
            yield Label(
                "enter / ctrl+s: add    tab: next    ←/→: pick    esc: cancel",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self._explain_metric()
        self.query_one("#rule-name", Input).focus()

    @on(Select.Changed, "#rule-metric")
    def _explain_metric(self) -> None:
        metric = str(self.query_one("#rule-metric", Select).value)
        self.query_one("#rule-metric-help", Static).update(ALERT_METRICS.get(metric, ""))

    def value(self, field: str) -> str:
        """What is in ``field`` now, as typed or picked."""
        widget = self.query_one(f"#rule-{field}")
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, Choice):
            return widget.value
        assert isinstance(widget, Select)
        return str(widget.value)

    def refusal(self, error: ConsoleError) -> tuple[str, str | None]:
        """The backend's reason in the form's words: ``window``, not ``window_s``."""
        field = field_of(error)
        message = error.message
        if error.field in _BACKEND_NAMES:
            message = message.replace(error.field, _BACKEND_NAMES[error.field], 1)
        if field in ("window", "for") and message[-1:].isdigit():
            message += " seconds"
        return message, field

    def draft(self) -> RuleCreate:
        """The rule as the form holds it, typed but not yet checked by the backend.

        Raises:
            Invalid: a value that is no number, duration or label list (naming its field).
        """
        name = self.value("name")
        if not name:
            raise Invalid("name: give the rule a name (its alerts carry it)", field="name")
        try:
            labels = read_pairs([self.value("labels")], "label")
        except Invalid as error:
            raise Invalid(f"labels: {error.message}", field="labels") from None
        # Unchecked on purpose: the backend's refusal names the field, as it would through
        # the API or the CLI; the form only turns text into numbers first.
        return RuleCreate.model_construct(
            name=name,
            metric=self.value("metric"),
            op=Comparison(self.value("op")),
            threshold=_threshold(self.value("threshold")),
            window_s=_seconds(self.value("window"), "window", zero=False),
            for_s=_seconds(self.value("for"), "for", zero=True),
            severity=Severity(self.value("severity")),
            deployment=self.value("deployment") or None,
            labels=labels,
            description=self.value("description"),
        )

    @on(Input.Submitted)
    @on(Choice.Confirmed)
    def _submitted(self, event: Input.Submitted | Choice.Confirmed) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        try:
            draft = self.draft()
        except Invalid as error:
            self.show_error(*self.refusal(error))
            return
        self.send(lambda: self._submit(draft))
