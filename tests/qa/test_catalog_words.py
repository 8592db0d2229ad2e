"""The QA feature's Japanese words: no half-width spaces inside Japanese sentences.

A space belongs between Latin words (「dxbot faq import」) and inside a command to type
(「FAQ編集 teams-recording」), never next to kana or kanji (「問い合わせ #12 の」, 「3 件」)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "dialogs" / "qa" / "catalog.toml"
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def spaces_beside_japanese(value: str) -> list[str]:
    """The half-width spaces next to a Japanese character (looking past {placeholders}), with context;
    text in 「」 is what a user types and keeps its spaces."""
    plain = re.sub(r"「[^」]*」", "「」", value)
    plain = re.sub(r"\{[^}]*\}", "", plain)
    found = []
    for m in re.finditer(" ", plain):
        left = plain[: m.start()].rstrip(" ")[-1:]
        right = plain[m.end() :].lstrip(" ")[:1]
        if JAPANESE.match(left or "a") or JAPANESE.match(right or "a"):
            found.append(plain[max(0, m.start() - 8) : m.end() + 8])
    return found


def test_the_checker_finds_what_it_should() -> None:
    assert len(spaces_beside_japanese("問い合わせ #{id} の回答")) == 2
    assert spaces_beside_japanese("未対応 {open} 件") != []
    assert spaces_beside_japanese("例:「FAQ編集 teams-recording」") == []
    assert spaces_beside_japanese("管理者のPCで「dxbot faq import」を使ってください") == []
    assert spaces_beside_japanese("Use dxbot faq import / export") == []


def test_no_half_width_spaces_inside_japanese_sentences() -> None:
    ja = tomllib.loads(CATALOG.read_text(encoding="utf-8"))["ja"]
    offenders = {key: found for key, value in ja.items() if (found := spaces_beside_japanese(value))}
    assert offenders == {}
