"""Turn throughput and latency of the bot against a bare aiohttp endpoint, under the same load.

100 concurrent conversations post messages (authentication off); replies go to a local fake
connector in its own process. Two loads, each run against both servers:
- saturation: every conversation posts its next message as soon as the last is answered, which
  gives the most turns per second each server can do (and the ratio of the two);
- paced: every conversation posts one message every --interval seconds (100 people typing at
  once), which gives the latency a person sees (p50/p95/p99).
Also prints the bot's resident memory when idle.
Targets: ratio >= 0.5, bot p95 (paced) <= 50 ms, idle RSS <= 150 MB.

    .venv/bin/python bench/turns.py [--conversations 100] [--seconds 10] [--interval 1.0] [--text ヘルプ]
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


async def wait_http(url: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
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


def activity(service_url: str, conv: int, seq: int, text: str, strangers: bool = False) -> dict:
    """``strangers``: every message from a person and chat the bot has not seen (the slow path)."""
    if strangers:
        conv = conv * 1_000_000 + seq + 1_000
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


async def load(
    endpoint: str,
    service_url: str,
    conversations: int,
    seconds: float,
    text: str,
    interval: float = 0.0,
    strangers: bool = False,
) -> dict:
    """interval 0: saturation (closed loop); > 0: each conversation posts once per interval."""
    latencies: list[float] = []
    errors = 0
    stop_at = 0.0

    async def one_conversation(client: aiohttp.ClientSession, conv: int) -> None:
        nonlocal errors
        seq = 0
        if interval:
            await asyncio.sleep(interval * conv / conversations)  # spread the first messages
        while time.monotonic() < stop_at:
            seq += 1
            started = time.perf_counter()
            async with client.post(endpoint, json=activity(service_url, conv, seq, text, strangers)) as resp:
                await resp.read()
                if resp.status >= 300:
                    errors += 1
            took = time.perf_counter() - started
            latencies.append(took)
            if interval:
                await asyncio.sleep(max(0.0, interval - took))

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as client:
        # Warm-up: every conversation once (first-contact work such as the member lookup is not the steady state).
        await asyncio.gather(
            *(client.post(endpoint, json=activity(service_url, c, 0, text)) for c in range(conversations))
        )
        began = time.monotonic()
        stop_at = began + seconds
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
    return subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def memory_split(pid: int) -> str:
    """RSS split into private (anonymous) memory and file-backed pages (libraries, the mapped dictionary)."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "RssShmem"):
                fields[key] = int(value.split()[0]) / 1024
    return ", ".join(f"{k} {v:.0f} MB" for k, v in fields.items())


def cpu_of(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def show(name: str, r: dict) -> None:
    cpu = f"   server CPU {r['cpu_ms']:.2f} ms/turn" if "cpu_ms" in r else ""
    print(
        f"{name:<16} {r['tps']:7.1f} turns/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms   "
        f"p99 {r['p99']:6.1f} ms   turns {r['turns']}   errors {r['errors']}{cpu}"
    )


async def main() -> int:
    """Runs the benchmark; the exit code is the number of targets missed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--text", default="ヘルプ")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between messages, paced load")
    parser.add_argument(
        "--database-url",
        default="",
        help="e.g. postgresql+asyncpg://root@127.0.0.1:5432/dxbot_bench (default: SQLite)",
    )
    args = parser.parse_args()

    procs: list[subprocess.Popen] = []
    tmp = tempfile.mkdtemp(prefix="dxbot-bench-")
    try:
        cport, bport, rport = free_port(), free_port(), free_port()
        procs.append(start([PY, "-m", "tests.fakes.connector", "--port", str(cport)]))
        connector = f"http://127.0.0.1:{cport}/"
        env = {
            "DXBOT_DATABASE_URL": args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
            "DXBOT_PORT": str(bport),
            "MicrosoftAppId": "",
            "DXBOT_BACKGROUND_JOBS": "false",
        }
        subprocess.run(  # noqa: ASYNC221 (once, before any load)
            [PY, "-m", "bot", "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bot = start([PY, "-m", "bot", "run"], env)
        procs.append(bot)
        procs.append(start([PY, str(ROOT / "bench" / "_bare_bot.py"), "--port", str(rport)]))
        await wait_http(f"http://127.0.0.1:{bport}/healthz")
        await wait_http(connector + "_calls")
        await asyncio.sleep(1.0)
        idle_rss = psutil.Process(bot.pid).memory_info().rss / 2**20
        idle_split = memory_split(bot.pid)

        print(
            f"{args.conversations} concurrent conversations, {args.seconds:.0f} s a run, text {args.text!r}, "
            f"{os.cpu_count()} CPUs shared by the load generator, the fake connector and the server"
        )
        await wait_http(f"http://127.0.0.1:{rport}/api/messages")
        bare_url, bot_url = f"http://127.0.0.1:{rport}/api/messages", f"http://127.0.0.1:{bport}/api/messages"
        n, secs, text = args.conversations, args.seconds, args.text
        print("-- saturation (each conversation sends again as soon as answered)")
        bare_cpu, bot_cpu = cpu_of(procs[2].pid), cpu_of(bot.pid)
        bare = await load(bare_url, connector, n, secs, text)
        bare["cpu_ms"] = (cpu_of(procs[2].pid) - bare_cpu) * 1000 / max(1, bare["turns"] + n)
        bot_cpu = cpu_of(bot.pid)
        botr = await load(bot_url, connector, n, secs, text)
        botr["cpu_ms"] = (cpu_of(bot.pid) - bot_cpu) * 1000 / max(1, botr["turns"] + n)
        show("bare aiohttp", bare)
        show("dx-promoter-bot", botr)
        print(f"-- paced (each conversation sends one message every {args.interval:g} s)")
        bare_p = await load(bare_url, connector, n, secs, text, args.interval)
        bot_p = await load(bot_url, connector, n, secs, text, args.interval)
        show("bare aiohttp", bare_p)
        show("dx-promoter-bot", bot_p)
        print("-- for comparison, not a target: saturation where every message is someone's first")
        print("   (the bot stores the chat and the person, and reads their roles; repeat senders skip this)")
        bot_cpu = cpu_of(bot.pid)
        first = await load(bot_url, connector, n, min(secs, 5), text, strangers=True)
        first["cpu_ms"] = (cpu_of(bot.pid) - bot_cpu) * 1000 / max(1, first["turns"] + n)
        show("first messages", first)
        busy_rss = psutil.Process(bot.pid).memory_info().rss / 2**20
        ratio = botr["tps"] / bare["tps"] if bare["tps"] else 0.0
        print(
            f"ratio bot/bare      {ratio:.2f} (saturation turns/s; target >= 0.50)  {'OK' if ratio >= 0.5 else 'BELOW TARGET'}"
        )
        p95 = bot_p["p95"]
        print(f"bot p95 (paced)     {p95:.1f} ms (target <= 50 ms)  {'OK' if p95 <= 50 else 'ABOVE TARGET'}")
        print(
            f"bot RSS idle        {idle_rss:.0f} MB (target <= 150 MB)  {'OK' if idle_rss <= 150 else 'ABOVE TARGET'}"
        )
        print(f"                    of which {idle_split}")
        print(f"bot RSS after load  {busy_rss:.0f} MB")
        missed = [ratio < 0.5, p95 > 50, idle_rss > 150]
        if any(missed):
            print(f"{sum(missed)} target(s) missed")
        return sum(missed)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
