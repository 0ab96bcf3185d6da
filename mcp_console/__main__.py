"""Run mcp-console with ``python -m mcp_console``."""

from mcp_console.cli import main

main()
