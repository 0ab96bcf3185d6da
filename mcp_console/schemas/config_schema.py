"""What a config schema's marks mean everywhere: secret properties, ``{name}`` templates, and
catalog values that are instructions rather than values."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from mcp_console.schemas.coercion import boolean_word

# What the catalog formats write on a secret property: our marker and JSON Schema's own.
SECRET_MARKS: dict[str, Any] = {"x-secret": True, "writeOnly": True}
# OpenAPI's and form builders' masked field; a field a form would mask is stored as a secret.
SECRET_FORMAT = "password"  # noqa: S105 - a format's name, not a credential
# ``{name}``: server.json's placeholder, filled from the property of that name.
_PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")
# On a property whose value goes into the server's arguments (a ``{name}`` there), not into
# its environment.
ARGUMENT_MARK = "x-argument"
# On a property holding a path on the machine (server.json's ``format: filepath``).
PATH_FORMAT = "filepath"
# The placeholder a driver fills with the port it gives an HTTP server (``{port}``): no
# property of a catalog's may take the name.
DRIVER_PORT = "port"
# On a property the user must give because the catalog's value for it was an instruction
# (``not_a_value``): the catalog's text, shown as a hint and named when it is missing.
INSTRUCTION_MARK = "x-instruction"
# What catalog authors write where they mean "put your own value here": ``<port number>``,
# ``YOUR_API_KEY_HERE``, ``your-domain.example``, ``/path/to/...``, ``ABSOLUTE/PATH``,
# ``$REPOSITORY_DIRECTORY``, ``xxx``. (``{name}`` is a template of ours, filled, never this.)
_INSTRUCTION = re.compile(
    r"<[^<>]*[A-Za-z][^<>]*>"
    r"|(?<![A-Za-z])your(?![A-Za-z])"
    r"|(?:^|[/\\])path[/\\_ -]to(?:[/\\_ -]|$)"
    r"|absolute[/\\_ -]*path"
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"
    r"|^(?:x{3,}|\.{3}|\u2026|changeme|replace[_ -]?me)$",
    re.IGNORECASE,
)
# A Windows path or a macOS home directory: where the author's files were, never ours.
_FOREIGN_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|/Users/)")


def is_secret(prop: Mapping[str, Any]) -> bool:
    """Whether a configuration property holds a secret.

    The one rule for the backend (which stores such a value encrypted and never returns it)
    and the console (which masks it as it is typed and never shows it). A property is secret
    when any of these says so:

    - ``x-secret``: ours; the catalog formats write it for server.json's ``isSecret``, the
      Docker catalog's ``secrets``, and variables whose names say they carry credentials;
    - ``writeOnly``: JSON Schema's "sent, never read back" (the formats write it too);
    - ``format: password``: the masked field of OpenAPI and of form builders.

    A marker counts unless it is plainly false: ``true``, ``"yes"``, ``"true"``, ``1`` count;
    ``false``, ``"no"``, ``"false"``, ``0`` and ``null`` do not. Any other value (``"sensitive"``)
    counts too: a credential shown in clear costs more than a plain value hidden.
    """
    if any(_says_yes(prop.get(marker)) for marker in SECRET_MARKS):
        return True
    fmt = prop.get("format")
    return isinstance(fmt, str) and fmt.strip().lower() == SECRET_FORMAT


def _says_yes(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        word = boolean_word(value)
        return True if word is None else word
    return True


def is_argument(prop: Mapping[str, Any]) -> bool:
    """Whether a property's value is passed as an argument (in place of its ``{name}``)."""
    return prop.get(ARGUMENT_MARK) is True


def is_path(prop: Mapping[str, Any]) -> bool:
    """Whether a property's value is a path on the machine the server runs on."""
    return prop.get("x-format") == PATH_FORMAT


def placeholder(name: str) -> str:
    """``name`` as a placeholder to fill in: ``{name}``."""
    return f"{{{name}}}"


def placeholders(text: str) -> list[str]:
    """The names of the placeholders in ``text``, in order (``"{host}:{port}"`` gives two)."""
    return _PLACEHOLDER.findall(text)


def has_placeholder(text: str) -> bool:
    """Whether ``text`` holds a ``{name}`` to fill in."""
    return _PLACEHOLDER.search(text) is not None


def fill(template: str, value_of: Callable[[str], str | None]) -> str:
    """``template`` with each ``{name}`` replaced by ``value_of(name)`` (kept where ``None``)."""

    def one(match: re.Match[str]) -> str:
        value = value_of(match.group(1))
        return match.group(0) if value is None else value

    return _PLACEHOLDER.sub(one, template)


def not_a_value(text: str) -> str | None:
    """Why a catalog's ``text`` cannot be passed to a server as it is, or ``None`` when it can.

    The one rule for the catalog importers (which turn such an argument or variable into a
    setting the user must give), the deployment checks (which never pass one) and the forms
    (which show it as a hint). An instruction (``<port number ex. 5672>``,
    ``YOUR_API_KEY_HERE``, ``/path/to/your/repo``, ``$REPOSITORY_DIRECTORY``) and a path on
    the author's own machine (``C:\\Users\\...``, ``/Users/alice/...``) are not values.
    """
    if _INSTRUCTION.search(text):
        return "an instruction, not a value"
    if _FOREIGN_PATH.match(text):
        return "a path on its author's machine, not a value for this one"
    return None


def missing_problem(prop: Mapping[str, Any]) -> str:
    """What to say of a required property left out: ``required``, and why when the catalog
    held an instruction rather than a value (the backend and the forms say the same)."""
    text = prop.get(INSTRUCTION_MARK)
    if not isinstance(text, str):
        return "required"
    why = not_a_value(text) or "an instruction, not a value"
    return f"required: the catalog's value {text!r} is {why}"
