"""「四半期レポート」 in Teams, its signed download links, and ``dxbot report``."""

from __future__ import annotations

import argparse
import html
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.api import HttpRequest, HttpResponse, HttpRoute, Role, Turn
from bot.settings import Settings
from dialogs.kit.business_days import to_jst
from dialogs.kit.cards import adaptive_card, heading, open_url, text
from dialogs.kit.i18n import t
from dialogs.kit.router import Router
from dialogs.kit.signing import Malformed, Signer, digits
from dialogs.report.figures import Quarter, collect
from storage.db import make_engine, make_sessionmaker

router = Router("report")

LINK_DAYS = 7
TYPES = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _signer(secret: str) -> Signer:
    return Signer(secret.encode("utf-8"), prefix=b"report-link:")


def signed_path(secret: str, quarter: Quarter, fmt: str, now: datetime) -> str:
    exp = int(now.timestamp()) + LINK_DAYS * 86400
    sig = _signer(secret).sign(f"{quarter.key}:{fmt}:{exp}")
    return f"/api/v1/reports/{quarter.key}.{fmt}?exp={exp}&sig={sig}"


async def build(session: Any, quarter: Quarter, fmt: str) -> bytes:
    from dialogs.report.deck import build_deck, build_workbook

    figures = await collect(session, quarter)
    return build_deck(figures) if fmt == "pptx" else build_workbook(figures)


@router.command(
    "四半期レポート",
    "quarterly report",
    role=Role.AUTHOR,
    help_key="report.cmd.report",
    usage="四半期レポート 2026Q3",
)
async def report_command(turn: Turn, args: str) -> None:
    now = turn.services.clock()
    if args.strip():
        quarter = Quarter.parse(args)
        if quarter is None:
            await turn.reply(turn.t("report.usage"))
            return
    else:
        quarter = Quarter.containing(to_jst(now).date()).previous  # the last finished quarter
    figures = await collect(turn.session, quarter)
    base = turn.services.settings.public_url.rstrip("/")
    secret = turn.services.settings.secret_key
    body = [heading(turn.t("report.title", quarter=quarter.label), "Medium")]
    if figures.empty:
        body.append(text(turn.t("report.empty")))
    else:
        body += [text("・" + line) for line in figures.findings.values() if line]
    body.append(text(turn.t("report.links", days=LINK_DAYS), isSubtle=True, size="Small"))
    card = adaptive_card(
        body,
        [
            open_url(turn.t("report.btn.pptx"), base + signed_path(secret, quarter, "pptx", now)),
            open_url(turn.t("report.btn.xlsx"), base + signed_path(secret, quarter, "xlsx", now)),
        ],
    )
    await turn.reply_card(card, text=turn.t("report.title", quarter=quarter.label))


def _refused(status: int, key: str) -> HttpResponse:
    words = html.escape(t(key))
    return HttpResponse(
        status, f"<!doctype html><html lang=ja><meta charset=utf-8><p>{words}</p></html>", "text/html"
    )


async def download(request: HttpRequest) -> HttpResponse:
    quarter = Quarter.parse(request.match.get("quarter", ""))
    fmt = request.match.get("fmt", "")
    if quarter is None or fmt not in TYPES:
        return _refused(404, "report.link.not_found")
    services = request.services
    try:
        exp = digits(request.query.get("exp", ""))
        ok = _signer(services.settings.secret_key).verify(
            f"{quarter.key}:{fmt}:{exp}", request.query.get("sig", "")
        )
    except Malformed:
        return _refused(400, "report.link.broken")
    if not ok:
        return _refused(403, "report.link.broken")
    if exp < services.clock().timestamp():
        return _refused(410, "report.link.expired")
    async with services.sessionmaker() as session:
        data = await build(session, quarter, fmt)
    name = f"dx-report-{quarter.key}.{fmt}"
    return HttpResponse(
        200,
        data,
        TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def routes() -> list[HttpRoute]:
    return [HttpRoute("GET", "/api/v1/reports/{quarter}.{fmt}", download)]


def register_cli(sub: Any) -> None:
    rep = sub.add_parser("report", help="四半期レポート (PowerPoint / Excel) / the quarterly report")
    rep.add_argument("--quarter", required=True, help="年度と四半期: 2026Q3 (Q1 = 4〜6月)")
    rep.add_argument("--out", required=True, type=Path, help="出力ファイル (.pptx または .xlsx)")
    rep.set_defaults(func=_cli)


async def _cli(settings: Settings, args: argparse.Namespace) -> int:
    import sys

    quarter = Quarter.parse(args.quarter)
    fmt = args.out.suffix.lower().lstrip(".")
    if quarter is None or fmt not in TYPES:
        print(t("report.usage.cli"), file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            figures = await collect(session, quarter)
            data = await build(session, quarter, fmt)
    finally:
        await engine.dispose()
    args.out.write_bytes(data)
    print(t("report.written", path=str(args.out), quarter=quarter.label))
    if figures.empty:
        print(t("report.empty"))
    return 0
