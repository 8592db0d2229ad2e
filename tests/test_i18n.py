"""Every word a user reads exists in Japanese and English, once."""

import re

from dialogs.kit.i18n import catalogs, t


def test_catalogs_load_without_duplicate_keys():
    cats = catalogs()
    assert cats["ja"], "no Japanese messages found"


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    cats = catalogs()
    missing_en = sorted(set(cats["ja"]) - set(cats["en"]))
    missing_ja = sorted(set(cats["en"]) - set(cats["ja"]))
    assert not missing_en, f"no English for: {missing_en[:20]}"
    assert not missing_ja, f"no Japanese for: {missing_ja[:20]}"
    field = re.compile(r"{(\w+)")
    differ = [k for k in cats["ja"] if set(field.findall(cats["ja"][k])) != set(field.findall(cats["en"][k]))]
    assert not differ, f"placeholders differ between ja and en: {differ[:20]}"


def test_falls_back_to_japanese_then_key():
    assert t("help.title", "en") == "What DX Promoter Bot can do"
    assert t("help.title", "fr") == "DX推進ボットでできること"
    assert t("no.such.key", "ja") == "no.such.key"
