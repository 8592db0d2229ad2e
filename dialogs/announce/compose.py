"""The compose form: what an author typed, and whether it can be sent.

The same checks serve the Teams card, ``dxbot announce send`` and the HTTP API, so an announcement
means the same thing whichever way it arrives.

    form = Form.from_values(turn.value)
    draft, errors = validate(form, now, t)     # errors are polite Japanese sentences
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from dialogs.kit.business_days import JST, is_business_day, next_business_day

MAX_TITLE = 100
MAX_BODY = 4000
MAX_LINKS = 3
MAX_AHEAD_DAYS = (
    366  # a deadline or send date further ahead is a typo (and 9999-12-31 has no next business day)
)
AUDIENCES = ("all", "leaders", "departments", "sections")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)

T = Callable[..., str]


def _ids(raw: Any) -> list[int]:
    """Input.ChoiceSet multi-select sends "1,3,5"; the API sends a list."""
    if raw is None or raw == "":
        return []
    parts = raw if isinstance(raw, list) else str(raw).split(",")
    out = []
    for p in parts:
        try:
            out.append(int(str(p).strip()))
        except ValueError:
            continue
    return out


def _flag(raw: Any, default: bool = False) -> bool:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in ("true", "1", "yes", "on", "はい")


@dataclass
class Form:
    """The compose card's inputs, as strings and ids, exactly as submitted (kept with drafts)."""

    title: str = ""
    body: str = ""
    links: list[list[str]] = field(default_factory=lambda: [["", ""] for _ in range(MAX_LINKS)])
    importance: str = "normal"
    audience: str = "all"
    department_ids: list[int] = field(default_factory=list)
    section_ids: list[int] = field(default_factory=list)
    to_channel: bool = False
    ack_required: bool = True
    deadline: str = ""  # YYYY-MM-DD (Input.Date)
    relay_required: bool = False  # 伝達依頼: each section's promoters pass it on and report how
    relay_deadline: str = ""  # YYYY-MM-DD (Input.Date)
    send_mode: str = "now"  # now | later
    send_date: str = ""
    send_time: str = ""  # HH:MM (Input.Time)

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> Form:
        links = [
            [str(values.get(f"link{i}_title") or "").strip(), str(values.get(f"link{i}_url") or "").strip()]
            for i in range(1, MAX_LINKS + 1)
        ]
        return cls(
            title=str(values.get("title") or "").strip(),
            body=str(values.get("body") or "").strip(),
            links=links,
            importance="high" if values.get("importance") == "high" else "normal",
            audience=str(values.get("audience") or "all"),
            department_ids=_ids(values.get("departments")),
            section_ids=_ids(values.get("sections")),
            to_channel=_flag(values.get("to_channel")),
            ack_required=_flag(values.get("ack_required"), default=False),
            deadline=str(values.get("deadline") or "").strip(),
            relay_required=_flag(values.get("relay_required")),
            relay_deadline=str(values.get("relay_deadline") or "").strip(),
            send_mode="later" if values.get("send_mode") == "later" else "now",
            send_date=str(values.get("send_date") or "").strip(),
            send_time=str(values.get("send_time") or "").strip(),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Form:
        """A form stored with a draft (``to_json``)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        links = [
            [str(x[0]), str(x[1])]
            for x in known.get("links") or []
            if isinstance(x, list | tuple) and len(x) == 2
        ]
        links += [["", ""] for _ in range(max(0, MAX_LINKS - len(links)))]
        known["links"] = links[:MAX_LINKS]
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def values(self) -> dict[str, Any]:
        """The card's input ids and values, to fill the form again."""
        out: dict[str, Any] = {
            "title": self.title,
            "body": self.body,
            "importance": self.importance,
            "audience": self.audience,
            "departments": ",".join(str(i) for i in self.department_ids),
            "sections": ",".join(str(i) for i in self.section_ids),
            "to_channel": "true" if self.to_channel else "false",
            "ack_required": "true" if self.ack_required else "false",
            "deadline": self.deadline,
            "relay_required": "true" if self.relay_required else "false",
            "relay_deadline": self.relay_deadline,
            "send_mode": self.send_mode,
            "send_date": self.send_date,
            "send_time": self.send_time,
        }
        for i, (title, url) in enumerate(self.links[:MAX_LINKS], start=1):
            out[f"link{i}_title"] = title
            out[f"link{i}_url"] = url
        return out


@dataclass
class Draft:
    """A form that passed every check: ready to preview and send."""

    title: str
    body: str
    links: list[dict[str, str]]
    importance: str
    audience: dict[str, Any]
    to_channel: bool
    ack_required: bool
    deadline: date | None
    send_at: datetime | None
    notices: list[str] = field(default_factory=list)  # not errors: the deadline moved, a holiday send
    relay_required: bool = False
    relay_deadline: date | None = None  # 伝達期限, a business day


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None


def _parse_time(raw: str) -> time | None:
    m = re.match(r"^\s*(\d{1,2}):(\d{2})", raw or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def validate(
    form: Form, now: datetime, t: T, *, channel_available: bool = True
) -> tuple[Draft | None, list[str]]:
    """Check a form; return the draft, or the reasons (polite Japanese) it cannot be sent yet."""
    errors: list[str] = []
    if not form.title:
        errors.append(t("announce.err.title"))
    elif len(form.title) > MAX_TITLE:
        errors.append(t("announce.err.title_long", max=MAX_TITLE, n=len(form.title)))
    if not form.body:
        errors.append(t("announce.err.body"))
    elif len(form.body) > MAX_BODY:
        errors.append(t("announce.err.body_long", max=MAX_BODY, n=len(form.body)))
    links = []
    for i, (title, url) in enumerate(form.links[:MAX_LINKS], start=1):
        if not title and not url:
            continue
        if not url:
            errors.append(t("announce.err.link_url_missing", n=i))
        elif not _URL.match(url):
            errors.append(t("announce.err.link_url", n=i))
        elif len(url) > 1000:
            errors.append(t("announce.err.link_url", n=i))
        else:
            links.append({"title": (title or t("announce.link.default", n=i))[:40], "url": url})
    if form.audience not in AUDIENCES:
        errors.append(t("announce.err.audience"))
    elif form.audience == "departments" and not form.department_ids:
        errors.append(t("announce.err.departments"))
    elif form.audience == "sections" and not form.section_ids:
        errors.append(t("announce.err.sections"))
    if form.to_channel and not channel_available:
        errors.append(t("announce.err.no_channel"))
    today = now.astimezone(JST).date()
    last_day = today + timedelta(days=MAX_AHEAD_DAYS)
    notices: list[str] = []
    deadline = None
    if form.ack_required:
        if not form.deadline:
            errors.append(t("announce.err.deadline"))
        else:
            deadline = _parse_date(form.deadline)
            if deadline is None:
                errors.append(t("announce.err.deadline_format"))
            elif deadline < today:
                errors.append(t("announce.err.deadline_past"))
            elif deadline > last_day:
                errors.append(t("announce.err.deadline_far", days=MAX_AHEAD_DAYS))
                deadline = None
    relay_deadline = None
    if form.relay_required:
        if not form.ack_required:
            errors.append(t("announce.err.relay_needs_ack"))
        relay_deadline, relay_errors = check_relay_deadline(
            form.relay_deadline, today, t, confirm_by=deadline
        )
        errors += relay_errors
    send_at = None
    if form.send_mode == "later":
        day, at = _parse_date(form.send_date), _parse_time(form.send_time)
        if not form.send_date or not form.send_time:
            errors.append(t("announce.err.send_at"))
        elif day is None or at is None:
            errors.append(t("announce.err.send_at_format"))
        elif day > last_day:
            errors.append(t("announce.err.send_at_far", days=MAX_AHEAD_DAYS))
        else:
            send_at = datetime.combine(day, at, tzinfo=JST)
            if send_at <= now:
                errors.append(t("announce.err.send_at_past"))
            elif deadline is not None and deadline < day:
                errors.append(t("announce.err.deadline_before_send"))
            elif relay_deadline is not None and relay_deadline < day:
                errors.append(t("announce.err.relay_deadline_before_send"))
    if not errors:
        deadline = _on_a_business_day(deadline, "announce.notice.deadline_moved", notices, t)
        relay_deadline = _on_a_business_day(
            relay_deadline, "announce.notice.relay_deadline_moved", notices, t
        )
    if errors:
        return None, errors
    audience: dict[str, Any] = {"kind": form.audience}
    if form.audience == "departments":
        audience["ids"] = sorted(set(form.department_ids))
    elif form.audience == "sections":
        audience["ids"] = sorted(set(form.section_ids))
    return (
        Draft(
            title=form.title,
            body=form.body,
            links=links,
            importance=form.importance,
            audience=audience,
            to_channel=form.to_channel,
            ack_required=form.ack_required,
            deadline=deadline,
            send_at=send_at,
            notices=notices,
            relay_required=form.relay_required,
            relay_deadline=relay_deadline,
        ),
        [],
    )


def check_relay_deadline(
    raw: str, today: date, t: T, *, confirm_by: date | None
) -> tuple[date | None, list[str]]:
    """A typed 伝達期限 (YYYY-MM-DD) checked: not past, not a typo far ahead, not before the confirmation
    deadline ``confirm_by``. Returns the date as typed (None if unreadable) and the errors."""
    if not raw:
        return None, [t("announce.err.relay_deadline")]
    day = _parse_date(raw)
    if day is None:
        return None, [t("announce.err.relay_deadline_format")]
    if day < today:
        return day, [t("announce.err.relay_deadline_past")]
    if day > today + timedelta(days=MAX_AHEAD_DAYS):
        return None, [t("announce.err.relay_deadline_far", days=MAX_AHEAD_DAYS)]
    if confirm_by is not None and day < confirm_by:
        return day, [t("announce.err.relay_before_deadline")]
    return day, []


def changed_relay_deadline(
    raw: str, now: datetime, t: T, *, confirm_by: date | None
) -> tuple[date | None, list[str], list[str]]:
    """伝達期限 changed after sending (「伝達期限を変更」): the business day it becomes, the errors, and the
    notices (a holiday moved to the next business day), with the same checks as the compose form.

        day, errors, notices = changed_relay_deadline("2026-04-29", now, t, confirm_by=ann.deadline)
    """
    day, errors = check_relay_deadline(raw.strip(), now.astimezone(JST).date(), t, confirm_by=confirm_by)
    if errors:
        return None, errors, []
    notices: list[str] = []
    return _on_a_business_day(day, "announce.notice.relay_deadline_moved", notices, t), [], notices


def _on_a_business_day(day: date | None, key: str, notices: list[str], t: Any) -> date | None:
    """A deadline that falls on a weekend, holiday or 年末年始 moves to the next business day, and the
    author is told (``key`` in the catalog)."""
    if day is None or is_business_day(day):
        return day
    from dialogs.kit.business_days import format_date_ja, non_business_reason

    moved = next_business_day(day)
    notices.append(
        t(key, day=format_date_ja(day), reason=non_business_reason(day), moved=format_date_ja(moved))
    )
    return moved
