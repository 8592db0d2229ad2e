"""The quarterly report at prefecture scale: 2,000 sections (4,000 promoters), five years of quarterly
rounds of the three surveys, announcements, questions, improvement cases and recognition rounds.

    .venv/bin/python bench/report.py            # target: deck + workbook < 10 s and < 300 MB
    .venv/bin/python bench/report.py --small    # 200 sections, a quick check

The data is seeded into a fresh SQLite file first; then a separate process builds the report for the
latest quarter (figures, the PowerPoint deck, the Excel workbook), so its time and peak memory (the
child's largest resident set) are the report's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.services import open_services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from dialogs.report.figures import Quarter  # noqa: E402
from dialogs.survey import anonymity  # noqa: E402
from dialogs.survey.templates import DEFAULT_TOOLS, TEMPLATES  # noqa: E402
from storage.migrate import upgrade_sync  # noqa: E402
from storage.models import (  # noqa: E402
    Assignment,
    Department,
    ImprovementCase,
    Person,
    QueryLog,
    RecognitionRound,
    RecognitionVote,
    Section,
    Survey,
    SurveyAnswerValue,
    SurveyRecipient,
    SurveyResponse,
    SurveyRound,
    Ticket,
)
from storage.models.announce import Announcement, AnnouncementRecipient  # noqa: E402

TIME_TARGET = 10.0
MEMORY_TARGET_MB = 300
YEARS = 5
LAST = Quarter(2026, 2)  # the quarter reported on; rounds run back five years from it


def quarters() -> list[Quarter]:
    out = [LAST]
    while len(out) < YEARS * 4:
        out.append(out[-1].previous)
    return list(reversed(out))


async def _bulk(s, model, rows, chunk=5000) -> None:  # type: ignore[no-untyped-def]
    for i in range(0, len(rows), chunk):
        await s.execute(insert(model), rows[i : i + chunk])


async def seed(url: str, sections: int) -> None:
    rng = random.Random(11)
    departments = max(10, sections // 20)
    now = datetime.now(UTC)
    async with open_services(Settings(database_url=url, _env_file=None)) as services:  # type: ignore[call-arg]
        async with services.sessionmaker() as s, s.begin():
            await _bulk(
                s,
                Department,
                [{"id": d + 1, "name": f"第{d + 1}部", "sort_order": d} for d in range(departments)],
            )
            await _bulk(
                s,
                Section,
                [{"id": i + 1, "department_id": i % departments + 1, "name": f"第{i + 1}課", "sort_order": i,
                  "active": True} for i in range(sections)],
            )  # fmt: skip
            people = sections * 2
            await _bulk(
                s,
                Person,
                [{"id": p + 1, "name": f"職員{p + 1}", "email": f"p{p + 1}@bench.example.jp", "created_at": now}
                 for p in range(people)],
            )  # fmt: skip
            members = [
                (
                    p + 1,
                    p % sections % departments + 1,
                    p % sections + 1,
                    "leader" if p < sections else "subleader",
                )
                for p in range(people)
            ]
            await _bulk(
                s,
                Assignment,
                [{"section_id": sec, "person_id": pid, "role": role, "valid_from": date(2021, 4, 1), "valid_to": None}
                 for pid, _, sec, role in members],
            )  # fmt: skip
        # Surveys: one per template, a round each quarter for five years.
        specs = [
            ("mindset", [q for q in TEMPLATES["mindset"].questions() if q["type"] == "scale5"], True),
            ("tools", TEMPLATES["tools"].questions(), False),
            ("workload", [q for q in TEMPLATES["workload"].questions() if q["key"] == "w_noncore"], True),
        ]
        rid = 0
        for sid, (template, questions, anonymous) in enumerate(specs, start=1):
            mapping = anonymity.generalise([(d, sec, r) for _, d, sec, r in members], 5) if anonymous else {}
            async with services.sessionmaker() as s, s.begin():
                await _bulk(
                    s,
                    Survey,
                    [{"id": sid, "title": TEMPLATES[template].name, "template": template, "questions": questions,
                      "anonymous": anonymous, "threshold": 5, "archived": False, "description": "",
                      "created_at": now, "updated_at": now}],
                )  # fmt: skip
            for n, q in enumerate(quarters()):
                rid += 1
                start, _ = q.bounds()
                opened = start + timedelta(days=40)
                closed = opened + timedelta(days=7)
                rows_r, rows_a, rows_v = [], [], []
                for pid, dept, sec, role in members:
                    answered = rng.random() < 0.85
                    rows_r.append({"round_id": rid, "person_id": pid, "department_id": dept, "section_id": sec,
                                   "role": role, "responded": answered, "reminders_sent": 0})  # fmt: skip
                    if not answered:
                        continue
                    resp = secrets.token_hex(16)
                    d2, s2, r2 = mapping[(dept, sec, role)] if anonymous else (dept, sec, role)
                    rows_a.append({"id": resp, "round_id": rid, "department_id": d2, "section_id": s2, "role": r2,
                                   "person_id": None if anonymous else pid, "submitted_at": None,
                                   "edit_key_hash": None})  # fmt: skip
                    for question in questions:
                        if question["type"] == "scale5":
                            num, choice = float(rng.choice((2, 3, 3, 4, 4, 5))), None
                        elif question["type"] == "number":
                            num, choice = float(rng.randint(10, 60)), None
                        else:
                            num, choice = None, rng.choice(("daily", "weekly", "monthly", "never", "unknown"))
                        rows_v.append({"response_id": resp, "question_key": question["key"], "seq": 0, "num": num,
                                       "choice": choice, "text": None})  # fmt: skip
                async with services.sessionmaker() as s, s.begin():
                    await _bulk(
                        s,
                        SurveyRound,
                        [{"id": rid, "survey_id": sid, "number": n + 1, "label": f"{opened:%Y年%m月}",
                          "status": "closed", "open_at": opened, "opened_at": opened, "closes_at": closed,
                          "closed_at": closed, "late": False, "questions": questions, "anonymous": anonymous,
                          "threshold": 5, "audience": {}, "window_business_days": 5, "close_time": "17:00",
                          "reminder_rules": [], "reminder_plan": [], "reminders_done": 0, "granularity": {},
                          "invited": people, "sealed": True, "created_at": opened}],
                    )  # fmt: skip
                    await _bulk(s, SurveyRecipient, rows_r)
                    await _bulk(s, SurveyResponse, rows_a)
                    await _bulk(s, SurveyAnswerValue, rows_v)
        # Announcements (two a quarter to everyone), questions, tickets, cases and recognition.
        tools = [name for _, name in DEFAULT_TOOLS]
        async with services.sessionmaker() as s, s.begin():
            ann_id = case_id = 0
            for q in quarters():
                start, _ = q.bounds()
                for k in range(2):
                    ann_id += 1
                    sent = start + timedelta(days=10 + 30 * k)
                    await _bulk(s, Announcement, [{"id": ann_id, "title": f"お知らせ{ann_id}", "ack_required": True,
                                                   "state": "sent", "sent_at": sent, "created_at": sent,
                                                   "updated_at": sent}])  # fmt: skip
                    await _bulk(
                        s,
                        AnnouncementRecipient,
                        [{"announcement_id": ann_id, "person_id": pid, "name": f"職員{pid}", "email": f"p{pid}@x",
                          "department": f"第{dept}部", "section": f"第{sec}課", "section_id": sec, "role": role,
                          "sort_key": pid, "confirmed_at": sent + timedelta(days=1) if rng.random() < 0.8 else None}
                         for pid, dept, sec, role in members],
                    )  # fmt: skip
                await _bulk(
                    s,
                    QueryLog,
                    [{"at": start + timedelta(minutes=37 * i), "query": "質問", "answered": rng.random() < 0.7}
                     for i in range(sections)],
                )  # fmt: skip
                await _bulk(
                    s,
                    Ticket,
                    [{"question": "?", "asker_user_id": "29:x", "service_url": "https://s", "status": "answered",
                      "created_at": start + timedelta(hours=5 * i),
                      "answered_at": start + timedelta(hours=5 * i + rng.randint(2, 200))}
                     for i in range(sections // 10)],
                )  # fmt: skip
                cases = []
                for i in range(sections // 10):
                    case_id += 1
                    published = start + timedelta(days=1 + i % 80)
                    before = float(rng.randint(10, 120))
                    cases.append({"id": case_id, "section_id": i * 7 % sections + 1,
                                  "department_id": i * 7 % sections % departments + 1, "title": f"事例{case_id}",
                                  "description": "", "tools": rng.sample(tools, 2), "work": "入力",
                                  "hours_before": before, "hours_after": before / 3, "staff": 5,
                                  "file_url": None, "started_on": published.date(), "fiscal_year": q.fiscal_year,
                                  "state": "published", "review_comment": "", "source": "import",
                                  "submitted_at": published, "reviewed_at": published,
                                  "published_at": published})  # fmt: skip
                await _bulk(s, ImprovementCase, cases)
                first, _ = q.bounds()
                rnd = RecognitionRound(title=q.label, period_from=q.first_day, period_to=q.next.first_day,
                                       state="closed", opened_at=first, closed_at=q.next.bounds()[0] + timedelta(days=20),
                                       results=[])  # fmt: skip
                s.add(rnd)
                await s.flush()
                await _bulk(
                    s,
                    RecognitionVote,
                    [{"round_id": rnd.id, "case_id": cases[pid % len(cases)]["id"], "voter_person_id": pid,
                      "voted_at": first} for pid, *_ in members[: sections // 2]],
                )  # fmt: skip
                rnd.results = [{"place": 1, "case_id": cases[0]["id"], "title": cases[0]["title"],
                                "section": "第1部 第1課", "votes": 9}]  # fmt: skip


async def figures_of(url: str):  # type: ignore[no-untyped-def]
    from dialogs.report.figures import collect

    async with open_services(Settings(database_url=url, _env_file=None)) as services:  # type: ignore[call-arg]
        async with services.sessionmaker() as s:
            return await collect(s, LAST)


def build(url: str, out_dir: str) -> None:
    from dialogs.report.deck import build_deck, build_workbook

    figures = asyncio.run(figures_of(url))
    deck, book = build_deck(figures), build_workbook(figures)
    Path(out_dir, "report.pptx").write_bytes(deck)
    Path(out_dir, "report.xlsx").write_bytes(book)
    print(
        f"surveys {sorted(figures.surveys)}, {figures.cases.published} cases, {figures.announcements} announcements, "
        f"{figures.questions.asked} questions; deck {len(deck) // 1024} KB, workbook {len(book) // 1024} KB"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--build", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(*args.build)
        return 0
    sections = 200 if args.small else 2000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        upgrade_sync(url)
        t0 = time.perf_counter()
        asyncio.run(seed(url, sections))
        print(
            f"seeded {sections:,} sections, {YEARS} years of quarterly rounds in {time.perf_counter() - t0:.1f} s"
        )
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--build", url, tmp], check=False)
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ok = done.returncode == 0 and seconds < TIME_TARGET and peak_mb < MEMORY_TARGET_MB
    print(
        f"report for {LAST.key}: {seconds:.2f} s (target < {TIME_TARGET:.0f} s), peak {peak_mb:.0f} MB "
        f"(target < {MEMORY_TARGET_MB} MB) {'OK' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
