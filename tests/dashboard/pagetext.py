"""Reading a dashboard page the way a person does: its tables (caption, header, rows), CSV links and
charts, parsed from the HTML with the standard library.

    page = Page.parse(html)
    page.table("推進員に連絡できない課").rows[0]   # ["総務部", "契約検査課", …]
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlTable:
    caption: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_classes: list[str] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [r[i] for r in self.rows]


@dataclass
class Page:
    title: str = ""
    lang: str = ""
    h1: str = ""
    tables: list[HtmlTable] = field(default_factory=list)
    csv_links: list[str] = field(default_factory=list)
    charts: int = 0
    chart_titles: list[str] = field(default_factory=list)
    nav: list[str] = field(default_factory=list)
    attributes: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, name, value)
    text: str = ""

    @classmethod
    def parse(cls, html: str) -> Page:
        parser = _Parser()
        parser.feed(html)
        parser.close()
        return parser.page

    def table(self, caption: str) -> HtmlTable:
        found = [t for t in self.tables if t.caption.startswith(caption)]
        assert found, f"no table {caption!r}; tables: {[t.caption for t in self.tables]}"
        return found[0]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.table: HtmlTable | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.in_thead = False
        self.capture: str | None = None  # "caption" | "title" | "h1" | "svgtitle" | "nav"
        self.buffer: list[str] = []
        self.texts: list[str] = []
        self.in_svg = 0
        self.in_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for k, v in a.items():
            self.page.attributes.append((tag, k, v))
        if tag == "html":
            self.page.lang = a.get("lang", "")
        elif tag == "table":
            self.table = HtmlTable()
        elif tag == "thead":
            self.in_thead = True
        elif tag == "tr" and self.table is not None:
            self.row = []
            if not self.in_thead:
                self.table.row_classes.append(a.get("class", ""))
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "caption":
            self._start("caption")
        elif tag == "title" and not self.in_svg:
            self._start("title")
        elif tag == "title" and self.in_svg:
            self._start("svgtitle")
        elif tag == "h1":
            self._start("h1")
        elif tag == "svg":
            self.in_svg += 1
            if "chart" in a.get("class", ""):
                self.page.charts += 1
        elif tag == "nav":
            self.in_nav = True
        elif tag == "a" and "csv" in a.get("class", "").split():
            self.page.csv_links.append(a.get("href", ""))
        elif tag == "a" and self.in_nav:
            self._start("nav")

    def _start(self, what: str) -> None:
        self.capture, self.buffer = what, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.table is not None:
            self.page.tables.append(self.table)
            self.table = None
        elif tag == "thead":
            self.in_thead = False
        elif tag == "tr" and self.row is not None and self.table is not None:
            if self.in_thead:
                self.table.header = self.row
            else:
                self.table.rows.append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "svg":
            self.in_svg -= 1
        elif tag == "nav":
            self.in_nav = False
        elif self.capture and tag in ("caption", "title", "h1", "a"):
            text = " ".join("".join(self.buffer).split())
            if self.capture == "caption" and self.table is not None:
                self.table.caption = text
            elif self.capture == "title":
                self.page.title = text
            elif self.capture == "h1":
                self.page.h1 = text
            elif self.capture == "svgtitle":
                self.page.chart_titles.append(text)
            elif self.capture == "nav":
                self.page.nav.append(text)
            self.capture = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.capture:
            self.buffer.append(data)
        self.texts.append(data)

    def close(self) -> None:
        super().close()
        self.page.text = " ".join(" ".join(self.texts).split())


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode()), "CSV without the BOM Excel needs"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
