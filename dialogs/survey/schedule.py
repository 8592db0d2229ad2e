"""When rounds open and close, on Japan's business calendar.

    next_fire(Recurrence("monthly", nth=2, at="10:00"), after)   # 2nd business day, 10:00 JST
    closes_at(opened, window_business_days=5, close_time="17:00")
    reminder_plan(opened, closes, [{"days_before": 2, "at": "10:00"}, {"days_before": 0, "at": "09:00"}])

Cron expressions are read by APScheduler's CronTrigger (JST); a cron time that falls on a weekend,
a holiday or 年末年始 moves to the next business day at the same time, as every send does here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from dialogs.kit.business_days import (
    JST,
    add_business_days,
    is_business_day,
    next_business_day,
    nth_business_day_of_month,
)

KINDS = ("monthly", "quarterly", "cron")
QUARTER_MONTHS = (4, 7, 10, 1)  # the fiscal year starts in April
DEFAULT_REMINDERS: list[dict[str, Any]] = [
    {"days_before": 2, "at": "10:00"},
    {"days_before": 0, "at": "09:00"},
]


class ScheduleError(ValueError):
    pass


def parse_hhmm(value: str) -> time:
    try:
        hh, mm = value.strip().replace("：", ":").split(":")
        result = time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise ScheduleError(f"時刻 {value!r} は 10:00 の形で指定してください") from None
    return result


@dataclass(frozen=True)
class Recurrence:
    kind: str
    nth: int = 2
    at: str = "10:00"
    cron: str | None = None

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ScheduleError(f"繰り返しの種類 {self.kind!r} は使えません")
        if self.kind == "cron":
            if not self.cron:
                raise ScheduleError("cron 式がありません")
            try:
                CronTrigger.from_crontab(self.cron, timezone=JST)
            except ValueError as exc:
                raise ScheduleError(f"cron 式 {self.cron!r} を読み取れません: {exc}") from None
        else:
            if not 1 <= self.nth <= 15:
                raise ScheduleError("第n営業日は1〜15で指定してください")
            parse_hhmm(self.at)


def _at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, parse_hhmm(hhmm), JST).astimezone(UTC)


def _months_from(year: int, month: int) -> Any:
    while True:
        yield year, month
        month += 1
        if month > 12:
            year, month = year + 1, 1


def next_fire(rec: Recurrence, after: datetime) -> datetime:
    """The first opening strictly after ``after`` (aware; returned in UTC)."""
    if rec.kind == "cron":
        assert rec.cron
        trigger = CronTrigger.from_crontab(rec.cron, timezone=JST)
        probe = after.astimezone(JST)
        for _ in range(1000):
            fire = trigger.get_next_fire_time(None, probe + timedelta(seconds=1))
            if fire is None:
                raise ScheduleError("cron 式から次の日時を決められません")
            local = fire.astimezone(JST)
            day = next_business_day(local.date())
            moved = datetime.combine(day, local.timetz().replace(tzinfo=None), JST)
            if moved > after:
                return moved.astimezone(UTC)
            probe = fire
        raise ScheduleError("cron 式から次の日時を決められません")
    local = after.astimezone(JST)
    for year, month in _months_from(local.year, local.month):
        if rec.kind == "quarterly" and month not in QUARTER_MONTHS:
            continue
        fire = _at(nth_business_day_of_month(year, month, rec.nth), rec.at)
        if fire > after:
            return fire
    raise AssertionError("unreachable")


def fires_between(rec: Recurrence, start: datetime, end: datetime) -> list[datetime]:
    """Openings in (start, end]: the ones a stopped bot missed."""
    out: list[datetime] = []
    probe = start
    while True:
        fire = next_fire(rec, probe)
        if fire > end:
            return out
        out.append(fire)
        probe = fire


def closes_at(opened: datetime, window_business_days: int, close_time: str = "17:00") -> datetime:
    """The end of the answer window: ``close_time`` on the N-th business day counting the opening day
    (a round opened on a holiday counts from the next business day)."""
    day = opened.astimezone(JST).date()
    first = day if is_business_day(day) else next_business_day(day)
    last = add_business_days(first, max(1, window_business_days) - 1)
    end = _at(last, close_time)
    if end <= opened:  # opened after closing time on a one-day window
        end = _at(add_business_days(last, 1), close_time)
    return end


def reminder_plan(opened: datetime, closes: datetime, rules: list[dict[str, Any]]) -> list[datetime]:
    """Reminder times: ``days_before`` business days before the closing day, at ``at`` JST; only those
    strictly inside the window, one per time, ascending."""
    close_day = closes.astimezone(JST).date()
    times = set()
    for rule in rules:
        day = add_business_days(close_day, -int(rule.get("days_before", 0)))
        moment = _at(day, str(rule.get("at", "09:00")))
        if opened < moment < closes:
            times.add(moment)
    return sorted(times)


def round_label(opened: datetime) -> str:
    local = opened.astimezone(JST)
    return f"{local.year}年{local.month}月"


def describe(rec: Recurrence, locale: str = "ja") -> str:
    if rec.kind == "monthly":
        return (
            f"毎月 第{rec.nth}営業日 {rec.at}"
            if locale == "ja"
            else f"Monthly, business day {rec.nth}, {rec.at} JST"
        )
    if rec.kind == "quarterly":
        return (
            f"四半期ごと(4・7・10・1月) 第{rec.nth}営業日 {rec.at}"
            if locale == "ja"
            else f"Quarterly (Apr/Jul/Oct/Jan), business day {rec.nth}, {rec.at} JST"
        )
    return f"cron {rec.cron} (JST)"
