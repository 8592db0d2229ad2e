"""Teams commands and card buttons for improvement cases (改善事例)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from bot.api import FileAttachment, Message, Role, Turn
from dialogs.cases import cards, service
from dialogs.cases.service import PUBLISHED, RETURNED, SUBMITTED
from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue
from dialogs.kit.business_days import to_jst
from dialogs.kit.router import Router
from storage.models import ImprovementCase

router = Router("cases")

log = logging.getLogger(__name__)
KIND = "case"  # delivery rows: ref_id is the case id
PERSONAL = ("personal",)


def _today(turn: Turn) -> date:
    return to_jst(turn.services.clock()).date()


def _id(data: dict[str, Any]) -> int | None:
    try:
        value = int(str(data.get("id") or ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


async def _show(turn: Turn, card: dict[str, Any], text: str | None = None) -> None:
    """Replace the card the button was on, or post a new one when the client did not say which."""
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=text)


# --- 事例登録 ---------------------------------------------------------------------------------------


@router.command(
    "事例登録", "事例を登録", "case submit", role=Role.PROMOTER, help_key="cases.cmd.submit", scopes=PERSONAL
)
async def submit_command(turn: Turn, args: str) -> None:
    homes = await service.sections_of(turn.session, turn.identity.person_id, _today(turn))
    if not homes:
        await turn.reply(turn.t("cases.error.no_section"))
        return
    tools = await service.tool_names(turn.session)
    await turn.reply_card(cards.form_card(turn.t, tools, homes), text=turn.t("cases.form.title"))


async def _own_case(turn: Turn, case_id: int, homes: list[service.Home]) -> ImprovementCase | None:
    case = await turn.session.get(ImprovementCase, case_id)
    if case is None or case.section_id not in {h.section_id for h in homes}:
        await turn.reply(turn.t("cases.error.not_found", id=case_id))
        return None
    if case.state != RETURNED:
        await turn.reply(turn.t("cases.error.not_editable", state=turn.t(f"cases.state.{case.state}")))
        return None
    return case


@router.action("cases.submit", role=Role.PROMOTER, scopes=PERSONAL)
async def on_submit(turn: Turn, data: dict[str, Any]) -> None:
    today = _today(turn)
    homes = await service.sections_of(turn.session, turn.identity.person_id, today)
    if not homes:
        await turn.reply(turn.t("cases.error.no_section"))
        return
    tools = await service.tool_names(turn.session)
    case_id = _id(data)
    case = await _own_case(turn, case_id, homes) if case_id else None
    if case_id and case is None:
        return
    parsed, problems = service.validate(data, tools, today)
    if parsed is None:
        await _show(
            turn, cards.form_card(turn.t, tools, homes, data, problems, case_id), turn.t("cases.form.title")
        )
        return
    now = turn.services.clock()
    if case is not None:
        service.resubmit(case, parsed, now)
        await _tell_division(turn, case, homes)
        await _show(turn, cards.adaptive_card([cards.text(turn.t("cases.resubmitted", title=case.title))]))
        return
    home = homes[0]
    if parsed.section_id is not None:
        chosen = [h for h in homes if h.section_id == parsed.section_id]
        if not chosen:
            await turn.reply(turn.t("cases.error.not_your_section"))
            return
        home = chosen[0]
    case = await service.submit(turn.session, parsed, home, turn.identity.person_id, now)
    log.info("case %d submitted for section %d", case.id, home.section_id)
    await _tell_division(turn, case, homes)
    await _show(
        turn, cards.adaptive_card([cards.text(turn.t("cases.submitted", title=case.title, id=case.id))])
    )


async def _tell_division(turn: Turn, case: ImprovementCase, homes: list[service.Home]) -> None:
    """A line in the DX division's channel (the one announcements use), if one is set: a case waits."""
    from dialogs.announce.service import division_channel

    channel = await division_channel(turn.session)
    if channel is None:
        return
    home = next((h for h in homes if h.section_id == case.section_id), homes[0])
    message = Message(
        text=turn.t("cases.notify.division", title=case.title, section=f"{home.department} {home.section}")
    )
    stamp = int(turn.services.clock().timestamp())
    item = DeliveryItem(
        Recipient(conversation_id=channel["conversation_id"]), message, purpose=f"review-{stamp}"
    )
    await enqueue(turn.session, KIND, case.id, [item], now=turn.services.clock())


# --- 自分の事例 / 修正 ----------------------------------------------------------------------------


@router.command("自分の事例", "my cases", role=Role.PROMOTER, help_key="cases.cmd.mine")
async def mine_command(turn: Turn, args: str) -> None:
    homes = await service.sections_of(turn.session, turn.identity.person_id, _today(turn))
    if not homes:
        await turn.reply(turn.t("cases.error.no_section"))
        return
    views = await service.mine(turn.session, [h.section_id for h in homes])
    await turn.reply_card(cards.mine_card(turn.t, views), text=turn.t("cases.mine.title"))


@router.action("cases.edit", role=Role.PROMOTER, scopes=PERSONAL)
async def on_edit(turn: Turn, data: dict[str, Any]) -> None:
    homes = await service.sections_of(turn.session, turn.identity.person_id, _today(turn))
    case_id = _id(data)
    if not homes or case_id is None:
        await turn.reply(turn.t("cases.error.not_found", id=data.get("id", "")))
        return
    case = await _own_case(turn, case_id, homes)
    if case is None:
        return
    values = {
        "title": case.title,
        "description": case.description,
        "work": case.work,
        "tools": case.tools,
        "hours_before": service.fmt_hours(case.hours_before).replace(",", ""),
        "hours_after": service.fmt_hours(case.hours_after).replace(",", ""),
        "staff": case.staff,
        "started_on": case.started_on.isoformat(),
        "file_url": case.file_url or "",
    }
    tools = await service.tool_names(turn.session)
    card = cards.form_card(turn.t, tools, homes, values, case_id=case.id)
    await turn.reply_card(card, text=turn.t("cases.form.edit_title"))


# --- 事例審査 (DX division) ------------------------------------------------------------------------


async def _review_card(turn: Turn) -> dict[str, Any]:
    return cards.review_card(
        turn.t, await service.pending(turn.session, limit=5), await service.count_pending(turn.session)
    )


@router.command("事例審査", "事例確認", "case review", role=Role.AUTHOR, help_key="cases.cmd.review")
async def review_command(turn: Turn, args: str) -> None:
    await turn.reply_card(await _review_card(turn), text=turn.t("cases.review.title", count=""))


async def _pending_case(turn: Turn, data: dict[str, Any]) -> ImprovementCase | None:
    case_id = _id(data)
    case = await turn.session.get(ImprovementCase, case_id) if case_id else None
    if case is None:
        await turn.reply(turn.t("cases.error.not_found", id=data.get("id", "")))
        return None
    if case.state != SUBMITTED:
        state = turn.t(f"cases.state.{case.state}")
        await turn.reply(turn.t("cases.error.already", title=case.title, state=state))
        return None
    return case


async def _notify(turn: Turn, case: ImprovementCase, key: str, **kw: Any) -> None:
    """Tell the person who submitted the case (through the delivery engine: they may be offline)."""
    if case.submitted_by is None:
        return
    stamp = int(turn.services.clock().timestamp())
    message = Message(text=turn.t(key, title=case.title, **kw))
    item = DeliveryItem(Recipient(person_id=case.submitted_by), message, purpose=f"{case.state}-{stamp}")
    await enqueue(turn.session, KIND, case.id, [item], now=turn.services.clock())


@router.action("cases.publish", role=Role.AUTHOR)
async def on_publish(turn: Turn, data: dict[str, Any]) -> None:
    case = await _pending_case(turn, data)
    if case is None:
        return
    service.publish(case, turn.identity.person_id, turn.services.clock())
    await _notify(turn, case, "cases.notify.published")
    await turn.session.flush()
    await _show(turn, await _review_card(turn))
    await turn.reply(turn.t("cases.review.published", title=case.title))


@router.action("cases.return", role=Role.AUTHOR)
async def on_return(turn: Turn, data: dict[str, Any]) -> None:
    case = await _pending_case(turn, data)
    if case is None:
        return
    comment = str(data.get(f"comment_{case.id}") or data.get("comment") or "").strip()[:1000]
    if not comment:
        await turn.reply(turn.t("cases.error.comment_missing"))
        return
    service.send_back(case, turn.identity.person_id, comment, turn.services.clock())
    await _notify(turn, case, "cases.notify.returned", comment=comment)
    await turn.session.flush()
    await _show(turn, await _review_card(turn))
    await turn.reply(turn.t("cases.review.returned", title=case.title))


# --- 事例 (search and lists) ----------------------------------------------------------------------


async def _search(turn: Turn, query: str) -> None:
    query = query.strip()[:100]
    if not query:
        published = await service.views(turn.session, ImprovementCase.state == PUBLISHED, limit=100_000)
        counts = service.by_department_and_tool(published)
        hours, total = await service.total_saved(turn.session)
        card = cards.overview_card(turn.t, total, hours, counts["tool"], counts["department"])
        await turn.reply_card(card, text=turn.t("cases.overview.title", total=total, hours=hours))
        return
    tools = await service.tool_names(turn.session)
    found, total = await service.search(turn.session, query, tools)
    await turn.reply_card(
        cards.search_card(turn.t, query, found, total),
        text=turn.t("cases.search.title", query=query, total=total),
    )


@router.command("事例", "事例検索", "cases", help_key="cases.cmd.search", usage="事例 RPA")
async def search_command(turn: Turn, args: str) -> None:
    await _search(turn, args)


@router.action("cases.search")
async def on_search(turn: Turn, data: dict[str, Any]) -> None:
    await _search(turn, str(data.get("q") or ""))


# --- 事例集計 ---------------------------------------------------------------------------------------


@router.command(
    "事例集計",
    "削減時間",
    "case savings",
    role=Role.AUTHOR,
    help_key="cases.cmd.savings",
    usage="事例集計 2026",
)
async def savings_command(turn: Turn, args: str) -> None:
    raw = args.strip()
    fy: int | None = None
    if raw:
        digits = raw.removesuffix("年度")
        if not (digits.isascii() and digits.isdigit() and len(digits) == 4):
            await turn.reply(turn.t("cases.savings.usage"))
            return
        fy = int(digits)
    scope = turn.t("cases.savings.fy", fy=fy) if fy else turn.t("cases.savings.all")
    s = turn.session
    card = cards.savings_card(
        turn.t,
        scope,
        await service.total_saved(s, fy),
        await service.savings(s, "department", fy),
        await service.savings(s, "tool", fy),
        await service.savings(s, "fiscal_year", fy),
    )
    await turn.reply_card(card, text=turn.t("cases.savings.title", scope=scope))


# --- 事例ダイジェスト ------------------------------------------------------------------------------


@router.command(
    "事例ダイジェスト",
    "case digest",
    role=Role.AUTHOR,
    help_key="cases.cmd.digest",
    usage="事例ダイジェスト 30",
)
async def digest_command(turn: Turn, args: str) -> None:
    from dialogs.cases.digest import compose_digest

    raw = args.strip() or "30"
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 365):
        await turn.reply(turn.t("cases.digest.usage"))
        return
    days = int(raw)
    since = turn.services.clock() - timedelta(days=days)
    views = await service.views(
        turn.session,
        (ImprovementCase.state == PUBLISHED) & (ImprovementCase.published_at >= since),
        limit=15,
        order=[ImprovementCase.published_at.desc()],
    )
    if not views:
        await turn.reply(turn.t("cases.digest.none", days=days))
        return
    await compose_digest(turn, views)


# --- free text (the QA feature asks) -------------------------------------------------------------


async def related_cases_card(turn: Turn, question: str, answered: bool) -> dict[str, Any] | None:
    """A card of published cases for a free-text question, shown beside (not as) the FAQ answer."""
    tools = await service.tool_names(turn.session)
    found = await service.related(turn.session, question, tools, answered)
    if not found:
        return None
    return cards.related_card(turn.t, found)


# --- Excel import in Teams ----------------------------------------------------------------------

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_SHOWN_PROBLEMS = 20


def _cases_file(file: FileAttachment, text: str) -> bool:
    """Excel with 「事例」 in the message or the file name: cases collected before the bot (else a roster)."""
    return file.name.lower().endswith(".xlsx") and ("事例" in text or "事例" in file.name)


@router.on_file(role=Role.AUTHOR, accepts=_cases_file, scopes=PERSONAL)
async def on_cases_file(turn: Turn) -> None:
    from dialogs.cases.importer import import_cases, read_xlsx

    attachment = turn.attachments[0]
    try:
        data = await turn.download(attachment, max_bytes=IMPORT_MAX_BYTES)
    except ValueError:
        await turn.reply(turn.t("cases.import.too_large", name=attachment.name, mb=IMPORT_MAX_BYTES // 2**20))
        return
    except Exception as exc:  # an expired link, the network
        log.warning("cases file download failed: %s", type(exc).__name__)
        await turn.reply(turn.t("cases.import.download_failed", name=attachment.name))
        return
    try:
        rows = read_xlsx(data)
    except Exception as exc:  # not a workbook, a damaged one
        log.info("cases file unreadable: %s", type(exc).__name__)
        await turn.reply(turn.t("cases.import.unreadable", name=attachment.name))
        return
    problems, count = await import_cases(turn.session, rows, turn.services.clock(), turn.locale)
    if problems:
        shown = problems[:IMPORT_SHOWN_PROBLEMS]
        more = len(problems) - len(shown)
        lines = [turn.t("cases.import.errors"), *(f"- {p}" for p in shown)]
        if more:
            lines.append(turn.t("cases.import.more", count=more))
        await turn.reply("\n".join(lines))
        return
    await turn.reply(turn.t("cases.import.done", count=count))
