"""``dxbot roster import`` refuses an import that would end many roles unless --allow-mass-end is given."""

from __future__ import annotations

from pathlib import Path

from bot.cli import main as dxbot
from tests.roster.helpers import city_roster_csv, city_sections
from tests.roster.test_cli import cli_db  # noqa: F401  (the database the CLI uses)

SECTIONS = city_sections(200)


def _rows(path: Path) -> int:
    return len(path.read_bytes().decode("utf-8-sig").strip().splitlines()) - 1


def test_a_truncated_file_needs_allow_mass_end(cli_db, capsys, tmp_path, monkeypatch):  # noqa: F811
    full, cut = tmp_path / "全庁.csv", tmp_path / "途中まで.csv"
    full.write_bytes(city_roster_csv(SECTIONS))
    cut.write_bytes(city_roster_csv(SECTIONS[:140]))
    assert dxbot(["roster", "import", str(full), "--effective", "2026-04-01"]) == 0
    capsys.readouterr()

    assert dxbot(["roster", "import", str(cut), "--effective", "2027-04-01"]) == 3
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0] == "ご注意ください: 多くの推進員の役割が終了します"
    assert err[1] == (
        "  この取り込みを適用すると、今の推進員の役割400件のうち120件(約30%)が終了し、"
        "120人が推進員ではなくなります。"
    )
    assert err[2].startswith("  役割が終了する課(60課): 経済部 経済第1課、経済部 経済第2課、")
    assert err[2].endswith("、ほか50課")
    assert err[-1] == (
        "名簿は変更していません。ファイルが正しく、この方々の役割を本当に終了する場合は、"
        "--allow-mass-end を付けてもう一度実行してください。"
    )
    assert "終了 120人" in captured.out  # the plan is printed as in a dry run
    export = tmp_path / "after.csv"
    assert dxbot(["roster", "export", str(export)]) == 0
    assert _rows(export) == 400  # nothing ended

    # A dry run shows the same warning and exits 0; the flag applies it.
    assert dxbot(["roster", "import", str(cut), "--effective", "2027-04-01", "--dry-run"]) == 0
    assert "120人が推進員ではなくなります。" in capsys.readouterr().out
    assert dxbot(["roster", "import", str(cut), "--effective", "2027-04-01", "--allow-mass-end"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("名簿を更新しました。")
    assert dxbot(["roster", "export", str(export)]) == 0
    assert _rows(export) == 280

    # The thresholds are settings: with room for 150 ends, the rest of the file needs no flag.
    monkeypatch.setenv("DXBOT_ROSTER_MAX_END_COUNT", "150")
    monkeypatch.setenv("DXBOT_ROSTER_MAX_END_SHARE", "0.5")
    half = tmp_path / "半分.csv"
    half.write_bytes(city_roster_csv(SECTIONS[:70]))
    assert dxbot(["roster", "import", str(half), "--effective", "2027-04-02"]) == 0
    assert dxbot(["roster", "export", str(export)]) == 0
    assert _rows(export) == 140
