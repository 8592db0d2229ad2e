"""Features. Each folder declares the commands and card actions it handles in a ``Router``."""
