"""Runtime drivers behind one engine-neutral protocol: Docker containers and local processes."""
