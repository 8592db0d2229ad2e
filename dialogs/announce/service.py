"""Announcements: from a validated draft to rows in the delivery engine, and everything after —
acknowledgements, reminders, resends, edits, recalls, figures and the schedule.

Everything here takes the caller's session and never commits; Teams handlers, the CLI, the HTTP API
and the background job all go through these functions.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.api import Address, Message, Services
from dialogs.announce import cards
from dialogs.announce.compose import Draft, Form
from dialogs.announce.relay import reminders as relay_reminders
from dialogs.announce.relay import store as relay_store
from dialogs.announce.relay.store import RelaySummary
from dialogs.engines import delivery
from dialogs.engines.delivery import DeliveryItem, DeliveryState, Recipient
from dialogs.engines.delivery.receipts import ReadCounts, read_counts
from dialogs.kit.business_days import JST, add_business_days
from dialogs.kit.i18n import t as translate
from dialogs.roster.coverage import reachable_people
from dialogs.roster.network import Promoter, current_promoters, today_jst
from storage.models import (
    AppSetting,
    Delivery,
    Department,
    Person,
    Section,
    TeamsAccount,
)
from storage.models.announce import Announcement, AnnouncementRecipient, AnnouncementState

log = logging.getLogger(__name__)

KIND = "announcement"  # recipients' copies (and the channel post, purpose "channel")
AUTHOR_KIND = "announcement-author"  # the author's own card, updated as the send progresses
CHANNEL_KEY = "announce.division_channel"
CHANNEL_PURPOSE = "channel"
REMINDER_PURPOSE = "reminder-"  # every reminder to confirm: + N (by hand) or + "auto-<deadline>"
# The automatic reminder's purpose, + "-<deadline>": one per confirmation deadline (an edit that moves the
# deadline re-arms it; under one purpose the engine would take the new one for the one already sent).
# Rows from before the deadline was part of it read plain "reminder-auto".
AUTO_REMINDER_PURPOSE = "reminder-auto"
LATE_AFTER = timedelta(minutes=2)
REMINDER_HOUR = time(9, 0)


# --- setup ---------------------------------------------------------------------------------------


async def division_channel(session: AsyncSession) -> dict[str, Any] | None:
    row = await session.get(AppSetting, CHANNEL_KEY)
    return row.value if row and row.value.get("conversation_id") else None


async def set_division_channel(
    session: AsyncSession, address: Address, title: str | None, now: datetime
) -> None:
    value = {
        "conversation_id": address.conversation_id,
        "service_url": address.service_url,
        "tenant_id": address.tenant_id,
        "bot_id": address.bot_id,
        "title": title or "",
    }
    row = await session.get(AppSetting, CHANNEL_KEY)
    if row is None:
        session.add(AppSetting(key=CHANNEL_KEY, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


def channel_address(value: dict[str, Any]) -> Address:
    return Address(
        conversation_id=value["conversation_id"],
        service_url=value["service_url"],
        tenant_id=value.get("tenant_id"),
        conversation_type="channel",
        bot_id=value.get("bot_id"),
    )


async def roster_choices(session: AsyncSession) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(departments, sections) for the audience pickers, in roster order."""
    departments = [
        (d.id, d.name)
        for d in (
            await session.scalars(select(Department).order_by(Department.sort_order, Department.id))
        ).all()
    ]
    sections = [
        (sid, f"{dept} {name}")
        for sid, dept, name in (
            await session.execute(
                select(Section.id, Department.name, Section.name)
                .join(Department, Department.id == Section.department_id)
                .where(Section.active.is_(True))
                .order_by(Department.sort_order, Department.id, Section.sort_order, Section.id)
            )
        ).all()
    ]
    return departments, sections


async def ids_for_names(
    session: AsyncSession, kind: str, names: Sequence[str]
) -> tuple[list[int], list[str]]:
    """Department or section names (as the CLI and the API give them) to ids; unknown names back."""
    departments, sections = await roster_choices(session)
    ids, unknown = [], []
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        if kind == "departments":
            hit = [i for i, n in departments if n == name]
        else:
            hit = [i for i, label in sections if label == name or label.split(" ", 1)[-1] == name]
        if len(hit) == 1:
            ids.append(hit[0])
        else:
            unknown.append(raw)
    return ids, unknown


# --- audience ------------------------------------------------------------------------------------


async def audience_people(session: AsyncSession, audience: dict[str, Any], day: date) -> list[Promoter]:
    """The promoters an audience means on ``day``, one entry per person, in roster order."""
    people = await current_promoters(session, day)
    kind = audience.get("kind", "all")
    ids = set(audience.get("ids") or [])
    if kind == "leaders":
        people = [p for p in people if p.role == "leader"]
    elif kind == "sections":
        people = [p for p in people if p.section_id in ids]
    elif kind == "departments":
        dept_of = dict((await session.execute(select(Section.id, Section.department_id))).tuples().all())
        people = [p for p in people if dept_of.get(p.section_id) in ids]
    seen: set[int] = set()
    unique = []
    for p in people:
        if p.person_id not in seen:
            seen.add(p.person_id)
            unique.append(p)
    return unique


@dataclass
class AudienceSummary:
    people: int
    sections: int
    leaders: int
    subleaders: int
    not_reachable: int  # no personal chat with the bot yet: these will be reported as unreachable


async def summarize(session: AsyncSession, audience: dict[str, Any], day: date) -> AudienceSummary:
    people = await audience_people(session, audience, day)
    reachable = await reachable_people(session, [p.person_id for p in people])
    return AudienceSummary(
        people=len(people),
        sections=len({p.section_id for p in people}),
        leaders=sum(1 for p in people if p.role == "leader"),
        subleaders=sum(1 for p in people if p.role != "leader"),
        not_reachable=sum(1 for p in people if p.person_id not in reachable),
    )


# --- drafts --------------------------------------------------------------------------------------


def apply_draft(ann: Announcement, draft: Draft, form: Form | None) -> None:
    ann.title = draft.title
    ann.body = draft.body
    ann.links = draft.links
    ann.importance = draft.importance
    ann.audience = draft.audience
    ann.to_channel = draft.to_channel
    ann.ack_required = draft.ack_required
    ann.deadline = draft.deadline
    ann.relay_required = draft.relay_required
    ann.relay_deadline = draft.relay_deadline
    ann.send_at = draft.send_at
    if form is not None:
        ann.form = form.to_json()


async def save_form(
    session: AsyncSession,
    ann: Announcement | None,
    form: Form,
    *,
    author_person_id: int | None,
    author_label: str,
    locale: str,
    now: datetime,
    source: str = "teams",
) -> Announcement:
    """Keep what the author typed as a draft (valid or not), creating it on the first save."""
    if ann is None:
        ann = Announcement(
            state=AnnouncementState.DRAFT.value,
            source=source,
            author_person_id=author_person_id,
            author_label=author_label[:320],
            author_locale=locale,
            created_at=now,
            links=[],
            audience={"kind": form.audience},
        )
        session.add(ann)
    ann.form = form.to_json()
    ann.title = form.title[:200]
    ann.body = form.body
    ann.updated_at = now
    await session.flush()
    return ann


# --- sending -------------------------------------------------------------------------------------


def auto_reminder_moment(ann: Announcement, sending_at: datetime, lead_days: int) -> datetime | None:
    """9:00 JST, ``lead_days`` business days before the deadline; None if that is not after the send."""
    if not ann.ack_required or ann.deadline is None or lead_days <= 0:
        return None
    day = add_business_days(ann.deadline, -lead_days)
    moment = datetime.combine(day, REMINDER_HOUR, tzinfo=JST)
    return moment if moment > sending_at + timedelta(hours=1) else None


def auto_reminder_purpose(ann: Announcement) -> str:
    deadline = ann.deadline.isoformat() if ann.deadline else ""
    return f"{AUTO_REMINDER_PURPOSE}-{deadline}"


def recipient_message(
    ann: Announcement,
    locale: str,
    *,
    confirmed_at: datetime | None = None,
    reminder: bool = False,
    channel: bool = False,
) -> Message:
    t = _t(locale)
    card = cards.announcement_card(t, ann, confirmed_at=confirmed_at, reminder=reminder, channel=channel)
    key = (
        "announce.summary.reminder"
        if reminder
        else ("announce.summary.high" if ann.importance == "high" else "announce.summary.normal")
    )
    return Message(
        text=t(key, title=ann.title), card=card, importance="high" if ann.importance == "high" else None
    )


def _t(locale: str) -> Any:
    def t(key: str, **kw: Any) -> str:
        return translate(key, locale, **kw)

    return t


async def dispatch(services: Services, session: AsyncSession, ann: Announcement, now: datetime) -> int:
    """Send now: take the roster snapshot, queue a copy per promoter (and the channel post).

    Returns the number of recipients. Safe to run twice: rows are keyed per person.
    """
    settings = services.settings
    people = await audience_people(session, ann.audience, today_jst(now))
    existing = set(
        (
            await session.scalars(
                select(AnnouncementRecipient.person_id).where(AnnouncementRecipient.announcement_id == ann.id)
            )
        ).all()
    )
    for order, p in enumerate(people):
        if p.person_id in existing:
            continue
        session.add(
            AnnouncementRecipient(
                announcement_id=ann.id,
                person_id=p.person_id,
                name=p.name,
                email=p.email,
                department=p.department,
                section=p.section,
                section_id=p.section_id,
                role=str(p.role),
                sort_key=order,
            )
        )
    ann.sent_at = ann.sent_at or now  # the card says 「DX推進課より・<the day it went out>」
    message = recipient_message(ann, settings.locale)
    items = [DeliveryItem(Recipient(person_id=p.person_id), message) for p in people]
    if ann.to_channel:
        channel = await division_channel(session)
        if channel:
            items.append(
                DeliveryItem(
                    Recipient(address=channel_address(channel)),
                    recipient_message(ann, settings.locale, channel=True),
                    purpose=CHANNEL_PURPOSE,
                )
            )
    # Copies go out in roster order; the first ones ahead of reminders of older announcements.
    await delivery.enqueue(session, KIND, ann.id, items, priority=90, now=now)
    ann.state = AnnouncementState.SENDING.value if items else AnnouncementState.SENT.value
    if ann.send_at and now - ann.send_at > LATE_AFTER:
        ann.late = True
    if not items:
        ann.finished_at = now
    ann.auto_reminder_at = auto_reminder_moment(ann, now, settings.announce_reminder_days)
    ann.relay_reminder_at = relay_reminders.relay_reminder_moment(ann, now, settings.announce_reminder_days)
    ann.updated_at = now
    await session.flush()
    log.info("announcement %d: %d copies queued", ann.id, len(items))
    return len(people)


async def send_or_schedule(
    services: Services, session: AsyncSession, ann: Announcement, now: datetime
) -> int:
    """送信: at once, or at ``send_at`` if that is still ahead. Returns the recipient count (0 if scheduled)."""
    if ann.send_at and ann.send_at > now:
        ann.state = AnnouncementState.SCHEDULED.value
        ann.updated_at = now
        await session.flush()
        return 0
    return await dispatch(services, session, ann, now)


async def claim_scheduled(session: AsyncSession, ann_id: int, now: datetime) -> bool:
    """Take a due scheduled announcement for sending; only one process wins."""
    result = await session.execute(
        update(Announcement)
        .where(Announcement.id == ann_id, Announcement.state == AnnouncementState.SCHEDULED.value)
        .values(state=AnnouncementState.SENDING.value, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def tick(services: Services) -> None:
    """The schedule: send what is due (late after a downtime) and the automatic reminders."""
    now = services.clock()
    async with services.sessionmaker() as session:
        due = (
            await session.scalars(
                select(Announcement.id).where(
                    Announcement.state == AnnouncementState.SCHEDULED.value, Announcement.send_at <= now
                )
            )
        ).all()
        reminders = (
            await session.scalars(
                select(Announcement.id).where(
                    Announcement.state.in_([AnnouncementState.SENDING.value, AnnouncementState.SENT.value]),
                    Announcement.auto_reminder_at <= now,
                    Announcement.auto_reminded_at.is_(None),
                )
            )
        ).all()
    for ann_id in due:
        async with services.sessionmaker() as session, session.begin():
            if not await claim_scheduled(session, ann_id, now):
                continue
            ann = await session.get(Announcement, ann_id)
            assert ann is not None
            await dispatch(services, session, ann, now)
            if ann.late:
                log.warning("announcement %d went out late (scheduled while the bot was down)", ann_id)
            await refresh_author_card(services, session, ann)
    for ann_id in reminders:
        async with services.sessionmaker() as session, session.begin():
            ann = await claim_once(session, ann_id, Announcement.auto_reminded_at, now)
            if ann is not None:
                await remind_automatically(services, session, ann, now)


async def remind_automatically(
    services: Services, session: AsyncSession, ann: Announcement, now: datetime
) -> None:
    """The automatic reminder for the current deadline (claimed by the caller): once per deadline."""
    purpose = auto_reminder_purpose(ann)
    went = await session.scalar(
        select(func.count()).where(
            Delivery.kind == KIND, Delivery.ref_id == ann.id, Delivery.purpose == purpose
        )
    )
    if went:  # the deadline came back to one whose reminder already went
        log.info("announcement %d: %s already went", ann.id, purpose)
        return
    ann.auto_reminders += 1
    await remind(services, session, ann, now, purpose=purpose)
    await refresh_author_card(services, session, ann)  # 自動督促 <when> becomes 督促 n回


async def claim_once(
    session: AsyncSession, ann_id: int, stamp: InstrumentedAttribute[datetime | None], now: datetime
) -> Announcement | None:
    """Set an announcement's once-only time stamp (an automatic reminder's) if it is still empty: the
    one process that set it gets the announcement and does the work, any other gets None."""
    claimed = await session.execute(
        update(Announcement).where(Announcement.id == ann_id, stamp.is_(None)).values({stamp.key: now})
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return await session.get(Announcement, ann_id)


# --- figures -------------------------------------------------------------------------------------


@dataclass
class Figures:
    recipients: int = 0
    delivered: int = 0
    pending: int = 0
    failed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    confirmed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # failed + unreachable, by reason
    channel: str | None = None  # delivery state of the channel post, if any
    reminders_delivered: int = 0
    pending_changes: int = 0  # edit/recall operations still going out
    not_delivered: list[str] = field(
        default_factory=list
    )  # 「氏名(課)」 of the first copies that did not arrive
    recall: delivery.ChangeStatus | None = None  # once recalled: the deletes, copy by copy
    edit: delivery.ChangeStatus | None = None  # after an edit: the updates of the latest edit
    change_failed: list[str] = field(
        default_factory=list
    )  # everyone who still has the old copy (recall/edit)
    read: ReadCounts | None = None  # 既読 of the delivered first copies
    relay: RelaySummary | None = None  # 伝達依頼: sections relayed, not relayed, unreachable

    @property
    def settled(self) -> int:
        return self.delivered + self.failed + self.unreachable + self.cancelled

    @property
    def not_delivered_count(self) -> int:
        return self.failed + self.unreachable


def edit_revision(ann: Announcement) -> str:
    return f"edit-{ann.version}"


RECALL_REVISION = "recall"


async def _labels(session: AsyncSession, ann: Announcement, person_ids: Sequence[int | None]) -> list[str]:
    """「氏名(課)」 for recipients, in the order given; a channel post (None) as the channel."""
    wanted = [p for p in person_ids if p is not None]
    by_id: dict[int, str] = {}
    if wanted:
        rows = await session.execute(
            select(
                AnnouncementRecipient.person_id, AnnouncementRecipient.name, AnnouncementRecipient.section
            ).where(
                AnnouncementRecipient.announcement_id == ann.id,
                AnnouncementRecipient.person_id.in_(wanted),
            )
        )
        by_id = {pid: f"{name}({section})" for pid, name, section in rows.tuples().all()}
    t = _t(ann.author_locale)
    out = []
    for p in person_ids:
        label = t("announce.channel.unnamed") if p is None else by_id.get(p)
        if label and label not in out:
            out.append(label)
    return out


async def figures(session: AsyncSession, ann: Announcement) -> Figures:
    f = Figures()
    rows = (
        await session.execute(
            select(Delivery.purpose, Delivery.state, Delivery.error, func.count())
            .where(Delivery.kind == KIND, Delivery.ref_id == ann.id, Delivery.op == "send")
            .group_by(Delivery.purpose, Delivery.state, Delivery.error)
        )
    ).all()
    for purpose, state, error, n in rows:
        if purpose == CHANNEL_PURPOSE:
            f.channel = state
            continue
        if purpose.startswith("reopen-"):  # a card the recipient asked for again (「未対応」): no reminder
            continue
        if purpose.startswith("section-"):
            continue  # a promoter's post in their section's channel: counted by the relay status
        if purpose != delivery.INITIAL:
            # Reminders to confirm (reminder-N, reminder-auto[-<deadline>]); the relay reminders
            # (relay-reminder-…) are the relay's figure, not this one.
            if purpose.startswith(REMINDER_PURPOSE) and state == DeliveryState.DELIVERED:
                f.reminders_delivered += n
            continue
        f.recipients += n
        if state == DeliveryState.DELIVERED:
            f.delivered += n
        elif state in (DeliveryState.QUEUED, DeliveryState.SENDING):
            f.pending += n
        elif state == DeliveryState.FAILED:
            f.failed += n
            f.reasons[error or "unknown"] += n
        elif state == DeliveryState.UNREACHABLE:
            f.unreachable += n
            f.reasons[error or "unknown"] += n
        elif state == DeliveryState.CANCELLED:
            f.cancelled += n
    if not rows:
        f.recipients = (
            await session.scalar(select(func.count()).where(AnnouncementRecipient.announcement_id == ann.id))
            or 0
        )
    f.confirmed = (
        await session.scalar(
            select(func.count()).where(
                AnnouncementRecipient.announcement_id == ann.id,
                AnnouncementRecipient.confirmed_at.is_not(None),
            )
        )
        or 0
    )
    f.pending_changes = await delivery.pending_operations(session, KIND, ann.id)
    if f.failed or f.unreachable:
        missing = (
            await session.scalars(
                select(Delivery.person_id)
                .where(
                    Delivery.kind == KIND,
                    Delivery.ref_id == ann.id,
                    Delivery.op == "send",
                    Delivery.purpose == delivery.INITIAL,
                    Delivery.state.in_([DeliveryState.FAILED.value, DeliveryState.UNREACHABLE.value]),
                )
                .order_by(Delivery.id)
                .limit(cards.NAMES_SHOWN)
            )
        ).all()
        f.not_delivered = await _labels(session, ann, missing)
    change = None
    if ann.state == AnnouncementState.RECALLED:
        change = f.recall = await delivery.change_status(session, KIND, ann.id, RECALL_REVISION)
    elif ann.version > 1:
        change = f.edit = await delivery.change_status(session, KIND, ann.id, edit_revision(ann))
    if change is not None and change.failed:
        f.change_failed = await _labels(session, ann, change.failed_people)
    if f.delivered:
        f.read = await read_counts(session, KIND, ann.id)
    if ann.relay_required and ann.state not in (AnnouncementState.DRAFT, AnnouncementState.SCHEDULED):
        f.relay = relay_store.summarize(await relay_store.section_status(session, ann.id))
    return f


def export_url(services: Services, ann: Announcement, fmt: str) -> str:
    from dialogs.announce.web import signed_export_path

    return services.settings.public_url.rstrip("/") + signed_export_path(
        services.settings.secret_key, ann.id, fmt, services.clock()
    )


async def progress_card(services: Services, session: AsyncSession, ann: Announcement) -> dict[str, Any]:
    t = _t(ann.author_locale)
    return cards.progress_card(
        t,
        ann,
        await figures(session, ann),
        xlsx_url=export_url(services, ann, "xlsx"),
        csv_url=export_url(services, ann, "csv"),
    )


async def refresh_author_card(services: Services, session: AsyncSession, ann: Announcement) -> None:
    """Queue an update of the author's card (if the announcement came from Teams)."""
    has_card = await session.scalar(
        select(func.count()).where(Delivery.kind == AUTHOR_KIND, Delivery.ref_id == ann.id)
    )
    if not has_card:
        return
    ann.progress_seq += 1
    card = await progress_card(services, session, ann)
    await delivery.update_delivered(
        session,
        AUTHOR_KIND,
        ann.id,
        lambda _row: Message(card=card),
        revision=f"p{ann.progress_seq}",
        priority=40,
        now=services.clock(),
    )


async def on_delivery_progress(services: Services, ref_ids: set[int]) -> None:
    """The delivery worker's progress hook: finish announcements and refresh their authors' cards."""
    now = services.clock()
    for ann_id in sorted(ref_ids):
        async with services.sessionmaker() as session, session.begin():
            # Serialise card refreshes of one announcement between worker processes.
            await session.execute(
                update(Announcement)
                .where(Announcement.id == ann_id)
                .values(progress_seq=Announcement.progress_seq)
            )
            ann = await session.get(Announcement, ann_id)
            if ann is None:
                continue
            if ann.state == AnnouncementState.SENDING:
                c = await delivery.counts(session, KIND, ann.id)
                if c.done:
                    ann.state = AnnouncementState.SENT.value
                    ann.finished_at = now
            await refresh_author_card(services, session, ann)


# --- acknowledgement -----------------------------------------------------------------------------


async def owner_of(
    session: AsyncSession, row: Delivery, person_id: int | None, aad_object_id: str | None
) -> bool:
    """Whether the person pressing a button is the one the copy was delivered to."""
    if row.person_id is None:
        return False
    if person_id is not None and person_id == row.person_id:
        return True
    if not aad_object_id:
        return False
    linked = await session.scalar(
        select(func.count()).where(
            TeamsAccount.aad_object_id == aad_object_id, TeamsAccount.person_id == row.person_id
        )
    )
    if linked:
        return True
    by_email = await session.scalar(
        select(func.count())
        .select_from(TeamsAccount)
        .join(Person, Person.email == TeamsAccount.upn)
        .where(
            TeamsAccount.aad_object_id == aad_object_id,
            TeamsAccount.person_id.is_(None),
            Person.id == row.person_id,
        )
    )
    return bool(by_email)


@dataclass
class AckResult:
    ok: bool
    first: bool = False
    confirmed_at: datetime | None = None
    person_id: int | None = None
    reason: str = ""  # not_yours | not_found | recalled | not_required


async def acknowledge(
    services: Services,
    session: AsyncSession,
    ann_id: int,
    *,
    activity_id: str | None,
    conversation_id: str,
    person_id: int | None,
    aad_object_id: str | None,
    now: datetime,
) -> AckResult:
    """「確認しました」: record once, after checking that the card was delivered to this person."""
    ann = await session.get(Announcement, ann_id)
    if ann is None:
        return AckResult(False, reason="not_found")
    if ann.state == AnnouncementState.RECALLED:
        return AckResult(False, reason="recalled")
    if not ann.ack_required:
        return AckResult(False, reason="not_required")
    row = await delivery.find_by_activity(session, KIND, activity_id) if activity_id else None
    if row is None:
        # Some clients do not say which card was pressed: accept a copy delivered into this chat.
        copies = await delivery.delivered_to_conversation(session, KIND, ann_id, conversation_id)
        row = copies[0] if copies else None
    if row is None or row.ref_id != ann_id or row.conversation_id != conversation_id:
        return AckResult(False, reason="not_yours")
    if not await owner_of(session, row, person_id, aad_object_id):
        return AckResult(False, reason="not_yours")
    result = await session.execute(
        update(AnnouncementRecipient)
        .where(
            AnnouncementRecipient.announcement_id == ann_id,
            AnnouncementRecipient.person_id == row.person_id,
            AnnouncementRecipient.confirmed_at.is_(None),
        )
        .values(confirmed_at=now)
    )
    first = bool(result.rowcount)  # type: ignore[attr-defined]
    confirmed_at = await session.scalar(
        select(AnnouncementRecipient.confirmed_at).where(
            AnnouncementRecipient.announcement_id == ann_id, AnnouncementRecipient.person_id == row.person_id
        )
    )
    if first:
        # Their other copies (reminders) turn to 確認済み too; the pressed one is updated by the caller.
        confirmed = recipient_message(ann, services.settings.locale, confirmed_at=confirmed_at)
        if ann.relay_required:
            recipient = await session.scalar(
                select(AnnouncementRecipient).where(
                    AnnouncementRecipient.announcement_id == ann_id,
                    AnnouncementRecipient.person_id == row.person_id,
                )
            )
            if recipient is not None:
                confirmed = await relay_reminders.recipient_card_message(services, session, ann, recipient)
        await delivery.update_delivered(
            session,
            KIND,
            ann_id,
            lambda r: None if r.activity_id == activity_id or r.purpose == CHANNEL_PURPOSE else confirmed,
            revision=f"ack-v{ann.version}",
            recipient_key=row.recipient_key,
            now=now,
        )
        await refresh_author_card(services, session, ann)
    return AckResult(True, first=first, confirmed_at=confirmed_at, person_id=row.person_id)


# --- follow-up -----------------------------------------------------------------------------------


async def unconfirmed(session: AsyncSession, ann: Announcement) -> list[AnnouncementRecipient]:
    return list(
        (
            await session.scalars(
                select(AnnouncementRecipient)
                .where(
                    AnnouncementRecipient.announcement_id == ann.id,
                    AnnouncementRecipient.confirmed_at.is_(None),
                )
                .order_by(AnnouncementRecipient.sort_key)
            )
        ).all()
    )


async def delivery_states(session: AsyncSession, ann: Announcement) -> dict[int, Delivery]:
    rows = await delivery.deliveries(session, KIND, ann.id)
    return {r.person_id: r for r in rows if r.person_id is not None}


@dataclass
class SectionStatus:
    department: str
    section: str
    people: list[tuple[str, str, str]]  # (name, role, delivery state) of those who have not confirmed
    confirmed: int
    total: int


async def unconfirmed_sections(session: AsyncSession, ann: Announcement) -> list[SectionStatus]:
    """Sections where nobody has confirmed yet, in roster order (the 「未確認の課」 list)."""
    everyone = list(
        (
            await session.scalars(
                select(AnnouncementRecipient)
                .where(AnnouncementRecipient.announcement_id == ann.id)
                .order_by(AnnouncementRecipient.sort_key)
            )
        ).all()
    )
    states = await delivery_states(session, ann)
    by_section: dict[int, list[AnnouncementRecipient]] = {}
    for r in everyone:
        by_section.setdefault(r.section_id, []).append(r)
    out = []
    for members in by_section.values():
        confirmed = sum(1 for m in members if m.confirmed_at)
        if confirmed:
            continue
        out.append(
            SectionStatus(
                department=members[0].department,
                section=members[0].section,
                people=[
                    (m.name, m.role, states[m.person_id].state if m.person_id in states else "queued")
                    for m in members
                ],
                confirmed=confirmed,
                total=len(members),
            )
        )
    return out


async def remind(
    services: Services, session: AsyncSession, ann: Announcement, now: datetime, *, purpose: str | None = None
) -> int:
    """督促: a reminder card to each recipient whose copy arrived and who has not confirmed."""
    if not ann.ack_required or ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        return 0
    if purpose is None:
        ann.reminders += 1
        purpose = f"{REMINDER_PURPOSE}{ann.reminders}"
    states = await delivery_states(session, ann)
    targets = [
        r
        for r in await unconfirmed(session, ann)
        if r.person_id in states and states[r.person_id].state == DeliveryState.DELIVERED
    ]
    message = recipient_message(ann, services.settings.locale, reminder=True)
    await delivery.enqueue(
        session,
        KIND,
        ann.id,
        [DeliveryItem(Recipient(person_id=r.person_id), message, purpose=purpose) for r in targets],
        priority=100,
        now=now,
    )
    ann.updated_at = now
    log.info("announcement %d: %s to %d people", ann.id, purpose, len(targets))
    return len(targets)


async def resend_failed(services: Services, session: AsyncSession, ann: Announcement, now: datetime) -> int:
    """届いていない方に再送: failed and unreachable first copies (and the channel post) go into the queue again."""
    if ann.state not in (AnnouncementState.SENDING, AnnouncementState.SENT):
        return 0
    n = await delivery.retry_failed(
        session, KIND, ann.id, purposes=(delivery.INITIAL, CHANNEL_PURPOSE), now=now
    )
    if n:
        ann.state = AnnouncementState.SENDING.value
        ann.finished_at = None
        await refresh_author_card(services, session, ann)
    return n


async def apply_edit(
    services: Services, session: AsyncSession, ann: Announcement, draft: Draft, now: datetime
) -> int:
    """Edit after sending: every copy, delivered or still queued, shows the new text. The audience
    and the send time stay as they were. Returns the number of copies being updated."""
    ann.title = draft.title
    ann.body = draft.body
    ann.links = draft.links
    ann.importance = draft.importance
    if ann.ack_required and draft.deadline and draft.deadline != ann.deadline:
        # A new deadline has an automatic reminder of its own (none if it is too close to come), whether
        # or not the old one went; an edit that keeps the deadline leaves the reminder as it was.
        ann.deadline = draft.deadline
        ann.auto_reminder_at = auto_reminder_moment(ann, now, services.settings.announce_reminder_days)
        ann.auto_reminded_at = None
    ann.version += 1
    ann.updated_at = now
    confirmed = dict(
        (
            await session.execute(
                select(AnnouncementRecipient.person_id, AnnouncementRecipient.confirmed_at).where(
                    AnnouncementRecipient.announcement_id == ann.id
                )
            )
        )
        .tuples()
        .all()
    )
    locale = services.settings.locale
    from dialogs.announce.relay.channels import section_channel_messages

    in_sections = await section_channel_messages(session, locale, ann)
    # A promoter who confirmed a relay request keeps the request and the report form on every copy.
    relaying = (
        await relay_reminders.confirmed_card_messages(session, ann, locale) if ann.relay_required else {}
    )

    def message_for(row: Delivery) -> Message:
        if row.purpose == CHANNEL_PURPOSE:
            return recipient_message(ann, locale, channel=True)
        if row.id in in_sections:
            return in_sections[row.id]
        if row.person_id in relaying:
            return relaying[row.person_id]
        at = confirmed.get(row.person_id) if row.person_id is not None else None
        return recipient_message(
            ann, locale, confirmed_at=at, reminder=row.purpose.startswith(REMINDER_PURPOSE) and at is None
        )

    n = await delivery.update_delivered(
        session, KIND, ann.id, message_for, revision=edit_revision(ann), now=now
    )
    await refresh_author_card(services, session, ann)
    return n


async def recall(services: Services, session: AsyncSession, ann: Announcement, now: datetime) -> int:
    """取消(回収): delete every delivered copy, cancel the rest. Returns the copies touched."""
    n = await delivery.delete_delivered(session, KIND, ann.id, revision=RECALL_REVISION, now=now)
    ann.state = AnnouncementState.RECALLED.value
    ann.recalled_at = now
    ann.updated_at = now
    await refresh_author_card(services, session, ann)
    return n


async def retry_changes(services: Services, session: AsyncSession, ann: Announcement, now: datetime) -> int:
    """再試行: the copies the recall could not delete (or the latest edit could not update) are tried
    again; those already removed/updated are not touched. Returns how many."""
    if ann.state == AnnouncementState.RECALLED:
        revision = RECALL_REVISION
    elif ann.state in (AnnouncementState.SENDING, AnnouncementState.SENT) and ann.version > 1:
        revision = edit_revision(ann)
    else:
        return 0
    n = await delivery.retry_failed_changes(session, KIND, ann.id, revision, now=now)
    if n:
        ann.updated_at = now
        await refresh_author_card(services, session, ann)
    log.info("announcement %d: %d %s operations queued again", ann.id, n, revision)
    return n


async def recent(session: AsyncSession, limit: int = 10) -> list[Announcement]:
    return list(
        (
            await session.scalars(
                select(Announcement)
                .where(Announcement.state != AnnouncementState.DISCARDED.value)
                .order_by(Announcement.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def latest_sent(session: AsyncSession) -> Announcement | None:
    return await session.scalar(
        select(Announcement)
        .where(
            Announcement.state.in_([AnnouncementState.SENDING.value, AnnouncementState.SENT.value]),
            Announcement.ack_required.is_(True),
        )
        .order_by(Announcement.sent_at.desc(), Announcement.id.desc())
        .limit(1)
    )
