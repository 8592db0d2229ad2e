"""Question types, their card inputs, and the server-side check of a submitted answer.

    qs = parse_questions(round.questions)
    values = validate_answers(qs, data)      # raises AnswerRejected (tampering) or MissingAnswers
    card_inputs(qs[0], locale="ja")          # Adaptive Card elements for one question

A question is a plain dict in the database (so rounds can freeze a copy):
{"key": "m1", "type": "scale5", "text": "…", "required": true}
Types: scale5 (1–5), scale11 (0–10), single, multi (with "max_choices"), number ("min", "max",
"unit"), text ("max_length"). Single-choice questions with "tool" are tool-adoption items.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from dialogs.kit.i18n import t

TYPES = ("scale5", "scale11", "single", "multi", "number", "text")
INPUT_PREFIX = "q."
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
TEXT_MAX = 1000
COMPACT_FROM = 5  # a single-choice question with this many choices is a drop-down, not radio buttons
MAX_QUESTIONS = 40  # in one survey
# Tool adoption: the frequency choices, and which of them count as "weekly or more".
FREQUENCY_KEYS = ("daily", "weekly", "monthly", "never", "unknown")
ADOPTED_KEYS = ("daily", "weekly")


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    label_en: str = ""

    def text(self, locale: str) -> str:
        return self.label_en if locale == "en" and self.label_en else self.label


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    text: str
    text_en: str = ""
    required: bool = True
    choices: tuple[Choice, ...] = ()
    max_choices: int | None = None
    min: float | None = None
    max: float | None = None
    unit: str = ""
    max_length: int = TEXT_MAX
    tool: str | None = None  # tool-adoption item: the tool's name
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def label(self, locale: str) -> str:
        return self.text_en if locale == "en" and self.text_en else self.text

    @property
    def is_scale(self) -> bool:
        return self.type in ("scale5", "scale11")

    def choice_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "type": self.type,
            "text": self.text,
            "required": self.required,
        }
        if self.text_en:
            out["text_en"] = self.text_en
        if self.choices:
            out["choices"] = [
                {"key": c.key, "label": c.label, **({"label_en": c.label_en} if c.label_en else {})}
                for c in self.choices
            ]
        if self.max_choices is not None:
            out["max_choices"] = self.max_choices
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.unit:
            out["unit"] = self.unit
        if self.type == "text" and self.max_length != TEXT_MAX:
            out["max_length"] = self.max_length
        if self.tool:
            out["tool"] = self.tool
        return out


class DefinitionError(ValueError):
    """A survey definition (file, card or template) is not usable; ``problems`` are in Japanese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class AnswerRejected(Exception):
    """A submission no honest card could produce: another round or person, an unknown choice, a value
    out of range. ``reason`` is for the log (no personal data); ``question`` for the reply."""

    def __init__(self, reason: str, question: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.question = question


class MissingAnswers(Exception):
    def __init__(self, questions: list[Question]) -> None:
        super().__init__(", ".join(q.key for q in questions))
        self.questions = questions


def _num(value: Any, what: str, problems: list[str]) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(f"{what}: 数値ではありません ({value!r})")
        return None
    return number


def parse_question(raw: dict[str, Any], index: int = 0) -> Question:
    """One question dict → Question, or DefinitionError with every problem found."""
    problems: list[str] = []
    where = f"{index + 1}問目"
    key = str(raw.get("key") or "").strip()
    qtype = str(raw.get("type") or "").strip()
    text = str(raw.get("text") or "").strip()
    if not KEY_RE.match(key):
        problems.append(f"{where}: キー {key!r} は英字で始まる40文字以内の英数字にしてください")
    if qtype not in TYPES:
        problems.append(f"{where}: 種類 {qtype!r} は使えません(使える種類: {', '.join(TYPES)})")
    if not text:
        problems.append(f"{where}: 質問文がありません")
    choices: list[Choice] = []
    for j, c in enumerate(raw.get("choices") or []):
        if isinstance(c, str):
            c = {"key": f"c{j + 1}", "label": c}
        ckey = str(c.get("key") or f"c{j + 1}").strip()
        label = str(c.get("label") or "").strip()
        if not KEY_RE.match(ckey) or not label:
            problems.append(f"{where}: 選択肢 {j + 1} のキーまたは表示名が正しくありません")
            continue
        choices.append(Choice(ckey, label, str(c.get("label_en") or "")))
    if len({c.key for c in choices}) != len(choices):
        problems.append(f"{where}: 選択肢のキーが重複しています")
    if qtype in ("single", "multi") and len(choices) < 2:
        problems.append(f"{where}: 選択式には選択肢が2つ以上必要です")
    max_choices = raw.get("max_choices")
    if max_choices is not None:
        try:
            max_choices = int(max_choices)
        except (TypeError, ValueError):
            problems.append(f"{where}: 選択できる数の上限が数値ではありません")
            max_choices = None
        else:
            if max_choices < 1 or (choices and max_choices > len(choices)):
                problems.append(f"{where}: 選択できる数の上限は1〜{len(choices)}にしてください")
    low = _num(raw.get("min"), f"{where} 最小値", problems)
    high = _num(raw.get("max"), f"{where} 最大値", problems)
    if qtype == "number":
        if low is None or high is None:
            problems.append(f"{where}: 数値の質問には最小値と最大値が必要です")
        elif low >= high:
            problems.append(f"{where}: 最小値は最大値より小さくしてください")
    max_length = int(raw.get("max_length") or TEXT_MAX)
    if problems:
        raise DefinitionError(problems)
    return Question(
        key=key,
        type=qtype,
        text=text,
        text_en=str(raw.get("text_en") or ""),
        required=bool(raw.get("required", qtype != "text")),
        choices=tuple(choices),
        max_choices=max_choices if qtype == "multi" else None,
        min=low if qtype == "number" else None,
        max=high if qtype == "number" else None,
        unit=str(raw.get("unit") or ""),
        max_length=max(1, min(max_length, TEXT_MAX)),
        tool=str(raw["tool"]) if raw.get("tool") else None,
    )


def parse_questions(raw: list[dict[str, Any]]) -> list[Question]:
    problems: list[str] = []
    out: list[Question] = []
    for i, item in enumerate(raw or []):
        if not isinstance(item, dict):
            problems.append(f"{i + 1}問目: 形式が正しくありません")
            continue
        try:
            out.append(parse_question(item, i))
        except DefinitionError as exc:
            problems.extend(exc.problems)
    keys = [q.key for q in out]
    for dup in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"質問のキー {dup!r} が重複しています")
    if not raw:
        problems.append("質問が1つもありません")
    if len(raw or []) > MAX_QUESTIONS:
        problems.append(f"質問は{MAX_QUESTIONS}問までにしてください")
    if problems:
        raise DefinitionError(problems)
    return out


# --- the card ------------------------------------------------------------------------------------


def scale_choices(q: Question, locale: str) -> list[tuple[str, str]]:
    if q.type == "scale5":
        return [(str(v), f"{v} {t(f'survey.scale5.{v}', locale)}") for v in range(5, 0, -1)]
    labels = {0: t("survey.scale11.low", locale), 10: t("survey.scale11.high", locale)}
    return [(str(v), f"{v} {labels[v]}" if v in labels else str(v)) for v in range(10, -1, -1)]


def input_id(q: Question) -> str:
    return INPUT_PREFIX + q.key


def card_inputs(q: Question, locale: str, number: int, prefill: Any = None) -> list[dict[str, Any]]:
    """The Adaptive Card elements for one question (label, input), with client-side validation."""
    label = f"{number}. {q.label(locale)}"
    if not q.required:
        label += t("survey.card.optional", locale)
    err = t("survey.card.required_error", locale)
    base: dict[str, Any] = {"id": input_id(q), "label": label, "isRequired": q.required, "errorMessage": err}
    # Scales and long single choices are drop-downs: eight five-point questions as radio lists made a
    # card about 2,000 px tall, a long scroll on a phone. A labelled drop-down keeps every choice's full
    # wording, is read out with its label, and opens the phone's own picker.
    if q.type in ("scale5", "scale11"):
        element = {
            "type": "Input.ChoiceSet",
            **base,
            "style": "compact",
            "placeholder": t("survey.card.choose", locale),
            "choices": [{"title": title, "value": v} for v, title in scale_choices(q, locale)],
        }
        if prefill is not None:
            element["value"] = str(int(prefill))
        return [element]
    if q.type in ("single", "multi"):
        compact = q.type == "single" and len(q.choices) >= COMPACT_FROM
        element = {
            "type": "Input.ChoiceSet",
            **base,
            "style": "compact" if compact else "expanded",
            "isMultiSelect": q.type == "multi",
            "choices": [{"title": c.text(locale), "value": c.key} for c in q.choices],
        }
        if compact:
            element["placeholder"] = t("survey.card.choose", locale)
        if q.type == "multi" and q.max_choices:
            element["label"] += t("survey.card.max_choices", locale, n=q.max_choices)
        if prefill is not None:
            element["value"] = ",".join(prefill) if isinstance(prefill, list | tuple) else str(prefill)
        return [element]
    if q.type == "number":
        lo, hi = _fmt_num(q.min), _fmt_num(q.max)
        element = {
            "type": "Input.Number",
            **base,
            "min": q.min,
            "max": q.max,
            "placeholder": t("survey.card.range", locale, min=lo, max=hi, unit=q.unit),
            "errorMessage": t("survey.card.range_error", locale, min=lo, max=hi, unit=q.unit),
        }
        if prefill is not None:
            element["value"] = prefill
        return [element]
    element = {
        "type": "Input.Text",
        **base,
        "isMultiline": True,
        "maxLength": q.max_length,
        "placeholder": t("survey.card.text_placeholder", locale),
    }
    if prefill:
        element["value"] = str(prefill)
    return [element]


def _fmt_num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


# --- checking a submission -------------------------------------------------------------------------

Value = float | str | list[str] | None


def validate_answers(questions: list[Question], data: dict[str, Any]) -> dict[str, Value]:
    """The submitted values, checked against the frozen questions.

    Raises AnswerRejected for anything an honest card cannot send (unknown question, unknown
    choice, out of range, too many choices, too long) and MissingAnswers for empty required ones.
    """
    by_key = {q.key: q for q in questions}
    for name in data:
        if name.startswith(INPUT_PREFIX) and name[len(INPUT_PREFIX) :] not in by_key:
            raise AnswerRejected("unknown_question")
    values: dict[str, Value] = {}
    missing: list[Question] = []
    for q in questions:
        raw = data.get(input_id(q))
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is None or raw == "" or raw == []:
            if q.required:
                missing.append(q)
            values[q.key] = None
            continue
        values[q.key] = _check(q, raw)
    if missing:
        raise MissingAnswers(missing)
    return values


def _check(q: Question, raw: Any) -> Value:
    if q.type in ("scale5", "scale11", "number"):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise AnswerRejected("not_a_number", q.key)
        try:
            number = float(raw)
        except ValueError:
            raise AnswerRejected("not_a_number", q.key) from None
        if not math.isfinite(number):
            raise AnswerRejected("not_a_number", q.key)
        if q.type == "scale5":
            if not number.is_integer() or not 1 <= number <= 5:
                raise AnswerRejected("out_of_range", q.key)
        elif q.type == "scale11":
            if not number.is_integer() or not 0 <= number <= 10:
                raise AnswerRejected("out_of_range", q.key)
        else:
            assert q.min is not None and q.max is not None
            if not q.min <= number <= q.max:
                raise AnswerRejected("out_of_range", q.key)
        return number
    if q.type == "single":
        if not isinstance(raw, str) or raw not in q.choice_keys():
            raise AnswerRejected("unknown_choice", q.key)
        return raw
    if q.type == "multi":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        picked = [str(i).strip() for i in items if str(i).strip()]
        if any(p not in q.choice_keys() for p in picked):
            raise AnswerRejected("unknown_choice", q.key)
        if len(set(picked)) != len(picked):
            raise AnswerRejected("duplicate_choice", q.key)
        if q.max_choices and len(picked) > q.max_choices:
            raise AnswerRejected("too_many_choices", q.key)
        # keep the order of the choices, not of the submission
        return [k for k in q.choice_keys() if k in picked]
    if not isinstance(raw, str):
        raise AnswerRejected("not_text", q.key)
    if len(raw) > q.max_length:
        raise AnswerRejected("too_long", q.key)
    return raw
