"""``dxbot survey …``: batch work for the DX division and operators.

dxbot survey import FILE           create a survey from YAML or XLSX (problems listed by question)
dxbot survey tick                  run one scheduler pass now (open, remind, close what is due)
dxbot survey export ROUND FILE     aggregates of a closed round as CSV or XLSX (by extension)
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("survey", help="パルスサーベイ / pulse surveys")
    sub = parser.add_subparsers(dest="survey_command", required=True)
    imp = sub.add_parser("import", help="YAML・Excelからサーベイを作成します / create a survey from a file")
    imp.add_argument("file")
    imp.set_defaults(func=_import)
    tick = sub.add_parser("tick", help="予定・督促・締切を今すぐ処理します / run one scheduler pass")
    tick.set_defaults(func=_tick)
    exp = sub.add_parser(
        "export", help="締め切った回の集計を書き出します / export a closed round's aggregates"
    )
    exp.add_argument("round", type=int)
    exp.add_argument("file")
    exp.set_defaults(func=_export)


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.survey import service
    from dialogs.survey.loader import from_file
    from dialogs.survey.questions import DefinitionError

    path = Path(args.file)
    try:
        definition = from_file(path.name, await asyncio.to_thread(path.read_bytes))
    except (OSError, DefinitionError) as exc:
        problems = exc.problems if isinstance(exc, DefinitionError) else [str(exc)]
        print("サーベイを作成できませんでした。 / Survey not created:")
        for p in problems:
            print(f"  - {p}")
        return 1
    async with open_services(settings) as services, services.sessionmaker() as session, session.begin():
        survey = await service.create_survey(
            session,
            title=definition.title,
            questions=definition.questions,
            anonymous=definition.anonymous,
            threshold=definition.threshold or settings.survey_threshold,
            description=definition.description,
            now=services.clock(),
        )
        await service.audit(
            session,
            None,
            "cli",
            "survey.create",
            {"survey": survey.id, "source": path.suffix},
            services.clock(),
        )
        print(
            f"サーベイ {survey.id}「{survey.title}」を作成しました({len(survey.questions)}問)。 / Created survey {survey.id}."
        )
    return 0


async def _tick(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.survey.jobs import tick

    async with open_services(settings) as services:
        report = await tick(services)
    print(
        f"作成 {len(report.created)} / 開始 {len(report.opened)} / 督促 {sum(report.reminded.values())}人 /"
        f" 締切 {len(report.closed)} / 見送り {report.skipped}"
    )
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import open_services
    from dialogs.survey import export
    from dialogs.survey.results import compute_results
    from storage.models import SurveyRound

    async with open_services(settings) as services, services.sessionmaker() as session:
        rnd = await session.get(SurveyRound, args.round)
        if rnd is None or rnd.status != "closed":
            print("締め切った回が見つかりません。 / No closed round with that number.")
            return 1
        rows = export.aggregate_rows(await compute_results(session, rnd.id))
    path = Path(args.file)
    data = export.to_xlsx(rows, "集計") if path.suffix.lower() == ".xlsx" else export.to_csv(rows)
    await asyncio.to_thread(path.write_bytes, data)
    print(f"{path} に書き出しました。 / Written.")
    return 0
