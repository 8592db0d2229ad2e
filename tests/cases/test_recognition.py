"""Recognition: the DX division opens a period, promoters vote once each and never for their own
section, the DX division sees counts (never who voted) and closes with an announcement draft."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from dialogs.cases import service
from storage.models import Department, RecognitionRound, RecognitionVote, Section
from tests.announce.conftest import build_city
from tests.support import ADMIN, LEADER, STAFF, Person, fixed_clock, running_bot, settings_for

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 11, 10, 1, tzinfo=UTC)  # 2026年度 第3四半期
P102 = Person("29:u102", "aad-102", "職員102", "p102@city.example.jp")  # 人事課
P103 = Person("29:u103", "aad-103", "職員103", "p103@city.example.jp")  # 税務課


async def _publish(bot, section: str, title: str) -> int:
    async with bot.services.sessionmaker() as s, s.begin():
        sec_id, dept_id, dept = (
            await s.execute(
                select(Section.id, Department.id, Department.name)
                .join(Department, Department.id == Section.department_id)
                .where(Section.name == section)
            )
        ).one()
        data = service.CaseInput(title, "", ["RPA"], "入力", 40, 10, 3, date(2026, 10, 1))
        case = await service.submit(s, data, service.Home(sec_id, dept_id, section, dept), None, NOW)
        service.publish(case, None, NOW)
        return case.id


async def _votes(bot):
    async with bot.services.sessionmaker() as s:
        return [(v.case_id, v.voter_person_id) for v in (await s.scalars(select(RecognitionVote))).all()]


async def test_one_vote_each_never_for_own_section_counts_only(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email])
    async with running_bot(settings, connector, clock=fixed_clock(NOW)) as bot:
        city = await build_city(bot.services, connector.url, connector)
        await bot.say("ヘルプ", user=LEADER)
        soumu = await _publish(bot, "総務課", "庁議資料のペーパーレス化")
        zeimu = await _publish(bot, "税務課", "課税資料の入力をRPAで")

        await bot.say("表彰開始 2026Q3", user=LEADER)
        assert "DX推進課" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.say("表彰開始 そのうち", user=ADMIN)
        assert "2026Q3" in connector.texts_to(ADMIN.conversation_id)[-1]
        await bot.say("表彰開始 2026Q3", user=ADMIN)
        opened = connector.texts_to(ADMIN.conversation_id)[-1]
        assert "2026年度 第3四半期" in opened and "2026年10月1日(木)〜2026年12月31日(木)" in opened
        assert "事例 2件" in opened
        await bot.say("表彰開始 2026年度", user=ADMIN)
        assert "先に「表彰締切」" in connector.texts_to(ADMIN.conversation_id)[-1]

        # The leader of 総務課 is offered 税務課's case, not their own.
        await bot.say("表彰投票", user=LEADER)
        ballot = str(connector.cards_to(LEADER.conversation_id)[-1])
        assert "課税資料の入力をRPAで" in ballot and "庁議資料のペーパーレス化" not in ballot
        async with bot.services.sessionmaker() as s:
            rnd_id = (await s.scalars(select(RecognitionRound.id))).one()

        # Even a crafted button for their own section's case is refused.
        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": soumu}, user=LEADER)
        assert "自分の課の事例には投票できません" in connector.texts_to(LEADER.conversation_id)[-1]
        assert await _votes(bot) == []
        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": zeimu}, user=LEADER)
        assert "投票しました" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": soumu}, user=LEADER)
        assert "すでに投票済み" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.say("表彰投票", user=LEADER)
        assert "すでに投票済み" in connector.texts_to(LEADER.conversation_id)[-1]

        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": zeimu}, user=P103)
        assert "自分の課の事例には投票できません" in connector.texts_to(P103.conversation_id)[-1]
        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": soumu}, user=P102)
        assert "投票しました" in connector.texts_to(P102.conversation_id)[-1]
        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": soumu}, user=STAFF)
        assert sorted(await _votes(bot)) == sorted([(zeimu, city.leader_id), (soumu, 102)])

        # Promoters cannot see the tally; the DX division sees counts, never names.
        await bot.say("表彰状況", user=LEADER)
        assert "DX推進課" in connector.texts_to(LEADER.conversation_id)[-1]
        await bot.say("表彰状況", user=ADMIN)
        tally = str(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "投票 2票・候補 2件" in tally and "1票: 課税資料の入力をRPAで" in tally
        assert LEADER.name not in tally and "職員102" not in tally

        await bot.say("表彰締切", user=ADMIN)
        assert any("締め切りました" in x for x in connector.texts_to(ADMIN.conversation_id)[-3:])
        draft = str(connector.cards_to(ADMIN.conversation_id)[-1])
        assert "改善事例の表彰結果(2026年度 第3四半期)" in draft
        assert "**第1位** 庁議資料のペーパーレス化(総務部 総務課)・1票" in draft
        assert "**第1位** 課税資料の入力をRPAで(財務部 税務課)・1票" in draft
        async with bot.services.sessionmaker() as s:
            rnd = await s.get(RecognitionRound, rnd_id)
            assert rnd.state == "closed" and [r["votes"] for r in rnd.results] == [1, 1]
        await bot.press({"action": "recognition.vote", "round": rnd_id, "case": zeimu}, user=P102)
        assert "締め切られました" in connector.texts_to(P102.conversation_id)[-1]
