"""Sealed envelopes for anonymous answers while a round is open (see PRIVACY.md).

While too few people have answered for a group to be stored, an answer's group (and, while the
whole round has fewer than k answers, its values) are kept only inside an envelope: AES-GCM under a
key derived from ``DXBOT_SECRET_KEY``, which is not in the database, with a random nonce, so two
envelopes of the same group look unrelated. Someone reading the database sees neither the group
nor the values; the bot opens envelopes to regroup answers as more people answer, and the envelopes
are erased when the round closes.

    token = seal(secret, {"g": [3, 12, None], "v": {"m1": 4.0}})
    seal_open(secret, token)   # → the same dict
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LABEL = b"dxbot/survey/held-answers/v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _LABEL, hashlib.sha256).digest()


def seal(secret: str, payload: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sealed = AESGCM(_key(secret)).encrypt(nonce, data, _LABEL)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def seal_open(secret: str, token: str) -> dict[str, Any]:
    """The payload; raises ValueError if the token was not sealed with this secret."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        data = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], _LABEL)
    except Exception as exc:  # InvalidTag, bad base64
        raise ValueError("survey envelope does not open with this secret key") from exc
    result: dict[str, Any] = json.loads(data)
    return result
