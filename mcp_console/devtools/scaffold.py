"""Server templates: a directory per template, rendered into a new project (``mcp-console new``)."""

from __future__ import annotations

import getpass
import re
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mcp_console.schemas.errors import Conflict, Invalid, NotFound

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# What a directory must hold to be a template; it is read, never copied.
MANIFEST = "template.toml"
# A file ending so has its placeholders filled and loses the suffix; others are copied as
# they are (so a template's code stays out of reach of the console's own linters).
RENDERED_SUFFIX = ".tmpl"
# Package data cannot hold dotfiles reliably: a template's ``gitignore`` becomes ``.gitignore``.
RENAMED = {"gitignore": ".gitignore"}
SKIPPED = frozenset({MANIFEST, "__pycache__", "node_modules", ".venv", "dist"})
KINDS = ("python", "node")
FIRST_VERSION = "0.1.0"
# A name every runtime accepts as is: a PyPI distribution, an npm package, a console script,
# an image repository and a deployment name.
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_NAME_MAX = 50
_NAMESPACE_RE = re.compile(r"^[a-zA-Z0-9.-]+$")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A template directory: its name, what it makes, and the kind of project (how it is
    built and tested: ``python`` or ``node``)."""

    name: str
    path: Path
    description: str
    kind: str


def builtin_templates() -> list[Template]:
    """The templates that ship with the console, by name."""
    return [
        load_template(path)
        for path in sorted(TEMPLATES_DIR.iterdir())
        if (path / MANIFEST).is_file()
    ]


def load_template(path: Path) -> Template:
    """The template in directory ``path``.

    Raises:
        Invalid: ``path`` has no readable ``template.toml``, or it names an unknown kind.
    """
    manifest = path / MANIFEST
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Invalid(
            f"{path} is not a template: it has no {MANIFEST} (see README, 'Server templates')",
            field="template",
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise Invalid(f"cannot read {manifest}: {exc}", field="template") from None
    kind = data.get("kind")
    if kind not in KINDS:
        raise Invalid(
            f"{manifest}: kind must be one of {', '.join(KINDS)}, not {kind!r}", field="template"
        )
    return Template(path.name, path, str(data.get("description") or ""), str(kind))


def find_template(name_or_path: str) -> Template:
    """A built-in template by name, or the template directory at a path.

    Raises:
        NotFound: no built-in template has that name and no such directory exists (the
            built-in names are listed).
        Invalid: the directory is not a template.
    """
    builtin = TEMPLATES_DIR / name_or_path
    if "/" not in name_or_path and (builtin / MANIFEST).is_file():
        return load_template(builtin)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return load_template(path)
    names = ", ".join(t.name for t in builtin_templates())
    raise NotFound(
        f"no template {name_or_path!r}: give one of {names}, or the path of a template directory",
        field="template",
    )


def check_name(name: str) -> str:
    """``name`` if it can name a project (package, program, image and deployment alike).

    Raises:
        Invalid: it cannot (the message says what a name may hold).
    """
    if not _NAME_RE.match(name) or len(name) > _NAME_MAX:
        raise Invalid(
            f"{name!r} cannot name a server project: use lowercase letters, digits and "
            f"single hyphens, starting with a letter (at most {_NAME_MAX} characters), "
            "e.g. weather-tools",
            field="name",
        )
    return name


def default_namespace() -> str:
    """The registry namespace of a new server: ``io.github.<user>`` (the user's login)."""
    user = re.sub(r"[^a-z0-9-]+", "-", getpass.getuser().lower()).strip("-")
    return f"io.github.{user or 'me'}"


def placeholders(name: str, namespace: str) -> dict[str, str]:
    """The values a template's ``{{placeholders}}`` take for project ``name``.

    Raises:
        Invalid: ``name`` or ``namespace`` cannot be used.
    """
    check_name(name)
    if not _NAMESPACE_RE.match(namespace):
        raise Invalid(
            f"{namespace!r} is not a registry namespace (letters, digits, dots and hyphens, "
            "e.g. io.github.alice)",
            field="namespace",
        )
    title = " ".join(part.capitalize() for part in name.split("-"))
    return {
        "name": name,
        "module": name.replace("-", "_"),
        "title": title,
        "description": f"{title}: an MCP server",
        "version": FIRST_VERSION,
        "server_name": f"{namespace}/{name}",
        "mcp_version": metadata.version("mcp"),
    }


def render(text: str, values: Mapping[str, str], where: str) -> str:
    """``text`` with each ``{{key}}`` replaced by its value.

    Raises:
        Invalid: a placeholder has no value (``where`` names the file).
    """

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            known = ", ".join(sorted(values))
            raise Invalid(
                f"{where}: unknown placeholder {{{{{key}}}}} (known: {known})", field="template"
            )
        return values[key]

    return _PLACEHOLDER_RE.sub(value, text)


def create_project(template: Template, target: Path, values: Mapping[str, str]) -> list[Path]:
    """Render ``template`` into the new directory ``target``; returns the files written.

    The project is rendered beside ``target`` and moved into place once complete: a failure
    leaves nothing behind.

    Raises:
        Conflict: ``target`` exists.
        Invalid: the template has an unknown placeholder or a file that is not UTF-8 text.
    """
    if target.exists():
        raise Conflict(f"{target} already exists: choose another name or --dir", field="dir")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        written = _render_tree(template.path, work, values)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return [target / path.relative_to(work) for path in written]


def _render_tree(source: Path, work: Path, values: Mapping[str, str]) -> list[Path]:
    written: list[Path] = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in SKIPPED for part in relative.parts) or path.is_dir():
            continue
        parts = [render(part, values, str(relative)) for part in relative.parts]
        parts[-1] = RENAMED.get(parts[-1], parts[-1])
        rendered = parts[-1].endswith(RENDERED_SUFFIX)
        if rendered:
            parts[-1] = parts[-1].removesuffix(RENDERED_SUFFIX)
        out = work.joinpath(*parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        if rendered:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise Invalid(f"{path} is not UTF-8 text", field="template") from None
            out.write_text(render(text, values, str(relative)), encoding="utf-8")
        else:
            shutil.copyfile(path, out)
        shutil.copymode(path, out)
        written.append(out)
    return written
