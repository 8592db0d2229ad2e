"""Reading the Excel files people send, within bounds.

An .xlsx is a zip: 781 KB can unpack into a million rows (72 s of CPU and 467 MB in openpyxl's full
model) or into gigabytes. So the zip's directory is checked before openpyxl reads anything, one
sheet's rows are streamed (read-only mode), and reading stops at the caller's row cap with an error
that names the cap, never with a silently shorter table. Call this from a worker thread
(``asyncio.to_thread``): even bounded, parsing takes a while and the bot must keep answering others.

    with open_workbook(data) as book:                       # SpreadsheetRefused if it is too big
        for number, values in book.rows(book.active, max_rows=20_000, max_cols=50):
            ...                                             # TooManyRows past row 20,000
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

MB = 1024 * 1024
# Rows past the cap are tolerated only while they are empty (Excel keeps formatted empty rows), and
# only this many: a sheet of a million "empty" rows is refused, not walked.
BLANK_TAIL = 10_000


@dataclass(frozen=True)
class SheetLimits:
    """What a workbook may unpack into. The defaults fit a roster of tens of thousands of rows."""

    unpacked_bytes: int = 64 * MB  # all parts together, as the zip directory declares them
    parts: int = 1_000  # files inside the zip (sheets, styles, images, …)
    shared_strings_bytes: int = 16 * MB  # openpyxl holds every distinct text of the book in memory
    row_bytes: int = 1 * MB  # one row of the sheet's XML (a single row of a million cells is a bomb too)
    merges: int = 10_000  # merged ranges on the sheet that is read


class SpreadsheetRefused(ValueError):
    """The file is not read. ``code``: "unreadable", "too_big", "row_too_big" or "too_many_rows";
    ``params`` fill the message (``limit``)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class TooManyRows(SpreadsheetRefused):
    def __init__(self, limit: int) -> None:
        super().__init__("too_many_rows", limit=limit)
        self.limit = limit


def check_package(data: bytes, limits: SheetLimits) -> None:
    """Refuse a zip that unpacks into too much, from its directory alone (nothing is decompressed).

    Python's zipfile stops every part at the size its directory declares (and then fails its CRC), so a
    part cannot unpack into more than is checked here.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SpreadsheetRefused("unreadable") from None
    if len(infos) > limits.parts:
        raise SpreadsheetRefused("too_big", limit=limits.unpacked_bytes // MB)
    if sum(i.file_size for i in infos) > limits.unpacked_bytes:
        raise SpreadsheetRefused("too_big", limit=limits.unpacked_bytes // MB)
    for info in infos:
        if (
            info.filename.lower().endswith("sharedstrings.xml")
            and info.file_size > limits.shared_strings_bytes
        ):
            raise SpreadsheetRefused("too_big", limit=limits.unpacked_bytes // MB)


def open_workbook(data: bytes, limits: SheetLimits | None = None) -> Workbook:
    """Check the package, then open it read-only. Raises SpreadsheetRefused."""
    limits = limits or SheetLimits()
    check_package(data, limits)
    return Workbook(data, limits)


class Workbook:
    """A workbook opened read-only; its sheets are read row by row with ``rows``."""

    def __init__(self, data: bytes, limits: SheetLimits) -> None:
        from openpyxl import load_workbook

        self.limits = limits
        data = _with_dimensions(data)
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        try:
            self._book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged or non-xlsx file
            self._zip.close()
            raise SpreadsheetRefused("unreadable") from None

    def __enter__(self) -> Workbook:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._book.close()
        self._zip.close()

    @property
    def sheets(self) -> list[Any]:
        return list(self._book.worksheets)

    @property
    def active(self) -> Any:
        return self._book.active or self._book.worksheets[0]

    def rows(
        self, sheet: Any, *, max_rows: int, max_cols: int, merged: bool = False
    ) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, cell values) of ``sheet``, at most ``max_cols`` wide; empty rows are skipped.

        ``merged``: a merged range's value fills every cell of the range (a 部 merged down over its
        課). Raises TooManyRows when a row past ``max_rows`` holds anything, and SpreadsheetRefused
        for a row too big to parse.
        """
        path = getattr(sheet, "_worksheet_path", None)
        try:
            ranges = self._scan(path, want_merges=merged) if path else []
            # The <dimension> a writer declares may be wrong; trusting it would cut rows (or invent them).
            sheet.reset_dimensions()
            fill = _MergeFill(ranges, max_cols)
            values_by_row = sheet.iter_rows(min_row=1, max_col=max_cols, values_only=True)
            yield from _capped(enumerate(values_by_row, start=1), max_rows, fill)
        except SpreadsheetRefused:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            KeyError,
            OSError,
            ValueError,
            TypeError,
            SyntaxError,
            EOFError,
        ):
            raise SpreadsheetRefused("unreadable") from None

    def _scan(self, path: str, *, want_merges: bool) -> list[tuple[int, int, int, int]]:
        """One pass over the sheet's XML before parsing it (regular expressions, a few per MB): no row
        of about ``row_bytes`` or more, and the merged ranges (openpyxl's read-only mode omits them).

        A row start must appear in every stretch of ``row_bytes / 2`` inside the sheet's data, so a
        row bigger than ``row_bytes`` is always found (one between half and all of it may be).
        """
        step = max(self.limits.row_bytes // 2, 4096)
        ranges: list[tuple[int, int, int, int]] = []
        tail = b""  # the end of the previous stretch, so that a tag cut in two is still seen whole
        base = 0  # offset in the part of buffer[0]
        merge_seen = -1
        state = "before"  # "before" the sheet's data, inside it ("data"), or "after"
        try:
            source = self._zip.open(path.lstrip("/"))
        except KeyError:
            raise SpreadsheetRefused("unreadable") from None
        with source:
            while chunk := source.read(step):
                buffer = tail + chunk
                was_in_data = state == "data"
                if state == "before" and _DATA_START.search(buffer):
                    state = "data"
                if state == "data" and _DATA_END.search(buffer):
                    state = "after"
                elif was_in_data and not _ROW.search(buffer):
                    raise SpreadsheetRefused("row_too_big", limit=self.limits.row_bytes // 1024)
                if want_merges and state == "after":
                    for match in _MERGE.finditer(buffer):
                        if base + match.start() <= merge_seen:
                            continue
                        merge_seen = base + match.start()
                        ranges.append(_range(match))
                        if len(ranges) > self.limits.merges:
                            raise SpreadsheetRefused("too_big", limit=self.limits.unpacked_bytes // MB)
                tail = buffer[-_OVERLAP:]
                base += len(buffer) - len(tail)
        return ranges


_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_DATA_START = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData(?=[\s>/])")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension(?=[\s>/])")


def _with_dimensions(data: bytes) -> bytes:
    """The file, with a <dimension> added to each sheet that has none before its data.

    openpyxl's read-only mode looks for a sheet's <dimension> as it opens the book; when there is none
    it parses the whole sheet to find out, before a single row is read, and the row cap cannot stop
    that. Excel always writes one; a hand-made file may not. (The value is not used: ``rows`` resets
    the dimensions and reads to the end of the data.)
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            missing = {
                i.filename
                for i in infos
                if _SHEET_PART.fullmatch(i.filename) and not _has_dimension(archive, i)
            }
            if not missing:
                return data
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
                for info in infos:
                    if info.filename not in missing:
                        copy.writestr(info, archive.read(info))
                        continue
                    with (
                        archive.open(info) as source,
                        copy.open(info.filename, "w", force_zip64=True) as target,
                    ):
                        head = b""
                        while chunk := source.read(MB):
                            head += chunk
                            match = _DATA_START.search(head)
                            if match is not None:
                                prefix = match.group(1)
                                head = (
                                    head[: match.start()]
                                    + b"<"
                                    + prefix
                                    + b'dimension ref="A1"/>'
                                    + head[match.start() :]
                                )
                                break
                            if len(head) > 4 * MB:
                                break  # no data where data belongs: copied unchanged, openpyxl decides
                        target.write(head)
                        while chunk := source.read(MB):
                            target.write(chunk)
            return out.getvalue()
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        return data  # openpyxl reports it as unreadable


def _has_dimension(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the sheet declares its dimension before its data (only the start of the part is read)."""
    head = b""
    with archive.open(info) as source:
        while chunk := source.read(64 * 1024):
            head += chunk
            data_start = _DATA_START.search(head)
            end = data_start.start() if data_start else len(head)
            if _DIMENSION.search(head, 0, end):
                return True
            if data_start or len(head) > 4 * MB:
                return False
    return False


_OVERLAP = 512  # longer than any tag the patterns look for
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s>/])")
_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>|<(?:[A-Za-z_][\w.-]*:)?sheetData\s*/>")
_MERGE = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]{0,200}?ref="([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?"'
)


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


def _range(match: re.Match[bytes]) -> tuple[int, int, int, int]:
    c1, r1 = _column_number(match.group(1)), int(match.group(2))
    if match.group(3):
        c2, r2 = _column_number(match.group(3)), int(match.group(4))
    else:
        c2, r2 = c1, r1
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


class _MergeFill:
    """Gives every cell of a merged range the value of its top-left cell, row by row (ranges are
    known from the scan; values are taken as the rows go by)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]], max_cols: int) -> None:
        self._pending = sorted(r for r in ranges if r[1] <= max_cols)
        self._max_cols = max_cols
        self._active: list[tuple[int, int, int, int, Any]] = []

    def apply(self, number: int, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self._pending and not self._active:
            return values
        while self._pending and self._pending[0][0] <= number:
            r1, c1, r2, c2 = self._pending.pop(0)
            if r2 >= number:
                top_left = values[c1 - 1] if r1 == number and c1 - 1 < len(values) else None
                self._active.append((r1, c1, r2, c2, top_left))
        self._active = [a for a in self._active if a[2] >= number]
        if not self._active:
            return values
        out = list(values)
        for _r1, c1, _r2, c2, value in self._active:
            for col in range(c1, min(c2, self._max_cols) + 1):
                if col - 1 < len(out):
                    out[col - 1] = value
        return tuple(out)


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _capped(
    numbered: Iterable[tuple[int, Sequence[Any]]], max_rows: int, fill: _MergeFill | None = None
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for number, values in numbered:
        row = tuple(values)
        if number > max_rows:
            if not _blank(row) or number > max_rows + BLANK_TAIL:
                raise TooManyRows(max_rows)
            continue
        if fill is not None:
            row = fill.apply(number, row)
        if not _blank(row):
            yield number, row


def capped_rows(
    numbered: Iterable[tuple[int, Sequence[Any]]], max_rows: int
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The same cap for rows from elsewhere (a CSV reader): non-empty rows up to ``max_rows``, and
    TooManyRows for anything after it."""
    return _capped(numbered, max_rows)
