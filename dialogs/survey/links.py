"""Signed, expiring links to a round's results, charts and exports (HMAC-SHA256 with the secret key).

    token = sign(settings.secret_key, round_id=12, now=now, days=14)
    url = results_url(settings, token)                      # …/survey/r/<token>
    verify(settings.secret_key, token, now)  -> 12 | None   # None: forged, altered or expired

A link grants read access to one round's aggregates (already suppressed where groups are small)
and its anonymous answers export; it names no person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from bot.settings import Settings


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), b"survey-link:" + body.encode("ascii"), hashlib.sha256).digest()
    return _b64(digest)


def sign(secret: str, *, round_id: int, now: datetime, days: int = 14) -> str:
    expires = int((now + timedelta(days=days)).timestamp())
    body = _b64(json.dumps({"r": round_id, "e": expires}, separators=(",", ":")).encode("ascii"))
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str, now: datetime) -> int | None:
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    try:
        payload = json.loads(_unb64(body))
        round_id, expires = int(payload["r"]), int(payload["e"])
    except (ValueError, KeyError, TypeError):
        return None
    if now.timestamp() > expires:
        return None
    return round_id


def base(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/survey/r/"


def results_url(settings: Settings, token: str) -> str:
    return f"{base(settings)}{token}"


def chart_url(settings: Settings, token: str, name: str) -> str:
    return f"{base(settings)}{token}/chart/{name}.png"


def export_url(settings: Settings, token: str, what: str, fmt: str) -> str:
    return f"{base(settings)}{token}/export/{what}.{fmt}"
