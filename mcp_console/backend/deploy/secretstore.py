"""Deployment secrets at rest (encrypted rows) and the masking of their values in output."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.db.models import DeploymentSecret
from mcp_console.backend.security.secrets import MASK, SecretBox
from mcp_console.settings import Settings

# Shorter values would mask harmless coincidences ("1", "on") all over a log.
MIN_REDACTED_LENGTH = 4
# A remote deployment's own upstream, given when it was created rather than configured:
# its URLs (``url:1``, ``url:2``, … in balancing order) and the headers sent there
# (``header:Authorization``). Stored like secrets, apart from the version's configuration.
URL_PREFIX = "url:"
HEADER_PREFIX = "header:"
_UPSTREAM_PREFIXES = (URL_PREFIX, HEADER_PREFIX)
# ``Bearer <token>``: a server echoing the token alone must see it masked too.
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\s+(\S+)$")


class DeploymentSecrets:
    """Stores each secret of a deployment as one encrypted row; decrypts for instances only.

    Besides the configuration's secrets, a remote deployment keeps its upstream here (see
    ``URL_PREFIX`` and ``HEADER_PREFIX``): ``load`` returns the configuration's alone,
    ``load_all`` everything. Decrypted values are also remembered per deployment, so that
    logs, stderr tails and errors can be masked before anyone sees them.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._box: SecretBox | None = None
        self._lock = asyncio.Lock()
        self._known: dict[int, tuple[str, ...]] = {}

    async def box(self) -> SecretBox:
        """The secret box (its key file is read, or created, on first use)."""
        if self._box is None:
            async with self._lock:
                if self._box is None:
                    self._box = await asyncio.to_thread(SecretBox.from_settings, self._settings)
        return self._box

    async def save(
        self, session: AsyncSession, deployment_id: int, secrets: Mapping[str, str]
    ) -> None:
        """Replace the deployment's secrets with ``secrets`` (encrypted)."""
        box = await self.box() if secrets else None
        await session.execute(
            delete(DeploymentSecret).where(DeploymentSecret.deployment_id == deployment_id)
        )
        for name, value in sorted(secrets.items()):
            assert box is not None
            session.add(
                DeploymentSecret(
                    deployment_id=deployment_id, name=name, ciphertext=box.encrypt(value)
                )
            )
        self._remember(deployment_id, secrets.values())

    async def load(self, session: AsyncSession, deployment_id: int) -> dict[str, str]:
        """The secrets of the deployment's configuration in plain text (for an instance's
        environment only).

        Raises:
            Unavailable: a secret cannot be decrypted with the configured key.
        """
        secrets = await self.load_all(session, deployment_id)
        return {k: v for k, v in secrets.items() if not k.startswith(_UPSTREAM_PREFIXES)}

    async def load_all(self, session: AsyncSession, deployment_id: int) -> dict[str, str]:
        """Every secret of the deployment in plain text: its configuration's and its
        remote upstream's (for the instances only).

        Raises:
            Unavailable: a secret cannot be decrypted with the configured key.
        """
        rows = (
            await session.execute(
                select(DeploymentSecret.name, DeploymentSecret.ciphertext).where(
                    DeploymentSecret.deployment_id == deployment_id
                )
            )
        ).all()
        if not rows:
            self._known.setdefault(deployment_id, ())
            return {}
        box = await self.box()
        secrets = {name: box.decrypt(ciphertext) for name, ciphertext in rows}
        self._remember(deployment_id, secrets.values())
        return secrets

    def _remember(self, deployment_id: int, values: Iterable[str]) -> None:
        # Values it held before stay masked: during a rolling restart after a change, an
        # old instance may still print the previous value.
        known = (*self._known.get(deployment_id, ()), *masked_values(values))
        self._known[deployment_id] = tuple(dict.fromkeys(known))

    async def known(self, session: AsyncSession, deployment_id: int) -> tuple[str, ...]:
        """The values to mask in the deployment's output (decrypted once, then remembered)."""
        if deployment_id not in self._known:
            await self.load(session, deployment_id)
        return self._known.get(deployment_id, ())

    def cached(self, deployment_id: int) -> tuple[str, ...]:
        """The values already known for a deployment, without touching the database."""
        return self._known.get(deployment_id, ())

    def forget(self, deployment_id: int) -> None:
        """Drop what is remembered of a deleted deployment."""
        self._known.pop(deployment_id, None)


def masked_values(values: Iterable[str]) -> tuple[str, ...]:
    """What to mask for these secrets: each value, and the token of a ``Bearer <token>``."""
    out: list[str] = []
    for value in values:
        out.append(value)
        token = _SCHEME_RE.match(value.strip())
        if token is not None:
            out.append(token.group(1))
    return tuple(out)


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every secret value replaced by the mask."""
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= MIN_REDACTED_LENGTH and value in text:
            text = text.replace(value, MASK)
    return text


def redact_lines(lines: Iterable[str], values: Iterable[str]) -> list[str]:
    """Each line redacted."""
    secrets = tuple(values)
    return [redact(line, secrets) for line in lines]
