"""Features, the kit they build on (``dialogs.kit``), the shared engines (``dialogs.engines``) and the
composition root (``dialogs.composition``, imported by ``bot/`` only). Each feature folder exposes one
``feature()``; see CONTRIBUTING.md."""
