"""The roster as a file the DX division can edit and send back: CSV (UTF-8 with BOM, opens in Excel) or XLSX.

    data = await export_roster(session, "roster.xlsx")

Exporting and importing the result changes nothing. Cells that start with = + - @ get a leading quote
so a spreadsheet shows them as text instead of running them; the importer removes that quote again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.roster.normalize import escape_cell
from storage.models.roster import Assignment, Department, Person, PromoterRole, Section

HEADER_JA = ("部", "課", "役割", "氏名", "メールアドレス")
ROLE_JA = {PromoterRole.LEADER: "リーダー", PromoterRole.SUBLEADER: "サブリーダー"}


async def roster_rows(session: AsyncSession) -> list[tuple[str, str, str, str, str]]:
    """One row per open assignment, and one blank row for each active section nobody holds."""
    stmt = (
        select(Department.name, Section.name, Assignment.role, Person.name, Person.email)
        .select_from(Section)
        .join(Department, Department.id == Section.department_id)
        .outerjoin(Assignment, (Assignment.section_id == Section.id) & Assignment.valid_to.is_(None))
        .outerjoin(Person, Person.id == Assignment.person_id)
        .where(Section.active.is_(True))
        .order_by(
            Department.sort_order, Department.id, Section.sort_order, Section.id, Assignment.role, Person.name
        )
    )
    rows = []
    for dept, sec, role, name, email in (await session.execute(stmt)).all():
        rows.append((dept, sec, ROLE_JA[role] if role else "", name or "", email or ""))
    return rows


def to_csv(rows: Sequence[tuple[str, ...]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER_JA)
    for row in rows:
        writer.writerow([escape_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[tuple[str, ...]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名簿")
    for letter, width in zip("ABCDE", (18, 22, 14, 18, 36), strict=True):
        sheet.column_dimensions[letter].width = width
    header = []
    for title in HEADER_JA:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        # openpyxl stores a string starting with "=" as a formula; escaped, none does any more.
        sheet.append([escape_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def export_roster(session: AsyncSession, file_name: str) -> bytes:
    rows = await roster_rows(session)
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        return to_xlsx(rows)
    return to_csv(rows)
