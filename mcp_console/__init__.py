"""mcp-console: a marketplace and operations console for MCP servers."""

__version__ = "0.1.0"
