"""Transport layer of dx-promoter-bot: HTTP, the Bot Framework adapter, settings and the CLI.

Features (``dialogs/``) depend only on :mod:`bot.api`; everything botbuilder-specific stays here.
"""
