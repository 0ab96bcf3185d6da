"""Whether a version can run on the console's machine, on which runtimes, and why not."""

from __future__ import annotations

from pydantic import Field

from mcp_console.schemas.base import Dto

# The runtimes a fit is given for, in the order a deployment left to choose tries them.
RUNTIMES = ("docker", "process", "remote")


class RuntimeFit(Dto):
    """One runtime's answer for a version.

    ``note`` says why it cannot run there (``needs Python >=3.13; this machine has 3.11``),
    or what a deployment will do first when it can (``image not on the engine: will pull``).
    """

    runtime: str
    runs: bool
    note: str = ""
    # Whether the version has a way to run there at all (an image-only version has none as a
    # process): a refusal of one it has is news, of one it lacks is not.
    offered: bool = True


class VersionRunnability(Dto):
    """A version's fits on this machine and the one line that sums them up.

    Build it with ``VersionRunnability.of``: the summary follows from the fits by one rule.
    """

    version: str
    runnable: bool
    summary: str
    # What the version asks of the machine, when it asks something (``Python >=3.12``).
    requires: str | None = None
    fits: list[RuntimeFit] = Field(default_factory=list)

    @property
    def caveat(self) -> bool:
        """Whether there is more to say than "runs here": it cannot, it runs elsewhere, or a
        runtime it offers refuses it (a list shows the summary then)."""
        local = [f for f in self.fits if f.runtime != "remote"]
        refused = any(f.offered and not f.runs for f in local)
        return refused or not any(f.runs for f in local)

    @classmethod
    def of(
        cls, version: str, fits: list[RuntimeFit], requires: str | None = None
    ) -> VersionRunnability:
        """The runnability of ``version`` from its runtimes' fits.

        The summary names what matters to someone choosing: a version that runs elsewhere
        (``remote: runs elsewhere``), one runtime only and why the other cannot
        (``needs Python >=3.13: docker runtime only``), what happens first
        (``image not on the engine: will pull``), or why it cannot run here at all.
        """
        ordered = sorted(fits, key=lambda f: RUNTIMES.index(f.runtime))
        local = [f for f in ordered if f.runtime != "remote"]
        running = [f for f in local if f.runs]
        remote = next((f for f in ordered if f.runtime == "remote" and f.runs), None)
        if running:
            summary = _runs_here(running, [f for f in local if not f.runs and f.offered])
        elif remote is not None:
            summary = "remote: runs elsewhere" + (f" ({remote.note})" if remote.note else "")
        else:
            offered = [f.note for f in ordered if f.note and f.offered]
            why = next(iter(offered), next((f.note for f in ordered if f.note), "nothing to run"))
            summary = f"cannot run here: {why}"
        return cls(
            version=version,
            runnable=bool(running) or remote is not None,
            summary=summary,
            requires=requires,
            fits=ordered,
        )


def _runs_here(running: list[RuntimeFit], refused: list[RuntimeFit]) -> str:
    notes = [f.note for f in running if f.note]
    if refused and refused[0].note:
        # The likely surprise: the runtime that does not fit, and the one left.
        return f"{refused[0].note}: {running[0].runtime} runtime only"
    names = ", ".join(f.runtime for f in running)
    return f"runs here ({names})" + (f" · {'; '.join(notes)}" if notes else "")
