"""Recognition (表彰): the DX division opens a period, promoters vote for published cases of other
sections (one vote per person), the DX division closes it and announces the results.

    rnd = await open_round(session, "2026年度 第3四半期", first, last, person_id, now)
    problem = await vote(session, rnd, case_id, voter_id, voter_sections)   # None or a catalog key
    tally = await counts(session, rnd)                                      # [(case view, votes)]
    await close_round(session, rnd, now)

Who voted for what is never shown: the tally has counts only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.cases.service import PUBLISHED, CaseView, views
from storage.models import ImprovementCase, RecognitionRound, RecognitionVote

OPEN, CLOSED = "open", "closed"


async def current(session: AsyncSession) -> RecognitionRound | None:
    return await session.scalar(
        select(RecognitionRound)
        .where(RecognitionRound.state == OPEN)
        .order_by(RecognitionRound.id.desc())
        .limit(1)
    )


async def latest_closed(session: AsyncSession) -> RecognitionRound | None:
    return await session.scalar(
        select(RecognitionRound)
        .where(RecognitionRound.state == CLOSED)
        .order_by(RecognitionRound.closed_at.desc(), RecognitionRound.id.desc())
        .limit(1)
    )


def _in_period(rnd: RecognitionRound) -> object:
    from dialogs.kit.business_days import JST

    start = datetime.combine(rnd.period_from, datetime.min.time(), JST)
    end = datetime.combine(rnd.period_to, datetime.max.time(), JST)
    return (
        (ImprovementCase.state == PUBLISHED)
        & (ImprovementCase.published_at >= start)
        & (ImprovementCase.published_at <= end)
    )


async def candidates(session: AsyncSession, rnd: RecognitionRound) -> list[CaseView]:
    """The published cases of the period: every one is nominated."""
    return await views(session, _in_period(rnd), limit=10_000, order=[ImprovementCase.published_at])


async def open_round(
    session: AsyncSession, title: str, first: date, last: date, person_id: int | None, now: datetime
) -> RecognitionRound:
    rnd = RecognitionRound(
        title=title,
        period_from=first,
        period_to=last,
        state=OPEN,
        opened_by=person_id,
        opened_at=now,
        results=[],
    )
    session.add(rnd)
    await session.flush()
    return rnd


async def vote(
    session: AsyncSession, rnd: RecognitionRound, case_id: int, voter_id: int, voter_sections: set[int]
) -> str | None:
    """Record one vote; a catalog key saying why not otherwise."""
    if rnd.state != OPEN:
        return "recognition.error.closed"
    if await has_voted(session, rnd, voter_id):
        return "recognition.error.already"
    case = await session.get(ImprovementCase, case_id)
    if (
        case is None
        or case.state != PUBLISHED
        or case.id not in {v.case.id for v in await candidates(session, rnd)}
    ):
        return "recognition.error.not_candidate"
    if case.section_id in voter_sections:
        return "recognition.error.own_section"
    try:
        async with session.begin_nested():
            session.add(RecognitionVote(round_id=rnd.id, case_id=case_id, voter_person_id=voter_id))
    except IntegrityError:  # two clicks at once: the unique (round, voter) index keeps one
        return "recognition.error.already"
    return None


async def has_voted(session: AsyncSession, rnd: RecognitionRound, voter_id: int) -> bool:
    return (
        await session.scalar(
            select(RecognitionVote.id).where(
                RecognitionVote.round_id == rnd.id, RecognitionVote.voter_person_id == voter_id
            )
        )
    ) is not None


async def counts(session: AsyncSession, rnd: RecognitionRound) -> list[tuple[CaseView, int]]:
    """Every candidate with its votes, most votes first (then the earlier published)."""
    rows = await session.execute(
        select(RecognitionVote.case_id, func.count())
        .where(RecognitionVote.round_id == rnd.id)
        .group_by(RecognitionVote.case_id)
    )
    tally: dict[int, int] = {case_id: int(n) for case_id, n in rows.all()}
    cands = await candidates(session, rnd)
    ranked = sorted(enumerate(cands), key=lambda iv: (-tally.get(iv[1].case.id, 0), iv[0]))
    return [(v, int(tally.get(v.case.id, 0))) for _, v in ranked]


async def close_round(
    session: AsyncSession, rnd: RecognitionRound, now: datetime, top: int = 3
) -> list[dict]:
    """Close and keep the results: the cases with the most votes (ties share a place)."""
    tally = [(v, n) for v, n in await counts(session, rnd) if n > 0]
    results = []
    place, last = 0, None
    for i, (v, n) in enumerate(tally):
        if n != last:
            place, last = i + 1, n
        if place > top:
            break
        results.append(
            {
                "place": place,
                "case_id": v.case.id,
                "title": v.case.title,
                "section": f"{v.department} {v.section}",
                "votes": n,
            }
        )
    rnd.state = CLOSED
    rnd.closed_at = now
    rnd.results = results
    return results
