"""Cards for improvement cases: the form, the review queue, search results, sums."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dialogs.cases.service import CaseView, Home, Problem, Saving, fmt_hours
from dialogs.kit.business_days import format_date_ja, to_jst
from dialogs.kit.cards import Element, adaptive_card, container, heading, open_url, submit, text

T = Callable[..., str]


def _input(id_: str, label: str, value: str = "", placeholder: str = "", **extra: Any) -> Element:
    return {
        "type": "Input.Text",
        "id": id_,
        "label": label,
        "value": value,
        "placeholder": placeholder,
        **extra,
    }


def _number_row(t: T, which: str, values: dict[str, Any]) -> Element:
    def col(id_: str, label: str) -> Element:
        return {
            "type": "Column",
            "width": "stretch",
            "items": [_input(id_, label, str(values.get(id_) or ""))],
        }

    columns = [
        col(f"hours_{which}", t("cases.field.hours")),
        col(f"minutes_{which}", t("cases.field.minutes")),
        col(f"times_{which}", t("cases.field.times")),
    ]
    return container(
        [text(t(f"cases.field.hours_{which}"), weight="Bolder"), {"type": "ColumnSet", "columns": columns}]
    )


def line(t: T, view: CaseView) -> str:
    c = view.case
    return t(
        "cases.saved_line",
        work=c.work,
        before=fmt_hours(c.hours_before),
        after=fmt_hours(c.hours_after),
        saved=fmt_hours(c.hours_saved),
        staff=c.staff,
    )


def form_card(
    t: T,
    tools: Sequence[str],
    homes: Sequence[Home],
    values: dict[str, Any] | None = None,
    problems: Sequence[Problem] = (),
    case_id: int | None = None,
) -> dict[str, Any]:
    v = values or {}
    chosen = v.get("tools") or ""
    if isinstance(chosen, list):
        chosen = ",".join(chosen)
    body: list[Element] = [heading(t("cases.form.edit_title" if case_id else "cases.form.title"))]
    if problems:
        body.append(text(t("cases.form.errors"), color="Attention", weight="Bolder"))
        body.extend(
            text("・" + t(key, **params), color="Attention", spacing="None") for key, params in problems
        )
    else:
        body.append(text(t("cases.form.intro"), isSubtle=True))
    if len(homes) > 1 and not case_id:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "section_id",
                "label": t("cases.field.section"),
                "value": str(v.get("section_id") or homes[0].section_id),
                "choices": [
                    {"title": f"{h.department} {h.section}", "value": str(h.section_id)} for h in homes
                ],
            }
        )
    body += [
        _input(
            "title",
            t("cases.field.title"),
            str(v.get("title") or ""),
            t("cases.field.title_hint"),
            maxLength=200,
        ),
        _input(
            "description",
            t("cases.field.description"),
            str(v.get("description") or ""),
            t("cases.field.description_hint"),
            isMultiline=True,
            maxLength=4000,
        ),
        _input(
            "work", t("cases.field.work"), str(v.get("work") or ""), t("cases.field.work_hint"), maxLength=200
        ),
        {
            "type": "Input.ChoiceSet",
            "id": "tools",
            "label": t("cases.field.tools"),
            "isMultiSelect": True,
            "style": "expanded",
            "value": chosen,
            "choices": [{"title": name, "value": name} for name in tools],
        },
        _number_row(t, "before", v),
        _number_row(t, "after", v),
        _input("staff", t("cases.field.staff"), str(v.get("staff") or "")),
        {
            "type": "Input.Date",
            "id": "started_on",
            "label": t("cases.field.started_on"),
            "value": str(v.get("started_on") or ""),
        },
        _input("file_url", t("cases.field.file_url"), str(v.get("file_url") or ""), "https://", style="Url"),
    ]
    extra = {"id": case_id} if case_id else {}
    label = t("cases.form.resend" if case_id else "cases.form.send")
    return adaptive_card(body, [submit(label, "cases.submit", style="positive", **extra)])


def case_block(t: T, view: CaseView, with_file: bool = True) -> list[Element]:
    c = view.case
    items: list[Element] = [
        text(f"**{c.title}**", spacing="Medium", separator=True),
        text(f"{view.department} {view.section}・{'、'.join(c.tools)}", isSubtle=True, spacing="None"),
        text(line(t, view), spacing="None"),
    ]
    if c.description:
        items.append(text(c.description, spacing="Small", maxLines=4))
    if with_file and c.file_url:
        items.append({"type": "ActionSet", "actions": [open_url(t("cases.search.file"), c.file_url)]})
    return items


def review_card(t: T, views: Sequence[CaseView], total: int) -> dict[str, Any]:
    if not views:
        return adaptive_card(
            [heading(t("cases.review.title", count=0), "Medium"), text(t("cases.review.none"))]
        )
    body: list[Element] = [heading(t("cases.review.title", count=total), "Medium")]
    for view in views:
        c = view.case
        when = format_date_ja(to_jst(c.submitted_at).date())
        body += case_block(t, view)
        body.append(
            text(
                t("cases.review.by", section=view.section, department=view.department, when=when),
                isSubtle=True,
                size="Small",
            )
        )
        body.append(_input(f"comment_{c.id}", t("cases.review.comment"), isMultiline=True, maxLength=1000))
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    submit(t("cases.review.publish"), "cases.publish", style="positive", id=c.id),
                    submit(t("cases.review.return"), "cases.return", id=c.id),
                ],
            }
        )
    if total > len(views):
        body.append(text(t("cases.review.more", count=total - len(views)), isSubtle=True))
    return adaptive_card(body)


def mine_card(t: T, views: Sequence[CaseView]) -> dict[str, Any]:
    body: list[Element] = [heading(t("cases.mine.title"), "Medium")]
    if not views:
        body.append(text(t("cases.mine.none")))
    for view in views:
        c = view.case
        body += case_block(t, view, with_file=False)
        body.append(text(t(f"cases.state.{c.state}"), weight="Bolder", spacing="None"))
        if c.state == "returned":
            body.append(text(t("cases.mine.comment", comment=c.review_comment), color="Attention"))
            body.append(
                {"type": "ActionSet", "actions": [submit(t("cases.mine.edit"), "cases.edit", id=c.id)]}
            )
    return adaptive_card(body)


def search_card(t: T, query: str, views: Sequence[CaseView], total: int) -> dict[str, Any]:
    if not views:
        return adaptive_card([text(t("cases.search.none", query=query))])
    body: list[Element] = [heading(t("cases.search.title", query=query, total=total), "Medium")]
    for view in views:
        body += case_block(t, view)
    if total > len(views):
        body.append(text(t("cases.search.more", count=total - len(views)), isSubtle=True))
    return adaptive_card(body)


def overview_card(
    t: T, total: int, hours: float, by_tool: dict[str, int], by_dept: dict[str, int]
) -> dict[str, Any]:
    if total == 0:
        return adaptive_card([text(t("cases.overview.none"))])

    def group(title: str, counts: dict[str, int]) -> list[Element]:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [
            text(title, weight="Bolder", spacing="Medium"),
            {
                "type": "ActionSet",
                "actions": [
                    submit(f"{name}({t('cases.overview.count', count=n)})", "cases.search", q=name)
                    for name, n in ranked[:12]
                ],
            },
        ]

    body: list[Element] = [heading(t("cases.overview.title", total=total, hours=fmt_hours(hours)), "Medium")]
    body += group(t("cases.overview.by_tool"), by_tool)
    body += group(t("cases.overview.by_department"), by_dept)
    body.append(text(t("cases.overview.hint"), isSubtle=True))
    return adaptive_card(body)


def savings_card(
    t: T,
    scope: str,
    total: tuple[float, int],
    by_dept: list[Saving],
    by_tool: list[Saving],
    by_year: list[Saving],
) -> dict[str, Any]:
    hours, count = total
    if count == 0:
        return adaptive_card([text(t("cases.savings.none", scope=scope))])

    def rows(title: str, items: list[Saving]) -> list[Element]:
        out = [text(title, weight="Bolder", spacing="Medium")]
        out += [
            text(
                t("cases.savings.line", label=s.label, hours=fmt_hours(s.hours_per_month), count=s.cases),
                spacing="None",
            )
            for s in items[:15]
        ]
        return out

    body: list[Element] = [
        heading(t("cases.savings.title", scope=scope), "Medium"),
        text(t("cases.savings.total", hours=fmt_hours(hours), year=fmt_hours(hours * 12), count=count)),
    ]
    body += rows(t("cases.savings.by_department"), by_dept)
    body += rows(t("cases.savings.by_tool"), by_tool)
    if len(by_year) > 1:
        body += rows(t("cases.savings.by_year"), by_year)
    return adaptive_card(body)


def related_card(t: T, views: Sequence[CaseView]) -> dict[str, Any]:
    body: list[Element] = [heading(t("cases.related.title", count=len(views)), "Medium")]
    for view in views:
        body += case_block(t, view)
    body.append(text(t("cases.related.hint"), isSubtle=True, size="Small"))
    return adaptive_card(body)
