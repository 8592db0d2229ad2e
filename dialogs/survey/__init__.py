"""Pulse surveys (パルスサーベイ): templates, schedules on Japan's business calendar, answers in Teams,
anonymity where promised, results with trends, charts and exports.

Where things are decided:
- questions.py   question types, card inputs, the server-side check of a submission
- templates.py   DXマインド / ツール活用 / 業務量;  loader.py  custom surveys from YAML, XLSX, the builder card
- schedule.py    next opening, closing time, reminder times (business days, JST)
- service.py     rounds: audience, invitations, answers, reminders, closing, the results post
- anonymity.py   which group attributes an anonymous answer may keep
- results.py     aggregation in SQL, suppression, trend and notable drops
- charts.py, export.py, links.py, web.py   PNG charts, CSV/XLSX, signed links served by the bot
- jobs.py        the round scheduler;  handlers.py  「サーベイ」「回答状況」 and the card buttons
"""

from __future__ import annotations

from dialogs.kit.feature import Feature


def feature() -> Feature:
    from bot.api import Job
    from dialogs.kit.router import Router
    from dialogs.survey import cli, demo, handlers, jobs, waiting, web

    return Feature(
        "survey",
        # waiting.py: 「未対応」's query (offered to the todo feature) and the reopen button
        Router("survey").include(handlers.router, waiting.router),
        jobs=[Job("survey-scheduler", jobs.run)],
        cli=cli.register,
        http=list(web.ROUTES),
        seed_demo=demo.seed_demo,
        waiting=[waiting.waiting],
    )
