"""Embedded Japanese search for the question-answering knowledge base (no network, no database).

>>> from dialogs.qa.search import Entry, SearchIndex
>>> index = SearchIndex.build([Entry("rec", "Teams会議を録画するには?", "「レコーディングを開始」を選びます。")], None)
>>> hits = index.search("チームズの会議を録画したい")
>>> [h.id for h in hits], index.is_confident(hits)
(['rec'], True)

``None`` as the synonyms means the shipped list (チームズ = Teams); README.md beside this file says how it
works and what was measured.
"""

from .analyzer import Analyzer, default_analyzer
from .index import Entry, Hit, SearchConfig, SearchIndex
from .normalize import fold, normalize
from .synonyms import default_synonyms_path, format_synonyms, load_synonyms, parse_synonyms

__all__ = [
    "Analyzer",
    "Entry",
    "Hit",
    "SearchConfig",
    "SearchIndex",
    "default_analyzer",
    "default_synonyms_path",
    "fold",
    "format_synonyms",
    "load_synonyms",
    "normalize",
    "parse_synonyms",
]
