"""PNG charts of survey results, drawn with matplotlib's Agg backend in Noto Sans CJK JP.

    png = favourability_chart(results)   # bytes
    png = trend_chart(trend)
    png = adoption_chart(results); png = adoption_heatmap(results)

The font comes from the ``noto-cjk-sans-jp-regular`` wheel, so Japanese labels render the same on
every machine and in the Docker image, with no system font installed. Suppressed groups are drawn
as 「非表示」, never as numbers.
"""

from __future__ import annotations

import io
import threading
from functools import cache
from typing import TYPE_CHECKING, Any

from dialogs.kit.i18n import t
from dialogs.survey.results import RoundResults, Trend

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAMES = ("favourable", "trend", "adoption", "heatmap")
_lock = threading.Lock()  # FreeType objects are not thread-safe
COLOURS = {"fav": "#2e7d32", "neu": "#bdbdbd", "unf": "#c62828", "line": "#1565c0"}


@cache
def _matplotlib() -> Any:
    """matplotlib, imported on the first chart: it is a fifth of the bot's memory and most processes
    never draw."""
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


@cache
def font_family() -> str:
    """Register the packaged Japanese font once and return its family name."""
    import noto_cjk_sans_jp_regular as noto
    from matplotlib import font_manager

    matplotlib = _matplotlib()
    path = str(noto.FONT_PATH)
    font_manager.fontManager.addfont(path)
    family = font_manager.FontProperties(fname=path).get_name()
    matplotlib.rcParams["font.family"] = family
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def _figure(width: float, height: float, **margins: float) -> Figure:
    """A figure with fixed margins (inches turned into fractions): a layout engine would draw every
    Japanese label twice, and text is what costs time here."""
    font_family()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    left = margins.get("left", 0.8) / width
    right = 1 - margins.get("right", 0.3) / width
    top = 1 - margins.get("top", 0.7) / height
    bottom = margins.get("bottom", 0.6) / height
    fig.subplots_adjust(left=left, right=right, top=top, bottom=bottom)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, facecolor="white", pil_kwargs={"compress_level": 3})
    return buf.getvalue()


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def favourability_chart(res: RoundResults, locale: str = "ja") -> bytes:
    """100 % stacked bars per five-point question: favourable / neutral / unfavourable."""
    with _lock:
        qs = res.scale_questions()
        fig = _figure(8, 0.55 * max(len(qs), 1) + 1.6, left=3.0, top=0.9)
        ax = fig.add_subplot()
        overall = res.overall
        labels, fav, neu, unf = [], [], [], []
        for q in reversed(qs):
            s = overall.stats.get(q.key)
            labels.append(_short(q.label(locale)))
            if s is None or s.suppressed or not s.n:
                fav.append(0.0)
                neu.append(0.0)
                unf.append(0.0)
            else:
                fav.append((s.favourable or 0) * 100)
                neu.append((s.neutral or 0) * 100)
                unf.append((s.unfavourable or 0) * 100)
        y = range(len(labels))
        ax.barh(y, fav, color=COLOURS["fav"], label=t("survey.chart.favourable", locale))
        ax.barh(y, neu, left=fav, color=COLOURS["neu"], label=t("survey.chart.neutral", locale))
        ax.barh(
            y,
            unf,
            left=[a + b for a, b in zip(fav, neu, strict=True)],
            color=COLOURS["unf"],
            label=t("survey.chart.unfavourable", locale),
        )
        for i, value in enumerate(fav):
            if value >= 8:
                ax.text(value / 2, i, f"{value:.0f}%", ha="center", va="center", color="white", fontsize=9)
        ax.set_yticks(list(y), labels, fontsize=9)
        ax.set_xlim(0, 100)
        ax.set_xlabel("%")
        if overall.suppressed:
            ax.text(
                50, len(labels) / 2, t("survey.suppressed", locale), ha="center", va="center", fontsize=14
            )
        ax.set_title(
            f"{res.title} {res.label}  "
            + t("survey.chart.n", locale, n=0 if overall.suppressed else overall.respondents),
            fontsize=11,
        )
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=3, fontsize=9, frameon=False)
        return _png(fig)


def trend_chart(trend: Trend, locale: str = "ja", keys: list[str] | None = None) -> bytes:
    """Favourable share (five-point) or adoption (tools) per round, one line per question."""
    with _lock:
        fig = _figure(9, 4.2, right=2.3, bottom=1.0)
        ax = fig.add_subplot()
        labels = [label for _, label in trend.rounds]
        shown = 0
        for q in trend.questions:
            if keys and q.key not in keys:
                continue
            if q.type != "scale5" and not q.tool:
                continue
            points = trend.overall.get(q.key) or []
            ys = [p.value * 100 if p.value is not None else float("nan") for p in points]
            ax.plot(
                range(len(ys)),
                ys,
                marker="o",
                markersize=3,
                linewidth=1.5,
                label=_short(q.tool or q.label(locale), 16),
            )
            shown += 1
        ax.set_xticks(
            range(len(labels)), [_short(label, 10) for label in labels], rotation=45, ha="right", fontsize=8
        )
        ax.set_ylim(0, 100)
        ax.set_ylabel(t("survey.chart.trend_axis", locale))
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(t("survey.chart.trend_title", locale), fontsize=11)
        if shown:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _png(fig)


def adoption_chart(res: RoundResults, locale: str = "ja") -> bytes:
    """Share using each tool weekly or more, overall."""
    with _lock:
        tools = res.tool_questions()
        fig = _figure(8, 0.45 * max(len(tools), 1) + 1.4, left=1.8)
        ax = fig.add_subplot()
        names, values = [], []
        for q in reversed(tools):
            s = res.overall.stats.get(q.key)
            names.append(q.tool or q.key)
            values.append((s.adopted or 0) * 100 if s and not s.suppressed else 0.0)
        ax.barh(range(len(names)), values, color=COLOURS["line"])
        for i, value in enumerate(values):
            ax.text(value + 1, i, f"{value:.0f}%", va="center", fontsize=9)
        ax.set_yticks(range(len(names)), names, fontsize=9)
        ax.set_xlim(0, 105)
        ax.set_xlabel(t("survey.chart.adoption_axis", locale))
        ax.set_title(f"{res.title} {res.label}", fontsize=11)
        return _png(fig)


def adoption_heatmap(res: RoundResults, locale: str = "ja", limit: int = 60) -> bytes:
    """Sections × tools, the share using each tool weekly or more; suppressed cells stay blank."""
    import numpy as np

    with _lock:
        tools = res.tool_questions()
        sections = res.of_kind("section")[:limit]  # roster order (compute_results)
        data = np.full((max(len(sections), 1), max(len(tools), 1)), np.nan)
        for i, g in enumerate(sections):
            for j, q in enumerate(tools):
                s = g.stats.get(q.key)
                if s is not None and not s.suppressed and s.n:
                    data[i, j] = (s.adopted or 0) * 100
        fig = _figure(
            max(6.0, 0.7 * len(tools) + 3.2),
            0.22 * max(len(sections), 1) + 2,
            left=1.5,
            right=1.4,
            bottom=1.2,
        )
        ax = fig.add_subplot()
        cmap = _matplotlib().colormaps["Greens"].with_extremes(bad="#e0e0e0")  # grey: no answers or hidden
        image = ax.imshow(data, aspect="auto", cmap=cmap, vmin=0, vmax=100)
        ax.set_xticks(
            range(len(tools)), [q.tool or q.key for q in tools], rotation=45, ha="right", fontsize=8
        )
        # Section names as plain texts on one shared transform: a tick per row costs five artists.
        ax.set_yticks([])
        labels = [g.name for g in sections] or [t("survey.suppressed", locale)]
        shared = ax.get_yaxis_transform()
        for i, name in enumerate(labels):
            ax.text(-0.01, i, name, transform=shared, ha="right", va="center", fontsize=7)
        # A slim colour scale in its own axes; its meaning is in the title (rotated text is costly).
        right = ax.get_position().x1
        cax = fig.add_axes((right + 0.03, ax.get_position().y0, 0.02, ax.get_position().height))
        fig.colorbar(image, cax=cax).ax.tick_params(labelsize=7)
        ax.set_title(t("survey.chart.heatmap_title", locale), fontsize=11)
        return _png(fig)


def render(name: str, res: RoundResults, trend: Trend | None, locale: str = "ja") -> bytes:
    if name == "favourable":
        return favourability_chart(res, locale)
    if name == "adoption":
        return adoption_chart(res, locale)
    if name == "heatmap":
        return adoption_heatmap(res, locale)
    if name == "trend" and trend is not None:
        return trend_chart(trend, locale)
    raise KeyError(name)


def default_chart(res: RoundResults) -> str:
    """The chart a results card shows: favourability for mindset-like surveys, adoption for tools."""
    if res.scale_questions():
        return "favourable"
    if res.tool_questions():
        return "adoption"
    return ""


def chart_names(res: RoundResults) -> list[str]:
    names: list[str] = []
    if res.scale_questions():
        names += ["favourable", "trend"]
    if res.tool_questions():
        names += ["adoption", "heatmap"]
        if "trend" not in names:
            names.append("trend")
    return names
