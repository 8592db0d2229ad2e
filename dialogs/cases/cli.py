"""``dxbot cases import FILE.xlsx``: cases collected before the bot (all rows or none).

exit 0 with the count; 1 with the rows to correct.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from dialogs.kit.i18n import t as translate
from storage.db import make_engine, make_sessionmaker


def register_cli(sub: Any) -> None:
    cases = sub.add_parser("cases", help="改善事例 / improvement cases")
    cs = cases.add_subparsers(dest="cases_command", required=True)
    imp = cs.add_parser("import", help="Excelの事例を取り込みます(公開済みとして) / import cases from XLSX")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_import)


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from dialogs.cases.importer import import_cases, read_xlsx

    rows = read_xlsx(args.file.read_bytes())
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            problems, count = await import_cases(session, rows, datetime.now(UTC))
    finally:
        await engine.dispose()
    if problems:
        print(translate("cases.import.errors", "ja"), file=sys.stderr)
        for line in problems:
            print("  " + line, file=sys.stderr)
        return 1
    print(translate("cases.import.done", "ja", count=count))
    return 0
