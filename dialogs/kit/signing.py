"""Signed links and cookies: one way to make a signature and one way to check what comes back.

    signer = Signer(key=secret.encode(), prefix=b"survey-link:")
    sig = signer.sign(message)
    signer.verify(message, given)      # True / False; raises Malformed if ``given`` cannot be a signature
    expires = digits(raw)              # ASCII digits only, bounded; raises Malformed

Whatever a browser sends back (non-ASCII, bad base64, the wrong length, megabytes) is either a
signature that matches or one of two answers: ``Malformed`` (it cannot be one of ours: answer 400 with
a page saying the link is broken) or ``False`` (well formed but not ours, altered, or for something
else). Never an exception from deep inside ``hmac`` or ``base64``.

Users: dashboard CSV links and the local sign-in cookie (dialogs/dashboard/access.py), survey result
links (dialogs/survey/links.py), announcement export links (dialogs/announce/web.py). Each keeps its
own key and message format, so links already posted in Teams keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

MAX_TOKEN = 1024  # characters: a signed value of ours is far shorter
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEX = re.compile(r"[0-9a-f]*")
_DIGITS = re.compile(r"[0-9]+")
B64_SHA256 = 43  # base64url of 32 bytes, unpadded


class Malformed(ValueError):
    """The value cannot be a signed value of ours (wrong alphabet, length, encoding or size)."""


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str, max_chars: int = MAX_TOKEN) -> bytes:
    """Strict unpadded base64url: anything else (padding, "+", non-ASCII, too long) is Malformed."""
    if (
        not isinstance(text, str)
        or len(text) > max_chars
        or not _B64URL.fullmatch(text)
        or len(text) % 4 == 1
    ):
        raise Malformed("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Malformed("not base64url") from exc
    if b64encode(data) != text:  # non-canonical trailing bits: not something we made
        raise Malformed("not canonical base64url")
    return data


def digits(text: object, max_digits: int = 12) -> int:
    """A number written in ASCII digits (no sign, no spaces, no 「１２」 or 「²」), at most ``max_digits`` long."""
    if not isinstance(text, str) or len(text) > max_digits or not _DIGITS.fullmatch(text):
        raise Malformed("not a number")
    return int(text)


@dataclass(frozen=True)
class Signer:
    """HMAC-SHA256 over ``prefix + message``; base64url (43 characters) or the first ``hex_chars`` hex digits."""

    key: bytes
    prefix: bytes = b""
    hex_chars: int | None = None

    def sign(self, message: str) -> str:
        digest = hmac.new(self.key, self.prefix + message.encode("utf-8", "surrogatepass"), hashlib.sha256)
        if self.hex_chars is not None:
            return digest.hexdigest()[: self.hex_chars]
        return b64encode(digest.digest())

    def well_formed(self, signature: object) -> bool:
        if not isinstance(signature, str):
            return False
        if self.hex_chars is not None:
            return len(signature) == self.hex_chars and bool(_HEX.fullmatch(signature))
        return len(signature) == B64_SHA256 and bool(_B64URL.fullmatch(signature))

    def verify(self, message: str, signature: object) -> bool:
        """Does ``signature`` sign ``message``? Raises Malformed if it cannot be a signature at all."""
        if not self.well_formed(signature):
            raise Malformed("not a signature")
        assert isinstance(signature, str)
        return hmac.compare_digest(self.sign(message).encode("ascii"), signature.encode("ascii"))
