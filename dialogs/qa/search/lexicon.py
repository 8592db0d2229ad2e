"""The general synonym lexicon: the Sudachi synonym dictionary (Works Applications, Apache-2.0).

Citizens and staff ask with everyday words (はんこ, 引っ越し, 逝去) that a city's FAQ may write otherwise
(印鑑, 転居, 死亡).  The city's own synonym list covers its own terms; this lexicon covers the language:
about 20,000 groups of Japanese words and spellings that mean the same.

    python dialogs/qa/search/lexicon.py fetch   # once per environment: `make venv` and the Dockerfile run it

The dictionary ships (as ``system_synonym.dic``, version 20200722) inside the sdist of chikkarpy 0.1.0 on
PyPI, the Sudachi project's own reader; that sdist does not install (its setup.py imports a dependency
first), so ``fetch`` downloads it, checks its SHA-256, reads the binary group list and writes the groups
as text next to the city's synonym list (``dialogs/qa/data/sudachi_synonyms.txt``, not committed) with
the licence beside it.  Words the dictionary flags as ambiguous (曖昧) are left out, as its documentation
asks for expansion.

This module uses the standard library only, so that ``fetch`` runs before the project is installed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import struct
import sys
import tarfile
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE_URL = (
    "https://files.pythonhosted.org/packages/72/b2/"
    "5db458307c98159ed0b6122880152424104ecad26bc974601beba2cabec2/chikkarpy-0.1.0.tar.gz"
)
SOURCE_SHA256 = "7c1daabfd861907c6f6af5ee9aadd7969e486f225667881f34c4a5caf4c72d34"
_DIC_MEMBER = "chikkarpy-0.1.0/chikkarpy/resources/system_synonym.dic"
_LICENSE_MEMBER = "chikkarpy-0.1.0/chikkarpy/resources/LICENSE-2.0.txt"

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LEXICON_PATH = DATA_DIR / "sudachi_synonyms.txt"
LICENSE_PATH = DATA_DIR / "sudachi_synonyms_LICENSE.txt"

_MAGIC = 0xEB5B87CC8B3F406C  # the dictionary format's version id (system synonym dictionary, version 1)
_HEADER_SIZE = 8 + 8 + 256  # version, creation time, description


class LexiconError(ValueError):
    """The file is not a Sudachi synonym dictionary this reader knows."""


@functools.lru_cache(maxsize=4)
def load_lexicon(path: Path | None = None) -> tuple[tuple[str, ...], ...]:
    """The lexicon's groups (each two or more words), read once per process; () when it was never fetched
    (the search then works with the city's own synonyms only, and says so in the log)."""
    p = path or LEXICON_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.warning(
            "qa: the synonym lexicon %s is missing; run `python dialogs/qa/search/lexicon.py fetch`", p
        )
        return ()
    groups = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            words = tuple(w for w in line.split("\t") if w)
            if len(words) >= 2:
                groups.append(words)
    return tuple(groups)


def parse_dictionary(data: bytes) -> list[list[str]]:
    """The synonym groups of a binary Sudachi synonym dictionary, without the words flagged ambiguous.

    Layout (little-endian): a 272-byte header whose first eight bytes are the format id; the headword trie
    (a u32 count of 4-byte units, the units, then a u32 byte size and that many bytes of group-id lists);
    then the group list: an i32 count, that many (i32 group id, i32 absolute offset) pairs, and at each
    offset a u16 count of words, each a string (length in UTF-16 units: one byte, or two with the high
    bit set; then UTF-16-LE), a byte count and that many i16 lexeme ids, u16 flags (bit 0: ambiguous) and
    a string (the field, such as (IT))."""
    if len(data) < _HEADER_SIZE + 8 or struct.unpack_from("<Q", data, 0)[0] != _MAGIC:
        raise LexiconError("not a Sudachi synonym dictionary")
    try:
        pos = _HEADER_SIZE
        (units,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 4 * units
        (id_bytes,) = struct.unpack_from("<I", data, pos)
        pos += 4 + id_bytes
        (count,) = struct.unpack_from("<i", data, pos)
        pairs = struct.unpack_from(f"<{2 * count}i", data, pos + 4)
        groups: list[list[str]] = []
        for offset in sorted(pairs[1::2]):
            words: list[str] = []
            (n,) = struct.unpack_from("<H", data, offset)
            pos = offset + 2
            for _ in range(n):
                word, pos = _string(data, pos)
                pos += 1 + 2 * data[pos]  # lexeme ids: not needed
                (flags,) = struct.unpack_from("<H", data, pos)
                pos += 2
                _, pos = _string(data, pos)  # the field
                if not flags & 1 and word and word not in words:
                    words.append(word)
            if len(words) >= 2:
                groups.append(words)
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise LexiconError(f"the dictionary is cut short or damaged: {exc}") from exc
    return groups


def _string(data: bytes, pos: int) -> tuple[str, int]:
    length = data[pos]
    pos += 1
    if length >= 128:
        length = ((length & 0x7F) << 8) | data[pos]
        pos += 1
    end = pos + 2 * length
    if end > len(data):
        raise IndexError("string past the end")
    return data[pos:end].decode("utf-16-le"), end


def fetch(target: Path = LEXICON_PATH, url: str = SOURCE_URL, sha256: str = SOURCE_SHA256) -> int:
    """Download the dictionary's package, check it, and write the groups to ``target``; the number of
    groups.  Nothing is written unless every step succeeded."""
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (a fixed https address)
        blob = response.read()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sha256:
        raise LexiconError(f"{url}: SHA-256 {digest}, expected {sha256}")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        dic = _member(tar, _DIC_MEMBER)
        licence = _member(tar, _LICENSE_MEMBER)
    groups = parse_dictionary(dic)
    header = (
        "# The Sudachi synonym dictionary (version 20200722), Works Applications Co., Ltd., Apache License 2.0\n"
        f"# (the licence: {LICENSE_PATH.name}). Written by dialogs/qa/search/lexicon.py fetch from\n"
        f"# {url} (chikkarpy 0.1.0 on PyPI). One group per line, words separated by tabs; words flagged\n"
        "# ambiguous are left out. Do not edit: the city's own synonyms are in synonyms.txt.\n"
    )
    body = "".join("\t".join(g) + "\n" for g in groups)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(header + body, encoding="utf-8")
    target.with_name(LICENSE_PATH.name).write_bytes(licence)
    tmp.replace(target)
    load_lexicon.cache_clear()
    return len(groups)


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    f = tar.extractfile(name)
    if f is None:
        raise LexiconError(f"{name} is missing from the package")
    return f.read()


def main(argv: list[str]) -> int:
    if argv[:1] != ["fetch"]:
        print("usage: python dialogs/qa/search/lexicon.py fetch [--if-missing]", file=sys.stderr)
        return 2
    if "--if-missing" in argv and LEXICON_PATH.exists():
        return 0
    n = fetch()
    print(f"synonym lexicon: {n} groups written to {LEXICON_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
