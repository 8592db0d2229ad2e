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

from dialogs.announce.service import delivery_states
from dialogs.kit.business_days import to_jst
from dialogs.kit.i18n import t
from storage.models.announce import Announcement, AnnouncementRecipient

COLUMNS = ("部", "課", "役割", "氏名", "状況", "配信日時", "確認日時", "エラー")
COLUMNS_EN = ("Department", "Section", "Role", "Name", "Status", "Delivered at", "Confirmed at", "Error")


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
    rows: list[tuple[str, ...]] = [COLUMNS if locale == "ja" else COLUMNS_EN]
    for r in recipients:
        d = states.get(r.person_id)
        state = d.state if d else "queued"
        error = ""
        if d is not None and d.error and state in ("failed", "unreachable"):
            label = t(f"announce.reason.{d.error}", locale)
            error = label if not label.startswith("announce.") else d.error
        rows.append(
            (
                r.department,
                r.section,
                t(f"announce.role.{r.role}", locale),
                r.name,
                t("announce.state.confirmed", locale)
                if r.confirmed_at
                else t(f"announce.state.{state}", locale),
                _when(d.delivered_at if d and state == "delivered" else None),
                _when(r.confirmed_at),
                error,
            )
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
    for col, width in zip("ABCDEFGH", (14, 18, 12, 16, 10, 18, 18, 24), strict=True):
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
