"""The service market: catalog, versions, search, reviews and registry formats."""
