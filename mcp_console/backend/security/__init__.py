"""Users, API keys and roles; secret encryption at rest."""
