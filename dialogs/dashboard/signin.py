"""What protects the local sign-in form: a CSRF token, and a limit on wrong passwords.

    token = csrf_token(services)                  # in the form and in a cookie (signed double submit)
    csrf_ok(req, form.get("csrf", ""))            # both present, equal, and signed by us
    wait = limiter(services).wait(client, now)    # seconds before this client may try again (0: now)

The limit: at most ``PER_CLIENT`` wrong passwords a minute from one address and ``OVERALL`` from all
addresses together; beyond it the form says how many seconds to wait, without checking the password.
The counts live in this process (local mode runs one process); a restart forgets them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from bot.api import HttpRequest, Services
from dialogs.kit.signing import Malformed, Signer

CSRF_COOKIE = "dxcsrf"
WINDOW = 60.0  # seconds
PER_CLIENT = 5
OVERALL = 20
EXTRAS_KEY = "dashboard.signin_limiter"


def _signer(services: Services) -> Signer:
    return Signer(hashlib.sha256(f"dashboard:csrf:{services.settings.secret_key}".encode()).digest())


def csrf_token(services: Services) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_signer(services).sign(nonce)}"


def csrf_cookie(token: str) -> str:
    return f"{CSRF_COOKIE}={token}; Path=/dashboard/login; HttpOnly; SameSite=Strict"


def csrf_ok(req: HttpRequest, given: str) -> bool:
    raw = req.headers.get("Cookie", "")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header carries no token
        return False
    morsel = jar.get(CSRF_COOKIE)
    if morsel is None or not given or len(given) > 200 or morsel.value != given:
        return False
    nonce, _, sig = given.partition(".")
    try:
        return bool(nonce) and _signer(req.services).verify(nonce, sig)
    except Malformed:
        return False


@dataclass
class Limiter:
    """Wrong passwords in the last ``WINDOW`` seconds, per client address and overall."""

    per_client: dict[str, deque[float]] = field(default_factory=dict)
    overall: deque[float] = field(default_factory=deque)

    def _trim(self, times: deque[float], now: float) -> deque[float]:
        while times and now - times[0] >= WINDOW:
            times.popleft()
        return times

    def wait(self, client: str, now: float) -> float:
        """Seconds before ``client`` may try a password again (0: now)."""
        waits = [0.0]
        mine = self._trim(self.per_client.get(client, deque()), now)
        if len(mine) >= PER_CLIENT:
            waits.append(mine[-PER_CLIENT] + WINDOW - now)
        overall = self._trim(self.overall, now)
        if len(overall) >= OVERALL:
            waits.append(overall[-OVERALL] + WINDOW - now)
        return max(waits)

    def failed(self, client: str, now: float) -> None:
        self.per_client.setdefault(client, deque()).append(now)
        self.overall.append(now)
        if len(self.per_client) > 10_000:  # many addresses: keep only those still inside the window
            self.per_client = {c: t for c, t in self.per_client.items() if self._trim(t, now)}

    def succeeded(self, client: str) -> None:
        self.per_client.pop(client, None)


def limiter(services: Services) -> Limiter:
    found = services.extras.get(EXTRAS_KEY)
    if found is None:
        found = services.extras[EXTRAS_KEY] = Limiter()
    return found
