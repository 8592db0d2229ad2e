"""A monthly round on a frozen clock, across Golden Week, through the bot and the delivery engine, one
test per stage on a shared start (``opened_round``): scheduled in Teams and opened on the right
business day, answered (and re-answered) from the cards across a restart, tampered submissions
refused, reminders only to those who have not answered, closed with results posted to the DX division
and no way back from an answer to a person.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select, text

from dialogs.engines.delivery.worker import drain
from dialogs.survey.anonymity import is_k_anonymous
from dialogs.survey.jobs import tick
from dialogs.survey.results import compute_results
from storage.models import Survey, SurveyRecipient, SurveyResponse, SurveyRound, SurveySchedule
from tests.fakes.connector import FakeConnector
from tests.support import ADMIN, running_bot, settings_for
from tests.survey.helpers import Member as CityMember
from tests.survey.helpers import answers_for, build_city, invitation_activity

JST = ZoneInfo("Asia/Tokyo")


def jst(m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(2026, m, d, h, mi, tzinfo=JST)


def card_at(connector: FakeConnector, activity_id: str) -> dict[str, Any]:
    body = connector.activities[activity_id]
    return body["attachments"][0]["content"]


def card_text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    return dict(card["actions"][0]["data"])


async def answer(
    bot: Any,
    connector: FakeConnector,
    rnd: SurveyRound,
    m: CityMember,
    score: int,
    comment: str | None = None,
) -> str:
    async with bot.services.sessionmaker() as s:
        aid = await invitation_activity(s, rnd.id, m.person_id)
    data = {**submit_data(card_at(connector, aid)), **answers_for(rnd.questions, score, comment)}
    assert await bot.press(data, user=m.chat, reply_to_id=aid) == 201
    return aid


async def load_round(bot: Any) -> SurveyRound:
    async with bot.services.sessionmaker() as s:
        rnd = await s.scalar(select(SurveyRound).order_by(SurveyRound.id.desc()).limit(1))
        assert rnd is not None
        return rnd


SCHEDULE = {
    "action": "survey.schedule.save",
    "kind": "monthly",
    "nth": "2",
    "at": "10:00",
    "window": "5",
    "roles": "leader,subleader",
    "reminders": "2@10:00、0@09:00",
}


@dataclass
class Opened:
    """The DXマインド round of May 2026, opened on Thursday 5/7 10:00 and its invitations delivered."""

    bot: Any
    city: Any
    rnd: SurveyRound
    clock: Any
    settings: Any


@asynccontextmanager
async def opened_round(db_url: str, connector: FakeConnector) -> AsyncIterator[Opened]:
    settings = settings_for(db_url, admins=[ADMIN.email], public_url="https://bot.example.jp")
    with time_machine.travel(jst(4, 28, 12), tick=False) as clock:
        async with running_bot(settings, connector) as bot:
            async with bot.services.sessionmaker() as s, s.begin():
                city = await build_city(s, connector.url, date(2026, 4, 1))
            assert await bot.say("サーベイ 作成 DXマインド", user=ADMIN) == 201
            async with bot.services.sessionmaker() as s:
                survey = await s.scalar(select(Survey))
                assert survey is not None
            await bot.press({**SCHEDULE, "survey": survey.id}, user=ADMIN)
            clock.move_to(jst(5, 7, 10, 0))
            assert len((await tick(bot.services)).opened) == 1
            await drain(bot.services)
            yield Opened(bot, city, await load_round(bot), clock, settings)


async def edit_answer(
    bot: Any, connector: FakeConnector, rnd: SurveyRound, m: CityMember, aid: str, score: int
) -> None:
    """「回答を修正」 on the answered card, then send ``score`` everywhere (no comment)."""
    await bot.press(card_at(connector, aid)["actions"][0]["data"], user=m.chat, reply_to_id=aid)
    data = {**submit_data(card_at(connector, aid)), **answers_for(rnd.questions, score)}
    await bot.press(data, user=m.chat, reply_to_id=aid)


async def responses(bot: Any) -> int:
    async with bot.services.sessionmaker() as s:
        return int(await s.scalar(select(text("count(*)")).select_from(SurveyResponse)) or 0)


async def test_a_monthly_round_skips_golden_week_and_opens_on_the_second_business_day(
    db_url: str, connector: FakeConnector
) -> None:
    settings = settings_for(db_url, admins=[ADMIN.email], public_url="https://bot.example.jp")
    with time_machine.travel(jst(4, 28, 12), tick=False) as clock:
        async with running_bot(settings, connector) as bot:
            async with bot.services.sessionmaker() as s, s.begin():
                city = await build_city(s, connector.url, date(2026, 4, 1))
            # The DX division creates the survey from the template and schedules it in Teams.
            assert await bot.say("サーベイ 作成 DXマインド", user=ADMIN) == 201
            assert "DXマインド" in card_text(connector.cards_to(ADMIN.conversation_id)[-1])
            async with bot.services.sessionmaker() as s:
                survey = await s.scalar(select(Survey))
                assert survey is not None and survey.anonymous
            await bot.press({**SCHEDULE, "survey": survey.id}, user=ADMIN)
            assert "2026年5月7日(木) 10:00" in connector.texts_to(ADMIN.conversation_id)[-1]
            async with bot.services.sessionmaker() as s:
                schedule = await s.scalar(select(SurveySchedule))
                assert schedule is not None
                # 5/1 is the 1st business day; 5/4–5/6 are holidays; the 2nd is Thursday 5/7.
                assert schedule.next_run_at == jst(5, 7)

            for moment in (jst(5, 1), jst(5, 6, 23, 59)):  # first business day; a holiday
                clock.move_to(moment)
                report = await tick(bot.services)
                assert report.created == [] and report.opened == []

            clock.move_to(jst(5, 7, 10, 0))
            report = await tick(bot.services)
            assert len(report.created) == 1 and report.opened == report.created
            await drain(bot.services)
            rnd = await load_round(bot)
            assert rnd.closes_at == jst(5, 13, 17)  # 5 business days: 7, 8, 11, 12, 13
            assert [datetime.fromisoformat(p) for p in rnd.reminder_plan] == [jst(5, 11, 10), jst(5, 13, 9)]
            for m in city.members:
                cards = connector.cards_to(m.chat.conversation_id)
                assert len(cards) == 1 and "DXマインド" in card_text(cards[0])

            # A second pass in the same minute (or a second process) opens nothing again.
            assert (await tick(bot.services)).opened == []


async def test_answers_survive_a_restart_and_an_edit_replaces_the_answer(
    db_url: str, connector: FakeConnector
) -> None:
    async with opened_round(db_url, connector) as o:
        bot, city, rnd = o.bot, o.city, o.rnd
        somu, zeimu = city.by_section("総務課"), city.by_section("税務課")
        for m in somu[:3]:
            await answer(bot, connector, rnd, m, score=4)
        aid = await answer(bot, connector, rnd, zeimu[0], score=2, comment="研修を増やしてほしい")
        answered = card_at(connector, aid)
        assert "回答済み" in card_text(answered)
        edit = answered["actions"][0]
        assert edit["title"] == "回答を修正" and edit["data"]["action"] == "survey.edit"
        key = edit["data"]["key"]

        # --- the bot restarts mid-round: answers and the schedule live in the database ---
        async with running_bot(o.settings, connector) as bot:
            assert await responses(bot) == 4
            for m in somu[3:]:
                await answer(bot, connector, rnd, m, score=5)

            # 回答を修正: the card shows the earlier answer; sending again replaces it and says so.
            await bot.press(edit["data"], user=zeimu[0].chat, reply_to_id=aid)
            form = card_at(connector, aid)
            assert "前回の回答" in card_text(form)
            prefilled = [i for c in form["body"] if c.get("type") == "Container" for i in c["items"]]
            assert any(i.get("value") == "2" for i in prefilled)
            data = {**submit_data(form), **answers_for(rnd.questions, 3)}
            assert data["key"] == key
            texts_before = len(connector.texts_to(zeimu[0].chat.conversation_id))
            await bot.press(data, user=zeimu[0].chat, reply_to_id=aid)
            assert "置き換えました" in card_text(card_at(connector, aid))
            # The card says it; no second message repeats it.
            assert len(connector.texts_to(zeimu[0].chat.conversation_id)) == texts_before
            assert await responses(bot) == 7


async def test_tampered_submissions_are_refused_and_change_nothing(
    db_url: str, connector: FakeConnector
) -> None:
    async with opened_round(db_url, connector) as o:
        bot, rnd, zeimu = o.bot, o.rnd, o.city.by_section("税務課")
        aid = await answer(bot, connector, rnd, zeimu[0], score=2)
        key = card_at(connector, aid)["actions"][0]["data"]["key"]  # 税務課 1's edit key
        intruder, victim = zeimu[1], zeimu[2]
        async with bot.services.sessionmaker() as s:
            victim_aid = await invitation_activity(s, rnd.id, victim.person_id)
            own_aid = await invitation_activity(s, rnd.id, intruder.person_id)
        victim_data = submit_data(card_at(connector, victim_aid))
        own_data = submit_data(card_at(connector, own_aid))
        good = answers_for(rnd.questions, 4)
        attempts = [
            ({**victim_data, **good}, victim_aid),  # someone else's card
            ({**victim_data, **good}, own_aid),  # someone else's recipient id on one's own card
            ({**own_data, "round": rnd.id + 1, **good}, own_aid),  # another round
            ({**own_data, **good, "q.m1": "6"}, own_aid),  # outside the scale
            ({**own_data, **good, "q.m2": "0"}, own_aid),
            ({**own_data, **good, "q.zz": "1"}, own_aid),  # a question that does not exist
            ({**own_data, **good, "key": key}, own_aid),  # another person's edit key
        ]
        before = len(connector.texts_to(intruder.chat.conversation_id))
        for payload, reply_to in attempts:
            assert await bot.press(payload, user=intruder.chat, reply_to_id=reply_to) == 201
        replies = connector.texts_to(intruder.chat.conversation_id)[before:]
        assert len(replies) == len(attempts)
        assert all("受け付けられませんでした" in r for r in replies), replies
        assert await responses(bot) == 1
        async with bot.services.sessionmaker() as s:
            flags = {r.person_id: r.responded for r in (await s.scalars(select(SurveyRecipient))).all()}
            assert not flags[victim.person_id] and not flags[intruder.person_id]


async def test_reminders_go_only_to_those_who_have_not_answered(
    db_url: str, connector: FakeConnector
) -> None:
    async with opened_round(db_url, connector) as o:
        bot, city, rnd, clock = o.bot, o.city, o.rnd, o.clock
        somu, zeimu = city.by_section("総務課"), city.by_section("税務課")
        for m in [*somu, zeimu[0]]:
            await answer(bot, connector, rnd, m, score=4)

        # Monday 5/11 10:00: the first reminder goes only to those who have not answered.
        clock.move_to(jst(5, 11, 10))
        report = await tick(bot.services)
        await drain(bot.services)
        answered_ids = {m.person_id for m in somu} | {zeimu[0].person_id}
        pending = [m for m in city.members if m.person_id not in answered_ids]
        assert report.reminded == {rnd.id: len(pending)} == {rnd.id: 10}
        for m in city.members:
            cards = connector.cards_to(m.chat.conversation_id)
            expected = 1 if m.person_id in answered_ids else 2
            assert len(cards) == expected, m
            if expected == 2:
                assert "まだご回答" in card_text(cards[1])

        # One answers from the reminder card; the invitation card turns to 回答済み as well.
        late = zeimu[1]
        async with bot.services.sessionmaker() as s:
            reminder_aid = await invitation_activity(s, rnd.id, late.person_id, purpose="reminder-1")
            invite_aid = await invitation_activity(s, rnd.id, late.person_id)
        data = {**submit_data(card_at(connector, reminder_aid)), **answers_for(rnd.questions, 4)}
        await bot.press(data, user=late.chat, reply_to_id=reminder_aid)
        await drain(bot.services)
        other_copy = card_at(connector, invite_aid)
        assert "回答済み" in card_text(other_copy)
        assert "actions" not in other_copy and '"key"' not in card_text(
            other_copy
        )  # the key stays on one card

        # Wednesday 5/13 9:00: the last-morning reminder, again only to those still missing.
        clock.move_to(jst(5, 13, 9))
        report = await tick(bot.services)
        assert report.reminded == {rnd.id: 9}
        await drain(bot.services)
        still = [m for m in pending if m is not late]
        assert all(len(connector.cards_to(m.chat.conversation_id)) == 3 for m in still)


async def test_closing_posts_results_that_lead_back_to_no_one(db_url: str, connector: FakeConnector) -> None:
    async with opened_round(db_url, connector) as o:
        bot, city, rnd, clock = o.bot, o.city, o.rnd, o.clock
        somu, zeimu = city.by_section("総務課"), city.by_section("税務課")
        for m in somu[:3]:
            await answer(bot, connector, rnd, m, score=4)
        for m in somu[3:]:
            await answer(bot, connector, rnd, m, score=5)
        # 税務課 1 comments, then replaces the answer with one without a comment.
        aid = await answer(bot, connector, rnd, zeimu[0], score=2, comment="研修を増やしてほしい")
        key = card_at(connector, aid)["actions"][0]["data"]["key"]
        await edit_answer(bot, connector, rnd, zeimu[0], aid, score=3)
        intruder, victim = zeimu[1], zeimu[2]
        async with bot.services.sessionmaker() as s:
            own_aid = await invitation_activity(s, rnd.id, intruder.person_id)
        own_data = submit_data(card_at(connector, own_aid))  # the invitation as it first arrived
        await answer(bot, connector, rnd, intruder, score=4)
        # 財務部 answers in full by the last day; 人事課 does not answer at all.
        for m in [victim, *city.by_section("収納課")[:2]]:
            await answer(bot, connector, rnd, m, score=3)

        # 17:00: closing. Cards turn to 締め切り; results go to the DX division.
        clock.move_to(jst(5, 13, 17))
        report = await tick(bot.services)
        assert report.closed == [rnd.id]
        await drain(bot.services)
        results_cards = [c for c in connector.cards_to(ADMIN.conversation_id) if "結果" in card_text(c)]
        assert results_cards, "results were not posted to the DX admin"
        posted = card_text(results_cards[-1])
        assert "回答率" in posted and "65% (11/17)" in posted
        assert "https://bot.example.jp/survey/r/" in posted
        assert "締め切りました" in card_text(card_at(connector, own_aid))

        # After closing, a polite refusal.
        before = len(connector.texts_to(intruder.chat.conversation_id))
        await bot.press(
            {**own_data, **answers_for(rnd.questions, 4)}, user=intruder.chat, reply_to_id=own_aid
        )
        assert "締め切られた" in connector.texts_to(intruder.chat.conversation_id)[before]

        # Results: 総務課 (6 answers) is shown; every other section is suppressed, comments too.
        async with bot.services.sessionmaker() as s:
            res = await compute_results(s, rnd.id)
            assert (res.invited, res.responded) == (17, 11)
            somu_group = res.groups[f"s:{city.sections['総務課']}"]
            assert not somu_group.suppressed and somu_group.respondents == 6
            assert somu_group.stats["m1"].favourable == 1.0
            # 税務課 (3) and 収納課 (2) are pooled into 財務部 (5); 人事課 did not answer.
            for name in ("人事課", "税務課", "収納課"):
                group = res.groups.get(f"s:{city.sections[name]}")
                assert group is None or group.suppressed
            zaimu = res.groups[f"d:{city.departments['財務部']}"]
            assert not zaimu.suppressed and zaimu.respondents == 5
            assert zaimu.stats["m1"].mean == pytest.approx(3.2)  # 3 (replaced), 4, 3, 3, 3
            assert res.overall.respondents == 11 and not res.overall.suppressed
            assert res.comments == {}  # the only comment was replaced by an answer without one

            # No path from an answer back to a person: no person, no time, no delivery link,
            # the stored groups are k-anonymous, and the edit key is nowhere in the database.
            rows = (await s.scalars(select(SurveyResponse).where(SurveyResponse.round_id == rnd.id))).all()
            assert all(r.person_id is None and r.submitted_at is None for r in rows)
            assert is_k_anonymous([(r.department_id, r.section_id, r.role) for r in rows], 5)
            dump = await _dump_database(s)
            assert all(key not in content for content in dump.values())
            elsewhere = "\n".join(
                c for t, c in dump.items() if t not in ("survey_responses", "survey_answer_values")
            )
            assert rows and all(r.id not in elsewhere for r in rows)


async def _dump_database(session: Any) -> dict[str, str]:
    """Every value of every table, as text (what someone with the database in hand can see)."""
    from storage.models import Base

    out = {}
    for table in Base.metadata.sorted_tables:
        rows = (await session.execute(select(table))).all()
        out[table.name] = "\n".join(" ".join(str(v) for v in row) for row in rows)
    return out
