"""The MCP gateway: one Streamable HTTP endpoint per deployment."""
