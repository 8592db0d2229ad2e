"""Signed, expiring links to a round's results, charts and exports (HMAC-SHA256 with the secret key).

    token = sign(settings.secret_key, round_id=12, now=now, days=14)
    url = results_url(settings, token)                      # …/survey/r/<token>
    verify(settings.secret_key, token, now)  -> 12 | None   # None: forged, altered or expired
                                                            # raises signing.Malformed: not a link of ours

A link grants read access to one round's aggregates (already suppressed where groups are small)
and its anonymous answers export; it names no person.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.settings import Settings
from dialogs.kit.signing import Malformed, Signer, b64decode, b64encode

MAX_BODY = 200  # characters of the token before the dot; ours are about 40


def _signer(secret: str) -> Signer:
    return Signer(secret.encode("utf-8"), prefix=b"survey-link:")


def sign(secret: str, *, round_id: int, now: datetime, days: int = 14) -> str:
    expires = int((now + timedelta(days=days)).timestamp())
    body = b64encode(json.dumps({"r": round_id, "e": expires}, separators=(",", ":")).encode("ascii"))
    return f"{body}.{_signer(secret).sign(body)}"


def verify(secret: str, token: str, now: datetime) -> int | None:
    body, dot, mac = token.partition(".")
    if not dot:
        raise Malformed("no signature")
    b64decode(body, max_chars=MAX_BODY)  # the shape first: raises Malformed
    if not _signer(secret).verify(body, mac):
        return None
    try:
        payload = json.loads(b64decode(body))
        round_id, expires = int(payload["r"]), int(payload["e"])
    except (ValueError, KeyError, TypeError, OverflowError):
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
