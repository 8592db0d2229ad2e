"""Questions, templates, custom definitions (YAML, XLSX, builder card) and the server-side check."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from dialogs.survey.loader import from_builder, from_file, from_yaml
from dialogs.survey.questions import (
    AnswerRejected,
    DefinitionError,
    MissingAnswers,
    card_inputs,
    parse_questions,
    validate_answers,
)
from dialogs.survey.templates import TEMPLATES, find_template, tool_questions

QUESTIONS = parse_questions(
    [
        {"key": "a", "type": "scale5", "text": "五段階"},
        {"key": "b", "type": "scale11", "text": "0〜10"},
        {"key": "c", "type": "single", "text": "単一", "choices": ["はい", "いいえ"]},
        {"key": "d", "type": "multi", "text": "複数", "choices": ["A", "B", "C"], "max_choices": 2},
        {"key": "e", "type": "number", "text": "時間", "min": 0, "max": 40, "unit": "時間"},
        {"key": "f", "type": "text", "text": "自由記述", "required": False},
    ]
)
GOOD = {"q.a": "4", "q.b": "10", "q.c": "c1", "q.d": "c1,c3", "q.e": "12.5", "q.f": "特になし"}


def test_templates_are_complete_and_in_japanese() -> None:
    mindset = parse_questions(TEMPLATES["mindset"].questions())
    scales = [q for q in mindset if q.type == "scale5"]
    assert 6 <= len(scales) <= 10 and all(q.required for q in scales)
    assert mindset[-1].type == "text" and not mindset[-1].required
    assert TEMPLATES["mindset"].anonymous
    tools = parse_questions(TEMPLATES["tools"].questions())
    assert [q.tool for q in tools][:3] == ["Teams チャット", "Web会議", "共同編集"]
    assert [c.label for c in tools[0].choices] == ["毎日", "週に数回", "月に数回", "使っていない", "知らない"]
    assert parse_questions(TEMPLATES["workload"].questions())[0].unit == "%"
    assert (
        find_template("ツール活用") is TEMPLATES["tools"]
        and find_template("ＤＸマインド") is TEMPLATES["mindset"]
    )
    # An edited tool list keeps known tools' keys, so trends line up across rounds.
    edited = tool_questions(["生成AI", "kintone"])
    assert edited[0]["key"] == "t_genai" and edited[1]["key"].startswith("t_")


def test_valid_answers_are_normalised() -> None:
    values = validate_answers(QUESTIONS, GOOD)
    assert values == {"a": 4.0, "b": 10.0, "c": "c1", "d": ["c1", "c3"], "e": 12.5, "f": "特になし"}
    assert validate_answers(QUESTIONS, {**GOOD, "q.f": ""})["f"] is None  # optional


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"q.a": "6"}, "out_of_range"),
        ({"q.a": "3.5"}, "out_of_range"),
        ({"q.b": "11"}, "out_of_range"),
        ({"q.c": "c9"}, "unknown_choice"),
        ({"q.d": "c1,c2,c3"}, "too_many_choices"),
        ({"q.d": "c1,c1"}, "duplicate_choice"),
        ({"q.e": "41"}, "out_of_range"),
        ({"q.e": "nan"}, "not_a_number"),
        ({"q.e": "十"}, "not_a_number"),
        ({"q.f": "あ" * 1001}, "too_long"),
        ({"q.zz": "1"}, "unknown_question"),
    ],
)
def test_values_no_honest_card_sends_are_rejected(change: dict[str, str], reason: str) -> None:
    with pytest.raises(AnswerRejected) as exc:
        validate_answers(QUESTIONS, {**GOOD, **change})
    assert exc.value.reason == reason


def test_missing_required_answers_are_named() -> None:
    with pytest.raises(MissingAnswers) as exc:
        validate_answers(QUESTIONS, {**GOOD, "q.a": "", "q.e": None})
    assert [q.key for q in exc.value.questions] == ["a", "e"]


def test_card_inputs_validate_on_the_client_too() -> None:
    (scale,) = card_inputs(QUESTIONS[0], "ja", 1)
    assert scale["isRequired"] and [c["value"] for c in scale["choices"]] == ["5", "4", "3", "2", "1"]
    assert "とてもそう思う" in scale["choices"][0]["title"]
    (multi,) = card_inputs(QUESTIONS[3], "ja", 4)
    assert multi["isMultiSelect"] and "2つまで" in multi["label"]
    (number,) = card_inputs(QUESTIONS[4], "ja", 5)
    assert (number["min"], number["max"]) == (0, 40) and "0〜40時間" in number["errorMessage"]
    (free,) = card_inputs(QUESTIONS[5], "ja", 6, prefill="前回")
    assert not free["isRequired"] and free["value"] == "前回" and "(任意)" in free["label"]


def test_yaml_definition_with_japanese_types() -> None:
    d = from_yaml(
        """
title: 庁内ペーパーレス調査
anonymous: false
threshold: 8
questions:
  - {type: 5段階, text: 会議資料の電子化は進んでいる}
  - {type: 複数選択, text: 使っている機能, max_choices: 2, choices: [共同編集, チャット, 予定表]}
  - {type: 数値, text: 週の印刷枚数, min: 0, max: 500, unit: 枚}
  - {type: 自由記述, text: ご意見}
""".encode()
    )
    assert (d.title, d.anonymous, d.threshold) == ("庁内ペーパーレス調査", False, 8)
    assert [q["type"] for q in d.questions] == ["scale5", "multi", "number", "text"]
    assert d.questions[1]["choices"][1] == {"key": "c2", "label": "チャット"}


def test_bad_definitions_list_every_problem() -> None:
    with pytest.raises(DefinitionError) as exc:
        from_yaml(
            "title: x\nthreshold: 2\nquestions:\n  - {type: 5段階}\n  - {type: single, text: q, choices: [a]}\n"
            "  - {type: number, text: n, min: 5, max: 1}\n  - {type: star, text: s}\n"
        )
    text = "\n".join(exc.value.problems)
    for expected in (
        "1問目: 質問文がありません",
        "2問目: 選択式には選択肢が2つ以上",
        "3問目: 最小値は最大値より小さく",
        "4問目: 種類 'star'",
    ):
        assert expected in text
    with pytest.raises(DefinitionError):
        from_file("survey.docx", b"")


def test_xlsx_definition_with_settings_sheet() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "質問"
    ws.append(["キー", "種類", "質問", "必須", "選択肢", "上限", "最小", "最大", "単位"])
    ws.append(["q1", "5段階", "RPAの効果を実感している", "はい", None, None, None, None, None])
    ws.append(
        ["q2", "単一選択", "よく使う端末", "はい", "デスクトップ、ノート、タブレット", None, None, None, None]
    )
    ws.append(["q3", "数値", "残業時間(月)", "いいえ", None, None, 0, 100, "時間"])
    settings = wb.create_sheet("設定")
    settings.append(["タイトル", "RPA効果測定"])
    settings.append(["無記名", "はい"])
    buf = io.BytesIO()
    wb.save(buf)
    d = from_file("rpa.xlsx", buf.getvalue())
    assert d.title == "RPA効果測定" and d.anonymous
    assert [c["label"] for c in d.questions[1]["choices"]] == ["デスクトップ", "ノート", "タブレット"]
    assert d.questions[2]["required"] is False and d.questions[2]["max"] == 100


def test_builder_card_inputs_become_a_survey() -> None:
    d = from_builder(
        {
            "title": "研修の感想",
            "anonymous": "true",
            "threshold": "5",
            "q1_text": "研修は役に立った",
            "q1_type": "scale5",
            "q1_required": "true",
            "q2_text": "参加した研修",
            "q2_type": "multi",
            "q2_options": "Excel、生成AI、RPA 上限2",
            "q3_text": "受講時間",
            "q3_type": "number",
            "q3_options": "0〜20 時間",
            "q4_text": "",
        },
        8,
    )
    assert [q["key"] for q in d.questions] == ["q1", "q2", "q3"]
    assert d.questions[1]["max_choices"] == 2 and len(d.questions[1]["choices"]) == 3
    assert (d.questions[2]["min"], d.questions[2]["max"], d.questions[2]["unit"]) == (0, 20, "時間")
