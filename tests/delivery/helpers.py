"""Recipients for delivery tests: roster people with a Teams account and a personal chat.

Rows go in with Core inserts naming only the columns these tests need, so other features adding
columns (with their own migrations) does not break them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.engines.delivery.worker import WorkerConfig
from storage.models import ConversationRef, Person, TeamsAccount
from tests.support import TENANT

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)

FAST = WorkerConfig(
    rate=200,
    conversation_rate=7,
    concurrency=4,
    backoff_base=0.05,
    backoff_cap=0.5,
    send_timeout=1.0,
    poll=0.05,
    progress_interval=0.2,
    lease=10,
    heartbeat=0.5,
)


def conv_of(i: int) -> str:
    return f"a:personal-29:u{i}"


def _now() -> datetime:
    return datetime.now(UTC)


async def add_person(
    session: AsyncSession, pid: int, name: str | None = None, email: str | None = None
) -> int:
    await session.execute(
        insert(Person.__table__).values(
            id=pid, name=name or f"職員{pid}", email=email or f"p{pid}@city.example.jp", created_at=_now()
        )
    )
    return pid


async def add_account(session: AsyncSession, pid: int | None, aad: str, user_id: str, email: str) -> None:
    await session.execute(
        insert(TeamsAccount.__table__).values(
            tenant_id=TENANT,  # the tenant the test activities come from (tests.support)
            aad_object_id=aad,
            upn=email.lower(),  # the sign-in name, which the roster lists as メールアドレス
            user_id=user_id,
            name="",
            email=email,
            person_id=pid,
            created_at=_now(),
            last_seen_at=_now(),
        )
    )


async def add_chat(session: AsyncSession, service_url: str, cid: str, **kw: Any) -> str:
    values: dict[str, Any] = dict(
        conversation_id=cid,
        conversation_type="personal",
        service_url=service_url,
        tenant_id="t1",
        bot_id="28:dxbot",
        reference={},
        reachable=True,
        created_at=_now(),
        updated_at=_now(),
    )
    values.update(kw)
    await session.execute(insert(ConversationRef.__table__).values(**values))
    return cid


async def add_people(
    session: AsyncSession, service_url: str, ids: range | list[int], *, with_chat: bool = True
) -> list[int]:
    for i in ids:
        await add_person(session, i)
        await add_account(session, i, f"aad-{i}", f"29:u{i}", f"p{i}@city.example.jp")
        if with_chat:
            await add_chat(session, service_url, conv_of(i), user_id=f"29:u{i}", aad_object_id=f"aad-{i}")
    return list(ids)


async def add_channel(
    session: AsyncSession, service_url: str, cid: str = "19:dx-channel@thread.tacv2"
) -> str:
    return await add_chat(session, service_url, cid, conversation_type="channel")
