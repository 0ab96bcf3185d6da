"""What a deployment does before its server starts (installs, image builds), told as it goes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.backend.deploy.plan import DOCKER, PROCESS, Launch
from mcp_console.backend.deploy.progress_report import report_progress
from mcp_console.backend.events import EventBus
from mcp_console.schemas.deploy import PREPARE_EVENT

# A step quicker than this (a cached install, an image reused) is not worth telling.
REPORT_AFTER = 0.5


def build_step(launch: Launch) -> str | None:
    """The image Docker needs built for ``launch``, in words (``None``: it needs none; an
    image to pull is told by ``ImagePins``)."""
    if launch.driver != DOCKER or launch.image is not None:
        return None
    if launch.package is not None:
        return f"building the image of {launch.package.requirement} (PyPI)"
    if launch.npm is not None:
        return f"building the image of {launch.npm.spec} (npm)"
    if launch.example:
        return "building the example server's image"
    return None


def install_step(launch: Launch) -> str | None:
    """The package a process of ``launch`` installs first (once), in words."""
    if launch.driver != PROCESS:
        return None
    if launch.package is not None:
        return f"installing {launch.package.requirement} from PyPI into its virtualenv"
    if launch.npm is not None:
        return f"installing {launch.npm.spec} from npm"
    return None


class PrepareSteps:
    """Publishes a step (``deployment.prepare``) and shows it as the deployment's status
    reason, once it has taken longer than ``after`` seconds; and its end, if it was told.

    Args:
        sessions: the database.
        events: where steps are published.
        after: how long a step runs before it is told.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        *,
        after: float = REPORT_AFTER,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self.after = after

    @contextlib.asynccontextmanager
    async def reported(self, state: DeploymentState, text: str | None) -> AsyncIterator[None]:
        """Run the body as the step ``text`` (nothing is told when ``text`` is ``None``)."""
        if text is None:
            yield
            return
        told = asyncio.Event()

        async def tell_later() -> None:
            await asyncio.sleep(self.after)
            told.set()
            await self._tell(state, text, done=False)

        teller = asyncio.ensure_future(tell_later())
        try:
            yield
        finally:
            teller.cancel()  # not awaited: a cancellation of the caller must stay its own
        # A failed step is told by the instance's failure, with its reason.
        if told.is_set():
            await self._tell(state, f"{text}: done", done=True)

    async def _tell(self, state: DeploymentState, text: str, *, done: bool) -> None:
        event = {
            "type": PREPARE_EVENT,
            "deployment": state.name,
            "deployment_id": state.id,
            "step": text,
            "done": done,
            "reason": text,
        }
        await report_progress(self._sessions, self._events, state, event)
