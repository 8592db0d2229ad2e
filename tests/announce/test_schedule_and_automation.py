"""Scheduled sends, automatic reminders and the HTTP API."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.api import Services
from bot.connector import ConnectorMessenger
from bot.services import open_services
from dialogs import announce
from dialogs.announce.automation import create_and_send
from dialogs.announce.service import KIND, acknowledge, tick
from dialogs.engines.delivery import deliveries, use_progress_listeners
from dialogs.engines.delivery.worker import drain
from dialogs.kit.business_days import JST, add_business_days
from storage.models import Delivery
from storage.models.announce import Announcement
from tests.announce.conftest import build_city, now_utc
from tests.delivery.helpers import FAST, conv_of
from tests.support import running_bot, settings_for

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def services(db_url):
    messenger = ConnectorMessenger(timeout=5)
    async with open_services(settings_for(db_url), messenger=messenger) as svc:
        # as the composition root does: the feature's own progress listener (the author's card)
        use_progress_listeners(svc, {k: [v] for k, v in announce.feature().progress.items()})
        yield svc
    await messenger.close()


def _at(services: Services, delta: timedelta) -> Services:
    moment = services.clock() + delta
    return dataclasses.replace(services, clock=lambda: moment)


async def _create(services: Services, **data):
    request = {"title": "研修のご案内", "body": "本文です。", "audience": "all", **data}
    async with services.sessionmaker() as s, s.begin():
        ann, count, errors = await create_and_send(
            services, s, request, source="api", author_label="test", now=services.clock()
        )
    assert not errors, errors
    return ann, count


async def test_a_scheduled_send_fires_once_and_late_after_a_downtime(services, connector):
    await build_city(services, connector.url, connector)
    send_at = (now_utc() + timedelta(hours=1)).astimezone(JST).replace(tzinfo=None, second=0, microsecond=0)
    ann, count = await _create(services, send_at=send_at.isoformat())
    assert ann.state == "scheduled"
    await tick(services)  # not yet
    async with services.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Delivery)) == 0
    # The bot was down at the time; two processes come back at once and tick together.
    later = _at(services, timedelta(hours=3))
    await asyncio.gather(tick(later), tick(later))
    async with services.sessionmaker() as s:
        rows = await deliveries(s, KIND, ann.id)
        refreshed = await s.get(Announcement, ann.id)
    assert len(rows) == 5 and len({r.recipient_key for r in rows}) == 5
    assert refreshed.state == "sending" and refreshed.late
    await drain(later, config=FAST)
    for pid in (101, 102, 103):
        assert len(connector.sent_to(conv_of(pid))) == 1


async def test_automatic_reminder_goes_only_to_those_who_have_not_confirmed(services, connector):
    await build_city(services, connector.url, connector)
    deadline = add_business_days(now_utc().astimezone(JST).date(), 6)
    ann, _ = await _create(services, deadline=deadline.isoformat())
    assert ann.auto_reminder_at is not None
    assert ann.auto_reminder_at.astimezone(JST).date() == add_business_days(deadline, -2)
    await drain(services, config=FAST)
    async with services.sessionmaker() as s, s.begin():
        row = next(r for r in await deliveries(s, KIND, ann.id) if r.person_id == 101)
        result = await acknowledge(
            services,
            s,
            ann.id,
            activity_id=row.activity_id,
            conversation_id=row.conversation_id,
            person_id=101,
            aad_object_id="aad-101",
            now=services.clock(),
        )
    assert result.ok and result.first
    await tick(_at(services, timedelta(minutes=1)))  # too early: nothing
    due = _at(services, ann.auto_reminder_at - services.clock() + timedelta(minutes=1))
    await asyncio.gather(tick(due), tick(due))
    await drain(due, config=FAST)
    assert len(connector.sent_to(conv_of(101))) == 1
    for pid in (102, 103):
        sent = connector.cards_to(conv_of(pid))
        assert len(sent) == 2 and "【督促】" in str(sent[1])
    assert connector.sent_to(conv_of(104)) == []
    await tick(_at(due, timedelta(days=1)))
    await drain(_at(due, timedelta(days=1)), config=FAST)
    assert len(connector.sent_to(conv_of(102))) == 2


async def test_http_api_needs_a_key_and_says_what_is_wrong_in_japanese(sqlite_url, connector):
    settings = settings_for(sqlite_url, api_keys=["secret-key-1"])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        good = {
            "title": "AI-OCR の試行について",
            "body": "試行に参加する課を募集します。",
            "audience": {"sections": ["税務課", "総務部 人事課"]},
            "deadline": add_business_days(now_utc().astimezone(JST).date(), 3).isoformat(),
            "importance": "high",
        }
        resp = await bot.client.post("/api/v1/announcements", json=good)
        assert resp.status == 401 and "APIキー" in (await resp.json())["message"]
        wrong = {"Authorization": "Bearer nope"}
        resp = await bot.client.post("/api/v1/announcements", json=good, headers=wrong)
        assert resp.status == 401
        auth = {"Authorization": "Bearer secret-key-1"}
        resp = await bot.client.post("/api/v1/announcements", data=b"{not json", headers=auth)
        assert resp.status == 400 and (await resp.json())["message"] == "JSON として読み取れませんでした。"
        bad = {**good, "title": "", "audience": {"sections": ["存在しない課"]}}
        resp = await bot.client.post("/api/v1/announcements", json=bad, headers=auth)
        body = await resp.json()
        assert resp.status == 400 and body["message"] == "入力内容をご確認ください。"
        assert any("存在しない課" in e for e in body["errors"])
        # No audience: refused with the reason, never sent to everyone.
        everyone = {k: v for k, v in good.items() if k != "audience"}
        resp = await bot.client.post("/api/v1/announcements", json=everyone, headers=auth)
        body = await resp.json()
        assert resp.status == 400 and any("配信先" in e for e in body["errors"])
        bad = {**good, "title": "", "deadline": "2020-01-01"}
        resp = await bot.client.post("/api/v1/announcements", json=bad, headers=auth)
        errors = (await resp.json())["errors"]
        assert "件名を入力してください。" in errors and "確認期限が過去の日付になっています。" in errors
        resp = await bot.client.post("/api/v1/announcements", json=good, headers=auth)
        created = await resp.json()
        assert resp.status == 201 and created["recipients"] == 3 and created["state"] == "sending"
        await drain(bot.services, config=FAST)
        resp = await bot.client.get(f"/api/v1/announcements/{created['id']}", headers=auth)
        status = await resp.json()
        # The same document (and codes) as `dxbot announce status --json`.
        assert status["counts"] == {
            "delivered": 2,
            "pending": 0,
            "not_reachable": 1,
            "send_failed": 0,
            "cancelled": 0,
        }
        assert status["not_delivered"] == 1 and status["reasons"] == {"blocked": 1}
        resp = await bot.client.get(f"/api/v1/announcements/{created['id']}")
        assert resp.status == 401
    assert len(connector.sent_to(conv_of(102))) == 1 and len(connector.sent_to(conv_of(103))) == 1
    assert connector.sent_to(conv_of(101)) == []


async def test_http_api_idempotency_key_never_creates_a_second_announcement(sqlite_url, connector):
    settings = settings_for(sqlite_url, api_keys=["secret-key-1"])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        good = {"title": "研修のご案内", "body": "本文です。", "audience": {"sections": ["税務課"]}}
        auth = {"Authorization": "Bearer secret-key-1", "Idempotency-Key": "erp-4711"}
        first = await bot.client.post("/api/v1/announcements", json=good, headers=auth)
        created = await first.json()
        assert first.status == 201 and created["replayed"] is False
        # The caller retries (its first answer was lost), even with a changed body: the same one back.
        again = await bot.client.post(
            "/api/v1/announcements",
            json={**good, "title": "別件"},
            headers={**auth, "idempotency-key": "erp-4711"},
        )
        assert again.status == 200
        replay = await again.json()
        assert (replay["id"], replay["replayed"], replay["recipients"]) == (
            created["id"],
            True,
            created["recipients"],
        )
        other = await bot.client.post(
            "/api/v1/announcements", json=good, headers={**auth, "Idempotency-Key": "erp-4712"}
        )
        assert other.status == 201 and (await other.json())["id"] != created["id"]
        bad = await bot.client.post(
            "/api/v1/announcements", json=good, headers={**auth, "Idempotency-Key": "x" * 201}
        )
        assert bad.status == 400 and "200 文字以内" in (await bad.json())["errors"][0]
        await drain(bot.services, config=FAST)
    assert len(connector.sent_to(conv_of(103))) == 2  # one copy per announcement: two, not three


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("deadline", "10000-01-01", "deadline は 2026-04-10 のような形"),
        ("deadline", "9999-12-31", "確認期限は今日から366日以内"),
        ("deadline", "2026-02-30", "deadline は 2026-04-10 のような形"),
        ("deadline", 20260410, "deadline は 2026-04-10 のような形"),
        ("deadline", ["2026-04-10"], "deadline は 2026-04-10 のような形"),
        ("send_at", "10000-01-01T09:00", "send_at は 2026-04-01T09:00 のような形"),
        ("send_at", "9999-12-31T23:00-05:00", "send_at は 2026-04-01T09:00 のような形"),
        ("send_at", "9999-12-31T09:00", "送信日は今日から366日以内"),
        ("send_at", "2026-13-01T09:00", "send_at は 2026-04-01T09:00 のような形"),
        ("send_at", 1775000000, "send_at は 2026-04-01T09:00 のような形"),
        ("to_channel", "はい", "to_channel は true か false"),
        ("ack_required", {"yes": 1}, "ack_required は true か false"),
        ("importance", ["high"], 'importance は "high" か "normal"'),
        ("links", [{"title": 1, "url": ["x"]}], "links は"),
    ],
)
async def test_http_api_answers_bad_fields_with_400_naming_the_field(
    sqlite_url, connector, field, value, words
):
    settings = settings_for(sqlite_url, api_keys=["secret-key-1"])
    async with running_bot(settings, connector) as bot:
        await build_city(bot.services, connector.url, connector)
        good = {"title": "研修のご案内", "body": "本文です。", "audience": "all"}
        auth = {"Authorization": "Bearer secret-key-1"}
        resp = await bot.client.post("/api/v1/announcements", json={**good, field: value}, headers=auth)
        body = await resp.json()
        assert resp.status == 400, body
        assert any(words in e for e in body["errors"]), body["errors"]
        async with bot.services.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Announcement)) == 0


async def test_http_api_survives_json_nested_too_deep(sqlite_url, connector):
    settings = settings_for(sqlite_url, api_keys=["secret-key-1"])
    async with running_bot(settings, connector) as bot:
        resp = await bot.client.post(
            "/api/v1/announcements",
            data=b"[" * 100_000 + b"]" * 100_000,
            headers={"Authorization": "Bearer secret-key-1", "Content-Type": "application/json"},
        )
        assert resp.status == 400 and "JSON" in (await resp.json())["message"]
