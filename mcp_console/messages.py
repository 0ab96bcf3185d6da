"""App-wide messages: what screens ask of the shell, and backend events handed to screens."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class ServiceOpenRequested(Message):
    """A screen or the palette wants a service's detail page opened."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class DeployRequested(Message):
    """The user asked to deploy a service (``version`` ``None`` means the latest)."""

    def __init__(self, service: str, version: str | None = None) -> None:
        super().__init__()
        self.service = service
        self.version = version


class SectionRequested(Message):
    """Switch to a top-level section by its name (``market``, ``dev``, ...)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class LogsRequested(Message):
    """Show the Logs section searching ``query`` (a request's lines, from the monitor)."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query


class FilterRequested(Message):
    """Show the market filtered by ``query`` (the palette's "browse category" commands)."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query


class BackendEventReceived(Message, bubble=False):
    """A backend event (``{"type": "service.published", ...}``) delivered to a screen."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event

    @property
    def kind(self) -> str:
        """The event's type, e.g. ``review.added``."""
        return str(self.event.get("type", ""))

    @property
    def service(self) -> str | None:
        """The service the event is about, when it names one."""
        name = self.event.get("service")
        return name if isinstance(name, str) else None


class DeploymentOpenRequested(Message):
    """A deployment should be shown where deployments are watched (the monitor, when there).

    ``pane`` names the part of the monitor to bring forward (``logs``, ``sessions``, ...).
    """

    def __init__(self, name: str, pane: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.pane = pane


class FiringAlertsCounted(Message):
    """How many alerts fire right now (the header's badge shows it when it is not 0)."""

    def __init__(self, firing: int) -> None:
        super().__init__()
        self.firing = firing
