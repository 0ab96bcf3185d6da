"""QuitModal: what becomes of the deployments the console's own backend runs when it quits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

# Names listed in the question before the rest are counted.
SHOWN_NAMES = 4


class QuitChoice(StrEnum):
    """What to do with the running deployments when the console quits."""

    HAND_OVER = "hand-over"
    STOP = "stop"
    LEAVE = "leave"


@dataclass(frozen=True)
class RunningWork:
    """What runs on the console's own backend and would lose its gateway when it quits.

    Args:
        deployments: the running deployments, as the local admin names them.
        containers: their container instances (they outlive the console).
        processes: their local process instances (they stop with the console).
    """

    deployments: tuple[str, ...]
    containers: int = 0
    processes: int = 0


def counted(n: int, noun: str) -> str:
    """``1 deployment``, ``2 deployments``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def agreeing(n: int, one: str, many: str) -> str:
    """``one`` for one thing, ``many`` for any other number."""
    return one if n == 1 else many


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    rest = len(names) - SHOWN_NAMES
    return f"{shown} and {rest} more" if rest > 0 else shown


def choices(work: RunningWork) -> list[tuple[QuitChoice, str, str]]:
    """Each choice with its label and what it does to ``work``, in the order offered."""
    n = len(work.deployments)
    them = agreeing(n, "it", "them")
    containers = counted(work.containers, "container")
    processes = counted(work.processes, "process instance")
    kept = []
    if work.containers:
        kept.append(f"{containers} {agreeing(work.containers, 'stays', 'stay')} up")
    if work.processes:
        kept.append(f"{processes} {agreeing(work.processes, 'restarts', 'restart')}")
    hand_over = f"the daemon serves {them} from now on"
    if kept:
        hand_over += f" ({', '.join(kept)})"
    left = []
    if work.containers:
        left.append(
            f"{containers} {agreeing(work.containers, 'keeps', 'keep')} running unreachable"
        )
    if work.processes:
        left.append(f"{processes} {agreeing(work.processes, 'stops', 'stop')}")
    until = "until the console or a daemon starts again"
    leave = f"{' and '.join(left)} {until}" if left else f"nothing serves {them} {until}"
    as_is = agreeing(n, "it is", "they are")
    stopped = "stopped until started again (mcp-console deploy start NAME)"
    return [
        (QuitChoice.HAND_OVER, f"Hand {them} to a background daemon", hand_over),
        (QuitChoice.STOP, f"Stop {them}", stopped),
        (QuitChoice.LEAVE, f"Leave {them} as {as_is}", leave),
    ]


class QuitModal(ModalScreen[QuitChoice | None]):
    """Dismisses with the chosen ``QuitChoice``, or ``None`` on ``esc`` (stay in the console).

    Arrows move between the choices, Enter takes the highlighted one.
    """

    DEFAULT_CSS = """
    QuitModal #quit-choices {
        height: auto;
        margin: 1 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stay", "Stay", id="stay"),
    ]

    def __init__(self, work: RunningWork) -> None:
        super().__init__()
        self.work = work

    def compose(self) -> ComposeResult:
        work = self.work
        running = "is" if len(work.deployments) == 1 else "are"
        options = []
        for choice, label, effect in choices(work):
            text = Text(label, style="bold")
            text.append(f"\n{effect}", style="dim")
            options.append(Option(text, id=choice.value))
        with Vertical(id="quit-dialog", classes="dialog"):
            yield Label(
                f"Quit? {counted(len(work.deployments), 'deployment')} {running} running here",
                classes="dialog-title",
            )
            its = agreeing(len(work.deployments), "its endpoint", "their endpoints")
            yield Static(
                f"{_names(work.deployments)}: once the console has quit, nothing answers at {its}.",
                id="quit-running",
            )
            yield OptionList(*options, id="quit-choices")
            yield Label("↑↓ choose    enter: quit    esc: stay", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(QuitChoice(event.option.id or ""))

    def action_stay(self) -> None:
        self.dismiss(None)
