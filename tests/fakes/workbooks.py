"""Excel files written by hand (the XML zipped directly), for sizes openpyxl would take minutes to write.

data = roster_xlsx(rows=1_000_000)      # about 740 KB, like the file of the incident
data = zip_bomb(unpacked=300 * MB)      # a sheet of blanks that unpacks to 300 MB
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from xml.sax.saxutils import escape

MB = 1024 * 1024
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet name="名簿" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""

HEADER = ("部", "課", "役割", "氏名", "メールアドレス")
ROW = ("総務部", "総務課", "サブリーダー", "山田 花子", "hanako.yamada@demo-city.example.jp")


def _shared_strings(texts: tuple[str, ...]) -> str:
    items = "".join(f"<si><t>{escape(t)}</t></si>" for t in texts)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{_MAIN}">{items}</sst>'


def _sheet_rows(rows: int, width: int = 5) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}"><sheetData>'
    # No r= attributes (allowed: a cell's place follows from its order). The last cell, a number that
    # cycles through 0-99, keeps a million rows from zipping into almost nothing.
    yield "<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in range(width)) + "</row>"
    start = "<row>" + "".join(f'<c t="s"><v>{width + i}</v></c>' for i in range(width - 1))
    for n in range(rows):
        yield f"{start}<c><v>{n % 100}</v></c></row>"
    yield "</sheetData></worksheet>"


def _package(sheet: Iterator[str] | str, strings: tuple[str, ...], extra_parts: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/sharedStrings.xml", _shared_strings(strings))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            pieces = [sheet] if isinstance(sheet, str) else sheet
            buffer: list[str] = []
            size = 0
            for piece in pieces:
                buffer.append(piece)
                size += len(piece)
                if size > MB:
                    part.write("".join(buffer).encode())
                    buffer, size = [], 0
            part.write("".join(buffer).encode())
        for i in range(extra_parts):
            z.writestr(f"xl/media/image{i}.png", b"")
    return out.getvalue()


def roster_xlsx(rows: int) -> bytes:
    """A roster sheet: the header, then ``rows`` rows (the same person; the reader never gets far).
    A million rows: about 740 KB, unpacking into 106 MB of XML."""
    return _package(_sheet_rows(rows), HEADER + ROW)


def table_xlsx(header: tuple[str, ...], row: tuple[str, ...], rows: int) -> bytes:
    """Any sheet: ``header``, then ``rows`` copies of ``row`` (its last cell replaced by a number)."""
    assert len(header) == len(row)
    return _package(_sheet_rows(rows, len(header)), header + row)


def zip_bomb(unpacked: int) -> bytes:
    """A sheet padded with ``unpacked`` bytes of blanks (XML allows them between elements)."""

    def pieces() -> Iterator[str]:
        yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}"><sheetData>'
        for _ in range(unpacked // MB):
            yield " " * MB
        yield "</sheetData></worksheet>"

    return _package(pieces(), HEADER)


def many_parts(parts: int) -> bytes:
    """A small roster with ``parts`` empty files beside it in the zip."""
    return _package(_sheet_rows(3), HEADER + ROW, extra_parts=parts)


def one_huge_row(cells: int) -> bytes:
    """A header and then one row of ``cells`` cells: small unpacked, but one row costs a dict per cell."""
    row = "<row>" + '<c t="s"><v>5</v></c>' * cells + "</row>"
    header = "<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in range(5)) + "</row>"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}"><sheetData>'
        f"{header}{row}</sheetData></worksheet>"
    )
    return _package(sheet, HEADER + ROW)
