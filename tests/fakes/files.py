"""A local stand-in for Teams' file download links: serves bytes in small chunks, as a real network does.

    host = FileHost()
    await host.start()
    host.add("roster.csv", data, mode="chunked")        # or "length" (Content-Length), "cut" (closes early)
    host.url("roster.csv")                              # http://127.0.0.1:PORT/files/roster.csv
    host.redirect("old.csv", "https://…")               # 302 to anywhere
    await host.done["roster.csv"].wait()                 # the last byte was written

"cut" announces the full Content-Length and closes the connection after half of the body; "cut_chunked"
sends half in chunked encoding and closes without the last chunk. Either looks like a shorter file to a
client that does not check.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Served:
    body: bytes
    mode: str = "chunked"  # "chunked" | "length" | "cut" | "cut_chunked"
    chunk: int = 4096


@dataclass
class FileHost:
    files: dict[str, Served] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    base: str = ""

    def add(self, name: str, body: bytes, mode: str = "chunked", chunk: int = 4096) -> str:
        self.files[name] = Served(body, mode, chunk)
        self.done[name] = asyncio.Event()
        return self.url(name)

    def redirect(self, name: str, location: str) -> str:
        self.redirects[name] = location
        return self.url(name)

    def url(self, name: str) -> str:
        return f"{self.base}/files/{name}"

    async def start(self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None) -> None:
        app = web.Application()
        app.router.add_get("/files/{name}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0, ssl_context=ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"{'https' if ssl_context else 'http'}://{host}:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits.append(name)
        if name in self.redirects:
            return web.Response(status=302, headers={"Location": self.redirects[name]})
        served = self.files.get(name)
        if served is None:
            return web.Response(status=404)
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        if served.mode in ("length", "cut"):
            resp.content_length = len(served.body)
        else:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        cut = served.mode.startswith("cut")
        end = len(served.body) // 2 if cut else len(served.body)
        try:
            for start in range(0, end, served.chunk):
                await resp.write(served.body[start : min(start + served.chunk, end)])
                await asyncio.sleep(0)  # let the reader see each chunk on its own, as over a real network
        except ConnectionError:  # the client stopped reading (a file over its limit): fine
            return resp
        self.done[name].set()
        if cut:
            assert request.transport is not None
            request.transport.close()  # the connection drops before the body is complete
            return resp
        await resp.write_eof()
        return resp
