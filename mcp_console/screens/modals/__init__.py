"""Modal screens: each dismisses with a typed value."""
