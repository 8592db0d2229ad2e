"""Which Bot Connector service URLs the bot may send to: those seen on authenticated requests.

An activity names the ``serviceUrl`` its replies go to. A stranger who reaches the port could name
their own server and receive the member records, cards and (with an app id) the bot's token that the
bot sends there. So the Messenger sends and looks up members only at URLs this module trusts:

- authenticated mode: https URLs seen on a request whose Bot Framework token was valid (stored in
  ``trusted_service_urls``, so every process and the CLI know them);
- local mode (no app id, nothing is authenticated): loopback URLs only (the Agents Playground, tests).

    urls = ServiceUrls(sessionmaker, local_mode=settings.local_mode)
    await urls.note(session, activity.service_url, now)   # transport, after authentication
    if not await urls.allows(address.service_url): ...      # messenger, before every call
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import references

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(url: str) -> str:
    """The host of a URL, for logs (never the path: it may name a conversation)."""
    try:
        return urlsplit(url).hostname or "-"
    except ValueError:
        return "-"


def _normal(url: str) -> str:
    return url.strip()


class ServiceUrls:
    """The trusted service URLs of this deployment; a cache of ``trusted_service_urls`` per process."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None, *, local_mode: bool) -> None:
        self._sessionmaker = sessionmaker
        self.local_mode = local_mode
        self._known: set[str] = set()

    def may_trust(self, url: str) -> bool:
        """Whether a URL of this shape can be trusted at all in this mode."""
        if self.local_mode:
            return is_loopback(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        return parts.scheme == "https" and bool(parts.hostname) and not parts.username and not parts.password

    async def note(self, session: AsyncSession, url: str, now: datetime) -> None:
        """Called for a request that passed authentication (in local mode: any request)."""
        url = _normal(url)
        if url in self._known or not self.may_trust(url):
            return
        if not self.local_mode:
            await references.remember_service_url(session, url, now)
        self._known.add(url)

    async def allows(self, url: str) -> bool:
        url = _normal(url)
        if not self.may_trust(url):
            return False
        if self.local_mode or url in self._known:
            return True
        if self._sessionmaker is None:
            return False
        async with self._sessionmaker() as session:
            known = await references.service_url_known(session, url)
        if known:
            self._known.add(url)
        return known
