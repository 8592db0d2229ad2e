"""The search index: BM25F over two channels (UniDic lemmas and character bigrams), fused.

>>> index = SearchIndex.build([Entry("tw", "テレワークの申請方法", "...")], [["テレワーク", "在宅勤務"]])
>>> hits = index.search("在宅勤務をしたい")
>>> hits[0].id, index.is_confident(hits)
('tw', True)

Each channel scores an entry with BM25F (per-field length normalisation and weights, one saturation) and
divides by the most the query could score (the sum of its terms' IDF), so a channel's score is the
IDF-weighted share of the query the entry covers, in [0, 1).  Query terms the knowledge base has never
seen count in that denominator, which is what makes an unrelated question score low.  The fused score is
a weighted mean of the channels; it is both the ranking score and the confidence.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .analyzer import Analyzer, Token, default_analyzer
from .normalize import fold
from .synonyms import load_synonyms

log = logging.getLogger(__name__)

FIELDS = ("question", "alternates", "tags", "answer")


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
        default_factory=lambda: {"question": 3.0, "alternates": 2.5, "tags": 1.5, "answer": 1.0}
    )
    field_b: dict[str, float] = field(
        default_factory=lambda: {"question": 0.5, "alternates": 0.5, "tags": 0.3, "answer": 0.75}
    )
    k1: float = 1.2
    word_weight: float = 0.5
    char_weight: float = 0.5
    # Entries whose best hit scores below this are reported as "not found".
    threshold: float = 0.30


_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_MARKUP = re.compile(r"[*_`#>|]+")


def _plain(text: str) -> str:
    """Strip the Markdown and URLs of an answer so they do not become search terms."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    return _MARKUP.sub(" ", text)


_NOUNISH = ("名詞", "接尾辞-名詞的")


class _SynonymMatcher:
    """Rewrites synonym terms to their group's first term, found in token sequences by lemma or by folded
    surface (longest match first).  Entries and queries are rewritten alike, so テレワーク, 在宅勤務 and
    リモートワーク become one word in both channels."""

    def __init__(self, groups: Iterable[Iterable[str]], analyzer: Analyzer) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        self._canonical: list[Token] = []
        for gid, group in enumerate(groups):
            terms = [t for t in group if t.strip()]
            if not terms:
                continue
            canonical = "".join(t.surface for t in analyzer.tokens(terms[0]))
            self._canonical.append(Token(canonical, f"≡{gid}", "名詞-普通名詞-一般"))
            for term in terms:
                toks = [t for t in analyzer.tokens(term) if t.pos1 != "空白"]
                if not toks:
                    continue
                for seq in {tuple(t.lemma for t in toks), tuple(fold(t.surface) for t in toks)}:
                    self._by_first.setdefault(seq[0], []).append((seq, len(self._canonical) - 1))
        for options in self._by_first.values():
            options.sort(key=lambda item: -len(item[0]))

    def rewrite(self, tokens: Sequence[Token]) -> Sequence[Token]:
        if not self._by_first:
            return tokens
        out: list[Token] = []
        n = len(tokens)
        i = 0
        while i < n:
            tok = tokens[i]
            match: tuple[int, int] | None = None
            for key in (tok.lemma, fold(tok.surface)):
                for seq, gid in self._by_first.get(key, ()):
                    size = len(seq)
                    if i + size <= n and all(
                        seq[j] in (tokens[i + j].lemma, fold(tokens[i + j].surface)) for j in range(1, size)
                    ):
                        if match is None or size > match[1]:
                            match = (gid, size)
                        break
            if match is None:
                out.append(tok)
                i += 1
            else:
                out.append(self._canonical[match[0]])
                i += match[1]
        return out


def _word_terms(tokens: Sequence[Token]) -> list[str]:
    terms: list[str] = []
    prev: Token | None = None
    for tok in tokens:
        if tok.is_content:
            terms.append(tok.lemma)
            # Adjacent nouns also as a pair (住民+票, 電子+申請): rewards the compound over its parts.
            if prev is not None and prev.pos.startswith(_NOUNISH) and tok.pos.startswith(_NOUNISH):
                terms.append(prev.lemma + "+" + tok.lemma)
            prev = tok
        else:
            prev = None
    return terms


def _char_terms(tokens: Sequence[Token]) -> list[str]:
    """Character bigrams inside runs of non-function tokens (so 「ですか」 and 「には」 add nothing)."""
    terms: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if not run:
            return
        s = fold("".join(run)).replace(" ", "")
        if len(s) == 1:
            if not ("\u3041" <= s <= "\u309f"):
                terms.append(s)
        else:
            terms.extend(s[i : i + 2] for i in range(len(s) - 1))
        run.clear()

    for tok in tokens:
        if tok.breaks_run:
            flush()
        else:
            run.append(tok.surface)
    flush()
    return terms


class _Channel:
    """BM25F over one kind of term, stored as an entries × terms sparse matrix of final weights."""

    def __init__(self, docs: list[dict[str, list[str]]], config: SearchConfig) -> None:
        n = len(docs)
        vocab: dict[str, int] = {}
        tf_total: sparse.csr_matrix | None = None
        for fname in FIELDS:
            rows: list[int] = []
            cols: list[int] = []
            lengths = np.zeros(n, dtype=np.float64)
            for d, doc in enumerate(docs):
                terms = doc.get(fname, ())
                lengths[d] = len(terms)
                for term in terms:
                    col = vocab.setdefault(term, len(vocab))
                    rows.append(d)
                    cols.append(col)
            if not rows:
                continue
            # Average over entries that have the field, so short optional fields are not over-penalised.
            avg = lengths[lengths > 0].mean() if (lengths > 0).any() else 1.0
            b = config.field_b[fname]
            norm = config.field_weights[fname] / (1.0 - b + b * lengths / avg)
            mat = sparse.csr_matrix(
                (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, max(vocab.values()) + 1)
            )
            mat.sum_duplicates()
            mat = sparse.diags(norm) @ mat
            if tf_total is None:
                tf_total = mat
            else:
                tf_total.resize(mat.shape)
                tf_total = tf_total + mat
        self.vocab = vocab
        self.n_docs = n
        self.unseen_idf = math.log(1.0 + (n + 0.5) / 0.5)
        if tf_total is None or n == 0:
            self.matrix = sparse.csc_matrix((n, 0), dtype=np.float32)
            self.idf = np.zeros(0)
            return
        tf_total = tf_total.tocsc()
        tf_total.resize((n, len(vocab)))
        df = np.diff(tf_total.indptr)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        data = tf_total.data / (config.k1 + tf_total.data)
        # Column j of a CSC matrix owns data[indptr[j]:indptr[j+1]].
        data *= np.repeat(self.idf, df)
        self.matrix = sparse.csc_matrix((data.astype(np.float32), tf_total.indices, tf_total.indptr), shape=tf_total.shape)

    def score(self, terms: Iterable[str]) -> np.ndarray:
        """Scores of every entry in [0, 1): covered IDF share of the query's distinct terms."""
        cols: list[int] = []
        denom = 0.0
        for term in set(terms):
            col = self.vocab.get(term)
            if col is None:
                denom += self.unseen_idf
            else:
                cols.append(col)
                denom += float(self.idf[col])
        if not cols or denom <= 0.0:
            return np.zeros(self.n_docs, dtype=np.float32)
        sub = self.matrix[:, cols]
        return np.asarray(sub.sum(axis=1)).ravel() / denom


class SearchIndex:
    """An immutable index; build a new one whenever the knowledge base or the synonyms change."""

    def __init__(
        self,
        ids: list[str],
        words: _Channel,
        chars: _Channel,
        synonyms: _SynonymMatcher,
        analyzer: Analyzer,
        config: SearchConfig,
    ) -> None:
        self._ids = ids
        self._words = words
        self._chars = chars
        self._synonyms = synonyms
        self._analyzer = analyzer
        self.config = config

    @classmethod
    def build(
        cls,
        entries: Iterable[Entry],
        synonyms: Iterable[Iterable[str]] | None = None,
        *,
        config: SearchConfig | None = None,
        analyzer: Analyzer | None = None,
    ) -> SearchIndex:
        """Index ``entries``.  ``synonyms`` are groups of equivalent terms; ``None`` means the shipped
        default list (dialogs/qa/data/synonyms.txt), ``[]`` means none."""
        started = time.perf_counter()
        config = config or SearchConfig()
        analyzer = analyzer or default_analyzer()
        groups = load_synonyms() if synonyms is None else [list(g) for g in synonyms]
        matcher = _SynonymMatcher(groups, analyzer)
        ids: list[str] = []
        word_docs: list[dict[str, list[str]]] = []
        char_docs: list[dict[str, list[str]]] = []
        for entry in entries:
            ids.append(entry.id)
            texts = {
                "question": [entry.question],
                "alternates": list(entry.alternates),
                "tags": list(entry.tags),
                "answer": [_plain(entry.answer)],
            }
            wdoc: dict[str, list[str]] = {}
            cdoc: dict[str, list[str]] = {}
            for fname, parts in texts.items():
                w: list[str] = []
                c: list[str] = []
                for part in parts:
                    if not part:
                        continue
                    toks = matcher.rewrite(analyzer.tokens(part))
                    w.extend(_word_terms(toks))
                    c.extend(_char_terms(toks))
                wdoc[fname] = w
                cdoc[fname] = c
            word_docs.append(wdoc)
            char_docs.append(cdoc)
        index = cls(ids, _Channel(word_docs, config), _Channel(char_docs, config), matcher, analyzer, config)
        log.info("qa index built: %d entries in %.2f s", len(ids), time.perf_counter() - started)
        return index

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, top_k: int = 10) -> list[Hit]:
        """Best entries for ``query``, best first (only entries sharing something with the query)."""
        if not self._ids or not query.strip():
            return []
        toks = self._synonyms.rewrite(self._analyzer.tokens(query))
        w = self._words.score(_word_terms(toks))
        c = self._chars.score(_char_terms(toks))
        cfg = self.config
        fused = (cfg.word_weight * w + cfg.char_weight * c) / (cfg.word_weight + cfg.char_weight)
        k = min(top_k, len(self._ids))
        if k <= 0:
            return []
        top = np.argpartition(-fused, k - 1)[:k] if k < len(fused) else np.arange(len(fused))
        top = top[np.argsort(-fused[top], kind="stable")]
        return [
            Hit(self._ids[i], float(fused[i]), float(fused[i])) for i in top if fused[i] > 0.0
        ]

    def is_confident(self, hits: Sequence[Hit]) -> bool:
        """True when the best hit is good enough to answer with; otherwise offer to ask the DX division."""
        return bool(hits) and hits[0].confidence >= self.config.threshold
