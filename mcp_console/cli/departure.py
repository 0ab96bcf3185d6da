"""What becomes of the deployments a console's own backend runs when the console quits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from mcp_console.schemas.deploy import DeploymentView, DesiredState, RuntimeChoice
from mcp_console.schemas.errors import Conflict, ConsoleError, Unavailable
from mcp_console.schemas.users import Principal
from mcp_console.screens.modals.quit import RunningWork, agreeing, counted
from mcp_console.settings import Settings

# The backend loads only once the console runs on it.
if TYPE_CHECKING:
    from mcp_console.backend.runtime import Runtime

# Where the console says what it did, once the terminal is back.
Say = Callable[[str], None]


def _admin(runtime: Runtime) -> Principal:
    # The local admin sees every user's deployments: quitting stops serving all of them.
    if runtime.local_admin is None:
        raise Unavailable("the backend has no local admin")
    return runtime.local_admin


def _address(view: DeploymentView, admin: Principal) -> str:
    return view.name if view.owner == admin.name else f"{view.owner}/{view.name}"


async def _running(runtime: Runtime) -> tuple[Principal, list[DeploymentView]]:
    admin = _admin(runtime)
    views = await runtime.deployments.list_deployments(admin)
    running = [v for v in views if v.desired_state is DesiredState.RUNNING and v.replicas > 0]
    return admin, running


async def running_work(runtime: Runtime) -> RunningWork:
    """The deployments that run on ``runtime`` (every user's) and their instances."""
    admin, running = await _running(runtime)
    processes = sum(v.replicas for v in running if v.driver == RuntimeChoice.PROCESS.value)
    return RunningWork(
        deployments=tuple(_address(v, admin) for v in running),
        containers=sum(v.replicas for v in running) - processes,
        processes=processes,
    )


async def stop_running(runtime: Runtime, say: Say) -> None:
    """Stop every running deployment and wait until its instances are gone.

    They are stopped as ``deploy stop`` stops them, so the next backend to start leaves
    them stopped.
    """
    admin, running = await _running(runtime)
    if not running:
        return
    names = ", ".join(_address(v, admin) for v in running)
    say(f"stopping {counted(len(running), 'deployment')}: {names}")
    stopped: list[DeploymentView] = []
    for view in running:
        try:
            await runtime.deployments.stop(admin, _address(view, admin))
        except ConsoleError as error:
            say(f"could not stop {_address(view, admin)}: {error.message}")
        else:
            stopped.append(view)
    for view in stopped:
        await runtime.controller.settle(view.id)
    if stopped:
        they = agreeing(len(stopped), "it stays", "they stay")
        say(
            f"stopped {counted(len(stopped), 'deployment')}; {they} stopped until started "
            "again ('mcp-console deploy start NAME')"
        )


def left_running(work: RunningWork) -> str:
    """What leaving ``work`` as it is means, said once the console has quit."""
    n = len(work.deployments)
    parts = []
    if work.containers:
        keep = agreeing(work.containers, "keeps", "keep")
        parts.append(f"{counted(work.containers, 'container')} {keep} running unreachable")
    if work.processes:
        parts.append(f"{counted(work.processes, 'process instance')} stopped")
    return (
        f"left {counted(n, 'deployment')} as {agreeing(n, 'it is', 'they are')}: "
        f"{' and '.join(parts) or 'nothing serves them'} until the console or "
        "'mcp-console daemon' starts again"
    )


async def hand_over(settings: Settings, work: RunningWork, say: Say) -> None:
    """Start a background daemon on the data dir: it adopts the running containers and
    restarts the process instances (the console has released the data dir by now).

    Raises:
        Unavailable: the daemon did not start (the containers keep running, unserved).
    """
    # Loaded only here: the console's first frame does without the backend's state files.
    from mcp_console.backend.daemon import DaemonFiles, HostKind, holder_of
    from mcp_console.client.host import start_detached

    count = counted(len(work.deployments), "deployment")
    say(f"starting a background daemon for {count}")
    try:
        info = await asyncio.to_thread(start_detached, settings, None, None)
    except Conflict as error:
        holder = await asyncio.to_thread(holder_of, DaemonFiles(settings.data_dir))
        if holder is None or holder.kind is not HostKind.DAEMON:
            raise Unavailable(f"{count} not handed over: {error.message}") from None
        # A command started one on the data dir meanwhile: it adopts them just the same.
        say(f"{count} went to {holder.describe()}, started meanwhile by another command")
        return
    except ConsoleError as error:
        raise Unavailable(
            f"{count} not handed over: {error.message}. "
            "'mcp-console daemon --detach' serves them again"
        ) from None
    say(
        f"handed {count} to the mcp-console daemon at {info.url} (pid {info.pid}); "
        "stop it with 'mcp-console daemon stop'"
    )
