"""Spec files read with the line of every value, profiles chosen, and errors that name the
file, the line and the JSON path (``spec.yaml:12: deployments[0].replicas: …``)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mcp_console.schemas.errors import Invalid

JsonPath = tuple[str | int, ...]
PROFILES = "profiles"


def display(path: Sequence[str | int]) -> str:
    """``deployments[0].config.region`` for ``("deployments", 0, "config", "region")``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass
class Document:
    """One document of a spec file: its values (a profile applied) and where each was written."""

    file: str
    index: int
    values: dict[str, Any]
    # Each path of ``values``: the line it was written on and the path it was written at
    # (a profile's value was written under ``profiles.<name>``).
    written: dict[JsonPath, tuple[int, JsonPath]] = field(default_factory=dict)
    line: int = 1

    @property
    def root(self) -> JsonPath:
        """The document's own path: ``deployments[N]``."""
        return ("deployments", self.index)

    def error(self, path: Sequence[str | int], message: str) -> Invalid:
        """An error at ``path`` of this document, named by file, line and JSON path."""
        key = tuple(path)
        # The nearest written ancestor: a missing key is reported where its mapping starts.
        for end in range(len(key), -1, -1):
            found = self.written.get(key[:end])
            if found is not None:
                line, at = found
                where = (*at, *key[end:])
                break
        else:
            line, where = self.line, key
        return Invalid(f"{self.file}:{line}: {display((*self.root, *where))}: {message}")


def read_documents(path: Path, profile: str | None) -> list[Document]:
    """Every document of the spec file at ``path``, with ``profile``'s values when it has one.

    Raises:
        Invalid: the file cannot be read, is not YAML, a document is not a mapping, or no
            document has the profile asked for.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise Invalid(f"{name}: cannot read it: {error.strerror}") from None
    documents = list(_documents(name, text))
    if not documents:
        raise Invalid(f"{name}: holds no document")
    if profile is not None:
        if not any(profile in _profiles(d) for d in documents):
            raise Invalid(f"{name}: no document has the profile {profile!r}")
        for document in documents:
            _choose(document, profile)
    for document in documents:
        document.values.pop(PROFILES, None)
    return documents


def _documents(name: str, text: str) -> Iterator[Document]:
    loader = yaml.SafeLoader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            values = loader.construct_document(node)
            line = node.start_mark.line + 1
            if values is None:
                continue
            document = Document(name, index, {}, line=line)
            if not isinstance(values, dict):
                raise document.error((), "a document is a mapping (kind: Deployment, name: …)")
            document.values = values
            _lines(node, (), document.written)
            yield document
            index += 1
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise Invalid(f"{name}:{line}: not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise Invalid(f"{name}: not valid YAML: {error}") from None
    finally:
        loader.dispose()


def _lines(node: yaml.Node, path: JsonPath, into: dict[JsonPath, tuple[int, JsonPath]]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            into[child] = (key.start_mark.line + 1, child)
            _lines(value, child, into)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            into[child] = (item.start_mark.line + 1, child)
            _lines(item, child, into)


def _profiles(document: Document) -> dict[str, Any]:
    profiles = document.values.get(PROFILES)
    return profiles if isinstance(profiles, dict) else {}


def _choose(document: Document, profile: str) -> None:
    """Lay the profile's values over the document's: mappings key by key, the rest whole."""
    chosen = _profiles(document).get(profile)
    if chosen is None:
        return
    base: JsonPath = (PROFILES, profile)
    if not isinstance(chosen, dict):
        raise document.error(base, "a profile is a mapping of the values it changes")
    _merge(document.values, chosen, (), base, document.written)


def _merge(
    target: dict[str, Any],
    overrides: dict[str, Any],
    path: JsonPath,
    base: JsonPath,
    written: dict[JsonPath, tuple[int, JsonPath]],
) -> None:
    for key, value in overrides.items():
        here = (*path, key)
        source = written.get((*base, *here))
        if source is not None:
            written[here] = source
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, here, base, written)
            continue
        target[key] = copy.deepcopy(value)
        # Everything below a replaced value was written in the profile too.
        prefix = (*base, *here)
        for at, where in list(written.items()):
            if at[: len(prefix)] == prefix and len(at) > len(prefix):
                written[(*here, *at[len(prefix) :])] = where
