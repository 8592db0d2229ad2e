"""One organisational order: departments and sections as the roster lists them, not by id and not by
name, in the survey's response rates, results, status card and section choices."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update

from dialogs.engines.delivery.worker import drain
from dialogs.roster.order import roster_order
from dialogs.survey.results import Group, in_roster_order, response_rates
from storage.models import Department, Section, Survey, SurveyRound
from tests.support import ADMIN, running_bot, settings_for
from tests.survey.helpers import build_city

pytestmark = pytest.mark.asyncio

# Inserted in this order (so ids run 総務部, 財務部, 市民部), six promoters a section so that no group is
# under the anonymity threshold (anonymous surveys merge smaller ones) ...
LAYOUT = [
    ("総務部", "総務課", 1, 5),
    ("財務部", "税務課", 1, 5),
    ("市民部", "市民課", 1, 5),
    ("総務部", "人事課", 1, 5),
]
# ... but the roster lists 財務部 first, and 人事課 before 総務課. By name the order would be
# 市民部, 財務部, 総務部 and 人事課, 市民課, 税務課, 総務課: neither is the roster's.
ROSTER_DEPTS = ["財務部", "総務部", "市民部"]
ROSTER_SECTIONS = ["税務課", "人事課", "総務課", "市民課"]


async def _reorder(s: Any, city: Any) -> None:
    for i, name in enumerate(ROSTER_DEPTS):
        await s.execute(
            update(Department).where(Department.id == city.departments[name]).values(sort_order=i)
        )
    for i, name in enumerate(ROSTER_SECTIONS):
        await s.execute(update(Section).where(Section.id == city.sections[name]).values(sort_order=i))


def _text(card: dict[str, Any]) -> str:
    import json

    return json.dumps(card, ensure_ascii=False)


def _in_order(text: str, names: list[str]) -> bool:
    places = [text.index(n) for n in names]
    return places == sorted(places)


async def test_survey_lists_follow_the_roster_order(sqlite_url, connector):
    settings = settings_for(sqlite_url, admins=[ADMIN.email], public_url="https://bot.example.jp")
    async with running_bot(settings, connector) as bot:
        async with bot.services.sessionmaker() as s, s.begin():
            city = await build_city(s, connector.url, date(2025, 4, 1), layout=LAYOUT)
            await _reorder(s, city)
        await bot.say("サーベイ 作成 DXマインド", user=ADMIN)
        async with bot.services.sessionmaker() as s:
            survey = await s.scalar(select(Survey))
            assert survey is not None
        await bot.say(f"サーベイ 開始 {survey.id} 3", user=ADMIN)
        preview = connector.cards_to(ADMIN.conversation_id)[-1]
        await bot.press(preview["actions"][0]["data"], user=ADMIN)  # 開始 on the start preview
        await drain(bot.services)

        async with bot.services.sessionmaker() as s:
            rnd = await s.scalar(select(SurveyRound))
            assert rnd is not None
            rates = await response_rates(s, rnd.id)
            assert [r.name for r in rates if r.key.startswith("d:")] == ROSTER_DEPTS
            assert [r.name for r in rates if r.key.startswith("s:")] == ROSTER_SECTIONS
            order = await roster_order(s)
            # Results (tables, charts, exports walk the groups in this order), whatever order they came in.
            groups = {
                "all": Group("all", "all", "全体", 0),
                "r:leader": Group("r:leader", "role", "leader", 0),
            }
            for name, sid in sorted(city.sections.items()):
                groups[f"s:{sid}"] = Group(f"s:{sid}", "section", name, 0)
            for name, did in sorted(city.departments.items()):
                groups[f"d:{did}"] = Group(f"d:{did}", "department", name, 0)
            ranked = list(in_roster_order(groups, order).values())
            assert [g.name for g in ranked] == ["全体", *ROSTER_DEPTS, *ROSTER_SECTIONS, "leader"]
            assert sorted(city.sections.values(), key=order.section) == [
                city.sections[n] for n in ROSTER_SECTIONS
            ]

        # 回答状況: departments, and the sections with fewest answers (all equal here), in roster order.
        await bot.say("回答状況", user=ADMIN)
        status = _text(connector.cards_to(ADMIN.conversation_id)[-1])
        assert _in_order(status, ["部ごとの回答率", *ROSTER_DEPTS])
        behind = status[status.index("回答が少ない課") :]
        assert _in_order(behind, ROSTER_SECTIONS)

        # The schedule form offers the sections in roster order too.
        await bot.press({"action": "survey.schedule.form", "survey": survey.id}, user=ADMIN)
        form = _text(connector.cards_to(ADMIN.conversation_id)[-1])
        assert _in_order(form, ROSTER_SECTIONS), form
