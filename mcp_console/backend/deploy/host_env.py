"""Host variables a server receives by name (CA bundles, proxies), and the files they name."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping, Sequence

from mcp_console.schemas.errors import Invalid

PASSABLE_SETTING = "MCP_CONSOLE_DEPLOY__PASSABLE_ENV"


def refuse_unpassable(names: Iterable[str], passable: Sequence[str], *, whose: str) -> None:
    """Refuse a variable this console never passes to a server.

    Args:
        names: the variables asked for.
        passable: those the console passes (``deploy.passable_env``).
        whose: who asks, for the message ("the version", "--pass-env").

    Raises:
        Invalid: naming the first variable asked for that is not passable.
    """
    allowed = set(passable)
    for name in names:
        if name not in allowed:
            shown = ", ".join(passable) or "none"
            raise Invalid(
                f"{whose} asks for the host variable {name}, which this console does not "
                f"pass to servers (it passes {shown}; {PASSABLE_SETTING} sets them)",
                field="pass_env",
            )


def host_values(
    names: Iterable[str], passable: Sequence[str], environ: Mapping[str, str]
) -> dict[str, str]:
    """The values of ``names`` the console passes and the host has; nothing else."""
    allowed = set(passable)
    return {name: environ[name] for name in names if name in allowed and name in environ}


def files_named(passed: Mapping[str, str]) -> tuple[str, ...]:
    """The files and folders of this machine the passed values name (a CA bundle, a
    certificates folder): a container sees them read-only at the same path, so that the
    variable means there what it means here. Blocking (``stat``): call it on a thread.

    Raises:
        Invalid: a named file is one the container's unprivileged user cannot read.
    """
    paths: list[str] = []
    for name, value in passed.items():
        if not os.path.isabs(value):
            continue  # a proxy URL, a list of hosts: nothing to mount
        try:
            mode = os.stat(value).st_mode
        except OSError:
            continue  # names nothing here: the variable goes as it is
        needed = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
        if mode & needed != needed:
            kind, grant = ("folder", "o+rx") if stat.S_ISDIR(mode) else ("file", "o+r")
            raise Invalid(
                f"{name} names the {kind} {value}, which the container's unprivileged user "
                f"cannot read; make it readable by others (chmod {grant}) or use the process "
                "runtime",
                field="pass_env",
            )
        paths.append(os.path.normpath(value))
    return tuple(dict.fromkeys(paths))
