"""Local mode (no MicrosoftAppId): a plain sign-in by picking an admin stands in for Teams SSO, and
every page says clearly that it runs in local mode."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from tests.dashboard.conftest import (
    ADMIN_EMAIL,
    STAFF_EMAIL,
    FakeEntra,
    bearer,
    dashboard_app,
    form_token,
    local_settings,
)
from tests.dashboard.pagetext import Page


async def sign_in(
    client: TestClient, email: str = ADMIN_EMAIL, password: str = "", next_url: str = "/dashboard"
):  # type: ignore[no-untyped-def]
    return await client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "next": next_url, "csrf": await form_token(client)},
        allow_redirects=False,
    )


async def test_a_visitor_is_sent_to_the_sign_in_which_offers_only_admins(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        resp = await client.get("/dashboard/surveys?survey=1", allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"] == "/dashboard/login?next=%2Fdashboard%2Fsurveys%3Fsurvey%3D1"

        page = Page.parse(await (await client.get(resp.headers["Location"])).text())
        assert page.h1 == "ローカルモードのサインイン"
        assert "ローカルモード" in page.text and "Teams の認証を使わずに動いています" in page.text
        options = [v for tag, name, v in page.attributes if tag == "option" and name == "value"]
        assert ADMIN_EMAIL in options
        assert STAFF_EMAIL not in options and "leader@demo-city.example.jp" not in options


async def test_signing_in_as_an_admin_opens_the_page_asked_for(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        resp = await sign_in(client, next_url="/dashboard/questions?days=30")
        assert resp.status == 303
        assert resp.headers["Location"] == "/dashboard/questions?days=30"
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie

        page = Page.parse(await (await client.get("/dashboard/questions?days=30")).text())
        assert page.h1 == "問い合わせ"
        assert "ローカルモード" in page.text  # marked on every page, not only the sign-in
        assert "佐藤 花子 さん" in page.text
        assert page.table("よく聞かれる質問").rows


async def test_someone_who_is_not_an_admin_cannot_sign_in(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        resp = await sign_in(client, email=STAFF_EMAIL)
        assert resp.status == 400
        assert "dxdash=" not in resp.headers.get("Set-Cookie", "")  # no session (a fresh form token only)
        assert "管理者として登録されていません" in await resp.text()
        assert (await client.get("/dashboard/overview", allow_redirects=False)).status == 303


async def test_the_local_password_is_required_when_set(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url, dashboard_local_password="midori-2026")) as client:
        form = await (await client.get("/dashboard/login")).text()
        assert 'type="password"' in form
        wrong = await sign_in(client, password="guess")
        assert wrong.status == 400 and "パスワードが違います" in await wrong.text()
        assert (await client.get("/dashboard/overview", allow_redirects=False)).status == 303
        right = await sign_in(client, password="midori-2026")
        assert right.status == 303
        assert (await client.get("/dashboard/overview")).status == 200


async def test_a_forged_or_expired_cookie_is_not_a_session(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        resp = await sign_in(client)
        value = resp.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
        email_part, expires, sig = value.split(".")
        for forged in (f"{email_part}.{int(expires) + 3600}.{sig}", f"{email_part}.1000.{sig}", "x.y.z"):
            client.session.cookie_jar.clear()
            resp = await client.get(
                "/dashboard/overview", headers={"Cookie": f"dxdash={forged}"}, allow_redirects=False
            )
            assert resp.status == 303, forged


async def test_signing_out_ends_the_session(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        await sign_in(client)
        assert (await client.get("/dashboard/overview")).status == 200
        resp = await client.post("/dashboard/logout", allow_redirects=False)
        assert resp.status == 303 and "Max-Age=0" in resp.headers["Set-Cookie"]
        assert (await client.get("/dashboard/overview", allow_redirects=False)).status == 303


async def test_the_next_address_never_leaves_the_dashboard(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        for target in ("//evil.example.jp/", "https://evil.example.jp/", "/api/messages"):
            resp = await sign_in(client, next_url=target)
            assert resp.headers["Location"] == "/dashboard", target


async def test_a_bearer_token_means_nothing_in_local_mode(demo_url: str, entra: FakeEntra) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        resp = await client.get("/dashboard/view/overview", headers=bearer(entra.token()))
        assert resp.status == 401
        assert "推進員に連絡できない課" not in await resp.text()


async def test_there_is_no_local_sign_in_inside_teams(demo_url: str, entra: FakeEntra) -> None:
    from tests.dashboard.conftest import teams_settings

    async with dashboard_app(teams_settings(demo_url, entra)) as client:
        assert (await client.get("/dashboard/login")).status == 404
        assert (await sign_in(client)).status == 404


async def test_a_sign_in_posted_from_another_page_is_refused(demo_url: str) -> None:
    async with dashboard_app(local_settings(demo_url)) as client:
        for token in ("", "forged.token", "署名"):
            resp = await client.post(
                "/dashboard/login", data={"email": ADMIN_EMAIL, "csrf": token}, allow_redirects=False
            )
            assert resp.status == 400, token
            assert "別のページから送られました" in await resp.text()
            assert "dxdash=" not in resp.headers.get("Set-Cookie", "")
        # The token of one browser's form does not work from another browser (no matching cookie).
        token = await form_token(client)
        client.session.cookie_jar.clear()
        resp = await client.post(
            "/dashboard/login", data={"email": ADMIN_EMAIL, "csrf": token}, allow_redirects=False
        )
        assert resp.status == 400
        assert (await sign_in(client)).status == 303  # the form itself works


async def test_wrong_passwords_are_limited_per_address_with_the_wait_in_japanese(demo_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.app import create_app

    now = [datetime(2026, 4, 1, 9, 0, tzinfo=UTC)]
    app = create_app(local_settings(demo_url, dashboard_local_password="midori-2026"), clock=lambda: now[0])
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        for _ in range(5):
            assert (await sign_in(client, password="guess")).status == 400
        now[0] += timedelta(seconds=20)
        blocked = await sign_in(client, password="midori-2026")  # even the right one waits
        text = await blocked.text()
        assert blocked.status == 429 and blocked.headers["Retry-After"] == "40"
        assert "40秒ほど待ってから" in text and "dxdash=" not in blocked.headers.get("Set-Cookie", "")
        now[0] += timedelta(seconds=41)
        assert (await sign_in(client, password="midori-2026")).status == 303
    finally:
        await client.close()


def test_the_overall_limit_holds_across_addresses() -> None:
    from dialogs.dashboard.signin import OVERALL, PER_CLIENT, Limiter

    limits = Limiter()
    for i in range(OVERALL):
        address = f"10.0.0.{i // PER_CLIENT}"
        assert limits.wait(address, 100.0 + i) == 0
        limits.failed(address, 100.0 + i)
    assert limits.wait("10.9.9.9", 100.0 + OVERALL) > 0  # a new address waits too
    assert limits.wait("10.9.9.9", 100.0 + 60 + OVERALL) == 0
