"""Japan's business calendar: weekends, national holidays (jpholiday) and 年末年始 (12/29–1/3).

is_business_day(date(2026, 5, 4))          -> False (みどりの日)
add_business_days(date(2026, 4, 30), 2)    -> date(2026, 5, 7)
format_date_ja(date(2026, 4, 1))           -> "2026年4月1日(水)"
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import jpholiday

JST = ZoneInfo("Asia/Tokyo")
_WEEKDAYS_JA = "月火水木金土日"


def is_year_end(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def non_business_reason(day: date) -> str | None:
    """Why ``day`` is not a business day, in Japanese (None if it is one)."""
    if is_year_end(day):
        return "年末年始"
    holiday = jpholiday.is_holiday_name(day)
    if holiday:
        return str(holiday)
    if day.weekday() == 5:
        return "土曜日"
    if day.weekday() == 6:
        return "日曜日"
    return None


def is_business_day(day: date) -> bool:
    return non_business_reason(day) is None


def next_business_day(day: date, include_today: bool = True) -> date:
    """``day`` itself if it is a business day (and include_today), else the next one."""
    current = day if include_today else day + timedelta(days=1)
    while not is_business_day(current):
        current += timedelta(days=1)
    return current


def add_business_days(day: date, count: int) -> date:
    """The business day ``count`` business days after ``day`` (before it, for negative counts)."""
    step = 1 if count >= 0 else -1
    current = day
    remaining = abs(count)
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current):
            remaining -= 1
    return current


def nth_business_day_of_month(year: int, month: int, n: int) -> date:
    """The n-th business day of a month (1-based), e.g. the 2nd business day for a monthly survey."""
    current = next_business_day(date(year, month, 1))
    for _ in range(n - 1):
        current = next_business_day(current, include_today=False)
    return current


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 if end <= start)."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(current):
            days += 1
    return days


def to_jst(moment: datetime) -> datetime:
    return moment.astimezone(JST)


def format_date_ja(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"


def format_datetime_ja(moment: datetime) -> str:
    local = to_jst(moment)
    return f"{format_date_ja(local.date())} {local.hour}:{local.minute:02d}"
