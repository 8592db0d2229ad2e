"""The Bot Framework's published signing keys, fetched without blocking the event loop.

botframework-connector fetches the OpenID metadata and its JWKS with blocking ``requests`` calls and no
time limit, inside the coroutine that authenticates a request: while Microsoft's endpoint is slow,
the whole bot (health checks, other turns, deliveries) stands still, and a key id it does not know
raises IndexError (a 500). ``install(timeout)`` makes the connector's token extractor use
``SigningKeys`` instead: an aiohttp fetch with a time limit, one refresh at a time, refreshed daily
and when an unknown key id appears (at most every few minutes, so made-up key ids cannot make the
bot hammer Microsoft), and an unknown key id is an authentication failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from botframework.connector.auth import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 24 * 3600
UNKNOWN_KEY_RETRY_SECONDS = 300


class UnknownSigningKey(PermissionError):
    """The token names a key the channel does not publish (or names none)."""


class SigningKeysUnavailable(Exception):
    """The keys could not be fetched in time and none are cached: the request cannot be checked."""


@dataclass(frozen=True)
class SigningKey:
    """What botframework-connector's token extractor reads from a key."""

    public_key: Any
    endorsements: list[str]


class SigningKeys:
    """The keys behind one OpenID metadata URL.

    keys = SigningKeys("https://login.botframework.com/v1/.well-known/openidconfiguration", timeout=10)
    key = await keys.get(kid)        # SigningKey, or raises UnknownSigningKey / SigningKeysUnavailable
    """

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0  # monotonic time of the last successful fetch
        self._tried_at = 0.0  # monotonic time of the last attempt, successful or not
        self._refreshing: asyncio.Task[None] | None = None

    async def get(self, key_id: str | None) -> SigningKey:
        if not key_id:
            raise UnknownSigningKey("the token names no signing key")
        now = time.monotonic()
        if not self._keys or now - self._fetched_at > MAX_AGE_SECONDS:
            await self._refresh(must=not self._keys)
        elif key_id not in self._keys and now - self._tried_at > UNKNOWN_KEY_RETRY_SECONDS:
            await self._refresh(must=False)  # perhaps the channel has rotated its keys
        jwk = self._keys.get(key_id)
        if jwk is None:
            raise UnknownSigningKey("the token names a signing key the channel does not publish")
        return SigningKey(RSAAlgorithm.from_jwk(json.dumps(jwk)), list(jwk.get("endorsements", [])))

    async def _refresh(self, *, must: bool) -> None:
        # Requests arriving during a refresh wait for the same one instead of starting their own.
        task = self._refreshing
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._refreshing = asyncio.create_task(self._fetch())
        try:
            await asyncio.shield(task)
        except Exception as exc:
            log.warning("could not fetch the Bot Framework signing keys from %s: %r", self.url, exc)
            if must or not self._keys:
                raise SigningKeysUnavailable(self.url) from exc
            # otherwise keep serving with the keys we have

    async def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(self.url) as resp:
                resp.raise_for_status()
                jwks_uri = (await resp.json(content_type=None))["jwks_uri"]
            async with http.get(jwks_uri) as resp:
                resp.raise_for_status()
                keys = (await resp.json(content_type=None))["keys"]
        self._keys = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
        self._fetched_at = time.monotonic()


_registry: dict[str, SigningKeys] = {}


def install(timeout: float) -> None:
    """Make botframework-connector's token extractor fetch keys through SigningKeys (per process)."""

    def keys_for(url: str) -> SigningKeys:
        keys = _registry.get(url)
        if keys is None:
            keys = _registry[url] = SigningKeys(url, timeout)
        keys.timeout = timeout
        return keys

    JwtTokenExtractor.get_open_id_metadata = staticmethod(keys_for)  # type: ignore[method-assign]
