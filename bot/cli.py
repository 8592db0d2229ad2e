"""``dxbot`` and ``python -m bot``: one CLI for the service and the DX division's batch work.

dxbot run               serve the bot (refuses unsafe settings, saying what to set)
dxbot check             only say whether the settings are safe to serve with
dxbot secret-key        print a new DXBOT_SECRET_KEY
dxbot db upgrade        apply migrations
dxbot seed-demo         fill an empty database with the demo city
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Sequence

from bot.settings import Settings

log = logging.getLogger("dxbot")


def build_parser() -> argparse.ArgumentParser:
    from dialogs.composition import features

    parser = argparse.ArgumentParser(prog="dxbot", description="DX推進ボット (dx-promoter-bot)")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="ログの形式。既定: run と delivery worker は json、その他は text(注意・エラーのみ) / log format",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ボットを起動します / serve the bot")
    run.set_defaults(func=_run)
    check = sub.add_parser("check", help="設定が安全か確かめます / check the settings are safe to serve")
    check.set_defaults(func=_check)
    key = sub.add_parser("secret-key", help="DXBOT_SECRET_KEY 用の新しい鍵 / print a new DXBOT_SECRET_KEY")
    key.set_defaults(func=_secret_key)
    db = sub.add_parser("db", help="データベース / database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="マイグレーションを適用します / apply migrations")
    up.set_defaults(func=_db_upgrade)
    seed = sub.add_parser("seed-demo", help="デモ用の市を登録します / seed the demo city")
    seed.add_argument("--if-empty", action="store_true", help="名簿が空のときだけ / only when empty")
    seed.set_defaults(func=_seed_demo)
    for feature in features():
        if feature.cli:
            feature.cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from bot.logging_setup import configure

    args = build_parser().parse_args(argv)
    # A server's logs go to a collector (JSON lines); a person running a command reads plain messages
    # and only warnings and errors, unless they ask for JSON.
    serving = args.command == "run" or getattr(args, "delivery_command", None) == "worker"
    fmt = args.log_format or ("json" if serving else "text")
    configure("INFO" if serving or fmt == "json" else "WARNING", fmt)
    settings = Settings()
    settings.ensure_data_dir()
    result = args.func(settings, args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


def _refuse_unsafe(settings: Settings) -> bool:
    """Print why the settings are unsafe to stderr; True if there was anything to print."""
    problems = settings.problems()
    if problems:
        print(
            "起動できません。次の設定を直してください。 / Refusing to start; fix these settings:",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
    return bool(problems)


def _check(settings: Settings, args: argparse.Namespace) -> int:
    if _refuse_unsafe(settings):
        return 2
    mode = "ローカルモード(認証なし) / local mode (no authentication)" if settings.local_mode else "Teams"
    print(f"設定に問題はありません。 / Settings are fine: {mode}.")
    return 0


def _secret_key(settings: Settings, args: argparse.Namespace) -> int:
    print(secrets.token_urlsafe(48))  # 64 characters, 384 bits
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app

    if _refuse_unsafe(settings):
        return 2

    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=30,
        print=lambda *_: log.info("serving on http://%s:%d/api/messages", settings.host, settings.port),
    )
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from storage.migrate import upgrade_sync

    upgrade_sync(settings.database_url)
    print("データベースを最新の状態にしました。 / Database is up to date.")
    return 0


async def _seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.composition import seeders as demo_seeders

    seeders = demo_seeders()
    if not seeders:
        print("デモデータを登録する機能がまだありません。 / No feature provides demo data yet.")
        return 0
    async with open_services(settings) as services:
        for seed in seeders:
            await seed(services, args.if_empty)
    return 0


if __name__ == "__main__":
    sys.exit(main())
