"""The DX division's dashboard in headless Chromium, at 1366×768, on the demo city with twelve rounds
of survey answers and a year of announcements and questions.

Local mode: sign in by picking the admin, open every page, read its tiles, charts and tables, tab
through it, download the CSVs. Teams mode: the page runs inside a stand-in Teams client
(e2e/dashboard/teams-host.html) that answers the Teams JavaScript library and hands over tokens signed
by a local fake Entra ID; an admin sees the pages, a staff member gets the 403 explanation, a browser
without Teams gets the 401 one. Screenshots stay in test-artifacts/e2e/dashboard/<test>/.

Skips with a NOTICE when node, the e2e Node packages or Chromium are missing (fails under CI=true),
through the e2e harness's ``e2e_tools`` fixture.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.e2e.conftest import ARTIFACTS, REPO, _clean_env, free_port, start_service, wait_http

VISIT = REPO / "e2e" / "dashboard" / "visit.mjs"
HOST_PAGE = REPO / "e2e" / "dashboard" / "teams-host.html"
OUT = ARTIFACTS / "dashboard"
ADMIN = "dx-admin@demo-city.example.jp"
STAFF = "staff@demo-city.example.jp"
APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TENANT = "00000000-0000-0000-0000-0000000000aa"
PAGES = {
    "overview": ("概要", "Overview"),
    "announcements": ("お知らせ", "Announcements"),
    "surveys": ("サーベイ", "Surveys"),
    "questions": ("問い合わせ", "Questions"),
}
MIN_TABLES = {"overview": 3, "announcements": 2, "surveys": 6, "questions": 4}
MIN_CHARTS = {"overview": 1, "announcements": 1, "surveys": 4, "questions": 2}


# --- servers -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_database(e2e_tools: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("e2e-dashboard") / "demo.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    done = subprocess.run(
        [sys.executable, "-m", "tests.dashboard.demo", url], cwd=REPO, env=_clean_env(), capture_output=True,
        text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"seeding the demo failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return url


@dataclass
class Bot:
    base: str
    log: Path


def _start_bot(database_url: str, work: Path, name: str, extra: dict[str, str]) -> Iterator[Bot]:
    port = free_port()
    env = (
        _clean_env()
        | {
            "DXBOT_DATABASE_URL": database_url,
            "DXBOT_HOST": "127.0.0.1",
            "DXBOT_PORT": str(port),
            "DXBOT_BACKGROUND_JOBS": "false",  # nothing is sent to anyone; the data stays as seeded
            "MicrosoftAppId": "",
            "MicrosoftAppPassword": "",
        }
        | extra
    )
    service = start_service(name, [sys.executable, "-m", "bot", "run"], env, work, work / f"{name}.log")
    try:
        wait_http(service, f"http://127.0.0.1:{port}/readyz", timeout=120)
        yield Bot(f"http://127.0.0.1:{port}", service.log)
    finally:
        service.stop(grace=20)
        OUT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(service.log, OUT / f"{name}.log")


@pytest.fixture(scope="module")
def local_bot(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    yield from _start_bot(demo_database, tmp_path_factory.mktemp("e2e-dash-local"), "bot-local", {})


class _Support(BaseHTTPRequestHandler):
    """The test's side of the world: the stand-in Teams client page and Entra ID's published keys."""

    host_page = b""
    jwks: dict[str, Any] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.startswith("/host.html"):
            self._send(200, "text/html; charset=utf-8", self.host_page)
        elif self.path == "/common/v2.0/.well-known/openid-configuration":
            base = f"http://{self.headers['Host']}"
            body = {"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0", "jwks_uri": f"{base}/keys"}
            self._send(200, "application/json", json.dumps(body).encode())
        elif self.path == "/keys":
            self._send(200, "application/json", json.dumps(self.jwks).encode())
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class TeamsWorld:
    bot: Bot
    support: str  # http://127.0.0.1:port of the host page and the fake Entra ID
    token: Callable[..., str]

    def host_url(self, token: str | None, **params: str) -> str:
        query = {"tab": self.bot.base, **({"token": token} if token else {}), **params}
        return f"{self.support}/host.html?{urlencode(query)}"


@pytest.fixture(scope="module")
def teams(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamsWorld]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key())) | {"kid": "e2e-key", "use": "sig", "alg": "RS256"}
    handler = type("Support", (_Support,), {"host_page": HOST_PAGE.read_bytes(), "jwks": {"keys": [jwk]}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    support = f"http://127.0.0.1:{server.server_address[1]}"

    def token(upn: str = ADMIN, **claims: Any) -> str:
        now = int(time.time())
        body = {"aud": f"api://dxbot.demo-city.example.jp/botid-{APP_ID}", "iss": f"https://sts.windows.net/{TENANT}/",
                "tid": TENANT, "iat": now - 60, "nbf": now - 60, "exp": now + 3600, "oid": str(uuid.uuid4()),
                "upn": upn, "ver": "1.0"} | claims  # fmt: skip
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": "e2e-key"})

    extra = {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "not-used-in-this-test",
        "MicrosoftAppTenantId": TENANT,
        "DXBOT_SECRET_KEY": "e2e-dashboard-secret-key-of-48-bytes-0123456789ab",
        "DXBOT_PUBLIC_URL": "https://dxbot.demo-city.example.jp",
        "DXBOT_ALLOWED_TENANTS": TENANT,
        "DXBOT_DASHBOARD_OPENID_METADATA_URL": f"{support}/common/v2.0/.well-known/openid-configuration",
        "DXBOT_DASHBOARD_TAB_ORIGINS": support,  # the stand-in client may frame the tab
    }
    try:
        for bot in _start_bot(demo_database, tmp_path_factory.mktemp("e2e-dash-teams"), "bot-teams", extra):
            yield TeamsWorld(bot, support, token)
    finally:
        server.shutdown()


# --- the browser -------------------------------------------------------------------------------------


def visit(plan: dict[str, Any], name: str, timeout: float = 240) -> dict[str, Any]:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    done = subprocess.run(
        [shutil.which("node") or "node", str(VISIT), "--plan", "-", "--artifacts", str(out)],
        input=json.dumps(plan, ensure_ascii=False), capture_output=True, text=True, timeout=timeout, cwd=REPO,
        env=_clean_env(),
    )  # fmt: skip
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"visit.mjs exited {done.returncode} without a report:\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    assert report["ok"], f"{report['error']} (screenshots in {out})"
    return report


def assert_clean(report: dict[str, Any]) -> None:
    assert report["consoleErrors"] == [], report["consoleErrors"]
    assert report["pageErrors"] == [], report["pageErrors"]
    assert report["failedRequests"] == [], report["failedRequests"]


def assert_png(path: str, min_bytes: int = 20_000) -> None:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > min_bytes, f"{path} is not a real screenshot"


def assert_page(v: dict[str, Any], key: str, lang: str = "ja") -> None:
    title = PAGES[key][0 if lang == "ja" else 1]
    assert v["h1"] == title, v.get("mainText", "")[:300]
    assert v["lang"] == lang
    assert v["tables"] >= MIN_TABLES[key] and all(n > 0 for n in v["tableRows"][:1]), (key, v["tableRows"])
    assert v["charts"] >= MIN_CHARTS[key] and v["chartsTitled"] == v["charts"], key
    assert len(v["csvLinks"]) == v["tables"], key
    assert not v["overflowX"], f"{key} scrolls sideways at 1366 px"
    assert [n["current"] for n in v["nav"]].count("page") == 1


# --- local mode ----------------------------------------------------------------------------------------


def test_every_page_loads_with_charts_and_tables_in_local_mode(local_bot: Bot) -> None:
    visits = []
    for key in PAGES:
        visits.append({"path": f"/dashboard/{key}", "screenshot": f"{key}", "waitFor": "main table"})
        visits.append({"path": f"/dashboard/{key}", "screenshot": f"{key}-full", "fullPage": True})
    report = visit({"base": local_bot.base, "viewport": {"width": 1366, "height": 768},
                    "login": {"email": ADMIN}, "visits": visits}, "local-pages")  # fmt: skip

    assert_clean(report)
    for v, key in zip(report["visits"][::2], PAGES, strict=True):
        assert v["httpStatus"] == 200
        assert_page(v, key)
        assert v["localBanner"] and "ローカルモード" in v["localBanner"]
        assert v["loadMs"] < 5000, (key, v["loadMs"])
    for v in report["visits"]:
        assert_png(v["screenshot"])
    surveys = report["visits"][4]
    assert "DXマインド(12回)" in surveys["mainText"]
    assert any("2026" in t or "年" in t for t in surveys["tiles"])


def test_english_pages(local_bot: Bot) -> None:
    visits = [
        {"path": f"/dashboard/{key}?lang=en", "screenshot": f"{key}-en", "waitFor": "main table"}
        for key in PAGES
    ]
    report = visit({"base": local_bot.base, "login": {"email": ADMIN}, "visits": visits}, "local-english")
    assert_clean(report)
    for v, key in zip(report["visits"], PAGES, strict=True):
        assert_page(v, key, "en")
        assert v["localBanner"].startswith("LOCAL MODE")
        assert_png(v["screenshot"])


def test_keyboard_reaches_the_skip_link_navigation_filters_and_csv_with_a_visible_focus(
    local_bot: Bot,
) -> None:
    report = visit(
        {"base": local_bot.base, "login": {"email": ADMIN},
         "visits": [{"path": "/dashboard/surveys", "waitFor": "main table", "keyboard": 14, "screenshot": "focus"}]},
        "local-keyboard",
    )  # fmt: skip
    focus = [f for f in report["visits"][0]["focus"] if f]
    assert focus[0]["text"] == "本文へ移動" and focus[0]["href"] == "#main"
    texts = [f["text"] for f in focus]
    for label in ("概要", "お知らせ", "サーベイ", "問い合わせ", "表示する"):
        assert label in texts, texts
    assert any(t.startswith("CSVをダウンロード") for t in texts), texts
    assert any(f["tag"] == "select" for f in focus)
    assert all(f["outline"] for f in focus), [f for f in focus if not f["outline"]]
    assert_png(report["visits"][0]["screenshot"])


def test_csv_downloads_from_the_page(local_bot: Bot) -> None:
    report = visit(
        {"base": local_bot.base, "login": {"email": ADMIN},
         "visits": [{"path": f"/dashboard/{key}", "waitFor": "main table", "fetchCsv": True} for key in PAGES]},
        "local-csv",
    )  # fmt: skip
    for v in report["visits"]:
        assert v["csv"] and all(c["status"] == 200 and c["type"].startswith("text/csv") for c in v["csv"]), v[
            "csv"
        ]
        assert all(c["lines"] >= 1 for c in v["csv"])


# --- inside (a stand-in for) Teams ---------------------------------------------------------------------


def test_inside_teams_an_admin_sees_every_page_through_the_sso_token(teams: TeamsWorld) -> None:
    host = {"url": teams.host_url(teams.token())}
    visits = [{"path": f"/dashboard/{key}", "waitFor": "main .page[data-page] table", "screenshot": f"teams-{key}"}
              for key in PAGES]  # fmt: skip
    # navigation inside the tab: the script fetches the next page with the token
    visits.append({"path": "/dashboard/overview", "waitFor": "main .page[data-page] table",
                   "click": "nav.pages a[data-page=questions]", "clickWaitFor": "main .page[data-page=questions] table",
                   "screenshot": "teams-navigated"})  # fmt: skip
    report = visit({"base": teams.bot.base, "host": host, "stubCdn": True, "viewport": {"width": 1366, "height": 768},
                    "visits": visits}, "teams-admin")  # fmt: skip

    assert_clean(report)
    for v, key in zip(report["visits"][:4], PAGES, strict=True):
        assert_page(v, key)
        assert v["localBanner"] is None  # a real sign-in: no local-mode banner
        assert_png(v["screenshot"])
    navigated = report["visits"][-1]
    assert navigated["h1"] == "問い合わせ" and navigated["tables"] >= MIN_TABLES["questions"]


def test_inside_teams_the_teams_language_and_dark_theme_are_used(teams: TeamsWorld) -> None:
    host = {"url": teams.host_url(teams.token(), locale="en-us", theme="dark")}
    report = visit({"base": teams.bot.base, "host": host, "stubCdn": True,
                    "visits": [{"path": "/dashboard/surveys", "waitFor": "main .page[data-page] table",
                                "screenshot": "teams-english"}]}, "teams-english")  # fmt: skip
    assert_clean(report)
    assert_page(report["visits"][0], "surveys", "en")
    assert "theme-dark" in report["visits"][0]["htmlClass"]
    assert_png(report["visits"][0]["screenshot"])


def test_inside_teams_a_staff_member_is_refused_with_an_explanation(teams: TeamsWorld) -> None:
    host = {"url": teams.host_url(teams.token(upn=STAFF))}
    report = visit({"base": teams.bot.base, "host": host, "stubCdn": True,
                    "visits": [{"path": "/dashboard/overview", "waitFor": "main .message.error",
                                "screenshot": "teams-staff-refused"}]}, "teams-staff")  # fmt: skip
    v = report["visits"][0]
    assert v["status"] == "403"
    assert v["h1"] == "このページはDX推進課の管理者だけが見られます"
    assert v["tables"] == 0 and v["charts"] == 0
    assert "契約検査課" not in v["mainText"]
    assert_png(v["screenshot"], 10_000)


def test_inside_teams_an_expired_token_is_refused(teams: TeamsWorld) -> None:
    now = int(time.time())
    host = {"url": teams.host_url(teams.token(exp=now - 3600, iat=now - 7200, nbf=now - 7200))}
    report = visit({"base": teams.bot.base, "host": host, "stubCdn": True,
                    "visits": [{"path": "/dashboard/overview", "waitFor": "main .message.error",
                                "screenshot": "teams-expired"}]}, "teams-expired")  # fmt: skip
    v = report["visits"][0]
    assert v["status"] == "401" and "有効期限が切れています" in v["mainText"]
    assert v["tables"] == 0


def test_opened_in_a_plain_browser_the_tab_explains_it_needs_teams(teams: TeamsWorld) -> None:
    report = visit({"base": teams.bot.base,
                    "visits": [{"path": "/dashboard/overview", "waitFor": "main .message.error",
                                "screenshot": "browser-no-token"}]}, "teams-no-token")  # fmt: skip
    v = report["visits"][0]
    assert v["httpStatus"] == 200  # the tab page itself, which holds no data
    assert v["status"] == "401"
    assert "Teams のサインイン情報(トークン)が必要です" in v["mainText"]
    assert v["tables"] == 0
    assert_png(v["screenshot"], 10_000)


def test_adding_the_dashboard_to_a_team_channel_saves_the_tab(teams: TeamsWorld) -> None:
    """Teams opens /dashboard/config when someone adds the tab to a channel; 保存 stores the tab."""
    host = {"url": teams.host_url(None, frameContext="settings")}
    report = visit({"base": teams.bot.base, "host": host, "stubCdn": True,
                    "visits": [{"path": "/dashboard/config", "waitFor": "main .page.config", "hostEval": "hostSave()",
                                "screenshot": "team-tab-config"}]}, "teams-config")  # fmt: skip
    assert_clean(report)
    v = report["visits"][0]
    assert v["h1"] == "チームにダッシュボードを追加します"
    calls = {c["func"]: c["args"] for c in v["hostLog"]}
    assert calls["settings.setValidityState"] == [True]
    saved = calls["settings.setSettings"][0]
    assert saved["contentUrl"] == f"{teams.bot.base}/dashboard" and saved["entityId"] == "dashboard"
    assert saved["suggestedDisplayName"] == "ダッシュボード"
    assert "settings.save.success" in calls
    assert "authentication.getAuthToken" not in calls  # the configuration page needs no sign-in
    assert_png(v["screenshot"], 10_000)
