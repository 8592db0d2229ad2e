"""The general synonym lexicon (the Sudachi synonym dictionary): reading its binary format, fetching it
safely, and how the search uses it (only to bridge a query word the knowledge base lacks)."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tarfile
from pathlib import Path

import pytest

from dialogs.qa.search import Entry, SearchIndex
from dialogs.qa.search import lexicon as lx


def _string(text: str) -> bytes:
    units = len(text.encode("utf-16-le")) // 2
    size = bytes([units]) if units < 128 else bytes([0x80 | (units >> 8), units & 0xFF])
    return size + text.encode("utf-16-le")


def encode(groups: list[list[tuple[str, int]]]) -> bytes:
    """A dictionary in the binary layout parse_dictionary documents: (word, flags) per group."""
    header = struct.pack("<QQ", 0xEB5B87CC8B3F406C, 0) + b"\0" * 256
    trie = struct.pack("<I", 2) + b"\0" * 8 + struct.pack("<I", 3) + b"\0" * 3
    start = len(header) + len(trie) + 4 + 8 * len(groups)
    bodies: list[bytes] = []
    offsets: list[int] = []
    for group in groups:
        offsets.append(start + sum(map(len, bodies)))
        body = struct.pack("<H", len(group))
        for word, flags in group:
            body += (
                _string(word) + bytes([1]) + struct.pack("<h", 7) + struct.pack("<H", flags) + _string("()")
            )
        bodies.append(body)
    table = struct.pack("<i", len(groups)) + b"".join(
        struct.pack("<ii", gid, off) for gid, off in enumerate(offsets, start=1)
    )
    return header + trie + table + b"".join(bodies)


def test_parse_keeps_groups_and_leaves_out_ambiguous_words() -> None:
    long_word = "長" * 130  # a length over 127 takes two bytes
    data = encode(
        [
            [("印鑑", 2), ("判子", 2), ("はんこ", 2 | 0x100)],
            [("曖昧語", 1), ("別の語", 0)],  # one word left after the ambiguous one: no group
            [("スマートフォン", 2), ("スマホ", 2), (long_word, 0)],
        ]
    )
    assert lx.parse_dictionary(data) == [["印鑑", "判子", "はんこ"], ["スマートフォン", "スマホ", long_word]]


def test_parse_refuses_other_files_and_damaged_ones() -> None:
    with pytest.raises(lx.LexiconError):
        lx.parse_dictionary(b"PK\x03\x04 not a dictionary" + b"\0" * 300)
    whole = encode([[("印鑑", 0), ("判子", 0)]])
    with pytest.raises(lx.LexiconError):
        lx.parse_dictionary(whole[:-5])


def _package(tmp_path: Path, dic: bytes) -> tuple[str, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in ((lx._DIC_MEMBER, dic), (lx._LICENSE_MEMBER, b"Apache License 2.0")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    path = tmp_path / "chikkarpy-0.1.0.tar.gz"
    path.write_bytes(buf.getvalue())
    return path.as_uri(), hashlib.sha256(buf.getvalue()).hexdigest()


def test_fetch_checks_the_digest_and_writes_the_groups_and_the_licence(tmp_path: Path) -> None:
    url, digest = _package(tmp_path, encode([[("印鑑", 0), ("判子", 0)], [("転居", 0), ("引っ越し", 0)]]))
    target = tmp_path / "out" / "sudachi_synonyms.txt"
    with pytest.raises(lx.LexiconError, match="SHA-256"):
        lx.fetch(target, url=url, sha256="0" * 64)
    assert not target.exists()
    assert lx.fetch(target, url=url, sha256=digest) == 2
    assert (target.parent / lx.LICENSE_PATH.name).read_bytes() == b"Apache License 2.0"
    assert lx.load_lexicon(target) == (("印鑑", "判子"), ("転居", "引っ越し"))
    assert target.read_text(encoding="utf-8").startswith("# The Sudachi synonym dictionary")


def test_a_missing_lexicon_is_empty_not_an_error(tmp_path: Path) -> None:
    assert lx.load_lexicon(tmp_path / "never-fetched.txt") == ()


ENTRIES = [
    Entry("seal", "印鑑登録の手続き", "登録する印鑑と本人確認書類を持って窓口へ。"),
    Entry("move", "転居届の出し方", "市内で住所が変わったら14日以内に転居届を出します。"),
    Entry("stamp", "判子を押す書類の一覧", "申請書のうち押印が必要なものの一覧です。"),
]
LEXICON = (("印鑑", "判子", "はんこ", "ハンコ"), ("転居", "引っ越し"))


def test_the_lexicon_bridges_a_word_the_faq_does_not_use() -> None:
    without = SearchIndex.build(ENTRIES[:2], [], lexicon=())
    index = SearchIndex.build(ENTRIES[:2], [], lexicon=LEXICON)
    for query, expected in (("ハンコの登録をしたい", "seal"), ("市内で引っ越しした", "move")):
        hits = index.search(query)
        assert hits[0].id == expected, query
        before = {h.id: h.confidence for h in without.search(query)}
        assert hits[0].confidence > before.get(expected, 0.0) + 0.1, query


def test_the_lexicon_adds_nothing_when_the_faq_has_the_query_word() -> None:
    """印鑑 is in the knowledge base, so a question about 印鑑 is not widened to the 判子 entry (a city's own
    synonym group would widen it)."""
    # Words alone: the meaning channel would add the same to all three and blur the comparison.
    lexicon = SearchIndex.build(ENTRIES, [], lexicon=LEXICON, vectors=False)
    none = SearchIndex.build(ENTRIES, [], lexicon=(), vectors=False)
    own = SearchIndex.build(ENTRIES, [list(LEXICON[0])], lexicon=(), vectors=False)
    # The same entries in the same order, at the same scores but for the small change that the entries'
    # own group words make to their lengths.
    with_lexicon = {h.id: h.score for h in lexicon.search("印鑑の登録")}
    without = {h.id: h.score for h in none.search("印鑑の登録")}
    assert list(with_lexicon) == list(without)
    assert all(abs(with_lexicon[k] - without[k]) < 0.01 for k in without)
    assert {h.id: h.score for h in own.search("印鑑の登録")}["stamp"] > with_lexicon.get("stamp", 0.0) + 0.05


def test_the_shipped_lexicon_is_fetched() -> None:
    """make venv / make test fetch it; outside CI a checkout without it only skips, with this notice."""
    groups = lx.load_lexicon()
    if not groups:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "the synonym lexicon is missing: make fetches it (python dialogs/qa/search/lexicon.py fetch)"
            )
        pytest.skip("the synonym lexicon was not fetched (python dialogs/qa/search/lexicon.py fetch)")
    assert len(groups) > 15_000
    assert any({"印鑑", "はんこ"} <= set(g) for g in groups)
    assert any({"転居", "引っ越し"} <= set(g) for g in groups)


def test_a_lexicon_of_lists_is_accepted() -> None:
    """Any sequences will do (a tuple of lists made the memo key unhashable)."""
    index = SearchIndex.build(ENTRIES[:2], [], lexicon=tuple(list(g) for g in LEXICON))
    assert index.search("ハンコの登録をしたい")[0].id == "seal"
