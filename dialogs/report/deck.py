"""The quarterly report as a PowerPoint deck (native, editable charts) and an Excel workbook with
the same figures.

    data = build_deck(figures)       # bytes of a .pptx
    data = build_workbook(figures)   # bytes of a .xlsx

A section without data this quarter gets a slide that says so, never an empty chart.
"""

from __future__ import annotations

import io
from typing import Any

from dialogs.report.figures import Figures, SurveyBlock, as_rows

FONT = "Meiryo UI"  # on every city PC; LibreOffice falls back to a CJK font it has
NO_DATA = "この四半期のデータはありません。"


def _font(run: Any, size: int, bold: bool = False) -> None:
    from pptx.util import Pt

    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    # East Asian text uses the a:ea font, not a:latin: set both so Japanese is not drawn in a fallback.
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        el = rpr.find("{http://schemas.openxmlformats.org/drawingml/2006/main}" + tag.split(":")[1])
        if el is None:
            el = rpr.makeelement(
                "{http://schemas.openxmlformats.org/drawingml/2006/main}" + tag.split(":")[1], {}
            )
            rpr.append(el)
        el.set("typeface", FONT)


def _text(
    slide: Any, left: float, top: float, width: float, height: float, text: str, size: int, bold: bool = False
) -> None:
    from pptx.util import Inches

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = line
        _font(run, size, bold)


def _slide(prs: Any, title: str, finding: str | None) -> Any:
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    _text(slide, 0.5, 0.3, 12.3, 0.7, title, 26, bold=True)
    _text(slide, 0.5, 1.0, 12.3, 0.6, finding or NO_DATA, 16)
    return slide


def _bar_chart(
    slide: Any,
    categories: list[str],
    series: list[tuple[str, list[float | None]]],
    number_format: str = "0",
    stacked: bool = False,
) -> Any:
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    data = CategoryChartData(number_format=number_format)
    data.categories = categories
    for name, values in series:
        data.add_series(name, values)
    kind = XL_CHART_TYPE.BAR_STACKED if stacked else XL_CHART_TYPE.BAR_CLUSTERED
    frame = slide.shapes.add_chart(kind, Inches(0.5), Inches(1.7), Inches(12.3), Inches(5.5), data)
    chart = frame.chart
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    chart.font.size = Pt(11)
    chart.font.name = FONT
    plot = chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format = number_format
    plot.data_labels.number_format_is_linked = False
    chart.category_axis.reverse_order = True  # the first category at the top, as in the table
    return chart


def build_deck(f: Figures) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title = prs.slides.add_slide(prs.slide_layouts[6])
    _text(title, 0.8, 2.2, 11.7, 1.2, f"{f.city} DX推進 四半期レポート".strip(), 36, bold=True)
    _text(title, 0.8, 3.5, 11.7, 0.8, f.quarter.label, 22)
    if f.empty:
        _text(
            title,
            0.8,
            4.5,
            11.7,
            0.8,
            "この四半期のデータはありません(お知らせ・質問・改善事例とも0件)。",
            18,
        )
        return _save(prs)

    slide = _slide(prs, "お知らせの確認状況(部別)", f.findings.get("reach"))
    asked = [d for d in f.reach if d.rate is not None]
    if asked:
        _bar_chart(
            slide,
            [d.department for d in asked],
            [("確認率(%)", [round((d.rate or 0) * 100, 1) for d in asked])],
            "0",
        )

    _survey_slides(prs, f)

    slide = _slide(prs, "質問への対応", f.findings.get("questions"))
    qs, prev = f.questions, f.previous_questions
    if qs.asked or qs.escalated:
        _bar_chart(
            slide,
            ["質問数", "ボットが回答", "DX推進課へ", "DX推進課が回答"],
            [
                ("前四半期", [prev.asked, prev.answered_by_bot, prev.escalated, prev.answered_by_division]),
                ("今四半期", [qs.asked, qs.answered_by_bot, qs.escalated, qs.answered_by_division]),
            ],
        )

    c = f.cases
    slide = _slide(prs, "改善事例と削減時間(部別・時間/月)", f.findings.get("cases"))
    if c.published:
        _bar_chart(
            slide,
            [d for d, _, _ in c.by_department],
            [("削減時間(時間/月)", [h for _, h, _ in c.by_department])],
            "0.0",
        )
        slide = _slide(
            prs,
            "改善事例と削減時間(ツール別・時間/月)",
            f"年度累計: {c.fiscal_year_cases}件・月{c.fiscal_year_hours:g}時間の削減(1件に複数ツールがあれば各ツールに計上)",
        )
        _bar_chart(
            slide, [d for d, _, _ in c.by_tool], [("削減時間(時間/月)", [h for _, h, _ in c.by_tool])], "0.0"
        )
        slide = _slide(prs, "今四半期に公開した改善事例", f"{c.published}件(削減時間の大きい順)")
        lines = [f"・{t}({s}) 月{h:g}時間" for t, s, h in c.titles[:12]]
        if len(c.titles) > 12:
            lines.append(f"ほか{len(c.titles) - 12}件(Excelの「改善事例(一覧)」をご覧ください)")
        _text(slide, 0.7, 1.8, 12, 5.4, "\n".join(lines), 16)
    slide = _slide(prs, "表彰", f.findings.get("recognition"))
    awards = [
        f"{title}  第{r['place']}位 {r['title']}({r['section']})・{r['votes']}票"
        for title, results in f.recognition
        for r in results
    ]
    if awards:
        _text(slide, 0.7, 1.8, 12, 5.4, "\n".join(awards[:14]), 16)
    return _save(prs)


HEAT_ROWS = 16


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v * 100, 1)


def _hidden(block: SurveyBlock) -> str:
    return (
        f"(回答が{block.threshold}人未満などで非表示の部: {block.hidden_groups})"
        if block.hidden_groups
        else ""
    )


def _heatmap(slide: Any, block: SurveyBlock) -> None:
    """Departments × tools as a table whose cells are shaded by adoption (a native, editable table)."""
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    rows = block.rows[:HEAT_ROWS]
    cols = [n for n, _, _ in block.items]
    table = slide.shapes.add_table(
        len(rows) + 1, len(cols) + 1, Inches(0.4), Inches(1.7), Inches(12.5), Inches(0.3 * (len(rows) + 1))
    ).table
    table.columns[0].width = Inches(2.0)
    for j in range(1, len(cols) + 1):
        table.columns[j].width = Inches(10.5 / len(cols))

    def put(cell: Any, value: str, size: int = 10, bold: bool = False) -> None:
        cell.text = ""
        run = cell.text_frame.paragraphs[0].add_run()
        run.text = value
        _font(run, size, bold)
        cell.margin_top = cell.margin_bottom = Pt(1)

    put(table.cell(0, 0), "部", bold=True)
    for j, name in enumerate(cols, start=1):
        put(table.cell(0, j), name, 8, bold=True)
    for i, (name, values) in enumerate(zip(rows, block.matrix, strict=False), start=1):
        put(table.cell(i, 0), name)
        for j, v in enumerate(values, start=1):
            cell = table.cell(i, j)
            put(cell, "—" if v is None else f"{round(v * 100)}%")
            cell.fill.solid()  # every cell its own colour, not the table style's banding
            if v is None:
                cell.fill.fore_color.rgb = RGBColor(242, 242, 242)
            else:
                shade = int(255 - 170 * v)  # white → blue as adoption grows
                cell.fill.fore_color.rgb = RGBColor(shade, shade + (255 - shade) // 3, 255)


def _survey_slides(prs: Any, f: Figures) -> None:
    m = f.surveys.get("mindset")
    slide = _slide(prs, "DXマインド(肯定的回答の割合)", f.findings.get("mindset"))
    if m and any(v is not None for _, v, _ in m.items):
        shown = [(n, v, b) for n, v, b in m.items if v is not None]
        series: list[tuple[str, list[float | None]]] = []
        if m.prev_label:
            series.append((m.prev_label, [_pct(b) for _, _, b in shown]))
        series.append((m.label, [_pct(v) for _, v, _ in shown]))
        _bar_chart(slide, [n for n, _, _ in shown], series)
    tools = f.surveys.get("tools")
    slide = _slide(prs, "ツールの活用(週1回以上使う人の割合)", f.findings.get("tools"))
    if tools and any(v is not None for _, v, _ in tools.items):
        shown = [(n, v, b) for n, v, b in tools.items if v is not None]
        series = []
        if tools.prev_label:
            series.append((tools.prev_label, [_pct(b) for _, _, b in shown]))
        series.append((tools.label, [_pct(v) for _, v, _ in shown]))
        _bar_chart(slide, [n for n, _, _ in shown], series)
        if tools.rows:
            more = f"(上位{HEAT_ROWS}部のみ。全部署はExcel)" if len(tools.rows) > HEAT_ROWS else ""
            slide = _slide(
                prs, "ツールの活用(部別)", f"{tools.label}・週1回以上使う人の割合{more}{_hidden(tools)}"
            )
            _heatmap(slide, tools)
    work = f.surveys.get("workload")
    slide = _slide(prs, "業務量(コア業務・ノンコア業務の割合)", f.findings.get("workload"))
    if work and work.rows:
        noncore = [values[0] for values in work.matrix]
        _bar_chart(
            slide,
            work.rows,
            [
                ("ノンコア業務(%)", [None if v is None else round(v, 1) for v in noncore]),
                ("コア業務(%)", [None if v is None else round(100 - v, 1) for v in noncore]),
            ],
            stacked=True,
        )
        if work.hidden_groups:
            _text(slide, 0.5, 7.0, 12.3, 0.4, _hidden(work), 11)


def _save(prs: Any) -> bytes:
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def build_workbook(f: Figures) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary = wb.active
    summary.title = "概要"
    summary.append([f"{f.city} DX推進 四半期レポート".strip(), f.quarter.label])
    if f.empty:
        summary.append([NO_DATA])
    for key, line in f.findings.items():
        if line:
            summary.append([key, line])
    summary.column_dimensions["A"].width = 14
    summary.column_dimensions["B"].width = 90
    for name, rows in as_rows(f).items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([("'" + v) if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 36
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
