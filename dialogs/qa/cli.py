"""``dxbot faq``: the knowledge base from the command line.

dxbot faq import FILE [--replace]       CSV/XLSX (UTF-8 or CP932) → database, all or nothing
dxbot faq export FILE [--drafts]        database → CSV/XLSX (by the file's extension)
dxbot faq search [--top K] [--json] [QUERY]
    without QUERY: one query per line from standard input, one JSON line each:
    {"query": "...", "results": [{"id": "...", "score": 0.52}, ...]}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from dialogs.kit.textfiles import decode_text
from dialogs.qa import store
from dialogs.qa.kbfile import KbRow, read_kb, write_kb
from dialogs.qa.service import KnowledgeBase
from storage.db import make_engine, make_sessionmaker

MAX_ERRORS_SHOWN = 50


def register(sub: Any) -> None:
    faq = sub.add_parser("faq", help="よくある質問(ナレッジ)/ knowledge base")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True)

    imp = faq_sub.add_parser("import", help="CSV/XLSX を取り込みます / import a CSV or XLSX file")
    imp.add_argument("file", help="id,question,answer(,alternates,tags,url) の CSV または XLSX")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="ファイルにないエントリを削除します / delete entries missing from the file",
    )
    imp.set_defaults(func=run_import)

    exp = faq_sub.add_parser("export", help="CSV/XLSX に書き出します / export to CSV or XLSX")
    exp.add_argument("file", help="書き出し先(.csv または .xlsx)")
    exp.add_argument("--drafts", action="store_true", help="下書きも含めます / include drafts")
    exp.set_defaults(func=run_export)

    search = faq_sub.add_parser("search", help="検索します / search the knowledge base")
    search.add_argument("query", nargs="?", help="省略すると標準入力から1行1件で読みます")
    search.add_argument("--top", type=int, default=10, help="件数(既定 10)/ results per query")
    search.add_argument("--json", action="store_true", help="JSON で出力します / JSON output")
    search.set_defaults(func=run_search)


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def _prepare(engine: AsyncEngine, url: str) -> bool:
    """A brand-new database is migrated on the spot; one with other tables but not ours is not."""
    from storage.migrate import current_heads, upgrade

    if not await current_heads(engine):
        _err("データベースを初期化します(dxbot db upgrade)。 / Initialising the database.")
        await upgrade(url)
        return True
    async with engine.connect() as conn:
        ready = await conn.run_sync(lambda c: inspect(c).has_table("qa_state"))
    if not ready:
        _err(
            "データベースが最新ではありません。先に `dxbot db upgrade` を実行してください。"
            " / Run `dxbot db upgrade` first."
        )
    return bool(ready)


def run_import(settings: Settings, args: argparse.Namespace) -> Any:
    """Read and check the whole file first; write nothing unless every row is right."""
    path = Path(args.file)
    if not path.is_file():
        _err(f"ファイル「{path}」が見つかりません。 / File not found.")
        return 2
    result = read_kb(path)
    if result.errors:
        for error in result.errors[:MAX_ERRORS_SHOWN]:
            _err(error.message)
        if len(result.errors) > MAX_ERRORS_SHOWN:
            _err(f"ほかに {len(result.errors) - MAX_ERRORS_SHOWN} 件の問題があります。")
        _err(
            f"{len(result.errors)} 件の問題があったため、何も取り込んでいません。"
            "修正してからもう一度実行してください。"
        )
        return 1
    for warning in result.warnings[:MAX_ERRORS_SHOWN]:
        _err(warning.message)
    if not result.rows:
        _err("取り込むエントリがありません。 / The file has no entries.")
        return 1
    if not result.has_alternates:
        print(
            "別の聞き方(alternates)の列がないため、登録済みの別の聞き方はそのまま残します。"
            " / No alternates column: the entries keep their phrasings."
        )
    return _import_rows(
        settings, result.rows, replace=args.replace, keep_alternates=not result.has_alternates
    )


async def _import_rows(
    settings: Settings, rows: list[KbRow], *, replace: bool, keep_alternates: bool = False
) -> int:
    engine = make_engine(settings.database_url)
    try:
        if not await _prepare(engine, settings.database_url):
            return 2
        now = datetime.now(UTC)
        async with make_sessionmaker(engine)() as session, session.begin():
            await store.ensure_synonyms_seeded(session, now)
            summary = await store.import_rows(
                session, rows, actor="cli", now=now, replace=replace, keep_alternates=keep_alternates
            )
    finally:
        await engine.dispose()
    print(
        f"取り込みました: 新規 {summary.created} 件、更新 {summary.updated} 件、削除 {summary.removed} 件。"
        f" / Imported: {summary.created} new, {summary.updated} updated, {summary.removed} removed."
    )
    return 0


def run_export(settings: Settings, args: argparse.Namespace) -> Any:
    path = Path(args.file)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        _err("書き出し先は .csv か .xlsx にしてください。 / Use a .csv or .xlsx file name.")
        return 2
    return _export(settings, path, drafts=args.drafts)


async def _export(settings: Settings, path: Path, *, drafts: bool) -> int:
    engine = make_engine(settings.database_url)
    try:
        if not await _prepare(engine, settings.database_url):
            return 2
        async with make_sessionmaker(engine)() as session:
            rows = [store.to_kb_row(r) for r in await store.all_entries(session, include_drafts=drafts)]
    finally:
        await engine.dispose()
    await asyncio.to_thread(write_kb, path, rows)
    print(f"{len(rows)} 件を「{path}」に書き出しました。 / Exported {len(rows)} entries.")
    return 0


def _stdin_lines(stream: TextIO) -> Iterator[str]:
    """Queries from standard input as UTF-8 (BOM allowed) or CP932, whatever the locale says."""
    raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
    text = decode_text(raw)
    if text is None:
        text = raw.decode("cp932", errors="replace")  # one bad byte must not lose the other queries
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last query; it does not start another
    for line in lines:
        yield line.rstrip("\r")


async def run_search(settings: Settings, args: argparse.Namespace) -> int:
    if args.top < 1:
        _err("--top は 1 以上にしてください。 / --top must be at least 1.")
        return 2
    engine = make_engine(settings.database_url)
    try:
        if not await _prepare(engine, settings.database_url):
            return 2
        async with make_sessionmaker(engine)() as session, session.begin():
            # A one-off run: the sentence vectors are embedded now (the bot does it in the background).
            index = await KnowledgeBase(wait_for_meaning=True).index(session)
            questions: dict[str, str] = {}
            if args.query is not None and not args.json:
                hits = index.search(args.query, top_k=args.top)
                rows = await store.entries_by_key(session, [h.id for h in hits])
                questions = {k: r.question for k, r in rows.items()}
    finally:
        await engine.dispose()
    if len(index) == 0:
        _err("公開中のエントリがありません。先に `dxbot faq import FILE` を実行してください。")
    if args.query is not None:
        hits = index.search(args.query, top_k=args.top)
        if args.json:
            _write_utf8([_json_line(args.query, hits)])
        else:
            if not hits:
                print("見つかりませんでした。 / No match.")
            confident = index.is_confident(hits)
            for rank, hit in enumerate(hits, 1):
                mark = "*" if rank == 1 and confident else " "
                print(f"{mark}{rank:2d}. {hit.score:.3f}  [{hit.id}] {questions.get(hit.id, '')}")
        return 0
    _write_utf8(
        _json_line(query, index.search(query, top_k=args.top) if query.strip() else [])
        for query in _stdin_lines(sys.stdin)
    )
    return 0


def _write_utf8(lines: Iterable[str]) -> None:
    """JSON lines in UTF-8 whatever the console's locale, so a benchmark reads them as written."""
    sys.stdout.flush()
    target = getattr(sys.stdout, "buffer", None)
    for line in lines:
        if target is not None:
            target.write(line.encode("utf-8"))
        else:
            sys.stdout.write(line)
    if target is not None:
        target.flush()


def _json_line(query: str, hits: list[Any]) -> str:
    results = [{"id": h.id, "score": round(float(h.score), 6)} for h in hits]
    return json.dumps({"query": query, "results": results}, ensure_ascii=False) + "\n"
