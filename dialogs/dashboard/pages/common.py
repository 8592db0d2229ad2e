"""What a page is made of, and what building one needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Services
from dialogs.dashboard.tables import Table
from dialogs.kit.business_days import format_date_ja, format_datetime_ja, to_jst
from dialogs.kit.i18n import t as translate


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    detail: str = ""
    alert: bool = False


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Select:
    """A filter: a GET form field (survey, question, announcement, period)."""

    name: str
    label: str
    options: list[Option]
    selected: str


@dataclass
class Block:
    heading: str
    table: Table | None = None
    chart: Markup | None = None
    intro: str = ""
    wide: bool = True  # False: half width beside the next half block on a wide screen
    csv_params: dict[str, str] = field(default_factory=dict)


@dataclass
class PageView:
    key: str
    title: str
    intro: str = ""
    tiles: list[Tile] = field(default_factory=list)
    filters: list[Select] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    notice: str = ""  # e.g. "no survey has closed yet"

    def table(self, key: str) -> Table | None:
        return next((b.table for b in self.blocks if b.table is not None and b.table.key == key), None)


@dataclass
class Context:
    services: Services
    session: AsyncSession
    locale: str
    params: dict[str, str]
    now: datetime

    def t(self, key: str, **kwargs: Any) -> str:
        return translate(key, self.locale, **kwargs)

    @property
    def today(self) -> date:
        return to_jst(self.now).date()

    def date(self, day: date | datetime | None) -> str:
        return format_day(day, self.locale)

    def datetime(self, moment: datetime | None) -> str:
        return format_moment(moment, self.locale)

    def int_param(self, name: str, default: int | None = None) -> int | None:
        raw = self.params.get(name, "")
        return int(raw) if raw.isdigit() else default


Translate = Callable[..., str]


def format_day(day: date | datetime | None, locale: str) -> str:
    """2026年4月1日(水) in Japanese, 2026-04-01 (Wed) in English; a datetime is taken in JST."""
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = to_jst(day).date()
    return day.strftime("%Y-%m-%d (%a)") if locale == "en" else format_date_ja(day)


def format_moment(moment: datetime | None, locale: str) -> str:
    if moment is None:
        return "—"
    return to_jst(moment).strftime("%Y-%m-%d %H:%M JST") if locale == "en" else format_datetime_ja(moment)
