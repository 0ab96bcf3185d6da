"""The SDK's reference in Markdown, drawn from its docstrings: ``python -m mcp_console.sdk.reference
[--out DIR]`` (each public method of ``Console`` and ``AsyncConsole``, signature and summary)."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mcp_console.client.protocol import ConsoleClient
from mcp_console.sdk.async_console import AsyncConsole
from mcp_console.sdk.console import Console

FILE_NAME = "sdk.md"
CLASSES: tuple[type, ...] = (Console, AsyncConsole)


def public_methods(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """``cls``'s public methods, inherited ones too, in the order they were written."""
    seen: set[str] = set()
    for owner in reversed(cls.__mro__[:-1]):
        for name, value in vars(owner).items():
            if name.startswith("_") or name in seen or not callable(value):
                continue
            if isinstance(value, type):
                continue
            seen.add(name)
            yield name, getattr(cls, name)


def summary(name: str, method: Callable[..., Any]) -> str:
    """The summary of the method's docstring (the client protocol's, for one of its methods)."""
    # The protocol's words come first: the methods of the clients implement it.
    described = getattr(ConsoleClient, name, None)
    doc = (inspect.getdoc(described) if described is not None else None) or inspect.getdoc(method)
    doc = doc or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


class _Written(str):
    """An annotation as written in the source, shown without quotes."""

    def __repr__(self) -> str:
        return str(self)


def signature(cls: type, name: str, method: Callable[..., Any]) -> str:
    """``[async ]name(arguments) -> answer`` as a caller of ``cls`` writes it."""
    original = inspect.unwrap(method)
    found = inspect.signature(original)
    answer = str(found.return_annotation)
    if inspect.isasyncgenfunction(original) and not inspect.isasyncgenfunction(method):
        if cls is Console:
            # What a blocking method gives: the items one by one.
            answer = answer.replace("AsyncIterator[", "Iterator[", 1)
        else:
            # ``asynccontextmanager`` made it: it gives what the generator yields, in a context.
            answer = answer.replace("AsyncIterator[", "AbstractAsyncContextManager[", 1)
    parameters = [
        p.replace(annotation=_Written(p.annotation)) if p.annotation is not p.empty else p
        for p in list(found.parameters.values())[1:]  # self
    ]
    text = str(found.replace(parameters=parameters, return_annotation=_Written(answer)))
    asynchronous = cls is AsyncConsole and inspect.iscoroutinefunction(original)
    return f"{'async ' if asynchronous else ''}{name}{text}"


def render() -> str:
    """The whole reference."""
    out = [
        "# Python SDK reference",
        "",
        "Generated from the docstrings by `python -m mcp_console.sdk.reference`. Every method "
        "raises the errors of `mcp_console.sdk` (all `ConsoleError`); the models are those of "
        "`mcp_console.schemas`.",
    ]
    for cls in CLASSES:
        out += ["", f"## {cls.__name__}", "", inspect.getdoc(cls) or "", ""]
        for name, method in public_methods(cls):
            out.append(f"- `{signature(cls, name, method)}`: {summary(name, method)}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the reference to ``DIR/sdk.md``, or print it."""
    parser = argparse.ArgumentParser(description="Write the Python SDK's reference (Markdown).")
    parser.add_argument("--out", type=Path, help=f"a directory to write {FILE_NAME} in")
    args = parser.parse_args(argv)
    text = render()
    if args.out is None:
        print(text, end="")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / FILE_NAME).write_text(text, encoding="utf-8")
    print(args.out / FILE_NAME)


if __name__ == "__main__":
    main()
