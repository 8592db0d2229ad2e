"""The roster of the promoter network: who leads and backs up DX in each section, and who the DX division is.

Teams: send an Excel/CSV roster (admins), 「名簿」, 「担当 税務課」, 「私の役割」, 「カバー状況」,
「管理者追加 email」, 「監査ログ」. CLI: ``dxbot roster import|export|coverage|install-app``,
``dxbot admin add|remove|list``. Demo data: ``dxbot seed-demo`` (みどり市).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.kit.identity import register_role_source
from dialogs.kit.router import Router
from dialogs.roster.roles import roster_roles

if TYPE_CHECKING:
    from dialogs.composition import Feature

router = Router("roster")
register_role_source(roster_roles)

from dialogs.roster import handlers  # noqa: E402,F401  (declares the routes on ``router``)


def feature() -> Feature:
    from dialogs.composition import Feature
    from dialogs.roster.cli import register_cli
    from dialogs.roster.demo import seed_demo

    return Feature("roster", router, cli=register_cli, seed_demo=seed_demo)
