"""Every web response the bot serves carries the same security headers (dialogs/kit/security_headers.py,
added by the transport): the survey results page as much as the dashboard."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from dialogs.composition import features
from dialogs.survey import links
from storage.models import SurveyRound
from tests.support import running_bot, settings_for

pytestmark = pytest.mark.asyncio


def assert_secure(headers, what: str) -> None:  # type: ignore[no-untyped-def]
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "no-referrer", what
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors" in csp and "base-uri 'none'" in csp, what


async def test_every_web_route_answers_with_the_security_headers(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        seen = 0
        for feature in features():
            for route in feature.http:
                if route.method != "GET":
                    continue
                path = re.sub(r"\{[^}]+\}", "x", route.path)
                resp = await bot.client.get(path, allow_redirects=False)
                assert resp.status < 500, (path, resp.status)
                assert_secure(resp.headers, path)
                seen += 1
    assert seen >= 10  # dashboard, survey links, announcement API and exports


async def test_the_survey_results_page_gets_the_dashboards_headers_and_its_style_still_applies(
    sqlite_url, connector
) -> None:
    from bot.services import open_services
    from dialogs.survey.demo import seed_demo as survey_seed
    from tests.survey.helpers import build_city

    settings = settings_for(sqlite_url, public_url="https://bot.example.jp")
    async with open_services(settings) as services:
        async with services.sessionmaker() as s, s.begin():
            await build_city(
                s, connector.url, date(2025, 4, 1), [("総務部", f"第{i}課", 1, 3) for i in range(1, 7)]
            )
        await survey_seed(services, True)
        async with services.sessionmaker() as s:
            latest = (await s.scalars(select(SurveyRound).order_by(SurveyRound.id.desc()))).first()
    token = links.sign(settings.secret_key, round_id=latest.id, now=datetime.now(UTC))
    async with running_bot(settings, connector) as bot:
        page = await bot.client.get(f"/survey/r/{token}")
        html = await page.text()
        assert page.status == 200
        assert_secure(page.headers, "results page")
        csp = page.headers["Content-Security-Policy"]
        assert csp.endswith("frame-ancestors 'none'") and page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Cache-Control"] == "no-store"
        # The page's one stylesheet is allowed by its hash, nothing inline beyond it.
        styles = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
        assert len(styles) == 1
        digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp and "unsafe-inline" not in csp
        for path in ("/chart/favourable.png", "/export/answers.csv", "/export/aggregates.xlsx"):
            resp = await bot.client.get(f"/survey/r/{token}{path}")
            assert resp.status == 200, path
            assert_secure(resp.headers, path)
            assert resp.headers["Cache-Control"] == "no-store", path
        gone = await bot.client.get("/survey/r/nothing.here")
        assert_secure(gone.headers, "refusal page")


async def test_the_dashboard_keeps_its_teams_framing_and_static_caching(sqlite_url, connector) -> None:
    settings = settings_for(
        sqlite_url,
        app_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        app_password="x",
        app_tenant_id="t",
        secret_key="security-header-tests-secret-key-0123456789",
    )
    async with running_bot(settings, connector) as bot:
        shell = await bot.client.get("/dashboard")
        assert_secure(shell.headers, "tab")
        assert "https://teams.microsoft.com" in shell.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in shell.headers  # Teams must be able to frame the tab
        script = re.search(r'src="(/dashboard/static/[^"]+\.js\?v=[^"]+)"', await shell.text())
        assert script is not None
        asset = await bot.client.get(script.group(1))
        assert asset.headers["Cache-Control"].startswith("public, max-age=31536000")
        assert asset.headers["X-Content-Type-Options"] == "nosniff"


async def test_what_aiohttp_answers_by_itself_carries_them_too(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        for method, path, status in (
            ("GET", "/no-such-page", 404),
            ("POST", "/healthz", 405),
            ("GET", "/healthz", 200),
        ):
            resp = await bot.client.request(method, path)
            assert resp.status == status, (method, path, resp.status)
            assert_secure(resp.headers, f"{method} {path}")
            assert resp.headers.get("Cache-Control") == "no-store", path
