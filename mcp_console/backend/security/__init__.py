"""Users, teams, API keys (expiring, scoped, revocable) and roles; secret encryption at rest."""
