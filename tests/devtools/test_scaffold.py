"""``mcp-console new`` and the project rules of ``dev``: names, templates of one's own, versions."""

from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_console.backend.deploy.local_packages import LocalPackages, requires_python
from mcp_console.devtools.project import bumped, load_project, set_version
from mcp_console.devtools.scaffold import (
    builtin_templates,
    create_project,
    find_template,
    placeholders,
)
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.schemas.users import Principal, Role


def _new(tmp_path: Path, template: str, name: str = "weather-tools") -> Path:
    target = tmp_path / name
    create_project(find_template(template), target, placeholders(name, "io.github.ann"))
    return target


def test_builtin_templates_make_valid_projects(tmp_path: Path) -> None:
    assert [t.name for t in builtin_templates()] == ["node-stdio", "python-http", "python-stdio"]
    for template in builtin_templates():
        project = load_project(_new(tmp_path, template.name, f"demo-{template.name}"))
        assert project.kind == template.kind
        assert project.server_name == f"io.github.ann/demo-{template.name}"
        assert project.version == "0.1.0"
        assert (project.root / ".gitignore").is_file()
        assert not list(project.root.rglob("*.tmpl"))
        assert not (project.root / "template.toml").exists()
    python = load_project(tmp_path / "demo-python-stdio")
    assert (python.root / "src" / "demo_python_stdio" / "server.py").is_file()
    assert python.transport == "stdio"
    assert load_project(tmp_path / "demo-python-http").transport == "streamable-http"


@pytest.mark.parametrize(
    ("name", "wrong"),
    [("Weather", "uppercase"), ("9lives", "digit first"), ("a--b", "double hyphen"), ("a_b", "_")],
)
def test_a_name_no_runtime_accepts_is_refused(name: str, wrong: str) -> None:
    with pytest.raises(Invalid, match="cannot name a server project") as caught:
        placeholders(name, "io.github.ann")
    assert caught.value.field == "name", wrong


def test_unknown_template_names_the_builtin_ones(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="python-stdio, or the path of a template"):
        find_template("rust-stdio")
    with pytest.raises(Invalid, match=r"has no template\.toml"):
        find_template(str(tmp_path))


def test_an_existing_directory_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "weather-tools"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    with pytest.raises(Conflict, match="already exists"):
        _new(tmp_path, "python-stdio")
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


def test_a_team_template_from_a_path(tmp_path: Path) -> None:
    team = tmp_path / "team-template"
    (team / "src" / "{{module}}").mkdir(parents=True)
    (team / "template.toml").write_text('description = "ours"\nkind = "python"\n')
    (team / "src" / "{{module}}" / "app.py.tmpl").write_text('NAME = "{{ name }}"\n')
    (team / "logo.bin").write_bytes(b"\x00{{name}}\xff")
    (team / "gitignore").write_text(".venv/\n")
    project = tmp_path / "out" / "ledger-sync"
    written = create_project(find_template(str(team)), project, placeholders("ledger-sync", "x.y"))
    assert (project / "src" / "ledger_sync" / "app.py").read_text() == 'NAME = "ledger-sync"\n'
    # Only .tmpl files are rendered: anything else is copied byte for byte.
    assert (project / "logo.bin").read_bytes() == b"\x00{{name}}\xff"
    assert (project / ".gitignore").is_file()
    assert len(written) == 3


def test_an_unknown_placeholder_leaves_nothing_behind(tmp_path: Path) -> None:
    team = tmp_path / "broken"
    team.mkdir()
    (team / "template.toml").write_text('kind = "node"\n')
    (team / "a.txt.tmpl").write_text("fine {{name}}\n")
    (team / "z.txt.tmpl").write_text("{{licence}}\n")
    with pytest.raises(Invalid, match=r"z.txt.tmpl: unknown placeholder \{\{licence\}\}"):
        create_project(find_template(str(team)), tmp_path / "p", placeholders("p", "x.y"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken"]


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("0.1.0", "patch", "0.1.1"),
        ("0.1.9", "minor", "0.2.0"),
        ("1.4.2", "major", "2.0.0"),
        ("2.0.0-rc.1", "patch", "2.0.0"),
    ],
)
def test_semver_bump(version: str, part: str, expected: str) -> None:
    assert bumped(version, part) == expected  # type: ignore[arg-type]


def test_bump_writes_every_file_that_names_the_version(tmp_path: Path) -> None:
    for template in ("python-http", "node-stdio"):
        project = load_project(_new(tmp_path, template, f"x-{template}"))
        set_version(project, "0.2.0")
        again = load_project(project.root)
        assert again.version == "0.2.0"
        assert again.package["version"] == "0.2.0"


def test_a_server_json_out_of_step_is_named(tmp_path: Path) -> None:
    root = _new(tmp_path, "python-stdio")
    server = json.loads((root / "server.json").read_text())
    server["packages"][0]["identifier"] = "other-name"
    (root / "server.json").write_text(json.dumps(server))
    with pytest.raises(Invalid, match="no pypi package named weather-tools"):
        load_project(root)
    server["version"] = "9.9.9"
    (root / "server.json").write_text(json.dumps(server))
    with pytest.raises(Invalid, match=r"version 9.9.9 differs from pyproject.toml's 0.1.0"):
        load_project(root)
    (root / "server.json").write_text('{"name": "x"}')
    with pytest.raises(Invalid, match=r"server\.json: not a valid server\.json"):
        load_project(root)
    with pytest.raises(Invalid, match=r"has no server\.json"):
        load_project(tmp_path)


def _wheel(path: Path, payload: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo/__init__.py", payload)
        archive.writestr(
            "demo-0.1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: demo\nVersion: 0.1.0\nRequires-Python: >=3.10\n",
        )
    return path


def test_a_published_package_never_changes(tmp_path: Path) -> None:
    store = LocalPackages(tmp_path / "packages")
    built = _wheel(tmp_path / "demo-0.1.0-py3-none-any.whl", "A = 1\n")
    stored = store.add(built)
    assert store.wheel("Demo", "0.1.0") == stored.path
    assert requires_python(stored.path) == ">=3.10"
    assert store.add(built).sha256 == stored.sha256  # the same bytes again: nothing to do
    (tmp_path / "other").mkdir()
    changed = _wheel(tmp_path / "other" / built.name, "A = 2\n")
    with pytest.raises(Conflict, match="--bump patch"):
        store.add(changed)
    assert store.wheel("demo", "0.2.0") is None
    assert store.tarball("demo", "0.1.0") is None


async def test_an_upload_over_the_size_limit_is_refused_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    store = LocalPackages(tmp_path / "packages", max_bytes=2**20)
    author = Principal(user_id=7, name="ada", role=Role.AUTHOR)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 2**19

    name = "demo-0.1.0-py3-none-any.whl"
    with pytest.raises(Invalid, match=f"{name} is larger than the 1 MB"):
        await store.upload(author, "pypi", "demo", "0.1.0", name, chunks())
    assert store.wheel("demo", "0.1.0") is None
    assert list((tmp_path / "packages" / ".incoming").iterdir()) == []


def test_a_project_given_by_a_relative_path_is_found_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _new(tmp_path, "python-stdio")
    monkeypatch.chdir(tmp_path)
    project = load_project(Path("weather-tools"))
    # The tools dev runs work in the project's directory: its paths must not depend on ours.
    assert project.root == tmp_path / "weather-tools"
    assert project.root.is_absolute()
