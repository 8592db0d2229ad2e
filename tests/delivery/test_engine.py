"""The delivery engine against the fake Bot Connector, on SQLite and PostgreSQL: limits, faults,
unreachable recipients, edits and recalls, schedules, crashes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.api import Address, Message
from dialogs.engines.delivery import (
    DeliveryItem,
    DeliveryState,
    Recipient,
    counts,
    delete_delivered,
    deliveries,
    enqueue,
    find_by_activity,
    retry_failed,
    update_delivered,
    use_progress_listeners,
)
from dialogs.engines.delivery.worker import Worker, drain
from storage.models import ConversationRef
from tests.delivery.helpers import FAST, add_channel, add_chat, add_people, add_person, conv_of
from tests.fakes.connector import Fault

pytestmark = pytest.mark.asyncio


def _items(people: list[int], text: str = "お知らせです") -> list[DeliveryItem]:
    return [DeliveryItem(Recipient(person_id=p), Message(text=text)) for p in people]


def _successful_posts(connector) -> Counter[str]:
    return Counter(c.conversation_id for c in connector.posts())


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_enqueue_is_idempotent_per_recipient_and_purpose(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 6))
    async with services.sessionmaker() as s, s.begin():
        assert await enqueue(s, "announcement", 1, _items(people)) == 5
        assert await enqueue(s, "announcement", 1, _items(people)) == 0
        assert await enqueue(s, "announcement", 1, _items(people[:2]) * 2) == 0
        reminder = [
            DeliveryItem(Recipient(person_id=p), Message(text="督促"), purpose="reminder-1") for p in people
        ]
        assert await enqueue(s, "announcement", 1, reminder) == 5
        assert (await counts(s, "announcement", 1)).total == 5
        assert (await counts(s, "announcement", 1, purposes=None)).total == 10


async def test_everything_delivered_once_despite_429_500_and_timeouts(services, connector):
    connector.app_rate = 40
    connector.faults += [
        Fault(status=429, retry_after=0.3, times=4),
        Fault(status=500, times=3),
        Fault(status=503, times=2),
        Fault(status=0, delay=2.0, times=2),  # hangs past the send timeout
    ]
    connector.fault_ratio = {429: 0.05, 502: 0.03}
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 81))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 7, _items(people))
    worker = await drain(services, config=dataclasses.replace(FAST, rate=30))
    posts = _successful_posts(connector)
    # A timed-out call may still have landed at the connector; everything else exactly once.
    assert set(posts) == {conv_of(p) for p in people}
    assert sum(n - 1 for n in posts.values()) <= 2
    assert worker.stats["retried"] >= 9
    async with services.sessionmaker() as s:
        c = await counts(s, "announcement", 7)
        rows = await deliveries(s, "announcement", 7)
    assert (c.delivered, c.failed, c.unreachable, c.pending) == (80, 0, 0, 0)
    # The recorded activity id is the message the recipient has.
    for row in rows:
        assert connector.activities[row.activity_id]["text"] == "お知らせです"
        assert row.conversation_id == conv_of(row.person_id)


async def test_app_and_conversation_rates_are_respected(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 41))
        channel = await add_channel(s, connector.url)
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
        await enqueue(
            s,
            "qa",
            1,
            [
                DeliveryItem(Recipient(conversation_id=channel), Message(text=f"{i}"), purpose=f"n{i}")
                for i in range(16)
            ],
        )
    await drain(services, config=dataclasses.replace(FAST, rate=20, concurrency=8))
    ok = [c for c in connector.calls if c.status < 300]
    assert len(ok) == 56
    assert _max_in_window([c.at for c in ok]) <= 21  # one call of slack for timer granularity
    into_channel = [c.at for c in ok if c.conversation_id == channel]
    assert len(into_channel) == 16
    assert _max_in_window(into_channel) <= 7
    assert not [c for c in connector.calls if c.status == 429]


async def test_retry_after_is_honoured(services, connector):
    connector.faults.append(Fault(status=429, retry_after=1.0, times=1, conversation_id=conv_of(1)))
    async with services.sessionmaker() as s, s.begin():
        await add_people(s, connector.url, [1])
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items([1]))
    await drain(services, config=FAST)
    tries = [c for c in connector.calls if c.conversation_id == conv_of(1)]
    assert [c.status for c in tries] == [429, 201]
    assert tries[1].at - tries[0].at >= 0.95


async def test_attempts_are_bounded_and_the_reason_kept(services, connector):
    connector.faults.append(Fault(status=500, times=100, conversation_id=conv_of(2)))
    connector.faults.append(Fault(status=400, times=100, conversation_id=conv_of(3)))
    async with services.sessionmaker() as s, s.begin():
        await add_people(s, connector.url, [1, 2, 3])
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items([1, 2, 3]))
    await drain(services, config=dataclasses.replace(FAST, max_attempts=4))
    async with services.sessionmaker() as s:
        rows = {r.person_id: r for r in await deliveries(s, "announcement", 1)}
    assert rows[1].state == DeliveryState.DELIVERED
    assert (rows[2].state, rows[2].error, rows[2].attempts) == (DeliveryState.FAILED, "http_500", 4)
    assert (rows[3].state, rows[3].error, rows[3].attempts) == (DeliveryState.FAILED, "http_400", 1)
    assert len([c for c in connector.calls if c.conversation_id == conv_of(2)]) == 4


async def test_unreachable_recipients_are_reported_with_reasons(services, connector):
    async with services.sessionmaker() as s, s.begin():
        await add_people(s, connector.url, range(1, 6))
        await add_people(s, connector.url, [6], with_chat=False)  # never opened the bot
        await add_person(s, 7)  # no Teams account at all
    connector.blocked.add(conv_of(1))
    connector.gone.update({conv_of(2), conv_of(3)})
    connector.refuse_create.add("29:u3")
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items([1, 2, 3, 4, 5, 6, 7]))
    await drain(services, config=FAST)
    async with services.sessionmaker() as s:
        rows = {r.person_id: r for r in await deliveries(s, "announcement", 1)}
        refs = {r.conversation_id: r for r in (await s.scalars(select(ConversationRef))).all()}
    assert (rows[1].state, rows[1].error) == (DeliveryState.UNREACHABLE, "blocked")
    assert refs[conv_of(1)].reachable is False and refs[conv_of(1)].unreachable_reason == "blocked"
    # 2: the chat was gone but the user is known: a new chat was opened once and the message went there.
    assert rows[2].state == DeliveryState.DELIVERED and rows[2].recreated
    assert rows[2].conversation_id != conv_of(2) and refs[rows[2].conversation_id].reachable
    assert refs[conv_of(2)].reachable is False
    # 3: gone, and re-creating was refused: uninstalled.
    assert (rows[3].state, rows[3].error) == (DeliveryState.UNREACHABLE, "uninstalled")
    assert rows[4].state == rows[5].state == DeliveryState.DELIVERED
    assert (rows[6].state, rows[6].error) == (DeliveryState.UNREACHABLE, "no_conversation")
    assert (rows[7].state, rows[7].error) == (DeliveryState.UNREACHABLE, "no_account")
    assert not connector.sent_to(conv_of(1))
    # The next send to someone who blocked the bot does not even try.
    calls_before = len(connector.calls)
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 2, _items([1]))
    await drain(services, config=FAST)
    assert len(connector.calls) == calls_before
    # 失敗分を再送: once person 6 opens the bot, a retry reaches them.
    async with services.sessionmaker() as s, s.begin():
        await add_chat(s, connector.url, conv_of(6), user_id="29:u6", aad_object_id="aad-6")
    async with services.sessionmaker() as s, s.begin():
        assert await retry_failed(s, "announcement", 1) == 4
    await drain(services, config=FAST)
    async with services.sessionmaker() as s:
        rows = {r.person_id: r for r in await deliveries(s, "announcement", 1)}
    assert rows[6].state == DeliveryState.DELIVERED
    assert len(connector.sent_to(conv_of(6))) == 1
    assert len(connector.sent_to(rows[2].conversation_id)) == 1


async def test_edit_and_recall_reach_every_delivered_copy(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 13))
        channel = await add_channel(s, connector.url)
    connector.fault_ratio = {429: 0.1}
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 3, _items(people, "版1"))
        await enqueue(
            s,
            "announcement",
            3,
            [DeliveryItem(Recipient(conversation_id=channel), Message(text="版1"), "channel")],
        )
        await enqueue(
            s,
            "announcement",
            3,
            [DeliveryItem(Recipient(person_id=p), Message(text="督促1"), "reminder-1") for p in people[:4]],
        )
    await drain(services, config=FAST)
    assert len(connector.activities) == 12 + 1 + 4

    def edited(row):
        return Message(text="版2" if row.purpose != "reminder-1" else "督促2")

    async with services.sessionmaker() as s, s.begin():
        assert await update_delivered(s, "announcement", 3, edited, revision="edit-1") == 17
        assert await update_delivered(s, "announcement", 3, edited, revision="edit-1") == 17  # harmless again
    await drain(services, config=FAST)
    texts = Counter(a["text"] for a in connector.activities.values())
    assert texts == {"版2": 13, "督促2": 4}
    puts = [c for c in connector.calls if c.method == "PUT" and c.status == 200]
    assert len(puts) == 17  # the same revision twice made no second round
    async with services.sessionmaker() as s, s.begin():
        await delete_delivered(s, "announcement", 3)
    await drain(services, config=FAST)
    assert connector.activities == {}


async def test_edit_while_sending_ends_with_the_new_text_everywhere(services, connector):
    connector.latency = 0.05
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 31))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 4, _items(people, "旧"))
    stop = asyncio.Event()
    worker = Worker(services, dataclasses.replace(FAST, rate=40))
    task = asyncio.create_task(worker.run(stop))
    for _ in range(500):
        if len(connector.posts()) >= 10:
            break
        await asyncio.sleep(0.02)
    async with services.sessionmaker() as s, s.begin():
        await update_delivered(s, "announcement", 4, lambda r: Message(text="新"), revision="edit-1")
    stop.set()
    await task
    await drain(services, config=FAST)
    assert len(connector.posts()) == 30
    assert {a["text"] for a in connector.activities.values()} == {"新"}


async def test_recall_cancels_what_has_not_gone_out(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 6))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 5, _items(people), not_before=services.clock() + timedelta(hours=1))
        await delete_delivered(s, "announcement", 5)
    await drain(services, config=FAST, horizon=7200)
    assert connector.calls == []
    async with services.sessionmaker() as s:
        assert (await counts(s, "announcement", 5)).cancelled == 5


async def test_scheduled_rows_wait_and_a_missed_time_goes_out_late(services, connector):
    now = services.clock()
    async with services.sessionmaker() as s, s.begin():
        await add_people(s, connector.url, [1, 2, 3])
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items([1]), not_before=now + timedelta(hours=2))
        await enqueue(s, "announcement", 2, _items([2]), not_before=now - timedelta(hours=3))  # bot was down
        await enqueue(s, "announcement", 3, _items([3]), not_before=now + timedelta(seconds=0.5))
    await drain(services, config=FAST, horizon=5)
    assert set(_successful_posts(connector)) == {conv_of(2), conv_of(3)}
    async with services.sessionmaker() as s:
        late = (await deliveries(s, "announcement", 2))[0]
        on_time = (await deliveries(s, "announcement", 3))[0]
        waiting = await counts(s, "announcement", 1)
    assert late.late and not on_time.late
    assert on_time.delivered_at >= now + timedelta(seconds=0.5)
    assert waiting.queued == 1


async def test_rows_of_a_crashed_worker_are_sent_after_the_lease(services, connector):
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 11))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    crashed = Worker(services, dataclasses.replace(FAST, lease=0.5), worker_id="crashed")
    claimed = await crashed.claim(4)  # ... and the process dies before sending
    assert len(claimed) == 4
    survivor = Worker(services, FAST, worker_id="survivor")
    assert len(await survivor.claim(10)) == 6  # the claimed ones are not handed out twice
    async with services.sessionmaker() as s, s.begin():
        await s.execute(
            __import__("sqlalchemy")
            .update(__import__("storage.models", fromlist=["Delivery"]).Delivery)
            .where(__import__("storage.models", fromlist=["Delivery"]).Delivery.claimed_by == "survivor")
            .values(state="queued", claimed_by=None)
        )
    await asyncio.sleep(0.6)
    await drain(services, config=FAST, worker=survivor)
    assert sorted(_successful_posts(connector).values()) == [1] * 10


async def test_two_workers_share_the_queue_without_sending_twice(services, connector):
    connector.latency = 0.01
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 121))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 1, _items(people))
    stop = asyncio.Event()
    workers = [Worker(services, dataclasses.replace(FAST, rate=60), worker_id=f"w{i}") for i in range(2)]
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    for _ in range(400):
        await asyncio.sleep(0.05)
        if len(connector.posts()) >= 120:
            break
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*tasks)
    posts = _successful_posts(connector)
    assert len(posts) == 120 and set(posts.values()) == {1}
    assert all(w.stats["sent"] > 10 for w in workers)


async def test_find_by_activity_names_the_recipient(services, connector):
    async with services.sessionmaker() as s, s.begin():
        await add_people(s, connector.url, [1, 2])
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "announcement", 9, _items([1, 2]))
    await drain(services, config=FAST)
    async with services.sessionmaker() as s:
        rows = await deliveries(s, "announcement", 9)
        found = await find_by_activity(s, "announcement", rows[1].activity_id)
        assert found is not None and found.person_id == rows[1].person_id
        assert await find_by_activity(s, "survey", rows[1].activity_id) is None


async def test_progress_listener_hears_about_each_ref_and_the_end(services, connector):
    heard: list[tuple[int, int]] = []

    async def listener(svc, ref_ids):
        async with svc.sessionmaker() as s:
            for ref in ref_ids:
                heard.append((ref, (await counts(s, "progress-test", ref)).delivered))

    use_progress_listeners(services, {"progress-test": [listener]})
    async with services.sessionmaker() as s, s.begin():
        people = await add_people(s, connector.url, range(1, 21))
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "progress-test", 1, _items(people))
        await enqueue(s, "progress-test", 2, _items(people[:3]))
    await drain(services, config=dataclasses.replace(FAST, rate=20))
    assert (1, 20) in heard and (2, 3) in heard
    assert heard[-1][1] in (20, 3)


async def test_a_fixed_address_is_used_as_given(services, connector):
    address = Address(
        conversation_id="19:adhoc@thread", service_url=connector.url, conversation_type="channel"
    )
    async with services.sessionmaker() as s, s.begin():
        await enqueue(s, "qa", 1, [DeliveryItem(Recipient(address=address), Message(text="回答です"))])
    await drain(services, config=FAST)
    assert connector.texts_to("19:adhoc@thread") == ["回答です"]
