"""The delivery queue as features see it: enqueue messages, change or withdraw delivered copies, ask
how far a send has got. Everything here runs inside the caller's transaction; the worker
(``dialogs.engines.delivery.worker``) picks the rows up once that transaction commits.

    from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue
    await enqueue(turn.session, "announcement", ann.id,
                  [DeliveryItem(Recipient(person_id=p), Message(card=card)) for p in people])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address, Message, Services
from dialogs.kit.feature import ProgressListener
from storage.models.base import utcnow
from storage.models.delivery import PENDING_STATES, Delivery, DeliveryOp, DeliveryState

INITIAL = "initial"
_CHUNK = 500


@dataclass(frozen=True)
class Recipient:
    """Who gets a message. Give exactly one of: a roster person, a Teams user, a known conversation
    (a row of ``conversation_refs``, e.g. a channel), or a full ``Address``.

    A person or user is resolved to their personal chat when the message is sent, not when it is
    queued, so a scheduled message follows the roster and installs that happen in between.
    """

    person_id: int | None = None
    aad_object_id: str | None = None
    conversation_id: str | None = None
    address: Address | None = None

    def __post_init__(self) -> None:
        given = [self.person_id is not None, bool(self.aad_object_id), bool(self.conversation_id)]
        if self.address is not None:
            given.append(True)
        if sum(given) != 1:
            raise ValueError(
                "a Recipient needs exactly one of person_id, aad_object_id, conversation_id, address"
            )

    @property
    def key(self) -> str:
        if self.person_id is not None:
            return f"person:{self.person_id}"
        if self.aad_object_id:
            return f"aad:{self.aad_object_id}"
        if self.conversation_id:
            return f"conv:{self.conversation_id}"
        assert self.address is not None
        return f"conv:{self.address.conversation_id}"


@dataclass(frozen=True)
class DeliveryItem:
    recipient: Recipient
    message: Message
    purpose: str = INITIAL  # part of the idempotency key: "initial", "reminder-1", "channel", …


@dataclass(frozen=True)
class DeliveryCounts:
    total: int = 0
    queued: int = 0
    sending: int = 0
    delivered: int = 0
    failed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    late: int = 0

    @property
    def pending(self) -> int:
        return self.queued + self.sending

    @property
    def done(self) -> bool:
        return self.pending == 0


# --- payloads -------------------------------------------------------------------------------------


def message_to_payload(message: Message) -> dict[str, Any]:
    return {"text": message.text, "card": message.card, "importance": message.importance}


def payload_to_message(payload: dict[str, Any]) -> Message:
    return Message(text=payload.get("text"), card=payload.get("card"), importance=payload.get("importance"))


def address_to_json(address: Address) -> dict[str, Any]:
    return asdict(address)


def address_from_json(data: dict[str, Any]) -> Address:
    return Address(**data)


# --- writing --------------------------------------------------------------------------------------


async def _insert_ignore(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping those whose key already exists; return how many were new."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    created = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        stmt = insert(Delivery).values(chunk).on_conflict_do_nothing().returning(Delivery.id)
        created += len((await session.execute(stmt)).all())
    return created


def _base_row(kind: str, ref_id: int, now: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "ref_id": ref_id,
        "state": DeliveryState.QUEUED.value,
        "attempts": 0,
        "throttles": 0,
        "recreated": False,
        "late": False,
        "created_at": now,
        "updated_at": now,
    }


async def enqueue(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    items: Iterable[DeliveryItem],
    *,
    not_before: datetime | None = None,
    priority: int = 100,
    now: datetime | None = None,
) -> int:
    """Queue one row per item; items already queued under the same key are left alone.

    Returns the number of new rows. ``not_before`` schedules the send (aware datetime); a row that
    goes out well after it (the bot was down) is marked ``late``.
    """
    now = now or utcnow()
    due = max(not_before, now) if not_before else now
    rows = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        rcpt = item.recipient
        if (rcpt.key, item.purpose) in seen:
            continue
        seen.add((rcpt.key, item.purpose))
        row = _base_row(kind, ref_id, now)
        row.update(
            recipient_key=rcpt.key,
            purpose=item.purpose,
            op=DeliveryOp.SEND.value,
            target_id=None,
            person_id=rcpt.person_id,
            aad_object_id=rcpt.aad_object_id,
            conversation_id=rcpt.address.conversation_id if rcpt.address else rcpt.conversation_id,
            address=address_to_json(rcpt.address) if rcpt.address else None,
            payload=message_to_payload(item.message),
            priority=priority,
            not_before=not_before,
            next_attempt_at=due,
        )
        rows.append(row)
    return await _insert_ignore(session, rows)


async def record_sent(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    recipient: Recipient,
    activity_id: str,
    message: Message,
    *,
    purpose: str = INITIAL,
    now: datetime | None = None,
    conversation_id: str | None = None,
) -> Delivery | None:
    """Adopt a message sent inside a turn (e.g. the card an author is looking at) as a delivered
    row, so ``update_delivered`` can later change it through the worker. ``recipient`` must be a
    ``conversation_id`` the bot knows or an ``address``, or a person with the ``conversation_id`` the
    card was posted into (a card posted again in their chat). Returns None if the conversation is unknown.
    """
    from storage.models import ConversationRef
    from storage.references import address_of

    now = now or utcnow()
    address = recipient.address
    posted_in = recipient.conversation_id or conversation_id
    if address is None and posted_in:
        ref = await session.scalar(
            select(ConversationRef).where(ConversationRef.conversation_id == posted_in)
        )
        address = address_of(ref) if ref else None
    if address is None:
        return None
    row = await session.scalar(
        select(Delivery).where(
            Delivery.kind == kind,
            Delivery.ref_id == ref_id,
            Delivery.recipient_key == recipient.key,
            Delivery.purpose == purpose,
        )
    )
    if row is None:
        row = Delivery(kind=kind, ref_id=ref_id, recipient_key=recipient.key, purpose=purpose, created_at=now)
        session.add(row)
    row.op = DeliveryOp.SEND.value
    row.person_id = recipient.person_id
    row.aad_object_id = recipient.aad_object_id
    row.conversation_id = address.conversation_id
    row.address = address_to_json(address)
    row.payload = message_to_payload(message)
    row.state = DeliveryState.DELIVERED.value
    row.priority = 100
    row.next_attempt_at = now
    row.attempts = row.attempts or 0
    row.throttles = row.throttles or 0
    row.recreated = bool(row.recreated)
    row.late = bool(row.late)
    row.activity_id = activity_id
    row.delivered_at = now
    row.updated_at = now
    await session.flush()
    return row


def _send_rows(kind: str, ref_id: int, purposes: Sequence[str] | None, recipient_key: str | None) -> Any:
    cond = [Delivery.kind == kind, Delivery.ref_id == ref_id, Delivery.op == DeliveryOp.SEND.value]
    if purposes is not None:
        cond.append(Delivery.purpose.in_(list(purposes)))
    if recipient_key is not None:
        cond.append(Delivery.recipient_key == recipient_key)
    return and_(*cond)


def _change_row(
    kind: str,
    ref_id: int,
    target: Delivery,
    op: DeliveryOp,
    revision: str,
    payload: dict[str, Any],
    priority: int,
    now: datetime,
) -> dict[str, Any]:
    """An update or delete of the copy ``target`` delivered; ``revision`` keys it, so asking twice is harmless."""
    row = _base_row(kind, ref_id, now)
    row.update(
        recipient_key=target.recipient_key,
        purpose=f"{target.purpose}~{revision}",
        op=op.value,
        target_id=target.id,
        person_id=target.person_id,
        aad_object_id=target.aad_object_id,
        conversation_id=None,
        address=None,
        payload=payload,
        priority=priority,
        not_before=None,
        next_attempt_at=now,
    )
    return row


async def update_delivered(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    message_for: Callable[[Delivery], Message | None],
    *,
    revision: str,
    purposes: Sequence[str] | None = None,
    recipient_key: str | None = None,
    priority: int = 50,
    now: datetime | None = None,
) -> int:
    """Replace every copy sent for (kind, ref_id) with ``message_for(row)`` (None: leave that one).

    Copies not yet sent get the new content directly; delivered (or in-flight) copies get an update
    operation through the worker, under the same rate limits. ``revision`` names this change
    ("edit-2", "ack-person:7") and makes calling twice harmless. Returns the number of copies touched.
    """
    now = now or utcnow()
    targets = (
        await session.scalars(
            select(Delivery)
            .where(
                _send_rows(kind, ref_id, purposes, recipient_key),
                Delivery.state.in_(
                    [DeliveryState.QUEUED.value, DeliveryState.SENDING.value, DeliveryState.DELIVERED.value]
                ),
            )
            .order_by(Delivery.id)
        )
    ).all()
    ops = []
    for target in targets:
        message = message_for(target)
        if message is None:
            continue
        payload = message_to_payload(message)
        if target.state == DeliveryState.QUEUED:
            target.payload = payload
        ops.append(_change_row(kind, ref_id, target, DeliveryOp.UPDATE, revision, payload, priority, now))
    await _insert_ignore(session, ops)
    return len(ops)


async def delete_delivered(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    *,
    revision: str = "recall",
    purposes: Sequence[str] | None = None,
    priority: int = 50,
    now: datetime | None = None,
) -> int:
    """Withdraw everything sent for (kind, ref_id): queued copies are cancelled, delivered (or
    in-flight) copies are deleted from Teams by the worker. Returns the number of copies touched."""
    now = now or utcnow()
    cancelled = await cancel_pending(session, kind, ref_id, purposes=purposes, now=now)
    targets = (
        await session.scalars(
            select(Delivery)
            .where(
                _send_rows(kind, ref_id, purposes, None),
                Delivery.state.in_([DeliveryState.SENDING.value, DeliveryState.DELIVERED.value]),
            )
            .order_by(Delivery.id)
        )
    ).all()
    ops = []
    for target in targets:
        ops.append(_change_row(kind, ref_id, target, DeliveryOp.DELETE, revision, {}, priority, now))
    await _insert_ignore(session, ops)
    return cancelled + len(ops)


async def cancel_pending(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    *,
    purposes: Sequence[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Cancel copies that have not gone out yet (state queued). Returns how many."""
    result = await session.execute(
        update(Delivery)
        .where(_send_rows(kind, ref_id, purposes, None), Delivery.state == DeliveryState.QUEUED.value)
        .values(state=DeliveryState.CANCELLED.value, updated_at=now or utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def retry_failed(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    *,
    purposes: Sequence[str] | None = (INITIAL,),
    now: datetime | None = None,
) -> int:
    """Queue again the copies that failed or found the recipient unreachable (announce: 届いていない方に再送).

    Their address is resolved afresh, so someone who installed the bot since then receives it."""
    now = now or utcnow()
    reset = dict(
        state=DeliveryState.QUEUED.value,
        next_attempt_at=now,
        attempts=0,
        throttles=0,
        recreated=False,
        error=None,
        last_status=None,
        claimed_by=None,
        claimed_until=None,
        updated_at=now,
    )
    failed = [DeliveryState.FAILED.value, DeliveryState.UNREACHABLE.value]
    total = 0
    # Fixed addresses (channels) keep theirs; people and users are looked up again.
    fixed = Delivery.recipient_key.like("conv:%")
    for cond, extra in ((fixed, {}), (~fixed, {"address": None, "conversation_id": None})):
        result = await session.execute(
            update(Delivery)
            .where(_send_rows(kind, ref_id, purposes, None), Delivery.state.in_(failed), cond)
            .values(**reset, **extra)
        )
        total += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return total


def _change_rows(kind: str, ref_id: int, revision: str) -> Any:
    """The update/delete operations one call of update_delivered/delete_delivered made."""
    return and_(
        Delivery.kind == kind,
        Delivery.ref_id == ref_id,
        Delivery.op != DeliveryOp.SEND.value,
        Delivery.purpose.endswith(f"~{revision}", autoescape=True),
    )


# A skipped operation with one of these errors had no copy to change (never delivered, or a later
# change took it over): it is not counted. Any other skipped error (403 blocked/forbidden) failed.
_NOT_A_COPY = ("not_delivered", "no_target", "superseded")
_GONE = "gone"  # 404: the copy no longer exists in the chat


async def retry_failed_changes(
    session: AsyncSession, kind: str, ref_id: int, revision: str, *, now: datetime | None = None
) -> int:
    """Queue again the operations of one change (e.g. ``"recall"``, ``"edit-3"``) that failed, and only
    those: copies already updated or removed, or still on their way, are left alone. Returns how many."""
    now = now or utcnow()
    failed = and_(
        _change_rows(kind, ref_id, revision),
        (Delivery.state == DeliveryState.FAILED.value)
        | and_(
            Delivery.state == DeliveryState.SKIPPED.value,
            Delivery.error.is_not(None),
            Delivery.error.not_in([*_NOT_A_COPY, _GONE]),
        ),
    )
    result = await session.execute(
        update(Delivery)
        .where(failed)
        .values(
            state=DeliveryState.QUEUED.value,
            next_attempt_at=now,
            attempts=0,
            throttles=0,
            error=None,
            last_status=None,
            claimed_by=None,
            claimed_until=None,
            delivered_at=None,
            updated_at=now,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- reading --------------------------------------------------------------------------------------


async def counts(
    session: AsyncSession, kind: str, ref_id: int, *, purposes: Sequence[str] | None = (INITIAL,)
) -> DeliveryCounts:
    """How far the sends of (kind, ref_id) have got (by default only the first send, not reminders)."""
    rows = (
        await session.execute(
            select(Delivery.state, func.count(), func.sum(func.cast(Delivery.late, Integer)))
            .where(_send_rows(kind, ref_id, purposes, None))
            .group_by(Delivery.state)
        )
    ).all()
    by_state = {state: (n, late or 0) for state, n, late in rows}
    return DeliveryCounts(
        total=sum(n for n, _ in by_state.values()),
        queued=by_state.get(DeliveryState.QUEUED.value, (0, 0))[0],
        sending=by_state.get(DeliveryState.SENDING.value, (0, 0))[0],
        delivered=by_state.get(DeliveryState.DELIVERED.value, (0, 0))[0],
        failed=by_state.get(DeliveryState.FAILED.value, (0, 0))[0],
        unreachable=by_state.get(DeliveryState.UNREACHABLE.value, (0, 0))[0],
        cancelled=by_state.get(DeliveryState.CANCELLED.value, (0, 0))[0],
        late=sum(late for _, late in by_state.values()),
    )


async def deliveries(
    session: AsyncSession,
    kind: str,
    ref_id: int,
    *,
    purposes: Sequence[str] | None = (INITIAL,),
) -> list[Delivery]:
    """The send rows of (kind, ref_id), oldest first: state, activity_id, delivered_at, error."""
    return list(
        (
            await session.scalars(
                select(Delivery).where(_send_rows(kind, ref_id, purposes, None)).order_by(Delivery.id)
            )
        ).all()
    )


async def pending_operations(session: AsyncSession, kind: str, ref_id: int) -> int:
    """Update/delete operations for (kind, ref_id) not finished yet."""
    return int(
        await session.scalar(
            select(func.count()).where(
                Delivery.kind == kind,
                Delivery.ref_id == ref_id,
                Delivery.op != DeliveryOp.SEND.value,
                Delivery.state.in_([s.value for s in PENDING_STATES]),
            )
        )
        or 0
    )


@dataclass
class ChangeStatus:
    """Where one change of delivered copies (an edit, a recall) stands, copy by copy.

    ``done``: updated / removed (a delete answered 404 counts as removed: the copy is no longer in
    the chat). ``gone``: an update whose copy no longer exists (404). ``failed``: the copy still shows
    the old content or is still there, by reason (``http_501``, ``blocked``, ``too_many_attempts``, …).
    Operations that had no copy to change (never delivered, superseded) are not counted.
    """

    done: int = 0
    pending: int = 0
    failed: int = 0
    gone: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    failed_people: list[int | None] = field(default_factory=list)  # person ids (None: a channel post)

    @property
    def total(self) -> int:
        return self.done + self.pending + self.failed + self.gone


async def change_status(session: AsyncSession, kind: str, ref_id: int, revision: str) -> ChangeStatus:
    """How far the change named ``revision`` (as given to update_delivered/delete_delivered) has got."""
    rows = (
        await session.execute(
            select(Delivery.state, Delivery.error, Delivery.person_id)
            .where(_change_rows(kind, ref_id, revision))
            .order_by(Delivery.id)
        )
    ).all()
    status = ChangeStatus()
    for state, error, person_id in rows:
        if state == DeliveryState.DELIVERED.value:
            status.done += 1
        elif state in (DeliveryState.QUEUED.value, DeliveryState.SENDING.value):
            status.pending += 1
        elif state == DeliveryState.SKIPPED.value and (error in _NOT_A_COPY or not error):
            continue
        elif state == DeliveryState.SKIPPED.value and error == _GONE:
            status.gone += 1
        else:  # failed, or skipped because Teams refused (403)
            status.failed += 1
            status.reasons[error or "unknown"] += 1
            status.failed_people.append(person_id)
    return status


async def find_by_activity(session: AsyncSession, kind: str, activity_id: str) -> Delivery | None:
    """The send row that delivered ``activity_id`` (the card a button was pressed on)."""
    return await session.scalar(
        select(Delivery).where(
            Delivery.kind == kind,
            Delivery.activity_id == activity_id,
            Delivery.op == DeliveryOp.SEND.value,
        )
    )


async def delivered_to_conversation(
    session: AsyncSession, kind: str, ref_id: int, conversation_id: str
) -> list[Delivery]:
    return list(
        (
            await session.scalars(
                select(Delivery).where(
                    Delivery.kind == kind,
                    Delivery.ref_id == ref_id,
                    Delivery.op == DeliveryOp.SEND.value,
                    Delivery.conversation_id == conversation_id,
                    Delivery.state == DeliveryState.DELIVERED.value,
                )
            )
        ).all()
    )


# --- progress -------------------------------------------------------------------------------------

# Where the listeners live while the app runs: ``services.extras[LISTENERS]`` (kind -> listeners).
LISTENERS = "delivery.progress_listeners"


def use_progress_listeners(services: Services, listeners: Mapping[str, Sequence[ProgressListener]]) -> None:
    """Have every worker of ``services`` call ``listener(services, ref_ids)`` when rows of a kind changed
    state. The composition root passes what the features' ``Feature.progress`` declare.

    Calls are batched (at most every ``DXBOT_DELIVERY_PROGRESS_SECONDS``) and always happen once
    after the last row of a ref finished. ``services.messenger`` there is rate-limited like every
    other send, so updating the author's progress card from the listener is safe.
    """
    services.extras[LISTENERS] = {kind: list(found) for kind, found in listeners.items()}


def progress_listeners(services: Services, kind: str) -> list[ProgressListener]:
    return list(services.extras.get(LISTENERS, {}).get(kind, []))
