"""A section's own Teams channel (or group chat): linked from inside it, and the 「課のチャネルに投稿」 post.

- 「@DX推進ボット ここを課のチャネルにする [課名]」 in the channel: by a promoter of that section (their own
  section when they hold one) or an admin (who names the section).
- 「課のチャネルに投稿」 on a confirmed promoter's relay card: the bot posts the announcement there through the
  delivery engine (purpose ``section-<id>``, so recall and edit reach it), marked as shared by that
  promoter (recorded with the post, ``AnnouncementSectionPost``: a later correction of the section's report
  by the other promoter does not make them the sharer), with its own 「確認しました」 for every member; it
  also records the section's relay report (method: the section's Teams channel).
- A member's 「確認しました」 there is recorded once per member (``AnnouncementMemberAck``); the shared card
  shows how many have confirmed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address, MemberDirectory, Message, Role, SendError, Turn
from dialogs.announce import service
from dialogs.announce.service import KIND
from dialogs.engines import delivery
from dialogs.engines.delivery import DeliveryItem, Recipient
from dialogs.kit.cards import adaptive_card, container, submit, text
from dialogs.kit.i18n import t as translate
from dialogs.kit.router import Router
from dialogs.roster.network import current_promoters_where, today_jst
from storage.models import ConversationRef, Delivery, Section
from storage.models.announce import (
    Announcement,
    AnnouncementMemberAck,
    AnnouncementRecipient,
    AnnouncementSectionPost,
    AnnouncementState,
    SectionChannel,
)
from storage.models.roster import Assignment

from . import store

log = logging.getLogger(__name__)
router = Router("announce-relay-channels")
SECTION_PURPOSE = "section-"  # + section id: the copy posted into that section's channel


def purpose_of(section_id: int) -> str:
    return f"{SECTION_PURPOSE}{section_id}"


def section_of_purpose(purpose: str) -> int | None:
    if not purpose.startswith(SECTION_PURPOSE):
        return None
    try:
        return int(purpose[len(SECTION_PURPOSE) :])
    except ValueError:
        return None


def address_of(link: SectionChannel) -> Address:
    return Address(
        conversation_id=link.conversation_id,
        service_url=link.service_url,
        tenant_id=link.tenant_id,
        conversation_type=link.conversation_type,
        bot_id=link.bot_id,
    )


async def link_of(session: AsyncSession, section_id: int) -> SectionChannel | None:
    return await session.get(SectionChannel, section_id)


async def member_acks(session: AsyncSession, ann_id: int, section_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                AnnouncementMemberAck.announcement_id == ann_id,
                AnnouncementMemberAck.section_id == section_id,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Sharer:
    """Who posted the copy in a section's channel, as the section's staff should read it."""

    name: str
    section: str = ""
    role: str | None = None  # leader | subleader; None: not a promoter of the section (the DX division)


def shared_by_line(t: Any, sharer: Sharer) -> str:
    """「総務課 DX推進リーダー 鈴木 一郎さんが共有しました。」, the role the sharer holds in that section."""
    if sharer.role in ("leader", "subleader") and sharer.section:
        return t(
            "announce.relay.channel.shared_by",
            section=sharer.section,
            role=t(f"announce.relay.channel.role.{sharer.role}"),
            name=sharer.name,
        )
    if sharer.name:
        return t("announce.relay.channel.shared_by_division", name=sharer.name)
    return t("announce.relay.channel.shared")


def channel_card(
    locale: str, ann: Announcement, *, section_id: int, sharer: Sharer, confirmed: int
) -> dict[str, Any]:
    """The copy in the section's channel: shared by the promoter, with 「確認しました」 for every member.
    Its readers are the section's staff: nothing on it speaks to promoters (their confirmation
    deadline, 「各課のDX推進リーダー・サブリーダーには…」)."""
    from dialogs.announce import cards as announce_cards

    def t(key: str, **kw: Any) -> str:
        return translate(key, locale, **kw)

    body = [
        container([text(shared_by_line(t, sharer), weight="Bolder")], style="accent"),
        *announce_cards.announcement_items(t, ann, channel=True, section=True),
        text(t("announce.relay.channel.ask"), size="Small"),
        text(t("announce.relay.channel.confirmed", n=confirmed), isSubtle=True, size="Small"),
    ]
    actions = [
        {"type": "Action.OpenUrl", "title": link["title"], "url": link["url"]} for link in ann.links or []
    ]
    actions.append(
        submit(t("announce.btn.ack"), "announce.member_ack", style="positive", id=ann.id, section=section_id)
    )
    return adaptive_card(body, actions)


def sharer_of(post: AnnouncementSectionPost | None) -> Sharer:
    """Who shared a channel copy, as recorded when it was posted (nobody named if there is no record)."""
    if post is None:
        return Sharer(name="")
    return Sharer(name=post.sharer_name, section=post.sharer_section, role=post.sharer_role)


def sharer_from(recipient: AnnouncementRecipient) -> Sharer:
    """The promoter posting now, in the role they were sent the announcement in, in their section."""
    return Sharer(name=recipient.name, section=recipient.section, role=recipient.role)


def channel_message(
    locale: str, ann: Announcement, *, section_id: int, sharer: Sharer, confirmed: int
) -> Message:
    card = channel_card(locale, ann, section_id=section_id, sharer=sharer, confirmed=confirmed)
    return Message(text=translate("announce.relay.channel.summary", locale, title=ann.title), card=card)


async def channel_message_for(
    session: AsyncSession, locale: str, ann: Announcement, row: Delivery
) -> Message:
    """The channel copy ``row`` as it now stands: its sharer as recorded, the members' count now."""
    section_id = section_of_purpose(row.purpose)
    assert section_id is not None
    post = await session.get(AnnouncementSectionPost, row.id)
    n = await member_acks(session, ann.id, section_id)
    return channel_message(locale, ann, section_id=section_id, sharer=sharer_of(post), confirmed=n)


# --- linking ---------------------------------------------------------------------------------------


@router.command(
    "ここを課のチャネルにする",
    "課のチャネルにする",
    role=Role.PROMOTER,
    help_key="announce.relay.cmd.link",
    usage="ここを課のチャネルにする 税務課",
    scopes=("channel", "groupChat"),
    scope_hint="announce.relay.link.where",
)
async def link_channel(turn: Turn, args: str) -> None:
    day = today_jst(turn.services.clock())
    own: list[int] = []
    if turn.identity.person_id is not None:
        own = sorted(
            {
                p.section_id
                for p in await current_promoters_where(
                    turn.session, day, Assignment.person_id == turn.identity.person_id
                )
            }
        )
    name = " ".join(args.split())
    section: Section | None = None
    if name:
        hits = (
            await turn.session.scalars(select(Section).where(Section.name == name, Section.active.is_(True)))
        ).all()
        if len(hits) != 1:
            await turn.reply(turn.t("announce.relay.link.unknown", name=name))
            return
        section = hits[0]
    elif len(own) == 1:
        section = await turn.session.get(Section, own[0])
    if section is None:
        await turn.reply(turn.t("announce.relay.link.which"))
        return
    if section.id not in own and not turn.identity.has(Role.ADMIN):
        log.warning(
            "refused a channel link for section %d by a non-promoter of it",
            section.id,
            extra={"correlation_id": turn.correlation_id},
        )
        await turn.reply(turn.t("announce.relay.link.not_yours", section=section.name))
        return
    ref = await turn.session.scalar(
        select(ConversationRef).where(ConversationRef.conversation_id == turn.conversation.id)
    )
    if ref is None:
        await turn.reply(turn.t("announce.channel.unknown"))
        return
    conversation_id = turn.conversation.id.split(";", 1)[0]  # a channel thread: the channel itself
    link = await turn.session.get(SectionChannel, section.id)
    if link is None:
        link = SectionChannel(section_id=section.id)
        turn.session.add(link)
    link.conversation_id = conversation_id
    link.conversation_type = turn.conversation.type
    link.service_url = ref.service_url
    link.tenant_id = ref.tenant_id
    link.bot_id = ref.bot_id
    link.team_id = ref.team_id
    link.title = ref.title or ""
    link.linked_by = turn.identity.email or turn.user.name
    link.linked_at = turn.services.clock()
    await turn.reply(turn.t("announce.relay.link.done", section=section.name))


# --- posting ---------------------------------------------------------------------------------------


async def owned_copy(turn: Turn, ann: Announcement) -> Delivery | None:
    """The presser's own delivered copy of ``ann`` (the card pressed, or one in this chat), else None."""
    row = await delivery.find_by_activity(turn.session, KIND, turn.reply_to_id) if turn.reply_to_id else None
    if row is None:
        copies = await delivery.delivered_to_conversation(turn.session, KIND, ann.id, turn.conversation.id)
        row = copies[0] if copies else None
    if row is None or row.ref_id != ann.id or row.conversation_id != turn.conversation.id:
        return None
    if not await service.owner_of(turn.session, row, turn.identity.person_id, turn.user.aad_object_id):
        return None
    return row


@router.action("announce.relay_post", role=Role.ANYONE, scopes=("personal",))
async def post_to_section_channel(turn: Turn, data: dict[str, Any]) -> None:
    from .handlers import _int, _refresh_section_copies
    from .reminders import recipient_card_message

    ann_id = _int(data.get("id"))
    ann = await turn.session.get(Announcement, ann_id) if ann_id else None
    row = await owned_copy(turn, ann) if ann is not None else None
    if ann is None or row is None:
        log.warning(
            "refused a section channel post: not the presser's copy",
            extra={"correlation_id": turn.correlation_id},
        )
        await turn.reply(turn.t("announce.relay.err.not_yours"))
        return
    now = turn.services.clock()
    result = await store.report(
        turn.session,
        ann,
        copy_person_id=row.person_id,
        claimed_section_id=_int(data.get("section")),
        method="channel",
        reached=None,
        note="",
        now=now,
    )
    if not result.ok:
        await turn.reply(turn.t(f"announce.relay.err.{result.reason}"))
        return
    assert result.recipient is not None
    section_id = result.recipient.section_id
    link = await link_of(turn.session, section_id)
    if link is None:
        await turn.reply(turn.t("announce.relay.post.no_channel"))
        return
    members = await member_count(turn, link)
    if members is not None and result.report is not None:
        result.report.reached = members  # posting there reached every member of the channel
    await turn.session.flush()
    sharer = sharer_from(result.recipient)
    message = channel_message(
        turn.services.settings.locale,
        ann,
        section_id=section_id,
        sharer=sharer,
        confirmed=await member_acks(turn.session, ann.id, section_id),
    )
    # Keyed by (announcement, channel address, section): pressing twice posts once.
    recipient = Recipient(address=address_of(link))
    queued = await delivery.enqueue(
        turn.session,
        KIND,
        ann.id,
        [DeliveryItem(recipient, message, purpose=purpose_of(section_id))],
        priority=90,
        now=now,
    )
    if queued:
        await record_post(turn.session, ann, recipient, section_id, result.recipient, now)
    card_message = await recipient_card_message(turn.services, turn.session, ann, result.recipient)
    if turn.reply_to_id and card_message.card:
        await turn.update_card(turn.reply_to_id, card_message.card)
        row.payload = delivery.message_to_payload(card_message)
    await _refresh_section_copies(turn, ann, result.recipient, pressed=turn.reply_to_id)
    await service.refresh_author_card(turn.services, turn.session, ann)
    await turn.reply(
        turn.t(
            "announce.relay.post.done" if queued else "announce.relay.post.already", channel=link.title or ""
        )
    )


async def record_post(
    session: AsyncSession,
    ann: Announcement,
    recipient: Recipient,
    section_id: int,
    sharer: AnnouncementRecipient,
    now: datetime,
) -> None:
    """Who shared the copy just queued, kept with it (the copy is drawn from this, never from the report)."""
    row_id = await session.scalar(
        select(Delivery.id).where(
            Delivery.kind == KIND,
            Delivery.ref_id == ann.id,
            Delivery.recipient_key == recipient.key,
            Delivery.purpose == purpose_of(section_id),
        )
    )
    assert row_id is not None
    session.add(
        AnnouncementSectionPost(
            delivery_id=row_id,
            announcement_id=ann.id,
            section_id=section_id,
            shared_by=sharer.person_id,
            sharer_name=sharer.name,
            sharer_section=sharer.section,
            sharer_role=sharer.role,
            posted_at=now,
        )
    )


async def member_count(turn: Turn, link: SectionChannel) -> int | None:
    """How many people (not bots) are in the section's channel or chat; None if Teams did not say."""
    directory = turn.services.messenger
    if not isinstance(directory, MemberDirectory):
        return None
    try:
        members = await directory.conversation_members(address_of(link), link.team_id)
    except SendError as exc:
        log.info("member list of a section channel failed: %s", exc.reason)
        return None
    return sum(1 for m in members if not str(m.get("id", "")).startswith("28:"))


@router.action("announce.member_ack", role=Role.ANYONE, scopes=("channel", "groupChat"))
async def member_ack(turn: Turn, data: dict[str, Any]) -> None:
    """「確認しました」 by a member on the copy in their section's channel: once per member."""
    row = await delivery.find_by_activity(turn.session, KIND, turn.reply_to_id) if turn.reply_to_id else None
    conversation_id = turn.conversation.id.split(";", 1)[0]
    section_id = section_of_purpose(row.purpose) if row is not None else None
    if (
        row is None
        or section_id is None
        or row.conversation_id != conversation_id
        or not turn.user.aad_object_id
    ):
        await turn.reply(turn.t("announce.relay.member.unknown"))
        return
    ann = await turn.session.get(Announcement, row.ref_id)
    if ann is None or ann.state == AnnouncementState.RECALLED:
        await turn.reply(turn.t("announce.relay.err.recalled"))
        return
    first = True
    try:
        async with turn.session.begin_nested():
            turn.session.add(
                AnnouncementMemberAck(
                    announcement_id=ann.id,
                    section_id=section_id,
                    aad_object_id=turn.user.aad_object_id,
                    name=turn.user.name[:256],
                    confirmed_at=turn.services.clock(),
                )
            )
    except IntegrityError:
        first = False
    if first:
        message = await channel_message_for(turn.session, turn.services.settings.locale, ann, row)
        if message.card is not None:
            await turn.update_card(turn.reply_to_id or "", message.card)
            row.payload = delivery.message_to_payload(message)
        await service.refresh_author_card(turn.services, turn.session, ann)


async def section_channel_messages(
    session: AsyncSession, locale: str, ann: Announcement
) -> dict[int, Message]:
    """delivery row id -> the channel copy as it now stands, for every copy posted in a section's channel
    (each with the sharer recorded when it was posted)."""
    copies = (
        await session.execute(
            select(Delivery.id, Delivery.purpose).where(
                Delivery.kind == KIND,
                Delivery.ref_id == ann.id,
                Delivery.op == "send",
                Delivery.purpose.like(f"{SECTION_PURPOSE}%"),
            )
        )
    ).all()
    if not copies:
        return {}
    posts = {
        p.delivery_id: p
        for p in (
            await session.scalars(
                select(AnnouncementSectionPost).where(AnnouncementSectionPost.announcement_id == ann.id)
            )
        ).all()
    }
    confirmed = await member_ack_counts(session, ann.id)
    out: dict[int, Message] = {}
    for row_id, purpose in copies:
        section_id = section_of_purpose(purpose)
        if section_id is not None:
            out[row_id] = channel_message(
                locale,
                ann,
                section_id=section_id,
                sharer=sharer_of(posts.get(row_id)),
                confirmed=confirmed.get(section_id, 0),
            )
    return out


async def member_ack_counts(session: AsyncSession, ann_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(AnnouncementMemberAck.section_id, func.count())
        .where(AnnouncementMemberAck.announcement_id == ann_id)
        .group_by(AnnouncementMemberAck.section_id)
    )
    return {sid: int(n) for sid, n in rows.tuples().all()}
