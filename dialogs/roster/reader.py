"""Reading a roster file (CSV or XLSX, as city halls export them) into checked rows.

    parsed = read_roster(data, "名簿.xlsx")
    parsed.rows       # RosterRow(row=3, department="総務部", section="総務課", role=LEADER, …)
    parsed.problems   # Problem(row=5, column="email", code="email_format", params={...})

Nothing here touches the database: checks that need the current roster live in ``plan``.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dialogs.kit.spreadsheets import (
    SheetLimits,
    SpreadsheetRefused,
    TooManyRows,
    Workbook,
    capped_rows,
    open_workbook,
)
from dialogs.kit.textfiles import decode_text
from dialogs.roster import normalize as norm
from storage.models.roster import PromoterRole

MAX_ROWS = 20_000  # people in one roster file (a prefecture has a few thousand)
MAX_SHEET_ROWS = MAX_ROWS + 1_000  # rows of the sheet, with titles and blank lines; past it: refused
MAX_COLUMNS = 100
# A roster of 20,000 rows unpacks into about 8 MB of sheet XML; the rest is room for styles and a logo.
XLSX_LIMITS = SheetLimits(unpacked_bytes=32 * 1024 * 1024)
_HEADER_SCAN = 10  # a title row or two above the header is common in city Excel files


@dataclass(frozen=True)
class Problem:
    """One thing to fix: where (row in the file, column) and what (a catalog code and its values)."""

    code: str
    row: int | None = None
    column: str | None = None  # a field name ("email"); rendered as 「メールアドレス」(E列)
    letter: str | None = None  # the spreadsheet column letter, when the file has one
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RosterRow:
    row: int
    department: str
    section: str
    role: PromoterRole | None  # None: the section is listed with no promoter (a vacancy)
    name: str
    email: str


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    data_rows: int = 0  # non-blank rows under the header


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def kind_of(data: bytes, file_name: str) -> str:
    """ "xlsx", "csv", "xls" (old binary Excel, which we cannot read) or "unknown"."""
    lower = file_name.lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    if lower.endswith((".csv", ".txt", ".tsv")) or not lower.endswith((".xlsx", ".xlsm", ".xls")):
        return "csv"
    return "unknown"


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered = ((reader.line_num, record) for record in reader)
    for number, values in capped_rows(numbered, MAX_SHEET_ROWS):
        yield number, list(values)


def _xlsx_rows(book: Workbook) -> Iterator[tuple[int, list[str]]]:
    # A 部 merged down over its sections is common in hand-made files: its value fills the range.
    for number, values in book.rows(book.active, max_rows=MAX_SHEET_ROWS, max_cols=MAX_COLUMNS, merged=True):
        yield number, ["" if v is None else _cell_text(v) for v in values]


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_roster(data: bytes, file_name: str) -> ParsedRoster:
    """Parse and check a roster file. Problems are collected, never raised.

    Bounded: rows are streamed and reading stops at the row cap; an Excel file's zip is checked
    before it is parsed. CPU-heavy for a big file: call it in a worker thread.
    """
    parsed = ParsedRoster()
    kind = kind_of(data, file_name)
    if not data.strip():
        parsed.problems.append(Problem("empty_file"))
        return parsed
    if kind == "xls":
        parsed.problems.append(Problem("xls_format"))
        return parsed
    try:
        if kind == "xlsx":
            with open_workbook(data, XLSX_LIMITS) as book:
                _check_records(parsed, _xlsx_rows(book), letters=True)
            return parsed
        try:
            text = decode_text(data)
        except UnicodeDecodeError:  # a BOM that promises UTF-8 or UTF-16, and bytes that are not
            text = None
        if text is None:
            parsed.problems.append(Problem("encoding"))
            return parsed
        _check_records(parsed, _csv_rows(text), letters=False)
    except TooManyRows:
        _refuse(parsed, Problem("too_many_rows", params={"limit": MAX_ROWS}))
    except SpreadsheetRefused as exc:
        code = {"too_big": "xlsx_too_big", "row_too_big": "xlsx_row_too_big"}.get(exc.code, "unreadable_xlsx")
        _refuse(parsed, Problem(code, params=exc.params))
    except csv.Error as exc:
        _refuse(parsed, Problem("unreadable_csv", params={"detail": str(exc)}))
    return parsed


def _refuse(parsed: ParsedRoster, problem: Problem) -> None:
    """The whole file is refused: what was read of it must not be used."""
    parsed.rows.clear()
    parsed.warnings.clear()
    parsed.problems[:] = [problem]


def _find_header(
    records: list[tuple[int, list[str]]],
) -> tuple[int, dict[int, str], list[tuple[int, str]]] | None:
    """(index of the header record, column -> field, unknown columns) for the first plausible header."""
    for index, (_, values) in enumerate(records):
        fields: dict[int, str] = {}
        unknown: list[tuple[int, str]] = []
        for col, raw in enumerate(values):
            found = norm.header_field(norm.unescape_cell(norm.nfkc(raw)))
            if found:
                fields.setdefault(col, found)
            elif found is None:
                unknown.append((col, norm.nfkc(raw)))
        if len(set(fields.values())) >= 3:
            return index, fields, unknown
    return None


def _check_records(parsed: ParsedRoster, all_records: Iterable[tuple[int, list[str]]], letters: bool) -> None:
    """Check records as they stream in: only the first few are held, to find the header."""
    stream = iter(all_records)
    records = list(itertools.islice(stream, _HEADER_SCAN))
    found = _find_header(records)
    if found is None:
        parsed.problems.append(Problem("no_header"))
        return
    header_index, fields, unknown = found
    header_row = records[header_index][0]

    def letter(col: int) -> str | None:
        return column_letter(col) if letters else None

    seen_fields: dict[str, int] = {}
    for col, name in fields.items():
        if name in seen_fields:
            parsed.problems.append(
                Problem(
                    "duplicate_column", header_row, name, letter(col), {"other": letter(seen_fields[name])}
                )
            )
        else:
            seen_fields[name] = col
    for col, title in unknown:
        parsed.problems.append(Problem("unknown_column", header_row, None, letter(col), {"title": title}))
    for name in norm.FIELDS:
        if name not in seen_fields:
            parsed.problems.append(Problem("missing_column", header_row, name))
    if len(seen_fields) < len(norm.FIELDS):
        return

    col_of = seen_fields
    leaders: dict[tuple[str, str], int] = {}
    emails: dict[str, int] = {}
    for number, values in itertools.chain(records[header_index + 1 :], stream):
        cells = {
            name: norm.unescape_cell(norm.nfkc(values[col])) if col < len(values) else ""
            for name, col in col_of.items()
        }
        if not any(cells.values()):
            continue
        parsed.data_rows += 1
        if parsed.data_rows > MAX_ROWS:
            raise TooManyRows(MAX_ROWS)
        row_problems: list[Problem] = []

        def problem(code: str, name: str, **params: Any) -> None:
            row_problems.append(Problem(code, number, name, letter(col_of[name]), params))  # noqa: B023

        department = norm.org_name(cells["department"], clean=True)
        section = norm.org_name(cells["section"], clean=True)
        if not department:
            problem("required", "department")
        if not section:
            problem("required", "section")
        vacancy = not (cells["role"] or cells["name"] or cells["email"])
        role: PromoterRole | None = None
        name = cells["name"]  # already NFKC with single spaces
        address = norm.email(cells["email"])
        if not vacancy:
            if not cells["role"]:
                problem("required", "role")
            else:
                role = norm.parse_role(cells["role"])
                if role is None:
                    problem("role_unknown", "role", value=cells["role"])
            if not name:
                problem("required", "name")
            elif len(name) > 100:
                problem("too_long", "name", limit=100)
            if not address:
                problem("required", "email")
            elif not norm.is_email(address):
                problem("email_format", "email", value=cells["email"])
            elif address in emails:
                problem("duplicate_person", "email", first_row=emails[address], value=address)
            else:
                emails[address] = number
        if len(department) > 100:
            problem("too_long", "department", limit=100)
        if len(section) > 100:
            problem("too_long", "section", limit=100)
        if role is PromoterRole.LEADER and department and section:
            key = (department, section)
            if key in leaders:
                problem("two_leaders", "role", first_row=leaders[key], section=f"{department} {section}")
            else:
                leaders[key] = number
        if row_problems:
            parsed.problems.extend(row_problems)
            continue
        parsed.rows.append(RosterRow(number, department, section, role, name, address))
    if parsed.data_rows == 0 and not parsed.problems:
        parsed.problems.append(Problem("no_rows", header_row))
    _warn_sections_without_leader(parsed)


def _warn_sections_without_leader(parsed: ParsedRoster) -> None:
    first_row: dict[tuple[str, str], int] = {}
    has_leader: set[tuple[str, str]] = set()
    for r in parsed.rows:
        key = (r.department, r.section)
        first_row.setdefault(key, r.row)
        if r.role is PromoterRole.LEADER:
            has_leader.add(key)
    for key, row in first_row.items():
        if key not in has_leader:
            parsed.warnings.append(Problem("no_leader", row, params={"section": f"{key[0]} {key[1]}"}))
