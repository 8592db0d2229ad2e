"""The feature kit: what every feature builds on, and nothing feature-specific.

- router.py, dispatch.py   routes as a table; dispatch enforces what a route declares (kind, role, scopes)
- feature.py               the ``Feature`` contract a feature package returns from ``feature()``
- identity.py              who is writing: roles from DXBOT_ADMINS and the features' role sources
- i18n.py, catalog.toml    words (Japanese first, English second) and the kit's own messages
- cards.py                 Adaptive Card building blocks
- business_days.py         Japan's business calendar
- textfiles.py             decoding the CSV/text files people send (Shift_JIS, UTF-8 with BOM, …)
- spreadsheets.py, uploads.py   reading the Excel files people send within limits; receiving a file whole or not at all
- security_headers.py, signing.py   web response headers, signed expiring links

The kit imports no feature and no engine; ``tests/test_layers.py`` fails if it does.
"""
