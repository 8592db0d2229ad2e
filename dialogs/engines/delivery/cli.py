"""``dxbot delivery worker`` (a worker process on its own) and ``dxbot delivery status KIND REF_ID``."""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
from collections.abc import Mapping, Sequence
from typing import Any

from bot.settings import Settings
from dialogs.kit.feature import ProgressListener


def register_cli(sub: Any, listeners: Mapping[str, Sequence[ProgressListener]]) -> None:
    parser = sub.add_parser("delivery", help="配信エンジン / delivery engine")
    dsub = parser.add_subparsers(dest="delivery_command", required=True)
    worker = dsub.add_parser("worker", help="配信ワーカーを単独で起動します / run a delivery worker process")
    worker.set_defaults(func=functools.partial(_worker, listeners=listeners))
    status = dsub.add_parser("status", help="配信状況を表示します / show delivery counts")
    status.add_argument("kind", help="announcement, survey, qa, …")
    status.add_argument("ref_id", type=int)
    status.set_defaults(func=_status)


async def _worker(
    settings: Settings, args: argparse.Namespace, listeners: Mapping[str, Sequence[ProgressListener]]
) -> int:
    from bot.services import open_services
    from dialogs.engines.delivery.queue import use_progress_listeners
    from dialogs.engines.delivery.worker import Worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        use_progress_listeners(services, listeners)  # the features' progress cards update from here too
        await Worker(services).run(stop)
    return 0


async def _status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.engines.delivery.queue import counts

    async with open_services(settings) as services, services.sessionmaker() as session:
        c = await counts(session, args.kind, args.ref_id, purposes=None)
    print(
        f"合計 {c.total} / 配信済み {c.delivered} / 送信待ち {c.pending} / 失敗 {c.failed} / "
        f"届かない宛先 {c.unreachable} / 取消 {c.cancelled} / 遅延 {c.late}"
    )
    return 0
