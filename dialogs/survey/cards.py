"""Adaptive Cards of the survey feature: the answer form, its after-states, results and admin cards.

Words come from catalog.toml; this module only arranges them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.settings import Settings
from dialogs.kit.business_days import format_date_ja, format_datetime_ja, to_jst
from dialogs.kit.cards import adaptive_card, container, facts, heading, open_url, submit, text
from dialogs.kit.i18n import t
from dialogs.survey.questions import Question, card_inputs

if TYPE_CHECKING:
    from dialogs.survey.results import RoundResults, Trend
    from dialogs.survey.service import AudienceCount, RoundReach
    from storage.models import Survey, SurveyRound, SurveySchedule


def deadline(rnd: SurveyRound, locale: str) -> str:
    if locale == "en":
        return to_jst(rnd.closes_at).strftime("%Y-%m-%d %H:%M JST")
    return format_datetime_ja(rnd.closes_at)


def _privacy_line(rnd: SurveyRound, locale: str) -> str:
    if rnd.anonymous:
        return t("survey.card.anonymous", locale, k=rnd.threshold)
    return t("survey.card.named", locale)


def round_name(survey: Survey, rnd: SurveyRound, locale: str) -> str:
    """「DXマインド 第3回」: how admins' messages name a round (its number is the survey's own count)."""
    return t("survey.round.name", locale, title=survey.title, number=rnd.number)


def period(rnd: SurveyRound) -> str:
    """2026年6月2日(火)〜2026年6月8日(月): opened (or planned) to closed (or due)."""
    opened = format_date_ja(to_jst(rnd.opened_at or rnd.open_at).date())
    return f"{opened}〜{format_date_ja(to_jst(rnd.closed_at or rnd.closes_at).date())}"


def note_card(title: str, message: str) -> dict[str, Any]:
    """What a confirmation card turns into once decided: no buttons left to press twice."""
    return adaptive_card([heading(title, size="Medium"), text(message)])


def _title(survey: Survey, rnd: SurveyRound, locale: str) -> str:
    return t("survey.card.title", locale, title=survey.title, label=rnd.label)


def invitation_preview(survey: Survey, rnd: SurveyRound, locale: str) -> str:
    return t(
        "survey.invite.preview", locale, title=survey.title, label=rnd.label, deadline=deadline(rnd, locale)
    )


def reminder_preview(survey: Survey, rnd: SurveyRound, locale: str) -> str:
    return t("survey.remind.preview", locale, title=survey.title, deadline=deadline(rnd, locale))


def answer_card(
    survey: Survey,
    rnd: SurveyRound,
    questions: list[Question],
    recipient_id: int,
    locale: str,
    *,
    reminder: bool = False,
    prefill: dict[str, Any] | None = None,
    key: str | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """The form: every question with client-side validation; the server checks again."""
    body: list[dict[str, Any]] = [heading(_title(survey, rnd, locale), size="Medium")]
    if reminder:
        body.append(text(t("survey.remind.lead", locale), weight="Bolder", color="Attention"))
    if notice:
        body.append(text(notice, color="Attention"))
    if survey.description:
        body.append(text(survey.description, isSubtle=True))
    body.append(
        facts(
            [
                (t("survey.card.deadline", locale), deadline(rnd, locale)),
                (t("survey.card.privacy", locale), _privacy_line(rnd, locale)),
            ]
        )
    )
    prefill = prefill or {}
    for i, q in enumerate(questions, start=1):
        body.append(container(card_inputs(q, locale, i, prefill.get(q.key)), spacing="Medium"))
    data: dict[str, Any] = {"round": rnd.id, "rcp": recipient_id}
    if key:
        data["key"] = key
    title = t("survey.card.update" if prefill else "survey.card.submit", locale)
    action = submit(title, "survey.answer", style="positive", **data)
    action["associatedInputs"] = "auto"
    return adaptive_card(body, actions=[action])


def answered_card(
    survey: Survey, rnd: SurveyRound, recipient_id: int, locale: str, *, replaced: bool, key: str | None
) -> dict[str, Any]:
    body = [
        heading(_title(survey, rnd, locale), size="Medium"),
        text("✅ " + t("survey.card.answered", locale), weight="Bolder", color="Good"),
        text(t("survey.answer.replaced" if replaced else "survey.answer.thanks", locale)),
        facts([(t("survey.card.deadline", locale), deadline(rnd, locale))]),
        text(_privacy_line(rnd, locale), isSubtle=True, size="Small"),
    ]
    data: dict[str, Any] = {"round": rnd.id, "rcp": recipient_id}
    if key:
        data["key"] = key
    return adaptive_card(body, actions=[submit(t("survey.card.edit", locale), "survey.edit", **data)])


def answered_elsewhere_card(survey: Survey, rnd: SurveyRound, locale: str) -> dict[str, Any]:
    return adaptive_card(
        [
            heading(_title(survey, rnd, locale), size="Medium"),
            text("✅ " + t("survey.card.answered", locale), weight="Bolder", color="Good"),
            text(t("survey.card.answered_elsewhere", locale), isSubtle=True),
        ]
    )


def closed_card(survey: Survey, rnd: SurveyRound, locale: str, *, answered: bool) -> dict[str, Any]:
    key = "survey.card.closed_answered" if answered else "survey.card.closed"
    return adaptive_card(
        [
            heading(_title(survey, rnd, locale), size="Medium"),
            text(t(key, locale, closed=deadline(rnd, locale)), isSubtle=not answered),
        ]
    )


# --- results --------------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def results_preview(survey: Survey, rnd: SurveyRound, res: RoundResults, locale: str) -> str:
    return t(
        "survey.results.preview",
        locale,
        name=round_name(survey, rnd, locale),
        rate=pct(res.rate),
        n=res.responded,
        total=res.invited,
    )


def headline_facts(res: RoundResults, locale: str, trend: Trend | None = None) -> list[tuple[str, str]]:
    pairs = [(t("survey.results.rate", locale), f"{pct(res.rate)} ({res.responded}/{res.invited})")]
    overall = res.overall
    if overall.suppressed and res.anonymous:
        pairs.append(
            (t("survey.results.figures", locale), t("survey.results.too_few", locale, k=res.threshold))
        )
        return pairs
    for q in res.scale_questions()[:10]:
        s = overall.stats.get(q.key)
        if s is None:
            continue
        value = (
            f"{pct(s.favourable)}  ({t('survey.results.mean', locale)} {s.mean:.2f})"
            if s.mean is not None
            else "—"
        )
        change = _change_mark(trend, q.key)
        pairs.append((q.label(locale), value + change))
    tools = res.tool_questions()
    if tools:
        for q in tools:
            s = overall.stats.get(q.key)
            pairs.append((q.tool or q.key, pct(s.adopted if s else None) + _change_mark(trend, q.key)))
    return pairs


def _change_mark(trend: Trend | None, key: str) -> str:
    if trend is None:
        return ""
    points = trend.overall.get(key) or []
    if not points or points[-1].change is None:
        return ""
    change = points[-1].change * 100
    if abs(change) < 0.5:
        return "  →"
    return f"  {'▲' if change > 0 else '▼'}{abs(change):.0f}pt"


def results_card(
    survey: Survey,
    rnd: SurveyRound,
    res: RoundResults,
    settings: Settings,
    locale: str,
    *,
    trend: Trend | None = None,
    now: datetime | None = None,
    running: SurveyRound | None = None,
) -> dict[str, Any]:
    """The results of a closed round; ``running``: the survey's open round, whose 回答状況 is a button."""
    from dialogs.survey import charts, links

    now = now or rnd.closed_at or rnd.closes_at
    token = links.sign(settings.secret_key, round_id=rnd.id, now=now, days=settings.survey_link_days)
    body: list[dict[str, Any]] = [
        heading(
            t("survey.results.heading", locale, name=round_name(survey, rnd, locale), period=period(rnd)),
            size="Medium",
        ),
        facts(headline_facts(res, locale, trend)),
    ]
    chart = charts.default_chart(res)
    if chart and not (res.overall.suppressed and res.anonymous):
        body.append(
            {
                "type": "Image",
                "url": links.chart_url(settings, token, chart),
                "altText": res.title,
                "size": "Stretch",
            }
        )
    if trend and trend.drops:
        lines = [drop_line(res, d, locale) for d in trend.drops[:5]]
        body.append(
            text(
                t("survey.results.drops", locale) + "\n\n" + "\n".join(f"- {line}" for line in lines),
                spacing="Medium",
            )
        )
    for note in result_notes(res, locale):
        body.append(text(note, isSubtle=True, size="Small"))
    actions = [
        open_url(t("survey.results.open", locale), links.results_url(settings, token)),
        open_url("CSV", links.export_url(settings, token, "aggregates", "csv")),
        open_url("Excel", links.export_url(settings, token, "aggregates", "xlsx")),
    ]
    if running is not None:
        body.append(
            text(
                t("survey.results.running", locale, name=round_name(survey, running, locale)),
                isSubtle=True,
                spacing="Medium",
            )
        )
        actions.append(submit(t("survey.list.status", locale), "survey.status", round=running.id))
    return adaptive_card(body, actions=actions)


def result_notes(res: RoundResults, locale: str) -> list[str]:
    """The footnotes under results: what is hidden, and what 「肯定的」 means in the scale's own words."""
    notes = []
    if res.anonymous:
        notes.append(t("survey.results.suppression_note", locale, k=res.threshold))
    if res.scale_questions():
        notes.append(
            t(
                "survey.results.favourable_note",
                locale,
                agree=t("survey.scale5.4", locale),
                strongly=t("survey.scale5.5", locale),
            )
        )
    return notes


def drop_line(res: RoundResults, drop: Any, locale: str) -> str:
    """「福祉部: 仕事のやり方を変えることに前向きだ 75% → 14%」: the question's text, not its key."""
    return t(
        "survey.results.drop_line",
        locale,
        name=drop.name,
        question=_question_label(res, drop.question, locale),
        before=_fmt_measure(drop.before, drop.measure, locale),
        after=_fmt_measure(drop.after, drop.measure, locale),
    )


def _question_label(res: RoundResults, key: str, locale: str) -> str:
    for q in res.questions:
        if q.key == key:
            return q.tool or q.label(locale)
    return key


def _fmt_measure(value: float, measure: str, locale: str) -> str:
    return f"{t('survey.results.mean', locale)} {value:.2f}" if measure == "mean" else pct(value)


def status_card(
    title: str, label: str, rnd: SurveyRound, rates: list[Any], reach: RoundReach, locale: str
) -> dict[str, Any]:
    """回答状況: who answered, who has the card and has not, who never got it; reminders in words;
    departments and the sections furthest behind (small groups merged in anonymous rounds)."""
    total = rates[0]

    def people(n: int) -> str:
        return t("survey.status.people", locale, n=n)

    rows = [
        (t("survey.results.rate", locale), f"{pct(total.rate)} ({total.responded}/{total.invited})"),
        (t("survey.card.deadline", locale), deadline(rnd, locale)),
        (t("survey.status.answered", locale), people(reach.answered)),
        (t("survey.status.received", locale), people(reach.received)),
    ]
    if reach.received:
        rows.append(
            (
                t("survey.status.received_read", locale),
                t(
                    "survey.status.read_split",
                    locale,
                    read=reach.received_read,
                    unread=reach.received_unread,
                    unknown=reach.received_unknown,
                ),
            )
        )
    if reach.sending:
        rows.append((t("survey.status.sending", locale), people(reach.sending)))
    rows.append((t("survey.status.not_received", locale), people(reach.not_received)))
    body: list[dict[str, Any]] = [
        heading(t("survey.status.title", locale, title=title, label=label), size="Medium"),
        facts(rows),
    ]
    if reach.not_received:
        body.append(text(t("survey.status.not_received_hint", locale, n=reach.not_received), size="Small"))
    lines = [
        t(
            "survey.status.reminder_line",
            locale,
            when=_when(r.at, locale),
            sent=r.sent,
            delivered=r.delivered,
            failed=r.not_delivered,
            sending=r.sending,
        )
        for r in reach.reminders
    ] or [t("survey.status.reminder_none", locale)]
    if reach.skipped:
        lines.append(t("survey.status.reminder_skipped", locale, n=reach.skipped))
    if reach.next_reminder:
        lines.append(t("survey.status.reminder_next", locale, when=_when(reach.next_reminder, locale)))
    body.append(text(t("survey.status.reminders", locale), weight="Bolder", spacing="Medium"))
    body.append(text("\n".join(f"- {line}" for line in lines), size="Small"))
    depts = [r for r in rates if r.key.startswith("d:")]
    sections = [r for r in rates if r.key.startswith("s:")]  # roster order (response_rates)
    if depts:
        body.append(text(t("survey.status.by_department", locale), weight="Bolder", spacing="Medium"))
        body.append(facts([(d.name, f"{pct(d.rate)} ({d.responded}/{d.invited})") for d in depts]))
    # Fewest answers first; equal rates keep the roster's order.
    behind = sorted((s for s in sections if s.responded < s.invited), key=lambda s: s.rate)[:10]
    if behind:
        body.append(text(t("survey.status.behind", locale), weight="Bolder", spacing="Medium"))
        body.append(facts([(s.name, f"{s.responded}/{s.invited}") for s in behind]))
    if rnd.anonymous:
        body.append(
            text(t("survey.status.small_groups", locale, k=rnd.threshold), isSubtle=True, size="Small")
        )
    actions = [submit(t("survey.status.refresh", locale), "survey.status", round=rnd.id)]
    actions.append(submit(t("survey.status.remind", locale), "survey.remind", round=rnd.id))
    return adaptive_card(body, actions=actions)


def _when(at: datetime, locale: str) -> str:
    if locale == "en":
        return to_jst(at).strftime("%Y-%m-%d %H:%M JST")
    return format_datetime_ja(at)


# --- admin ------------------------------------------------------------------------------------------


def survey_list_card(
    rows: list[tuple[Survey, SurveySchedule | None, SurveyRound | None]], locale: str, describe: Any
) -> dict[str, Any]:
    body: list[dict[str, Any]] = [heading(t("survey.list.title", locale))]
    if not rows:
        body.append(text(t("survey.list.empty", locale)))
    for survey, schedule, latest in rows:
        kind = t("survey.list.anonymous" if survey.anonymous else "survey.list.named", locale)
        lines = [f"**{survey.id}. {survey.title}** ({kind})"]
        lines.append(
            t(
                "survey.list.schedule",
                locale,
                schedule=describe(schedule) if schedule else t("survey.list.no_schedule", locale),
            )
        )
        if latest:
            lines.append(
                t(
                    "survey.list.latest",
                    locale,
                    round=latest.number,
                    label=latest.label,
                    status=t(f"survey.status.{latest.status}", locale),
                    deadline=deadline(latest, locale),
                )
            )
        items: list[dict[str, Any]] = [text("\n\n".join(lines))]
        buttons = [
            submit(t("survey.list.open_now", locale), "survey.open", survey=survey.id),
            submit(t("survey.list.schedule_button", locale), "survey.schedule.form", survey=survey.id),
        ]
        if latest and latest.status == "closed":
            buttons.append(submit(t("survey.list.results", locale), "survey.results", round=latest.id))
        if latest and latest.status == "open":
            buttons.append(submit(t("survey.list.status", locale), "survey.status", round=latest.id))
            buttons.append(submit(t("survey.list.close", locale), "survey.close.ask", round=latest.id))
        items.append({"type": "ActionSet", "actions": buttons})
        body.append(container(items, separator=True, spacing="Medium"))
    actions = [submit(t("survey.list.create", locale), "survey.create.menu")]
    return adaptive_card(body, actions=actions)


def template_menu_card(templates: list[Any], locale: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [heading(t("survey.create.title", locale))]
    actions = []
    for tpl in templates:
        body.append(text(f"**{tpl.name}** — {tpl.description}"))
        actions.append(submit(tpl.name, "survey.create", template=tpl.key))
    body.append(text(t("survey.create.custom_hint", locale), isSubtle=True, size="Small"))
    actions.append(submit(t("survey.create.builder", locale), "survey.builder.form"))
    return adaptive_card(body, actions=actions)


def created_card(survey: Survey, locale: str) -> dict[str, Any]:
    qs = survey.questions
    body = [
        heading(t("survey.created.title", locale, title=survey.title, id=survey.id), size="Medium"),
        facts(
            [
                (t("survey.created.questions", locale), str(len(qs))),
                (
                    t("survey.card.privacy", locale),
                    t("survey.list.anonymous" if survey.anonymous else "survey.list.named", locale),
                ),
                (t("survey.created.threshold", locale), str(survey.threshold)),
            ]
        ),
        text("\n".join(f"{i}. {q['text']}" for i, q in enumerate(qs, start=1)), size="Small"),
    ]
    return adaptive_card(
        body,
        actions=[
            submit(t("survey.list.schedule_button", locale), "survey.schedule.form", survey=survey.id),
            submit(t("survey.list.open_now", locale), "survey.open", survey=survey.id),
        ],
    )


def _choice_set(
    id_: str, label: str, choices: list[tuple[str, str]], value: str | None = None, multi: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": id_,
        "label": label,
        "choices": [{"title": title, "value": v} for v, title in choices],
        "isMultiSelect": multi,
        "style": "compact" if not multi else "filtered" if len(choices) > 12 else "expanded",
    }
    if value is not None:
        element["value"] = value
    return element


def schedule_card(
    survey: Survey,
    schedule: SurveySchedule | None,
    departments: list[tuple[int, str]],
    sections: list[tuple[int, str]],
    locale: str,
) -> dict[str, Any]:
    aud = (schedule.audience if schedule else None) or {}
    body: list[dict[str, Any]] = [
        heading(t("survey.schedule.title", locale, title=survey.title), size="Medium"),
        _choice_set(
            "kind",
            t("survey.schedule.kind", locale),
            [
                ("monthly", t("survey.schedule.monthly", locale)),
                ("quarterly", t("survey.schedule.quarterly", locale)),
                ("cron", "cron"),
            ],
            schedule.kind if schedule else "monthly",
        ),
        {
            "type": "Input.Number",
            "id": "nth",
            "label": t("survey.schedule.nth", locale),
            "min": 1,
            "max": 15,
            "value": schedule.nth_business_day if schedule else 2,
        },
        {
            "type": "Input.Time",
            "id": "at",
            "label": t("survey.schedule.at", locale),
            "value": schedule.at_time if schedule else "10:00",
        },
        {
            "type": "Input.Text",
            "id": "cron",
            "label": t("survey.schedule.cron", locale),
            "placeholder": "0 10 1-7 * mon-fri",
            "value": (schedule.cron or "") if schedule else "",
        },
        {
            "type": "Input.Number",
            "id": "window",
            "label": t("survey.schedule.window", locale),
            "min": 1,
            "max": 30,
            "value": schedule.window_business_days if schedule else 5,
        },
        _choice_set(
            "roles",
            t("survey.schedule.roles", locale),
            [
                ("leader,subleader", t("survey.schedule.all_promoters", locale)),
                ("leader", t("survey.schedule.leaders", locale)),
                ("subleader", t("survey.schedule.subleaders", locale)),
            ],
            ",".join(aud.get("roles") or ["leader", "subleader"]),
        ),
        _choice_set(
            "departments",
            t("survey.schedule.departments", locale),
            [(str(i), n) for i, n in departments],
            ",".join(str(d) for d in aud.get("department_ids") or []),
            multi=True,
        ),
        _choice_set(
            "sections",
            t("survey.schedule.sections", locale),
            [(str(i), n) for i, n in sections],
            ",".join(str(s) for s in aud.get("section_ids") or []),
            multi=True,
        ),
        {
            "type": "Input.Text",
            "id": "reminders",
            "label": t("survey.schedule.reminders", locale),
            "value": ",".join(
                f"{r['days_before']}@{r['at']}"
                for r in (
                    schedule.reminders
                    if schedule
                    else [{"days_before": 2, "at": "10:00"}, {"days_before": 0, "at": "09:00"}]
                )
            ),
            "placeholder": "2@10:00,0@09:00",
        },
        text(t("survey.schedule.hint", locale), isSubtle=True, size="Small"),
    ]
    actions = [
        submit(t("survey.schedule.save", locale), "survey.schedule.save", style="positive", survey=survey.id)
    ]
    if schedule and schedule.active:
        actions.append(submit(t("survey.schedule.stop", locale), "survey.schedule.stop", survey=survey.id))
    return adaptive_card(body, actions=actions)


BUILDER_ROWS = 8


def builder_card(locale: str, types: list[tuple[str, str]]) -> dict[str, Any]:
    """Build a survey in Teams: a title, privacy, and up to eight questions with their type."""
    body: list[dict[str, Any]] = [
        heading(t("survey.builder.title", locale), size="Medium"),
        {
            "type": "Input.Text",
            "id": "title",
            "label": t("survey.builder.name", locale),
            "isRequired": True,
            "errorMessage": t("survey.card.required_error", locale),
        },
        {
            "type": "Input.Toggle",
            "id": "anonymous",
            "title": t("survey.builder.anonymous", locale),
            "value": "true",
            "valueOn": "true",
            "valueOff": "false",
        },
        {
            "type": "Input.Number",
            "id": "threshold",
            "label": t("survey.builder.threshold", locale),
            "min": 3,
            "max": 25,
            "value": 5,
        },
        text(t("survey.builder.hint", locale), isSubtle=True, size="Small"),
    ]
    for i in range(1, BUILDER_ROWS + 1):
        body.append(
            container(
                [
                    {
                        "type": "Input.Text",
                        "id": f"q{i}_text",
                        "label": t("survey.builder.question", locale, n=i),
                    },
                    {
                        "type": "ColumnSet",
                        "columns": [
                            {
                                "type": "Column",
                                "width": "stretch",
                                "items": [
                                    _choice_set(
                                        f"q{i}_type", t("survey.builder.type", locale), types, "scale5"
                                    )
                                ],
                            },
                            {
                                "type": "Column",
                                "width": "stretch",
                                "items": [
                                    {
                                        "type": "Input.Text",
                                        "id": f"q{i}_options",
                                        "label": t("survey.builder.options", locale),
                                    }
                                ],
                            },
                            {
                                "type": "Column",
                                "width": "auto",
                                "items": [
                                    {
                                        "type": "Input.Toggle",
                                        "id": f"q{i}_required",
                                        "title": t("survey.builder.required", locale),
                                        "value": "true",
                                        "valueOn": "true",
                                        "valueOff": "false",
                                    }
                                ],
                            },
                        ],
                    },
                ],
                separator=True,
            )
        )
    return adaptive_card(
        body, actions=[submit(t("survey.builder.save", locale), "survey.builder.save", style="positive")]
    )


def confirm_close_card(survey: Survey, rnd: SurveyRound, locale: str) -> dict[str, Any]:
    return adaptive_card(
        [
            heading(t("survey.close.confirm_title", locale), size="Medium"),
            text(
                t(
                    "survey.close.confirm",
                    locale,
                    title=survey.title,
                    label=rnd.label,
                    deadline=deadline(rnd, locale),
                )
            ),
        ],
        actions=[
            submit(t("survey.close.yes", locale), "survey.close", style="destructive", round=rnd.id),
            submit(t("survey.close.no", locale), "survey.close.cancel", round=rnd.id),
        ],
    )


def choose_survey_card(
    lead: str, surveys: list[Survey], action: str, locale: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Which survey? One button per survey; pressing it runs ``action`` with ``survey`` and ``extra``
    (what was typed after the name: a round number, a number of business days)."""
    more = {k: v for k, v in (extra or {}).items() if v is not None}
    body: list[dict[str, Any]] = [text(lead, weight="Bolder")]
    body.append(
        {
            "type": "ActionSet",
            "actions": [submit(f"{s.id}. {s.title}", action, survey=s.id, **more) for s in surveys[:20]],
        }
    )
    return adaptive_card(body)


def choose_round_card(
    lead: str,
    rounds: list[tuple[Survey, SurveyRound]],
    action: str,
    locale: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Which running round? One button per round, named as every card names it (「DXマインド 第3回」)."""
    more = {k: v for k, v in (extra or {}).items() if v is not None}
    body: list[dict[str, Any]] = [text(lead, weight="Bolder")]
    body.append(
        {
            "type": "ActionSet",
            "actions": [
                submit(round_name(survey, rnd, locale), action, round=rnd.id, **more)
                for survey, rnd in rounds[:20]
            ],
        }
    )
    return adaptive_card(body)


def start_preview_card(
    survey: Survey,
    sample: SurveyRound,
    questions: list[Question],
    *,
    audience_label: str,
    count: AudienceCount,
    token: str,
    after: int,
    locale: str,
    recipient_locale: str,
    holiday: tuple[str, str] | None = None,
    later: datetime | None = None,
) -> dict[str, Any]:
    """開始の確認: who gets it and how many cannot be reached, the business-day warning, the card as
    recipients will see it (in the city's language), then 開始 / 取消 bound to this preview."""
    body: list[dict[str, Any]] = [
        heading(t("survey.preview.title", locale, title=survey.title), size="Medium")
    ]
    if holiday is not None:
        day, reason = holiday
        body.append(
            container(
                [
                    text(
                        t("survey.preview.holiday", locale, day=day, reason=reason, n=count.people),
                        color="Attention",
                        weight="Bolder",
                    )
                ],
                style="attention",
            )
        )
    rows = [
        (t("survey.preview.audience", locale), audience_label),
        (
            t("survey.preview.count", locale),
            t("survey.preview.count_value", locale, n=count.people, sections=count.sections),
        ),
    ]
    if count.not_reachable:
        rows.append(
            (
                t("survey.preview.not_reachable", locale),
                t("survey.preview.not_reachable_value", locale, n=count.not_reachable),
            )
        )
    rows.append((t("survey.card.deadline", locale), deadline(sample, locale)))
    rows.append(
        (
            t("survey.card.privacy", locale),
            t("survey.list.anonymous" if survey.anonymous else "survey.list.named", locale),
        )
    )
    body.append(facts(rows))
    body.append(text(t("survey.preview.as_seen", locale), isSubtle=True, size="Small", spacing="Medium"))
    seen = answer_card(survey, sample, questions, 0, recipient_locale)
    body.append(container(seen["body"], style="emphasis"))
    data: dict[str, Any] = {"token": token, "survey": survey.id, "after": after}
    start = submit(t("survey.preview.start", locale), "survey.start", style="positive", **data)
    actions = [start]
    if later is not None:
        actions.append(
            submit(
                t("survey.preview.start_later", locale, at=format_datetime_ja(later)),
                "survey.start",
                when="next_business_day",
                **data,
            )
        )
    actions.append(submit(t("survey.preview.cancel", locale), "survey.start.cancel", **data))
    for action in actions:
        action["associatedInputs"] = "none"  # the sample questions are not answered here
    return adaptive_card(body, actions=actions)
