"""Custom surveys from a file (YAML or XLSX) or from the builder card in Teams.

YAML:
    title: 庁内ペーパーレス調査
    anonymous: true
    threshold: 5
    questions:
      - {key: q1, type: scale5, text: 会議資料の電子化は進んでいる}
      - {key: q2, type: multi, text: 使っている機能, max_choices: 2, choices: [共同編集, チャット, 予定表]}
      - {key: q3, type: number, text: 週の印刷枚数, min: 0, max: 500, unit: 枚}

XLSX: a sheet with a header row 「キー, 種類, 質問, 必須, 選択肢, 上限, 最小, 最大, 単位」 (English
headers key, type, text, required, choices, max_choices, min, max, unit also work); 選択肢 are
separated by 「、」 or commas. Title/anonymity come from a sheet 「設定」 (項目 | 値) or the file name.
Types may be written in Japanese: 5段階, 0〜10, 単一選択, 複数選択, 数値, 自由記述.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from dialogs.kit.i18n import t
from dialogs.kit.spreadsheets import SheetLimits, SpreadsheetRefused, TooManyRows, Workbook, open_workbook
from dialogs.survey.questions import MAX_QUESTIONS, DefinitionError, parse_questions

TYPE_ALIASES = {
    "5段階": "scale5",
    "５段階": "scale5",
    "scale5": "scale5",
    "0〜10": "scale11",
    "0-10": "scale11",
    "0～10": "scale11",
    "11段階": "scale11",
    "scale11": "scale11",
    "単一選択": "single",
    "single": "single",
    "複数選択": "multi",
    "multi": "multi",
    "数値": "number",
    "number": "number",
    "自由記述": "text",
    "text": "text",
}
HEADERS = {
    "キー": "key",
    "key": "key",
    "種類": "type",
    "type": "type",
    "質問": "text",
    "質問文": "text",
    "text": "text",
    "必須": "required",
    "required": "required",
    "選択肢": "choices",
    "choices": "choices",
    "上限": "max_choices",
    "選択上限": "max_choices",
    "max_choices": "max_choices",
    "最小": "min",
    "最小値": "min",
    "min": "min",
    "最大": "max",
    "最大値": "max",
    "max": "max",
    "単位": "unit",
    "unit": "unit",
}
# A definition is a few dozen rows: reading stops well before a sheet could cost anything.
QUESTION_ROWS = 500
QUESTION_COLUMNS = 30
SETTINGS_ROWS = 100
XLSX_LIMITS = SheetLimits(unpacked_bytes=16 * 1024 * 1024, shared_strings_bytes=4 * 1024 * 1024)
TRUE_WORDS = {"true", "yes", "1", "はい", "必須", "○", "〇", "y"}


@dataclass
class Definition:
    title: str
    anonymous: bool
    threshold: int | None
    questions: list[dict[str, Any]]
    description: str = ""


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


def _split_choices(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in re.split(r"[、,，\n]", str(value)) if p.strip()]


def normalise_question(raw: dict[str, Any], index: int) -> dict[str, Any]:
    q = dict(raw)
    q["key"] = str(q.get("key") or f"q{index + 1}").strip()
    q["type"] = TYPE_ALIASES.get(str(q.get("type") or "").strip(), str(q.get("type") or "").strip())
    if "required" in q:
        q["required"] = _bool(q["required"], True)
    if q.get("choices") is not None and not (
        isinstance(q["choices"], list) and q["choices"] and isinstance(q["choices"][0], dict)
    ):
        q["choices"] = [
            {"key": f"c{j + 1}", "label": label} for j, label in enumerate(_split_choices(q["choices"]))
        ]
    for name in ("max_choices", "min", "max"):
        if q.get(name) in ("", None):
            q.pop(name, None)
    return q


def _finish(
    title: str, anonymous: bool, threshold: Any, questions: list[dict[str, Any]], description: str = ""
) -> Definition:
    normalised = [normalise_question(q, i) for i, q in enumerate(questions)]
    parsed = parse_questions(normalised)  # raises DefinitionError with every problem
    thr = None
    if threshold not in (None, ""):
        try:
            thr = int(threshold)
        except (TypeError, ValueError):
            raise DefinitionError(["threshold(しきい値)は数値にしてください"]) from None
        if not 3 <= thr <= 25:
            raise DefinitionError(["threshold(しきい値)は3〜25にしてください"])
    if not title.strip():
        raise DefinitionError(["title(タイトル)がありません"])
    return Definition(title.strip(), anonymous, thr, [q.to_dict() for q in parsed], description)


def from_yaml(data: bytes | str) -> Definition:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise DefinitionError([f"YAMLとして読み取れません: {exc}"]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("questions"), list):
        raise DefinitionError(["YAMLには title と questions(質問の一覧)が必要です"])
    if len(doc["questions"]) > MAX_QUESTIONS:  # refused before each one is copied and checked
        raise DefinitionError([f"質問は{MAX_QUESTIONS}問までにしてください"])
    return _finish(
        str(doc.get("title") or ""),
        _bool(doc.get("anonymous"), True),
        doc.get("threshold"),
        [q if isinstance(q, dict) else {} for q in doc["questions"]],
        str(doc.get("description") or ""),
    )


def from_xlsx(data: bytes, fallback_title: str = "") -> Definition:
    """Bounded like every spreadsheet people send (dialogs/kit/spreadsheets.py); call it off the event loop."""
    try:
        with open_workbook(data, XLSX_LIMITS) as book:
            return _from_book(book, fallback_title)
    except TooManyRows as exc:
        raise DefinitionError([t("survey.file.too_many_rows", "ja", limit=exc.limit)]) from None
    except SpreadsheetRefused as exc:
        if exc.code == "unreadable":
            raise DefinitionError(["Excelファイルとして読み取れません"]) from None
        raise DefinitionError([t("survey.file.xlsx_too_big", "ja")]) from None


def _from_book(book: Workbook, fallback_title: str) -> Definition:
    settings: dict[str, Any] = {}
    question_sheet = None
    for ws in book.sheets:
        if ws.title in ("設定", "settings"):
            for _, row in book.rows(ws, max_rows=SETTINGS_ROWS, max_cols=2):
                if row and row[0] is not None:
                    settings[str(row[0]).strip()] = row[1] if len(row) > 1 else None
        elif question_sheet is None:
            question_sheet = ws
    if question_sheet is None:
        raise DefinitionError(["質問のシートがありません"])
    rows = book.rows(question_sheet, max_rows=QUESTION_ROWS, max_cols=QUESTION_COLUMNS)
    first = next(rows, None)
    if first is None:
        raise DefinitionError(["質問のシートが空です"])
    titles = list(first[1])
    while titles and titles[-1] is None:
        titles.pop()  # the sheet is read a fixed number of columns wide
    header = [HEADERS.get(str(h).strip(), None) if h is not None else None for h in titles]
    unknown = [str(h) for h, mapped in zip(titles, header, strict=False) if h is not None and mapped is None]
    if unknown:
        raise DefinitionError(
            [
                f"1行目: 知らない列 {', '.join(unknown)}(使える列: キー, 種類, 質問, 必須, 選択肢, 上限, 最小, 最大, 単位)"
            ]
        )
    questions: list[dict[str, Any]] = []
    for _, row in rows:
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        if len(questions) >= MAX_QUESTIONS:
            raise DefinitionError([f"質問は{MAX_QUESTIONS}問までにしてください"])
        questions.append({name: value for name, value in zip(header, row, strict=False) if name})

    def setting(*names: str) -> Any:
        for n in names:
            if n in settings:
                return settings[n]
        return None

    return _finish(
        str(setting("タイトル", "title") or fallback_title),
        _bool(setting("無記名", "anonymous"), True),
        setting("しきい値", "threshold"),
        questions,
        str(setting("説明", "description") or ""),
    )


def from_file(name: str, data: bytes) -> Definition:
    lower = name.lower()
    if lower.endswith((".yaml", ".yml")):
        return from_yaml(data)
    if lower.endswith(".xlsx"):
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return from_xlsx(data, fallback_title=stem)
    raise DefinitionError(["YAML(.yaml / .yml)か Excel(.xlsx)のファイルを使ってください"])


def from_builder(data: dict[str, Any], rows: int) -> Definition:
    """The builder card's inputs → a definition (rows with an empty question text are skipped)."""
    questions = []
    for i in range(1, rows + 1):
        text = str(data.get(f"q{i}_text") or "").strip()
        if not text:
            continue
        q: dict[str, Any] = {
            "key": f"q{i}",
            "type": str(data.get(f"q{i}_type") or "scale5"),
            "text": text,
            "required": _bool(data.get(f"q{i}_required"), True),
        }
        options = str(data.get(f"q{i}_options") or "").strip()
        if q["type"] in ("single", "multi"):
            q["choices"] = options
            m = re.search(r"(?:上限|max)\s*[:：=]?\s*(\d+)", options)
            if m:
                q["choices"] = options[: m.start()].strip(" 、,")
                q["max_choices"] = int(m.group(1))
        elif q["type"] == "number":
            m = re.match(r"\s*(-?\d+(?:\.\d+)?)\s*[-〜~～]\s*(-?\d+(?:\.\d+)?)\s*(.*)", options)
            if m:
                q["min"], q["max"], q["unit"] = float(m.group(1)), float(m.group(2)), m.group(3).strip()
        questions.append(q)
    return _finish(
        str(data.get("title") or ""),
        _bool(data.get("anonymous"), True),
        data.get("threshold") or None,
        questions,
    )
