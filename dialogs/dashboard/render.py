"""HTML from templates (Jinja2, autoescaped), and the static files the pages use.

html = render_page(frame, view)         # a whole page: header, navigation, content, footer
html = render_message(frame, 403, "not_admin")
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from markupsafe import Markup

from dialogs.dashboard.access import Viewer
from dialogs.dashboard.pages.common import Block, PageView
from dialogs.dashboard.tables import SUPPRESSED, cell_text
from dialogs.kit.i18n import t as translate

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).parent
STATIC = HERE / "static"
PAGES = ("overview", "announcements", "surveys", "questions", "results")
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".txt": "text/plain"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    version: str


@cache
def assets() -> dict[str, Asset]:
    """Every file under static/, read once: name -> body, type, short content hash (for cache busting)."""
    out: dict[str, Asset] = {}
    for path in sorted(STATIC.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(STATIC).as_posix()
        body = path.read_bytes()
        ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        out[name] = Asset(body, ctype, hashlib.sha256(body).hexdigest()[:12])
    return out


def asset_url(name: str) -> str:
    return f"/dashboard/static/{name}?v={assets()[name].version}"


@cache
def environment() -> Environment:
    # Imported on the first page: most bot processes never serve the dashboard.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["suppressed"] = lambda value: value is SUPPRESSED
    env.globals["asset"] = asset_url
    return env


@dataclass
class Frame:
    """What every page around the content needs: language, mode, who is looking, links."""

    locale: str
    local_mode: bool
    page: str
    viewer: Viewer | None = None
    lang_fixed: bool = False  # ?lang= given: the Teams locale must not override it
    params: dict[str, str] = field(default_factory=dict)  # the page's filters, kept across languages
    csv_url: Any = None  # (Block) -> str
    footer: str = ""
    tab_origins: tuple[str, ...] = ()  # extra hosts allowed to frame the tab (DXBOT_DASHBOARD_TAB_ORIGINS)

    def t(self, key: str, **kwargs: Any) -> str:
        return translate(key, self.locale, **kwargs)

    def url(self, page: str, locale: str | None = None, **params: str) -> str:
        query = dict(params)
        if (locale or self.locale) == "en":
            query["lang"] = "en"
        elif locale == "ja" and self.lang_fixed:
            query["lang"] = "ja"
        return f"/dashboard/{page}" + (f"?{urlencode(query)}" if query else "")


def _common(frame: Frame, title: str, content: Markup, *, nav: bool = True) -> dict[str, Any]:
    other = "ja" if frame.locale == "en" else "en"
    pages = [
        {"key": p, "label": frame.t(f"dashboard.nav.{p}"), "url": frame.url(p)} for p in PAGES
    ] if nav else []  # fmt: skip
    return {
        "lang": frame.locale,
        "mode": "local" if frame.local_mode else "teams",
        "page": frame.page,
        "lang_fixed": frame.lang_fixed,
        "title": title,
        "t": frame.t,
        "viewer": frame.viewer,
        "local_mode": frame.local_mode,
        "pages": pages,
        "lang_switch_url": frame.url(
            frame.page if frame.page in (*PAGES, "config") else "overview", other, **frame.params
        ),
        "content": content,
        "footer": frame.footer,
        "tab_origins": " ".join(frame.tab_origins),
        "tab_names": (
            translate("dashboard.config.tab_name", "ja"),
            translate("dashboard.config.tab_name", "en"),
        ),
    }


def render_content(frame: Frame, view: PageView) -> Markup:
    env = environment()

    def csv_name(block: Block) -> str:
        assert block.table is not None
        return f"dashboard-{view.key}-{block.table.key}.csv"

    suppressed = frame.t("dashboard.suppressed_short")
    html = env.get_template("page.html").render(
        view=view,
        t=frame.t,
        lang=frame.locale,
        cell=lambda v, kind: cell_text(v, kind, suppressed),
        csv_url=frame.csv_url,
        csv_name=csv_name,
    )
    return Markup(html)


def render_page(frame: Frame, view: PageView) -> str:
    content = render_content(frame, view)
    return environment().get_template("base.html").render(**_common(frame, view.title, content))


def render_shell(frame: Frame) -> str:
    """The page Teams opens: no data, just the frame; dashboard.js fetches the content with a token."""
    content = (
        environment()
        .get_template("message.html")
        .render(
            t=frame.t,
            kind="loading",
            status=0,
            heading=frame.t("dashboard.loading.title"),
            paragraphs=[frame.t("dashboard.loading.body")],
            hint=frame.t("dashboard.loading.hint"),
            code="",
        )
    )
    return (
        environment()
        .get_template("base.html")
        .render(**_common(frame, frame.t(f"dashboard.nav.{frame.page}"), Markup(content)))
    )


REASONS_401 = {
    "no_token", "malformed", "algorithm", "unknown_key", "expired", "audience", "not_yet_valid", "invalid",
    "tenant", "issuer", "bad_link", "link_expired",
}  # fmt: skip


def message_keys(status: int, reason: str) -> tuple[str, list[str], str]:
    """(heading key, paragraph keys, hint key) for a refusal or a problem."""
    if status == 400:
        return "dashboard.error.400.title", ["dashboard.error.400.body"], "dashboard.error.400.hint"
    if status == 403:
        return "dashboard.error.403.title", ["dashboard.error.403.body"], "dashboard.error.403.hint"
    if status == 404:
        return "dashboard.error.404.title", ["dashboard.error.404.body"], "dashboard.error.404.hint"
    if status == 503 and reason == "not_configured":
        return "dashboard.error.config.title", ["dashboard.error.config.body"], "dashboard.error.config.hint"
    if status >= 500:
        return "dashboard.error.503.title", ["dashboard.error.503.body"], "dashboard.error.503.hint"
    detail = f"dashboard.error.401.{reason}" if reason in REASONS_401 else "dashboard.error.401.invalid"
    return "dashboard.error.401.title", [detail], "dashboard.error.401.hint"


def render_message(frame: Frame, status: int, reason: str) -> str:
    heading, paragraphs, hint = message_keys(status, reason)
    content = (
        environment()
        .get_template("message.html")
        .render(
            t=frame.t,
            kind="error",
            status=status,
            heading=frame.t(heading),
            paragraphs=[frame.t(p) for p in paragraphs],
            hint=frame.t(hint),
            code=f"{status} {reason}",
        )
    )
    page = _common(frame, frame.t(heading), Markup(content), nav=False) | {"footer": ""}  # no data shown
    return environment().get_template("base.html").render(**page)


def render_config(frame: Frame) -> str:
    """The configuration page Teams shows when someone adds the dashboard to a team channel."""
    content = environment().get_template("config.html").render(t=frame.t, local_mode=frame.local_mode)
    page = _common(frame, frame.t("dashboard.config.title"), Markup(content), nav=False) | {"footer": ""}
    return environment().get_template("base.html").render(**page)


def render_login(
    frame: Frame,
    admins: list[tuple[str, str]],
    next_url: str,
    *,
    needs_password: bool,
    csrf: str,
    error: str = "",
) -> str:
    content = (
        environment()
        .get_template("login.html")
        .render(
            t=frame.t,
            admins=admins,
            next=next_url,
            needs_password=needs_password,
            csrf=csrf,
            error=error,
        )
    )
    return (
        environment()
        .get_template("base.html")
        .render(**_common(frame, frame.t("dashboard.local.title"), Markup(content), nav=False))
    )
