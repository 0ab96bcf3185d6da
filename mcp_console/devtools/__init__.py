"""Developer tools that need no UI: the example MCP server and API docs generated from servers."""
