"""The delivery worker: claims due rows, sends them under the rate limits, records what happened.

await Worker(services).run(stop)          # until ``stop`` (an asyncio.Event) is set
await drain(services)                     # tests: until nothing is due any more
dxbot delivery worker                     # a worker process on its own, with the features' progress
                                          # listeners (``python -m dialogs.engines.delivery.worker``
                                          # runs one without them: the engine does not know the features)

Progress listeners come from ``services.extras`` (``use_progress_listeners``), set by the composition root.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Address, Job, Message, SendError, Services
from bot.settings import Settings
from dialogs.engines.delivery.addressing import prefill, remember_recreated, resolve
from dialogs.engines.delivery.limits import SHARED_SPACING, RateLimiter
from dialogs.engines.delivery.queue import address_to_json, payload_to_message, progress_listeners
from storage import references
from storage.models.delivery import (
    PENDING_STATES,
    Delivery,
    DeliveryBudget,
    DeliveryOp,
    DeliveryState,
    DeliveryWorker,
)

log = logging.getLogger(__name__)
T: Table = Delivery.__table__  # type: ignore[assignment]
B: Table = DeliveryBudget.__table__  # type: ignore[assignment]
HOST = socket.gethostname()[:128]


# The wait after a progress refresh is at least this many times what the refresh took (2.5 % of the time).
PROGRESS_COST_FACTOR = 40.0


@dataclass
class WorkerConfig:
    rate: float = 45.0  # app-wide calls a second, one budget shared by the live workers
    conversation_rate: float = 7.0
    concurrency: int = 24  # rows in flight per process: at least rate × (Teams' latency + 0.1 s)
    max_attempts: int = 8  # failures other than 429 before a row is given up
    max_throttles: int = 40  # 429 answers before a row is given up
    lease: float = 60.0
    send_timeout: float = 20.0
    poll: float = 0.5
    progress_interval: float = 2.0
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    late_after: float = 120.0  # a scheduled row sent later than this is marked late
    heartbeat: float = 5.0
    worker_ttl: float = 20.0
    burst: float = 0.0  # 0: a tenth of a second's worth (catches up after a pause, within the 1 s cap)
    shared_budget: bool = True  # book the app-wide rate in the database (False: split it evenly)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> WorkerConfig:
        values: dict[str, Any] = dict(
            rate=settings.delivery_rate,
            conversation_rate=settings.delivery_conversation_rate,
            concurrency=settings.delivery_concurrency,
            max_attempts=settings.delivery_max_attempts,
            lease=settings.delivery_lease_seconds,
            send_timeout=settings.delivery_send_timeout,
            poll=settings.delivery_poll_seconds,
            progress_interval=settings.delivery_progress_seconds,
        )
        values.update(overrides)
        return cls(**values)


class LimitedMessenger:
    """A ``Messenger`` whose every call waits for the worker's rate limits (for progress listeners)."""

    def __init__(self, inner: Any, limiter: RateLimiter) -> None:
        self._inner = inner
        self._limiter = limiter

    async def send(self, address: Address, message: Message) -> str:
        await self._limiter.acquire(address.conversation_id)
        return str(await self._inner.send(address, message))

    async def update(self, address: Address, activity_id: str, message: Message) -> None:
        await self._limiter.acquire(address.conversation_id)
        await self._inner.update(address, activity_id, message)

    async def delete(self, address: Address, activity_id: str) -> None:
        await self._limiter.acquire(address.conversation_id)
        await self._inner.delete(address, activity_id)

    async def create_personal_conversation(self, address: Address) -> Address:
        await self._limiter.acquire(None)
        result: Address = await self._inner.create_personal_conversation(address)
        return result

    async def member(
        self, address: Address, user_id: str, team_id: str | None = None
    ) -> dict[str, Any] | None:
        await self._limiter.acquire(None)
        found: dict[str, Any] | None = await self._inner.member(address, user_id, team_id)
        return found


class Worker:
    def __init__(
        self, services: Services, config: WorkerConfig | None = None, worker_id: str | None = None
    ) -> None:
        self.services = services
        self.config = config or WorkerConfig.from_settings(services.settings)
        self.worker_id = worker_id or f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.limiter = RateLimiter(
            self.config.rate,
            self.config.conversation_rate,
            burst=self.config.burst,
            budget=self.book if self.config.shared_budget else None,
        )
        self.limited_services = dataclasses.replace(
            services, messenger=LimitedMessenger(services.messenger, self.limiter)
        )
        self.inflight: set[asyncio.Task[None]] = set()
        self._buffer: deque[Delivery] = deque()  # claimed, not yet started
        self._settles: list[tuple[Any, asyncio.Future[bool]]] = []  # outcomes waiting to be written
        self._settle_task: asyncio.Task[None] | None = None
        self._slot_freed = asyncio.Event()
        self.dirty: set[tuple[str, int]] = set()
        self.stats = {"sent": 0, "retried": 0, "failed": 0, "unreachable": 0, "claimed": 0}
        self._rng = random.Random()
        self.live_workers = 1

    # --- the loop ---------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivery worker %s starting", self.worker_id)
        helpers: list[asyncio.Task[None]] = []
        halt = asyncio.Event()  # stops the housekeeping loops once the sends are over
        try:
            await self._heartbeat()
            helpers = [
                asyncio.create_task(self._every(self.config.heartbeat, self._heartbeat, halt)),
                asyncio.create_task(self._progress_loop(halt)),
            ]
            while not stop.is_set():
                claimed = 0
                if len(self._buffer) < self.config.concurrency:
                    try:
                        rows = await self.claim(self._batch() - len(self._buffer))
                    except Exception:
                        log.exception("delivery claim failed; retrying")
                        await _wait(stop, self.config.poll * 4)
                        continue
                    self._buffer.extend(rows)
                    claimed = len(rows)
                while self._buffer and len(self.inflight) < self.config.concurrency:
                    task = asyncio.create_task(self._process(self._buffer.popleft()))
                    self.inflight.add(task)
                    task.add_done_callback(self._done)
                if claimed and len(self._buffer) < self.config.concurrency:
                    continue  # more may be due: top the buffer up
                self._slot_freed.clear()
                await _wait_any(stop, self._slot_freed, None if self._buffer else self.config.poll)
        finally:
            await self._release_buffer()
            if self.inflight:
                _, pending = await asyncio.wait(set(self.inflight), timeout=self.config.send_timeout + 5)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            if helpers:
                # Let a progress flush under way finish (it holds the refs it is reporting on).
                halt.set()
                _, stuck = await asyncio.wait(helpers, timeout=self.config.send_timeout)
                for task in stuck:
                    task.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
            try:
                await self.flush_progress()
                await self._unregister()
            except Exception:
                log.exception("delivery worker shutdown bookkeeping failed")
            log.info("delivery worker %s stopped: %s", self.worker_id, self.stats)

    def _batch(self) -> int:
        """Rows to hold claimed: half a second's worth at the current rate, at least two rounds of slots.
        Only ``concurrency`` of them are ever being sent; the rest wait, unsent, under this worker's lease."""
        return max(2 * self.config.concurrency, int(self.limiter.rate * 0.5))

    async def _release_buffer(self) -> None:
        """Hand claimed rows that were never started back to the queue, so no one waits for the lease."""
        if not self._buffer:
            return
        ids = [r.id for r in self._buffer]
        self._buffer.clear()
        try:
            async with self.services.sessionmaker() as session, session.begin():
                await session.execute(
                    update(T)
                    .where(
                        T.c.id.in_(ids),
                        T.c.claimed_by == self.worker_id,
                        T.c.state == DeliveryState.SENDING.value,
                    )
                    .values(
                        state=DeliveryState.QUEUED.value,
                        attempts=T.c.attempts - 1,
                        claimed_by=None,
                        claimed_until=None,
                    )
                )
        except Exception:
            log.exception("could not release %d claimed rows; they return when the lease ends", len(ids))

    def _done(self, task: asyncio.Task[None]) -> None:
        self.inflight.discard(task)
        self._slot_freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())

    async def _progress_loop(self, stop: asyncio.Event) -> None:
        """Progress listeners every ``progress_interval``, but never more than 2.5 % of the time: a refresh
        that took 250 ms (the author's card of a 10,000-copy send, per-section relay figures and all)
        waits 10 s for the next. The sends share this process's event loop, and a listener that holds it
        makes the calls due meanwhile leave late and together."""
        wait = self.config.progress_interval
        while not stop.is_set():
            await _wait(stop, wait)
            if stop.is_set():
                return
            started = time.perf_counter()
            try:
                await self.flush_progress()
            except Exception:
                log.exception("delivery worker housekeeping failed")
            wait = max(self.config.progress_interval, PROGRESS_COST_FACTOR * (time.perf_counter() - started))

    async def _every(self, seconds: float, fn: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _wait(stop, seconds)
            if stop.is_set():
                return
            try:
                await fn()
            except Exception:
                log.exception("delivery worker housekeeping failed")

    # --- claims -----------------------------------------------------------------------------------
    async def claim(self, limit: int) -> list[Delivery]:
        """Take up to ``limit`` due rows: in-flight ones whose lease expired (their worker died) first,
        then queued ones whose time has come, by priority. Two workers never get the same row.

        Each of the two picks walks an index in order and stops after ``limit`` rows, so a claim costs
        the same with 10 or 100,000 rows queued."""
        now = self.services.clock()
        expired = and_(T.c.state == DeliveryState.SENDING.value, T.c.claimed_until < now)
        due = and_(T.c.state == DeliveryState.QUEUED.value, T.c.next_attempt_at <= now)
        rows: list[Any] = []
        async with self.services.sessionmaker() as session, session.begin():
            postgres = session.bind.dialect.name == "postgresql"
            for cond, order in (
                (expired, (T.c.claimed_until, T.c.id)),
                (due, (T.c.priority, T.c.next_attempt_at, T.c.id)),
            ):
                want = limit - len(rows)
                if want <= 0:
                    break
                pick = (
                    select(T.c.id).where(cond).order_by(*order).limit(want).with_for_update(skip_locked=True)
                )
                if postgres:
                    # A CTE runs once; "id IN (SELECT … LIMIT n)" may be re-run by the planner and
                    # take more than n rows.
                    picked = pick.cte("picked")
                    where = and_(T.c.id == picked.c.id, cond)
                else:
                    # SQLite has one writer at a time, so this UPDATE is the whole claim.
                    where = and_(T.c.id.in_(pick), cond)
                rows += (await session.execute(self._claim_stmt(where, now))).mappings().all()
        self.stats["claimed"] += len(rows)
        claimed = [Delivery(**dict(r)) for r in rows]
        sends = [r for r in claimed if r.op == DeliveryOp.SEND.value]
        if sends:
            try:
                async with self.services.sessionmaker() as session:
                    await prefill(session, sends)
            except Exception:
                log.exception("delivery address lookup failed; rows are resolved one by one")
        return claimed

    def _claim_stmt(self, where: Any, now: datetime) -> Any:
        late_cutoff = now - timedelta(seconds=self.config.late_after)
        return (
            update(T)
            .where(where)
            .values(
                state=DeliveryState.SENDING.value,
                claimed_by=self.worker_id,
                claimed_until=now + timedelta(seconds=self.config.lease),
                attempts=T.c.attempts + 1,
                late=case(
                    (
                        and_(
                            T.c.attempts == 0,
                            T.c.not_before.is_not(None),
                            T.c.not_before < late_cutoff,
                        ),
                        True,
                    ),
                    else_=T.c.late,
                ),
                updated_at=now,
            )
            .returning(*T.c)
        )

    async def _settle(self, row: Delivery, extra: Any = None, **values: Any) -> bool:
        """Write a row's outcome if this worker still holds its claim (False: someone took it over)."""
        values.setdefault("updated_at", self.services.clock())
        values.setdefault("claimed_until", None)
        stmt = (
            update(T)
            .where(
                T.c.id == row.id,
                T.c.claimed_by == self.worker_id,
                T.c.state == DeliveryState.SENDING.value,
            )
            .values(**values)
        )
        engine = self.services.sessionmaker.kw.get("bind")
        if extra is None and engine is not None:
            # The common path (one per message): written together with the outcomes of the other
            # sends that finish within a few milliseconds, in one transaction. The caller keeps its
            # slot until the write is done, so rows sent but not recorded never exceed the concurrency.
            ok = await self._settle_batched(engine, stmt)
        else:
            async with self.services.sessionmaker() as session, session.begin():
                result = await session.execute(stmt)
                if extra is not None:
                    await extra(session)
            ok = bool(result.rowcount)  # type: ignore[attr-defined]
        self.dirty.add((row.kind, row.ref_id))
        if not ok:
            log.warning("delivery %s was taken over by another worker before it settled", row.id)
        return ok

    async def _settle_batched(self, engine: Any, stmt: Any) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._settles.append((stmt, future))
        if self._settle_task is None or self._settle_task.done():
            self._settle_task = asyncio.create_task(self._flush_settles(engine))
        return await future

    async def _flush_settles(self, engine: Any) -> None:
        await asyncio.sleep(0.005)  # let the sends finishing together join this transaction
        while self._settles:
            batch, self._settles = self._settles[:64], self._settles[64:]
            try:
                async with engine.begin() as conn:
                    counts = [(await conn.execute(stmt)).rowcount for stmt, _ in batch]
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), n in zip(batch, counts, strict=True):
                if not future.done():
                    future.set_result(bool(n))

    async def _keep_lease(self, row: Delivery) -> bool:
        now = self.services.clock()
        if row.claimed_until and row.claimed_until - now > timedelta(seconds=self.config.send_timeout + 5):
            return True
        until = now + timedelta(seconds=self.config.lease)
        async with self.services.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(T)
                .where(
                    T.c.id == row.id,
                    T.c.claimed_by == self.worker_id,
                    T.c.state == DeliveryState.SENDING.value,
                )
                .values(claimed_until=until)
            )
        row.claimed_until = until
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- one row ----------------------------------------------------------------------------------
    async def _process(self, row: Delivery) -> None:
        try:
            if row.op == DeliveryOp.SEND.value:
                await self._send(row)
            else:
                await self._change(row)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a database hiccup: retry later, bounded like any failure
            log.exception("delivery %s: unexpected error", row.id)
            try:
                await self._retry_or_fail(row, SendError(None, f"error_{type(exc).__name__}"[:60]))
            except Exception:
                log.exception("delivery %s: could not record the error; its lease will expire", row.id)

    async def _send(self, row: Delivery) -> None:
        if (
            row.attempts - row.throttles > self.config.max_attempts
            or row.throttles > self.config.max_throttles
        ):
            await self._settle(row, state=DeliveryState.FAILED.value, error=row.error or "too_many_attempts")
            self.stats["failed"] += 1
            return
        async with self.services.sessionmaker() as session:
            address, reason = await resolve(session, row)
        if address is None:
            await self._settle(row, state=DeliveryState.UNREACHABLE.value, error=reason)
            self.stats["unreachable"] += 1
            return
        await self.limiter.acquire(address.conversation_id)
        if not await self._keep_lease(row):
            return
        message = payload_to_message(row.payload)
        try:
            activity_id = await asyncio.wait_for(
                self.services.messenger.send(address, message), self.config.send_timeout
            )
        except TimeoutError:
            await self._failed(row, address, SendError(None, "timeout"))
            return
        except SendError as err:
            await self._failed(row, address, err)
            return
        self.limiter.answered(False)
        self.stats["sent"] += 1
        await self._settle(
            row,
            state=DeliveryState.DELIVERED.value,
            activity_id=activity_id,
            delivered_at=self.services.clock(),
            address=address_to_json(address),
            conversation_id=address.conversation_id,
            last_status=201,
            error=None,
        )

    async def _failed(self, row: Delivery, address: Address, err: SendError) -> None:
        if err.status in (403, 404):
            self.limiter.answered(False)
            reason = err.reason or ("blocked" if err.status == 403 else "uninstalled")
            if self._can_recreate(row, address, reason):
                await self._recreate(row, address, reason)
                return
            await self._unreachable(row, address, err.status, reason)
            return
        await self._retry_or_fail(row, err, address)

    @staticmethod
    def _can_recreate(row: Delivery, address: Address, reason: str) -> bool:
        return (
            not row.recreated
            and reason != "blocked"  # the user chose to block the bot: respect it
            and address.conversation_type == "personal"
            and bool(address.user_id)
            and row.recipient_key.startswith(("person:", "aad:"))
        )

    async def _unreachable(
        self, row: Delivery, address: Address | None, status: int | None, reason: str
    ) -> None:
        now = self.services.clock()

        async def mark(session: AsyncSession) -> None:
            if address is not None:
                await references.mark_unreachable(session, address.conversation_id, reason, now)

        state = (
            DeliveryState.UNREACHABLE.value
            if row.op == DeliveryOp.SEND.value
            else DeliveryState.SKIPPED.value
        )
        await self._settle(row, extra=mark, state=state, error=reason, last_status=status)
        self.stats["unreachable"] += 1

    async def _recreate(self, row: Delivery, address: Address, reason: str) -> None:
        """The chat is gone but the user is known: open a new 1:1 chat once and send again."""
        try:
            await self.limiter.acquire(None)
            new = await asyncio.wait_for(
                self.services.messenger.create_personal_conversation(address), self.config.send_timeout
            )
        except (SendError, TimeoutError) as exc:
            status = exc.status if isinstance(exc, SendError) else None
            if isinstance(exc, SendError) and exc.retryable and status != 429:
                await self._retry_or_fail(row, exc, address)
                return
            await self._unreachable(row, address, status or 403, reason)
            return
        now = self.services.clock()

        async def remember(session: AsyncSession) -> None:
            await references.mark_unreachable(session, address.conversation_id, reason, now)
            await remember_recreated(session, address, new, row.aad_object_id, now)

        log.info("delivery %s: personal chat re-created after %s", row.id, reason)
        await self._settle(
            row,
            extra=remember,
            state=DeliveryState.QUEUED.value,
            recreated=True,
            address=address_to_json(new),
            conversation_id=new.conversation_id,
            next_attempt_at=now,
            last_status=403 if reason != "uninstalled" else 404,
            error=None,
        )

    def _backoff(self, failures: int) -> float:
        delay = min(self.config.backoff_cap, self.config.backoff_base * 2 ** max(0, failures - 1))
        return delay * self._rng.uniform(0.5, 1.0)

    async def _retry_or_fail(self, row: Delivery, err: SendError, address: Address | None = None) -> None:
        now = self.services.clock()
        throttled = err.status == 429
        throttles = row.throttles + (1 if throttled else 0)
        failures = row.attempts - throttles
        reason = err.reason or (f"http_{err.status}" if err.status else "timeout")
        if throttled:
            self.limiter.throttled(address.conversation_id if address else None, err.retry_after)
        else:
            self.limiter.answered(False)
        retryable = err.retryable or err.status is None
        if not retryable or failures >= self.config.max_attempts or throttles > self.config.max_throttles:
            self.stats["failed"] += 1
            state = DeliveryState.FAILED.value
            await self._settle(row, state=state, error=reason, last_status=err.status, throttles=throttles)
            return
        if throttled:
            delay = err.retry_after if err.retry_after is not None else self._backoff(throttles)
        else:
            delay = self._backoff(failures)
        self.stats["retried"] += 1
        await self._settle(
            row,
            state=DeliveryState.QUEUED.value,
            next_attempt_at=now + timedelta(seconds=delay),
            throttles=throttles,
            last_status=err.status,
            error=reason,
        )

    async def _change(self, row: Delivery) -> None:
        """An update or delete of the copy another row delivered."""
        async with self.services.sessionmaker() as session:
            target = await session.get(Delivery, row.target_id)
            newer = None
            if row.op == DeliveryOp.UPDATE.value:
                newer = await session.scalar(
                    select(func.count()).where(
                        T.c.target_id == row.target_id,
                        T.c.id > row.id,
                        T.c.op.in_([DeliveryOp.UPDATE.value, DeliveryOp.DELETE.value]),
                    )
                )
        now = self.services.clock()
        if target is None:
            await self._settle(row, state=DeliveryState.SKIPPED.value, error="no_target")
            return
        if target.state in [s.value for s in PENDING_STATES]:
            # The copy is still on its way: come back when it has landed (not counted as an attempt).
            await self._settle(
                row,
                state=DeliveryState.QUEUED.value,
                attempts=row.attempts - 1,
                next_attempt_at=now + timedelta(seconds=1),
            )
            return
        if target.state != DeliveryState.DELIVERED.value or not target.activity_id or not target.address:
            await self._settle(row, state=DeliveryState.SKIPPED.value, error="not_delivered")
            return
        if newer:
            await self._settle(row, state=DeliveryState.SKIPPED.value, error="superseded")
            return
        if row.attempts - row.throttles > self.config.max_attempts:
            await self._settle(row, state=DeliveryState.FAILED.value, error=row.error or "too_many_attempts")
            return
        address = Address(**target.address)
        await self.limiter.acquire(address.conversation_id)
        if not await self._keep_lease(row):
            return
        try:
            if row.op == DeliveryOp.UPDATE.value:
                await asyncio.wait_for(
                    self.services.messenger.update(
                        address, target.activity_id, payload_to_message(row.payload)
                    ),
                    self.config.send_timeout,
                )
            else:
                await asyncio.wait_for(
                    self.services.messenger.delete(address, target.activity_id), self.config.send_timeout
                )
        except (SendError, TimeoutError) as exc:
            err = exc if isinstance(exc, SendError) else SendError(None, "timeout")
            if err.status == 404:
                self.limiter.answered(False)
                # Deleting what is already gone is done; updating it is not possible.
                done = row.op == DeliveryOp.DELETE.value
                await self._settle(
                    row,
                    state=(DeliveryState.DELIVERED if done else DeliveryState.SKIPPED).value,
                    delivered_at=now if done else None,
                    error="gone",
                    last_status=404,
                )
                return
            if err.status == 403:
                await self._unreachable(row, address, 403, err.reason or "blocked")
                return
            await self._retry_or_fail(row, err, address)
            return
        self.limiter.answered(False)
        self.stats["sent"] += 1
        await self._settle(
            row,
            state=DeliveryState.DELIVERED.value,
            delivered_at=self.services.clock(),
            last_status=200,
            error=None,
        )

    # --- heartbeat and progress -------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        """Say this worker is alive, and take over from dead peers: a worker whose heartbeat is older
        than ``worker_ttl``, or on this host whose process is gone (a restart after SIGKILL), is
        removed and its claimed rows are released at once instead of waiting out their lease."""
        now = self.services.clock()
        async with self.services.sessionmaker() as session, session.begin():
            me = await session.get(DeliveryWorker, self.worker_id)
            if me is None:
                session.add(
                    DeliveryWorker(
                        worker_id=self.worker_id, host=HOST, started_at=now, heartbeat_at=now, pid=os.getpid()
                    )
                )
            else:
                me.heartbeat_at = now
        async with self.services.sessionmaker() as session, session.begin():
            peers = (await session.scalars(select(DeliveryWorker))).all()
            dead = [w.worker_id for w in peers if w.worker_id != self.worker_id and self._is_dead(w, now)]
            if dead:
                await session.execute(delete(DeliveryWorker).where(DeliveryWorker.worker_id.in_(dead)))
                released = await session.execute(
                    update(T)
                    .where(T.c.claimed_by.in_(dead), T.c.state == DeliveryState.SENDING.value)
                    .values(claimed_until=now - timedelta(seconds=1))
                )
                log.warning(
                    "delivery workers %s are gone; %d of their rows are taken over now",
                    ", ".join(dead),
                    released.rowcount,  # type: ignore[attr-defined]
                )
        alive = max(1, len(peers) - len(dead))  # peers includes this worker, registered above
        self.live_workers = alive
        # With the shared budget every worker may use the whole rate; without it, an even split.
        self.limiter.set_share(1.0 if self.limiter.budget_ok else 1.0 / alive)

    def _is_dead(self, peer: DeliveryWorker, now: datetime) -> bool:
        if peer.heartbeat_at < now - timedelta(seconds=self.config.worker_ttl):
            return True
        return peer.host == HOST and bool(peer.pid) and not _process_exists(int(peer.pid or 0))

    async def book(self, n: int, rate: float) -> float:
        """Book ``n`` slots of the app-wide budget; return in how many seconds the first one starts.

        One UPDATE on one row, so every worker (on SQLite or PostgreSQL) draws from the same budget:
        a worker with little to do leaves the rest of the rate to the others."""
        interval = SHARED_SPACING / rate
        engine = self.services.sessionmaker.kw.get("bind")
        if engine is None:
            raise RuntimeError("the shared budget needs a sessionmaker bound to an engine")
        async with engine.begin() as conn:
            for _ in range(2):
                now = time.time()
                tat = (
                    await conn.execute(
                        update(B)
                        .where(B.c.name == "app")
                        .values(tat=case((B.c.tat > now, B.c.tat), else_=now) + n * interval)
                        .returning(B.c.tat)
                    )
                ).scalar()
                if tat is not None:
                    return float(tat) - n * interval - now
                await conn.execute(_insert_ignore_stmt(conn.dialect.name).values(name="app", tat=0.0))
        return 0.0

    async def _unregister(self) -> None:
        async with self.services.sessionmaker() as session, session.begin():
            await session.execute(delete(DeliveryWorker).where(DeliveryWorker.worker_id == self.worker_id))

    async def flush_progress(self) -> None:
        if not self.dirty:
            return
        dirty, self.dirty = self.dirty, set()
        by_kind: dict[str, set[int]] = {}
        for kind, ref_id in dirty:
            by_kind.setdefault(kind, set()).add(ref_id)
        for kind, ref_ids in by_kind.items():
            for listener in progress_listeners(self.services, kind):
                try:
                    await listener(self.limited_services, set(ref_ids))
                except asyncio.CancelledError:
                    self.dirty |= {(kind, r) for r in ref_ids}
                    raise
                except Exception:
                    log.exception("progress listener for %s failed", kind)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _insert_ignore_stmt(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(B).on_conflict_do_nothing()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def _wait_any(stop: asyncio.Event, other: asyncio.Event, seconds: float | None) -> None:
    waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def pending_due(session: AsyncSession, horizon: datetime) -> int:
    """Rows still to do whose time comes before ``horizon`` (in-flight rows always count)."""
    return int(
        await session.scalar(
            select(func.count()).where(
                or_(
                    and_(T.c.state == DeliveryState.QUEUED.value, T.c.next_attempt_at <= horizon),
                    T.c.state == DeliveryState.SENDING.value,
                )
            )
        )
        or 0
    )


async def drain(
    services: Services,
    *,
    within: float = 60.0,
    horizon: float = 30.0,
    config: WorkerConfig | None = None,
    worker: Worker | None = None,
) -> Worker:
    """Run a worker until no row is due within ``horizon`` seconds (tests, CLI one-shots).

    Progress listeners run once more when a worker stops and may queue follow-ups (the author's
    card), so the worker is started again until a stop leaves nothing behind."""
    worker = worker or Worker(services, config)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await _drain_round(services, worker, deadline, horizon)
        async with services.sessionmaker() as session:
            left = await pending_due(session, services.clock() + timedelta(seconds=horizon))
        if left == 0 or loop.time() >= deadline:
            if left:
                log.warning("drain: %d rows still pending after %.0fs", left, within)
            return worker


async def _drain_round(services: Services, worker: Worker, deadline: float, horizon: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    loop = asyncio.get_running_loop()
    try:
        while loop.time() < deadline:
            await asyncio.sleep(0.05)
            if task.done() or worker.inflight:
                if task.done():
                    break
                continue
            async with services.sessionmaker() as session:
                left = await pending_due(session, services.clock() + timedelta(seconds=horizon))
            if left == 0:
                break
    finally:
        stop.set()
        await task


def delivery_job() -> Job:
    async def run(services: Services, stop: asyncio.Event) -> None:
        await Worker(services).run(stop)

    return Job("delivery-worker", run)


async def _main() -> None:
    import signal

    from bot.logging_setup import configure
    from bot.services import open_services

    configure()
    settings = Settings()  # type: ignore[call-arg]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        await Worker(services).run(stop)


if __name__ == "__main__":
    asyncio.run(_main())
