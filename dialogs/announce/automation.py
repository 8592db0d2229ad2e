"""Announcements from other systems: the JSON that ``POST /api/v1/announcements`` and
``dxbot announce send`` accept, checked exactly like the Teams form.

    {"title": "…", "body": "…", "audience": "all" | "leaders" | {"departments": ["総務部"]} |
     {"sections": ["税務課", "総務部 総務課"]}, "deadline": "2026-04-10", "importance": "high",
     "links": [{"title": "…", "url": "https://…"}], "send_at": "2026-04-01T09:00", "to_channel": false}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Services
from dialogs.announce import service
from dialogs.announce.compose import Form, validate
from dialogs.kit.business_days import JST, format_datetime_ja, non_business_reason
from dialogs.kit.i18n import t as translate
from dialogs.roster.network import today_jst
from storage.models.announce import Announcement, AnnouncementRecipient
from storage.models.roster import Department, Section


def _t(locale: str) -> Any:
    return lambda key, **kw: translate(key, locale, **kw)


def _is_date(raw: Any) -> bool:
    """ "2026-04-10" exactly: a real day, four-digit year (the compose form checks how far ahead)."""
    if not isinstance(raw, str) or len(raw) != 10:
        return False
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return True


def _moment(raw: Any) -> datetime | None:
    """An ISO 8601 moment in Japan time; None if it is not one (wrong type, year past 9999, no such day)."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        return moment.replace(tzinfo=JST) if moment.tzinfo is None else moment.astimezone(JST)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:00-05:00 is past 9999 in Japan
        return None


async def form_from_json(
    session: AsyncSession, data: Any, locale: str = "ja"
) -> tuple[Form | None, list[str]]:
    t = _t(locale)
    if not isinstance(data, dict):
        return None, [t("announce.api.not_object")]
    errors: list[str] = []
    audience = data.get("audience")
    kind, ids = "all", list[int]()
    if audience is None:
        # No silent default of everyone: a forgotten field must not reach the whole city hall.
        errors.append(t("announce.api.audience_missing"))
    elif isinstance(audience, str) and audience in ("all", "leaders"):
        kind = audience
    elif (
        isinstance(audience, dict)
        and len(audience) == 1
        and next(iter(audience)) in ("departments", "sections")
    ):
        kind = next(iter(audience))
        names = audience[kind]
        if isinstance(names, str):
            names = [n for n in names.replace("、", ",").split(",")]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            errors.append(t("announce.api.audience"))
        else:
            ids, unknown = await service.ids_for_names(session, kind, names)
            if unknown:
                errors.append(t(f"announce.api.unknown_{kind}", names="、".join(unknown)))
    else:
        errors.append(t("announce.api.audience"))
    links = data.get("links") or []
    if not isinstance(links, list) or len(links) > 3 or not all(isinstance(x, dict) for x in links):
        errors.append(t("announce.api.links"))
        links = []
    elif not all(isinstance(x.get(k, ""), str) for x in links for k in ("title", "url")):
        errors.append(t("announce.api.links"))
        links = []
    deadline = data.get("deadline") or ""
    if deadline and not _is_date(deadline):
        errors.append(t("announce.api.bad_date", field="deadline", example="2026-04-10"))
        deadline = ""
    ack = data.get("ack_required")
    send_date = send_time = ""
    send_at = data.get("send_at")
    if send_at:
        # ISO 8601 with a four-digit year; without an offset it is Japan time.
        moment = _moment(send_at)
        if moment is None:
            errors.append(t("announce.api.bad_date", field="send_at", example="2026-04-01T09:00"))
        else:
            send_date, send_time = moment.date().isoformat(), moment.strftime("%H:%M")
    for key in ("title", "body"):
        if key in data and not isinstance(data[key], str):
            errors.append(t("announce.api.not_text", field=key))
    for key in ("to_channel", "ack_required"):
        if data.get(key) is not None and not isinstance(data[key], bool):
            errors.append(t("announce.api.not_bool", field=key))
    if data.get("importance") not in (None, "", "normal", "high", "重要", "通常"):
        errors.append(t("announce.api.importance"))
    if errors:
        return None, errors
    form = Form(
        title=str(data.get("title") or "").strip(),
        body=str(data.get("body") or "").strip(),
        links=[[str(x.get("title", "")), str(x.get("url", ""))] for x in links]
        + [["", ""] for _ in range(3 - len(links))],
        importance="high" if data.get("importance") in ("high", "重要") else "normal",
        audience=kind,
        department_ids=ids if kind == "departments" else [],
        section_ids=ids if kind == "sections" else [],
        to_channel=bool(data.get("to_channel")),
        ack_required=bool(deadline) if ack is None else bool(ack),
        deadline=str(deadline),
        send_mode="later" if send_at else "now",
        send_date=send_date,
        send_time=send_time,
    )
    return form, []


@dataclass
class Preview:
    """What a send would do (``--dry-run``): nothing is stored or queued."""

    audience: str  # the audience in words (全員, 財務部, …)
    people: int
    reachable: int
    not_reachable: int
    send_at: datetime | None
    warnings: list[str]  # a weekend / holiday send, as the Teams preview says it

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "audience": self.audience,
            "recipients": self.people,
            "reachable": self.reachable,
            "not_reachable": self.not_reachable,
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "warnings": self.warnings,
        }


def send_warnings(send_at: datetime | None, now: datetime, locale: str = "ja") -> list[str]:
    """The weekend / holiday warning the Teams preview gives for the moment a send goes out."""
    moment = send_at or now
    reason = non_business_reason(moment.astimezone(JST).date())
    if reason is None:
        return []
    return [translate("announce.warn.holiday_send", locale, at=format_datetime_ja(moment), reason=reason)]


async def _audience_label(session: AsyncSession, audience: dict[str, Any], locale: str) -> str:
    kind = audience.get("kind", "all")
    ids = audience.get("ids") or []
    if kind == "departments" and ids:
        return "、".join((await session.scalars(select(Department.name).where(Department.id.in_(ids)))).all())
    if kind == "sections" and ids:
        return "、".join((await session.scalars(select(Section.name).where(Section.id.in_(ids)))).all())
    return translate(f"announce.audience.{kind}", locale)


async def preview(
    session: AsyncSession, data: Any, *, now: datetime, locale: str = "ja"
) -> tuple[Preview | None, list[str]]:
    """Check a request exactly like ``create_and_send`` and say whom it would reach; store nothing."""
    t = _t(locale)
    form, errors = await form_from_json(session, data, locale)
    if form is None:
        return None, errors
    channel = await service.division_channel(session)
    draft, errors = validate(form, now, t, channel_available=channel is not None)
    if draft is None:
        return None, errors
    summary = await service.summarize(session, draft.audience, today_jst(now))
    if summary.people == 0:
        return None, [t("announce.err.nobody")]
    return (
        Preview(
            audience=await _audience_label(session, draft.audience, locale),
            people=summary.people,
            reachable=summary.people - summary.not_reachable,
            not_reachable=summary.not_reachable,
            send_at=draft.send_at,
            warnings=[*draft.notices, *send_warnings(draft.send_at, now, locale)],
        ),
        [],
    )


async def find_by_key(session: AsyncSession, idempotency_key: str) -> Announcement | None:
    """The announcement an earlier request with this key created, if any."""
    return await session.scalar(select(Announcement).where(Announcement.idempotency_key == idempotency_key))


def key_error(idempotency_key: str | None, locale: str = "ja") -> str | None:
    """A key must be 1-200 printable characters (a UUID is a good choice)."""
    if idempotency_key is None:
        return None
    if not (0 < len(idempotency_key) <= 200) or not idempotency_key.isprintable():
        return translate("announce.api.idempotency_key", locale)
    return None


async def create_and_send(
    services: Services,
    session: AsyncSession,
    data: Any,
    *,
    source: str,
    author_label: str,
    now: datetime,
    locale: str = "ja",
    idempotency_key: str | None = None,
) -> tuple[Announcement | None, int, list[str]]:
    """Validate, store and send (or schedule). Returns (announcement, recipients, errors).

    With ``idempotency_key``: if an announcement was already created with that key, it is returned
    as it is (check ``ann.idempotency_key`` and ``ann.created_at`` to tell) and nothing is sent again."""
    t = _t(locale)
    bad_key = key_error(idempotency_key, locale)
    if bad_key:
        return None, 0, [bad_key]
    if idempotency_key is not None:
        earlier = await find_by_key(session, idempotency_key)
        if earlier is not None:
            recipients = await session.scalar(
                select(func.count()).where(AnnouncementRecipient.announcement_id == earlier.id)
            )
            return earlier, int(recipients or 0), []
    form, errors = await form_from_json(session, data, locale)
    if form is None:
        return None, 0, errors
    channel = await service.division_channel(session)
    draft, errors = validate(form, now, t, channel_available=channel is not None)
    if draft is None:
        return None, 0, errors
    summary = await service.summarize(session, draft.audience, today_jst(now))
    if summary.people == 0:
        return None, 0, [t("announce.err.nobody")]
    ann = await service.save_form(
        session,
        None,
        form,
        author_person_id=None,
        author_label=author_label,
        locale=locale,
        now=now,
        source=source,
    )
    ann.idempotency_key = idempotency_key
    service.apply_draft(ann, draft, form)
    count = await service.send_or_schedule(services, session, ann, now)
    return ann, count or summary.people, []


async def status_document(session: AsyncSession, ann: Announcement) -> dict[str, Any]:
    """Where an announcement stands, with the delivery engine's stable codes: what
    ``dxbot announce status --json`` prints and ``GET /api/v1/announcements/{id}`` answers
    (counts by status code, reasons by code; the words are in ``dialogs.engines.delivery.vocabulary``)."""
    f = await service.figures(session, ann)
    data: dict[str, Any] = {
        "id": ann.id,
        "title": ann.title,
        "state": ann.state,
        "late": bool(ann.late),
        "recipients": f.recipients,
        "counts": {
            "delivered": f.delivered,
            "pending": f.pending,
            "not_reachable": f.unreachable,
            "send_failed": f.failed,
            "cancelled": f.cancelled,
        },
        "not_delivered": f.unreachable + f.failed,
        "confirmed": f.confirmed if ann.ack_required else None,
        "deadline": ann.deadline.isoformat() if ann.deadline else None,
        "reasons": dict(f.reasons.most_common()),
    }
    for name, change in (("recall", f.recall), ("edit", f.edit)):
        if change is not None:
            data[name] = {
                "copies": change.total,
                "done": change.done,
                "pending": change.pending,
                "failed": change.failed,
                "gone": change.gone,
                "reasons": dict(change.reasons.most_common()),
            }
    return data
