"""Charts drawn on the server as SVG: no script, no web font, nothing fetched by the browser.

    svg = stacked_bars(rows, series, title="…")        # horizontal bars, one row per label
    svg = line_chart(labels, series, title="…")        # trend over rounds (0–1 shares or plain numbers)
    svg = heatmap(row_labels, col_labels, values, title="…", empty="…")

Colours only through presentation attributes and classes (the page's Content-Security-Policy allows
no inline styles). Every chart has a <title> and <desc> and sits beside a table with the same figures,
so a screen reader or a printout loses nothing. Text takes the page's own (system) font.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import count

from markupsafe import Markup

# Colour-blind-safe, each at least 3:1 against white (WCAG 1.4.11 for graphics).
PALETTE = ("#1f5fa8", "#b4500b", "#2e7d32", "#7b3fa0", "#a61b4a", "#00707a", "#6b5a00", "#4b5563")
CHAR_W = 12.5  # a full-width character at the 12.5 px chart font; Latin letters count half
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


def _width(text: str) -> float:
    return sum(CHAR_W if ord(ch) > 0x2E7F else CHAR_W * 0.58 for ch in text)


def _fit(text: str, room: float) -> str:
    if _width(text) <= room:
        return text
    out = ""
    for ch in text:
        if _width(out + ch + "…") > room:
            break
        out += ch
    return out + "…"


def _open(width: float, height: float, title: str, desc: str, css: str) -> tuple[str, list[str]]:
    ident = f"c{next(_ids)}"
    head = (
        f'<svg class="chart {css}" viewBox="0 0 {width:.0f} {height:.0f}" width="100%" role="img" '
        f'aria-labelledby="{ident}t {ident}d" xmlns="http://www.w3.org/2000/svg" font-size="12.5">'
        f'<title id="{ident}t">{escape(title)}</title><desc id="{ident}d">{escape(desc)}</desc>'
    )
    return ident, [head]


def _legend(parts: list[str], series: Sequence[Series], x: float, y: float, width: float) -> float:
    """Draw the legend from (x, y), wrapping at ``width``; returns the height used."""
    cx, cy = x, y
    for s in series:
        w = 22 + _width(s.name) + 18
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 20
        parts.append(f'<rect x="{cx:.1f}" y="{cy:.1f}" width="14" height="14" rx="2" fill="{s.colour}"/>')
        parts.append(f'<text x="{cx + 20:.1f}" y="{cy + 11.5:.1f}" class="legend">{escape(s.name)}</text>')
        cx += w
    return cy - y + 20


def pct(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[Series],
    *,
    title: str,
    desc: str = "",
    total: float | None = None,
    unit: str = "",
    width: float = 640,
    label_width: float = 150,
) -> Markup:
    """One horizontal bar per row, its parts stacked in ``series`` order. ``total`` fixes the scale
    (1.0 for shares); otherwise the longest bar fills the width. Each part is labelled when it fits."""
    bar_h, gap = 20, 8
    top = 6.0
    biggest = total or max((sum(v) for _, v in rows), default=0) or 1
    plot_w = width - label_width - 70
    _, parts = _open(width, 0, title, desc or title, "bars")
    bottom = top + (bar_h + gap) * len(rows)
    if total == 1:  # a 0–100% axis behind the bars
        for tick in (0, 0.25, 0.5, 0.75, 1.0):
            tx = label_width + plot_w * tick
            parts.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom:.1f}" class="grid"/>')
            parts.append(
                f'<text x="{tx:.1f}" y="{bottom + 12:.1f}" text-anchor="middle" class="tick">{tick:.0%}</text>'
            )
    inner = total == 1 or len(series) > 1  # one series of counts: the figure goes after the bar only
    y: float = top
    for label, values in rows:
        parts.append(
            f'<text x="{label_width - 8:.0f}" y="{y + 14.5:.1f}" text-anchor="end" class="label">'
            f"<title>{escape(label)}</title>{escape(_fit(label, label_width - 12))}</text>"
        )
        x = label_width
        for s, value in zip(series, values, strict=False):
            if value <= 0:
                continue
            w = plot_w * value / biggest
            figure = pct(value) if total == 1 else f"{value:g}{unit}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{s.colour}">'
                f"<title>{escape(label)} {escape(s.name)}: {escape(figure)}</title></rect>"
            )
            if inner and w >= _width(figure) + 6:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 14.5:.1f}" text-anchor="middle" class="on-bar" '
                    f'fill="#ffffff">{escape(figure)}</text>'
                )
            x += w
        if total != 1:
            parts.append(
                f'<text x="{x + 6:.1f}" y="{y + 14.5:.1f}" class="value">{sum(values):g}{escape(unit)}</text>'
            )
        y += bar_h + gap
    if total == 1:
        y += 18
    y += 6
    if len(series) > 1:
        y += _legend(parts, series, label_width, y, plot_w) + 4
    parts[0] = parts[0].replace(f'viewBox="0 0 {width:.0f} 0"', f'viewBox="0 0 {width:.0f} {y:.0f}"')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[Series, Sequence[float | None]]],
    *,
    title: str,
    desc: str = "",
    share: bool = True,
    y_max: float | None = None,
    width: float = 640,
    height: float = 240,
) -> Markup:
    """Lines over rounds. ``None`` leaves a gap (a suppressed or missing round). Shares run 0–100%."""
    left, right, top, bottom = 46, 16, 12, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    high = 1.0 if share else (y_max or max(values, default=1) * 1.15 or 1)
    _, parts = _open(width, 0, title, desc or title, "lines")
    for i in range(5):
        v = high * i / 4
        gy = top + plot_h - plot_h * i / 4
        text = f"{v:.0%}" if share else f"{v:.1f}"
        parts.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" class="tick">{text}</text>')
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)

    def px(i: int) -> float:
        return left + (step * i if n > 1 else plot_w / 2)

    every = max(1, -(-n // 7))
    shown = [i for i in range(n) if i % every == 0]
    if n - 1 not in shown and (not shown or n - 1 - shown[-1] >= every):
        shown.append(n - 1)
    for i, label in enumerate(labels):
        if i in shown:
            parts.append(
                f'<text x="{px(i):.1f}" y="{top + plot_h + 18:.1f}" text-anchor="middle" class="tick">'
                f"{escape(_fit(label, 80))}</text>"
            )
    for s, vs in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, point in enumerate(vs):
            if point is None:
                runs.append([])
                continue
            runs[-1].append((px(i), top + plot_h - plot_h * min(point, high) / high))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="2.5"/>'
                )
        for i, point in enumerate(vs):
            if point is None:
                continue
            x, y = px(i), top + plot_h - plot_h * min(point, high) / high
            figure = pct(point, 1) if share else f"{point:.2f}"
            label = labels[i] if i < len(labels) else ""
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.colour}">'
                f"<title>{escape(s.name)} {escape(label)}: {escape(figure)}</title></circle>"
            )
    y = top + plot_h + 30
    y += _legend(parts, [s for s, _ in series], left, y, plot_w)
    parts[0] = parts[0].replace(f'viewBox="0 0 {width:.0f} 0"', f'viewBox="0 0 {width:.0f} {y:.0f}"')
    parts.append("</svg>")
    return Markup("".join(parts))


def luminance(colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (both reach 4.5:1 on either side of 0.18)."""
    return "#000000" if luminance(fill) >= 0.179 else "#ffffff"


def _blue(value: float) -> str:
    """A sequential blue from #eef4fb (0) to #0b3d77 (1)."""
    low, high = (0xEE, 0xF4, 0xFB), (0x0B, 0x3D, 0x77)
    v = max(0.0, min(1.0, value))
    return "#" + "".join(f"{round(a + (b - a) * v):02x}" for a, b in zip(low, high, strict=True))


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    empty: str,
    desc: str = "",
    label_width: float = 130,
    cell_w: float = 62,
    cell_h: float = 20,
    header_h: float = 64,
) -> Markup:
    """Rows × columns of shares (0–1), the figure printed in each cell; ``None`` (suppressed) is hatched."""
    width = label_width + cell_w * max(len(col_labels), 1) + header_h + 8  # rotated labels lean right
    ident, parts = _open(width, 0, title, desc or title, "heatmap")
    parts.append(
        f'<defs><pattern id="{ident}h" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f4f6"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#9ca3af" stroke-width="2"/></pattern></defs>'
    )
    for j, label in enumerate(col_labels):
        x = label_width + cell_w * j + cell_w / 2
        parts.append(
            f'<text transform="translate({x:.1f},{header_h - 6:.1f}) rotate(-35)" class="label">'
            f"<title>{escape(label)}</title>{escape(_fit(label, 86))}</text>"
        )
    for i, label in enumerate(row_labels):
        y = header_h + cell_h * i
        parts.append(
            f'<text x="{label_width - 6:.0f}" y="{y + 14.5:.1f}" text-anchor="end" class="label">'
            f"<title>{escape(label)}</title>{escape(_fit(label, label_width - 10))}</text>"
        )
        for j, col in enumerate(col_labels):
            v = values[i][j] if j < len(values[i]) else None
            x = label_width + cell_w * j
            fill = f"url(#{ident}h)" if v is None else _blue(v)
            tip = f"{label} × {col}: {empty if v is None else pct(v)}"
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{cell_w - 2:.1f}" height="{cell_h - 2:.1f}" '
                f'fill="{fill}"><title>{escape(tip)}</title></rect>'
            )
            if v is not None:
                ink = ink_on(fill)
                parts.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + 14.5:.1f}" text-anchor="middle" '
                    f'fill="{ink}" class="cell">{pct(v)}</text>'
                )
    y = header_h + cell_h * max(len(row_labels), 1) + 14
    parts.append(f'<rect x="{label_width:.0f}" y="{y:.0f}" width="14" height="14" fill="url(#{ident}h)"/>')
    parts.append(f'<text x="{label_width + 20:.0f}" y="{y + 11.5:.0f}" class="legend">{escape(empty)}</text>')
    for k, v in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        lx = label_width + 20 + _width(empty) + 24 + k * 52
        parts.append(f'<rect x="{lx:.0f}" y="{y:.0f}" width="14" height="14" fill="{_blue(v)}"/>')
        parts.append(f'<text x="{lx + 18:.0f}" y="{y + 11.5:.0f}" class="legend">{v:.0%}</text>')
    y += 24
    parts[0] = parts[0].replace(f'viewBox="0 0 {width:.0f} 0"', f'viewBox="0 0 {width:.0f} {y:.0f}"')
    parts.append("</svg>")
    return Markup("".join(parts))
