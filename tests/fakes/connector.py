"""A local fake Bot Connector: records every call and can throttle, fail, refuse or hang.

    fake = FakeConnector()
    await fake.start()                      # fake.url -> "http://127.0.0.1:PORT/"
    fake.faults.append(Fault(status=429, retry_after=1, times=3))
    ...
    fake.sent_to("conv-1")                  # activities posted into that conversation

Limits are enforced like Teams does: beyond ``app_rate`` calls a second for the whole bot, or
``conversation_rate`` into one conversation, the call gets 429 with Retry-After.
Run it alone for benchmarks: ``python -m tests.fakes.connector --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Fault:
    """Answer the next ``times`` matching calls with ``status`` (or hang for ``delay`` seconds)."""

    status: int = 500
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0  # with status 0: never answer within the client's timeout
    conversation_id: str | None = None  # only calls into this conversation
    method: str | None = None
    body: str = ""


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any] | None
    status: int
    at: float
    created: str | None = None  # the activity id a successful POST created


@dataclass
class FakeConnector:
    app_rate: float | None = None  # calls per second for the whole bot
    conversation_rate: float | None = None  # calls per second into one conversation
    latency: float = 0.0
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> member record
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    fault_ratio: dict[int, float] = field(default_factory=dict)  # status -> share of calls, e.g. {429: 0.05}
    blocked: set[str] = field(default_factory=set)  # conversation ids answering 403 (user blocked the bot)
    gone: set[str] = field(default_factory=set)  # conversation ids answering 404 (uninstalled)
    refuse_create: set[str] = field(default_factory=set)  # user ids whose 1:1 chat cannot be re-created (403)
    seed: int = 1

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._app_window: deque[float] = deque()
        self._conv_window: dict[str, deque[float]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.port = 0
        import random

        self._rng = random.Random(self.seed)
        self.activities: dict[str, dict[str, Any]] = {}  # activity id -> latest body (deleted: removed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put)
        app.router.add_delete("/v3/conversations/{cid}/activities/{aid}", self._delete)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self._member)
        app.router.add_get("/_calls", self._dump)
        return app

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- what tests ask -------------------------------------------------------------------------
    def posts(self) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "POST" and c.activity_id is None and c.status < 300 and c.conversation_id
        ]

    def replies(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.conversation_id and c.status < 300]

    def sent_to(self, conversation_id: str) -> list[dict[str, Any]]:
        return [c.body or {} for c in self.replies() if c.conversation_id == conversation_id]

    def cards_to(self, conversation_id: str) -> list[dict[str, Any]]:
        return [a["content"] for b in self.sent_to(conversation_id) for a in b.get("attachments", [])]

    def texts_to(self, conversation_id: str) -> list[str]:
        return [b["text"] for b in self.sent_to(conversation_id) if b.get("text")]

    # --- handlers ---------------------------------------------------------------------------------
    async def _gate(self, request: web.Request, cid: str | None) -> web.Response | None:
        # Teams counts a call against its limits when the call arrives; the latency is the time it
        # then takes to answer (counting after it would add this process's scheduling jitter).
        now = time.monotonic()
        app_ok = not self.app_rate or _admit(self._app_window, now, self.app_rate)
        conv_ok = not (cid and self.conversation_rate) or _admit(
            self._conv_window[cid], now, self.conversation_rate or 0
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        for fault in self.faults:
            if fault.times <= 0:
                continue
            if fault.conversation_id and fault.conversation_id != cid:
                continue
            if fault.method and fault.method != request.method:
                continue
            fault.times -= 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 0:
                return web.Response(status=504)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return web.Response(status=fault.status, text=fault.body or "fault", headers=headers)
        if cid in self.blocked:
            return web.Response(status=403, text='{"error":{"code":"ConversationBlockedByUser"}}')
        if cid in self.gone:
            return web.Response(status=404, text='{"error":{"code":"ConversationNotFound"}}')
        if not app_ok:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="app rate")
        if not conv_ok:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="conversation rate")
        for status, share in self.fault_ratio.items():
            if self._rng.random() < share:
                headers = {"Retry-After": "1"} if status == 429 else {}
                return web.Response(status=status, headers=headers, text="injected")
        return None

    def _record(self, request: web.Request, body: Any, status: int) -> None:
        self.calls.append(
            Call(
                request.method,
                request.path,
                request.match_info.get("cid"),
                request.match_info.get("aid"),
                body if isinstance(body, dict) else None,
                status,
                time.monotonic(),
            )
        )

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        return json.loads(raw) if raw else None

    async def _post(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        body = await self._body(request)
        refused = await self._gate(request, cid)
        if refused is not None:
            self._record(request, body, refused.status)
            return refused
        aid = f"act-{next(self._ids)}"
        self._record(request, body, 201)
        self.calls[-1].created = aid
        self.activities[aid] = body
        return web.json_response({"id": aid}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        body = await self._body(request)
        refused = await self._gate(request, cid)
        if refused is not None:
            self._record(request, body, refused.status)
            return refused
        if aid not in self.activities:
            self._record(request, body, 404)
            return web.Response(status=404)
        self.activities[aid] = body
        self._record(request, body, 200)
        return web.json_response({"id": aid})

    async def _delete(self, request: web.Request) -> web.Response:
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        refused = await self._gate(request, cid)
        if refused is not None:
            self._record(request, None, refused.status)
            return refused
        existed = self.activities.pop(aid, None) is not None
        self._record(request, None, 200 if existed else 404)
        return web.Response(status=200 if existed else 404)

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        refused = await self._gate(request, None)
        if refused is not None:
            self._record(request, body, refused.status)
            return refused
        member = ((body or {}).get("members") or [{}])[0].get("id", "unknown")
        if member in self.refuse_create:
            self._record(request, body, 403)
            return web.Response(status=403, text='{"error":{"code":"BotNotInConversationRoster"}}')
        cid = f"a:personal-{member}-{next(self._ids)}"
        self._record(request, body, 201)
        return web.json_response({"id": cid}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        self._record(request, None, 200 if uid in self.members else 404)
        if uid not in self.members:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(self.members[uid])

    async def _dump(self, _: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "method": c.method,
                    "cid": c.conversation_id,
                    "aid": c.activity_id,
                    "status": c.status,
                    "at": c.at,
                }
                for c in self.calls
            ]
        )


def _admit(window: deque[float], now: float, rate: float) -> bool:
    while window and now - window[0] >= 1.0:
        window.popleft()
    if len(window) >= rate:
        return False
    window.append(now)
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--app-rate", type=float)
    parser.add_argument("--conversation-rate", type=float)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault", action="append", default=[], help="STATUS=SHARE, e.g. 429=0.05")
    args = parser.parse_args()
    fake = FakeConnector(
        app_rate=args.app_rate, conversation_rate=args.conversation_rate, latency=args.latency
    )
    for spec in args.fault:
        status, share = spec.split("=")
        fake.fault_ratio[int(status)] = float(share)
    web.run_app(fake.app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
