"""Spelling variants that a promoter may type must compare equal after normalisation and folding."""

import pytest

from dialogs.qa.search import fold, normalize


def key(text: str) -> str:
    return fold(normalize(text))


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("ＴＥＡＭＳ", "Teams"),  # full-width letters and case
        ("ﾃﾚﾜｰｸ", "テレワーク"),  # half-width katakana with its long-vowel mark
        ("１２３", "123"),
        ("ＡＩ－ＯＣＲ", "ai-ocr"),
        ("サーバ", "サーバー"),  # trailing long vowel (JIS style vs. everyday style)
        ("コンピュータ", "コンピューター"),
        ("ユーザーＩＤ", "ユーザid"),
        ("メール〜", "メール"),  # wave dash typed for the long vowel
        ("ヴァイオリン", "バイオリン"),  # ヴァ = バ
        ("ヴィデオ", "ビデオ"),
        ("ヴェンダー", "ベンダー"),
        ("3ヶ月", "3か月"),
        ("3ヵ月", "3カ月"),
        ("チャット", "ちゃっと"),  # katakana / hiragana
        ("ちぢむ", "ちじむ"),
    ],
)
def test_variants_fold_to_the_same_key(typed: str, written: str) -> None:
    assert key(typed) == key(written)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("テレワーク", "テレビ"),
        ("ゲーム", "ゲム"),  # a long vowel inside a word is kept
        ("会議", "会社"),
    ],
)
def test_different_words_stay_different(a: str, b: str) -> None:
    assert key(a) != key(b)


def test_normalize_keeps_text_readable_for_the_analyser() -> None:
    # Only widths, case, dashes and spaces change; kana and kanji stay as written.
    assert normalize("  Ｔｅａｍｓ\u3000会議を　録画ｰ  ") == "teams 会議を 録画ー"
    assert normalize("ﾃﾞｰﾀ－ｾﾝﾀｰ") == "データーセンター"
    assert normalize("\ufeffＡ\u200bＢ") == "ab"
