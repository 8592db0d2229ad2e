"""Phrasings learned from use (別の聞き方): candidates, the DX division's decision, and the entry's
``alternates`` that the search reads.

    row = await propose(session, "A-101", "会社に今の住所の証明を出せって言われた", PhrasingSource.TICKET, now=now)
    await approve(session, [row.id], actor="佐藤 花子", now=now)   # now in A-101's alternates, index rebuilt

Candidates come from a ticket answered with an existing entry, from a 役に立たなかった followed by another
entry marked 役に立った for the same question, and from a pick in 「どれが近いですか?」; the DX division
approves or rejects them (「言い換え候補」), or types phrasings, which count as approved. An approved
phrasing is appended to the entry's alternates in the same transaction that bumps the knowledge base
version, so every process searches with it at its next question, without a restart. A rejected one is
kept, so the same words are not proposed again for that entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.qa import store
from dialogs.qa.search.normalize import normalize
from storage.models import EntryStatus, KbEntry, Phrasing, PhrasingSource, PhrasingStatus

PHRASING_MAX = 300  # a question, not a letter: longer texts are not proposed
PHRASING_MIN = 2


def clean(text: str) -> str:
    """One line, single spaces: the form a phrasing is stored and compared in."""
    return " ".join(text.split())


def _same(a: str, b: str) -> bool:
    return normalize(a).replace(" ", "") == normalize(b).replace(" ", "")


async def propose(
    session: AsyncSession,
    entry_key: str,
    text: str,
    source: PhrasingSource,
    *,
    now: datetime,
    ticket_id: int | None = None,
) -> Phrasing | None:
    """A candidate phrasing for a published entry; None when there is nothing new to learn (the entry's
    own question or one of its alternates, a text already proposed for it, too short or too long)."""
    text = clean(text)
    if not (PHRASING_MIN <= len(text) <= PHRASING_MAX):
        return None
    entry = await store.get_entry(session, entry_key)
    if entry is None or EntryStatus(entry.status) != EntryStatus.PUBLISHED:
        return None
    if _same(text, entry.question) or any(_same(text, alt) for alt in entry.alternates or ()):
        return None
    known = await session.scalars(select(Phrasing.text).where(Phrasing.entry_key == entry_key))
    if any(_same(text, other) for other in known):
        return None
    row = Phrasing(
        entry_key=entry_key,
        text=text,
        source=source,
        status=PhrasingStatus.CANDIDATE,
        ticket_id=ticket_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def withdraw(session: AsyncSession, entry_key: str, text: str) -> int:
    """The asker found the entry no help after all (役に立たなかった after picking it): an undecided
    candidate from a pick or from feedback is dropped. Ticket candidates stay: the DX division chose."""
    text = clean(text)
    rows = await session.scalars(
        select(Phrasing).where(
            Phrasing.entry_key == entry_key,
            Phrasing.status == PhrasingStatus.CANDIDATE,
            Phrasing.source.in_((PhrasingSource.CHOICE, PhrasingSource.FEEDBACK)),
        )
    )
    gone = [row for row in rows if _same(row.text, text)]
    for row in gone:
        await session.delete(row)
    await session.flush()
    return len(gone)


async def candidates(session: AsyncSession, limit: int = 30) -> list[Phrasing]:
    """Candidates waiting for a decision, oldest first."""
    return list(
        await session.scalars(
            select(Phrasing)
            .where(Phrasing.status == PhrasingStatus.CANDIDATE)
            .order_by(Phrasing.id)
            .limit(limit)
        )
    )


async def count_candidates(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Phrasing).where(Phrasing.status == PhrasingStatus.CANDIDATE)
        )
        or 0
    )


def _add_alternate(entry: KbEntry, text: str) -> bool:
    alternates = list(entry.alternates or [])
    if _same(text, entry.question) or any(_same(text, alt) for alt in alternates):
        return False
    entry.alternates = [*alternates, text]  # a new list, so the JSON column is written
    return True


async def approve(session: AsyncSession, ids: Iterable[int], *, actor: str, now: datetime) -> list[Phrasing]:
    """Approve the candidates ``ids``: each joins its entry's alternates; one version bump for all.
    Rows that are no candidates any more (decided in another card) are left alone."""
    rows = await _undecided(session, ids)
    entries = await store.entries_by_key(session, [r.entry_key for r in rows])
    changed = False
    for row in rows:
        row.status = PhrasingStatus.APPROVED
        row.decided_at, row.decided_by = now, actor
        entry = entries.get(row.entry_key)
        if entry is not None and _add_alternate(entry, row.text):
            entry.updated_at = now
            changed = True
    await session.flush()
    if changed:
        await store.bump_version(session)
    return rows


async def reject(session: AsyncSession, ids: Iterable[int], *, actor: str, now: datetime) -> list[Phrasing]:
    rows = await _undecided(session, ids)
    for row in rows:
        row.status = PhrasingStatus.REJECTED
        row.decided_at, row.decided_by = now, actor
    await session.flush()
    return rows


async def add_typed(
    session: AsyncSession, entry_key: str, texts: Sequence[str], *, actor: str, now: datetime
) -> list[Phrasing]:
    """Phrasings the DX division typed: approved at once. Returns those that were new."""
    rows = []
    for text in texts:
        row = await propose(session, entry_key, text, PhrasingSource.TYPED, now=now)
        if row is not None:
            rows.append(row)
    return await approve(session, [r.id for r in rows], actor=actor, now=now) if rows else []


async def _undecided(session: AsyncSession, ids: Iterable[int]) -> list[Phrasing]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        await session.scalars(
            select(Phrasing)
            .where(Phrasing.id.in_(wanted), Phrasing.status == PhrasingStatus.CANDIDATE)
            .order_by(Phrasing.id)
            .with_for_update()
        )
    )
