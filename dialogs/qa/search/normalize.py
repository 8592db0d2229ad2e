"""Text normalisation for Japanese search.

Two levels, because the morphological analyser needs real Japanese while matching wants variants folded:

- :func:`normalize` is safe to feed to the analyser: NFKC (full/half width), lower case, one kind of
  long-vowel mark, one kind of space, no control characters.
- :func:`fold` is applied to tokens and to the character channel only: katakana to hiragana,
  ヴァ→ば and other loan-word kana variants, ぢ/づ→じ/ず, ヶ/ヵ→か, and a trailing long-vowel mark
  dropped (コンピューター = コンピュータ).

>>> normalize("ＴＥＡＭＳでﾃﾚﾜｰｸ")
'teamsでテレワーク'
>>> fold("ヴァイオリン・コンピューター")
'ばいおりん・こんぴゅーた'
"""

from __future__ import annotations

import re
import unicodedata

# Dashes and tildes that people type for the katakana long-vowel mark.
_DASHES = "-‐‑‒–—―−─━ｰ~〜～"
_KANA = r"\u3041-\u3096\u30a1-\u30fa\u30fc"
_LONG_AFTER_KANA = re.compile(rf"(?<=[{_KANA}])[{re.escape(_DASHES)}]+")
_REPEATED_LONG = re.compile(r"ー{2,}")
_SPACES = re.compile(r"[\s\u3000]+")
_CONTROL = re.compile(r"[\u0000-\u001f\u007f\u200b-\u200f\ufeff]")

_KATA_TO_HIRA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
_VARIANTS = [
    ("ゔぁ", "ば"),
    ("ゔぃ", "び"),
    ("ゔぇ", "べ"),
    ("ゔぉ", "ぼ"),
    ("ゔゅ", "びゅ"),
    ("ゔ", "ぶ"),
    ("ぢ", "じ"),
    ("づ", "ず"),
    ("ゎ", "わ"),
    ("ゕ", "か"),
    ("ゖ", "か"),
]
_HIRA_TRAILING_LONG = re.compile(r"(?<=[\u3041-\u3096ー][\u3041-\u3096])ー(?![\u3041-\u3096ー])")


def normalize(text: str) -> str:
    """Normalise text before analysis: widths, case, long-vowel marks, spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text)
    text = text.lower()
    text = _LONG_AFTER_KANA.sub("ー", text)
    text = _REPEATED_LONG.sub("ー", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


def to_hiragana(text: str) -> str:
    """Katakana to hiragana (ヴ becomes ゔ; ヷ-ヺ are left alone)."""
    return text.translate(_KATA_TO_HIRA)


def fold(text: str) -> str:
    """Fold kana variants so that spellings of one word compare equal (apply after :func:`normalize`)."""
    text = to_hiragana(text).replace("ヶ", "か").replace("ヵ", "か")
    for a, b in _VARIANTS:
        if a in text:
            text = text.replace(a, b)
    # サーバー = サーバ, ユーザー = ユーザ: only after a kana word of two or more letters.
    text = _HIRA_TRAILING_LONG.sub("", text)
    return text
