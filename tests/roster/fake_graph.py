"""A local fake of the two Microsoft Graph endpoints proactive installation uses.

    graph = FakeGraph(); await graph.start()
    graph.answers["yamada@city.example.jp"] = [429, 201]     # throttled once, then installed
    settings: graph_login_url=graph.url, graph_base_url=graph.url + "v1.0"

POST /{tenant}/oauth2/v2.0/token                       client credentials -> access token
POST /v1.0/users/{user}/teamwork/installedApps         201, or the next status in answers[user]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "fake-graph-token"


@dataclass
class FakeGraph:
    answers: dict[str, list[int]] = field(default_factory=dict)  # user -> statuses to answer in turn
    token_status: int = 200
    token_requests: list[dict[str, str]] = field(default_factory=list)
    installs: list[dict[str, Any]] = field(default_factory=list)  # every install call, with its status
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def installed(self) -> list[str]:
        return [c["user"] for c in self.installs if c["status"] == 201]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(
            {"tenant": request.match_info["tenant"], **{k: str(v) for k, v in form.items()}}
        )
        if self.token_status != 200:
            return web.json_response({"error": "invalid_client"}, status=self.token_status)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN})

    async def _install(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        body = json.loads(await request.read() or b"{}")
        queue = self.answers.get(user)
        status = queue.pop(0) if queue else 201
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            status = 401
        self.installs.append({"user": user, "body": body, "status": status})
        headers = {"Retry-After": "0.05"} if status == 429 else {}
        if status == 201:
            return web.json_response({"id": f"installed-{user}"}, status=201)
        return web.json_response({"error": {"code": str(status)}}, status=status, headers=headers)
