"""Demo data: the starter knowledge base for DX promoters (dialogs/qa/data/starter_faq.csv)."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from bot.api import Services
from dialogs.qa import store
from dialogs.qa.kbfile import read_kb

log = logging.getLogger(__name__)
STARTER_OWNER = "DX推進課"


def starter_path() -> Path:
    return Path(str(resources.files("dialogs.qa").joinpath("data/starter_faq.csv")))


async def seed_demo(services: Services, only_if_empty: bool) -> None:
    """Load the starter knowledge base when the knowledge base is empty (or always, if asked)."""
    result = read_kb(starter_path())
    if result.errors:
        raise ValueError("starter_faq.csv: " + "; ".join(e.message for e in result.errors[:5]))
    async with services.sessionmaker() as session, session.begin():
        now = services.clock()
        await store.ensure_synonyms_seeded(session, now)
        counts = await store.count_entries(session)
        if only_if_empty and sum(counts.values()) > 0:
            print("よくある質問はすでに登録されています。 / The knowledge base is not empty; left as is.")
            return
        summary = await store.import_rows(
            session, result.rows, actor="seed-demo", now=now, owner=STARTER_OWNER
        )
    print(
        f"よくある質問を登録しました(新規 {summary.created} 件、更新 {summary.updated} 件)。"
        f" / Starter knowledge base loaded."
    )
