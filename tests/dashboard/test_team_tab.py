"""The dashboard as a team channel tab: the manifest offers it (when a host is known) and the
configuration page Teams opens needs no sign-in and shows no data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.dashboard.conftest import APP_ID, HOST, FakeEntra, dashboard_app, teams_settings

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "manifests" / "build.py"


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dxbot_manifest_build_for_dashboard", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()


def test_the_package_offers_the_dashboard_as_a_team_tab_and_validates() -> None:
    package = build.render(APP_ID, HOST)
    tab = package.manifest["configurableTabs"][0]
    assert tab["configurationUrl"] == f"https://{HOST}/dashboard/config"
    assert tab["scopes"] == ["team"]
    if not build.DEFAULT_SCHEMA.exists():
        pytest.skip(f"no Teams schema at {build.DEFAULT_SCHEMA}")
    validator = build.schema_validator(build.DEFAULT_SCHEMA)
    assert [p.key for p in build.check(package, validator)] == []
    without_host = build.render(APP_ID, None)
    assert "configurableTabs" not in without_host.manifest
    assert [p.key for p in build.check(without_host, validator)] == []


async def test_the_configuration_page_loads_the_script_and_shows_no_data(
    demo_url: str, entra: FakeEntra
) -> None:
    async with dashboard_app(teams_settings(demo_url, entra)) as client:
        resp = await client.get("/dashboard/config")
        body = await resp.text()
    assert resp.status == 200
    assert "チームにダッシュボードを追加します" in body
    assert 'data-page="config"' in body and 'data-tab-name-ja="ダッシュボード"' in body
    assert "/dashboard/static/dashboard.js?v=" in body
    assert "契約検査課" not in body and "<table" not in body
