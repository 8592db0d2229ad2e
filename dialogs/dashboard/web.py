"""The dashboard's web routes (served by the bot's own aiohttp app through bot.api.HttpRoute).

GET  /dashboard, /dashboard/{page}          Teams: the frame (no data), dashboard.js loads the content
                                            with the Teams SSO token. Local mode: the page itself.
GET  /dashboard/view/{page}                 the page with its data: bearer token (Teams) or the
                                            local sign-in cookie; 401/403 with an explanation otherwise
GET  /dashboard/csv/{page}/{table}.csv      one table as CSV (token, signed link or cookie)
GET  /dashboard/static/{name}               CSS, script, icon, the vendored Teams JavaScript library
GET|POST /dashboard/login, POST /logout     local mode only: pick an admin (and the local password)
GET  /dashboard/config                      Teams' configuration page when the tab is added to a team

Pages: overview, announcements, surveys, questions. ``?lang=en`` for English; inside Teams the tab
passes the Teams client's language unless ``lang`` was given.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from bot.api import HttpRequest, HttpResponse, HttpRoute
from dialogs.dashboard import access, render, signin
from dialogs.dashboard.access import Refusal, Viewer
from dialogs.dashboard.pages import announcements, cases, overview, questions, surveys
from dialogs.dashboard.pages.common import Block, Context, PageView, format_moment
from dialogs.dashboard.render import PAGES, Frame
from dialogs.dashboard.tables import to_csv
from dialogs.kit.security_headers import TEAMS_FRAME_ANCESTORS, csp

log = logging.getLogger(__name__)
BUILDERS: dict[str, Callable[[Context], Awaitable[PageView]]] = {
    "overview": overview.build,
    "announcements": announcements.build,
    "surveys": surveys.build,
    "questions": questions.build,
    "results": cases.build,  # 成果: built on the improvement cases feature's own sums
}
PASSTHROUGH = {"lang", "sig", "u", "exp"}  # query keys that are not page filters


def _locale(req: HttpRequest) -> tuple[str, bool]:
    raw = req.query.get("lang", "").lower()
    if raw.startswith("en"):
        return "en", True
    if raw.startswith("ja"):
        return "ja", True
    return req.services.settings.locale, False


def _filters(req: HttpRequest) -> dict[str, str]:
    return {k: v for k, v in req.query.items() if k not in PASSTHROUGH and len(v) <= 100}


def _headers(req: HttpRequest) -> dict[str, str]:
    """What differs from every page's headers (dialogs/kit/security_headers.py): Teams frames the tab."""
    local = req.services.settings.local_mode
    extra = "".join(f" {o}" for o in req.services.settings.dashboard_tab_origins if not local)
    policy = csp(
        # teams-js asks Microsoft's CDN for its list of Teams origins (it has a built-in one too).
        connect="'self'" if local else "'self' https://res.cdn.office.net",
        frame_ancestors=f"'self'{'' if local else ' ' + TEAMS_FRAME_ANCESTORS}{extra}",
    )
    return {"Content-Security-Policy": policy}


def _frame(req: HttpRequest, page: str, viewer: Viewer | None = None) -> Frame:
    locale, fixed = _locale(req)
    frame = Frame(
        locale=locale,
        local_mode=req.services.settings.local_mode,
        page=page,
        viewer=viewer,
        lang_fixed=fixed,
        params=_filters(req),
        tab_origins=tuple(req.services.settings.dashboard_tab_origins),
    )
    now = req.services.clock()
    frame.footer = frame.t("dashboard.footer", at=format_moment(now, locale))
    return frame


def _html(req: HttpRequest, status: int, body: str, extra: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, body, "text/html", _headers(req) | (extra or {}))


def refuse(req: HttpRequest, page: str, refusal: Refusal) -> HttpResponse:
    frame = _frame(req, page)
    extra: dict[str, str] = {}
    if refusal.status == 401:
        error = "" if refusal.reason == "no_token" else ', error="invalid_token"'
        extra["WWW-Authenticate"] = f'Bearer realm="dxbot-dashboard"{error}'
    return _html(req, refusal.status, render.render_message(frame, refusal.status, refusal.reason), extra)


def _to_login(req: HttpRequest) -> HttpResponse:
    target = req.path + (f"?{urlencode(req.query)}" if req.query else "")
    return HttpResponse(
        303,
        b"",
        "text/plain",
        _headers(req) | {"Location": f"/dashboard/login?{urlencode({'next': target})}"},
    )


VIEWS_KEY = "dashboard.views"
VIEW_SECONDS = 600.0  # a CSV downloaded within this time is the table the page showed
VIEWS_KEPT = 32


def _view_key(page: str, locale: str, params: dict[str, str]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return page, locale, tuple(sorted(params.items()))


async def build_view(req: HttpRequest, page: str, locale: str) -> PageView:
    """Build the page from the database now, and remember it for the CSV links it shows."""
    services = req.services
    async with services.sessionmaker() as session:
        ctx = Context(services, session, locale, _filters(req), services.clock())
        view = await BUILDERS[page](ctx)
    cache: OrderedDict[Any, tuple[float, PageView]] = services.extras.setdefault(VIEWS_KEY, OrderedDict())
    settled = {f.name: f.selected for f in view.filters}  # the filters as applied, defaults included
    cache[_view_key(page, locale, settled)] = (time.monotonic(), view)
    while len(cache) > VIEWS_KEPT:
        cache.popitem(last=False)
    return view


async def view_for_csv(req: HttpRequest, page: str, locale: str) -> PageView:
    """The view the admin just looked at (so the CSV matches the screen), or a fresh one."""
    cache = req.services.extras.get(VIEWS_KEY, {})
    hit = cache.get(_view_key(page, locale, _filters(req)))
    if hit is not None and time.monotonic() - hit[0] < VIEW_SECONDS:
        return hit[1]
    return await build_view(req, page, locale)


def _csv_link(req: HttpRequest, frame: Frame, view: PageView, viewer: Viewer) -> Callable[[Block], str]:
    def url(block: Block) -> str:
        assert block.table is not None
        params = {f.name: f.selected for f in view.filters} | block.csv_params
        if frame.locale == "en":
            params["lang"] = "en"
        path = f"/dashboard/csv/{view.key}/{block.table.key}.csv"
        if req.services.settings.local_mode:
            return path + (f"?{urlencode(params)}" if params else "")
        return access.sign_link(req.services, viewer, path, params)

    return url


async def _page_with_data(req: HttpRequest, page: str, viewer: Viewer) -> HttpResponse:
    frame = _frame(req, page, viewer)
    started = time.perf_counter()
    view = await build_view(req, page, frame.locale)
    frame.csv_url = _csv_link(req, frame, view, viewer)
    body = render.render_page(frame, view)
    log.info("dashboard page %s rendered in %.0f ms", page, (time.perf_counter() - started) * 1000)
    return _html(req, 200, body)


def _page_name(req: HttpRequest) -> str | None:
    page = req.match.get("page", "overview") or "overview"
    return page if page in PAGES else None


async def page(req: HttpRequest) -> HttpResponse:
    """What the tab (or a browser) opens. Teams: the frame only. Local mode: the page, signed in."""
    name = _page_name(req)
    if name is None:
        return _html(req, 404, render.render_message(_frame(req, "overview"), 404, "no_page"))
    settings = req.services.settings
    if settings.local_mode:
        outcome = await access.from_cookie(req)
        if isinstance(outcome, Refusal):
            return _to_login(req) if outcome.status == 401 else refuse(req, name, outcome)
        return await _page_with_data(req, name, outcome)
    if access.bearer(req):  # a client that already holds a token gets the page itself
        outcome = await access.authenticate(req)
        if isinstance(outcome, Refusal):
            return refuse(req, name, outcome)
        return await _page_with_data(req, name, outcome)
    return _html(req, 200, render.render_shell(_frame(req, name)))


async def view(req: HttpRequest) -> HttpResponse:
    """The page with its data, for dashboard.js (bearer token) or a signed-in local browser."""
    name = _page_name(req)
    if name is None:
        return _html(req, 404, render.render_message(_frame(req, "overview"), 404, "no_page"))
    outcome = await access.authenticate(req)
    if isinstance(outcome, Refusal):
        return refuse(req, name, outcome)
    return await _page_with_data(req, name, outcome)


async def csv(req: HttpRequest) -> HttpResponse:
    name = _page_name(req)
    table_key = req.match.get("table", "").removesuffix(".csv")
    if name is None:
        return _html(req, 404, render.render_message(_frame(req, "overview"), 404, "no_page"))
    outcome = await access.authenticate(req, allow_link=True)
    if isinstance(outcome, Refusal):
        return refuse(req, name, outcome)
    locale, _ = _locale(req)
    built = await view_for_csv(req, name, locale)
    table = built.table(table_key)
    if table is None:
        return _html(req, 404, render.render_message(_frame(req, name), 404, "no_table"))
    filename = f"dashboard-{name}-{table_key}.csv"
    return HttpResponse(
        200,
        to_csv(table, Frame(locale, False, name).t),
        "text/csv",
        _headers(req)
        | {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"},
    )


async def static(req: HttpRequest) -> HttpResponse:
    asset = render.assets().get(req.match.get("name", ""))
    if asset is None:
        return HttpResponse(404, b"not found", "text/plain")
    immutable = req.query.get("v") == asset.version
    return HttpResponse(
        200,
        asset.body,
        asset.content_type,
        {
            "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
        },
    )


def _safe_next(value: str) -> str:
    return value if value.startswith("/dashboard") and not value.startswith("//") else "/dashboard"


async def login(req: HttpRequest) -> HttpResponse:
    settings = req.services.settings
    frame = _frame(req, "login")
    if not settings.local_mode:
        return _html(req, 404, render.render_message(frame, 404, "login_local_only"))
    error, status, extra = "", 200, {}
    next_url = _safe_next(req.query.get("next", "/dashboard"))
    if req.method == "POST":
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items() if v}
        next_url = _safe_next(form.get("next", "/dashboard"))
        email = form.get("email", "").strip().lower()
        client = req.remote or "unknown"
        now = req.services.clock().timestamp()
        limits = signin.limiter(req.services)
        wait = limits.wait(client, now)
        if not signin.csrf_ok(req, form.get("csrf", "")):
            error, status = frame.t("dashboard.local.csrf"), 400
        elif wait > 0:  # the password is not even checked
            error, status = frame.t("dashboard.local.too_many", seconds=math.ceil(wait)), 429
            extra["Retry-After"] = str(math.ceil(wait))
        elif not access.password_ok(req.services, form.get("password", "")):
            limits.failed(client, now)
            error, status = frame.t("dashboard.local.wrong_password"), 400
        else:
            limits.succeeded(client)
            async with req.services.sessionmaker() as session:
                viewer, _ = await access.find_admin(session, req.services, [email])
            if viewer is None:
                error, status = frame.t("dashboard.local.not_admin"), 400
            else:
                cookie = access.session_cookie(req.services, viewer.email)
                return HttpResponse(
                    303, b"", "text/plain", _headers(req) | {"Location": next_url, "Set-Cookie": cookie}
                )
    async with req.services.sessionmaker() as session:
        admins = await access.local_admins(session, req.services)
    token = signin.csrf_token(req.services)  # a fresh one with every form
    body = render.render_login(
        frame,
        admins,
        next_url,
        needs_password=bool(settings.dashboard_local_password),
        csrf=token,
        error=error,
    )
    return _html(req, status, body, extra | {"Set-Cookie": signin.csrf_cookie(token)})


async def config(req: HttpRequest) -> HttpResponse:
    """Teams' configuration page for the team tab: no data, so no sign-in; the script saves the tab."""
    return _html(req, 200, render.render_config(_frame(req, "config")))


async def logout(req: HttpRequest) -> HttpResponse:
    return HttpResponse(
        303,
        b"",
        "text/plain",
        _headers(req) | {"Location": "/dashboard/login", "Set-Cookie": access.clear_cookie()},
    )


def routes() -> list[HttpRoute]:
    return [
        HttpRoute("GET", "/dashboard", page),
        HttpRoute("GET", "/dashboard/login", login),
        HttpRoute("POST", "/dashboard/login", login),
        HttpRoute("POST", "/dashboard/logout", logout),
        HttpRoute("GET", "/dashboard/config", config),
        HttpRoute("GET", "/dashboard/static/{name:.+}", static),
        HttpRoute("GET", "/dashboard/view/{page}", view),
        HttpRoute("GET", "/dashboard/csv/{page}/{table}", csv),
        HttpRoute("GET", "/dashboard/{page}", page),
    ]
