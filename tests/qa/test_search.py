"""The embedded search: synonyms, answers from the starter knowledge base, the confidence threshold."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dialogs.qa.kbfile import read_kb
from dialogs.qa.search import Entry, SearchIndex, load_synonyms, parse_synonyms

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "dialogs/qa/data/starter_faq.csv"

SMALL = [
    Entry(
        "telework",
        "テレワークの申請方法を教えてください。",
        "所属長の承認を得てから、申請フォームで申し込みます。",
        tags=["働き方"],
    ),
    Entry("record", "Teams会議を録画するには?", "会議中に「レコーディングを開始」を選びます。"),
    Entry("printer", "複合機で両面印刷するには?", "印刷設定で「両面」を選びます。"),
    Entry("web", "Web会議の背景を変えたい", "ビデオ効果から背景を選びます。"),
]
GROUPS = [["テレワーク", "在宅勤務", "リモートワーク"], ["Web会議", "オンライン会議", "ビデオ会議"]]


@pytest.fixture(scope="module")
def starter() -> SearchIndex:
    result = read_kb(STARTER)
    assert result.ok, [e.message for e in result.errors]
    return SearchIndex.build([r.to_entry() for r in result.rows], None)


def top(index: SearchIndex, query: str) -> str | None:
    hits = index.search(query)
    return hits[0].id if hits else None


def test_synonym_finds_the_telework_entry() -> None:
    index = SearchIndex.build(SMALL, GROUPS)
    for query in ("在宅勤務をしたいのですが", "リモートワークの申し込み", "ﾘﾓｰﾄﾜｰｸ"):
        hits = index.search(query)
        assert hits[0].id == "telework", query
        assert index.is_confident(hits), query


def test_without_the_synonym_group_the_word_is_unknown() -> None:
    index = SearchIndex.build(SMALL, [])
    hits = index.search("在宅勤務をしたいのですが")
    assert not index.is_confident(hits)


def test_admin_edited_groups_apply_at_build_time() -> None:
    before = SearchIndex.build(SMALL, GROUPS)
    assert not before.is_confident(before.search("コピー機で裏表に印刷"))
    groups = GROUPS + parse_synonyms("複合機,コピー機\n両面,裏表\n")
    after = SearchIndex.build(SMALL, groups)
    hits = after.search("コピー機で裏表に印刷")
    assert hits[0].id == "printer"
    assert after.is_confident(hits)


def test_exact_wording_beats_a_synonym() -> None:
    entries = [
        Entry("move-in", "転入届の出し方", "新しい住所に住み始めてから14日以内に届け出ます。"),
        Entry("move-out", "転出届の出し方", "引っ越しの前に届け出ます。"),
    ]
    groups = parse_synonyms("引っ越し,転居,転入\n引っ越し,転居,転出\n")
    index = SearchIndex.build(entries, groups)
    assert top(index, "転出の届け") == "move-out"
    assert top(index, "転入の届け") == "move-in"
    # The everyday word finds both.
    assert {h.id for h in index.search("引っ越しの届け")} == {"move-in", "move-out"}


def test_default_synonyms_are_loaded_from_the_shipped_file() -> None:
    groups = load_synonyms()
    assert ["テレワーク", "在宅勤務", "リモートワーク"] == groups[0][:3]
    index = SearchIndex.build(SMALL)  # synonyms=None means the shipped list
    assert top(index, "オンライン会議の背景") == "web"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Teams会議を録画したいです", "teams-meeting-record"),
        ("ﾁｰﾑｽﾞの会議の録画方法", "teams-meeting-record"),
        ("RPAを使いたいのですが、どこに申し込めばよいですか", "rpa-apply"),
        ("生成AIに個人情報を入力してもいいですか", "genai-input"),
        ("パスワードを忘れてログインできない", "contact-password"),
        ("在宅勤務中にWeb会議で背景をぼかしたい", "teams-background"),
    ],
)
def test_starter_kb_answers_common_questions(starter: SearchIndex, query: str, expected: str) -> None:
    hits = starter.search(query)
    assert hits[0].id == expected
    assert starter.is_confident(hits)
    assert 0.0 < hits[0].confidence <= 1.0


@pytest.mark.parametrize(
    "query", ["ほげほげふがふが", "asdfghjkl", "今日の天気はどうですか", "ラーメン屋の営業時間"]
)
def test_nonsense_falls_below_the_threshold(starter: SearchIndex, query: str) -> None:
    assert not starter.is_confident(starter.search(query))


def test_hits_are_sorted_and_limited(starter: SearchIndex) -> None:
    hits = starter.search("Teamsの会議", top_k=5)
    assert 1 <= len(hits) <= 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.id for h in hits}) == len(hits)


def test_rebuilding_picks_up_a_new_entry() -> None:
    index = SearchIndex.build(SMALL, GROUPS)
    assert not index.is_confident(index.search("備品の貸出予約"))
    index = SearchIndex.build(
        [*SMALL, Entry("lend", "備品を借りたい", "備品の貸出予約は総務課の予約表で行います。")], GROUPS
    )
    hits = index.search("備品の貸出予約")
    assert hits[0].id == "lend" and index.is_confident(hits)


def test_empty_index_and_empty_query() -> None:
    empty = SearchIndex.build([], [])
    assert empty.search("録画") == []
    assert not empty.is_confident([])
    assert SearchIndex.build(SMALL, GROUPS).search("   ") == []


def test_markdown_and_urls_in_answers_are_not_search_terms() -> None:
    entries = [
        Entry(
            "a", "研修の日程", "[研修カレンダー](https://intranet.example.lg.jp/dx/training) を見てください。"
        ),
        Entry("b", "intranetとは何ですか", "庁内のWebサイトのことです。"),
    ]
    index = SearchIndex.build(entries, [])
    assert top(index, "intranet") == "b"


def test_eval_set_quality_does_not_regress(starter: SearchIndex) -> None:
    """The paraphrased evaluation set (bench/qa.py prints the full figures)."""
    with (ROOT / "bench/data/qa_eval.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 200
    top1 = sum(top(starter, r["query"]) == r["expected_id"] for r in rows) / len(rows)
    in10 = sum(r["expected_id"] in [h.id for h in starter.search(r["query"])] for r in rows) / len(rows)
    assert top1 >= 0.85
    assert in10 >= 0.95


@pytest.mark.parametrize(
    "module",
    [
        "dialogs.qa.search",
        "dialogs.qa.search.analyzer",
        "dialogs.qa.search.index",
        "dialogs.qa.search.normalize",
        "dialogs.qa.search.synonyms",
    ],
)
def test_docstring_examples_hold(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0


@pytest.fixture(scope="module")
def starter_words() -> SearchIndex:
    """The starter KB on words alone (as when the meaning channel's model is missing)."""
    return SearchIndex.build([r.to_entry() for r in read_kb(STARTER).rows], None, vectors=False)


@pytest.mark.parametrize(
    ("channels", "close_query"),
    [
        ("words", "チームズで同僚に個別にメッセージ送りたいんだけど"),
        ("meaning", "何人かでチャットするにはどうやるの"),
    ],
)
def test_three_bands_answer_choose_or_pass_on(
    starter: SearchIndex, starter_words: SearchIndex, channels: str, close_query: str
) -> None:
    """Answered outright only when clearly ahead; two close entries are offered as choices; nonsense and
    off-topic questions go to the DX division.  Each with the bands calibrated for its channels."""
    if channels == "meaning" and not starter.dense:
        pytest.skip("the meaning channel's model is not installed (test_dense.py fails under CI)")
    starter = starter_words if channels == "words" else starter
    clear = starter.search("Teams会議を録画するにはどうすればいいですか")
    assert starter.band(clear) == "answer" and starter.is_confident(clear)
    # Two entries score close together: not sure, so no answer outright.
    close = starter.search(close_query)
    assert close[0].confidence >= starter.config.threshold
    assert close[0].confidence - close[1].confidence < starter.config.lead
    assert starter.band(close) == "choice" and not starter.is_confident(close)
    assert starter.band(starter.search("ほげほげふがふが")) == "none"
    assert starter.band(starter.search("来週の野球の試合の結果")) == "none"


def test_confident_wrong_answers_stay_rare_on_the_eval_set(starter: SearchIndex) -> None:
    """Staff judge the bot by its first answer: at most 3 % of the questions get a wrong one outright."""
    with (ROOT / "bench/data/qa_eval.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wrong = 0
    for r in rows:
        hits = starter.search(r["query"])
        if starter.is_confident(hits) and hits[0].id != r["expected_id"]:
            wrong += 1
    assert wrong / len(rows) <= 0.03


# Two phrasings learned from use (別の聞き方) among entries whose FAQ text says it the official way.
LEARNED = [
    Entry(
        "online",
        "市役所に行かずにオンラインで申請できる手続きはありますか",
        "電子申請サービスで、住民票の写しの請求や各種の届出ができます。マイナンバーカードで本人確認をします。",
    ),
    Entry(
        "bereavement",
        "家族が亡くなった後の手続きをまとめて相談できますか",
        "おくやみ窓口で、死亡届の後に必要な手続きをまとめてご案内します。予約制です。",
        alternates=["身内が死んだ後の役所の用事 一か所で済ませたい"],
    ),
    Entry(
        "bags",
        "指定ごみ袋はどこで買えますか",
        "市内のスーパーやコンビニで販売しています。",
        alternates=["黄色い袋の値段"],
    ),
    Entry("bulky", "粗大ごみの手数料はいくらですか", "品目ごとに200円から1,000円です。"),
    Entry("moving-out", "転出届はどこで出せますか", "市民課または支所で受け付けます。"),
]


def test_a_question_that_repeats_a_learned_phrasing_is_answered_with_its_entry() -> None:
    index = SearchIndex.build(LEARNED, [])
    for question, entry in (
        ("黄色い袋の値段", "bags"),
        ("身内が死んだ後の役所の用事 一か所で済ませたい", "bereavement"),
    ):
        hits = index.search(question)
        assert hits[0].id == entry and index.band(hits) == "answer"


def test_a_phrasing_sharing_a_word_or_two_with_a_question_does_not_answer_it() -> None:
    """「役所」 and 「済ませたい」 are in one asker's phrasing of the bereavement entry; another asker's
    question about online procedures shares them, but not the phrasing's topic: the bereavement entry may
    not be given as the answer outright (with the phrasing counted in full it was, at 0.34 against 0.18)."""
    index = SearchIndex.build(LEARNED, [], vectors=False)
    hits = index.search("役所に行かずにスマホで手続きを済ませたい")
    assert index.band(hits) != "answer"
    assert {h.id for h in hits[:2]} == {"online", "bereavement"}
    # The meaning channel reads what the question is about: the online entry, clearly.
    meaning = SearchIndex.build(LEARNED, [])
    if meaning.dense:
        hits = meaning.search("役所に行かずにスマホで手続きを済ませたい")
        assert hits[0].id == "online" and meaning.band(hits) == "answer"
