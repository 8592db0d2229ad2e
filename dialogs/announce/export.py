"""Per-recipient status of an announcement as CSV or XLSX: the proof that every section was told.

data = await export_bytes(session, ann, "xlsx")
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.announce.relay.store import RelayReport, section_status
from dialogs.announce.service import KIND, delivery_states
from dialogs.engines.delivery.receipts import read_states
from dialogs.engines.delivery.vocabulary import reason_word, status_code, status_word
from dialogs.kit.business_days import to_jst
from dialogs.kit.i18n import t
from storage.models.announce import Announcement, AnnouncementRecipient

# The last four columns join the results with the city's systems: the roster id and email of the
# person, and the stable codes of the status and reason (dialogs/engines/delivery/vocabulary.py).
# Then 既読 from Teams read receipts (既読 / 未読 / 既読不明; empty where nothing arrived).
COLUMNS = (
    "部", "課", "役割", "氏名", "状況", "配信日時", "確認日時", "エラー",
    "名簿ID", "メールアドレス", "状況コード", "理由コード", "既読", "既読日時",
)  # fmt: skip
COLUMNS_EN = (
    "Department", "Section", "Role", "Name", "Status", "Delivered at", "Confirmed at", "Error",
    "Roster id", "Email", "Status code", "Reason code", "Read", "Read at",
)  # fmt: skip
# With a relay request (伝達依頼): the section's report, on each of its promoters' rows.
RELAY_COLUMNS = ("伝達", "伝達方法", "伝達人数", "伝達報告日時", "伝達報告者")
RELAY_COLUMNS_EN = ("Relay", "Relayed how", "Staff reached", "Reported at", "Reported by")
WIDTHS = (14, 18, 12, 16, 10, 18, 18, 24, 10, 28, 14, 16, 10, 18, 10, 16, 10, 18, 16)


def _when(moment: datetime | None) -> str:
    return to_jst(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


async def export_rows(session: AsyncSession, ann: Announcement, locale: str = "ja") -> list[tuple[str, ...]]:
    recipients = (
        await session.scalars(
            select(AnnouncementRecipient)
            .where(AnnouncementRecipient.announcement_id == ann.id)
            .order_by(AnnouncementRecipient.sort_key)
        )
    ).all()
    states = await delivery_states(session, ann)
    read = await read_states(session, KIND, ann.id)
    relays: dict[int, RelayReport] = {}
    header: tuple[str, ...] = COLUMNS if locale == "ja" else COLUMNS_EN
    if ann.relay_required:
        relays = {
            s.section_id: s.report for s in await section_status(session, ann.id) if s.report is not None
        }
        header += RELAY_COLUMNS if locale == "ja" else RELAY_COLUMNS_EN
    rows: list[tuple[str, ...]] = [header]
    for r in recipients:
        d = states.get(r.person_id)
        state = d.state if d else "queued"
        code = status_code(state)
        reason = ""
        if d is not None and code in ("not_reachable", "send_failed"):
            reason = d.error or "unknown"
        rows.append(
            (
                r.department,
                r.section,
                t(f"announce.role.{r.role}", locale),
                r.name,
                t("announce.state.confirmed", locale) if r.confirmed_at else status_word(code, locale),
                _when(d.delivered_at if d and state == "delivered" else None),
                _when(r.confirmed_at),
                reason_word(reason, locale) if reason else "",
                str(r.person_id),
                r.email,
                "confirmed" if r.confirmed_at else code,
                reason,
            )
        )
        read_state, read_at = read.get(f"person:{r.person_id}", ("", None))
        rows[-1] += (t(f"announce.read.state.{read_state}", locale) if read_state else "", _when(read_at))
        if ann.relay_required:
            rep = relays.get(r.section_id)
            rows[-1] += (
                (
                    t("announce.relay.state.relayed", locale),
                    t(f"announce.relay.method.{rep.method}", locale) + (f"({rep.note})" if rep.note else ""),
                    "" if rep.reached is None else str(rep.reached),
                    _when(rep.updated_at),
                    rep.reporter_name,
                )
                if rep is not None
                else (t("announce.relay.state.not_relayed", locale), "", "", "", "")
            )
    return rows


def _safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: keep names and errors as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")  # the BOM makes Excel read Japanese correctly


def to_xlsx(rows: Sequence[Sequence[str]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "配信状況"
    for row in rows:
        ws.append([_safe(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFGHIJKLMNOPQRS", WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    wb.properties.title = title[:200]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def export_bytes(session: AsyncSession, ann: Announcement, fmt: str, locale: str = "ja") -> bytes:
    rows = await export_rows(session, ann, locale)
    return to_xlsx(rows, ann.title) if fmt == "xlsx" else to_csv(rows)


def file_name(ann: Announcement, fmt: str) -> str:
    return f"announcement-{ann.id}.{fmt}"
