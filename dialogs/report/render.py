"""Render a deck slide by slide to PNG with LibreOffice (headless), to look at what a city will get.

    python -m dialogs.report.render build/report.pptx build/report-png/   (make report-png)

LibreOffice converts only the first slide of a deck to PNG, so each slide is saved as a deck of
its own first. Needs ``soffice`` (apt-get install libreoffice-impress); says so when it is missing.
"""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def single_slide_decks(data: bytes) -> list[bytes]:
    from pptx import Presentation

    count = len(Presentation(io.BytesIO(data)).slides)
    out = []
    for keep in range(count):
        prs = Presentation(io.BytesIO(data))
        ids = prs.slides._sldIdLst  # noqa: SLF001  (python-pptx has no public slide removal)
        for i, sld in reversed(list(enumerate(copy.copy(list(ids))))):
            if i != keep:
                ids.remove(sld)
        buf = io.BytesIO()
        prs.save(buf)
        out.append(buf.getvalue())
    return out


def render(deck: Path, out_dir: Path) -> list[Path]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("soffice が見つかりません: apt-get install libreoffice-impress / soffice not found")
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, data in enumerate(single_slide_decks(deck.read_bytes()), start=1):
            src = Path(tmp) / f"slide-{n:02d}.pptx"
            src.write_bytes(data)
            subprocess.run(
                [soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to", "png",
                 "--outdir", str(out_dir), str(src)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            pngs.append(out_dir / f"slide-{n:02d}.png")
    return pngs


if __name__ == "__main__":
    for path in render(Path(sys.argv[1]), Path(sys.argv[2])):
        print(path)
