"""Keeps this process's search index in step with the knowledge base in the database.

    kb = knowledge_base(services)              # one per process, in services.extras
    index = await kb.index(session)            # rebuilt first if the database version moved on

Every change to entries or synonyms bumps ``qa_state.version`` in the same transaction. The index
remembers the version it was built from; a question, or the background poll, that sees a newer
number rebuilds (off the event loop) and swaps the new index in. The old one keeps answering
meanwhile, so nothing waits for a restart and a second process notices changes too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Services
from dialogs.qa import store
from dialogs.qa.search import SearchIndex

log = logging.getLogger(__name__)
EXTRAS_KEY = "qa.knowledge_base"
POLL_SECONDS = 10.0


@dataclass(frozen=True)
class Snapshot:
    version: int
    index: SearchIndex
    built_in: float  # seconds


class KnowledgeBase:
    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self._lock: asyncio.Lock | None = None

    async def index(self, session: AsyncSession) -> SearchIndex:
        """The index for the knowledge base as ``session`` sees it now."""
        version = await store.kb_version(session)
        snap = self.snapshot
        if snap is not None and snap.version == version:
            return snap.index
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            snap = self.snapshot
            if snap is not None and snap.version == version:
                return snap.index
            # Read the version before the entries: a change committed in between makes the snapshot
            # look older than it is (one extra rebuild), never newer.
            entries = await store.published_entries(session)
            synonyms = await store.synonym_terms(session)
            started = time.perf_counter()
            index = await asyncio.to_thread(SearchIndex.build, entries, synonyms)
            self.snapshot = Snapshot(version, index, time.perf_counter() - started)
            log.info("qa index at version %d: %d entries", version, len(index))
            return index

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
            await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)
            return
        except TimeoutError:
            pass
        try:
            await kb.refresh(services)
        except Exception as exc:  # keep polling; the next round may find the database back
            log.warning("qa index refresh failed: %s", type(exc).__name__)
