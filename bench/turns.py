"""Turn throughput and latency of the bot against a bare aiohttp endpoint, under the same load.

100 concurrent conversations post messages (authentication off); replies go to a local fake
connector in its own process. Prints turns/s, p50/p95/p99 latency for both, their ratio, and the
bot's resident memory when idle.  Targets: ratio >= 0.5, bot p95 <= 50 ms, idle RSS <= 150 MB.

    .venv/bin/python bench/turns.py [--conversations 100] [--seconds 10] [--text ヘルプ]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            try:
                async with client.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def activity(service_url: str, conv: int, seq: int, text: str) -> dict:
    user = f"29:bench-{conv}"
    return {
        "type": "message",
        "id": f"b-{conv}-{seq}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user, "name": f"ベンチ {conv}", "aadObjectId": f"aad-bench-{conv}"},
        "recipient": {"id": "28:dxbot", "name": "DX推進ボット"},
        "conversation": {"id": f"a:bench-{conv}", "conversationType": "personal", "tenantId": "t-bench"},
        "channelData": {"tenant": {"id": "t-bench"}},
        "locale": "ja-JP",
        "text": text,
    }


async def load(endpoint: str, service_url: str, conversations: int, seconds: float, text: str) -> dict:
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds

    async def one_conversation(client: aiohttp.ClientSession, conv: int) -> None:
        nonlocal errors
        seq = 0
        while time.monotonic() < stop_at:
            seq += 1
            started = time.perf_counter()
            async with client.post(endpoint, json=activity(service_url, conv, seq, text)) as resp:
                await resp.read()
                if resp.status >= 300:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as client:
        # Warm-up: every conversation once (first-contact work such as the member lookup is not the steady state).
        await asyncio.gather(*(client.post(endpoint, json=activity(service_url, c, 0, text)) for c in range(conversations)))
        began = time.monotonic()
        await asyncio.gather(*(one_conversation(client, c) for c in range(conversations)))
        elapsed = time.monotonic() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "turns": len(latencies),
        "tps": len(latencies) / elapsed,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "mean": statistics.fmean(latencies) * 1000,
        "errors": errors,
    }


def start(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def show(name: str, r: dict) -> None:
    print(
        f"{name:<14} {r['tps']:8.1f} turns/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms   "
        f"p99 {r['p99']:6.1f} ms   turns {r['turns']}   errors {r['errors']}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--text", default="ヘルプ")
    args = parser.parse_args()

    procs: list[subprocess.Popen] = []
    tmp = tempfile.mkdtemp(prefix="dxbot-bench-")
    try:
        cport, bport, rport = free_port(), free_port(), free_port()
        procs.append(start([PY, "-m", "tests.fakes.connector", "--port", str(cport)]))
        connector = f"http://127.0.0.1:{cport}/"
        env = {
            "DXBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
            "DXBOT_PORT": str(bport),
            "MicrosoftAppId": "",
            "DXBOT_BACKGROUND_JOBS": "false",
        }
        subprocess.run([PY, "-m", "bot", "db", "upgrade"], cwd=ROOT, env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bot = start([PY, "-m", "bot", "run"], env)
        procs.append(bot)
        procs.append(start([PY, str(ROOT / "bench" / "bare_bot.py"), "--port", str(rport)]))
        await wait_http(f"http://127.0.0.1:{bport}/healthz")
        await wait_http(connector + "_calls")
        await asyncio.sleep(1.0)
        idle_rss = psutil.Process(bot.pid).memory_info().rss / 2**20

        print(f"load: {args.conversations} concurrent conversations, {args.seconds:.0f} s each, text {args.text!r}")
        await wait_http(f"http://127.0.0.1:{rport}/api/messages")
        bare = await load(f"http://127.0.0.1:{rport}/api/messages", connector, args.conversations, args.seconds, args.text)
        botr = await load(f"http://127.0.0.1:{bport}/api/messages", connector, args.conversations, args.seconds, args.text)
        busy_rss = psutil.Process(bot.pid).memory_info().rss / 2**20
        show("bare aiohttp", bare)
        show("dx-promoter-bot", botr)
        ratio = botr["tps"] / bare["tps"] if bare["tps"] else 0.0
        print(f"ratio bot/bare      {ratio:.2f}   (target >= 0.50)  {'OK' if ratio >= 0.5 else 'BELOW TARGET'}")
        print(f"bot p95             {botr['p95']:.1f} ms (target <= 50 ms)  {'OK' if botr['p95'] <= 50 else 'ABOVE TARGET'}")
        print(f"bot RSS idle        {idle_rss:.0f} MB (target <= 150 MB)  {'OK' if idle_rss <= 150 else 'ABOVE TARGET'}")
        print(f"bot RSS after load  {busy_rss:.0f} MB")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    asyncio.run(main())
