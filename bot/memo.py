"""The per-chat memo: what this process stored about a chat moments ago, and who its sender is.

A person's repeated messages are answered without reading the database. Two things end what the memo
says about a chat:

- the **write generation** (``storage.db.write_generation``): any transaction this process commits that
  wrote something moves it on, and an identity read before that is not used again;
- **time**: a reference is rewritten after ``SEEN_TTL``, and an identity is read again after
  ``IDENTITY_TTL`` at the latest, which bounds how late a change made by *another* process (a second bot
  instance, ``dxbot admin`` from the CLI) is noticed.

The memo is only an optimisation: the database stays the one home of references and roles.

    memo = ChatMemo()
    generation = memo.generation()              # before any read
    entry = memo.recall(fingerprint, now)       # None: store the reference
    identity = entry.identity_if_current(now, generation) if entry else None
    ...
    entry = memo.remember(fingerprint, now)     # after storing it
    entry.note_identity(identity, now, generation)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.api import Identity
from storage.db import write_generation

SEEN_TTL = timedelta(seconds=60)
# How long a sender's roles are reused without reading them again, at most. Any write committed by this
# process ends it at once; this bounds how late a change made by another process is noticed.
IDENTITY_TTL = timedelta(seconds=30)
SEEN_MAX = 10_000

# (conversation id, then whatever else a message says about its chat and sender)
Fingerprint = tuple[Hashable, ...]


@dataclass(slots=True)
class MemoEntry:
    fingerprint: Fingerprint
    stored_at: datetime  # when the reference and account were last written
    identity: Identity | None = None
    identity_at: datetime | None = None
    generation: int = -1  # the write generation before the identity was read
    identity_ttl: timedelta = IDENTITY_TTL

    def identity_if_current(self, now: datetime, generation: int) -> Identity | None:
        """The identity read before, if nothing was written since and it is recent enough."""
        if self.identity is None or self.identity_at is None or self.generation != generation:
            return None
        return self.identity if now - self.identity_at < self.identity_ttl else None

    def note_identity(self, identity: Identity, at: datetime, generation: int) -> None:
        """``identity`` was read at ``at``; ``generation`` is the write generation from before the read."""
        self.identity, self.identity_at, self.generation = identity, at, generation


class ChatMemo:
    """Per chat (the fingerprint's first element), the last fingerprint stored and its sender's identity."""

    def __init__(
        self,
        *,
        max_chats: int = SEEN_MAX,
        seen_ttl: timedelta = SEEN_TTL,
        identity_ttl: timedelta = IDENTITY_TTL,
        generation: Callable[[], int] = write_generation,
    ) -> None:
        self._entries: OrderedDict[Hashable, MemoEntry] = OrderedDict()
        self.max_chats = max_chats
        self.seen_ttl = seen_ttl
        self.identity_ttl = identity_ttl
        self.generation = generation

    def __len__(self) -> int:
        return len(self._entries)

    def recall(self, fingerprint: Fingerprint | None, now: datetime) -> MemoEntry | None:
        """The entry stored for this very fingerprint less than ``seen_ttl`` ago, or None."""
        if fingerprint is None:
            return None
        entry = self._entries.get(fingerprint[0])
        if entry is None or entry.fingerprint != fingerprint or now - entry.stored_at >= self.seen_ttl:
            return None
        return entry

    def remember(self, fingerprint: Fingerprint | None, now: datetime) -> MemoEntry | None:
        """The reference and account of ``fingerprint`` were stored at ``now``. The oldest chat goes first
        when there are more than ``max_chats``."""
        if fingerprint is None:
            return None
        key = fingerprint[0]
        entry = self._entries[key] = MemoEntry(fingerprint, now, identity_ttl=self.identity_ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_chats:
            self._entries.popitem(last=False)
        return entry

    def forget(self, conversation_id: Hashable) -> None:
        """The bot left this chat: the next message stores everything again."""
        self._entries.pop(conversation_id, None)
