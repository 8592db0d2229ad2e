"""Announcements (お知らせ): the DX division writes once; every section's leader and sub-leaders
receive it, confirm it, and the DX division sees who has and who has not.

Teams: 「お知らせ」 (compose → preview → 送信), 「お知らせ一覧」, 「未確認の課」, 「お知らせ書き出し 番号」,
「ここをDX推進課チャンネルにする」 (admins, in the channel). CLI: ``dxbot announce send|list|status|export``.
HTTP: ``POST /api/v1/announcements`` with a bearer key from DXBOT_API_KEYS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.kit.router import Router

if TYPE_CHECKING:
    from dialogs.composition import Feature

router = Router("announce")

from dialogs.announce import handlers  # noqa: E402,F401  (declares the routes on ``router``)


def feature() -> Feature:
    from dialogs.announce.cli import register_cli
    from dialogs.announce.jobs import scheduler_job, startup
    from dialogs.announce.web import routes
    from dialogs.composition import Feature

    return Feature(
        "announce", router, startup=startup, jobs=[scheduler_job()], cli=register_cli, http=routes()
    )
