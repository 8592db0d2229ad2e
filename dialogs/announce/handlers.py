"""Teams commands and card buttons for announcements (お知らせ)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from sqlalchemy import select, update

from bot.api import Address, Message, Role, Turn
from dialogs.announce import cards, service
from dialogs.announce.compose import Form, validate
from dialogs.announce.relay.reminders import recipient_card_message
from dialogs.announce.service import AUTHOR_KIND, KIND
from dialogs.engines import delivery
from dialogs.engines.delivery import Recipient
from dialogs.kit.business_days import JST, format_datetime_ja, non_business_reason
from dialogs.kit.router import Router
from dialogs.roster.network import today_jst
from storage.models import ConversationRef, Delivery, Department, Section
from storage.models.announce import Announcement, AnnouncementRecipient, AnnouncementState

router = Router("announce")

log = logging.getLogger(__name__)


# --- helpers -------------------------------------------------------------------------------------


def _id(data: dict[str, Any]) -> int | None:
    raw = data.get("id")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


async def _load(turn: Turn, data: dict[str, Any]) -> Announcement | None:
    ann_id = _id(data)
    ann = await turn.session.get(Announcement, ann_id) if ann_id else None
    if ann_id and ann is None:
        await turn.reply(turn.t("announce.err.not_found", id=ann_id))
    return ann


async def _show(turn: Turn, card: dict[str, Any], text: str | None = None) -> str | None:
    """Replace the card the button was on, or post a new one when the client did not say which."""
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
        return turn.reply_to_id
    return await turn.reply_card(card, text=text)


async def _compose(
    turn: Turn,
    form: Form,
    *,
    errors: list[str] | None = None,
    info: str | None = None,
    ann_id: int | None = None,
    revise: bool = False,
    in_place: bool = True,
) -> None:
    departments, sections = await service.roster_choices(turn.session)
    channel = await service.division_channel(turn.session)
    card = cards.compose_card(
        turn.t,
        form,
        departments=departments,
        sections=sections,
        channel_title=(channel.get("title") or "") if channel else None,
        errors=errors or [],
        info=info,
        ann_id=ann_id,
        revise=revise,
    )
    if in_place:
        await _show(turn, card, turn.t("announce.compose.title"))
    else:
        await turn.reply_card(card, text=turn.t("announce.compose.title"))


async def _audience_label(turn: Turn, audience: dict[str, Any]) -> str:
    kind = audience.get("kind", "all")
    label = turn.t(f"announce.audience.{kind}")
    ids = audience.get("ids") or []
    if kind == "departments" and ids:
        names = (await turn.session.scalars(select(Department.name).where(Department.id.in_(ids)))).all()
        label = "、".join(names)
    elif kind == "sections" and ids:
        names = (await turn.session.scalars(select(Section.name).where(Section.id.in_(ids)))).all()
        label = "、".join(names)
    return label


def _send_warnings(turn: Turn, ann: Announcement) -> list[str]:
    moment = ann.send_at or turn.services.clock()
    reason = non_business_reason(moment.astimezone(JST).date())
    if reason is None:
        return []
    return [turn.t("announce.warn.holiday_send", at=format_datetime_ja(moment), reason=reason)]


def _author(turn: Turn) -> dict[str, Any]:
    return {
        "author_person_id": turn.identity.person_id,
        "author_label": turn.identity.email or turn.user.name or "teams",
        "locale": turn.locale,
    }


# --- commands ------------------------------------------------------------------------------------


@router.command(
    "お知らせ",
    "お知らせ作成",
    "周知",
    "announce",
    role=Role.AUTHOR,
    help_key="announce.cmd.new",
    usage="お知らせ",
)
async def new_announcement(turn: Turn, args: str) -> None:
    form = Form(title=args.strip()[:100]) if args.strip() else Form()
    await _compose(turn, form, in_place=False)


@router.command(
    "お知らせ一覧", "announcements", role=Role.AUTHOR, help_key="announce.cmd.list", usage="お知らせ一覧"
)
async def list_announcements(turn: Turn, args: str) -> None:
    rows = [(a, await service.figures(turn.session, a)) for a in await service.recent(turn.session, 10)]
    await turn.reply_card(cards.list_card(turn.t, rows), text=turn.t("announce.list.title"))


@router.command(
    "未確認の課",
    "unconfirmed",
    role=Role.AUTHOR,
    help_key="announce.cmd.unconfirmed",
    usage="未確認の課 [番号]",
)
async def unconfirmed_command(turn: Turn, args: str) -> None:
    ann = None
    if args.strip().lstrip("#").isdigit():
        ann = await turn.session.get(Announcement, int(args.strip().lstrip("#")))
    else:
        ann = await service.latest_sent(turn.session)
    if ann is None:
        await turn.reply(turn.t("announce.unconfirmed.nothing"))
        return
    await _reply_unconfirmed(turn, ann)


async def _reply_unconfirmed(turn: Turn, ann: Announcement) -> None:
    if not ann.ack_required:
        await turn.reply(turn.t("announce.err.no_ack", title=ann.title))
        return
    sections = await service.unconfirmed_sections(turn.session, ann)
    total = len({r.section_id for r in await _recipients(turn, ann)})
    await turn.reply_card(
        cards.unconfirmed_card(turn.t, ann, sections, total), text=turn.t("announce.cmd.unconfirmed")
    )


async def _recipients(turn: Turn, ann: Announcement) -> list[Any]:
    from storage.models.announce import AnnouncementRecipient

    return list(
        (
            await turn.session.scalars(
                select(AnnouncementRecipient).where(AnnouncementRecipient.announcement_id == ann.id)
            )
        ).all()
    )


@router.command(
    "ここをDX推進課チャンネルにする",
    "DX推進課チャンネル設定",
    role=Role.ADMIN,
    help_key="announce.cmd.channel",
    usage="ここをDX推進課チャンネルにする",
    scopes=["channel", "groupChat"],
)
async def set_channel(turn: Turn, args: str) -> None:
    ref = await turn.session.scalar(
        select(ConversationRef).where(ConversationRef.conversation_id == turn.conversation.id)
    )
    if ref is None:
        await turn.reply(turn.t("announce.channel.unknown"))
        return
    # A post in a channel thread carries ";messageid=…": the channel itself is the part before it.
    conversation_id = turn.conversation.id.split(";", 1)[0]
    address = Address(
        conversation_id=conversation_id,
        service_url=ref.service_url,
        tenant_id=ref.tenant_id,
        conversation_type=turn.conversation.type,
        bot_id=ref.bot_id,
    )
    await service.set_division_channel(turn.session, address, ref.title, turn.services.clock())
    await turn.reply(turn.t("announce.channel.set"))


@router.command(
    "お知らせ書き出し",
    "announce export",
    role=Role.AUTHOR,
    help_key="announce.cmd.export",
    usage="お知らせ書き出し 番号",
)
async def export_command(turn: Turn, args: str) -> None:
    raw = args.strip().lstrip("#")
    ann = await turn.session.get(Announcement, int(raw)) if raw.isdigit() else None
    if ann is None:
        await turn.reply(turn.t("announce.export.usage"))
        return
    await _reply_export(turn, ann)


async def _reply_export(turn: Turn, ann: Announcement) -> None:
    from dialogs.kit.cards import adaptive_card, heading, open_url, text

    card = adaptive_card(
        [
            heading(turn.t("announce.export.title"), size="Medium"),
            text(turn.t("announce.export.body", title=ann.title)),
        ],
        [
            open_url(turn.t("announce.btn.export_xlsx"), service.export_url(turn.services, ann, "xlsx")),
            open_url(turn.t("announce.btn.export_csv"), service.export_url(turn.services, ann, "csv")),
        ],
    )
    await turn.reply_card(card, text=turn.t("announce.export.title"))


# --- compose, preview, send ----------------------------------------------------------------------


@router.action("announce.save", role=Role.AUTHOR)
async def save(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is not None and ann.state != AnnouncementState.DRAFT:
        await turn.reply(turn.t("announce.err.not_draft"))
        return
    form = Form.from_values(data)
    ann = await service.save_form(turn.session, ann, form, now=turn.services.clock(), **_author(turn))
    await _compose(turn, form, info=turn.t("announce.compose.saved", id=ann.id), ann_id=ann.id)


@router.action("announce.preview", role=Role.AUTHOR)
async def preview(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is not None and ann.state != AnnouncementState.DRAFT:
        await turn.reply(turn.t("announce.err.not_draft"))
        return
    form = Form.from_values(data)
    now = turn.services.clock()
    ann = await service.save_form(turn.session, ann, form, now=now, **_author(turn))
    channel = await service.division_channel(turn.session)
    draft, errors = validate(form, now, turn.t, channel_available=channel is not None)
    summary = None
    if draft is not None:
        summary = await service.summarize(turn.session, draft.audience, today_jst(now))
        if summary.people == 0:
            errors = [turn.t("announce.err.nobody")]
    if draft is None or summary is None or errors:
        await _compose(turn, form, errors=errors, ann_id=ann.id)
        return
    service.apply_draft(ann, draft, form)
    await turn.session.flush()
    card = cards.preview_card(
        turn.t,
        ann,
        summary,
        audience_label=await _audience_label(turn, ann.audience),
        notices=draft.notices,
        warnings=_send_warnings(turn, ann),
        channel_title=(channel or {}).get("title"),
        recipient_t=service._t(turn.services.settings.locale),
    )
    await _show(turn, card, turn.t("announce.preview.title"))


@router.action("announce.edit", role=Role.AUTHOR)
async def edit_draft(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state != AnnouncementState.DRAFT:
        await turn.reply(turn.t("announce.err.not_draft"))
        return
    await _compose(turn, Form.from_json(ann.form) if ann.form else Form(), ann_id=ann.id)


@router.action("announce.open_draft", role=Role.AUTHOR)
async def open_draft(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    await _compose(turn, Form.from_json(ann.form) if ann.form else Form(), ann_id=ann.id, in_place=False)


@router.action("announce.discard", role=Role.AUTHOR)
async def discard(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is not None and ann.state == AnnouncementState.DRAFT:
        ann.state = AnnouncementState.DISCARDED.value
        ann.updated_at = turn.services.clock()
    await _show(
        turn, cards.note_card(turn.t, turn.t("announce.discarded.title"), turn.t("announce.discarded.body"))
    )


@router.action("announce.send", role=Role.AUTHOR)
async def send(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    now = turn.services.clock()
    # One press wins, even if the button is pressed twice or by two authors at once.
    claimed = await turn.session.execute(
        update(Announcement)
        .where(Announcement.id == ann.id, Announcement.state == AnnouncementState.DRAFT.value)
        .values(state=AnnouncementState.SENDING.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        await turn.reply(turn.t("announce.err.already_sent"))
        return
    await turn.session.refresh(ann)
    channel = await service.division_channel(turn.session)
    form = Form.from_json(ann.form) if ann.form else Form()
    draft, errors = validate(form, now, turn.t, channel_available=channel is not None)
    if draft is None:  # e.g. the scheduled time passed while the preview was open
        ann.state = AnnouncementState.DRAFT.value
        await _compose(turn, form, errors=errors, ann_id=ann.id)
        return
    service.apply_draft(ann, draft, form)
    count = await service.send_or_schedule(turn.services, turn.session, ann, now)
    card = await service.progress_card(turn.services, turn.session, ann)
    card_id = await _show(turn, card, turn.t("announce.progress.title", title=ann.title))
    if card_id:
        await delivery.record_sent(
            turn.session,
            AUTHOR_KIND,
            ann.id,
            Recipient(conversation_id=turn.conversation.id),
            card_id,
            Message(card=card),
            now=now,
        )
    log.info("announcement %d sent by an author to %d people", ann.id, count)


@router.action("announce.unschedule", role=Role.AUTHOR)
async def unschedule(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    result = await turn.session.execute(
        update(Announcement)
        .where(Announcement.id == ann.id, Announcement.state == AnnouncementState.SCHEDULED.value)
        .values(state=AnnouncementState.DRAFT.value, updated_at=turn.services.clock())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        await turn.reply(turn.t("announce.err.not_scheduled"))
        return
    await turn.session.refresh(ann)
    await _compose(
        turn,
        Form.from_json(ann.form) if ann.form else Form(),
        info=turn.t("announce.compose.unscheduled"),
        ann_id=ann.id,
    )


# --- recipients ----------------------------------------------------------------------------------


@router.action("announce.ack", role=Role.ANYONE)
async def ack(turn: Turn, data: dict[str, Any]) -> None:
    ann_id = _id(data)
    if data.get("preview"):
        await turn.reply(turn.t("announce.ack.preview"))
        return
    if ann_id is None:
        await turn.reply(turn.t("core.unknown_action"))
        return
    now = turn.services.clock()
    result = await service.acknowledge(
        turn.services,
        turn.session,
        ann_id,
        activity_id=turn.reply_to_id,
        conversation_id=turn.conversation.id,
        person_id=turn.identity.person_id,
        aad_object_id=turn.user.aad_object_id,
        now=now,
    )
    if not result.ok:
        log.info("acknowledgement refused: %s", result.reason)
        await turn.reply(turn.t(f"announce.ack.{result.reason}"))
        return
    ann = await turn.session.get(Announcement, ann_id)
    assert ann is not None
    message = service.recipient_message(ann, turn.services.settings.locale, confirmed_at=result.confirmed_at)
    if ann.relay_required:  # the card turns into the relay request with its report form
        recipient = await turn.session.scalar(
            select(AnnouncementRecipient).where(
                AnnouncementRecipient.announcement_id == ann.id,
                AnnouncementRecipient.person_id == result.person_id,
            )
        )
        if recipient is not None:
            message = await recipient_card_message(turn.services, turn.session, ann, recipient)
    if turn.reply_to_id and message.card:
        await turn.update_card(turn.reply_to_id, message.card)
        # Keep the stored copy in step, so a later edit keeps showing 確認済み.
        row = await delivery.find_by_activity(turn.session, KIND, turn.reply_to_id)
        if row is not None:
            row.payload = delivery.message_to_payload(message)
    else:
        await turn.reply(turn.t("announce.ack.done"))


# --- the author's card after sending -------------------------------------------------------------


async def _is_author_card(turn: Turn, ann: Announcement) -> bool:
    if not turn.reply_to_id:
        return False
    row = await turn.session.scalar(
        select(Delivery).where(
            Delivery.kind == AUTHOR_KIND, Delivery.ref_id == ann.id, Delivery.activity_id == turn.reply_to_id
        )
    )
    return row is not None


@router.action("announce.status", role=Role.AUTHOR)
async def status(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    card = await service.progress_card(turn.services, turn.session, ann)
    if await _is_author_card(turn, ann):
        assert turn.reply_to_id is not None
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=turn.t("announce.progress.title", title=ann.title))


@router.action("announce.unconfirmed", role=Role.AUTHOR)
async def unconfirmed_action(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is not None:
        await _reply_unconfirmed(turn, ann)


@router.action("announce.remind", role=Role.AUTHOR)
async def remind(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT) or not ann.ack_required:
        await turn.reply(turn.t("announce.remind.not_possible"))
        return
    n = await service.remind(turn.services, turn.session, ann, turn.services.clock())
    await service.refresh_author_card(turn.services, turn.session, ann)
    await turn.reply(turn.t("announce.remind.done" if n else "announce.remind.nobody", n=n, title=ann.title))


@router.action("announce.resend", role=Role.AUTHOR)
async def resend(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    n = await service.resend_failed(turn.services, turn.session, ann, turn.services.clock())
    await turn.reply(turn.t("announce.resend.done" if n else "announce.resend.nothing", n=n))


@router.action("announce.retry", role=Role.AUTHOR)
async def retry(turn: Turn, data: dict[str, Any]) -> None:
    """再試行 on the author's card: only the copies the recall or the edit could not change."""
    ann = await _load(turn, data)
    if ann is None:
        return
    recalled = ann.state == AnnouncementState.RECALLED
    n = await service.retry_changes(turn.services, turn.session, ann, turn.services.clock())
    if not n:
        await turn.reply(turn.t("announce.retry.nothing"))
        return
    await turn.reply(turn.t("announce.retry.recall" if recalled else "announce.retry.edit", n=n))


@router.action("announce.revise", role=Role.AUTHOR)
async def revise(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        await turn.reply(turn.t("announce.err.not_sent"))
        return
    form = _form_of(ann)
    in_place = not await _is_author_card(turn, ann)  # never overwrite the progress card
    await _compose(turn, form, ann_id=ann.id, revise=True, in_place=in_place)


def _form_of(ann: Announcement) -> Form:
    links = [[x["title"], x["url"]] for x in ann.links or []]
    links += [["", ""] for _ in range(3 - len(links))]
    return Form(
        title=ann.title,
        body=ann.body,
        links=links,
        importance=ann.importance,
        audience=ann.audience.get("kind", "all"),
        ack_required=ann.ack_required,
        deadline=ann.deadline.isoformat() if ann.deadline else "",
    )


def _revised(ann: Announcement, form: Form, turn: Turn) -> tuple[Form, list[str], Any]:
    """The edit form checked against the announcement: audience and timing stay as sent."""
    base = _form_of(ann)
    form.audience = base.audience
    form.department_ids = list(ann.audience.get("ids") or []) if base.audience == "departments" else []
    form.section_ids = list(ann.audience.get("ids") or []) if base.audience == "sections" else []
    form.ack_required = ann.ack_required
    form.send_mode = "now"
    form.to_channel = False
    if not ann.ack_required:
        form.deadline = ""
    draft, errors = validate(form, turn.services.clock(), turn.t)
    return form, errors, draft


@router.action("announce.revise_preview", role=Role.AUTHOR)
async def revise_preview(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        await turn.reply(turn.t("announce.err.not_sent"))
        return
    form, errors, draft = _revised(ann, Form.from_values(data), turn)
    if draft is None:
        await _compose(turn, form, errors=errors, ann_id=ann.id, revise=True)
        return
    ann.form = form.to_json()
    shown = copy.copy(ann)  # render the new text without touching the sent announcement yet
    for key in ("title", "body", "links", "importance"):
        setattr(shown, key, getattr(draft, key))
    if draft.deadline:
        shown.deadline = draft.deadline
    counts = await delivery.counts(turn.session, KIND, ann.id, purposes=None)
    card = cards.preview_card(
        turn.t,
        shown,
        await service.summarize(
            turn.session, {"kind": "sections", "ids": []}, today_jst(turn.services.clock())
        ),
        audience_label="",
        notices=draft.notices,
        revise_copies=counts.delivered + counts.pending,
        recipient_t=service._t(turn.services.settings.locale),
    )
    await _show(turn, card, turn.t("announce.preview.revise_title"))


@router.action("announce.apply_edit", role=Role.AUTHOR)
async def apply_edit(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT) or str(
        data.get("version")
    ) != str(ann.version):
        await turn.reply(turn.t("announce.err.stale"))
        return
    _, errors, draft = _revised(ann, Form.from_json(ann.form), turn)
    if draft is None:
        await _compose(turn, Form.from_json(ann.form), errors=errors, ann_id=ann.id, revise=True)
        return
    n = await service.apply_edit(turn.services, turn.session, ann, draft, turn.services.clock())
    await _show(
        turn, cards.note_card(turn.t, turn.t("announce.edited.title"), turn.t("announce.edited.body", n=n))
    )


@router.action("announce.recall", role=Role.AUTHOR)
async def recall(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        await turn.reply(turn.t("announce.err.not_sent"))
        return
    c = await delivery.counts(turn.session, KIND, ann.id, purposes=None)
    await turn.reply_card(
        cards.recall_confirm_card(turn.t, ann, c.delivered + c.sending, c.queued),
        text=turn.t("announce.recall.title"),
    )


@router.action("announce.recall_confirm", role=Role.AUTHOR)
async def recall_confirm(turn: Turn, data: dict[str, Any]) -> None:
    ann = await _load(turn, data)
    if ann is None:
        return
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        await _show(
            turn, cards.note_card(turn.t, turn.t("announce.recall.title"), turn.t("announce.err.not_sent"))
        )
        return
    n = await service.recall(turn.services, turn.session, ann, turn.services.clock())
    await _show(
        turn,
        cards.note_card(
            turn.t, turn.t("announce.recalled.title"), turn.t("announce.recalled.body", n=n, title=ann.title)
        ),
    )


@router.action("announce.dismiss", role=Role.AUTHOR)
async def dismiss(turn: Turn, data: dict[str, Any]) -> None:
    await _show(
        turn, cards.note_card(turn.t, turn.t("announce.dismissed.title"), turn.t("announce.dismissed.body"))
    )
