"""The ``freehold`` command: one module per command group."""
