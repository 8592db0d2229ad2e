"""Entra ID tokens from Teams SSO: the tenant's published signing keys, and the checks on a token.

    keys = signing_keys(services)                  # one cache per process, in services.extras
    claims = await validate(token, keys, expected)  # raises TokenRejected(reason)

A Teams tab asks Teams for a token with ``authentication.getAuthToken()``; Entra ID issues it for
the resource in the manifest's ``webApplicationInfo`` (``api://<host>/botid-<app id>``). The server
checks the RS256 signature against the keys named by the OpenID metadata document, then issuer,
audience, tenant and expiry. Keys are cached for a day; a token signed with an unknown key id
refetches them at most once every five minutes (so a forged key id cannot make us hammer Entra ID).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import RSAAlgorithm

from bot.api import Services
from bot.settings import Settings

log = logging.getLogger(__name__)
EXTRAS_KEY = "dashboard.signing_keys"
KEYS_TTL = 24 * 3600.0
REFETCH_GAP = 300.0
FAILURE_GAP = 30.0  # with no keys at all, how long a failed fetch is not retried
FETCH_TIMEOUT = 10.0
LEEWAY = 120  # seconds of clock skew allowed on exp/nbf/iat


class TokenRejected(Exception):
    """The token is not acceptable. ``reason`` is a short code for logs and the explanation page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """The signing keys could not be fetched (network, metadata): not the user's fault."""


@dataclass(frozen=True)
class Expected:
    """What a token must say to be ours."""

    audiences: tuple[str, ...]
    tenants: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Expected:
        host = urlsplit(settings.public_url).netloc
        audiences = [f"api://{host}/botid-{settings.app_id}", settings.app_id]
        tenants = list(settings.allowed_tenants)
        if not tenants and settings.app_tenant_id:
            tenants = [settings.app_tenant_id]
        return cls(tuple(a for a in audiences if a), tuple(t.lower() for t in tenants))


def _get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (configured URL)
        return json.loads(response.read().decode("utf-8"))


@dataclass
class SigningKeys:
    """The JWKS behind an OpenID metadata URL, cached. ``fetches`` counts round trips (for tests)."""

    metadata_url: str
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> public key
    issuer_template: str | None = None
    fetched_at: float = 0.0
    fetches: int = 0
    failed_at: float | None = None
    _lock: asyncio.Lock | None = None

    def _fetch(self) -> tuple[dict[str, Any], str | None]:
        metadata = _get_json(self.metadata_url)
        jwks = _get_json(metadata["jwks_uri"])
        keys: dict[str, Any] = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") != "RSA" or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
                continue
            keys[jwk["kid"]] = RSAAlgorithm.from_jwk(json.dumps(jwk))
        return keys, metadata.get("issuer")

    async def key(self, kid: str) -> Any | None:
        now = time.monotonic()
        stale = not self.fetched_at or now - self.fetched_at > KEYS_TTL
        unknown = kid not in self.keys and now - self.fetched_at > REFETCH_GAP
        if stale or unknown:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                now = time.monotonic()
                stale = not self.fetched_at or now - self.fetched_at > KEYS_TTL
                unknown = kid not in self.keys and now - self.fetched_at > REFETCH_GAP
                if stale or unknown:
                    if not self.keys and self.failed_at is not None and now - self.failed_at < FAILURE_GAP:
                        raise KeysUnavailable("the last attempt failed moments ago")
                    self.fetches += 1
                    try:
                        self.keys, self.issuer_template = await asyncio.to_thread(self._fetch)
                        self.fetched_at = time.monotonic()
                    except Exception as exc:  # network, HTTP status, malformed JSON
                        log.warning("could not fetch the Entra ID signing keys: %s", type(exc).__name__)
                        self.failed_at = time.monotonic()
                        if not self.keys:
                            raise KeysUnavailable(str(exc)) from exc
                        # Keep serving the known keys; try again after the short gap, not a day.
                        self.fetched_at = time.monotonic() - KEYS_TTL + REFETCH_GAP
        return self.keys.get(kid)


def signing_keys(services: Services) -> SigningKeys:
    url = services.settings.dashboard_openid_metadata_url
    keys = services.extras.get(EXTRAS_KEY)
    if keys is None or keys.metadata_url != url:
        keys = services.extras[EXTRAS_KEY] = SigningKeys(url)
    return keys


def _issuers(tid: str, template: str | None) -> set[str]:
    # v1 tokens come from sts.windows.net, v2 from login.microsoftonline.com; the metadata of the
    # "common" endpoint names its issuer with a {tenantid} placeholder.
    issuers = {f"https://sts.windows.net/{tid}/", f"https://login.microsoftonline.com/{tid}/v2.0"}
    if template:
        issuers.add(template.replace("{tenantid}", tid))
    return issuers


async def validate(token: str, keys: SigningKeys, expected: Expected) -> dict[str, Any]:
    """The token's claims if it is a valid Entra ID token for this app and an allowed tenant."""
    if not expected.audiences or not expected.tenants:
        raise TokenRejected("not_configured")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejected("malformed") from exc
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise TokenRejected("algorithm")
    key = await keys.key(header["kid"])
    if key is None:
        raise TokenRejected("unknown_key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=list(expected.audiences),
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "aud", "tid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenRejected("audience") from exc
    except jwt.ImmatureSignatureError as exc:
        raise TokenRejected("not_yet_valid") from exc
    except jwt.PyJWTError as exc:  # bad signature, missing claim, …
        raise TokenRejected("invalid") from exc
    tid = str(claims.get("tid", ""))
    if tid.lower() not in expected.tenants:
        raise TokenRejected("tenant")
    if claims.get("iss") not in _issuers(tid, keys.issuer_template):
        raise TokenRejected("issuer")
    return claims
