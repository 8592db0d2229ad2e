"""The roster of the promoter network: who leads and backs up DX in each section, and who the DX division is.

Teams: send an Excel/CSV roster (admins), 「名簿」, 「担当 税務課」, 「私の役割」, 「カバー状況」,
「管理者追加 email」, 「監査ログ」. CLI: ``dxbot roster import|export|coverage|install-app``,
``dxbot admin add|remove|list``. Demo data: ``dxbot seed-demo`` (みどり市).
"""

from __future__ import annotations

from dialogs.kit.feature import Feature


def feature() -> Feature:
    from dialogs.roster.cli import register_cli
    from dialogs.roster.demo import seed_demo
    from dialogs.roster.handlers import router
    from dialogs.roster.roles import roster_roles

    return Feature("roster", router, cli=register_cli, seed_demo=seed_demo, role_sources=[roster_roles])
