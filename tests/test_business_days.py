from datetime import UTC, date, datetime

from dialogs.kit.business_days import (
    add_business_days,
    business_days_between,
    format_date_ja,
    format_datetime_ja,
    is_business_day,
    next_business_day,
    non_business_reason,
    nth_business_day_of_month,
)


def test_weekends_holidays_and_year_end_are_not_business_days():
    assert is_business_day(date(2026, 4, 1))  # Wednesday
    assert non_business_reason(date(2026, 4, 4)) == "土曜日"
    assert non_business_reason(date(2026, 5, 4)) == "みどりの日"
    assert non_business_reason(date(2026, 12, 29)) == "年末年始"
    assert non_business_reason(date(2027, 1, 3)) == "年末年始"
    assert is_business_day(date(2027, 1, 4))


def test_golden_week_shifts_business_days():
    # 2026-04-29 昭和の日 (Wed); 5/3-5/6 holidays and 振替休日
    assert add_business_days(date(2026, 4, 30), 2) == date(2026, 5, 7)
    assert next_business_day(date(2026, 5, 3)) == date(2026, 5, 7)
    assert business_days_between(date(2026, 4, 30), date(2026, 5, 7)) == 2
    assert add_business_days(date(2026, 5, 7), -1) == date(2026, 5, 1)


def test_nth_business_day_of_month_skips_new_year():
    assert nth_business_day_of_month(2027, 1, 1) == date(2027, 1, 4)
    assert nth_business_day_of_month(2027, 1, 2) == date(2027, 1, 5)
    assert nth_business_day_of_month(2026, 5, 2) == date(2026, 5, 7)


def test_japanese_formats_in_jst():
    assert format_date_ja(date(2026, 4, 1)) == "2026年4月1日(水)"
    assert format_datetime_ja(datetime(2026, 4, 1, 1, 5, tzinfo=UTC)) == "2026年4月1日(水) 10:05"
