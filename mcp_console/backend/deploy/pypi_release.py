"""A PyPI release as its index describes it: the Python it requires and when it was published."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
import ssl
import sys
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from mcp_console.backend.deploy.local_packages import LocalPackages, requires_python
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.settings import PypiSettings

logger = logging.getLogger(__name__)

DEFAULT_INDEX = "https://pypi.org/simple"
_JSON_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_TIMEOUT = 30.0
_SHOWN_VERSIONS = 5
_ANCHOR = re.compile(r"<a\s([^>]*)>([^<]+)</a>", re.IGNORECASE)
_REQUIRES = re.compile(r'data-requires-python="([^"]*)"', re.IGNORECASE)
# The MCP SDK. A release gets its newest version within the major it was made for rather
# than the one of its day: 1.x before 1.10 exits on a request it does not know, such as the
# server/discover current clients send first, and the protocol moves on without the server.
SDK = "mcp"
# Tools that build a source release: they must suit the interpreter building it now, not
# the one of the release's day, so they too are taken as they are today.
BUILD_TOOLS = (
    "setuptools",
    "wheel",
    "setuptools-scm",
    "hatchling",
    "hatch-vcs",
    "flit-core",
    "poetry-core",
    "pdm-backend",
)
# One line of ``pip config list``: ``global.index-url='https://…'``.
_CONFIG_LINE = re.compile(r"^([\w.:-]+)='(.*)'$")
_UV_TIME = "%Y-%m-%dT%H:%M:%SZ"
# Bumped when what a cached release records changes: older files are read again.
_CACHE_FORMAT = 2


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a distribution: what its files declare and when the last was uploaded."""

    name: str
    version: str
    requires_python: str | None
    uploaded: datetime | None
    has_wheel: bool
    # The SDK's major version as of the upload (``None``: it did not exist yet, or unknown).
    sdk_major: int | None = None

    def fits(self, python: str) -> bool:
        """Whether a Python of version ``python`` (``3.11.7``) satisfies ``Requires-Python``."""
        return python_fits(self.requires_python, python)

    @property
    def exclude_newer(self) -> str | None:
        """The moment to resolve dependencies as of: just after the release's last upload
        (``uv --exclude-newer``), so a later breaking release of a dependency stays out."""
        if self.uploaded is None:
            return None
        moment = self.uploaded.replace(microsecond=0) + timedelta(seconds=1)
        return moment.strftime(_UV_TIME)

    def resolution(self, now: datetime | None = None) -> Resolution:
        """How uv resolves this release's dependencies: as of its upload, but the build tools
        and the SDK (within its major: a constraint) as of ``now``."""
        if self.exclude_newer is None:
            return Resolution((), ())
        today = (now or datetime.now(UTC)).strftime(_UV_TIME)
        current = [*BUILD_TOOLS, *([SDK] if self.sdk_major is not None else [])]
        args = ["--exclude-newer", self.exclude_newer]
        for name in current:
            args += ["--exclude-newer-package", f"{name}={today}"]
        cap = (f"{SDK}<{self.sdk_major + 1}",) if self.sdk_major is not None else ()
        return Resolution(tuple(args), cap)


@dataclass(frozen=True, slots=True)
class Resolution:
    """uv options (``args``) and constraint lines (``constraints``, given in a file)."""

    args: tuple[str, ...]
    constraints: tuple[str, ...]

    def uv_args(self, constraints_file: Path) -> list[str]:
        """The options to give uv, the constraints written to ``constraints_file`` if there
        are any (a file write: call it off the loop)."""
        if not self.constraints:
            return list(self.args)
        constraints_file.write_text("\n".join(self.constraints) + "\n")
        return [*self.args, "--constraints", str(constraints_file)]


def python_fits(requires_python: str | None, python: str) -> bool:
    """Whether ``python`` satisfies a ``Requires-Python`` specifier (an unreadable one: yes,
    as pip and uv treat it)."""
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True


class PypiIndex:
    """Reads releases from the package index pip uses (PEP 691 JSON, else the HTML page).

    A found release is kept on disk (``settings.cache``): a published version's files and
    upload times do not change, so deploying it again asks the index nothing. A version
    published to the console itself (``local``) is read from its wheel, never from the index.
    """

    def __init__(self, settings: PypiSettings, *, local: LocalPackages | None = None) -> None:
        self.settings = settings
        self.local = local
        self._index_url: str | None = settings.index_url
        self._releases: dict[tuple[str, str], Release] = {}
        self._sdk_releases: list[tuple[datetime, Version]] | None = None

    async def index_url(self) -> str:
        """The index: the setting, else pip's (``PIP_INDEX_URL``, its configuration), else PyPI."""
        if self._index_url is None:
            self._index_url = os.environ.get("PIP_INDEX_URL") or await _pip_index() or DEFAULT_INDEX
        return self._index_url

    async def release(self, name: str, version: str) -> Release:
        """What the index says of ``name`` at exactly ``version``.

        Raises:
            Invalid: the index has no such project, or no such version of it (the message
                names the latest it has).
            Unavailable: the index cannot be reached.
        """
        key = (canonicalize_name(name), canonicalize_version(version))
        found = self._releases.get(key)
        if found is not None:
            return found
        wheel = self.local.wheel(name, version) if self.local is not None else None
        if wheel is not None:
            # No upload date: its dependencies resolve as they are today.
            requires = await asyncio.to_thread(requires_python, wheel)
            return Release(name, version, requires, None, has_wheel=True)
        path = self.settings.cache / f"{key[0]}-{key[1]}.json"
        found = await asyncio.to_thread(_read_cached, path)
        if found is None:
            found = await self._fetch(name, version)
            if found.uploaded is not None:
                found = replace(found, sdk_major=await self._sdk_major(found.uploaded))
            await asyncio.to_thread(_write_cached, path, found)
        self._releases[key] = found
        return found

    def find_links(self) -> list[str]:
        """pip and uv options that add the console's own wheels to the index."""
        return self.local.find_links() if self.local is not None else []

    async def _sdk_major(self, cutoff: datetime) -> int | None:
        """The major version of the newest SDK release uploaded by ``cutoff``."""
        if self._sdk_releases is None:
            try:
                files = await self._files(SDK)
            except Invalid:  # an index without the SDK: its packages have none to resolve
                files = []
            found = []
            for entry in files:
                uploaded = _parse_time(entry.get("upload-time"))
                parsed = _file_version(str(entry.get("filename", "")))
                if uploaded is not None and parsed is not None and not entry.get("yanked"):
                    with_version = _version(parsed)
                    if with_version is not None and not with_version.is_prerelease:
                        found.append((uploaded, with_version))
            self._sdk_releases = found
        before = [v for t, v in self._sdk_releases if t <= cutoff]
        return max(before).major if before else None

    async def _fetch(self, name: str, version: str) -> Release:
        index = (await self.index_url()).rstrip("/")
        return _release(name, version, await self._files(name), index)

    async def _files(self, name: str) -> list[dict[str, Any]]:
        """The files the index lists for project ``name``.

        Raises:
            Invalid: no such project.
            Unavailable: the index cannot be reached or answered an error.
        """
        index = (await self.index_url()).rstrip("/")
        url = f"{index}/{canonicalize_name(name)}/"
        context = await asyncio.to_thread(_tls_context)
        try:
            async with httpx.AsyncClient(verify=context, timeout=_TIMEOUT) as client:
                response = await client.get(
                    url, headers={"Accept": _JSON_ACCEPT}, follow_redirects=True
                )
        except httpx.HTTPError as exc:
            raise Unavailable(f"the package index {index} cannot be reached: {exc}") from None
        if response.status_code == 404:
            raise Invalid(f"{name} is not a project on the package index {index}", field="package")
        if response.status_code >= 400:
            raise Unavailable(
                f"the package index {index} answered {response.status_code} for {name}"
            )
        if "json" in response.headers.get("content-type", ""):
            return _json_files(response.json())
        return _html_files(response.text)


def _release(name: str, version: str, files: list[dict[str, Any]], index: str) -> Release:
    wanted = canonicalize_version(version)
    versions: dict[str, str] = {}
    mine: list[dict[str, Any]] = []
    for entry in files:
        parsed = _file_version(str(entry.get("filename", "")))
        if parsed is None:
            continue
        versions.setdefault(canonicalize_version(parsed), parsed)
        if canonicalize_version(parsed) == wanted and not entry.get("yanked"):
            mine.append(entry)
    if not mine:
        latest = sorted(versions.values(), key=_sort_key)[-_SHOWN_VERSIONS:]
        has = f" (its latest releases: {', '.join(reversed(latest))})" if latest else ""
        raise Invalid(
            f"{name}=={version} is not on the package index {index}: no such release{has}",
            field="package",
        )
    requires = next((str(f["requires-python"]) for f in mine if f.get("requires-python")), None)
    times = [_parse_time(f.get("upload-time")) for f in mine]
    uploaded = max((t for t in times if t is not None), default=None)
    wheel = any(str(f["filename"]).endswith(".whl") for f in mine)
    return Release(name, version, requires, uploaded, wheel)


def _file_version(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def _sort_key(version: str) -> tuple[int, Any]:
    parsed = _version(version)
    return (1, parsed) if parsed is not None else (0, version)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _json_files(page: Any) -> list[dict[str, Any]]:
    files = page.get("files") if isinstance(page, dict) else None
    return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []


def _html_files(page: str) -> list[dict[str, Any]]:
    """A PEP 503 page's files: names and ``data-requires-python`` (no upload times)."""
    files: list[dict[str, Any]] = []
    for attributes, text in _ANCHOR.findall(page):
        requires = _REQUIRES.search(attributes)
        entry: dict[str, Any] = {"filename": html.unescape(text.strip())}
        if requires and requires.group(1):
            entry["requires-python"] = html.unescape(requires.group(1))
        entry["yanked"] = "data-yanked" in attributes
        files.append(entry)
    return files


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _tls_context() -> ssl.SSLContext:
    """The machine's trusted authorities, or pip's certificate bundle when it names one."""
    bundle = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=bundle if bundle and Path(bundle).is_file() else None)


async def _pip_index() -> str | None:
    """pip's configured ``index-url``, if it has one (read with one ``pip config list``:
    each pip start costs most of a second)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pip",
        "config",
        "list",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        return None
    return pip_index_of(output.decode("utf-8", "replace"))


def pip_index_of(config_list: str) -> str | None:
    """The ``index-url`` in ``pip config list`` output (``global``, then ``install``, then
    ``download``: the keys ``pip config get`` would be asked for, in that order)."""
    found: dict[str, str] = {}
    for line in config_list.splitlines():
        match = _CONFIG_LINE.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    for key in ("global.index-url", "install.index-url", "download.index-url"):
        if found.get(key):
            return found[key]
    return None


def _read_cached(path: Path) -> Release | None:
    try:
        data = json.loads(path.read_text())
        if data.get("format") != _CACHE_FORMAT:
            return None
        uploaded = data.get("uploaded")
        return Release(
            name=str(data["name"]),
            version=str(data["version"]),
            requires_python=data.get("requires_python"),
            uploaded=datetime.fromisoformat(uploaded) if uploaded else None,
            has_wheel=bool(data.get("has_wheel")),
            sdk_major=data.get("sdk_major"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cached(path: Path, release: Release) -> None:
    data = asdict(release)
    data["uploaded"] = release.uploaded.isoformat() if release.uploaded else None
    data["format"] = _CACHE_FORMAT
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(data))
    partial.replace(path)
