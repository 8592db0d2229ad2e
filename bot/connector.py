"""Proactive sends over the Bot Connector REST API: the ``Messenger`` the features use.

Kept to the four calls the bot needs, so that status codes, Retry-After and timeouts reach the
delivery engine unchanged (botbuilder's client hides them behind exceptions of its own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from bot.api import Address, Message, SendError
from bot.service_urls import ServiceUrls, host_of

UNTRUSTED = "untrusted_service_url"  # SendError reason: the address's service URL was never seen on an authenticated request
log = logging.getLogger(__name__)
TokenProvider = Callable[[], Awaitable[str | None]]


async def no_token() -> str | None:
    return None


def bot_token_provider(app_id: str, password: str, tenant_id: str | None) -> TokenProvider:
    """Tokens for the Bot Connector, cached by botframework's MSAL-based credentials."""
    from botframework.connector.auth import MicrosoftAppCredentials

    creds = MicrosoftAppCredentials(app_id, password, channel_auth_tenant=tenant_id or None)

    async def provide() -> str | None:
        return await asyncio.to_thread(creds.get_access_token)

    return provide


def activity_of(message: Message, bot_id: str | None = None) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message"}
    if message.card is not None:
        activity["attachments"] = [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": message.card}
        ]
        if message.text:
            activity["summary"] = message.text
    elif message.text is not None:
        activity["text"] = message.text
        activity["textFormat"] = "markdown"
    if message.importance == "high":
        activity["channelData"] = {"notification": {"alert": True}}
    if bot_id:
        activity["from"] = {"id": bot_id}
    return activity


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers else None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


class ConnectorMessenger:
    """``Messenger`` over aiohttp. One instance per process; call ``close`` on shutdown.

    With ``service_urls``, every call first checks that the address's service URL is trusted
    (bot/service_urls.py) and otherwise raises ``SendError(403, UNTRUSTED)``: the recipient counts as
    unreachable, and nothing (no token, no card, no member lookup) leaves for that URL.
    """

    def __init__(
        self,
        token_provider: TokenProvider = no_token,
        timeout: float = 15.0,
        app_id: str = "",
        service_urls: ServiceUrls | None = None,
    ) -> None:
        self._token = token_provider
        self._service_urls = service_urls
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._app_id = app_id

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=100),
                headers={"Content-Type": "application/json"},
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot Connector sets none
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(self, method: str, url: str, body: dict[str, Any] | None) -> dict[str, Any]:
        token = None if self._token is no_token else await self._token()
        headers = {"Authorization": f"Bearer {token}"} if token else None
        client = self._client()
        # orjson: UTF-8 as it is (a Japanese card is a fifth smaller than with \u escapes), 15x faster.
        data = None if body is None else orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
        started = time.monotonic()
        try:
            async with client.request(method, url, data=data, headers=headers) as resp:
                if resp.status >= 400:
                    text = (await resp.text())[:200]
                    raise SendError(resp.status, _reason(resp.status, text), _retry_after(resp.headers))
                if resp.content_type == "application/json":
                    data = orjson.loads(await resp.read())
                    return data if isinstance(data, dict) else {}
                return {}
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.info("connector call failed after %.1fs: %s", time.monotonic() - started, type(exc).__name__)
            raise SendError(None, "timeout" if isinstance(exc, TimeoutError) else "connection") from exc

    async def _check(self, service_url: str) -> None:
        if self._service_urls is None or await self._service_urls.allows(service_url):
            return
        log.warning(
            "refused a Bot Connector call to a service URL not seen on an authenticated request (host %s)",
            host_of(service_url),
        )
        raise SendError(403, UNTRUSTED)

    @staticmethod
    def _base(address: Address) -> str:
        return _conversation_url(address.service_url, address.conversation_id)

    async def send(self, address: Address, message: Message) -> str:
        await self._check(address.service_url)
        data = await self._call(
            "POST", self._base(address) + "/activities", activity_of(message, address.bot_id)
        )
        return str(data.get("id", ""))

    async def update(self, address: Address, activity_id: str, message: Message) -> None:
        await self._check(address.service_url)
        body = activity_of(message, address.bot_id)
        body["id"] = activity_id
        await self._call("PUT", f"{self._base(address)}/activities/{quote(activity_id, safe='')}", body)

    async def delete(self, address: Address, activity_id: str) -> None:
        await self._check(address.service_url)
        await self._call("DELETE", f"{self._base(address)}/activities/{quote(activity_id, safe='')}", None)

    async def member(
        self, address: Address, user_id: str, team_id: str | None = None
    ) -> dict[str, Any] | None:
        await self._check(address.service_url)
        url = f"{_conversation_url(address.service_url, team_id or address.conversation_id)}/members/{quote(user_id, safe='')}"
        try:
            return await self._call("GET", url, None)
        except SendError as exc:
            if exc.status == 404:
                return None
            raise

    async def create_personal_conversation(self, address: Address) -> Address:
        if not address.user_id:
            raise SendError(404, "no user to address")
        await self._check(address.service_url)
        body = {
            "isGroup": False,
            "bot": {"id": address.bot_id or self._app_id},
            "members": [{"id": address.user_id}],
            "tenantId": address.tenant_id,
            "channelData": {"tenant": {"id": address.tenant_id}},
        }
        data = await self._call("POST", address.service_url.rstrip("/") + "/v3/conversations", body)
        if not data.get("id"):
            raise SendError(502, "no conversation id returned")
        return Address(
            conversation_id=str(data["id"]),
            service_url=address.service_url,
            tenant_id=address.tenant_id,
            conversation_type="personal",
            bot_id=address.bot_id,
            user_id=address.user_id,
        )


@lru_cache(maxsize=4096)
def _conversation_url(service_url: str, conversation_id: str) -> str:
    return service_url.rstrip("/") + "/v3/conversations/" + quote(conversation_id, safe="")


def _reason(status: int, body: str) -> str:
    if status == 403:
        # Teams says "ConversationBlockedByUser" when a user blocked the bot.
        return "blocked" if "block" in body.lower() else "forbidden"
    if status == 404:
        return "uninstalled"
    if status == 429:
        return "throttled"
    return f"http_{status}"
