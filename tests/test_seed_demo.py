"""`dxbot seed-demo --if-empty`, as `make run` calls it: the demo city, its FAQ and its survey history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]


def test_seed_demo_fills_an_empty_database_once(tmp_path):
    db = tmp_path / "demo.sqlite3"
    env = {**os.environ, "DXBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "DXBOT_BACKGROUND_JOBS": "false"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run("db", "upgrade").returncode == 0
    first = run("seed-demo", "--if-empty")
    assert first.returncode == 0, first.stderr[-2000:]
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        counts = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("sections", "people", "assignments", "qa_entries", "surveys", "survey_rounds")
        }
    assert counts["sections"] >= 45 and counts["people"] >= 90
    assert counts["qa_entries"] >= 60
    assert counts["surveys"] >= 1 and counts["survey_rounds"] >= 12, counts
    again = run("seed-demo", "--if-empty")
    assert again.returncode == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM people")).scalar_one() == counts["people"]
        assert (
            conn.execute(text("SELECT count(*) FROM survey_rounds")).scalar_one() == counts["survey_rounds"]
        )
