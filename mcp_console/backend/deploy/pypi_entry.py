"""Which program of a PyPI distribution runs the server: a console script or ``python -m``."""

from __future__ import annotations

import configparser
import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from mcp_console.backend.deploy.drivers.base import PackageSource
from mcp_console.schemas.errors import Invalid

_MAIN = "/__main__.py"


@dataclass(frozen=True, slots=True)
class Entry:
    """A console script (``script``) or a module run with ``python -m`` (``module``)."""

    script: str | None = None
    module: str | None = None

    def argv(self, bin_dir: str) -> list[str]:
        """The command in an environment whose executables are in ``bin_dir``."""
        if self.script is not None:
            return [f"{bin_dir}/{self.script}"]
        return [f"{bin_dir}/python", "-m", str(self.module)]

    def text(self) -> str:
        """``script`` or ``-m module``, as kept beside a built environment."""
        return self.script if self.script is not None else f"-m {self.module}"

    @classmethod
    def parse(cls, text: str) -> Entry:
        """The inverse of ``text``."""
        if text.startswith("-m "):
            return cls(module=text[3:])
        return cls(script=text)


@dataclass(frozen=True, slots=True)
class Distribution:
    """What an installed distribution offers to run: its console scripts and the modules
    (packages) with a ``__main__``."""

    scripts: tuple[str, ...]
    main_modules: tuple[str, ...]


def choose_entry(package: PackageSource, offered: Distribution) -> Entry:
    """How to run ``package``: the script it names, a script of the package's own name, its
    one script, else ``python -m`` its module with a ``__main__``.

    Raises:
        Invalid: nothing fits; the message says which scripts the distribution has.
    """
    scripts = offered.scripts
    if package.entrypoint is not None:
        if package.entrypoint in scripts:
            return Entry(script=package.entrypoint)
        if package.entrypoint in offered.main_modules:
            return Entry(module=package.entrypoint)
        raise Invalid(
            f"{package.requirement} has no console script {package.entrypoint!r}; "
            f"{_offers(offered)}",
            field="package.entrypoint",
        )
    own = canonicalize_name(package.name)
    named = [s for s in scripts if canonicalize_name(s) == own]
    if named:
        return Entry(script=named[0])
    if len(scripts) == 1:
        return Entry(script=scripts[0])
    module = _main_module(own, offered.main_modules)
    if module is not None:
        return Entry(module=module)
    raise Invalid(
        f"{package.requirement} installs no console script named {package.name}; "
        f"{_offers(offered)}",
        field="package.entrypoint",
    )


def _main_module(own: str, modules: Sequence[str]) -> str | None:
    """The module to run with ``-m``: the one named like the distribution, else the only one."""
    mine = [m for m in modules if canonicalize_name(m.split(".")[0]) == own]
    if mine:
        return min(mine, key=lambda m: m.count("."))
    return modules[0] if len(modules) == 1 else None


def _offers(offered: Distribution) -> str:
    if offered.scripts:
        return (
            f"it has the scripts {', '.join(offered.scripts)}: name the one that serves MCP as "
            "the package's entrypoint"
        )
    if offered.main_modules:
        return (
            f"it has the runnable modules {', '.join(offered.main_modules)}: name one as the "
            "package's entrypoint"
        )
    return (
        "it has no console script and no module runnable with python -m (its catalog entry "
        "may expect a source checkout, which cannot be deployed)"
    )


def installed(site_packages: Path, name: str) -> Distribution:
    """What the distribution ``name`` installed in ``site_packages`` offers (its dist-info)."""
    own = canonicalize_name(name)
    for info in sorted(site_packages.glob("*.dist-info")):
        if canonicalize_name(info.name.removesuffix(".dist-info").rsplit("-", 1)[0]) != own:
            continue
        points = info / "entry_points.txt"
        record = info / "RECORD"
        return _distribution(
            points.read_text("utf-8") if points.is_file() else "",
            _record_paths(record.read_text("utf-8")) if record.is_file() else [],
        )
    return Distribution((), ())


def in_wheel(wheel: Path) -> Distribution:
    """What a wheel of a distribution offers, read from the archive."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        points = next(
            (n for n in names if n.count("/") == 1 and n.endswith(".dist-info/entry_points.txt")),
            None,
        )
        text = archive.read(points).decode("utf-8") if points else ""
    return _distribution(text, names)


def _distribution(entry_points: str, paths: Iterable[str]) -> Distribution:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the names' case
    try:
        parser.read_string(entry_points)
    except configparser.Error:
        parser.clear()
    scripts = tuple(parser["console_scripts"]) if parser.has_section("console_scripts") else ()
    modules = sorted(
        {
            path[: -len(_MAIN)].replace("/", ".")
            for path in paths
            if path.endswith(_MAIN) and not path.startswith("..") and ".dist-info" not in path
        },
        key=lambda m: (m.count("."), m),
    )
    return Distribution(scripts, tuple(modules))


def _record_paths(record: str) -> list[str]:
    return [row[0] for row in csv.reader(io.StringIO(record)) if row]
