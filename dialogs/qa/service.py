"""Keeps this process's search index in step with the knowledge base in the database.

    kb = knowledge_base(services)              # one per process, in services.extras
    index = await kb.index(session)            # rebuilt first if the database version moved on

Every change to entries or synonyms bumps ``qa_state.version`` in the same transaction. The index
remembers the version it was built from; a question, or the background poll, that sees a newer
number rebuilds (off the event loop) and swaps the new index in. The old one keeps answering
meanwhile, so nothing waits for a restart and a second process notices changes too.

The meaning channel (search/dense.py) needs a sentence vector per entry, tens of milliseconds each, so a
build does not wait for new ones: it answers on words alone at once, and the background job embeds what
is missing (``complete_meaning``) and swaps in the index with the channel a few seconds later. A one-off
command (``dxbot faq search``) passes ``wait_for_meaning=True`` instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Services
from dialogs.qa import store
from dialogs.qa.search import Entry, SearchIndex

log = logging.getLogger(__name__)
EXTRAS_KEY = "qa.knowledge_base"
POLL_SECONDS = 10.0


@dataclass(frozen=True)
class Snapshot:
    version: int
    index: SearchIndex
    built_in: float  # seconds
    entries: Sequence[Entry] = ()
    synonyms: Sequence[Sequence[str]] = ()


class KnowledgeBase:
    def __init__(self, *, wait_for_meaning: bool = False) -> None:
        self.snapshot: Snapshot | None = None
        self._lock_made: asyncio.Lock | None = None
        self._wait_for_meaning = wait_for_meaning

    @property
    def _lock(self) -> asyncio.Lock:
        """Made on first use, inside the event loop that uses it."""
        if self._lock_made is None:
            self._lock_made = asyncio.Lock()
        return self._lock_made

    async def index(self, session: AsyncSession) -> SearchIndex:
        """The index for the knowledge base as ``session`` sees it now."""
        version = await store.kb_version(session)
        snap = self.snapshot
        if snap is not None and snap.version == version:
            return snap.index
        async with self._lock:
            snap = self.snapshot
            if snap is not None and snap.version == version:
                return snap.index
            # Read the version before the entries: a change committed in between makes the snapshot
            # look older than it is (one extra rebuild), never newer.
            entries = await store.published_entries(session)
            synonyms = await store.synonym_terms(session)
            started = time.perf_counter()
            build = partial(SearchIndex.build, entries, synonyms, embed=self._wait_for_meaning)
            index = await asyncio.to_thread(build)
            self.snapshot = Snapshot(version, index, time.perf_counter() - started, entries, synonyms)
            log.info("qa index at version %d: %d entries", version, len(index))
            return index

    async def complete_meaning(self, stop: Callable[[], bool] | None = None) -> bool:
        """Embed the entries the current index has no sentence vector for, then swap in the same knowledge
        base's index with the meaning channel.  True when it swapped.  Questions are answered by the index
        on words alone meanwhile."""
        snap = self.snapshot
        if snap is None or not snap.index.dense_pending:
            return False
        await asyncio.to_thread(snap.index.embed_pending, stop)
        if stop is not None and stop():
            return False
        async with self._lock:
            if self.snapshot is not snap:
                return False  # a newer version came in meanwhile; the next round embeds for that one
            started = time.perf_counter()
            build = partial(SearchIndex.build, snap.entries, snap.synonyms, embed=False)
            index = await asyncio.to_thread(build)
            self.snapshot = Snapshot(
                snap.version, index, time.perf_counter() - started, snap.entries, snap.synonyms
            )
        log.info(
            "qa index at version %d: meaning channel %s", snap.version, "on" if index.dense else "pending"
        )
        return index.dense

    async def refresh(self, services: Services) -> None:
        async with services.sessionmaker() as session, session.begin():
            await self.index(session)


def knowledge_base(services: Services) -> KnowledgeBase:
    kb = services.extras.get(EXTRAS_KEY)
    if kb is None:
        kb = services.extras[EXTRAS_KEY] = KnowledgeBase()
    return kb


async def on_startup(services: Services) -> None:
    """Build the index before the first question; a database not migrated yet only logs."""
    try:
        async with services.sessionmaker() as session, session.begin():
            await store.ensure_synonyms_seeded(session, services.clock())
        await knowledge_base(services).refresh(services)
    except Exception as exc:  # the bot still starts; /readyz reports the database state
        log.warning("qa index not built at start-up: %s", type(exc).__name__)


async def poll_versions(services: Services, stop: asyncio.Event) -> None:
    """Background job: notice changes another process made, and rebuild before anyone asks."""
    kb = knowledge_base(services)
    while not stop.is_set():
        try:
            await kb.complete_meaning(stop.is_set)
        except Exception as exc:  # words alone keep answering; the next round tries again
            log.warning("qa meaning channel not completed: %s", type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)
            return
        except TimeoutError:
            pass
        try:
            await kb.refresh(services)
        except Exception as exc:  # keep polling; the next round may find the database back
            log.warning("qa index refresh failed: %s", type(exc).__name__)
