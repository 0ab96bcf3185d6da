"""Gateway tests: the official mcp SDK Client through the gateway to real servers."""
