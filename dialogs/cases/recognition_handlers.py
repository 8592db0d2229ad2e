"""Teams commands for recognition (表彰): 表彰開始, 表彰投票, 表彰状況, 表彰締切."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any

from bot.api import Role, Turn
from dialogs.cases import cards, recognition, service
from dialogs.kit.business_days import format_date_ja, to_jst
from dialogs.kit.cards import adaptive_card, heading, submit, text
from dialogs.kit.router import Router

router = Router("cases")

_QUARTER = re.compile(r"(\d{4})\s*[qQ]([1-4])")
_YEAR = re.compile(r"(\d{4})\s*年度?")


def period(raw: str) -> tuple[str, date, date] | None:
    """「2026Q3」 (fiscal quarter: Q1 = April–June) or 「2026年度」 → (title, first day, last day)."""
    value = unicodedata.normalize("NFKC", raw).strip()
    if m := _QUARTER.fullmatch(value):
        fy, n = int(m.group(1)), int(m.group(2))
        month = 4 + (n - 1) * 3
        first = date(fy + (month > 12), (month - 1) % 12 + 1, 1)
        nxt = date(first.year + (first.month + 3 > 12), (first.month + 2) % 12 + 1, 1)
        return f"{fy}年度 第{n}四半期", first, nxt - timedelta(days=1)
    if m := _YEAR.fullmatch(value):
        fy = int(m.group(1))
        first, last = service.fiscal_year_bounds(fy)
        return f"{fy}年度", first, last
    return None


def _today(turn: Turn) -> date:
    return to_jst(turn.services.clock()).date()


@router.command(
    "表彰開始", "recognition open", role=Role.AUTHOR, help_key="recognition.cmd.open", usage="表彰開始 2026Q3"
)
async def open_command(turn: Turn, args: str) -> None:
    parsed = period(args)
    if parsed is None:
        await turn.reply(turn.t("recognition.open.usage"))
        return
    existing = await recognition.current(turn.session)
    if existing is not None:
        await turn.reply(turn.t("recognition.error.one_open", title=existing.title))
        return
    title, first, last = parsed
    rnd = await recognition.open_round(
        turn.session, title, first, last, turn.identity.person_id, turn.services.clock()
    )
    found = await recognition.candidates(turn.session, rnd)
    if not found:
        await turn.session.delete(rnd)
        await turn.reply(turn.t("recognition.error.no_cases", title=title))
        return
    await turn.reply(
        turn.t(
            "recognition.opened",
            title=title,
            first=format_date_ja(first),
            last=format_date_ja(last),
            count=len(found),
        )
    )


@router.command("表彰投票", "recognition vote", role=Role.PROMOTER, help_key="recognition.cmd.vote")
async def vote_command(turn: Turn, args: str) -> None:
    rnd = await recognition.current(turn.session)
    if rnd is None:
        await turn.reply(turn.t("recognition.error.none_open"))
        return
    if turn.identity.person_id is None:
        await turn.reply(turn.t("cases.error.no_section"))
        return
    if await recognition.has_voted(turn.session, rnd, turn.identity.person_id):
        await turn.reply(turn.t("recognition.error.already"))
        return
    own = {
        h.section_id for h in await service.sections_of(turn.session, turn.identity.person_id, _today(turn))
    }
    body: list[dict[str, Any]] = [
        heading(turn.t("recognition.vote.title", title=rnd.title), "Medium"),
        text(turn.t("recognition.vote.intro"), isSubtle=True),
    ]
    for view in await recognition.candidates(turn.session, rnd):
        if view.case.section_id in own:
            continue  # one's own section is not offered
        body += cards.case_block(turn.t, view)
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    submit(
                        turn.t("recognition.vote.button"), "recognition.vote", round=rnd.id, case=view.case.id
                    )
                ],
            }
        )
    await turn.reply_card(adaptive_card(body), text=turn.t("recognition.vote.title", title=rnd.title))


@router.action("recognition.vote", role=Role.PROMOTER)
async def on_vote(turn: Turn, data: dict[str, Any]) -> None:
    rnd = await recognition.current(turn.session)
    try:
        round_id, case_id = int(str(data.get("round"))), int(str(data.get("case")))
    except ValueError:
        round_id, case_id = 0, 0
    if rnd is None or rnd.id != round_id:
        await turn.reply(turn.t("recognition.error.closed"))
        return
    if turn.identity.person_id is None:
        await turn.reply(turn.t("cases.error.no_section"))
        return
    own = {
        h.section_id for h in await service.sections_of(turn.session, turn.identity.person_id, _today(turn))
    }
    problem = await recognition.vote(turn.session, rnd, case_id, turn.identity.person_id, own)
    if problem:
        await turn.reply(turn.t(problem))
        return
    await turn.reply(turn.t("recognition.voted", title=rnd.title))


async def _tally_card(turn: Turn, rnd: Any) -> dict[str, Any]:
    tally = await recognition.counts(turn.session, rnd)
    total = sum(n for _, n in tally)
    body = [
        heading(turn.t("recognition.status.title", title=rnd.title), "Medium"),
        text(turn.t("recognition.status.total", votes=total, cases=len(tally))),
    ]
    body += [
        text(
            turn.t(
                "recognition.status.line", title=v.case.title, section=f"{v.department} {v.section}", votes=n
            ),
            spacing="None",
        )
        for v, n in tally[:30]
    ]
    return adaptive_card(body)


@router.command("表彰状況", "recognition status", role=Role.AUTHOR, help_key="recognition.cmd.status")
async def status_command(turn: Turn, args: str) -> None:
    rnd = await recognition.current(turn.session) or await recognition.latest_closed(turn.session)
    if rnd is None:
        await turn.reply(turn.t("recognition.error.none_open"))
        return
    await turn.reply_card(
        await _tally_card(turn, rnd), text=turn.t("recognition.status.title", title=rnd.title)
    )


@router.command("表彰締切", "recognition close", role=Role.AUTHOR, help_key="recognition.cmd.close")
async def close_command(turn: Turn, args: str) -> None:
    from dialogs.cases.digest import compose_announcement

    rnd = await recognition.current(turn.session)
    if rnd is None:
        await turn.reply(turn.t("recognition.error.none_open"))
        return
    results = await recognition.close_round(turn.session, rnd, turn.services.clock())
    if not results:
        await turn.reply(turn.t("recognition.closed.no_votes", title=rnd.title))
        return
    lines = [turn.t("recognition.result.line", **r) for r in results]
    body = "\n\n".join(
        [turn.t("recognition.result.intro", title=rnd.title), *lines, turn.t("recognition.result.footer")]
    )
    await turn.reply(turn.t("recognition.closed", title=rnd.title))
    await compose_announcement(turn, turn.t("recognition.result.subject", title=rnd.title), body)
