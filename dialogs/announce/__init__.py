"""Announcements (お知らせ): the DX division writes once; every section's leader and sub-leaders
receive it, confirm it, and the DX division sees who has and who has not.

Teams: 「お知らせ」 (compose → preview → 送信), 「お知らせ一覧」, 「未確認の課」, 「お知らせ書き出し 番号」,
「ここをDX推進課チャンネルにする」 (admins, in the channel). CLI: ``dxbot announce send|list|status|export``.
HTTP: ``POST /api/v1/announcements`` with a bearer key from DXBOT_API_KEYS.
"""

from __future__ import annotations

from dialogs.kit.feature import Feature


def feature() -> Feature:
    from dialogs.announce import handlers, waiting
    from dialogs.announce.cli import register_cli
    from dialogs.announce.jobs import scheduler_job
    from dialogs.announce.relay import channels as relay_channels
    from dialogs.announce.relay import handlers as relay_handlers
    from dialogs.announce.service import KIND, on_delivery_progress
    from dialogs.announce.web import routes
    from dialogs.kit.router import Router

    return Feature(
        "announce",
        # waiting.py: 「未対応」's query (offered to the todo feature) and the reopen button; relay: 伝達依頼
        Router("announce").include(
            handlers.router, waiting.router, relay_handlers.router, relay_channels.router
        ),
        jobs=[scheduler_job()],
        cli=register_cli,
        http=routes(),
        progress={KIND: on_delivery_progress},
        waiting=[waiting.waiting],
    )
