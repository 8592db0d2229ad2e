"""Fetching a file a user sent (Teams' download link): the whole body or an error, from allowed places only.

    data = await fetch(url, max_bytes=10 * 1024 * 1024, policy=DownloadPolicy(local_mode=False))

A short body is never returned: a roster cut after 35 of its 101 rows reads like a roster of 35 people.
Where the bot may fetch from: https only; plain http only to this machine and only in local mode (the
Agents Playground, tests). With authentication on, no hop (the link or a redirect) may reach a private,
loopback or link-local address, checked on the address actually connected to, so a name that resolves
to one is refused too.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.api import DownloadFailed, DownloadNotAllowed, FileIncomplete, FileTooLarge

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# A slow office line still gets 10 MB through in two minutes; a server that stalls mid-way is given up on.
TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=15, sock_read=30)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IPAddress) -> bool:
    """On the internet: not private, loopback, link-local (cloud metadata), shared, reserved or multicast."""
    ip = _unmapped(ip)
    return ip.is_global and not ip.is_multicast


def _loopback_host(host: str) -> bool:
    ip = _ip(host)
    return _unmapped(ip).is_loopback if ip is not None else host.lower().rstrip(".") == "localhost"


@dataclass(frozen=True)
class DownloadPolicy:
    """Where downloads may go. ``local_mode``: the bot runs without authentication (App ID empty)."""

    local_mode: bool

    def check_url(self, url: str) -> None:
        """Raise DownloadNotAllowed for a link the bot must not open (before any connection)."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:  # e.g. an unclosed [ of an IPv6 address
            raise DownloadNotAllowed("a malformed link") from None
        scheme = parts.scheme.lower()
        if not host:
            raise DownloadNotAllowed("no host")
        if parts.username or parts.password:
            raise DownloadNotAllowed("credentials in the link")
        if scheme == "http":
            if not (self.local_mode and _loopback_host(host)):
                raise DownloadNotAllowed("http is allowed only to this machine in local mode")
        elif scheme != "https":
            raise DownloadNotAllowed(f"scheme {scheme or '(none)'}")
        if self.local_mode:
            return
        ip = _ip(host)
        if ip is not None and not self.address_allowed(ip):
            raise DownloadNotAllowed("a private or loopback address")
        if ip is None and host.lower().rstrip(".") == "localhost":
            raise DownloadNotAllowed("a private or loopback address")

    def address_allowed(self, ip: IPAddress) -> bool:
        return self.local_mode or is_public(ip)


class _GuardedResolver(AbstractResolver):
    """Resolves as usual, then refuses a name with any address the policy does not allow (the check is
    on what aiohttp connects to, so DNS that answers differently the second time gains nothing)."""

    def __init__(self, policy: DownloadPolicy) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for entry in found:
            ip = _ip(entry["host"])
            if ip is None or not self._policy.address_allowed(ip):
                raise DownloadNotAllowed("the name resolves to a private or loopback address")
        return found

    async def close(self) -> None:
        await self._inner.close()


async def fetch(
    url: str, *, max_bytes: int, policy: DownloadPolicy, ssl_context: ssl.SSLContext | None = None
) -> bytes:
    """The whole file at ``url``, following up to MAX_REDIRECTS redirects, each checked by ``policy``.

    Raises FileTooLarge, FileIncomplete, DownloadNotAllowed or DownloadFailed (bot.api). ``ssl_context``
    is for tests with their own certificate authority.
    """
    connector = aiohttp.TCPConnector(
        resolver=None if policy.local_mode else _GuardedResolver(policy),
        ssl=ssl_context if ssl_context is not None else True,
        use_dns_cache=False,
    )
    async with aiohttp.ClientSession(
        connector=connector, timeout=TIMEOUT, auto_decompress=False, trust_env=False
    ) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            policy.check_url(url)
            try:
                async with client.get(
                    url, allow_redirects=False, headers={"Accept-Encoding": "identity"}
                ) as resp:
                    if resp.status in _REDIRECTS and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if not 200 <= resp.status < 300:  # an error, or a redirect without a Location
                        raise DownloadFailed(resp.status, resp.reason or "")
                    return await _read_body(resp, max_bytes)
            except DownloadNotAllowed:
                raise
            except aiohttp.ClientConnectorError as exc:
                cause = _not_allowed_cause(exc)
                if cause is not None:
                    raise cause from None
                raise DownloadFailed(None, type(exc).__name__) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DownloadFailed(None, type(exc).__name__) from None
        raise DownloadFailed(None, "too many redirects")


def _not_allowed_cause(exc: BaseException) -> DownloadNotAllowed | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DownloadNotAllowed):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


async def _read_body(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Read to the end in chunks; refuse more than ``max_bytes`` and less than Content-Length."""
    encoded = resp.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")
    declared = None if encoded else resp.content_length
    if declared is not None and declared > max_bytes:
        raise FileTooLarge(max_bytes, declared)
    body = bytearray()
    try:
        async for chunk in resp.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise FileTooLarge(max_bytes, declared)
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError) as exc:
        # aiohttp notices a body cut before its Content-Length or its last chunk; a stall ends it too
        log.info("download cut after %d bytes: %s", len(body), type(exc).__name__)
        raise FileIncomplete(len(body), declared) from None
    if declared is not None and len(body) != declared:
        raise FileIncomplete(len(body), declared)
    return bytes(body)
