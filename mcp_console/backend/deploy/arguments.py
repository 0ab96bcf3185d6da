"""A version's arguments filled from a deployment's configuration, and the paths Docker mounts."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from mcp_console.backend.deploy.config import ResolvedConfig
from mcp_console.backend.deploy.drivers.base import PORT_PLACEHOLDER, mount_problem
from mcp_console.backend.deploy.plan import DOCKER, Launch
from mcp_console.schemas.config_schema import fill, is_path, placeholders
from mcp_console.schemas.errors import Invalid

# ``{port}`` is the driver's: the port it gives the server (see ``substitute_port``).
_DRIVER_OWN = PORT_PLACEHOLDER.strip("{}")


def with_arguments(launch: Launch, schema: Mapping[str, Any], config: ResolvedConfig) -> Launch:
    """``launch`` with every ``{name}`` in its arguments and Node.js options replaced by the
    value of the configuration property ``name``: a placeholder is never passed as it is.

    On Docker a path filled in (a property with ``x-format: filepath``) exists only on this
    machine: it is mounted into the container at the same place, read-only, so the server
    sees the directory it is given while the container still cannot change the host.

    Raises:
        Invalid: naming ``config.<name>``: a placeholder has no value, names a secret
            (secrets reach a server only through its environment), or names a path Docker
            cannot mount.
    """
    properties = schema.get("properties")
    props: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    mounts: list[str] = list(launch.mounts)

    def value_of(name: str) -> str | None:
        if name == _DRIVER_OWN:
            return None
        if name in config.secrets:
            raise Invalid(
                f"config.{name}: is a secret, and secrets reach a server only through its "
                "environment, never its arguments",
                field=f"config.{name}",
            )
        text = config.texts.get(name)
        if text is None or text == "":
            raise Invalid(
                f"config.{name}: required: the server takes it as an argument; give it with "
                f"--set {name}=VALUE",
                field=f"config.{name}",
            )
        prop = props.get(name)
        if launch.driver == DOCKER and isinstance(prop, Mapping) and is_path(prop):
            mounts.append(_mountable(name, text))
        return text

    def filled(argv: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(fill(arg, value_of) if placeholders(arg) else arg for arg in argv)

    args = filled(launch.args)
    npm = launch.npm
    if npm is not None:
        npm = dataclasses.replace(npm, node_args=filled(npm.node_args))
    return dataclasses.replace(launch, args=args, npm=npm, mounts=tuple(dict.fromkeys(mounts)))


def _mountable(name: str, text: str) -> str:
    """``text`` as a path Docker can mount from this machine (a stat call: cheap on the loop)."""
    field = f"config.{name}"
    path = PurePosixPath(os.path.normpath(text)) if text.startswith("/") else None
    if path is None:
        raise Invalid(f"{field}: must be an absolute path, got {text!r}", field=field)
    problem = mount_problem(str(path))
    if problem is not None:
        raise Invalid(f"{field}: {problem}", field=field)
    if not os.path.exists(path):
        raise Invalid(
            f"{field}: {path} does not exist on this machine; the Docker runtime mounts an "
            "existing file or directory into the container",
            field=field,
        )
    hidden = _hidden_from_others(path)
    if hidden is not None:
        raise Invalid(
            f"{field}: {hidden} is not readable by other users, and the server's container "
            "runs as an unprivileged user; make it readable (chmod o+rX) or choose the "
            "process runtime",
            field=field,
        )
    return str(path)


def _hidden_from_others(path: PurePosixPath) -> str | None:
    """The first of ``path`` and its parents that another user could not get through."""
    for parent in reversed(path.parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return str(parent)
    mode = os.stat(path).st_mode
    wanted = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    return None if mode & wanted == wanted else str(path)
