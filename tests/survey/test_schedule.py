"""Openings, closings and reminders on Japan's business calendar, and anonymity's generalisation."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialogs.survey.anonymity import generalise, is_k_anonymous
from dialogs.survey.schedule import (
    Recurrence,
    ScheduleError,
    closes_at,
    fires_between,
    next_fire,
    reminder_plan,
)

JST = ZoneInfo("Asia/Tokyo")


def jst(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=JST)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (jst(2026, 4, 28), jst(2026, 5, 7)),  # Golden Week: 5/1 is the 1st, 5/4–5/6 holidays
        (jst(2026, 5, 7, 10), jst(2026, 6, 2)),  # strictly after: the next month
        (jst(2026, 12, 20), jst(2027, 1, 5)),  # 年末年始 until 1/3; 1/4 is the 1st business day
        (jst(2026, 8, 1), jst(2026, 8, 4)),  # 8/1 Sat: 8/3 Mon is the 1st
    ],
)
def test_monthly_on_the_second_business_day(after: datetime, expected: datetime) -> None:
    assert next_fire(Recurrence("monthly", 2, "10:00"), after) == expected


def test_quarterly_follows_the_fiscal_year() -> None:
    rec = Recurrence("quarterly", 1, "09:30")
    assert next_fire(rec, jst(2026, 5, 1)) == jst(2026, 7, 1, 9, 30)
    assert next_fire(rec, jst(2026, 11, 1)) == jst(2027, 1, 4, 9, 30)


def test_cron_times_on_holidays_move_to_the_next_business_day() -> None:
    rec = Recurrence("cron", cron="0 10 3 * *")  # the 3rd of each month at 10:00
    assert next_fire(rec, jst(2026, 4, 10)) == jst(2026, 5, 7)  # 5/3 Sun, 5/4–6 holidays
    assert next_fire(rec, jst(2026, 5, 7, 11)) == jst(2026, 6, 3)
    with pytest.raises(ScheduleError):
        Recurrence("cron", cron="every monday").validate()
    with pytest.raises(ScheduleError):
        Recurrence("monthly", nth=0).validate()


def test_missed_openings_are_listed_for_catch_up() -> None:
    rec = Recurrence("monthly", 2, "10:00")
    assert fires_between(rec, jst(2026, 4, 1), jst(2026, 7, 1)) == [
        jst(2026, 4, 2),
        jst(2026, 5, 7),
        jst(2026, 6, 2),
    ]


def test_window_and_reminders_count_business_days() -> None:
    opened = jst(2026, 4, 28, 10)  # Tuesday before Golden Week; 4/29 is 昭和の日
    closing = closes_at(opened, 5)
    assert closing == jst(2026, 5, 8, 17)  # 4/28, 4/30, 5/1, 5/7, 5/8
    plan = reminder_plan(
        opened, closing, [{"days_before": 2, "at": "10:00"}, {"days_before": 0, "at": "09:00"}]
    )
    assert plan == [jst(2026, 5, 1, 10), jst(2026, 5, 8, 9)]  # 2 business days before 5/8 is 5/1
    # Opened on a holiday: the window counts from the next business day.
    assert closes_at(jst(2026, 5, 4, 12), 1) == jst(2026, 5, 7, 17)


def test_generalised_groups_never_single_anyone_out() -> None:
    rng = random.Random(5)
    for _ in range(500):
        k = rng.randint(3, 8)
        rows = [
            (d, d * 10 + rng.randint(0, 4), rng.choice(["leader", "subleader", "subleader"]))
            for d in (rng.randint(1, 4) for _ in range(rng.randint(0, 60)))
        ]
        mapping = generalise(rows, k)
        stored = [mapping[r] for r in rows]
        assert len(rows) < k or is_k_anonymous(stored, k)
    # A big section keeps its id; roles only where every role has k answers.
    big = [(1, 10, "leader")] + [(1, 10, "subleader")] * 6 + [(1, 11, "subleader")] * 5
    mapping = generalise(big, 5)
    assert mapping[(1, 10, "subleader")] == (1, 10, None)  # one leader: roles dropped for all
    assert mapping[(1, 11, "subleader")] == (1, 11, "subleader")
