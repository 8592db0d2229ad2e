"""Knowledge-base files: read and write CSV and XLSX.

    result = read_kb("faq.xlsx")
    if result.errors:
        for error in result.errors: print(error.message)   # polite Japanese, with row and column
    write_kb("faq.csv", result.rows)

Columns: ``id``, ``question``, ``answer`` are required; ``alternates`` (別の聞き方: other ways of asking, one
per line in the cell; ``|`` separates them too), ``tags`` (several values separated by ``|``) and ``url`` are
optional.  Japanese column names are accepted too (質問, 回答, 別の聞き方, 言い換え, タグ, ...).  Phrasings
the bot learned and the DX division approved are in ``alternates``, so an export carries them and a city
can bring its own through an import.
CSV may be UTF-8 (with or without BOM) or CP932 (Shift_JIS, as Excel saves it); the encoding is detected.
Exported cells that start with ``= + - @`` get a leading apostrophe so that Excel shows them as text
instead of running them as formulas; import removes that apostrophe again.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogs.kit.i18n import t
from dialogs.kit.spreadsheets import SheetLimits, SpreadsheetRefused, TooManyRows, capped_rows, open_workbook
from dialogs.kit.textfiles import decode_text

from .search import Entry

COLUMNS = ("id", "question", "answer", "alternates", "tags", "url")
REQUIRED = ("id", "question", "answer")
MULTI_SEPARATOR = "|"
ALTERNATES_SEPARATOR = "\n"  # one phrasing per line of the cell
# Generous: a city's FAQ export has long answers; only the id and the link have hard limits (DB columns).
MAX_LENGTH = {
    "id": 100,
    "question": 2_000,
    "answer": 50_000,
    "alternates": 10_000,
    "tags": 2_000,
    "url": 10_000,
}
MAX_URL = 1_000
MAX_ROWS = 20_000  # rows of a file (a city's FAQ has hundreds of entries); past it the file is refused
MAX_COLUMNS = 50
XLSX_LIMITS = SheetLimits(unpacked_bytes=128 * 1024 * 1024, shared_strings_bytes=64 * 1024 * 1024)

# Accepted spellings of each column name (compared after NFKC, lower case, without spaces).
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "番号", "管理番号", "no", "項番", "識別子"),
    "question": ("question", "質問", "質問文", "問い", "問", "設問", "q"),
    "answer": ("answer", "回答", "回答文", "答え", "答", "a"),
    "alternates": (
        "alternates",
        "alternate",
        "phrasings",
        "別の聞き方",
        "言い換え",
        "言い換え質問",
        "別の質問",
        "類似質問",
        "別表現",
        "同義質問",
    ),
    "tags": ("tags", "tag", "タグ", "分類", "カテゴリ", "カテゴリー", "キーワード"),
    "url": ("url", "リンク", "参考url", "関連url", "link"),
}
_NAME_TO_COLUMN = {alias: col for col, aliases in _ALIASES.items() for alias in aliases}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_URL = re.compile(r"https?://[^\s|,、，「」<>\"']+")


@dataclass
class KbRow:
    """One knowledge-base entry as it appears in a file."""

    id: str
    question: str
    answer: str
    alternates: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    url: str = ""
    row: int = 0  # the spreadsheet row it came from (1 is the header); 0 when not read from a file

    def to_entry(self) -> Entry:
        return Entry(self.id, self.question, self.answer, tuple(self.alternates), tuple(self.tags))


@dataclass
class KbError:
    """A problem in one row (or in the whole file when ``row`` is 0 or 1)."""

    row: int
    column: str | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, locale: str = "ja") -> str:
        params = dict(self.params)
        if "label" in params:
            params["label"] = t(params["label"], locale)
        return t(self.key, locale, **params)

    @property
    def message(self) -> str:
        """The message in Japanese."""
        return self.text("ja")


@dataclass
class KbReadResult:
    rows: list[KbRow]
    errors: list[KbError]
    warnings: list[KbError] = field(default_factory=list)  # imported, but something was left out
    columns: frozenset[str] = frozenset()  # the known columns the file has

    @property
    def has_alternates(self) -> bool:
        """False for a file without the 別の聞き方 column: an import keeps what entries have."""
        return "alternates" in self.columns

    @property
    def ok(self) -> bool:
        return not self.errors


def _column_for(name: Any) -> str | None:
    if name is None:
        return None
    key = unicodedata.normalize("NFKC", str(name)).strip().lower().replace(" ", "").replace("_", "")
    return _NAME_TO_COLUMN.get(key)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 12 as 12.0
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) >= 2 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]  # our own formula escape
    return text


def _split_multi(text: str) -> list[str]:
    return [part.strip() for part in text.split(MULTI_SEPARATOR) if part.strip()]


def _split_lines(text: str) -> list[str]:
    """Phrasings: one per line (as Excel shows them, Alt+Enter); ``|`` as in older files."""
    return [" ".join(part.split()) for line in text.split("\n") for part in _split_multi(line)]


def _parse_table(table: Iterable[tuple[int, Sequence[Any]]]) -> KbReadResult:
    """Rows as (row number in the file, cells); the first non-empty row is the header."""
    errors: list[KbError] = []
    rows: list[KbRow] = []
    iterator = iter(table)
    header: Sequence[Any] | None = None
    for _, raw in iterator:
        if any(_cell(v) for v in raw):
            header = raw
            break
    if header is None:
        return KbReadResult([], [KbError(0, None, "qa.kbfile.empty")])
    positions: dict[str, int] = {}
    shown: dict[str, str] = {}  # the column names as the user wrote them, for messages
    for i, name in enumerate(header):
        col = _column_for(name)
        if col is None:
            continue  # unknown columns (memo, owner, ...) are ignored
        if col in positions:
            errors.append(KbError(1, col, "qa.kbfile.duplicate_column", {"column": col}))
            continue
        positions[col] = i
        shown[col] = _cell(name)
    for col in REQUIRED:
        if col not in positions:
            errors.append(
                KbError(
                    1, col, "qa.kbfile.missing_column", {"column": col, "label": f"qa.kbfile.label.{col}"}
                )
            )
    if errors:
        return KbReadResult([], errors)

    first_row_of: dict[str, int] = {}
    warnings: list[KbError] = []
    for rowno, raw in iterator:
        values = {col: _cell(raw[i]) if i < len(raw) else "" for col, i in positions.items()}
        if not any(values.values()):
            continue  # blank lines between blocks are common in hand-made sheets
        row_errors: list[KbError] = []
        for col in REQUIRED:
            if not values[col]:
                row_errors.append(
                    KbError(
                        rowno,
                        col,
                        "qa.kbfile.empty_cell",
                        {"row": rowno, "column": shown[col], "label": f"qa.kbfile.label.{col}"},
                    )
                )
        for col, value in values.items():
            if len(value) > MAX_LENGTH[col]:
                row_errors.append(
                    KbError(
                        rowno,
                        col,
                        "qa.kbfile.too_long",
                        {"row": rowno, "column": shown[col], "length": len(value), "limit": MAX_LENGTH[col]},
                    )
                )
        entry_id = values["id"]
        if entry_id:
            if "\n" in entry_id or MULTI_SEPARATOR in entry_id:
                row_errors.append(
                    KbError(
                        rowno,
                        "id",
                        "qa.kbfile.bad_id",
                        {"row": rowno, "column": shown["id"], "value": entry_id},
                    )
                )
            elif entry_id in first_row_of:
                row_errors.append(
                    KbError(
                        rowno,
                        "id",
                        "qa.kbfile.duplicate_id",
                        {
                            "row": rowno,
                            "column": shown["id"],
                            "value": entry_id,
                            "first_row": first_row_of[entry_id],
                        },
                    )
                )
            else:
                first_row_of[entry_id] = rowno
        # A link cell may hold several links or text around one: keep the first http(s) link. One odd
        # link cell must not stop a 1,800-row import, so a cell without a usable link is a warning.
        cell = values.get("url", "")
        found = _URL.search(cell) if cell else None
        url = found.group(0) if found and len(found.group(0)) <= MAX_URL else ""
        if cell and not url:
            warnings.append(
                KbError(rowno, "url", "qa.kbfile.url_dropped", {"row": rowno, "column": shown["url"]})
            )
        if row_errors:
            errors.extend(row_errors)
            continue
        rows.append(
            KbRow(
                id=entry_id,
                question=values["question"],
                answer=values["answer"],
                alternates=_split_lines(values.get("alternates", "")),
                tags=_split_multi(values.get("tags", "")),
                url=url,
                row=rowno,
            )
        )
    return KbReadResult(rows, errors, warnings, frozenset(positions))


def read_kb_csv(data: bytes) -> KbReadResult:
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        text = None
    if text is None:
        return KbReadResult([], [KbError(0, None, "qa.kbfile.unreadable")])
    numbered = enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    try:
        return _parse_table(capped_rows(numbered, MAX_ROWS))
    except csv.Error:
        return KbReadResult([], [KbError(0, None, "qa.kbfile.unreadable")])
    except TooManyRows:
        return KbReadResult([], [KbError(0, None, "qa.kbfile.too_many_rows", {"limit": MAX_ROWS})])


def read_kb_xlsx(data: bytes) -> KbReadResult:
    """The first sheet, streamed and bounded (dialogs/kit/spreadsheets.py)."""
    try:
        with open_workbook(data, XLSX_LIMITS) as book:
            return _parse_table(book.rows(book.sheets[0], max_rows=MAX_ROWS, max_cols=MAX_COLUMNS))
    except TooManyRows:
        return KbReadResult([], [KbError(0, None, "qa.kbfile.too_many_rows", {"limit": MAX_ROWS})])
    except SpreadsheetRefused as exc:
        key = "qa.kbfile.unreadable" if exc.code == "unreadable" else "qa.kbfile.too_big"
        return KbReadResult([], [KbError(0, None, key)])


def read_kb(source: str | Path | bytes, filename: str | None = None) -> KbReadResult:
    """Read a knowledge-base file; the format follows the file name's extension (.csv or .xlsx)."""
    if isinstance(source, bytes):
        data, name = source, filename or ""
    else:
        path = Path(source)
        data, name = path.read_bytes(), filename or path.name
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx" or (not suffix and data[:2] == b"PK"):
        return read_kb_xlsx(data)
    if suffix in (".csv", ".txt", ""):
        return read_kb_csv(data)
    return KbReadResult([], [KbError(0, None, "qa.kbfile.unsupported")])


def _escape(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _record(row: KbRow) -> list[str]:
    return [
        _escape(v)
        for v in (
            row.id,
            row.question,
            row.answer,
            ALTERNATES_SEPARATOR.join(row.alternates),
            MULTI_SEPARATOR.join(row.tags),
            row.url,
        )
    ]


def write_kb_csv(rows: Iterable[KbRow], *, bom: bool = True) -> bytes:
    """CSV in UTF-8; with a BOM by default so that Excel opens it without garbling Japanese."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_record(row))
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


def write_kb_xlsx(rows: Iterable[KbRow]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = "FAQ"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_record(row))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.data_type = "s"  # never a formula, whatever the text
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEF", (18, 40, 70, 40, 20, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_kb(path: str | Path, rows: Iterable[KbRow]) -> None:
    """Write ``rows`` to ``path``; .xlsx gives an Excel workbook, anything else CSV."""
    p = Path(path)
    data = write_kb_xlsx(rows) if p.suffix.lower() == ".xlsx" else write_kb_csv(rows)
    p.write_bytes(data)
