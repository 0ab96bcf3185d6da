"""The registry logins of deployments at rest: one row per registry, the password encrypted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import DeploymentRegistryLogin
from mcp_console.backend.deploy.image_ref import ImageRef, RegistryAuth
from mcp_console.backend.security.secrets import SecretBox
from mcp_console.schemas.registry import RegistryLogin


def login_for_image(login: RegistryLogin, image: str | None, mirror: str | None) -> RegistryAuth:
    """``login`` for its registry: the one named, else the one ``image`` is pulled from.

    Raises:
        Invalid: no registry is named and ``image`` is not an image reference.
    """
    registry = login.registry
    if registry is None:
        registry = ImageRef.parse(image or "").mirrored(mirror).registry
    return RegistryAuth(registry.lower(), login.username, login.password)


def save_logins(
    session: AsyncSession, box: SecretBox, deployment_id: int, logins: Iterable[RegistryAuth]
) -> None:
    """Add the deployment's logins (a new deployment's; one per registry)."""
    for login in logins:
        session.add(
            DeploymentRegistryLogin(
                deployment_id=deployment_id,
                host=login.registry,
                username=login.username,
                ciphertext=box.encrypt(login.password),
            )
        )


async def login_for(
    session: AsyncSession,
    box: Callable[[], Awaitable[SecretBox]],
    deployment_id: int,
    registry: str,
) -> RegistryAuth | None:
    """The deployment's login for ``registry``, decrypted (for a pull only), or ``None``.

    Raises:
        Unavailable: the password cannot be decrypted with the configured key.
    """
    row = await session.scalar(
        select(DeploymentRegistryLogin).where(
            DeploymentRegistryLogin.deployment_id == deployment_id,
            DeploymentRegistryLogin.host == registry.lower(),
        )
    )
    if row is None:
        return None
    return RegistryAuth(row.host, row.username, (await box()).decrypt(row.ciphertext))


async def login_names(session: AsyncSession, deployment_id: int) -> list[str]:
    """``username@registry`` of each of the deployment's logins (never a password)."""
    rows = await session.execute(
        select(DeploymentRegistryLogin.username, DeploymentRegistryLogin.host)
        .where(DeploymentRegistryLogin.deployment_id == deployment_id)
        .order_by(DeploymentRegistryLogin.host)
    )
    return [f"{username}@{host}" for username, host in rows]
