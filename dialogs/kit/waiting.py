"""What waits for a promoter: the plain records features offer to the 「未対応」 list.

A feature that sends people something to do (confirm an announcement, answer a survey) offers a
``WaitingSource``; the composition root hands the sources to the todo feature, so no feature reads
another's tables.

    items = await source.waiting(session, person_id=12, now=now)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Waiting:
    """One open item of one person."""

    kind: str  # "announce" | "survey": the todo catalog names it (todo.kind.<kind>)
    title: str
    reopen: dict[str, Any]  # the submit data of the button that posts the card again (the owner's action)
    due: datetime | None = None  # deadline (a date's end, or a survey's closing moment), aware
    due_date: date | None = None  # shown as a date only (announcement deadlines are days)
    detail: str = ""  # e.g. the survey round's label
    since: datetime | None = None  # when it was sent: the order among items without a deadline


class WaitingSource(Protocol):
    async def __call__(self, session: AsyncSession, person_id: int, now: datetime) -> list[Waiting]: ...
