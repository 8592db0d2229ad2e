"""The bridge from botbuilder's TurnContext to the features' ``Turn``, as a pipeline of steps.

Every activity runs through ``DxBot.steps`` in order; each step does one thing and calls the next:

1. ``map_errors``         a reply the connector would not take is logged, and the turn rolled back
2. ``trust_service_url``  an activity whose service URL may not be trusted is ignored (bot/service_urls.py)
3. ``use_memo``           a chat seen moments ago with nothing written since: no read, no write (bot/memo.py)
4. ``store_reference``    the conversation reference and account, committed on their own
5. ``transaction``        one transaction for the rest, committed if the turn succeeds
6. ``read_identity``      who the sender is: DXBOT_ADMINS and the features' role sources
7. ``route``              the route table (``dialogs.kit.dispatch``), install greetings, invoke answers

A feature adds its own steps around its routes with ``Feature.before_turn`` (they see a ``Turn``, after
identity, and never the memo).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import Bot, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import (
    EVENT_READ_RECEIPT,
    Address,
    Conversation,
    FileAttachment,
    Identity,
    Message,
    SendError,
    Services,
    User,
)
from bot.downloads import DownloadPolicy, fetch
from bot.memo import IDENTITY_TTL, ChatMemo, Fingerprint, MemoEntry
from bot.replies import ReplyUndelivered, deliver_reply
from bot.service_urls import ServiceUrls, host_of
from dialogs.kit.dispatch import TurnStep, dispatch
from dialogs.kit.i18n import normalize_locale, t
from dialogs.kit.identity import resolve_identity, role_sources_of
from dialogs.kit.router import RouteTable
from storage import references
from storage.models import TeamsAccount

log = logging.getLogger(__name__)
__all__ = ["IDENTITY_TTL", "BotTurn", "DxBot", "Step", "TurnState"]
_ACCOUNT_EVENTS = (ActivityTypes.installation_update, ActivityTypes.conversation_update)
EMAIL_RECHECK = timedelta(days=1)  # a member lookup that found no UPN is retried a day later
# False while serving a request from the Microsoft 365 Agents Playground, which labels every activity
# "en-US" whatever its user reads: there the city's default language (DXBOT_LOCALE) applies.
CLIENT_LOCALE_TRUSTED: ContextVar[bool] = ContextVar("client_locale_trusted", default=True)


def locale_of(act: Activity, default: str) -> str:
    return normalize_locale(act.locale if CLIENT_LOCALE_TRUSTED.get() else None, default)


_MENTION = re.compile(r"<at>.*?</at>", re.DOTALL)


class BotTurn:
    """``bot.api.Turn`` over a botbuilder TurnContext."""

    def __init__(
        self,
        ctx: TurnContext,
        session: AsyncSession | None,
        services: Services,
        identity: Identity,
        correlation_id: str,
    ) -> None:
        act = ctx.activity
        self._ctx = ctx
        # None: a session is opened only if the handler uses one (「ヘルプ」 needs none); ``finish`` ends it.
        self._session = session
        self._own_session: AsyncSession | None = None
        self.services = services
        self.identity = identity
        self.correlation_id = correlation_id
        self.text = _MENTION.sub("", act.text or "").strip()
        self.value = act.value if isinstance(act.value, dict) else None
        self.user = user_of(act)
        self.conversation = conversation_of(act)
        self.locale = locale_of(act, services.settings.locale)
        self.attachments = files_of(act)
        self.reply_to_id = act.reply_to_id
        self.address = Address(
            conversation_id=self.conversation.id,
            service_url=act.service_url or "",
            tenant_id=self.conversation.tenant_id,
            conversation_type=self.conversation.type,
            bot_id=act.recipient.id if act.recipient else None,
            user_id=self.user.id if self.conversation.type == "personal" else None,
        )

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._own_session = self.services.sessionmaker()
        return self._session

    async def finish(self, ok: bool) -> None:
        """Commit (``ok``) or roll back the session this turn opened itself, and close it."""
        session, self._own_session = self._own_session, None
        if session is None:
            return
        try:
            if ok:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()

    def t(self, key: str, **kwargs: Any) -> str:
        return t(key, self.locale, **kwargs)

    # Replies go through the same aiohttp Messenger as proactive sends: one HTTP client, real status codes;
    # a 429 or 5xx is tried again within a few seconds (bot/replies.py).
    async def reply(self, text: str) -> str | None:
        message = Message(text=text)
        return await deliver_reply(lambda: self.services.messenger.send(self.address, message)) or None

    async def reply_card(self, card: dict[str, Any], text: str | None = None) -> str | None:
        message = Message(text=text, card=card)
        return await deliver_reply(lambda: self.services.messenger.send(self.address, message)) or None

    async def update_card(self, activity_id: str, card: dict[str, Any]) -> None:
        message = Message(card=card)
        await deliver_reply(lambda: self.services.messenger.update(self.address, activity_id, message))

    async def member_record(self) -> dict[str, Any] | None:
        """The sender's Teams member record, or None (not a member, lookup refused or failed)."""
        # Through the same aiohttp client as replies: botbuilder's TeamsInfo builds an msrest request
        # that costs more CPU than the rest of a first turn.
        try:
            return await self.services.messenger.member(
                self.address,
                self.user.id,
                self.conversation.team_id if self.conversation.type == "channel" else None,
            )
        except SendError as exc:  # the member API is optional for us: no record means "staff"
            log.info("member lookup failed: %s", exc.reason)
            return None

    async def member_email(self) -> str | None:
        return upn_of(await self.member_record())

    async def download(self, attachment: FileAttachment, max_bytes: int = 10 * 1024 * 1024) -> bytes:
        # The whole file or a DownloadError (bot.api): a part of a roster must never look like a roster.
        policy = DownloadPolicy(local_mode=self.services.settings.local_mode)
        return await fetch(attachment.download_url, max_bytes=max_bytes, policy=policy)


def upn_of(member: dict[str, Any] | None) -> str | None:
    """The lower-cased ``userPrincipalName`` of a member record: the sign-in name, which a Japanese city
    hall's roster lists as メールアドレス. Never the record's ``email``, which a user or admin may change."""
    upn = (member or {}).get("userPrincipalName")
    return upn.strip().lower() if isinstance(upn, str) and "@" in upn else None


def user_of(act: Activity) -> User:
    sender = act.from_property
    return User(
        id=sender.id if sender else "",
        aad_object_id=getattr(sender, "aad_object_id", None) if sender else None,
        name=(sender.name or "") if sender else "",
        tenant_id=_tenant(act),
    )


def conversation_of(act: Activity) -> Conversation:
    conv = act.conversation
    data = act.channel_data if isinstance(act.channel_data, dict) else {}
    team = (data.get("team") or {}).get("id")
    channel = (data.get("channel") or {}).get("id")
    ctype = (conv.conversation_type if conv else None) or ("channel" if channel else "personal")
    return Conversation(
        id=conv.id if conv else "", type=ctype, tenant_id=_tenant(act), team_id=team, channel_id=channel
    )


def _tenant(act: Activity) -> str | None:
    if act.conversation and act.conversation.tenant_id:
        return act.conversation.tenant_id
    data = act.channel_data if isinstance(act.channel_data, dict) else {}
    return (data.get("tenant") or {}).get("id")


def _title(act: Activity) -> str | None:
    """「チーム名 / チャネル名」 where Teams tells them (install and rename events), for admins' lists."""
    data = act.channel_data if isinstance(act.channel_data, dict) else {}
    team = (data.get("team") or {}).get("name")
    channel = (data.get("channel") or {}).get("name")
    parts = [p for p in (team, channel) if isinstance(p, str) and p]
    return " / ".join(parts)[:256] or None


def _bot_installed(act: Activity) -> bool:
    """Teams says "installed" twice (installationUpdate add and conversationUpdate); greet on the first."""
    if act.type == ActivityTypes.installation_update:
        return (act.action or "") == "add"
    return False


def _fingerprint(act: Activity) -> tuple[Any, ...] | None:
    """What a message tells about its conversation and sender; None for activities always worth storing."""
    if act.type != ActivityTypes.message or not act.conversation:
        return None
    sender = act.from_property
    conv = conversation_of(act)
    return (
        conv.id,
        conv.type,
        act.service_url,
        conv.tenant_id,
        conv.team_id,
        conv.channel_id,
        act.recipient.id if act.recipient else None,
        sender.id if sender else None,
        getattr(sender, "aad_object_id", None) if sender else None,
        sender.name if sender else None,
        act.locale,
    )


READ_RECEIPT_NAME = "application/vnd.microsoft.readReceipt"


def teams_event(act: Activity) -> tuple[str, dict[str, Any]] | None:
    """A Teams event activity as (bot.api event name, plain data), or None for events features ignore.

    A read receipt (botbuilder's ``TeamsActivityHandler.on_teams_read_receipt_event``) comes only from a
    personal chat; anything else with that name, or without a message id, is dropped here.
    """
    if act.type != ActivityTypes.event or act.channel_id != "msteams" or act.name != READ_RECEIPT_NAME:
        return None
    value = act.value if isinstance(act.value, dict) else {}
    last = value.get("lastReadMessageId")
    if not isinstance(last, str) or not last or conversation_of(act).type != "personal":
        return None
    return EVENT_READ_RECEIPT, {"last_read_message_id": last[:256]}


def files_of(act: Activity) -> list[FileAttachment]:
    """Files a user sent: Teams puts them in ``application/vnd.microsoft.teams.file.download.info``."""
    files = []
    for att in act.attachments or []:
        content = att.content if isinstance(att.content, dict) else {}
        if att.content_type == "application/vnd.microsoft.teams.file.download.info" and content.get(
            "downloadUrl"
        ):
            files.append(
                FileAttachment(att.name or "file", content["downloadUrl"], content.get("fileType", ""))
            )
        elif (
            att.content_url
            and att.content_type
            and not att.content_type.startswith("application/vnd.microsoft.card")
        ):
            if att.content_type.startswith("text/html"):
                continue  # Teams mirrors the message body as an HTML attachment
            files.append(
                FileAttachment(att.name or "file", att.content_url, (att.name or "").rsplit(".", 1)[-1])
            )
    return files


@dataclass
class TurnState:
    """What the steps of one turn hand on to each other."""

    context: TurnContext
    correlation_id: str
    now: datetime
    generation: int  # the write generation before any read: a write after it makes what is read stale
    fingerprint: Fingerprint | None
    seen: MemoEntry | None = None  # this chat's memo entry, when it is current
    session: AsyncSession | None = None  # None on the quick path: the turn opens one only if needed
    account: TeamsAccount | None = None
    identity: Identity | None = None
    identity_read_at: datetime | None = None  # set when the identity was read from the database
    stored: bool = False  # the reference was written in this turn
    left: bool = False  # the bot was removed from this chat

    @property
    def activity(self) -> Activity:
        return self.context.activity

    @property
    def is_message(self) -> bool:
        return self.context.activity.type == ActivityTypes.message


Next = Callable[[], Awaitable[None]]
Step = Callable[[TurnState, Next], Awaitable[None]]


async def run_steps(steps: Sequence[Step], state: TurnState) -> None:
    """Run ``steps[0]``, which calls the next, and so on; a step that does not call ``nxt`` ends the turn."""

    async def call(i: int) -> None:
        if i < len(steps):
            await steps[i](state, lambda: call(i + 1))

    await call(0)


class DxBot(Bot):
    """Keeps references current and hands messages to the route table, one DB transaction per turn."""

    def __init__(
        self,
        services: Services,
        table: RouteTable,
        service_urls: ServiceUrls | None = None,
        before_turn: Sequence[TurnStep] = (),
    ) -> None:
        self.services = services
        self.table = table
        # Service URLs this process has seen on authenticated requests: the Messenger sends only there.
        self.service_urls = service_urls or ServiceUrls(
            services.sessionmaker, local_mode=services.settings.local_mode
        )
        self.before_turn = tuple(before_turn)
        self.memo = ChatMemo()
        self.steps: list[Step] = [
            self.map_errors,
            self.trust_service_url,
            self.use_memo,
            self.store_reference,
            self.transaction,
            self.read_identity,
            self.route,
        ]

    async def on_turn(self, context: TurnContext) -> None:
        correlation_id = f"{random.getrandbits(48):012x}"
        context.turn_state["correlation_id"] = correlation_id
        state = TurnState(
            context,
            correlation_id,
            now=self.services.clock(),
            generation=self.memo.generation(),
            fingerprint=_fingerprint(context.activity),
        )
        await run_steps(self.steps, state)

    # --- the steps, in order ------------------------------------------------------------------------

    async def map_errors(self, state: TurnState, nxt: Next) -> None:
        try:
            await nxt()
        except ReplyUndelivered as exc:
            # The connector is what failed: an apology sent into it would fail too. The exception rolled
            # back what the turn wrote, so the person can simply try again. Anything else reaches the
            # adapter's on_turn_error, which apologises (bot/app.py).
            log.warning(
                "reply not delivered after %d attempts in %.1fs (%s); the turn was rolled back",
                exc.attempts,
                exc.elapsed,
                exc.status or exc.reason,
                extra={"correlation_id": state.correlation_id},
            )

    async def trust_service_url(self, state: TurnState, nxt: Next) -> None:
        act = state.activity
        if act.service_url and not self.service_urls.may_trust(act.service_url):
            # Local mode and a serviceUrl off this machine, or http with authentication: whoever sent it
            # would receive the replies and member lookups. Nothing is stored or answered.
            log.warning(
                "ignored a %s activity whose service URL is not trusted (host %s)",
                act.type,
                host_of(act.service_url),
            )
            return
        await nxt()

    async def use_memo(self, state: TurnState, nxt: Next) -> None:
        """Before: the sender's identity, if this chat was seen moments ago and nothing was written since.
        After: what this turn stored and read, for the next message."""
        if state.is_message:
            state.seen = self.memo.recall(state.fingerprint, state.now)
            if state.seen is not None:
                state.identity = state.seen.identity_if_current(state.now, state.generation)
        try:
            await nxt()
        finally:
            conversation = state.activity.conversation
            if state.left and conversation is not None:
                self.memo.forget(conversation.id)
            elif state.stored:
                state.seen = self.memo.remember(state.fingerprint, state.now)
            if state.seen is not None and state.identity is not None and state.identity_read_at is not None:
                state.seen.note_identity(state.identity, state.identity_read_at, state.generation)

    async def store_reference(self, state: TurnState, nxt: Next) -> None:
        """Keep the conversation reference and account current; committed on their own, so a failing
        handler cannot lose them. Opens the turn's session unless the memo made it unnecessary."""
        if state.identity is not None:
            await nxt()  # nothing written since this sender's last message moments ago: nothing to store
            return
        act = state.activity
        async with self.services.sessionmaker() as session:
            state.session = session
            if state.seen is not None:
                # Same sender, same conversation moments ago, but something was written since: one read
                # tells whether anything needs storing (a send may have marked the chat unreachable, e.g.
                # the user blocked the bot); if not, the turn goes on in the same transaction.
                await session.begin()
                sender = user_of(act)
                fresh, state.account = await references.account_if_reachable(
                    session, act.conversation.id, sender.tenant_id, sender.aad_object_id
                )
                if fresh:
                    await nxt()
                    return
                await session.commit()
            async with session.begin():
                state.account = await self._remember(session, state)
            state.stored = not state.left
            await nxt()

    async def transaction(self, state: TurnState, nxt: Next) -> None:
        """One transaction for identity and handler: committed when they succeed, rolled back if not."""
        session = state.session
        if session is None:
            await nxt()  # the quick path: BotTurn opens a session only if the handler uses one
            return
        if not session.in_transaction():
            await session.begin()
        try:
            await nxt()
        except BaseException:
            await session.rollback()
            raise
        await session.commit()

    async def read_identity(self, state: TurnState, nxt: Next) -> None:
        if state.is_message and state.identity is None:
            assert state.session is not None  # store_reference opened it
            state.identity = await resolve_identity(
                state.session,
                user_of(state.activity),
                self.services.settings,
                state.account,
                role_sources_of(self.services),
            )
            state.identity_read_at = self.services.clock()
        await nxt()

    async def route(self, state: TurnState, nxt: Next) -> None:
        act = state.activity
        if state.is_message:
            assert state.identity is not None
            await self._handle(state.session, state.context, state.correlation_id, state.identity)
        elif _bot_installed(act) and self.table.install_handlers:
            turn = BotTurn(state.context, state.session, self.services, Identity(), state.correlation_id)
            for handler in self.table.install_handlers:
                await handler(turn)
        elif (event := teams_event(act)) is not None and (handlers := self.table.event_handlers(event[0])):
            turn = BotTurn(state.context, state.session, self.services, Identity(), state.correlation_id)
            for on_event in handlers:
                await on_event(turn, event[1])
        elif act.type == ActivityTypes.invoke:
            await state.context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
            )
        # other activity types (typing, reactions, …) are accepted and ignored
        await nxt()

    async def _remember(self, session: AsyncSession, state: TurnState) -> TeamsAccount | None:
        context, now = state.context, state.now
        act = context.activity
        conv = conversation_of(act)
        if not conv.id or not act.service_url:
            return None
        # Only authenticated requests reach a turn (in local mode, only loopback URLs count).
        await self.service_urls.note(session, act.service_url, now)
        removed = act.type == ActivityTypes.installation_update and (act.action or "").startswith("remove")
        bot_removed = act.type == ActivityTypes.conversation_update and any(
            m.id == (act.recipient.id if act.recipient else None) for m in (act.members_removed or [])
        )
        if removed or bot_removed:
            state.left = True
            await references.mark_unreachable(session, conv.id, "uninstalled", now)
            log.info("bot removed from a %s conversation", conv.type)
            return None
        ref = TurnContext.get_conversation_reference(act)
        user = user_of(act)
        await references.upsert_reference(
            session,
            conversation_id=conv.id,
            conversation_type=conv.type,
            service_url=act.service_url,
            tenant_id=conv.tenant_id,
            bot_id=act.recipient.id if act.recipient else None,
            user_id=user.id if conv.type == "personal" else None,
            aad_object_id=user.aad_object_id if conv.type == "personal" else None,
            team_id=conv.team_id,
            channel_id=conv.channel_id,
            reference=ref.serialize(),
            now=now,
            title=_title(act),
        )
        # Installing the bot is enough to be reachable: keep the account (and its UPN) from the first event.
        personal_event = conv.type == "personal" and act.type in _ACCOUNT_EVENTS
        if user.aad_object_id and (act.type == ActivityTypes.message or personal_event):
            account = await references.upsert_account(
                session,
                aad_object_id=user.aad_object_id,
                user_id=user.id,
                name=user.name,
                tenant_id=user.tenant_id,
                locale=act.locale,
                now=now,
            )
            # The UPN is read once (it makes the roster link, dialogs/kit/identity.py); the account keeps it.
            stale = account.email_checked_at is None or now - account.email_checked_at > EMAIL_RECHECK
            if account.upn is None and stale:
                account.email_checked_at = now
                member = await BotTurn(context, session, self.services, Identity(), "").member_record()
                account.upn = upn_of(member)
                email = (member or {}).get("email")
                account.email = email.strip().lower() if isinstance(email, str) and email else None
            return account
        return None

    async def _handle(
        self, session: AsyncSession | None, context: TurnContext, correlation_id: str, identity: Identity
    ) -> None:
        """Run the route. With no session given, the turn opens one only if the handler needs it."""
        turn = BotTurn(context, session, self.services, identity, correlation_id)
        try:
            await dispatch(turn, self.table, self.before_turn)
        except BaseException:
            await turn.finish(ok=False)
            raise
        await turn.finish(ok=True)
