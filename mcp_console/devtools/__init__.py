"""Developer tools that need no UI: the example MCP server."""
