"""A delivery worker in a process of its own, for multi-process tests and the benchmark.

python -m tests.delivery.worker_process DB_URL STOP_FILE [--rate 100] [--concurrency 8] [--lease 60]
Runs until STOP_FILE exists (or SIGTERM), then prints its stats as JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal

from bot.connector import ConnectorMessenger
from bot.services import open_services
from dialogs.engines.delivery.worker import Worker, WorkerConfig
from tests.support import settings_for


async def run(args: argparse.Namespace) -> dict[str, int]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    config = dataclasses.replace(
        WorkerConfig(),
        rate=args.rate,
        concurrency=args.concurrency,
        lease=args.lease,
        poll=0.1,
        heartbeat=1.0,
        worker_ttl=5.0,
        backoff_base=0.2,
        backoff_cap=5.0,
        send_timeout=5.0,
    )
    messenger = ConnectorMessenger(timeout=10)
    async with open_services(settings_for(args.db_url), messenger=messenger) as services:
        if args.listeners:
            from dialogs.composition import features

            for feature in features():
                if feature.name == "delivery" and feature.startup:
                    await feature.startup(services)
        worker = Worker(services, config)

        async def watch() -> None:
            while not stop.is_set():
                if await asyncio.to_thread(os.path.exists, args.stop_file):
                    stop.set()
                await asyncio.sleep(0.1)

        watcher = asyncio.create_task(watch())
        await worker.run(stop)
        watcher.cancel()
    await messenger.close()
    return {
        **worker.stats,
        "pauses": worker.limiter.pauses,
        "slots_missed": worker.limiter.slots_missed,
        "pid": os.getpid(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url")
    parser.add_argument("stop_file")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument(
        "--listeners",
        action="store_true",
        help="run the features' progress listeners, as the bot's worker does",
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
