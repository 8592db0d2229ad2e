"""Signed links served by the bot: the full results page, chart PNGs and exports of a closed round.

GET /survey/r/{token}                       results page (HTML, Japanese)
GET /survey/r/{token}/chart/{name}.png      favourable | trend | adoption | heatmap
GET /survey/r/{token}/export/{what}.{fmt}   aggregates | answers, csv | xlsx

The token (dialogs/survey/links.py) names one round and expires; anything else answers 404 or 410
without saying which rounds exist.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import OrderedDict
from typing import Any

from bot.api import HttpRequest, HttpResponse, HttpRoute
from dialogs.kit.business_days import format_date_ja, to_jst
from dialogs.kit.i18n import t
from dialogs.kit.security_headers import csp
from dialogs.kit.signing import Malformed
from dialogs.survey import charts, export, links
from dialogs.survey.cards import drop_line, pct, result_notes
from dialogs.survey.results import RoundResults, Trend, compute_results, compute_trend
from storage.models import SurveyRound

log = logging.getLogger(__name__)
CHART_CACHE = 64
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _gone(status: int = 404) -> HttpResponse:
    key = {410: "survey.web.expired", 400: "survey.web.malformed"}.get(status, "survey.web.not_found")
    return HttpResponse(
        status, f"<!doctype html><meta charset=utf-8><p>{html.escape(t(key))}</p>", "text/html"
    )


async def _load(req: HttpRequest) -> tuple[SurveyRound, RoundResults, Trend] | HttpResponse:
    services = req.services
    token = req.match.get("token", "")
    now = services.clock()
    try:
        round_id = links.verify(services.settings.secret_key, token, now)
    except Malformed:
        return _gone(400)  # cut short or changed while copying: not a link we made
    if round_id is None:
        # Tell an expired link from a forged one only when the signature itself is good.
        from datetime import timedelta

        far = links.verify(services.settings.secret_key, token, now - timedelta(days=3650))
        return _gone(410 if far is not None else 404)
    async with services.sessionmaker() as session:
        rnd = await session.get(SurveyRound, round_id)
        if rnd is None or rnd.status != "closed":
            return _gone(404)
        res = await compute_results(session, rnd.id)
        trend = await compute_trend(session, rnd.survey_id, upto_round=rnd.id)
    return rnd, res, trend


async def chart(req: HttpRequest) -> HttpResponse:
    loaded = await _load(req)
    if isinstance(loaded, HttpResponse):
        return loaded
    _, res, trend = loaded
    name = req.match.get("name", "")
    if name not in charts.NAMES:
        return _gone(404)
    locale = req.services.settings.locale
    # A closed round's charts never change (the trend stops at that round): keep the last few.
    cache: OrderedDict[tuple[int, str, str], bytes] = req.services.extras.setdefault(
        "survey.charts", OrderedDict()
    )
    key = (res.round_id, name, locale)
    png = cache.get(key)
    if png is None:
        png = await asyncio.to_thread(charts.render, name, res, trend, locale)
        cache[key] = png
        while len(cache) > CHART_CACHE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return HttpResponse(200, png, "image/png")  # no-store like all data: the server keeps the cache


async def download(req: HttpRequest) -> HttpResponse:
    loaded = await _load(req)
    if isinstance(loaded, HttpResponse):
        return loaded
    rnd, res, _ = loaded
    what, fmt = req.match.get("what", ""), req.match.get("fmt", "")
    if what not in ("aggregates", "answers") or fmt not in ("csv", "xlsx"):
        return _gone(404)
    if what == "aggregates":
        rows = export.aggregate_rows(res)
    else:
        async with req.services.sessionmaker() as session:
            rows = await export.answer_rows(session, rnd)
    name = f"survey-{rnd.survey_id}-round-{rnd.number}-{what}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return HttpResponse(200, export.to_csv(rows), "text/csv", disposition)
    sheet = "集計" if what == "aggregates" else "回答"
    return HttpResponse(200, export.to_xlsx(rows, sheet), XLSX, disposition)


def _e(value: Any) -> str:
    return html.escape(str(value))


STYLE = (
    "body{font-family:'Yu Gothic UI','Meiryo',sans-serif;margin:1.5rem;color:#222;max-width:1100px}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}"
    "th:first-child,td:first-child{text-align:left}.s{color:#777}img{max-width:100%}"
)


def render_page(rnd: SurveyRound, res: RoundResults, trend: Trend, token: str, settings: Any) -> str:
    """The full results as one plain page (no script, no external resource)."""
    locale = settings.locale
    parts = [
        "<!doctype html><html lang=ja><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>{_e(res.title)} {_e(res.label)}</title>",
        f"<style>{STYLE}</style>",
        f"<h1>{_e(t('survey.results.title', locale, title=res.title, label=res.label))}</h1>",
        f"<p>{_e(format_date_ja(to_jst(rnd.opened_at or rnd.open_at).date()))} 〜 "
        f"{_e(format_date_ja(to_jst(rnd.closed_at or rnd.closes_at).date()))}"
        f" ・ {_e(t('survey.results.rate', locale))} {pct(res.rate)} ({res.responded}/{res.invited})</p>",
    ]
    parts += [f"<p class=s>{_e(note)}</p>" for note in result_notes(res, locale)]
    for name in charts.chart_names(res):
        parts.append(f"<p><img alt='{_e(name)}' src='{_e(links.chart_url(settings, token, name))}'></p>")
    suppressed = _e(t("survey.suppressed", locale))
    groups = [
        res.overall,
        *res.of_kind("department"),  # roster order (compute_results)
        *res.of_kind("section"),
    ]
    scale = res.scale_questions()
    if scale:
        parts.append(f"<h2>{_e(t('survey.web.favourable', locale))}</h2><table><tr><th></th>")
        parts += [f"<th>{_e(q.label(locale))}</th>" for q in scale]
        parts.append("</tr>")
        for g in groups:
            if g.kind == "section" and g.suppressed:
                continue  # the page lists shown sections only; a table row of blanks helps no one
            parts.append(f"<tr><td>{_e(g.name)}</td>")
            for q in scale:
                s = g.stats.get(q.key)
                cell = (
                    suppressed
                    if g.suppressed
                    else (f"{pct(s.favourable)} ({s.mean:.2f})" if s and s.mean is not None else "—")
                )
                parts.append(f"<td>{cell}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    tools = res.tool_questions()
    if tools:
        parts.append(f"<h2>{_e(t('survey.web.adoption', locale))}</h2><table><tr><th></th>")
        parts += [f"<th>{_e(q.tool)}</th>" for q in tools]
        parts.append("</tr>")
        for g in groups:
            if g.kind == "section" and g.suppressed:
                continue
            parts.append(f"<tr><td>{_e(g.name)}</td>")
            for q in tools:
                s = g.stats.get(q.key)
                parts.append(f"<td>{suppressed if g.suppressed else pct(s.adopted if s else None)}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    others = [q for q in res.questions if q.type in ("scale11", "number", "single", "multi") and not q.tool]
    for q in others:
        s = res.overall.stats.get(q.key)
        parts.append(f"<h3>{_e(q.label(locale))}</h3>")
        if s is None or s.suppressed:
            parts.append(f"<p class=s>{suppressed if s is not None else '—'}</p>")
            continue
        if q.type in ("scale11", "number"):
            parts.append(
                f"<p>{_e(t('survey.results.mean', locale))} {s.mean:.2f}{_e(q.unit)} (n={s.n}, {s.minimum:g}〜{s.maximum:g})</p>"
            )
        else:
            parts.append("<table>")
            for c in q.choices:
                count = s.dist.get(c.key, 0)
                parts.append(
                    f"<tr><td>{_e(c.text(locale))}</td><td>{count}</td><td>{count / s.n * 100:.0f}%</td></tr>"
                )
            parts.append("</table>")
    if trend.drops:
        parts.append(f"<h2>{_e(t('survey.results.drops', locale))}</h2><ul>")
        for d in trend.drops:
            parts.append(f"<li>{_e(drop_line(res, d, locale))}</li>")
        parts.append("</ul>")
    for q in res.questions:
        if q.type != "text":
            continue
        parts.append(f"<h2>{_e(q.label(locale))}</h2>")
        if res.comments_suppressed:
            parts.append(
                f"<p class=s>{_e(t('survey.results.comments_suppressed', locale, k=res.threshold))}</p>"
            )
        else:
            parts.append("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in res.comments.get(q.key, [])) + "</ul>")
    parts.append(f"<h2>{_e(t('survey.web.rates', locale))}</h2><table><tr><th></th><th>%</th><th>n</th></tr>")
    for r in res.rates:
        parts.append(
            f"<tr><td>{_e(r.name)}</td><td>{pct(r.rate)}</td><td>{r.responded}/{r.invited}</td></tr>"
        )
    parts.append("</table><p>")
    for what in ("aggregates", "answers"):
        for fmt in ("csv", "xlsx"):
            label = t(f"survey.web.export_{what}", locale) + f" ({fmt.upper()})"
            parts.append(f"<a href='{_e(links.export_url(settings, token, what, fmt))}'>{_e(label)}</a> ")
    parts.append("</p></html>")
    return "".join(parts)


async def page(req: HttpRequest) -> HttpResponse:
    loaded = await _load(req)
    if isinstance(loaded, HttpResponse):
        return loaded
    rnd, res, trend = loaded
    body = render_page(rnd, res, trend, req.match["token"], req.services.settings)
    # The security headers every page gets (dialogs/kit/security_headers.py), with this page's one stylesheet.
    return HttpResponse(200, body, "text/html", {"Content-Security-Policy": csp(inline_styles=(STYLE,))})


ROUTES = [
    HttpRoute("GET", "/survey/r/{token}", page),
    HttpRoute("GET", "/survey/r/{token}/chart/{name}.png", chart),
    HttpRoute("GET", "/survey/r/{token}/export/{what}.{fmt}", download),
]
