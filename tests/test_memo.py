"""The per-chat memo (bot/memo.py) on its own: what it recalls, for how long, and what ends it.

tests/test_turn_memo.py shows the same through the bot: a repeated message reads nothing, a role change
applies at once (this process) or within IDENTITY_TTL (another process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.api import Identity, Role
from bot.memo import ChatMemo

NOW = datetime(2026, 11, 24, 1, tzinfo=UTC)
ADMIN = Identity(person_id=1, email="a@example.jp", roles=frozenset({Role.ANYONE, Role.ADMIN}))


class Generation:
    """Stands for storage.db.write_generation: moves on when a test says a write was committed."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


def test_a_chat_is_recalled_only_with_the_same_fingerprint_and_within_seen_ttl() -> None:
    memo = ChatMemo(seen_ttl=timedelta(seconds=60))
    memo.remember(("conv-1", "29:u", "ja"), NOW)
    assert memo.recall(("conv-1", "29:u", "ja"), NOW + timedelta(seconds=59)) is not None
    assert memo.recall(("conv-1", "29:u", "en"), NOW) is None  # the sender's language changed
    assert memo.recall(("conv-1", "29:u", "ja"), NOW + timedelta(seconds=60)) is None
    assert memo.recall(("conv-2", "29:u", "ja"), NOW) is None
    assert memo.recall(None, NOW) is None and memo.remember(None, NOW) is None


def test_an_identity_is_reused_until_a_write_or_identity_ttl() -> None:
    generation = Generation()
    memo = ChatMemo(identity_ttl=timedelta(seconds=30), generation=generation)
    before = memo.generation()
    entry = memo.remember(("conv-1",), NOW)
    assert entry is not None and entry.identity_if_current(NOW, before) is None  # nothing read yet
    entry.note_identity(ADMIN, NOW, before)
    assert entry.identity_if_current(NOW + timedelta(seconds=29), memo.generation()) == ADMIN
    assert entry.identity_if_current(NOW + timedelta(seconds=30), memo.generation()) is None
    generation.value += 1  # this process committed a write (a role given, a roster imported, …)
    assert entry.identity_if_current(NOW + timedelta(seconds=1), memo.generation()) is None


def test_an_identity_read_before_a_write_is_not_trusted_after_it() -> None:
    """The generation is taken before the read: a write committed while reading makes the read stale."""
    generation = Generation()
    memo = ChatMemo(generation=generation)
    before = memo.generation()
    generation.value += 1  # committed while this turn was reading the roles
    entry = memo.remember(("conv-1",), NOW)
    assert entry is not None
    entry.note_identity(ADMIN, NOW, before)
    assert entry.identity_if_current(NOW, memo.generation()) is None


def test_the_oldest_chat_goes_first_when_the_memo_is_full() -> None:
    memo = ChatMemo(max_chats=2)
    memo.remember(("a",), NOW)
    memo.remember(("b",), NOW)
    memo.remember(("a",), NOW + timedelta(seconds=1))  # stored again: now the newest
    memo.remember(("c",), NOW + timedelta(seconds=2))
    assert len(memo) == 2
    assert memo.recall(("b",), NOW + timedelta(seconds=3)) is None
    assert memo.recall(("a",), NOW + timedelta(seconds=3)) is not None


def test_a_chat_the_bot_left_is_forgotten() -> None:
    memo = ChatMemo()
    memo.remember(("conv-1", "29:u"), NOW)
    memo.forget("conv-1")
    memo.forget("never-seen")
    assert memo.recall(("conv-1", "29:u"), NOW) is None
