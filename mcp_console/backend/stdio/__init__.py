"""The stdio channel to an MCP server: JSON-lines framing, stderr ring, pumps, SDK adapter."""
