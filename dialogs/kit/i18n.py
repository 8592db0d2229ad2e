"""Message catalogs: every feature keeps its words in ``catalog.toml`` beside its code.

[ja]
"help.title" = "できること"
[en]
"help.title" = "What I can do"

t("help.title", "ja")  ->  "できること"
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
LOCALES = ("ja", "en")
_ROOT = Path(__file__).parent.parent  # dialogs/: the kit's own words and every feature's


def normalize_locale(raw: str | None, default: str = "ja") -> str:
    if not raw:
        return default
    return "en" if raw.lower().startswith("en") else "ja"


@cache
def catalogs() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {loc: {} for loc in LOCALES}
    for path in sorted(_ROOT.glob("**/catalog.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for loc in LOCALES:
            for key, text in data.get(loc, {}).items():
                if key in merged[loc]:
                    raise ValueError(f"message key {key!r} defined twice ({path})")
                merged[loc][key] = text
    return merged


def t(key: str, locale: str = "ja", **kwargs: Any) -> str:
    """The text for ``key`` in ``locale``, falling back to Japanese, then to the key itself."""
    cats = catalogs()
    text = cats.get(locale, {}).get(key) or cats["ja"].get(key)
    if text is None:
        log.warning("missing message key %s", key)
        return key
    return text.format(**kwargs) if kwargs else text
