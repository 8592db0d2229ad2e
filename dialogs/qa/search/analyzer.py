"""Morphological analysis with MeCab (fugashi) and IPAdic (the ``ipadic`` package), both from PyPI.

Why IPAdic: its dictionary is 49 MB, against 260 MB for UniDic (unidic-lite), and MeCab memory-maps the
whole dictionary, so the analyser's resident memory stays under the 100 MB target.  What UniDic's lemma
gave for free, IPAdic's base form does not: 申し込み, 申込み and 申込 are three words there.
:func:`spelling_key` merges them again (see README.md for the measurements).

>>> a = Analyzer()
>>> [t.lemma for t in a.tokens("申し込みを受け付けます")] == [t.lemma for t in a.tokens("申込を受付ます")]
True

The analyser keeps a bounded cache of analysed texts, so rebuilding the index after one entry changed
re-analyses only that entry.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Hashable
from typing import Any

from .normalize import fold, normalize, to_hiragana

# Parts of speech that carry meaning for retrieval (IPAdic POS level 1) ...
_CONTENT_POS = {"名詞", "動詞", "形容詞", "記号"}
# ... except these: pronouns, formal nouns (こと, もの, よう, みたい), auxiliary-like verbs and adjectives
# (ている, てしまう, てほしい, やすい), and suffixes that are not nouns (さん, 的, 方 in 出し方, そう).  The
# adverbial formal nouns (以内, 以上, とき) stay, as they did with UniDic.
_NON_CONTENT_POS = (
    "名詞-代名詞",
    "名詞-非自立-一般",
    "名詞-非自立-助動詞語幹",
    "名詞-非自立-形容動詞語幹",
    "名詞-特殊",
    "名詞-接続詞的",
    "名詞-動詞非自立的",
    "名詞-引用文字列",
    "名詞-接尾-人名",
    "名詞-接尾-特殊",
    "名詞-接尾-形容動詞語幹",
    "名詞-接尾-助動詞語幹",
    "動詞-非自立",
    "動詞-接尾",
    "形容詞-非自立",
    "形容詞-接尾",
)
# Light verbs, formal nouns and adjectives that appear in every question, in IPAdic base forms (which keep
# the spelling of the text, so both できる and 出来る).
_STOP_LEMMAS = {
    "する",
    "いる",
    "居る",
    "ある",
    "有る",
    "なる",
    "成る",
    "できる",
    "出来る",
    "くる",
    "来る",
    "いく",
    "行く",
    "ゆく",
    "いう",
    "言う",
    "思う",
    "おもう",
    "くださる",
    "下さる",
    "いただく",
    "頂く",
    "いただける",  # IPAdic has the potential forms of verbs as verbs of their own
    "頂ける",
    "もらえる",
    "貰える",
    "いたす",
    "致す",
    "ござる",
    "御座る",
    "やる",
    "もらう",
    "貰う",
    "くれる",
    "呉れる",
    "しまう",
    "仕舞う",
    "おく",
    "置く",
    "こと",
    "事",
    "もの",
    "物",
    "ため",
    "為",
    "ところ",
    "所",
    "よう",
    "様",
    "さま",
    "方",
    "かた",
    "いい",
    "よい",
    "良い",
    "ない",
    "無い",
    "よろしい",
    "宜しい",
    "わかる",
    "分かる",
    "分る",
    "判る",
    "知る",
    "しる",
    "教える",
    "おしえる",
    "欲しい",
    "ほしい",
    "問う",
    "合わせる",
    "際",
    "場合",
    "今",
    "度",
    "たび",
    "的",
    "等",
    "など",
    "達",
    "たち",
    "さん",
}
# Tokens that end a run of content characters (the character channel does not bridge them).  Symbols and
# spaces end a run too, because they contain no letter or digit.
_BREAK_POS = {"助詞", "助動詞", "感動詞", "接続詞", "フィラー", "その他"}

_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30faー]+")
# A kanji stem with okurigana (込み, 合わせ, 付ける): the second half of a word MeCab split in two.
_OKURIGANA_WORD = re.compile(r"[\u4e00-\u9fff々]+[\u3041-\u309f]+")
# "The way of doing": a verb's stem and 方 (使い方, 書き方), one noun in IPAdic.
_WAY_OF_DOING = re.compile(r"[\u4e00-\u9fff々\u3041-\u309f]*[\u3041-\u309f]方")


def spelling_key(lemma: str) -> str:
    """The okurigana-free spelling of a word that starts with a kanji and has two or more, so that the ways
    of writing it compare equal (UniDic's lemma did this; IPAdic keeps the spelling of the text).

    >>> [spelling_key(w) for w in ("申し込み", "申込み", "申込", "問い合わせる", "引っ越し", "受け付け")]
    ['申込', '申込', '申込', '問合', '引越', '受付']
    >>> [spelling_key(w) for w in ("教える", "お知らせ", "子ども")]  # fewer than two kanji, or kana first
    ['教える', 'お知らせ', '子ども']
    """
    if lemma and _KANJI.match(lemma) and _HIRAGANA.search(lemma) and len(_KANJI.findall(lemma)) >= 2:
        return _HIRAGANA.sub("", lemma)
    return lemma


class Token:
    """One morpheme.  Instances are shared: every occurrence of the same MeCab line is the same object,
    with its folded forms and flags computed once.

    ``lemma`` is given as the dictionary has it (IPAdic's base form) and kept as :func:`spelling_key`
    of it, folded.  ``reading`` is the dictionary's reading in hiragana ("" when it has none)."""

    __slots__ = (
        "surface",
        "folded",
        "lemma",
        "pos",
        "pos1",
        "reading",
        "is_content",
        "breaks_run",
        "is_nounish",
    )

    def __init__(self, surface: str, lemma: str, pos: str, reading: str = "") -> None:
        self.surface = surface  # normalised, not folded
        self.folded = fold(surface)
        self.lemma = fold(spelling_key(lemma))
        self.pos = pos  # e.g. "名詞-サ変接続"
        self.pos1 = pos.split("-", 1)[0]
        if not reading and _KATAKANA_WORD.fullmatch(surface):
            reading = surface  # a loan word the dictionary does not know reads as it is written
        self.reading = to_hiragana(reading)
        self.is_content = _is_content(surface, fold(lemma), self.lemma, pos, self.pos1)
        self.breaks_run = self.pos1 in _BREAK_POS or not any(c.isalnum() for c in surface)
        # Nouns and noun-like suffixes: adjacent ones also form a pair term (住民+票).
        self.is_nounish = self.is_content and self.pos1 == "名詞"

    def __repr__(self) -> str:
        return f"Token({self.surface!r}, {self.lemma!r}, {self.pos!r})"


def _is_content(surface: str, base: str, lemma: str, pos: str, pos1: str) -> bool:
    if pos1 not in _CONTENT_POS or pos.startswith(_NON_CONTENT_POS):
        return False
    if pos1 == "記号" and not any(c.isalnum() for c in surface):
        return False
    if base in _STOP_LEMMAS:
        return False
    # A single kana is almost always an analysis fragment, not a word.
    if len(lemma) == 1 and "\u3041" <= lemma <= "\u309f":
        return False
    return True


# MeCab output: one line per token, surface, base form, POS levels joined with "-", reading.  Unknown
# words have no base form or reading.
_NODE_FORMAT = r"%m\t%f[6]\t%F-[0,1,2,3]\t%f[7]\t%f[4]\n"
_UNKNOWN_FORMAT = r"%m\t*\t%F-[0,1,2,3]\t*\t*\n"

# A potential verb (払える, 書ける, 読める) ends in an e-row kana + る; its plain verb ends in the u-row kana.
_E_TO_U = dict(zip("えけげせてねべめれ", "うくぐすつぬぶむる", strict=True))


def load_variants(text: str | None = None) -> dict[str, str]:
    """The spelling-variant table (dialogs/qa/data/variants.txt): each variant → the word kept."""
    if text is None:
        from importlib import resources

        text = resources.files("dialogs.qa").joinpath("data/variants.txt").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        words = [normalize(w).strip() for w in line.split("=") if w.strip()]
        for variant in words[1:]:
            table[variant] = words[0]
    return table


class Analyzer:
    """Turns text into :class:`Token` lists.  Thread-safe; create one and share it."""

    def __init__(self, cache_size: int = 100_000) -> None:
        import fugashi  # imported here so that importing the package stays cheap
        import ipadic

        # -r /dev/null: ignore any system mecabrc (ipadic.MECAB_ARGS would read the package's own).
        self._tagger = fugashi.GenericTagger(
            f'-r /dev/null -d "{ipadic.DICDIR}" -F "{_NODE_FORMAT}" -U "{_UNKNOWN_FORMAT}" -E "EOS\\n"'
        )
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Token, ...]] = {}
        self._cache_size = cache_size
        self._tokens: dict[str, tuple[Token, ...]] = {}
        self._joined: dict[tuple[Token, Token], Token] = {}
        self._memos: dict[Hashable, dict[str, Any]] = {}
        self._variants = load_variants()
        self._plain: dict[str, str] = {}  # potential verb → its plain verb (itself when it has none)
        # Variants MeCab cuts in pieces (障がい → 障 + がい) are rewritten in the text before analysis.
        self._rewrites = sorted(
            (
                (variant, word)
                for variant, word in self._variants.items()
                if len([x for x in self._tagger.parse(variant).split("\n") if x and x != "EOS"]) > 1
            ),
            key=lambda pair: -len(pair[0]),
        )

    def tokens(self, text: str, *, cache: bool = True, keep: bool = True) -> tuple[Token, ...]:
        """The tokens of ``text``.  ``cache``: remember the text's tokens; ``keep``: keep the tokens made for
        its MeCab lines for later texts (False for one-off texts such as the synonym lexicon's 50,000
        words, which would otherwise stay in memory for the life of the process)."""
        text = normalize(text)
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        with self._lock:
            parsed = self._tagger.parse(self._rewrite(text))
            result = tuple(self._parse_lines(parsed, keep=keep))
            if len(self._tokens) >= 10 * self._cache_size:
                self._tokens.clear()
                self._joined.clear()
            if cache:
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()
                self._cache[text] = result
        return result

    def _rewrite(self, text: str) -> str:
        for variant, word in self._rewrites:
            if variant in text:
                text = text.replace(variant, word)
        return text

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

    def _parse_lines(self, parsed: str, *, keep: bool = True) -> list[Token]:
        out: list[Token] = []
        known = self._tokens
        for line in parsed.split("\n"):
            toks = known.get(line)
            if toks is None:
                toks = self._line_tokens(line)
                if keep:
                    known[line] = toks
            for tok in toks:
                if out and _splits_a_word(out[-1], tok):
                    out[-1] = self._join(out[-1], tok)
                else:
                    out.append(tok)
        return out

    def _line_tokens(self, line: str) -> tuple[Token, ...]:
        tok = self._token(line)
        if tok is None:
            return ()
        if tok.pos1 == "名詞" and _WAY_OF_DOING.fullmatch(tok.surface):
            # 使い方 → 使う + 方, as UniDic has it: the verb is the topic, 方 is a formal word.  Followed by
            # ます, the stem can only be read as the verb.
            stem = self._parse_lines(self._tagger.parse(tok.surface[:-1] + "ます"))
            if len(stem) >= 2 and stem[-1].surface == "ます" and stem[-2].pos1 == "動詞":
                return (*stem[:-1], _WAY)
        return (tok,)

    def _join(self, first: Token, second: Token) -> Token:
        joined = self._joined.get((first, second))
        if joined is None:
            pos = "名詞-一般" if second.pos1 == "名詞" else second.pos
            joined = Token(
                first.surface + second.surface,
                first.surface + second.lemma,
                pos,
                first.reading + second.reading,
            )
            self._joined[(first, second)] = joined
        return joined

    def _token(self, line: str) -> Token | None:
        if not line or line == "EOS":
            return None
        cols = line.split("\t")
        if len(cols) < 4:
            return None
        surface, base, pos, reading = cols[0], cols[1], cols[2], cols[3]
        if not base or base == "*":
            base = surface
        base = self._variants.get(base, base)
        if len(cols) > 4 and cols[4] == "一段" and pos.startswith("動詞-自立"):
            base = self._plain_verb(base)
        return Token(surface, base, pos, "" if reading == "*" else reading)

    def _plain_verb(self, base: str) -> str:
        """払える → 払う: the plain verb of a potential verb, if the dictionary has that verb as a 五段
        verb (IPAdic lists potential verbs as words of their own; UniDic's lemma merged them). Pairs
        such as 届ける/届く merge too, which retrieval does not mind."""
        plain = self._plain.get(base)
        if plain is None:
            plain = base
            stem, kana = base[:-2], base[-2:-1]
            if base.endswith("る") and kana in _E_TO_U and _KANJI.search(stem):
                candidate = stem + _E_TO_U[kana]
                lines = [x for x in self._tagger.parse(candidate).split("\n") if x and x != "EOS"]
                cols = lines[0].split("\t") if len(lines) == 1 else []
                if len(cols) > 4 and cols[1] == candidate and cols[2].startswith("動詞-自立"):
                    if cols[4].startswith("五段"):
                        plain = candidate
            self._plain[base] = plain
        return plain


_WAY = Token("方", "方", "名詞-接尾-特殊", "かた")


def _splits_a_word(first: Token, second: Token) -> bool:
    """True for a one-kanji noun followed by a kanji with okurigana that IPAdic reads as two words:
    申込み → 申 + 込み, 問合わせ → 問 + 合わせ.  A noun followed directly by a verb or a suffix without a
    particle between them is a compound."""
    return (
        len(first.surface) == 1
        and first.pos1 == "名詞"
        and not first.pos.startswith(("名詞-接尾", "名詞-数", "名詞-代名詞", "名詞-非自立"))
        and _KANJI.match(first.surface) is not None
        and second.pos.startswith(("名詞-接尾-一般", "動詞-自立"))
        and _OKURIGANA_WORD.fullmatch(second.surface) is not None
    )


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """The process-wide analyser (the dictionary is memory-mapped once)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Analyzer()
        return _default
