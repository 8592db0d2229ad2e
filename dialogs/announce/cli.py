"""``dxbot announce``: send, list, status and export announcements from the command line.

dxbot announce send --title 件名 --body 本文 --audience all --deadline 2026-04-10
dxbot announce send --title … --body-file body.md --audience "sections:税務課,総務部 総務課" --at "2026-04-01 09:00"
dxbot announce export 12 status.xlsx
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


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
        default="all",
        help='all | leaders | "departments:総務部,財務部" | "sections:税務課,総務部 総務課"',
    )
    send.add_argument("--deadline", help="確認期限 YYYY-MM-DD (指定すると確認を求めます)")
    send.add_argument("--importance", choices=["normal", "high"], default="normal")
    send.add_argument("--link", action="append", default=[], help='"タイトル|https://…" (3つまで)')
    send.add_argument("--at", help='送信日時 (JST) "YYYY-MM-DD HH:MM"; 省略すると今すぐ')
    send.add_argument("--channel", action="store_true", help="DX推進課チャンネルにも投稿します")
    send.add_argument("--wait", action="store_true", help="送信が終わるまで待って結果を表示します")
    send.set_defaults(func=_send)

    lst = asub.add_parser("list", help="最近のお知らせ / recent announcements")
    lst.set_defaults(func=_list)

    status = asub.add_parser("status", help="配信・確認状況 / figures")
    status.add_argument("id", type=int)
    status.set_defaults(func=_status)

    export = asub.add_parser("export", help="受信者ごとの状況を書き出します / per-recipient status")
    export.add_argument("id", type=int)
    export.add_argument("file", type=Path, help="…/status.csv または …/status.xlsx")
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


async def _send(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.announce.automation import create_and_send
    from dialogs.announce.service import KIND, on_delivery_progress

    async with open_services(settings) as services:
        async with services.sessionmaker() as session, session.begin():
            ann, count, errors = await create_and_send(
                services, session, request_of(args), source="cli", author_label="cli", now=services.clock()
            )
        if ann is None:
            print("送信できませんでした。入力内容をご確認ください。", file=sys.stderr)
            for e in errors:
                print(f"・{e}", file=sys.stderr)
            return 2
        if ann.state == "scheduled":
            print(f"お知らせ #{ann.id} を予約しました({args.at} JST)。")
            return 0
        print(f"お知らせ #{ann.id} を {count} 人に送信します。")
        if args.wait:
            from dialogs.engines.delivery import use_progress_listeners
            from dialogs.engines.delivery.worker import drain

            use_progress_listeners(services, {KIND: [on_delivery_progress]})  # the author's card too
            await drain(services, within=3600)
            await _print_status(services, ann.id)
        else:
            print("送信は起動中のボット(または dxbot delivery worker)が行います。")
    return 0


async def _print_status(services: Any, ann_id: int) -> bool:
    from dialogs.announce.service import figures
    from storage.models.announce import Announcement

    async with services.sessionmaker() as session:
        ann = await session.get(Announcement, ann_id)
        if ann is None:
            print(f"お知らせ #{ann_id} は見つかりません。", file=sys.stderr)
            return False
        f = await figures(session, ann)
    line = (
        f"#{ann.id} {ann.title} [{ann.state}] 宛先 {f.recipients} / 配信済み {f.delivered} / "
        f"送信待ち {f.pending} / 未接続 {f.unreachable} / 送信失敗 {f.failed}"
    )
    if ann.ack_required:
        line += f" / 確認済み {f.confirmed}"
    print(line)
    if f.reasons:
        print("  理由: " + json.dumps(dict(f.reasons), ensure_ascii=False))
    for label, change in (("取消", f.recall), ("編集", f.edit)):
        if change is not None:
            line = f"  {label}: 完了 {change.done} / 処理中 {change.pending} / できなかった {change.failed}"
            if change.reasons:
                line += " 理由: " + json.dumps(dict(change.reasons), ensure_ascii=False)
            print(line)
    return True


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.announce.service import recent

    async with open_services(settings) as services:
        async with services.sessionmaker() as session:
            ids = [a.id for a in await recent(session, 20)]
        for ann_id in ids:
            await _print_status(services, ann_id)
    return 0


async def _status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services

    async with open_services(settings) as services:
        return 0 if await _print_status(services, args.id) else 1


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.announce.export import export_bytes
    from storage.models.announce import Announcement

    fmt = "xlsx" if args.file.suffix.lower() == ".xlsx" else "csv"
    async with open_services(settings) as services, services.sessionmaker() as session:
        ann = await session.get(Announcement, args.id)
        if ann is None:
            print(f"お知らせ #{args.id} は見つかりません。", file=sys.stderr)
            return 1
        data = await export_bytes(session, ann, fmt)
    args.file.write_bytes(data)
    print(f"{args.file} に書き出しました({fmt.upper()})。")
    return 0
