"""The console's screens, one per module; modals in ``modals``."""
