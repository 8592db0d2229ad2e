"""The DX division's dashboard: a web page in a Teams tab with the network's state at a glance.

Where things are decided:
- web.py        the routes (pages, CSV, static files, local sign-in) and the security headers
- access.py     who may look: Teams SSO token or signed link -> a DX admin; local mode sign-in
- tokens.py     Entra ID token checks: signing keys from the OpenID metadata (cached), issuer,
                audience, tenant, expiry
- pages/        overview, announcements, surveys, questions: tiles, filters, charts and tables
- charts.py     server-side SVG;  tables.py  tables and their CSV;  render.py  templates, assets
- static/       CSS, the tab script, the Teams JavaScript library vendored from npm (see README.md)
"""

from __future__ import annotations

from bot.api import Role, Turn
from dialogs.kit.feature import Feature
from dialogs.kit.router import Router

router = Router("dashboard")


@router.command("ダッシュボード", "dashboard", role=Role.ADMIN, help_key="dashboard.cmd.dashboard")
async def dashboard_link(turn: Turn, args: str) -> None:
    """Where the dashboard is: the tab in Teams, or the address for local mode."""
    url = turn.services.settings.public_url.rstrip("/") + "/dashboard"
    key = "dashboard.cmd.reply_local" if turn.services.settings.local_mode else "dashboard.cmd.reply"
    await turn.reply(turn.t(key, url=url))


def feature() -> Feature:
    from dialogs.dashboard.web import routes

    return Feature("dashboard", router, http=routes())
