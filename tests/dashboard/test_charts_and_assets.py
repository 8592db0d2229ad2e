"""Charts are valid, readable SVG; the files the page loads are ours (the Teams JS library exactly
as published on npm), served with the right types and caching."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dialogs.dashboard import charts
from dialogs.dashboard.render import STATIC, asset_url, assets
from tests.dashboard.conftest import dashboard_app, local_settings

SVG = "{http://www.w3.org/2000/svg}"
DASHBOARD = Path(__file__).resolve().parents[2] / "dialogs" / "dashboard"


def contrast(a: str, b: str) -> float:
    la, lb = sorted((charts.luminance(a), charts.luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    assert root.get("role") == "img"
    return root


def test_bars_lines_and_heatmaps_are_well_formed_svg_with_escaped_labels() -> None:
    evil = '<script>alert("x")</script> & 総務課'
    bars = charts.stacked_bars(
        [(evil, [1, 2, 0]), ("財務部", [3, 0, 1])],
        [
            charts.Series("全員", charts.PALETTE[2]),
            charts.Series("一部", charts.PALETTE[1]),
            charts.Series("なし", charts.PALETTE[4]),
        ],
        title="部ごと",
    )
    lines = charts.line_chart(
        [f"2026年{m}月" for m in range(1, 13)],
        [(charts.Series("回答率", charts.PALETTE[0]), [0.5, None, 0.7] + [0.6] * 9)],
        title="推移",
    )
    heat = charts.heatmap(
        ["総務課", evil], ["生成AI", "RPA"], [[0.2, None], [1.0, 0.0]], title="活用", empty="非表示"
    )
    for svg in (bars, lines, heat):
        root = _parse(str(svg))
        assert "<script>" not in str(svg)
        if svg is not lines:
            assert evil in "".join(root.itertext())  # escaped in the markup, intact as text
    # the gap (None) splits the line: two polylines would mean a bridged gap; one run of 1 point has none
    assert str(lines).count("<polyline") == 1
    assert str(heat).count('fill="url(#') >= 1  # the suppressed cell is hatched, not coloured


def test_x_axis_labels_do_not_collide() -> None:
    for n in range(1, 25):
        svg = str(
            charts.line_chart(
                [f"第{i}回" for i in range(n)], [(charts.Series("x", "#000000"), [0.5] * n)], title="t"
            )
        )
        root = _parse(svg)
        xs = sorted(
            float(t.get("x", 0))
            for t in root.iter(f"{SVG}text")
            if t.get("class") == "tick" and t.get("text-anchor") == "middle"
        )
        assert all(b - a >= 60 for a, b in zip(xs, xs[1:], strict=False)), (n, xs)


def test_heatmap_figures_stay_readable_on_every_shade() -> None:
    for i in range(101):
        fill = charts._blue(i / 100)
        assert contrast(fill, charts.ink_on(fill)) >= 4.5, (i, fill)


def test_white_figures_on_bars_meet_wcag_aa() -> None:
    for colour in charts.PALETTE:
        assert contrast(colour, "#ffffff") >= 4.5, colour


def test_the_vendored_teams_library_is_the_npm_package_byte_for_byte() -> None:
    vendored = STATIC / "vendor" / "teams-js" / "MicrosoftTeams.min.js"
    lines = (vendored.parent / "VERSION.txt").read_text().splitlines()
    name, version = lines[0].split()
    lock = json.loads((DASHBOARD / "package-lock.json").read_text())
    assert name == "@microsoft/teams-js"
    assert lock["packages"]["node_modules/@microsoft/teams-js"]["version"] == version
    assert json.loads((DASHBOARD / "package.json").read_text())["dependencies"][name] == version
    digest = hashlib.sha256(vendored.read_bytes()).hexdigest()
    assert lines[2] == f"sha256 {digest}"
    installed = (
        DASHBOARD / "node_modules" / "@microsoft" / "teams-js" / "dist" / "umd" / "MicrosoftTeams.min.js"
    )
    if not installed.exists():
        pytest.skip("dialogs/dashboard/node_modules not installed (npm ci): byte comparison skipped")
    assert installed.read_bytes() == vendored.read_bytes()


async def test_static_files_are_served_with_types_and_long_caching_only_when_versioned(
    sqlite_url: str,
) -> None:
    async with dashboard_app(local_settings(sqlite_url)) as client:
        for name, ctype in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript"),
                            ("vendor/teams-js/MicrosoftTeams.min.js", "text/javascript"),
                            ("favicon.svg", "image/svg+xml")):  # fmt: skip
            resp = await client.get(asset_url(name))
            assert resp.status == 200, name
            assert resp.headers["Content-Type"].startswith(ctype), name
            assert "immutable" in resp.headers["Cache-Control"]
            assert await resp.read() == assets()[name].body
        unversioned = await client.get("/dashboard/static/dashboard.css")
        assert unversioned.headers["Cache-Control"] == "no-cache"
        for bad in ("../web.py", "..%2Fweb.py", "nothing.js", "vendor/../../catalog.toml"):
            assert (await client.get(f"/dashboard/static/{bad}")).status == 404, bad
