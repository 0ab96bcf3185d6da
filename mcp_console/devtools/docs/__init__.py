"""API docs generated from what a live MCP server lists: tables, badges, Markdown and HTML."""
