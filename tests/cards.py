"""Find what a card shows by id or by text, not by position: a card that gains a line keeps its tests.

assert title(card) == "DX推進ボットでできること"
assert "管理者" in by_id(card, "help.you")["text"]
rows = texts(by_id(card, "help.commands"))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def elements(node: Any) -> Iterator[dict[str, Any]]:
    """Every element of a card (or part of one), depth first, in reading order."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from elements(item)


def texts(node: Any) -> list[str]:
    """The text blocks, in reading order."""
    return [e["text"] for e in elements(node) if e.get("type") == "TextBlock"]


def title(card: dict[str, Any]) -> str:
    """The card's first text block: its heading."""
    found = texts(card)
    assert found, f"no text on the card: {card}"
    return found[0]


def by_id(card: dict[str, Any], element_id: str) -> dict[str, Any]:
    found = next((e for e in elements(card) if e.get("id") == element_id), None)
    assert found is not None, f"no element with id {element_id!r}; texts: {texts(card)}"
    return found


def with_text(card: dict[str, Any], fragment: str) -> dict[str, Any]:
    """The first text block that contains ``fragment``."""
    found = next((e for e in elements(card) if e.get("type") == "TextBlock" and fragment in e["text"]), None)
    assert found is not None, f"no text containing {fragment!r}; texts: {texts(card)}"
    return found
