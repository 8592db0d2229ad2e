"""Engines: shared machinery that features use and that has no commands of its own (delivery)."""
