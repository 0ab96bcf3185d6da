"""The values of a spec's secret references, read from the environment or from files."""

from __future__ import annotations

import os
from pathlib import Path

from mcp_console.devtools.spec.source import Document
from mcp_console.schemas.spec import SecretRef


def read_secrets(
    document: Document, refs: dict[str, SecretRef], stored: set[str] | None
) -> dict[str, str]:
    """The value of each reference to the environment or a file (``stored`` ones are kept
    by the console and not read); ``stored`` names the secrets the deployment has (``None``:
    it does not exist yet).

    Raises:
        Invalid: a variable is unset, a file cannot be read or is empty, or a stored secret
            is not there; never with a value.
    """
    values: dict[str, str] = {}
    base = Path(document.file).parent
    for name, ref in refs.items():
        at = ("secrets", name)
        if ref.stored:
            if stored is None:
                raise document.error(
                    at, "nothing is stored yet (the deployment does not exist): use env or file"
                )
            if name not in stored:
                raise document.error(at, "the deployment stores no secret of this name")
        elif ref.env:
            value = os.environ.get(ref.env)
            if not value:
                raise document.error((*at, "env"), f"the environment variable {ref.env} is unset")
            values[name] = value
        elif ref.file:
            path = Path(ref.file).expanduser()
            path = path if path.is_absolute() else base / path
            try:
                # A trailing newline is the editor's, not the secret's.
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as error:
                why = getattr(error, "strerror", None) or "not UTF-8 text"
                raise document.error((*at, "file"), f"cannot read {path}: {why}") from None
            if not value:
                raise document.error((*at, "file"), f"{path} is empty")
            values[name] = value
    return values
