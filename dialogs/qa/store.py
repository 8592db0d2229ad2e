"""The knowledge base in the database: entries, synonym groups and the version every change bumps.

rows = await published_entries(session)           # what the search index is built from
await upsert_entry(session, EntryInput(...), actor="佐藤 花子", now=now)   # bumps the version
version = await kb_version(session)               # a second process compares and rebuilds
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.qa.kbfile import KbRow
from dialogs.qa.search import Entry, load_synonyms
from storage.models import EntryStatus, KbEntry, KbState, SynonymGroup

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class EntryInput:
    """An entry as an admin or a file gives it; ``key`` is the entry's own id."""

    key: str
    question: str
    answer: str
    alternates: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    url: str | None = None
    owner: str | None = None
    status: EntryStatus = EntryStatus.PUBLISHED


def to_search_entry(row: KbEntry) -> Entry:
    return Entry(row.key, row.question, row.answer, tuple(row.alternates or ()), tuple(row.tags or ()))


def to_kb_row(row: KbEntry) -> KbRow:
    return KbRow(
        id=row.key,
        question=row.question,
        answer=row.answer,
        alternates=list(row.alternates or []),
        tags=list(row.tags or []),
        url=row.url or "",
    )


# --- version ------------------------------------------------------------------------------------
async def kb_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(KbState.version).where(KbState.id == 1)) or 0)


async def bump_version(session: AsyncSession) -> None:
    """Mark the knowledge base changed; every process rebuilds its index when it sees the new number.

    An atomic increment in SQL, so two processes editing at once never write the same number."""
    await session.execute(update(KbState).where(KbState.id == 1).values(version=KbState.version + 1))


# --- synonyms -----------------------------------------------------------------------------------
async def ensure_synonyms_seeded(session: AsyncSession, now: datetime) -> bool:
    """Fill the synonym table from the shipped default list, once per database. True if it did.

    The flag is claimed with one conditional UPDATE, so two processes starting together seed once."""
    claimed = await session.execute(
        update(KbState)
        .where(KbState.id == 1, KbState.synonyms_seeded.is_(False))
        .values(synonyms_seeded=True, version=KbState.version + 1)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return False
    session.add_all(SynonymGroup(terms=list(group), updated_at=now) for group in load_synonyms())
    await session.flush()
    return True


async def synonym_groups(session: AsyncSession) -> list[SynonymGroup]:
    return list(await session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)))


async def synonym_terms(session: AsyncSession) -> list[list[str]]:
    """The groups the index uses: the database's list once seeded, the shipped list before that."""
    seeded = await session.scalar(select(KbState.synonyms_seeded).where(KbState.id == 1))
    if seeded is False:
        return load_synonyms()
    return [list(g.terms) for g in await synonym_groups(session) if len(g.terms) >= 2]


async def add_synonym_group(session: AsyncSession, terms: Sequence[str], now: datetime) -> SynonymGroup:
    await ensure_synonyms_seeded(session, now)
    group = SynonymGroup(terms=list(terms), updated_at=now)
    session.add(group)
    await session.flush()
    await bump_version(session)
    return group


async def delete_synonym_group(session: AsyncSession, group_id: int, now: datetime) -> SynonymGroup | None:
    await ensure_synonyms_seeded(session, now)
    group = await session.get(SynonymGroup, group_id)
    if group is None:
        return None
    await session.delete(group)
    await bump_version(session)
    return group


# --- entries ------------------------------------------------------------------------------------
async def get_entry(session: AsyncSession, key: str) -> KbEntry | None:
    return await session.scalar(select(KbEntry).where(KbEntry.key == key))


async def entries_by_key(session: AsyncSession, keys: Iterable[str]) -> dict[str, KbEntry]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    rows = await session.scalars(select(KbEntry).where(KbEntry.key.in_(wanted)))
    return {row.key: row for row in rows}


async def published_entries(session: AsyncSession) -> list[Entry]:
    """The published entries as the search index wants them (plain tuples, no ORM rows)."""
    result = await session.execute(
        select(KbEntry.key, KbEntry.question, KbEntry.answer, KbEntry.alternates, KbEntry.tags)
        .where(KbEntry.status == EntryStatus.PUBLISHED)
        .order_by(KbEntry.id)
    )
    return [Entry(key, q, a, tuple(alts or ()), tuple(tags or ())) for key, q, a, alts, tags in result]


async def all_entries(session: AsyncSession, *, include_drafts: bool = True) -> list[KbEntry]:
    stmt = select(KbEntry).order_by(KbEntry.id)
    if not include_drafts:
        stmt = stmt.where(KbEntry.status == EntryStatus.PUBLISHED)
    return list(await session.scalars(stmt))


async def count_entries(session: AsyncSession) -> dict[EntryStatus, int]:
    result = await session.execute(select(KbEntry.status, func.count()).group_by(KbEntry.status))
    counts = {status: 0 for status in EntryStatus}
    for status, n in result:
        counts[EntryStatus(status)] = int(n)
    return counts


async def drafts(session: AsyncSession, limit: int = 20) -> list[KbEntry]:
    return list(
        await session.scalars(
            select(KbEntry)
            .where(KbEntry.status == EntryStatus.DRAFT)
            .order_by(KbEntry.updated_at.desc())
            .limit(limit)
        )
    )


def _apply(row: KbEntry, data: EntryInput, actor: str, now: datetime) -> None:
    row.question = data.question
    row.answer = data.answer
    row.alternates = list(data.alternates)
    row.tags = list(data.tags)
    row.url = data.url or None
    if data.owner is not None:
        row.owner = data.owner
    row.status = data.status
    row.updated_at = now
    row.updated_by = actor


async def upsert_entry(
    session: AsyncSession,
    data: EntryInput,
    *,
    actor: str,
    now: datetime,
    source_ticket_id: int | None = None,
) -> tuple[KbEntry, bool]:
    """Insert or update the entry with ``data.key``; return (row, created)."""
    row = await get_entry(session, data.key)
    created = row is None
    if row is None:
        row = KbEntry(key=data.key, created_at=now, source_ticket_id=source_ticket_id)
        session.add(row)
    _apply(row, data, actor, now)
    await session.flush()
    await bump_version(session)
    return row, created


async def delete_entry(session: AsyncSession, key: str) -> KbEntry | None:
    row = await get_entry(session, key)
    if row is None:
        return None
    await session.delete(row)
    await bump_version(session)
    return row


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    removed: int


async def import_rows(
    session: AsyncSession,
    rows: Sequence[KbRow],
    *,
    actor: str,
    now: datetime,
    replace: bool = False,
    owner: str | None = None,
    keep_alternates: bool = False,
) -> ImportSummary:
    """Upsert ``rows`` by id as published entries; with ``replace``, delete entries not in ``rows``.
    ``keep_alternates``: the file has no 別の聞き方 column, so existing entries keep their phrasings
    (learned ones among them) instead of losing them.

    The caller's transaction makes it all-or-nothing."""
    existing = {row.key: row for row in await session.scalars(select(KbEntry))}
    created = updated = 0
    new_rows: list[KbEntry] = []
    for kb in rows:
        data = EntryInput(
            key=kb.id,
            question=kb.question,
            answer=kb.answer,
            alternates=list(kb.alternates),
            tags=list(kb.tags),
            url=kb.url or None,
            owner=owner,
        )
        row = existing.get(kb.id)
        if keep_alternates and row is not None:
            data.alternates = list(row.alternates or [])
        if row is None:
            row = KbEntry(key=kb.id, created_at=now, owner=owner)
            new_rows.append(row)
            created += 1
        else:
            updated += 1
        _apply(row, data, actor, now)
    session.add_all(new_rows)
    removed = 0
    if replace:
        keep = {kb.id for kb in rows}
        gone = [key for key in existing if key not in keep]
        for start in range(0, len(gone), 500):
            await session.execute(delete(KbEntry).where(KbEntry.key.in_(gone[start : start + 500])))
        removed = len(gone)
    await session.flush()
    await bump_version(session)
    return ImportSummary(created, updated, removed)


async def next_free_key(session: AsyncSession, prefix: str) -> str:
    """``prefix`` itself if unused, else ``prefix-2``, ``prefix-3`` …"""
    taken = set(await session.scalars(select(KbEntry.key).where(KbEntry.key.like(f"{prefix}%"))))
    if prefix not in taken:
        return prefix
    n = 2
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"
