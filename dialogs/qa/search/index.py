"""The search index: BM25F over two channels (lemmas; character bigrams and single kanji), fused.

>>> index = SearchIndex.build([Entry("tw", "テレワークの申請方法", "...")], [["テレワーク", "在宅勤務"]])
>>> hits = index.search("在宅勤務をしたい")
>>> hits[0].id, index.is_confident(hits)
('tw', True)

Each channel scores an entry with BM25F (per-field length normalisation and weights, one saturation) and
divides by the most the query could score (the sum of its terms' IDF), so a channel's score is the
IDF-weighted share of the query the entry covers, in [0, 1).  Query terms the knowledge base has never
seen count in that denominator, which is what makes an unrelated question score low.  The fused score is
a weighted mean of the channels; it is both the ranking score and the confidence.

An entry's alternates (別の聞き方, learned from use or imported) are a field of the entry like the others,
but what they add to its score is limited by how closely the query repeats one of them: a question that
shares a word or two with one asker's phrasing is not carried by it, one that repeats it is.

A query that finds nothing confident is tried once more with its hiragana respelt by the knowledge base's
own words, found by their readings (でんししんせい → 電子申請).
"""

from __future__ import annotations

import gc
import logging
import math
import re
import sys
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Literal

import numpy as np

from .analyzer import Analyzer, Token, default_analyzer
from .dense import Vectors, default_vectors
from .lexicon import load_lexicon
from .normalize import normalize
from .synonyms import load_synonyms

log = logging.getLogger(__name__)

FIELDS = ("question", "alternates", "tags", "answer")
ALTERNATES = "alternates"
# SearchIndex.band: answer outright, offer the best three as choices, or offer the DX division.
ANSWER, CHOICE, NONE = "answer", "choice", "none"


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    question: str
    answer: str
    alternates: Sequence[str] = ()
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    confidence: float


@dataclass(frozen=True)
class SearchConfig:
    """Weights and thresholds.  The defaults were set on general principles and checked on
    bench/data/qa_eval.csv; they are not fitted to one knowledge base."""

    field_weights: dict[str, float] = field(
        default_factory=lambda: {"question": 2.0, "alternates": 2.0, "tags": 1.0, "answer": 1.0}
    )
    field_b: dict[str, float] = field(
        default_factory=lambda: {"question": 0.5, "alternates": 0.5, "tags": 0.3, "answer": 0.75}
    )
    k1: float = 1.2
    word_weight: float = 0.5
    char_weight: float = 0.5
    # Three bands (calibrated on the starter and municipal sets, see README "Honest confidence"): the best
    # hit is given as the answer only at or above ``threshold`` and at least ``lead`` ahead of the second
    # hit (a clear winner); from ``choice_floor`` up the three best are offered as choices; below,
    # "not found".
    threshold: float = 0.29
    lead: float = 0.08
    choice_floor: float = 0.22
    # The meaning channel (dense.py), when the model is there: an entry's score is
    # (words and characters + dense_weight × (cosine − dense_center)) / (1 + dense_weight × (1 − dense_center)).
    # dense_center is the cosine the model gives unrelated texts (the median over all pairs of the three
    # bench sets: 0.80), so the channel adds for a related text and takes away for an unrelated one.
    # dense_weight and the bands below were set on the starter and municipal sets (README "Meaning").
    dense_weight: float = 5.0
    dense_center: float = 0.80
    dense_threshold: float = 0.24
    dense_lead: float = 0.06
    dense_choice_floor: float = 0.22

    def with_dense_bands(self) -> SearchConfig:
        """This configuration with the bands calibrated for scores that include the meaning channel."""
        return replace(
            self, threshold=self.dense_threshold, lead=self.dense_lead, choice_floor=self.dense_choice_floor
        )


_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_MARKUP = re.compile(r"[*_`#>|]+")


def _plain(text: str) -> str:
    """Strip the Markdown and URLs of an answer so they do not become search terms."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    return _MARKUP.sub(" ", text)


# The terms of each lexicon word as an analyser reads them, kept per analyser: the lexicon has some 50,000
# words, and analysing them is most of what it costs, so only the first build of a process pays for it.
_LEXICON_SEQUENCES: weakref.WeakKeyDictionary[Analyzer, dict[str, tuple[tuple[str, ...], ...]]] = (
    weakref.WeakKeyDictionary()
)


# What a token may start: the groups of the one-token terms it is, and the longer terms by their second token.
_Starts = tuple[tuple[int, ...], dict[str, list[tuple[tuple[str, ...], int]]]]
_NO_STARTS: _Starts = ((), {})


class _SynonymMatcher:
    """Finds synonym terms in token sequences, by lemma or by folded surface, longest match first.

    A match adds a group word next to the original words, in entries and queries alike, so 在宅勤務 finds
    テレワーク while an exact match still scores higher.  A term may be in several groups (引っ越し with 転入
    and with 転出, which are not each other's synonyms).  The city's own groups are ``≡0``, ``≡1`` …; the
    general lexicon's are ``≈0``, ``≈1`` … and bridge only (see :meth:`SearchIndex._scores`)."""

    def __init__(
        self,
        groups: Iterable[Iterable[str]],
        analyzer: Analyzer,
        lexicon: Sequence[Sequence[str]] = (),
    ) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        own: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in groups)
        # What the terms of a text depend on (the index memo's key): the city's groups, and the lexicon by
        # its content.
        lexicon_key = tuple(map(tuple, lexicon))  # hashable whatever sequences the caller passed
        self.signature: tuple[object, ...] = (own, ("lexicon", len(lexicon_key), hash(lexicon_key)))
        self.names: list[str] = [f"≡{gid}" for gid in range(len(own))] + [
            f"≈{gid}" for gid in range(len(lexicon))
        ]
        for gid, group in enumerate(own):
            for term in group:
                for seq in self._sequences(term, analyzer):
                    self._by_first.setdefault(seq[0], []).append((seq, gid))
        if lexicon:
            known = _LEXICON_SEQUENCES.setdefault(analyzer, {})
            for gid, words in enumerate(lexicon, start=len(own)):
                for term in words:
                    seqs = known.get(term)
                    if seqs is None:
                        seqs = known[term] = tuple(self._sequences(term, analyzer, alone_only=True))
                    for seq in seqs:
                        self._by_first.setdefault(seq[0], []).append((seq, gid))
        self.active = bool(self._by_first)
        # Tokens are shared objects, so "which synonyms can start here" is worked out once per token.
        self._candidates: dict[Token, _Starts] = {}

    @staticmethod
    def _sequences(term: str, analyzer: Analyzer, *, alone_only: bool = False) -> set[tuple[str, ...]]:
        """The lemmas and the folded surfaces of a term, analysed alone and followed by a particle: a word
        the dictionary does not know may be cut differently in a sentence (ピッ|とく|ん alone, ピッ|と|くん|の).
        ``alone_only`` for the lexicon's words: they are dictionary words, and analysing 50,000 of them twice
        would double what the first build of a process pays."""
        found: set[tuple[str, ...]] = set()
        for text, tail in ((term, 0),) if alone_only else ((term, 0), (term + "の", 1)):
            # Not kept in the analyser's cache of texts: the lexicon's 50,000 words would push out the
            # questions and the knowledge base's texts.
            toks = [
                t
                for t in analyzer.tokens(text, cache=not alone_only, keep=not alone_only)
                if t.surface.strip()
            ]
            if tail:
                if not toks or toks[-1].surface != "の":
                    continue
                toks.pop()
            if toks:
                found.add(tuple(t.lemma for t in toks))
                found.add(tuple(t.folded for t in toks))
        return found

    def _starting_at(self, tok: Token) -> _Starts:
        """The groups of the one-token terms that ``tok`` is, and the longer terms it starts, by their second
        token (so that a common first token such as お or 日 does not try every term it starts)."""
        found = self._candidates.get(tok)
        if found is None:
            singles: set[int] = set()
            longer: dict[str, list[tuple[tuple[str, ...], int]]] = {}
            for key in {tok.lemma, tok.folded}:
                for seq, gid in self._by_first.get(key, ()):
                    if len(seq) == 1:
                        singles.add(gid)
                    else:
                        longer.setdefault(seq[1], []).append((seq, gid))
            found = (tuple(sorted(singles)), longer) if singles or longer else _NO_STARTS
            if len(self._candidates) > 200_000:
                self._candidates.clear()
            self._candidates[tok] = found
        return found

    def spans(self, tokens: Sequence[Token]) -> list[tuple[int, int, tuple[int, ...]]]:
        """(start, end, group ids) of each synonym occurrence, longest first, not overlapping."""
        if not self._by_first:
            return []
        out: list[tuple[int, int, tuple[int, ...]]] = []
        n = len(tokens)
        i = 0
        known = self._candidates
        while i < n:
            tok = tokens[i]
            starts = known.get(tok)
            if starts is None:
                starts = self._starting_at(tok)
            singles, longer = starts
            best = 0
            gids: set[int] = set()
            if longer and i + 1 < n:
                nxt = tokens[i + 1]
                candidates = longer.get(nxt.lemma, [])
                if nxt.folded != nxt.lemma:
                    candidates = candidates + longer.get(nxt.folded, [])
                for seq, gid in candidates:
                    size = len(seq)
                    if size < best or i + size > n:
                        continue
                    if all(seq[j] in (tokens[i + j].lemma, tokens[i + j].folded) for j in range(2, size)):
                        if size > best:
                            best, gids = size, set()
                        gids.add(gid)
            if best:
                out.append((i, i + best, tuple(sorted(gids))))
                i += best
            elif singles:
                out.append((i, i + 1, singles))
                i += 1
            else:
                i += 1
        return out


_intern = sys.intern
_PREDICATE_POS = ("動詞", "形容詞")
PREDICATE_WEIGHT = 0.7
_NO_SPANS: list[tuple[int, int, tuple[int, ...]]] = []


@dataclass(slots=True)
class _Terms:
    """The terms of one text in both channels; ``*_optional`` are those inside a synonym occurrence, by
    group word: a query may lack them in the knowledge base without penalty when the knowledge base has
    the group word, which then stands in for them."""

    words: list[str]
    chars: list[str]
    words_optional: dict[str, set[str]]
    chars_optional: dict[str, set[str]]
    # Verbs and adjectives say less about the topic than nouns (入る, 使う, 知る ...).
    words_weight: dict[str, float]


_RUN_GRAMS: dict[str, tuple[str, ...]] = {}


def _is_kanji(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _grams(text: str) -> tuple[str, ...]:
    """Character bigrams of one run and its kanji one by one (a lone character stands for itself unless it
    is hiragana)."""
    grams = _RUN_GRAMS.get(text)
    if grams is None:
        if len(text) == 1:
            grams = () if "\u3041" <= text <= "\u309f" else (_intern(text),)
        else:
            grams = tuple([_intern(text[j : j + 2]) for j in range(len(text) - 1)])
            # Each kanji on its own too: it carries meaning where a bigram does not match (籍を入れる ~ 入籍,
            # 持ち家の税金 ~ 固定資産税). Kana alone carry none.
            grams += tuple(_intern(c) for c in text if _is_kanji(c))
        if len(_RUN_GRAMS) > 500_000:
            _RUN_GRAMS.clear()
        _RUN_GRAMS[text] = grams
    return grams


# A text's word terms, character terms and (reading, spelling) of its words that a query might spell in kana.
_TextTerms = tuple[list[str], list[str], tuple[tuple[str, str], ...]]
# (reading, spelling) of a token or a pair of nouns; shared, as every text that has the word refers to it.
_SPELLINGS: dict[Token | tuple[Token, Token], tuple[str, str]] = {}


def _spelling(key: Token | tuple[Token, Token]) -> tuple[str, str]:
    found = _SPELLINGS.get(key)
    if found is None:
        if len(_SPELLINGS) > 500_000:
            _SPELLINGS.clear()
        if isinstance(key, Token):
            found = (key.reading, key.surface)
        else:
            found = (key[0].reading + key[1].reading, key[0].surface + key[1].surface)
        _SPELLINGS[key] = found
    return found


def _entry_terms(tokens: Sequence[Token], matcher: _SynonymMatcher) -> _TextTerms:
    """Word and character terms of an entry's text (the same terms as :func:`_terms`, computed faster
    because entries need no per-term flags), and its words that a query might spell in hiragana."""
    words: list[str] = []
    chars: list[str] = []
    spelt: dict[tuple[str, str], None] = {}
    run: list[str] = []
    prev: Token | None = None
    for tok in tokens:
        if tok.is_content:
            words.append(tok.lemma)
            if prev is not None and tok.is_nounish and prev.is_nounish:
                words.append(prev.lemma + "+" + tok.lemma)
                # The pair too, so that じゅうみんひょう is read as 住民票 rather than 住民 + a homophone.
                if prev.reading and tok.reading:
                    spelt[_spelling((prev, tok))] = None
            prev = tok
            if tok.reading and tok.surface != tok.reading:
                spelt[_spelling(tok)] = None
        else:
            prev = None
        if tok.breaks_run:
            if run:
                chars.extend(_grams("".join(run)))
                run.clear()
        else:
            run.append(tok.folded)
    if run:
        chars.extend(_grams("".join(run)))
    if matcher.active:
        names = matcher.names
        groups = [names[gid] for _, _, gids in matcher.spans(tokens) for gid in gids]
        words.extend(groups)
        chars.extend(groups)
    return words, chars, tuple(spelt)


_HIRAGANA_RUN = re.compile(r"[\u3041-\u3096ー]+")


class _KanaRespeller:
    """Respells hiragana in a query with the knowledge base's words that read so: でんししんせい → 電子申請,
    ちゃっと → チャット.

    Greedy, longest reading first, left to right.  Readings shorter than three kana are left alone: they
    are too often grammar (ない, たい)."""

    MIN_READING = 3

    def __init__(self, counts: Counter[tuple[str, str]]) -> None:
        # The most frequent spelling of each reading (ties broken by the spelling, so builds are repeatable).
        best: dict[str, tuple[int, str]] = {}
        for (reading, surface), n in counts.items():
            if len(reading) >= self.MIN_READING and (n, surface) > best.get(reading, (0, "")):
                best[reading] = (n, surface)
        self._spelling = {reading: surface for reading, (_, surface) in best.items()}
        self._longest = max(map(len, self._spelling), default=0)

    def __bool__(self) -> bool:
        return bool(self._spelling)

    def respell(self, text: str) -> str | None:
        """``text`` with its hiragana respelt, or None when nothing was."""
        changed = False

        def runs(match: re.Match[str]) -> str:
            nonlocal changed
            kana = match.group()
            out: list[str] = []
            i = 0
            while i < len(kana):
                for size in range(min(self._longest, len(kana) - i), self.MIN_READING - 1, -1):
                    word = self._spelling.get(kana[i : i + size])
                    if word is not None:
                        out.append(word)
                        i += size
                        changed = True
                        break
                else:
                    out.append(kana[i])
                    i += 1
            return "".join(out)

        respelt = _HIRAGANA_RUN.sub(runs, text)
        return respelt if changed else None


def _terms(tokens: Sequence[Token], matcher: _SynonymMatcher) -> _Terms:
    spans = matcher.spans(tokens) if matcher.active else _NO_SPANS
    # The group words of the synonym occurrence each token is in (none for most).
    in_span: list[tuple[str, ...]] = [()] * len(tokens)
    groups: list[str] = []
    for start, end, gids in spans:
        span_groups = tuple(matcher.names[gid] for gid in gids)
        for k in range(start, end):
            in_span[k] = span_groups
        groups.extend(span_groups)

    def mark(optional: dict[str, set[str]], term: str, span_groups: Iterable[str]) -> None:
        for group in span_groups:
            optional.setdefault(group, set()).add(term)

    words: list[str] = []
    words_optional: dict[str, set[str]] = {group: set() for group in groups}
    words_weight: dict[str, float] = {}
    prev = -1
    for i, tok in enumerate(tokens):
        if tok.is_content:
            words.append(tok.lemma)
            if tok.pos1 in _PREDICATE_POS:
                words_weight[tok.lemma] = PREDICATE_WEIGHT
            mark(words_optional, tok.lemma, in_span[i])
            # Adjacent nouns also as a pair (住民+票, 電子+申請): rewards the compound over its parts.
            if prev == i - 1 and prev >= 0 and tokens[prev].is_nounish and tok.is_nounish:
                pair = tokens[prev].lemma + "+" + tok.lemma
                words.append(pair)
                mark(words_optional, pair, in_span[i] + in_span[prev])
            prev = i
    words.extend(groups)

    # Character bigrams and single kanji inside runs of non-function tokens (so 「ですか」 and 「には」 add
    # nothing).
    chars: list[str] = []
    chars_optional: dict[str, set[str]] = {group: set() for group in groups}
    run: list[str] = []
    run_groups: list[tuple[str, ...]] = []

    def flush() -> None:
        if not run:
            return
        text = "".join(run)
        if len(text) == 1:
            if not ("\u3041" <= text <= "\u309f"):
                chars.append(text)
                mark(chars_optional, text, run_groups[0])
        else:
            for j in range(len(text) - 1):
                gram = _intern(text[j : j + 2])
                chars.append(gram)
                if run_groups[j] and run_groups[j + 1]:
                    mark(chars_optional, gram, run_groups[j] + run_groups[j + 1])
            for j, c in enumerate(text):  # and each kanji, as in entries (_grams)
                if _is_kanji(c):
                    chars.append(_intern(c))
                    if run_groups[j]:
                        mark(chars_optional, c, run_groups[j])
        run.clear()
        run_groups.clear()

    for i, tok in enumerate(tokens):
        if tok.breaks_run:
            flush()
        else:
            run.append(tok.folded)
            run_groups.extend([in_span[i]] * len(tok.folded))
    flush()
    chars.extend(groups)
    return _Terms(words, chars, words_optional, chars_optional, words_weight)


def _bridge_only(terms: _Terms, vocab: dict[str, int]) -> None:
    """Keep a general-lexicon group word (``≈``) in a query only where it bridges: where a word of the
    query's match is one the knowledge base lacks (はんこ, when the FAQ writes 印鑑).  Where the knowledge
    base has the query's own words, they speak for themselves, and the group word would only add the
    lexicon's looser neighbours (a dictionary groups words that are close in general, not in one city's
    FAQ)."""
    drop = {
        group
        for group, members in terms.words_optional.items()
        if group.startswith("≈") and all(t in vocab for t in members if "+" not in t)
    }
    if not drop:
        return
    terms.words = [t for t in terms.words if t not in drop]
    terms.chars = [t for t in terms.chars if t not in drop]
    for group in drop:
        terms.words_optional.pop(group, None)
        terms.chars_optional.pop(group, None)


class _Columns:
    """A sparse ``entries × terms`` matrix in compressed sparse column form: for each term (column), the
    rows that have it and their weights (three numpy arrays; no scipy, which would add 10 MB to every bot
    process for one matrix product)."""

    __slots__ = ("indptr", "rows", "weights")

    def __init__(self, cols: np.ndarray, rows: np.ndarray, weights: np.ndarray, width: int) -> None:
        """``cols`` sorted, and ``rows`` sorted within a column."""
        self.indptr = np.concatenate(([0], np.cumsum(np.bincount(cols, minlength=width)))).astype(np.int64)
        self.rows = rows.astype(np.int32)
        self.weights = weights.astype(np.float32)

    def add_into(self, scores: np.ndarray, cols: Sequence[int], qw: Sequence[float]) -> None:
        for col, w in zip(cols, qw, strict=True):
            lo, hi = self.indptr[col], self.indptr[col + 1]
            if hi > lo:  # the rows of a column are distinct
                scores[self.rows[lo:hi]] += self.weights[lo:hi] * np.float32(w)


@dataclass(frozen=True, slots=True)
class _Query:
    """A query's terms as one channel sees them: known columns, their weights, and the most the query could
    score (weighted IDF sum, unknown terms included) with and without the predicate weights."""

    cols: list[int]
    weights: list[float]
    denom: float
    mass: float  # unweighted, for the overlap with a phrasing


class _Channel:
    """BM25F over one kind of term, in two parts: ``body`` (the entry's question, tags and answer) and
    ``lift`` (what the entry's alternates add on top: the BM25F weight with them minus the weight without,
    per term).  The IDF counts an entry as having a term if any of its fields has it, alternates included."""

    def __init__(self, docs: list[dict[str, list[str]]], config: SearchConfig) -> None:
        n = len(docs)
        per_field = {fname: [doc.get(fname, ()) for doc in docs] for fname in FIELDS}
        # dict.fromkeys de-duplicates in C, keeping first-seen order.
        vocab: dict[str, int] = {
            term: i
            for i, term in enumerate(
                dict.fromkeys(chain.from_iterable(chain.from_iterable(per_field[f] for f in FIELDS)))
            )
        }
        rows_all: list[np.ndarray] = []
        cols_all: list[np.ndarray] = []
        vals_all: list[np.ndarray] = []
        body_all: list[np.ndarray] = []
        for fname in FIELDS:
            lists = per_field[fname]
            lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n)
            total = int(lengths.sum())
            if not total:
                continue
            cols_all.append(
                np.fromiter(map(vocab.__getitem__, chain.from_iterable(lists)), dtype=np.int64, count=total)
            )
            # Average over entries that have the field, so a short optional field is not over-penalised.
            avg = lengths[lengths > 0].mean()
            b = config.field_b[fname]
            norm = config.field_weights[fname] / (1.0 - b + b * lengths / avg)
            rows = np.repeat(np.arange(n), lengths)
            rows_all.append(rows)
            vals_all.append(norm[rows])
            body_all.append(np.full(total, fname != ALTERNATES))
        self.vocab = vocab
        self.n_docs = n
        self.unseen_idf = math.log(1.0 + (n + 0.5) / 0.5)
        width = len(vocab)
        empty = np.zeros(0, dtype=np.int64)
        if not cols_all:
            self.idf = np.zeros(width)
            self.body = self.lift = _Columns(empty, empty, np.zeros(0), width)
            return
        # Sum the weighted term frequencies of each (term, entry) pair: sort by term, then entry.
        key = np.concatenate(cols_all) * max(n, 1) + np.concatenate(rows_all)
        order = np.argsort(key, kind="stable")
        key, vals = key[order], np.concatenate(vals_all)[order]
        in_body = np.concatenate(body_all)[order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        tf = np.add.reduceat(vals, starts)
        tf_body = np.add.reduceat(np.where(in_body, vals, 0.0), starts)
        key = key[starts]
        cols, rows = np.divmod(key, max(n, 1))
        df = np.bincount(cols, minlength=width)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        k1 = config.k1
        weight = tf / (k1 + tf) * self.idf[cols]
        body = tf_body / (k1 + tf_body) * self.idf[cols]
        lift = weight - body
        has_body, has_lift = tf_body > 0, lift > 0
        self.body = _Columns(cols[has_body], rows[has_body], body[has_body], width)
        self.lift = _Columns(cols[has_lift], rows[has_lift], lift[has_lift], width)

    def query(
        self,
        terms: Iterable[str],
        optional: dict[str, set[str]] | None = None,
        weights: dict[str, float] | None = None,
    ) -> _Query:
        """A term the knowledge base has never seen counts against every entry, unless it is ``optional``
        under a synonym group word that the knowledge base has: the group word then stands in for it.  A
        group word the knowledge base lacks stands in for nothing, so it does not count, and its terms do."""
        excused: set[str] = set()
        for group, group_terms in (optional or {}).items():
            excused |= group_terms if group in self.vocab else {group}
        cols: list[int] = []
        qw: list[float] = []
        denom = mass = 0.0
        for term in set(terms):
            w = 1.0 if weights is None else weights.get(term, 1.0)
            col = self.vocab.get(term)
            if col is None:
                if term not in excused:
                    denom += w * self.unseen_idf
                    mass += self.unseen_idf
            else:
                cols.append(col)
                qw.append(w)
                idf = float(self.idf[col])
                denom += w * idf
                mass += idf
        return _Query(cols, qw, denom, mass)

    def scores(self, query: _Query) -> tuple[np.ndarray, np.ndarray]:
        """(body, lift) of every entry: the covered IDF share of the query's distinct terms, in [0, 1)."""
        body = np.zeros(self.n_docs, dtype=np.float32)
        lift = np.zeros(self.n_docs, dtype=np.float32)
        if query.cols and query.denom > 0.0:
            self.body.add_into(body, query.cols, query.weights)
            self.lift.add_into(lift, query.cols, query.weights)
            body /= query.denom
            lift /= query.denom
        return body, lift


class _Phrasings:
    """Each alternate (別の聞き方) of each entry as a set of terms, for the share of a question and a
    phrasing that they have in common (the IDF-weighted Dice coefficient)."""

    def __init__(
        self, texts: list[tuple[list[str], list[str]]], owners: list[int], channels: list[_Channel]
    ) -> None:
        self.owners = np.asarray(owners, dtype=np.int64)  # entry of each phrasing, ascending
        self.members: list[_Columns] = []
        self.mass: list[np.ndarray] = []
        for c, channel in enumerate(channels):
            width = len(channel.vocab)
            per = [sorted({channel.vocab[t] for t in terms[c]}) for terms in texts]
            lengths = np.fromiter(map(len, per), dtype=np.int64, count=len(per))
            cols = np.fromiter(chain.from_iterable(per), dtype=np.int64, count=int(lengths.sum()))
            rows = np.repeat(np.arange(len(per)), lengths)
            order = np.argsort(cols, kind="stable")  # by term, then phrasing
            self.members.append(_Columns(cols[order], rows[order], channel.idf[cols[order]], width))
            self.mass.append(np.bincount(rows, weights=channel.idf[cols], minlength=len(per)))
        # Where each entry's phrasings start, for the best phrasing per entry.
        self.entries, self.starts = np.unique(self.owners, return_index=True)

    def similarity(self, queries: Sequence[_Query], weights: Sequence[float], n_entries: int) -> np.ndarray:
        """For every entry, the best Dice coefficient of the query with one of its phrasings (0 without)."""
        dice = np.zeros(len(self.owners), dtype=np.float64)
        for query, weight, members, mass in zip(queries, weights, self.members, self.mass, strict=True):
            shared = np.zeros(len(self.owners), dtype=np.float32)
            members.add_into(shared, query.cols, [1.0] * len(query.cols))
            dice += weight * 2.0 * shared / np.maximum(query.mass + mass, 1e-9)
        dice /= sum(weights)
        best = np.zeros(n_entries, dtype=np.float64)
        best[self.entries] = np.maximum.reduceat(dice, self.starts)
        return best


@dataclass(frozen=True)
class _Meaning:
    """The meaning channel's vectors: one per entry (its question and answer) and one per phrasing."""

    vectors: Vectors
    body: np.ndarray
    phrasings: np.ndarray
    owners: np.ndarray  # entry of each phrasing

    def cosine(self, query: np.ndarray, overlap: np.ndarray | None) -> np.ndarray:
        """Every entry's cosine with the query.  A phrasing counts by the rule its words follow (README
        "Phrasings"): its cosine replaces the entry's by the odds s / (1 - s) of the query's overlap s
        with it, so a repeated phrasing counts in full and one sharing a word or two barely.  On the city
        set, phrasings counted in full pulled other citizens' questions in (README "Meaning")."""
        # einsum, not @: a product this small is quicker on one core than through BLAS, whose threads
        # would fight the model's OpenMP threads for the two cores (p95 120 ms instead of 20 ms).
        cosine = np.einsum("ij,j->i", self.body, query)
        if overlap is None or not len(self.owners):
            return cosine
        best = np.full(len(cosine), -1.0, dtype=np.float32)
        np.maximum.at(best, self.owners, np.einsum("ij,j->i", self.phrasings, query))
        odds = np.where(overlap >= 1.0 - 1e-6, 1.0, overlap / np.maximum(1.0 - overlap, 1e-6))
        return cosine + np.maximum(best - cosine, 0.0) * np.minimum(odds, 1.0)


class SearchIndex:
    """An immutable index; build a new one whenever the knowledge base or the synonyms change."""

    def __init__(
        self,
        ids: list[str],
        words: _Channel,
        chars: _Channel,
        synonyms: _SynonymMatcher,
        respeller: _KanaRespeller,
        analyzer: Analyzer,
        config: SearchConfig,
        phrasings: _Phrasings | None = None,
        dense: _Meaning | None = None,
        pending: tuple[Vectors, list[str]] | None = None,
    ) -> None:
        self._ids = ids
        self._dense = dense
        self._pending = pending
        self._words = words
        self._chars = chars
        self._phrasings = phrasings
        self._synonyms = synonyms
        self._respeller = respeller
        self._analyzer = analyzer
        self.config = config

    @classmethod
    def build(
        cls,
        entries: Iterable[Entry],
        synonyms: Iterable[Iterable[str]] | None = None,
        *,
        lexicon: Sequence[Sequence[str]] | None = None,
        config: SearchConfig | None = None,
        analyzer: Analyzer | None = None,
        vectors: Vectors | Literal[False] | None = None,
        embed: bool = True,
    ) -> SearchIndex:
        """Index ``entries``.  ``synonyms`` are the city's groups of equivalent terms; ``None`` means the
        shipped default list (dialogs/qa/data/synonyms.txt), ``[]`` means none.  ``lexicon`` is the general
        synonym lexicon (groups that only bridge a query word the knowledge base lacks); ``None`` means the
        Sudachi synonym dictionary when it was fetched (lexicon.py), ``()`` means none.  ``vectors`` is the
        meaning channel's memo of sentence vectors (dense.py): ``None`` means the shipped model when it is
        installed, ``False`` none.  With ``embed=False`` texts without a vector are not embedded (that takes
        tens of milliseconds each): if any entry lacks one, the index runs on words alone and says so in
        ``dense_pending``."""
        # Building allocates millions of short-lived strings and lists but no reference cycles; pausing the
        # cyclic garbage collector meanwhile saves about a fifth of the time.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._build(entries, synonyms, lexicon, config, analyzer, vectors, embed)
        finally:
            if gc_was_enabled:
                gc.enable()

    @classmethod
    def _build(
        cls,
        entries: Iterable[Entry],
        synonyms: Iterable[Iterable[str]] | None,
        lexicon: Sequence[Sequence[str]] | None,
        config: SearchConfig | None,
        analyzer: Analyzer | None,
        vectors: Vectors | Literal[False] | None,
        embed: bool,
    ) -> SearchIndex:
        started = time.perf_counter()
        config = config or SearchConfig()
        analyzer = analyzer or default_analyzer()
        groups = load_synonyms() if synonyms is None else [list(g) for g in synonyms]
        matcher = _SynonymMatcher(groups, analyzer, load_lexicon() if lexicon is None else lexicon)
        memo: dict[str, _TextTerms] = analyzer.memo(("qa-terms", matcher.signature))
        spellings: list[tuple[str, str]] = []

        def terms_of(text: str) -> tuple[list[str], list[str]]:
            cached = memo.get(text)
            if cached is None:
                cached = memo[text] = _entry_terms(analyzer.tokens(text, cache=False), matcher)
            spellings.extend(cached[2])
            return cached[0], cached[1]

        ids: list[str] = []
        word_docs: list[dict[str, list[str]]] = []
        char_docs: list[dict[str, list[str]]] = []
        phrasing_terms: list[tuple[list[str], list[str]]] = []
        owners: list[int] = []
        passages: list[str] = []
        phrasing_texts: list[str] = []
        for entry in entries:
            texts = {
                "question": [entry.question],
                ALTERNATES: list(entry.alternates),
                "tags": list(entry.tags),
                "answer": [_plain(entry.answer)],
            }
            wdoc: dict[str, list[str]] = {}
            cdoc: dict[str, list[str]] = {}
            for fname, parts in texts.items():
                parts = [p for p in parts if p and p.strip()]
                if len(parts) == 1 and fname != ALTERNATES:
                    wdoc[fname], cdoc[fname] = terms_of(parts[0])
                else:
                    w: list[str] = []
                    c: list[str] = []
                    for part in parts:
                        pw, pc = terms_of(part)
                        w.extend(pw)
                        c.extend(pc)
                        if fname == ALTERNATES:
                            phrasing_terms.append((pw, pc))
                            phrasing_texts.append(part)
                            owners.append(len(ids))
                    wdoc[fname], cdoc[fname] = w, c
            ids.append(entry.id)
            passages.append(f"{entry.question}\n{texts['answer'][0]}".strip())
            word_docs.append(wdoc)
            char_docs.append(cdoc)
        if len(memo) > 4 * len(ids) + 1000:
            memo.clear()  # texts of deleted entries pile up otherwise
        words, chars = _Channel(word_docs, config), _Channel(char_docs, config)
        phrasings = _Phrasings(phrasing_terms, owners, [words, chars]) if owners else None
        dense, pending = cls._dense_channel(
            passages, phrasing_texts, owners, default_vectors() if vectors is None else vectors, embed
        )
        if dense is not None:
            config = config.with_dense_bands()
        index = cls(
            ids,
            words,
            chars,
            matcher,
            _KanaRespeller(Counter(spellings)),
            analyzer,
            config,
            phrasings,
            dense,
            pending,
        )
        log.info(
            "qa index built: %d entries in %.2f s (meaning channel %s)",
            len(ids),
            time.perf_counter() - started,
            "on" if dense is not None else "pending" if pending is not None else "off",
        )
        return index

    @staticmethod
    def _dense_channel(
        passages: list[str],
        phrasings: list[str],
        owners: list[int],
        vectors: Vectors | Literal[False] | None,
        embed: bool,
    ) -> tuple[_Meaning | None, tuple[Vectors, list[str]] | None]:
        """The sentence vectors of the entries (question and answer, one passage each) and of their
        phrasings, or what is still to be embedded."""
        if not vectors or not passages:
            return None, None
        texts = passages + phrasings
        if embed:
            vectors.embed(texts)
        matrix = vectors.matrix(texts)
        if matrix is None:
            return None, (vectors, texts)
        vectors.keep_only(texts)
        n = len(passages)
        return _Meaning(vectors, matrix[:n], matrix[n:], np.asarray(owners, dtype=np.int64)), None

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, top_k: int = 10) -> list[Hit]:
        """Best entries for ``query``, best first (only entries sharing something with the query)."""
        if not self._ids or not query.strip():
            return []
        vector = self._query_vector(query)
        hits = self._search(query, top_k, vector)
        if self._respeller and not self.is_confident(hits):
            # Perhaps typed in hiragana (でんししんせい); the respelt query counts only if it does better.
            respelt = self._respeller.respell(normalize(query))
            if respelt is not None:
                again = self._search(respelt, top_k, vector)
                if again and vector is not None and (not hits or again[0].confidence > hits[0].confidence):
                    # It does: the model reads the respelt words better too (チャットの送り方, not
                    # ちゃっとのおくりかた).  Embedded only now, as a query costs most of the time budget.
                    again = self._search(respelt, top_k, self._query_vector(respelt))
                if again and (not hits or again[0].confidence > hits[0].confidence):
                    return again
        return hits

    def _query_vector(self, query: str) -> np.ndarray | None:
        return None if self._dense is None else self._dense.vectors.encoder.query(query)

    @property
    def dense(self) -> bool:
        """True when the meaning channel counts in this index's scores."""
        return self._dense is not None

    @property
    def dense_pending(self) -> bool:
        """True when the meaning channel is on but some entry had no vector yet (``build(embed=False)``):
        this index runs on words alone until ``embed_pending`` and a rebuild give it the vectors."""
        return self._pending is not None

    def embed_pending(self, stop: Callable[[], bool] | None = None) -> int:
        """Embed the passages this index lacks (blocking: tens of milliseconds each; run it in a thread).
        The next build of the same entries then has the meaning channel.  The number embedded."""
        if self._pending is None:
            return 0
        vectors, passages = self._pending
        return vectors.embed(passages, stop)

    def _search(self, query: str, top_k: int, vector: np.ndarray | None = None) -> list[Hit]:
        fused, overlap = self._scores(query)
        if vector is not None and self._dense is not None:
            cfg = self.config
            cosine = self._dense.cosine(vector, overlap)
            fused = (fused + cfg.dense_weight * (cosine - cfg.dense_center)) / (
                1.0 + cfg.dense_weight * (1.0 - cfg.dense_center)
            )
        k = min(top_k, len(self._ids))
        if k <= 0:
            return []
        top = np.argpartition(-fused, k - 1)[:k] if k < len(fused) else np.arange(len(fused))
        top = top[np.argsort(-fused[top], kind="stable")]
        return [Hit(self._ids[i], float(fused[i]), float(fused[i])) for i in top if fused[i] > 0.0]

    def _scores(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Every entry's score: its body's, plus what its alternates add, limited by how closely the query
        repeats one of them (see README "Phrasings"); and that overlap per entry (None: no phrasing shares
        a term with the query)."""
        terms = _terms(self._analyzer.tokens(query), self._synonyms)
        _bridge_only(terms, self._words.vocab)
        queries = (
            self._words.query(terms.words, terms.words_optional, terms.words_weight),
            self._chars.query(terms.chars, terms.chars_optional),
        )
        cfg = self.config
        weights = (cfg.word_weight, cfg.char_weight)
        (body_w, lift_w), (body_c, lift_c) = self._words.scores(queries[0]), self._chars.scores(queries[1])
        total = sum(weights)
        body = (weights[0] * body_w + weights[1] * body_c) / total
        lift = (weights[0] * lift_w + weights[1] * lift_c) / total
        if self._phrasings is None or not lift.any():
            return body, None
        # A phrasing is one asker's words: a question sharing a word or two with it may lift its entry a
        # little, one that repeats it all the way.  The lift allowed is the best body score times the odds
        # of the overlap s / (1 - s): a quarter of the best body score at s = 0.2, all of it at s = 0.5,
        # no limit at s = 1.
        sim = np.minimum(self._phrasings.similarity(queries, weights, len(self._ids)), 1.0)
        repeated = sim >= 1.0 - 1e-6  # float sums: a verbatim repeat may come out at 0.9999999
        allowed = np.where(repeated, lift, float(body.max()) * sim / np.where(repeated, 1.0, 1.0 - sim))
        return (body + np.minimum(lift, allowed)).astype(np.float32), sim

    def is_confident(self, hits: Sequence[Hit]) -> bool:
        """True when the best hit is good enough to answer with outright: above the threshold and clearly
        ahead of the second."""
        return self.band(hits) == ANSWER

    def band(self, hits: Sequence[Hit]) -> str:
        """``ANSWER`` (answer outright), ``CHOICE`` (not sure: offer the best three) or ``NONE``
        (offer the DX division)."""
        if not hits:
            return NONE
        cfg = self.config
        best = hits[0].confidence
        second = hits[1].confidence if len(hits) > 1 else 0.0
        if best >= cfg.threshold and best - second >= cfg.lead:
            return ANSWER
        return CHOICE if best >= cfg.choice_floor else NONE
