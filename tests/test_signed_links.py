"""Signed links and the sign-in cookie: whatever comes back from a browser is a Japanese 400/403 page
(or no session), never a 500. One checker serves them all (dialogs/kit/signing.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from dialogs.kit.signing import Malformed, Signer, b64decode, digits
from dialogs.survey import links
from tests.support import running_bot, settings_for

# Pieces of a link as they arrive after a bad copy, a mail gateway or a curious visitor.
NON_ASCII = "署名ｓｉｇ"
BAD_B64 = "!!!!$$$$"
SHORT = "abc"
HUGE = "A" * 5000


def test_the_checker_answers_malformed_for_anything_that_cannot_be_a_signature() -> None:
    signer = Signer(b"key")
    good = signer.sign("message")
    assert signer.verify("message", good) and not signer.verify("other", good)
    for given in (NON_ASCII, BAD_B64, SHORT, HUGE, good + "=", None, 12):
        with pytest.raises(Malformed):
            signer.verify("message", given)
    for raw in ("²", "１２", "-5", " 12", "1_000", "9" * 40, ""):
        with pytest.raises(Malformed):
            digits(raw)
    for text in ("あ", "ab=", "a", HUGE):
        with pytest.raises(Malformed):
            b64decode(text, max_chars=200)


@pytest.mark.asyncio
async def test_broken_survey_links_get_a_japanese_400_page(sqlite_url, connector) -> None:
    settings = settings_for(sqlite_url, public_url="https://bot.example.jp")
    token = links.sign(settings.secret_key, round_id=1, now=datetime.now(UTC))
    body, mac = token.split(".")
    broken = [
        f"{body}.{NON_ASCII}",
        f"{NON_ASCII}.{mac}",
        f"{BAD_B64}.{mac}",
        f"{body}.{SHORT}",
        f"{body}.{mac}{HUGE}",
        f"{body}==.{mac}",
        "no-dot-at-all",
    ]
    async with running_bot(settings, connector) as bot:
        for token in broken:
            for path in ("", "/chart/favourable.png", "/export/answers.csv"):
                resp = await bot.client.get(f"/survey/r/{quote(token, safe='.')}{path}")
                text = await resp.text()
                assert resp.status == 400, (token[:40], path, resp.status, text[:200])
                assert "リンクは途中で切れているか" in text and resp.content_type == "text/html"


@pytest.mark.asyncio
async def test_broken_dashboard_csv_links_get_a_japanese_400_page(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url, app_id=""), connector) as bot:
        for sig, exp in (
            (NON_ASCII, "9999999999"),
            (BAD_B64, "9999999999"),
            (SHORT, "9999999999"),
            (HUGE, "9999999999"),
            ("A" * 43, "²"),
            ("A" * 43, "１２３"),
            ("A" * 43, "9" * 400),
        ):
            query = f"u=x%40example.jp&exp={quote(exp)}&sig={quote(sig)}"
            resp = await bot.client.get(f"/dashboard/csv/overview/sections.csv?{query}")
            text = await resp.text()
            assert resp.status == 400, (sig[:20], exp[:20], resp.status, text[:200])
            assert "リンクの形が崩れています" in text


@pytest.mark.asyncio
async def test_a_mangled_sign_in_cookie_is_no_session(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url, app_id=""), connector) as bot:
        for value in (f"eA.9999999999.{NON_ASCII}", f"{NON_ASCII}.9999999999.{'A' * 43}", f"eA.².{HUGE}"):
            resp = await bot.client.get(
                "/dashboard/overview", headers={"Cookie": f"dxdash={value}"}, allow_redirects=False
            )
            assert resp.status == 303 and resp.headers["Location"].startswith("/dashboard/login"), value[:30]


@pytest.mark.asyncio
async def test_broken_announcement_export_links_get_a_japanese_page(sqlite_url, connector) -> None:
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        for id_, exp, sig, status in (
            ("1", "9999999999", NON_ASCII, 400),
            ("1", "9999999999", "z" * 40, 400),
            ("1", "9999999999", SHORT, 400),
            ("1", "²", "a" * 40, 400),
            ("1", "9" * 400, "a" * 40, 400),
            ("9" * 30, "9999999999", "a" * 40, 400),
            ("1", "9999999999", "a" * 40, 403),  # well formed, not ours
        ):
            resp = await bot.client.get(
                f"/api/v1/announcements/{id_}/export.csv?exp={quote(exp)}&sig={quote(sig)}"
            )
            text = await resp.text()
            assert resp.status == status, (id_[:12], exp[:12], sig[:12], resp.status, text[:200])
            assert "お知らせのカード" in text and resp.content_type == "text/html"
        key = {"Authorization": "Bearer k1"}
        async with running_bot(settings_for(sqlite_url, api_keys=["k1"]), connector) as keyed:
            resp = await keyed.client.get(f"/api/v1/announcements/{'9' * 30}", headers=key)
            assert resp.status == 404 and "見つかりません" in (await resp.json())["message"]
