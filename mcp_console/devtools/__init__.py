"""Developer tools that need no UI: the example MCP server, templates, inspector helpers."""
