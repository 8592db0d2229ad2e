"""Tables as data: the page shows them and the CSV link beside each one downloads the same rows.

    table = Table("sections", t("dashboard.overview.sections"), [Column(..., "text"), Column(..., "pct")])
    table.add(["総務部", 0.5])
    to_csv(table, t)       # UTF-8 with BOM (Excel opens it in Japanese), CRLF, formula-safe cells

A cell is text, a number, a share (0–1), None (nothing to show) or ``SUPPRESSED`` (a group too
small to show, under the survey's anonymity threshold).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

SUPPRESSED = object()
KINDS = ("text", "num", "pct", "mean")


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text | num | pct (a 0–1 share) | mean (one decimal)
    csv_label: str | None = None  # a label for the CSV header when it differs


@dataclass
class Table:
    key: str  # the CSV name: /dashboard/csv/<page>/<key>.csv
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    row_classes: list[str] = field(default_factory=list)  # "alert" marks a row that needs attention
    note: str = ""  # shown under the table (e.g. why some cells are blank)
    empty: str = ""  # shown instead of an empty table

    def add(self, row: Sequence[Any], css: str = "") -> None:
        self.rows.append(list(row))
        self.row_classes.append(css)


def cell_text(value: Any, kind: str, suppressed_text: str) -> str:
    """How a cell reads on the page."""
    if value is SUPPRESSED:
        return suppressed_text
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if kind == "pct":
        return f"{value * 100:.0f}%"
    if kind == "mean":
        return f"{value:.2f}"
    if kind == "num" and isinstance(value, float):
        return f"{value:,.1f}"
    if kind == "num":
        return f"{value:,}"
    return str(value)


def _csv_value(value: Any, kind: str, suppressed_text: str) -> Any:
    if value is SUPPRESSED:
        return suppressed_text
    if value is None:
        return ""
    if isinstance(value, str):
        # A spreadsheet must not read a section name or a question as a formula.
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    if kind == "pct":
        return f"{value * 100:.1f}"
    if kind == "mean":
        return f"{value:.2f}"
    return value


def to_csv(table: Table, t: Callable[..., str]) -> bytes:
    suppressed_text = t("dashboard.suppressed_short")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            (c.csv_label or c.label) + (t("dashboard.csv.pct_suffix") if c.kind == "pct" else "")
            for c in table.columns
        ]
    )
    for row in table.rows:
        writer.writerow(
            [_csv_value(v, c.kind, suppressed_text) for v, c in zip(row, table.columns, strict=False)]
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
