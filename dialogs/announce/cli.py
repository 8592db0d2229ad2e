"""``dxbot announce``: send, list, status and export announcements from the command line.

dxbot announce send --title 件名 --body 本文 --audience all --deadline 2026-04-10
dxbot announce send --title … --body-file body.md --audience "sections:税務課,総務部 総務課" --at "2026-04-01 09:00"
dxbot announce send … --dry-run                 # whom it would reach, the holiday warning; nothing queued
dxbot announce send … --idempotency-key 7f3c…   # the same key never creates a second announcement
dxbot announce status 12 --json                 # exit 3 when some recipients were not reached
dxbot announce export 12 status.xlsx

Exit codes (dialogs/engines/delivery/vocabulary.py): 0 done or on its way, 1 not found, 2 bad input,
3 some recipients not reachable (未接続) or the send failed (送信失敗), 4 ``--wait`` ended with
copies still on their way. ``--json`` prints one JSON document on stdout with stable English codes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings
from dialogs.engines.delivery.vocabulary import (
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_NOT_DELIVERED,
    EXIT_OK,
    EXIT_PENDING,
    reason_word,
    status_word,
)
from dialogs.kit.i18n import t


def _json_flag(parser: Any) -> None:
    parser.add_argument(
        "--json", action="store_true", help="機械可読な JSON で出力します / machine-readable output"
    )


def register_cli(sub: Any) -> None:
    parser = sub.add_parser("announce", help="お知らせ / announcements")
    asub = parser.add_subparsers(dest="announce_command", required=True)

    send = asub.add_parser("send", help="お知らせを送信します / send an announcement")
    send.add_argument("--title", required=True, help="件名")
    body = send.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", help="本文 (Markdown)")
    body.add_argument("--body-file", type=Path, help="本文のファイル (UTF-8)")
    send.add_argument(
        "--audience",
        required=True,
        help='宛先(必須): all | leaders | "departments:総務部,財務部" | "sections:税務課,総務部 総務課"',
    )
    send.add_argument("--deadline", help="確認期限 YYYY-MM-DD (指定すると確認を求めます)")
    send.add_argument("--importance", choices=["normal", "high"], default="normal")
    send.add_argument("--link", action="append", default=[], help='"タイトル|https://…" (3つまで)')
    send.add_argument("--at", help='送信日時 (JST) "YYYY-MM-DD HH:MM"; 省略すると今すぐ')
    send.add_argument("--channel", action="store_true", help="DX推進課チャンネルにも投稿します")
    send.add_argument("--wait", action="store_true", help="送信が終わるまで待ち、結果で終了コードを返します")
    send.add_argument(
        "--dry-run", action="store_true", help="宛先と人数・休日の警告を表示するだけで、送信しません"
    )
    send.add_argument(
        "--idempotency-key", help="同じキーでは2通目を作りません(再実行しても安全) / never send twice"
    )
    _json_flag(send)
    send.set_defaults(func=_send)

    lst = asub.add_parser("list", help="最近のお知らせ / recent announcements")
    _json_flag(lst)
    lst.set_defaults(func=_list)

    status = asub.add_parser("status", help="配信・確認状況 / figures (exit 3: some not reached)")
    status.add_argument("id", type=int)
    _json_flag(status)
    status.set_defaults(func=_status)

    export = asub.add_parser("export", help="受信者ごとの状況を書き出します / per-recipient status")
    export.add_argument("id", type=int)
    export.add_argument("file", type=Path, help="…/status.csv または …/status.xlsx")
    _json_flag(export)
    export.set_defaults(func=_export)


def request_of(args: argparse.Namespace) -> dict[str, Any]:
    audience: Any = args.audience
    if ":" in args.audience:
        kind, names = args.audience.split(":", 1)
        audience = {kind.strip(): [n.strip() for n in names.replace("、", ",").split(",") if n.strip()]}
    links = []
    for raw in args.link:
        title, _, url = raw.partition("|")
        links.append({"title": title.strip(), "url": url.strip()})
    return {
        "title": args.title,
        "body": args.body if args.body is not None else args.body_file.read_text(encoding="utf-8"),
        "audience": audience,
        "deadline": args.deadline or "",
        "importance": args.importance,
        "links": links,
        "send_at": args.at.replace(" ", "T") if args.at else None,
        "to_channel": args.channel,
    }


def _emit(args: argparse.Namespace, data: Any, lines: list[str], *, err: bool = False) -> None:
    """``--json``: one JSON document on stdout; otherwise the Japanese lines (errors on stderr)."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False))
        return
    for line in lines:
        print(line, file=sys.stderr if err else sys.stdout)


async def _send(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.announce.automation import create_and_send, find_by_key, preview
    from dialogs.announce.service import KIND, on_delivery_progress
    from dialogs.engines.delivery import use_progress_listeners
    from dialogs.kit.business_days import format_datetime_ja

    async with open_services(settings) as services:
        now = services.clock()
        if args.dry_run:
            async with services.sessionmaker() as session:
                plan, errors = await preview(session, request_of(args), now=now)
            if plan is None:
                return _invalid(args, errors)
            when = t("announce.cli.dry_when", at=format_datetime_ja(plan.send_at)) if plan.send_at else None
            _emit(
                args,
                plan.to_json(),
                [
                    t("announce.cli.dry_run"),
                    t(
                        "announce.cli.dry_audience",
                        audience=plan.audience,
                        n=plan.people,
                        reachable=plan.reachable,
                        unreachable=plan.not_reachable,
                    ),
                    when or t("announce.cli.dry_now"),
                    *[f"⚠ {w}" for w in plan.warnings],
                ],
            )
            return EXIT_OK
        async with services.sessionmaker() as session, session.begin():
            replayed = (
                bool(args.idempotency_key) and await find_by_key(session, args.idempotency_key) is not None
            )
            ann, count, errors = await create_and_send(
                services,
                session,
                request_of(args),
                source="cli",
                author_label="cli",
                now=now,
                idempotency_key=args.idempotency_key,
            )
            if ann is None:
                return _invalid(args, errors)
            ann_id, state, send_at = ann.id, ann.state, ann.send_at
        result: dict[str, Any] = {
            "id": ann_id,
            "state": state,
            "recipients": count,
            "replayed": replayed,
            "send_at": send_at.isoformat() if send_at else None,
            "status_command": f"dxbot announce status {ann_id} --json",
            "status_url": f"/api/v1/announcements/{ann_id}",
        }
        lines = []
        if replayed:
            lines.append(t("announce.cli.replayed", id=ann_id))
        elif state == "scheduled" and send_at is not None:
            lines.append(t("announce.cli.scheduled", id=ann_id, at=format_datetime_ja(send_at)))
        else:
            lines.append(t("announce.cli.sending", id=ann_id, n=count))
        lines.append(t("announce.cli.follow", id=ann_id))
        if not args.wait or state == "scheduled":
            if not args.wait and state != "scheduled":
                lines.append(t("announce.cli.worker"))
            _emit(args, result, lines)
            return EXIT_OK
        if not args.json:
            _emit(args, result, lines)
        from dialogs.engines.delivery.worker import drain

        use_progress_listeners(services, {KIND: [on_delivery_progress]})  # the author's card too
        await drain(services, within=3600)
        data = await _status_data(services, ann_id)
        code = _exit_code(data) if data else EXIT_ERROR
        if data and data["counts"]["pending"]:
            code = EXIT_PENDING
        if args.json:
            print(json.dumps({**result, "status": data, "exit_code": code}, ensure_ascii=False))
        elif data:
            print(_status_text(data))
            if code == EXIT_PENDING:
                print(t("announce.cli.still_pending"))
    return code


def _invalid(args: argparse.Namespace, errors: list[str]) -> int:
    _emit(
        args,
        {"error": "invalid", "errors": errors, "exit_code": EXIT_INPUT},
        [t("announce.cli.invalid"), *[f"・{e}" for e in errors]],
        err=True,
    )
    return EXIT_INPUT


async def _status_data(services: Any, ann_id: int) -> dict[str, Any] | None:
    from dialogs.announce.automation import status_document
    from storage.models.announce import Announcement

    async with services.sessionmaker() as session:
        ann = await session.get(Announcement, ann_id)
        return None if ann is None else await status_document(session, ann)


def _exit_code(data: dict[str, Any]) -> int:
    return EXIT_NOT_DELIVERED if data["not_delivered"] else EXIT_OK


def _status_text(data: dict[str, Any]) -> str:
    c = data["counts"]
    line = (
        f"#{data['id']} {data['title']} [{t('announce.ann_state.' + data['state'])}] "
        f"{t('announce.fig.recipients')} {data['recipients']} / "
        + " / ".join(
            f"{status_word(code)} {c[code]}"
            for code in ("delivered", "pending", "not_reachable", "send_failed")
        )
    )
    if data["confirmed"] is not None:
        line += f" / {t('announce.state.confirmed')} {data['confirmed']}"
    lines = [line]
    if data["reasons"]:
        reasons = "、".join(f"{reason_word(code)} {n}" for code, n in data["reasons"].items())
        lines.append(f"  {t('delivery.status.reasons')}: {reasons}")
    for name, label in (("recall", "取消"), ("edit", "編集")):
        change = data.get(name)
        if change:
            line = f"  {label}: 完了 {change['done']} / 処理中 {change['pending']} / できなかった {change['failed']}"
            if change["reasons"]:
                line += " 理由: " + "、".join(f"{reason_word(k)} {n}" for k, n in change["reasons"].items())
            lines.append(line)
    return "\n".join(lines)


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.announce.service import recent

    async with open_services(settings) as services:
        async with services.sessionmaker() as session:
            ids = [a.id for a in await recent(session, 20)]
        items = [d for d in [await _status_data(services, i) for i in ids] if d is not None]
    if args.json:
        print(json.dumps({"announcements": items}, ensure_ascii=False))
    else:
        for data in items:
            print(_status_text(data))
    return EXIT_OK


async def _status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services

    async with open_services(settings) as services:
        data = await _status_data(services, args.id)
    if data is None:
        _emit(
            args,
            {"error": "not_found", "id": args.id, "exit_code": EXIT_ERROR},
            [t("announce.cli.not_found", id=args.id)],
            err=True,
        )
        return EXIT_ERROR
    code = _exit_code(data)
    if args.json:
        print(json.dumps({**data, "exit_code": code}, ensure_ascii=False))
    else:
        print(_status_text(data))
    return code


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.announce.export import export_bytes
    from storage.models.announce import Announcement

    fmt = "xlsx" if args.file.suffix.lower() == ".xlsx" else "csv"
    async with open_services(settings) as services, services.sessionmaker() as session:
        ann = await session.get(Announcement, args.id)
        if ann is None:
            _emit(
                args,
                {"error": "not_found", "id": args.id, "exit_code": EXIT_ERROR},
                [t("announce.cli.not_found", id=args.id)],
                err=True,
            )
            return EXIT_ERROR
        data = await export_bytes(session, ann, fmt)
    args.file.write_bytes(data)
    _emit(
        args,
        {"id": args.id, "file": str(args.file), "format": fmt},
        [t("announce.cli.exported", file=args.file, fmt=fmt.upper())],
    )
    return EXIT_OK
