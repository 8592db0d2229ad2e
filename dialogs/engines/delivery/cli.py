"""``dxbot delivery worker`` (a worker process on its own) and ``dxbot delivery status KIND REF_ID``.

dxbot delivery status announcement 12           # 合計 … / 配信済み … / 未接続 … (exit 3 if some not delivered)
dxbot delivery status announcement 12 --json    # {"counts": {"delivered": …}, "reasons": {…}, …}
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Integer

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
    status.add_argument(
        "--json", action="store_true", help="機械可読な JSON で出力します / machine-readable output"
    )
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


async def status_data(session: Any, kind: str, ref_id: int) -> dict[str, Any]:
    """Counts by status code and reasons by code for every copy sent for (kind, ref_id)."""
    from sqlalchemy import func, select

    from dialogs.engines.delivery.vocabulary import STATUS_CODES, status_code
    from storage.models.delivery import Delivery, DeliveryOp

    rows = (
        await session.execute(
            select(Delivery.state, Delivery.error, func.count(), func.sum(func.cast(Delivery.late, Integer)))
            .where(Delivery.kind == kind, Delivery.ref_id == ref_id, Delivery.op == DeliveryOp.SEND.value)
            .group_by(Delivery.state, Delivery.error)
        )
    ).all()
    counts = dict.fromkeys(STATUS_CODES, 0)
    reasons: dict[str, int] = {}
    late = 0
    for state, error, n, late_n in rows:
        code = status_code(state)
        counts[code] = counts.get(code, 0) + n
        late += int(late_n or 0)
        if code in ("not_reachable", "send_failed"):
            reasons[error or "unknown"] = reasons.get(error or "unknown", 0) + n
    total = sum(counts.values())
    return {
        "kind": kind,
        "ref_id": ref_id,
        "total": total,
        "counts": counts,
        "not_delivered": counts["not_reachable"] + counts["send_failed"],
        "late": late,
        "reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
    }


def exit_code(data: dict[str, Any]) -> int:
    from dialogs.engines.delivery.vocabulary import EXIT_ERROR, EXIT_NOT_DELIVERED, EXIT_OK

    if not data["total"]:
        return EXIT_ERROR
    return EXIT_NOT_DELIVERED if data["not_delivered"] else EXIT_OK


def status_text(data: dict[str, Any], locale: str = "ja") -> str:
    from dialogs.engines.delivery.vocabulary import reason_word, status_word
    from dialogs.kit.i18n import t

    c = data["counts"]
    sep = " / "
    parts = [f"{t('delivery.status.total', locale)} {data['total']}"]
    parts += [f"{status_word(code, locale)} {c[code]}" for code in c]
    if data["late"]:
        parts.append(f"{t('delivery.status.late', locale)} {data['late']}")
    lines = [sep.join(parts)]
    if data["reasons"]:
        reasons = "、".join(f"{reason_word(code, locale)} {n}" for code, n in data["reasons"].items())
        lines.append(f"{t('delivery.status.reasons', locale)}: {reasons}")
        lines.append(t("delivery.status.next_not_delivered", locale))
    return "\n".join(lines)


async def _status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.kit.i18n import t

    async with open_services(settings) as services, services.sessionmaker() as session:
        data = await status_data(session, args.kind, args.ref_id)
    code = exit_code(data)
    if args.json:
        print(json.dumps({**data, "exit_code": code}, ensure_ascii=False))
    elif not data["total"]:
        print(t("delivery.status.none", kind=args.kind, ref_id=args.ref_id), file=sys.stderr)
    else:
        print(status_text(data))
    return code
