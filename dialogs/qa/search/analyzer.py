"""Morphological analysis with MeCab (fugashi) and UniDic (unidic-lite), both from PyPI.

Why UniDic: its *lemma* already unifies spellings of one word (申込み = 申し込み, コンピュータ =
コンピューター, ヴァイオリン = バイオリン), and its short units split compounds the way search wants
(住民票 → 住民 + 票).  See README.md for the measurements against SudachiPy.

The analyser keeps a bounded cache of analysed texts, so rebuilding the index after one entry changed
re-analyses only that entry.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from .normalize import fold, normalize

# Parts of speech that carry meaning for retrieval (UniDic POS level 1).
_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "接尾辞", "記号"}
# Light verbs, formal nouns and auxiliaries-as-verbs that appear in every question.
_STOP_LEMMAS = {
    "為る",
    "居る",
    "有る",
    "成る",
    "出来る",
    "来る",
    "行く",
    "言う",
    "思う",
    "下さる",
    "頂く",
    "致す",
    "御座る",
    "遣る",
    "貰う",
    "呉れる",
    "仕舞う",
    "置く",
    "事",
    "物",
    "為",
    "所",
    "様",
    "方",
    "良い",
    "無い",
    "宜しい",
    "分かる",
    "知る",
    "教える",
    "欲しい",
    "問う",
    "合わせる",
    "際",
    "場合",
    "今",
    "度",
    "的",
    "等",
    "達",
    "さん",
    "様-",
}
# Tokens that end a run of content characters (the character channel does not bridge them).
_BREAK_POS = {"助詞", "助動詞", "補助記号", "空白", "感動詞", "接続詞"}


class Token:
    """One morpheme.  Instances are shared: every occurrence of the same MeCab line is the same object,
    with its folded forms and flags computed once."""

    __slots__ = ("surface", "folded", "lemma", "pos", "pos1", "is_content", "breaks_run", "is_nounish")

    def __init__(self, surface: str, lemma: str, pos: str) -> None:
        self.surface = surface  # normalised, not folded
        self.folded = fold(surface)
        self.lemma = lemma  # folded UniDic lemma (or the folded surface for unknown words)
        self.pos = pos  # e.g. "名詞-普通名詞-一般"
        self.pos1 = pos.split("-", 1)[0]
        self.is_content = _is_content(surface, lemma, pos, self.pos1)
        self.breaks_run = self.pos1 in _BREAK_POS or not any(c.isalnum() for c in surface)
        # Nouns and noun-like suffixes: adjacent ones also form a pair term (住民+票).
        self.is_nounish = self.is_content and pos.startswith(("名詞", "接尾辞-名詞的"))

    def __repr__(self) -> str:
        return f"Token({self.surface!r}, {self.lemma!r}, {self.pos!r})"


def _is_content(surface: str, lemma: str, pos: str, pos1: str) -> bool:
    if pos1 not in _CONTENT_POS:
        return False
    if pos1 == "接尾辞" and not pos.startswith("接尾辞-名詞的"):
        return False
    if pos1 == "記号" and not any(c.isalnum() for c in surface):
        return False
    if pos.startswith("名詞-代名詞"):
        return False
    if lemma in _STOP_LEMMAS:
        return False
    # A single kana is almost always an analysis fragment, not a word.
    if len(lemma) == 1 and "\u3041" <= lemma <= "\u309f":
        return False
    return True


class Analyzer:
    """Turns text into :class:`Token` lists.  Thread-safe; create one and share it."""

    def __init__(self, cache_size: int = 100_000) -> None:
        import fugashi  # imported here so that importing the package stays cheap
        import unidic_lite

        # -r /dev/null: ignore any system mecabrc; -Ounidic: the format declared in unidic-lite's dicrc
        # (surface, pron, lForm, lemma, POS, cType, cForm, aType).
        self._tagger = fugashi.GenericTagger(f'-r /dev/null -d "{unidic_lite.DICDIR}" -Ounidic')
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Token, ...]] = {}
        self._cache_size = cache_size
        self._tokens: dict[str, Token | None] = {}
        self._memos: dict[Hashable, dict[str, Any]] = {}

    def tokens(self, text: str, *, cache: bool = True) -> tuple[Token, ...]:
        text = normalize(text)
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        with self._lock:
            parsed = self._tagger.parse(text)
            result = tuple(self._parse_lines(parsed))
            if len(self._tokens) >= 10 * self._cache_size:
                self._tokens.clear()
            if cache:
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()
                self._cache[text] = result
        return result

    def memo(self, key: Hashable) -> dict[str, Any]:
        """A dictionary kept with this analyser for results derived from its tokens (the index keeps the
        terms of every text here, keyed by its synonym list, so a rebuild re-analyses only changed texts).
        Only the two most recently used keys are kept."""
        with self._lock:
            memo = self._memos.pop(key, None)
            if memo is None:
                memo = {}
            self._memos[key] = memo
            while len(self._memos) > 2:
                self._memos.pop(next(iter(self._memos)))
            return memo

    def _parse_lines(self, parsed: str) -> list[Token]:
        out: list[Token] = []
        known = self._tokens
        for line in parsed.split("\n"):
            if line in known:
                tok = known[line]
            else:
                tok = known[line] = self._token(line)
            if tok is not None:
                out.append(tok)
        return out

    @staticmethod
    def _token(line: str) -> Token | None:
        if not line or line == "EOS":
            return None
        cols = line.split("\t")
        if len(cols) < 5:
            return None
        surface, lemma, pos = cols[0], cols[3], cols[4]
        # UniDic lemmas of loan words carry the origin: "テレワーク-telework".
        if "-" in lemma and not lemma.startswith("-"):
            lemma = lemma.split("-", 1)[0]
        if not lemma or lemma == "*":
            lemma = surface
        return Token(surface, fold(lemma), pos)


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """The process-wide analyser (the dictionary is memory-mapped once)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Analyzer()
        return _default
