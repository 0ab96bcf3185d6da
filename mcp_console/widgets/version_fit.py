"""How a version's source and its fit on this machine are drawn (wizard and detail page)."""

from __future__ import annotations

from rich.text import Text

from mcp_console.schemas.catalog import VersionView
from mcp_console.schemas.runnability import VersionRunnability


def fit_mark(fit: VersionRunnability | None) -> Text:
    """``✓`` runs here (or elsewhere), ``✗`` cannot, ``…`` not known yet."""
    if fit is None:
        return Text("…", style="dim")
    return Text("✓", style="green") if fit.runnable else Text("✗", style="bold red")


def source_line(version: VersionView, fit: VersionRunnability | None) -> Text:
    """``from npm @scope/pkg 1.2.3 (needs Node.js >=20)``, and under it the fit's summary."""
    line = Text("from ", style="dim")
    line.append(version.source.text, style="bold")
    if fit is None:
        return line
    if fit.requires:
        line.append(f" (needs {fit.requires})", style="dim")
    line.append("\n")
    line.append_text(fit_mark(fit))
    line.append(f" {fit.summary}", style="" if fit.runnable else "red")
    return line


def fit_details(
    version: VersionView, fit: VersionRunnability | None, problem: str | None = None
) -> Text:
    """The source line, then each runtime's answer (``docker ✓ image not on the engine: …``);
    ``problem`` says why there is no answer."""
    text = source_line(version, fit)
    if fit is None:
        if problem is not None:
            text.append(f"\nCould not tell whether it runs here: {problem}", style="dim")
        else:
            text.append("\nchecking whether it runs here…", style="dim italic")
        return text
    for each in fit.fits:
        if not each.offered:
            continue
        text.append(f"\n  {each.runtime:<8}", style="bold")
        text.append("✓" if each.runs else "✗", style="green" if each.runs else "red")
        if each.note:
            text.append(f" {each.note}", style="dim" if each.runs else "")
    return text
