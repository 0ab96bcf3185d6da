"""The image each version of a deployment runs: pulled when missing, then kept by digest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import ServiceDeployment
from mcp_console.backend.deploy import history
from mcp_console.backend.deploy.deployment_record import DeploymentState
from mcp_console.backend.deploy.image_ref import RegistryAuth
from mcp_console.backend.deploy.plan import DOCKER, Launch, Recipe
from mcp_console.backend.deploy.progress_report import report_progress
from mcp_console.backend.deploy.pull import ImagePuller, PullProgress
from mcp_console.backend.deploy.registry_logins import login_for, login_for_image, login_names
from mcp_console.backend.events import EventBus
from mcp_console.backend.security.secrets import SecretBox
from mcp_console.schemas.deploy import PULL_EVENT, DeploymentDetail
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.registry import RegistryLogin

BoxSource = Callable[[], Awaitable[SecretBox]]


def pulls_image(launch: Launch, recipe: Recipe) -> bool:
    """Whether ``launch`` runs the version's ready-made image (one that may need a pull),
    rather than one the console built."""
    return (
        launch.driver == DOCKER
        and bool(recipe.docker_image)
        and launch.image == recipe.docker_image
    )


async def image_ready(
    puller: ImagePuller, recipe: Recipe, driver: str, login: RegistryLogin | None
) -> RegistryAuth | None:
    """Before a deployment is recorded: the image it runs is on the engine or in its registry
    (asked with ``login``, which is returned for its registry).

    Raises:
        Invalid: a login was given for a version that pulls no image on ``driver``.
        NotFound, Forbidden, Unavailable: as ``ImagePuller.check``.
    """
    pulls = driver == DOCKER and bool(recipe.docker_image)
    if login is not None and not pulls:
        raise Invalid(
            f"{recipe.service} {recipe.version} pulls no image on the {driver} runtime, so a "
            "registry login has no use; leave it out",
            field="registry_login",
        )
    if not pulls:
        return None
    assert recipe.docker_image is not None
    auth = login_for_image(login, recipe.docker_image, puller.mirror) if login else None
    await puller.check(recipe.docker_image, auth)
    return auth


async def with_images(
    session: AsyncSession, state: DeploymentState, detail: DeploymentDetail
) -> DeploymentDetail:
    """``detail`` with the digests its versions run and its registry logins (names only)."""
    pinned = {}
    for key, digest in dict(state.deployment.image_digests or {}).items():
        row = state.version(int(key))
        pinned[row.version if row is not None else f"#{key}"] = digest
    logins = await login_names(session, state.id)
    return detail.model_copy(update={"pinned_images": pinned, "registry_logins": logins})


class ImagePins:
    """Resolves a version's image once per deployment and runs that digest from then on.

    The first instance of a version in a deployment finds its image on the engine or pulls
    it (one pull however many instances start), and the digest is recorded on the
    deployment (``image_digests``, with a history entry); restarts, scaling and rollbacks
    run that digest, pulled again by digest if it left the engine, even after the tag moved.
    While a pull runs its progress is published (``deployment.pull``) and shown as the
    deployment's status reason.

    Args:
        sessions: the database.
        events: where progress is published.
        puller: finds and pulls images.
        box: the secret box (for a deployment's registry logins).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        puller: ImagePuller,
        box: BoxSource,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self.puller = puller
        self._box = box
        self._locks: dict[int, asyncio.Lock] = {}

    async def image(self, state: DeploymentState, version_id: int, image: str) -> str:
        """The reference to run for ``version_id``: its pinned digest, else ``image``
        resolved (pulled if missing) and pinned now.

        Raises:
            NotFound: the registry has no such image (or a pinned local image is gone).
            Forbidden: the registry refused the deployment's login (or wants one).
            Unavailable: the registry or the engine cannot be reached.
        """
        d = state.deployment
        key = str(version_id)
        async with self._locks.setdefault(d.id, asyncio.Lock()):
            async with self._sessions() as session:
                pins = await session.scalar(
                    select(ServiceDeployment.image_digests).where(ServiceDeployment.id == d.id)
                )
                pinned = dict(pins or {}).get(key)
                auth = await self.login(session, d.id, pinned or image)

            async def report(progress: PullProgress) -> None:
                await self._report(state, progress)

            resolved = await self.puller.resolve(image, auth=auth, pinned=pinned, report=report)
            if pinned is not None:
                return pinned
            how = f"pulled in {resolved.seconds:.1f} s" if resolved.pulled else "on the engine"
            async with self._sessions.begin() as session:
                current = await session.scalar(
                    select(ServiceDeployment.image_digests).where(ServiceDeployment.id == d.id)
                )
                pins = {**dict(current or {}), key: resolved.pinned}
                await session.execute(
                    update(ServiceDeployment)
                    .where(ServiceDeployment.id == d.id)
                    .values(image_digests=pins)
                )
                label = state.versions[version_id].version
                history.record(
                    session,
                    d,
                    "image-pinned",
                    changes={"version": label, "image": image, "digest": resolved.pinned},
                    reason=f"{resolved.reference} {how}; restarts and rollbacks run this digest",
                )
            d.image_digests = pins
            return resolved.pinned

    async def login(
        self, session: AsyncSession, deployment_id: int, image: str
    ) -> RegistryAuth | None:
        """The deployment's login for the registry ``image`` is pulled from, if it has one."""
        if image.startswith("sha256:"):
            return None  # a local image id: never pulled
        registry = self.puller.candidates(image)[-1].registry
        return await login_for(session, self._box, deployment_id, registry)

    async def check(
        self, session: AsyncSession, state: DeploymentState, version_id: int, recipe: Recipe
    ) -> None:
        """Before an update or rollback to ``version_id``: the image it would run (its pinned
        digest, if this deployment ran it before) can be had.

        Raises:
            NotFound, Forbidden, Unavailable: as ``ImagePuller.check``.
        """
        d = state.deployment
        if d.driver != DOCKER or not recipe.docker_image:
            return
        pinned = dict(d.image_digests or {}).get(str(version_id))
        target = pinned or recipe.docker_image
        await self.puller.check(target, await self.login(session, d.id, target))

    async def _report(self, state: DeploymentState, progress: PullProgress) -> None:
        event = {
            "type": PULL_EVENT,
            "deployment": state.name,
            "deployment_id": state.id,
            "image": progress.image,
            "layers_done": progress.layers_done,
            "layers_total": progress.layers_total,
            "bytes_done": progress.bytes_done,
            "bytes_total": progress.bytes_total,
            "done": progress.done,
            "reason": progress.describe(),
        }
        await report_progress(self._sessions, self._events, state, event)
