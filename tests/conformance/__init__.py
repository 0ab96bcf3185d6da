"""The official MCP conformance suite, directly and through the gateway."""
