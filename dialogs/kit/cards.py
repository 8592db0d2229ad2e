"""Small builders for Adaptive Cards (schema 1.5, what Teams desktop and mobile render).

card = adaptive_card([heading("できること"), text("…")], actions=[submit("開く", "help.show")])
"""

from __future__ import annotations

from typing import Any

Element = dict[str, Any]


def adaptive_card(body: list[Element], actions: list[Element] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def heading(value: str, size: str = "Large") -> Element:
    return {
        "type": "TextBlock",
        "text": value,
        "weight": "Bolder",
        "size": size,
        "wrap": True,
        "style": "heading",
    }


def text(value: str, **extra: Any) -> Element:
    return {"type": "TextBlock", "text": value, "wrap": True, **extra}


def facts(pairs: list[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def submit(title: str, action: str, style: str | None = None, **data: Any) -> Element:
    element: Element = {"type": "Action.Submit", "title": title, "data": {"action": action, **data}}
    if style:
        element["style"] = style
    return element


def open_url(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def container(items: list[Element], **extra: Any) -> Element:
    return {"type": "Container", "items": items, **extra}
