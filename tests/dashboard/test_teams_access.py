"""Inside Teams the dashboard answers only to a valid Entra ID token of a DX admin.

Every request goes through the real app and HTTP path; the tokens are signed with our own RSA key,
whose public half a local fake Entra ID publishes (OpenID metadata + JWKS).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import select, update

from bot.settings import InsecureSettings
from storage.db import make_engine, make_sessionmaker
from storage.models import TeamsAccount
from storage.models.roster import DivisionRole, Person
from tests.dashboard.conftest import (
    ADMIN_EMAIL,
    APP_ID,
    AUDIENCE,
    LEADER_EMAIL,
    OTHER_TENANT,
    STAFF_EMAIL,
    TENANT,
    FakeEntra,
    bearer,
    dashboard_app,
    new_key,
    teams_settings,
)

SECTION_NAME = "契約検査課"  # a section of the demo city: it must not leak into a refusal


async def _get(settings, path: str, token: str | None = None):  # type: ignore[no-untyped-def]
    async with dashboard_app(settings) as client:
        resp = await client.get(path, headers=bearer(token) if token else None)
        return resp.status, await resp.text(), dict(resp.headers)


async def test_an_admins_token_shows_the_overview_with_data(demo_url: str, entra: FakeEntra) -> None:
    status, body, headers = await _get(
        teams_settings(demo_url, entra), "/dashboard/view/overview", entra.token()
    )

    assert status == 200, body[:500]
    assert "推進員に連絡できない課" in body
    assert SECTION_NAME in body
    assert "佐藤 花子 さん" in body  # who is signed in
    assert "ローカルモード" not in body
    assert headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'self' https://teams.microsoft.com" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("case", "status", "says"),
    [
        ("no token", 401, "Teams のサインイン情報(トークン)が必要です"),
        ("expired", 401, "有効期限が切れています"),
        ("another audience", 401, "このアプリ(DX推進ボット)あてに発行されたものではありません"),
        ("another tenant", 401, "この組織(テナント)からの利用は許可されていません"),
        ("issuer of another tenant", 401, "発行元が、許可された組織と一致しません"),
        ("signed with another key", 401, "署名または内容が正しくありません"),
        ("unknown key id", 401, "公開鍵で確認できませんでした"),
        ("HS256 with the public key", 401, "署名方式が正しくありません"),
        ("not a JWT", 401, "形式が正しくありません"),
        ("staff member", 403, "DX推進課の管理者だけが見られます"),
        ("promoter", 403, "DX推進課の管理者だけが見られます"),
        ("unknown person", 403, "管理者として登録されていません"),
    ],
)
async def test_refusals_explain_in_japanese_and_show_no_data(
    demo_url: str, entra: FakeEntra, case: str, status: int, says: str
) -> None:
    now = int(time.time())
    token = {
        "no token": None,
        "expired": entra.token(iat=now - 7200, nbf=now - 7200, exp=now - 3600),
        "another audience": entra.token(
            aud="api://elsewhere.example.jp/botid-00000000-0000-0000-0000-000000000001"
        ),
        "another tenant": entra.token(tid=OTHER_TENANT),
        "issuer of another tenant": entra.token(iss=f"https://sts.windows.net/{OTHER_TENANT}/"),
        "signed with another key": entra.token(key=new_key()),
        "unknown key id": entra.token(kid="nobody-knows-this-kid"),
        "HS256 with the public key": _hs256_with_public_key(entra),
        "not a JWT": "this-is-not-a-token",
        "staff member": entra.token(upn=STAFF_EMAIL, name="田中 次郎"),
        "promoter": entra.token(upn=LEADER_EMAIL, name="鈴木 一郎"),
        "unknown person": entra.token(upn="someone@elsewhere.example.jp"),
    }[case]
    got, body, headers = await _get(teams_settings(demo_url, entra), "/dashboard/view/overview", token)

    assert got == status, body[:600]
    assert says in body
    assert '<html lang="ja"' in body
    assert SECTION_NAME not in body and "推進員に連絡できない課" not in body  # nothing of the network leaks
    if status == 401:
        assert headers["WWW-Authenticate"].startswith('Bearer realm="dxbot-dashboard"')


def _hs256_with_public_key(entra: FakeEntra) -> str:
    """The classic algorithm-confusion attack: an HMAC token keyed with the (public) RSA key."""
    import base64
    import hashlib
    import hmac
    import json

    from cryptography.hazmat.primitives import serialization

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    pem = entra.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "kid": entra.kid, "typ": "JWT"}).encode())
    claims = {
        "aud": AUDIENCE,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "tid": TENANT,
        "exp": now + 600,
        "upn": ADMIN_EMAIL,
    }
    payload = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


async def _sato_account(demo_url: str, oid: str, tenant: str = TENANT) -> None:
    """The Teams account (tenant, object id) the bot linked to the admin 佐藤 花子."""
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        admin_id = await s.scalar(select(Person.id).where(Person.email == ADMIN_EMAIL))
        s.add(TeamsAccount(aad_object_id=oid, user_id="29:sato", name="佐藤 花子", email=ADMIN_EMAIL,
                           tenant_id=tenant, person_id=admin_id))  # fmt: skip
    await engine.dispose()


async def test_a_v2_token_for_the_app_id_is_accepted(demo_url: str, entra: FakeEntra) -> None:
    """A v2 token carries no ``upn``: its tenant and object id name the admin's Teams account."""
    await _sato_account(demo_url, "aad-of-sato")
    token = entra.token(aud=APP_ID, iss=f"https://login.microsoftonline.com/{TENANT}/v2.0", ver="2.0",
                        oid="aad-of-sato", upn=None, preferred_username=ADMIN_EMAIL)  # fmt: skip
    status, body, _ = await _get(teams_settings(demo_url, entra), "/dashboard/view/questions", token)
    assert status == 200, body[:400]
    assert "よく聞かれる質問" in body


async def test_preferred_username_or_email_alone_is_no_admin(demo_url: str, entra: FakeEntra) -> None:
    """``preferred_username`` and ``email`` are whatever the account shows; they never name a person."""
    await _sato_account(demo_url, "aad-of-sato")
    for claims in ({"preferred_username": ADMIN_EMAIL}, {"email": ADMIN_EMAIL, "unique_name": ADMIN_EMAIL}):
        token = entra.token(aud=APP_ID, iss=f"https://login.microsoftonline.com/{TENANT}/v2.0", ver="2.0",
                            oid="aad-of-someone-else", upn=None, **claims)  # fmt: skip
        status, body, _ = await _get(teams_settings(demo_url, entra), "/dashboard/view/overview", token)
        assert status == 403, claims
        assert SECTION_NAME not in body


async def test_the_same_object_id_in_another_tenant_is_not_the_admin(demo_url: str, entra: FakeEntra) -> None:
    """The account is (tid, oid): the admin's object id from a second allowed tenant is someone else."""
    await _sato_account(demo_url, "aad-of-sato")
    settings = teams_settings(demo_url, entra, allowed_tenants=[TENANT, OTHER_TENANT])
    token = entra.token(tid=OTHER_TENANT, oid="aad-of-sato", upn=None)
    status, body, _ = await _get(settings, "/dashboard/view/overview", token)
    assert status == 403 and SECTION_NAME not in body
    # … while the admin's own tenant and object id, with no upn at all, is her.
    status, body, _ = await _get(
        settings, "/dashboard/view/overview", entra.token(oid="aad-of-sato", upn=None)
    )
    assert status == 200 and "佐藤 花子 さん" in body


async def test_a_linked_account_stays_with_its_person_whatever_the_token_says(
    demo_url: str, entra: FakeEntra
) -> None:
    """The staff member's account is linked to staff: a token for it naming the admin's UPN is refused."""
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        staff_id = await s.scalar(select(Person.id).where(Person.email == STAFF_EMAIL))
        s.add(TeamsAccount(aad_object_id="aad-of-staff", user_id="29:st", name="田中 次郎", email=STAFF_EMAIL,
                           tenant_id=TENANT, person_id=staff_id))  # fmt: skip
    await engine.dispose()
    token = entra.token(oid="aad-of-staff", upn=ADMIN_EMAIL)
    status, body, _ = await _get(teams_settings(demo_url, entra), "/dashboard/view/overview", token)
    assert status == 403 and SECTION_NAME not in body


async def test_the_person_is_found_through_their_teams_account(demo_url: str, entra: FakeEntra) -> None:
    """A token without a usable email (guest-style UPN) still works when its object id is the admin's
    Teams account, which the bot linked to the roster person."""
    engine = make_engine(demo_url)
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        admin_id = await s.scalar(select(Person.id).where(Person.email == ADMIN_EMAIL))
        s.add(TeamsAccount(aad_object_id="aad-of-sato", user_id="29:sato", name="佐藤 花子", email=None,
                           tenant_id=TENANT, person_id=admin_id))  # fmt: skip
    await engine.dispose()
    token = entra.token(oid="aad-of-sato", upn="hanako_sato#EXT#@other.onmicrosoft.example")
    status, body, _ = await _get(teams_settings(demo_url, entra), "/dashboard/view/overview", token)
    assert status == 200, body[:400]
    assert "佐藤 花子 さん" in body


async def test_an_admin_whose_role_was_revoked_is_refused(demo_url: str, entra: FakeEntra) -> None:
    engine = make_engine(demo_url)
    async with make_sessionmaker(engine)() as s, s.begin():
        admin_id = await s.scalar(select(Person.id).where(Person.email == ADMIN_EMAIL))
        await s.execute(
            update(DivisionRole)
            .where(DivisionRole.person_id == admin_id)
            .values(revoked_at=datetime.now(UTC))
        )
    await engine.dispose()
    status, body, _ = await _get(teams_settings(demo_url, entra), "/dashboard/view/overview", entra.token())
    assert status == 403
    # … and DXBOT_ADMINS alone still lets her in
    status, _, _ = await _get(
        teams_settings(demo_url, entra, admins=[ADMIN_EMAIL]), "/dashboard/view/overview", entra.token()
    )
    assert status == 200


async def test_signing_keys_are_fetched_once_and_cached_until_rotated(
    demo_url: str, entra: FakeEntra
) -> None:
    from bot.app import SERVICES
    from dialogs.dashboard.tokens import EXTRAS_KEY, REFETCH_GAP

    async with dashboard_app(teams_settings(demo_url, entra)) as client:
        for page in ("overview", "questions", "overview"):
            resp = await client.get(f"/dashboard/view/{page}", headers=bearer(entra.token()))
            assert resp.status == 200
        assert entra.hits == {"metadata": 1, "keys": 1}

        # Entra ID rotates its key. Right after a fetch, tokens naming an unknown key are refused
        # without asking again (a forged key id must not make every request call Entra ID) …
        entra.key, entra.kid = new_key(), "rotated-key"
        for _ in range(3):
            resp = await client.get("/dashboard/view/overview", headers=bearer(entra.token()))
            assert resp.status == 401
        assert entra.hits["keys"] == 1
        # … and once the short gap has passed, one refetch finds the new key.
        keys = client.server.app[SERVICES].extras[EXTRAS_KEY]
        keys.fetched_at -= REFETCH_GAP + 1
        for _ in range(3):
            resp = await client.get("/dashboard/view/overview", headers=bearer(entra.token()))
            assert resp.status == 200
        assert entra.hits["keys"] == 2


async def test_when_entra_id_cannot_be_reached_the_page_says_so(demo_url: str, entra: FakeEntra) -> None:
    entra.down = True
    status, body, _ = await _get(teams_settings(demo_url, entra), "/dashboard/view/overview", entra.token())
    assert status == 503
    assert "公開鍵を取得できませんでした" in body


async def test_without_an_allowed_tenant_nothing_is_accepted(demo_url: str, entra: FakeEntra) -> None:
    # the bot does not even start (bot/settings.py Settings.problems)
    settings = teams_settings(demo_url, entra, allowed_tenants=[], app_tenant_id="", app_type="MultiTenant")
    with pytest.raises(InsecureSettings, match="DXBOT_ALLOWED_TENANTS"):
        await _get(settings, "/dashboard/view/overview", entra.token())
    # a single-tenant app's own tenant is enough
    settings = teams_settings(demo_url, entra, allowed_tenants=[], app_tenant_id=TENANT)
    status, _, _ = await _get(settings, "/dashboard/view/overview", entra.token())
    assert status == 200


async def test_the_tab_page_itself_holds_no_data_and_loads_the_script(
    demo_url: str, entra: FakeEntra
) -> None:
    status, body, headers = await _get(teams_settings(demo_url, entra), "/dashboard")
    assert status == 200
    assert SECTION_NAME not in body and "推進員" not in body.split("<main", 1)[1]
    assert 'data-mode="teams"' in body
    assert "/dashboard/static/dashboard.js?v=" in body
    assert "/dashboard/static/vendor/teams-js/MicrosoftTeams.min.js?v=" in body
    assert "connect-src 'self' https://res.cdn.office.net" in headers["Content-Security-Policy"]


async def test_csv_links_on_the_page_work_without_the_token_only_as_signed(
    demo_url: str, entra: FakeEntra
) -> None:
    import re

    async with dashboard_app(teams_settings(demo_url, entra)) as client:
        page = await (await client.get("/dashboard/view/overview", headers=bearer(entra.token()))).text()
        links = [h.replace("&amp;", "&") for h in re.findall(r'class="csv" href="([^"]+)"', page)]
        assert len(links) == 3
        link = next(h for h in links if "/unreachable.csv" in h)

        resp = await client.get(link)  # no Authorization header: the signature is the credential
        body = await resp.read()
        assert resp.status == 200, body[:300]
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert body.startswith("\ufeff".encode())
        assert SECTION_NAME in body.decode("utf-8")

        parts = urlsplit(link)
        query = dict(parse_qsl(parts.query))
        tampered = {**query, "u": STAFF_EMAIL}
        resp = await client.get(f"{parts.path}?{urlencode(tampered)}")
        assert resp.status == 401
        assert SECTION_NAME not in await resp.text()
        other_table = link.replace("/unreachable.csv", "/sections.csv")
        assert (await client.get(other_table)).status == 401  # a signature covers one table only
        expired = {**query, "exp": str(int(time.time()) - 10)}
        assert (await client.get(f"{parts.path}?{urlencode(expired)}")).status == 401
        assert (await client.get(parts.path)).status == 401  # neither token nor signature
