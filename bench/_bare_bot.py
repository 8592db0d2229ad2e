"""The baseline for bench/turns.py: an aiohttp endpoint that only parses the activity and posts
one reply to the connector. What the bot adds on top of this is what the benchmark measures."""

from __future__ import annotations

import argparse
import json

import aiohttp
from aiohttp import web


def make_app() -> web.Application:
    app = web.Application()
    client: dict[str, aiohttp.ClientSession] = {}

    async def on_startup(_: web.Application) -> None:
        client["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))

    async def on_cleanup(_: web.Application) -> None:
        await client["s"].close()

    async def messages(request: web.Request) -> web.Response:
        act = json.loads(await request.read())
        url = f"{act['serviceUrl'].rstrip('/')}/v3/conversations/{act['conversation']['id']}/activities"
        reply = {"type": "message", "text": "ok", "replyToId": act.get("id")}
        async with client["s"].post(url, json=reply) as resp:
            await resp.read()
        return web.Response(status=201)

    app.router.add_post("/api/messages", messages)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)
