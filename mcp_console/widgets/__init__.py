"""Reusable Textual widgets: they render what they are given and post messages."""
