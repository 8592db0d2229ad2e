"""The security headers of every web response the bot serves (dashboard, survey results and exports,
announcement exports, the automation API), added in one place: the transport's web handler calls
``secure`` on each feature's ``HttpResponse``.

    headers = secure(response)          # nosniff, no referrer, no-store, a strict CSP for pages
    HttpResponse(200, page, "text/html", {"Content-Security-Policy": csp(style_hashes=(STYLE,))})

A feature sets only what differs from the defaults: the dashboard is framed by Teams and loads
teams-js; a results page has one inline stylesheet; static files may be cached.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from bot.api import HttpResponse

# Where Teams (web, desktop, mobile, Outlook, the Microsoft 365 app) may frame a tab.
TEAMS_FRAME_ANCESTORS = (
    "https://teams.microsoft.com https://*.teams.microsoft.com https://teams.cloud.microsoft "
    "https://*.cloud.microsoft https://*.office.com https://outlook.office.com https://outlook.office365.com "
    "https://*.microsoft365.com"
)


def csp(
    *, frame_ancestors: str = "'none'", connect: str = "'self'", inline_styles: Iterable[str] = ()
) -> str:
    """A Content-Security-Policy: nothing from elsewhere, no inline script, no framing unless allowed.

    ``inline_styles``: the exact text of ``<style>`` elements the page carries (allowed by hash)."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode('utf-8')).digest()).decode('ascii')}'"
        for s in inline_styles
    )
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'{hashes}; img-src 'self'; "
        f"connect-src {connect}; form-action 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}"
    )


DEFAULTS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # signed links carry their credential in the query
    "Cache-Control": "no-store",  # data: nothing left behind on a shared PC (static files say otherwise)
}


def secure(response: HttpResponse) -> dict[str, str]:
    """The response's headers with the defaults filled in (a header the feature set wins)."""
    headers = DEFAULTS | response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = csp()
    if headers["Content-Security-Policy"].endswith("frame-ancestors 'none'"):
        headers.setdefault("X-Frame-Options", "DENY")  # for browsers that predate frame-ancestors
    return headers
