"""The analyser (MeCab + IPAdic) as search sees it: ways of writing one word meet, questions typed in
hiragana find the kanji, and the words every question has do not count."""

from __future__ import annotations

import pytest

from dialogs.qa.search import Analyzer, Entry, SearchIndex


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def words(analyzer: Analyzer, text: str) -> list[str]:
    return [t.lemma for t in analyzer.tokens(text) if t.is_content]


@pytest.mark.parametrize(
    "variants",
    [
        ("申し込み", "申込み", "申込"),
        ("取り扱い", "取扱い", "取扱"),
        ("問い合わせ", "問合せ", "問合わせ"),
        ("引っ越し", "引越し", "引越"),
        ("受け付け", "受付"),
        ("振り込み", "振込み", "振込"),
    ],
)
def test_okurigana_variants_are_one_word(analyzer: Analyzer, variants: tuple[str, ...]) -> None:
    # Inside a sentence as well as alone: IPAdic reads 申込みを as 申 + 込み.
    for context in ("{}", "{}をしたい", "{}の方法"):
        found = {tuple(words(analyzer, context.format(v))) for v in variants}
        assert len(found) == 1, (context, found)


def test_a_verb_and_its_noun_are_one_word(analyzer: Analyzer) -> None:
    assert words(analyzer, "申し込みます") == words(analyzer, "申込")


def test_words_that_only_look_alike_stay_apart(analyzer: Analyzer) -> None:
    assert words(analyzer, "申請") != words(analyzer, "申込")
    # With one kanji the okurigana tells the words apart, so it is kept.
    assert words(analyzer, "生きる") != words(analyzer, "生む")


def test_every_question_words_do_not_count(analyzer: Analyzer) -> None:
    assert words(analyzer, "することができますか") == []
    assert words(analyzer, "教えていただけますでしょうか") == []
    assert words(analyzer, "やり方がわからないのですが") == []


def test_the_way_of_doing_something_is_the_verb(analyzer: Analyzer) -> None:
    # 使い方 is one noun in IPAdic; search wants 使う, as in 「使いたい」.
    assert words(analyzer, "勤怠システムの使い方") == words(analyzer, "勤怠システムを使いたい")


def test_okurigana_variants_find_each_other() -> None:
    entries = [
        Entry("form", "申込書の取扱いについて", "申込書は受付窓口に提出してください。"),
        Entry("move", "引越しの届出", "転居届を出してください。"),
        Entry("contact", "問合せ先", "情報政策課へ。"),
    ]
    index = SearchIndex.build(entries, [])
    for query, expected in [
        ("申し込み書の取り扱い", "form"),
        ("引っ越しの届け出", "move"),
        ("問い合わせ先を知りたい", "contact"),
    ]:
        hits = index.search(query)
        assert hits[0].id == expected, query
        assert index.is_confident(hits), query


ENTRIES = [
    Entry("eapp", "電子申請とは何ですか?", "インターネットから市役所の手続きができる仕組みです。"),
    Entry("copy", "住民票の写しを取りたい", "市民課の窓口で請求できます。"),
    Entry("table", "時刻表の見方", "バスの時刻表は交通課の一覧表をご覧ください。"),
    Entry("chat", "チャットの送り方", "新しいチャットを押して宛先を選びます。"),
]


@pytest.fixture(scope="module")
def kana_index() -> SearchIndex:
    return SearchIndex.build(ENTRIES, [])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("でんししんせいってなに", "eapp"),
        ("じゅうみんひょうがほしい", "copy"),  # 住民票, not 住民 + the 表 of 時刻表
        ("ちゃっとのおくりかた", "chat"),  # katakana words read as written
    ],
)
def test_a_question_typed_in_hiragana_finds_the_kanji(
    kana_index: SearchIndex, query: str, expected: str
) -> None:
    hits = kana_index.search(query)
    assert hits and hits[0].id == expected
    assert kana_index.is_confident(hits)


@pytest.mark.parametrize(
    "query", ["ほげほげふがふが", "ありがとうございました", "いつもおせわになっております"]
)
def test_hiragana_that_is_no_word_of_the_knowledge_base_stays_unanswered(
    kana_index: SearchIndex, query: str
) -> None:
    assert not kana_index.is_confident(kana_index.search(query))


def test_a_synonym_the_knowledge_base_lacks_does_not_excuse_the_question() -> None:
    """The unknown part of a question counts against it even when the synonym list knows the word:
    only a group word the knowledge base has can stand in for it."""
    entries = [Entry("ocr", "AI-OCRの申し込み方法", "申込フォームから申請してください。")]
    groups = [["駐車場", "パーキング"], ["AI-OCR", "OCR"]]
    index = SearchIndex.build(entries, groups)
    assert not index.is_confident(index.search("職員駐車場の申し込み方法"))
    # The group the knowledge base has still stands in for a word it lacks.
    hits = index.search("OCRの申し込み方法")
    assert hits[0].id == "ocr" and index.is_confident(hits)


def test_a_synonym_cut_differently_in_a_sentence_still_matches() -> None:
    # IPAdic reads ピッとくん alone as ピッ|とく|ん and in a sentence as ピッ|と|くん.
    entries = [
        Entry("kintai", "勤怠システムの使い方", "出退勤の打刻は勤怠システムで行います。"),
        Entry("forms", "アンケートを集計したい", "Formsを使います。"),
    ]
    index = SearchIndex.build(entries, [["勤怠システム", "ピッとくん"]])
    assert index.search("ピッとくんの使い方")[0].id == "kintai"


@pytest.mark.parametrize(
    "variants",
    [
        ("赤ちゃんが生まれた", "赤ちゃんが産まれた"),
        ("子どもの手当", "子供の手当", "こどもの手当"),
        ("障がい者手帳", "障害者手帳"),
        ("税金を払える場所", "税金を払う場所"),
        ("住民票は書ける?", "住民票を書く"),
        ("コンビニで取れる証明書", "コンビニで取る証明書"),
    ],
)
def test_kanji_variants_and_potential_verbs_are_one_word(
    analyzer: Analyzer, variants: tuple[str, ...]
) -> None:
    found = {tuple(words(analyzer, v)) for v in variants}
    assert len(found) == 1, found


def test_a_potential_verb_finds_the_entry_written_with_the_plain_verb() -> None:
    entries = [
        Entry("tax", "市税を支払う方法", "口座振替、コンビニ、スマホ決済で納付できます。"),
        Entry("birth", "子供が生まれたときの届出", "出生届は14日以内に市民課へ提出してください。"),
        Entry("move", "引っ越しの届出", "転入・転出の届出は市民課へ。"),
    ]
    index = SearchIndex.build(entries, [])
    assert index.search("市税はどこで支払える?")[0].id == "tax"
    birth = index.search("子どもが産まれた")
    assert birth[0].id == "birth" and index.is_confident(birth)


def test_one_off_texts_leave_no_tokens_behind() -> None:
    """keep=False (the synonym lexicon's 50,000 words) gives the same tokens without keeping them."""
    analyzer = Analyzer()
    analyzer.tokens("辞書を読み込みます")
    lines = len(analyzer._tokens)  # noqa: SLF001
    one_off = analyzer.tokens("粗大ごみの収集を申し込みたい", cache=False, keep=False)
    assert len(analyzer._tokens) == lines  # noqa: SLF001
    kept = analyzer.tokens("粗大ごみの収集を申し込みたい", cache=False)
    assert [(t.surface, t.lemma, t.pos, t.reading) for t in one_off] == [
        (t.surface, t.lemma, t.pos, t.reading) for t in kept
    ]
    assert len(analyzer._tokens) > lines  # noqa: SLF001
