"""The words in every catalog: one word for each thing, and Japanese sentences without half-width
spaces between Japanese characters (a space inside 「…」 is part of a command a person types)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "dialogs"
CATALOGS = sorted(ROOT.glob("**/catalog.toml"))
JAPANESE = r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]"
SPACE_BETWEEN = re.compile(f"{JAPANESE}( +){JAPANESE}")
QUOTED = re.compile(r"「[^「」]*」")


def _japanese(path: Path) -> dict[str, str]:
    return tomllib.loads(path.read_text(encoding="utf-8")).get("ja", {})


def _spaced(value: str) -> list[str]:
    """Places where a half-width space sits between two Japanese characters, outside 「…」."""
    unquoted = QUOTED.sub("「」", value)
    out = []
    for i in range(len(unquoted)):
        m = SPACE_BETWEEN.match(unquoted, i)
        if m:
            out.append(unquoted[max(0, i - 6) : m.end() + 6])
    return out


def test_the_check_finds_what_it_should() -> None:
    assert _spaced("受付 ・ 担当") and _spaced("結果送信先 のいずれか")
    assert not _spaced("「担当 税務課」と送ってください。") and not _spaced("期限 {deadline}")


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_half_width_space_inside_japanese_sentences(path: Path) -> None:
    found = {key: _spaced(value) for key, value in _japanese(path).items() if _spaced(value)}
    assert not found, f"half-width spaces between Japanese characters in {path}: {found}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_one_word_for_the_promoter(path: Path) -> None:
    """DX推進員 everywhere (the catalogs' and DOMAIN.md's word), not 推進役 on some screens."""
    found = [key for key, value in _japanese(path).items() if "推進役" in value]
    assert not found, f"推進役 in {path}: {found} (say 推進員)"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_surveys_are_either_unsigned_or_signed(path: Path) -> None:
    """A survey is 無記名 or 記名式, the pair the survey cards use; 匿名 is the suggestion box's word."""
    found = [
        key
        for key, value in _japanese(path).items()
        if re.search(r"匿名の(サーベイ|回答|調査)|(サーベイ|調査)は匿名", value)
    ]
    assert not found, f"匿名 for a survey in {path}: {found} (say 無記名)"


KANA_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
BUTTON_KEY = re.compile(r"\.btn\.|button$")


def _english(path: Path) -> dict[str, str]:
    return tomllib.loads(path.read_text(encoding="utf-8")).get("en", {})


def _japanese_button_titles() -> set[str]:
    return {v for path in CATALOGS for k, v in _japanese(path).items() if BUTTON_KEY.search(k)}


def test_the_button_checks_find_what_they_should() -> None:
    assert BUTTON_KEY.search("announce.relay.btn.post") and BUTTON_KEY.search("qa.ask.button")
    assert not BUTTON_KEY.search("announce.relay.post.where")
    assert "確認しました" in _japanese_button_titles() and "課のチャネルに投稿" in _japanese_button_titles()


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_english_buttons_read_english_only(path: Path) -> None:
    """Teams shows an English card's buttons to people who may not read Japanese: "Confirm", not
    「確認しました (Confirm)」. (The roster's own names on a card stay as they are; they are not in here.)"""
    found = {k: v for k, v in _english(path).items() if BUTTON_KEY.search(k) and KANA_KANJI.search(v)}
    assert not found, f"Japanese in English button titles in {path}: {found}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_english_sentences_name_buttons_by_their_english_titles(path: Path) -> None:
    """An English sentence that says which button to press names the button the English card shows
    (press "Confirm"), not its Japanese title (press 「確認しました」)."""
    titles = _japanese_button_titles()
    found = {k: v for k, v in _english(path).items() if any(f"「{b}」" in v or f'"{b}"' in v for b in titles)}
    assert not found, f"Japanese button titles quoted in English sentences in {path}: {found}"
