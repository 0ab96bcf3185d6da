"""The MCP gateway: one Streamable HTTP endpoint per deployment; auth, routing, metering."""
