"""The quarterly report (四半期レポート): a PowerPoint deck and an Excel workbook with the same figures.

Teams: 「四半期レポート [2026Q3]」 (DX division) answers with signed download links.
CLI: ``dxbot report --quarter 2026Q3 --out report.pptx`` (or .xlsx). Quarters are fiscal: Q1 = April–June.
"""

from __future__ import annotations

from dialogs.kit.feature import Feature


def feature() -> Feature:
    from dialogs.report.handlers import register_cli, router, routes

    return Feature("report", router, cli=register_cli, http=routes())
