"""Embedded Japanese search for the question-answering knowledge base (no network, no database).

from dialogs.qa.search import Entry, SearchIndex
index = SearchIndex.build(entries, synonym_groups)
hits = index.search("Teams会議を録画したい")
if index.is_confident(hits): ...
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
