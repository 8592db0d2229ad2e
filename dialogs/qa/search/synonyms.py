"""Synonym groups: one group per line, terms separated by commas.

>>> parse_synonyms("# comment\\nテレワーク,在宅勤務, リモートワーク\\n")
[['テレワーク', '在宅勤務', 'リモートワーク']]

Lines may use 「,」「、」「，」 or 「=」 between terms; ``#`` starts a comment.  Admins edit the groups (later
from the database); :meth:`SearchIndex.build` takes them as plain lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

_SEPARATORS = re.compile(r"[,、，=＝]")


def parse_synonyms(text: str) -> list[list[str]]:
    """Parse the text format into groups (groups of fewer than two distinct terms are dropped)."""
    groups: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        terms: list[str] = []
        for term in _SEPARATORS.split(line):
            term = term.strip()
            if term and term not in terms:
                terms.append(term)
        if len(terms) >= 2:
            groups.append(terms)
    return groups


def format_synonyms(groups: Iterable[Iterable[str]]) -> str:
    """The inverse of :func:`parse_synonyms`."""
    return "".join(",".join(group) + "\n" for group in groups)


def default_synonyms_path() -> Path:
    return Path(str(resources.files("dialogs.qa").joinpath("data/synonyms.txt")))


def load_synonyms(path: str | Path | None = None) -> list[list[str]]:
    """Read a synonym file (UTF-8, BOM allowed); without a path, the shipped default list."""
    p = Path(path) if path is not None else default_synonyms_path()
    return parse_synonyms(p.read_text(encoding="utf-8-sig"))
