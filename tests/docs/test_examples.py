"""``docs --examples RECORDING``: each tool shows a recorded call and its result; without it
the document is what it always was."""

from __future__ import annotations

from pathlib import Path

from mcp_console.devtools.docs.check import read_snapshot
from mcp_console.devtools.docs.examples import tool_examples
from mcp_console.devtools.docs.output import DocFormat, render
from mcp_console.devtools.recording import read
from tests.cli.commands import Cli
from tests.docs.helpers import GOLDEN, golden
from tests.replay.helpers import EXAMPLE

# A session with the example server: add, echo, a failed and a good sleep, counter.
SESSION = GOLDEN / "example-session.jsonl"


def test_examples_come_from_the_first_good_call_of_each_tool() -> None:
    examples = tool_examples(read(SESSION))
    found = read_snapshot(GOLDEN / "example.json")

    assert sorted(examples) == ["add", "counter", "echo", "sleep"]  # whoami was not called
    assert examples["sleep"].arguments == '{\n  "seconds": 0.01\n}'  # not the call that failed
    assert render(found, DocFormat.MD, examples) == golden("example-examples.md")
    assert render(found, DocFormat.HTML, examples) == golden("example-examples.html")
    assert render(found, DocFormat.MD, {}) == golden("example.md")


def test_docs_of_a_live_server_show_the_examples(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "docs-examples")

    shown = cli("docs", "--examples", str(SESSION), "--", *EXAMPLE)
    refused = cli("docs", "--examples", str(SESSION), "--format", "json", "--", *EXAMPLE, ok=False)
    not_one = cli("docs", "--examples", str(GOLDEN / "example.md"), "--", *EXAMPLE, ok=False)

    assert shown.stdout == golden("example-examples.md")
    assert refused.stderr == (
        "error: --examples go into a document: use --format md or html, without --check "
        "(examples)\n"
    )
    assert not_one.stderr == (
        f"error: {GOLDEN / 'example.md'} line 1 is not JSON (Expecting value): not a "
        "recording (recording)\n"
    )
