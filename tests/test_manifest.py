"""The Teams app package: manifest against Microsoft's schema, zip contents, icons, app id checks."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO_ROOT / "manifests" / "build.py"
ATK = REPO_ROOT / "manifests" / "node_modules" / ".bin" / "atk"  # manifests/package.json
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
HOST = "dxbot.example.jp"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
EXPECTED_COMMANDS = {
    "ヘルプ",
    "お知らせ",
    "お知らせ一覧",
    "未確認の課",
    "サーベイ",
    "回答状況",
    "名簿",
    "担当",
    "私の役割",
    "カバー状況",
    "目安箱",
    "ここを問い合わせ窓口にする",
}


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dxbot_manifest_build", BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()


@pytest.fixture(scope="module")
def validator() -> Any:
    assert build.DEFAULT_SCHEMA.is_file(), (
        f"Teams schema not found at {build.DEFAULT_SCHEMA} (expected ../shared/schemas/ next to the repository)"
    )
    return build.schema_validator(build.DEFAULT_SCHEMA)


@pytest.fixture()
def manifest() -> dict[str, Any]:
    return build.render(APP_ID, HOST).manifest


def _schema_messages(manifest: dict[str, Any], validator: Any) -> list[str]:
    return [p.render("ja", build._load_catalog()) for p in build.schema_problems(manifest, validator)]


def _run(tmp_path: Path, *args: str, environ: dict[str, str] | None = None) -> tuple[int, Path]:
    out = tmp_path / "appPackage.zip"
    argv = ["--out", str(out), "--env-file", str(tmp_path / "no.env"), *args]
    return build.main(argv, environ=environ or {}), out


# ---------------------------------------------------------------- schema


def test_filled_manifest_validates_against_the_teams_schema(manifest: dict[str, Any], validator: Any) -> None:
    assert _schema_messages(manifest, validator) == []
    assert manifest["manifestVersion"] == "1.29"
    assert (
        manifest["$schema"]
        == "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
    )


def test_the_app_asks_for_read_receipts_in_chats(manifest: dict[str, Any], validator: Any) -> None:
    # Teams sends the bot read receipts (既読) only with this resource-specific permission (README: 既読).
    assert {"name": "ChatMessageReadReceipt.Read.Chat", "type": "Application"} in manifest["authorization"][
        "permissions"
    ]["resourceSpecific"]
    broken = json.loads(json.dumps(manifest))
    broken["authorization"]["permissions"]["resourceSpecific"][0]["type"] = "Chat"
    assert _schema_messages(broken, validator) != []


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (lambda m: m.update(manifestVersion="1.28"), "manifestVersion"),  # `const`, beyond draft-04
        (lambda m: m.pop("developer"), "(全体)"),
        (lambda m: m.update(accentColor="blue"), "accentColor"),
        (lambda m: m["bots"][0]["scopes"].append("meeting"), "bots[0].scopes[3]"),
        (lambda m: m["bots"][0].update(supportsFiles="yes"), "bots[0].supportsFiles"),
        (lambda m: m["name"].update(short="DX推進ボット" * 6), "name.short"),
        (
            lambda m: m["bots"][0]["commandLists"].append(m["bots"][0]["commandLists"][0]),
            "bots[0].commandLists",
        ),
        (lambda m: m["staticTabs"][1].update(contentUrl="dashboard"), "staticTabs[1].contentUrl"),
        (lambda m: m["webApplicationInfo"].update(id="{{MICROSOFT_APP_ID}}"), "webApplicationInfo.id"),
    ],
)
def test_schema_check_rejects_a_broken_manifest(
    manifest: dict[str, Any], validator: Any, breakage: Any, where: str
) -> None:
    broken = copy.deepcopy(manifest)
    breakage(broken)
    messages = _schema_messages(broken, validator)
    assert any(f"manifest.json の {where} " in m for m in messages), messages


def test_a_manifest_that_breaks_the_schema_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    template = json.loads(build.TEMPLATE.read_text(encoding="utf-8"))
    template["bots"][0]["scopes"].append("everyone")
    broken = tmp_path / "manifest.template.json"
    broken.write_text(json.dumps(template, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(build, "TEMPLATE", broken)

    code, out = _run(tmp_path, "--app-id", APP_ID, "--host", HOST)

    assert code == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert "zip を書き出しませんでした" in err
    assert "bots[0].scopes[3]" in err


def test_missing_schema_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(tmp_path, "--app-id", APP_ID, "--schema", str(tmp_path / "nowhere.json"))
    assert code == 1
    assert not out.exists()
    assert "スキーマが見つかりません" in capsys.readouterr().err


# ---------------------------------------------------------------- the zip


def test_zip_holds_the_filled_manifest_icons_and_english_strings(tmp_path: Path, validator: Any) -> None:
    code, out = _run(tmp_path, "--app-id", APP_ID.upper(), "--host", HOST)
    assert code == 0

    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["manifest.json", "color.png", "outline.png", "en-us.json"]
        files = {name: archive.read(name) for name in archive.namelist()}

    manifest = json.loads(files["manifest.json"].decode("utf-8"))
    assert _schema_messages(manifest, validator) == []
    assert manifest["id"] == manifest["bots"][0]["botId"] == manifest["webApplicationInfo"]["id"] == APP_ID
    assert manifest["webApplicationInfo"]["resource"] == f"api://{HOST}/botid-{APP_ID}"
    assert manifest["validDomains"] == [HOST]
    dashboard = next(t for t in manifest["staticTabs"] if t["entityId"] == "dashboard")
    assert dashboard["contentUrl"] == f"https://{HOST}/dashboard"
    assert dashboard["scopes"] == ["personal"]
    assert manifest["version"] == build.app_version()
    for name in ("manifest.json", "en-us.json"):
        assert b"{{" not in files[name], f"unfilled placeholder in {name}"
    assert files["color.png"] == (REPO_ROOT / "manifests" / "color.png").read_bytes()
    assert files["outline.png"] == (REPO_ROOT / "manifests" / "outline.png").read_bytes()
    languages = manifest["localizationInfo"]["additionalLanguages"]
    assert [lang["file"] for lang in languages] == ["en-us.json"]
    assert json.loads(files["en-us.json"])["name.short"] == "DX Promoter Bot"


def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first, out = _run(tmp_path, "--app-id", APP_ID, "--host", HOST)
    content = out.read_bytes()
    second, out = _run(tmp_path, "--app-id", APP_ID, "--host", HOST)
    assert first == second == 0
    assert out.read_bytes() == content


def test_host_with_a_port_keeps_valid_domains_bare(tmp_path: Path, validator: Any) -> None:
    package = build.render(APP_ID, "localhost:8443")
    assert package.manifest["validDomains"] == ["localhost"]
    assert package.manifest["staticTabs"][1]["contentUrl"] == "https://localhost:8443/dashboard"
    assert build.check(package, validator) == []


def test_without_a_host_the_dashboard_tab_is_left_out(
    tmp_path: Path, validator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(tmp_path, "--app-id", APP_ID)
    assert code == 0
    assert "ダッシュボードのタブ" in capsys.readouterr().err
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        english = json.loads(archive.read("en-us.json"))
    assert [t["entityId"] for t in manifest["staticTabs"]] == ["conversations", "about"]
    assert "validDomains" not in manifest
    assert manifest["webApplicationInfo"]["resource"] == f"api://botid-{APP_ID}"
    assert not any(key.startswith("staticTabs") for key in english)
    assert _schema_messages(manifest, validator) == []
    assert build.localization_problems(manifest, "en-us.json", english) == []


def test_script_runs_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "pkg.zip"
    env = {"PATH": "/usr/bin:/bin", "MicrosoftAppId": APP_ID, "DXBOT_PUBLIC_HOST": HOST}
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(out), "--env-file", str(tmp_path / "none")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Teams アプリパッケージを作成しました" in result.stdout
    assert zipfile.is_zipfile(out)


# ---------------------------------------------------------------- app id and host


def test_missing_app_id_is_refused_in_japanese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(tmp_path, "--host", HOST)
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "Microsoft アプリ ID（MicrosoftAppId）が指定されていません" in err
    assert "--app-id" in err


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-guid",
        "3f2504e0-4f89-41d3-9a0c-0305e82c330",  # one digit short
        "3f2504e04f8941d39a0c0305e82c3301",  # no hyphens
        "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
        "3f2504e0-4f89-41d3-9a0c-0305e82c330g",
        "Xy8Q~s3cr3t.Value_pasted-by-mistake",  # a client secret in the wrong variable
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_malformed_app_id_is_refused_without_echoing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code, out = _run(tmp_path, "--app-id", bad, "--host", HOST)
    assert code == 2
    assert not out.exists()
    captured = capsys.readouterr()
    assert "エラー: Microsoft アプリ ID（MicrosoftAppId）が" in captured.err
    assert bad not in captured.err + captured.out


def test_malformed_app_id_exits_non_zero_as_a_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--app-id", "12345", "--out", str(tmp_path / "x.zip")],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "GUID の形式ではありません" in result.stderr
    assert not (tmp_path / "x.zip").exists()


def test_app_id_and_host_come_from_environment_or_dotenv(tmp_path: Path) -> None:
    other = "11111111-2222-3333-4444-555555555555"
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f'# local settings\nexport MicrosoftAppId="{APP_ID}"\nDXBOT_PUBLIC_HOST=dotenv.example.jp  # tunnel\n',
        encoding="utf-8",
    )
    out = tmp_path / "a.zip"

    def built_manifest(*args: str, environ: dict[str, str]) -> dict[str, Any]:
        assert build.main(["--out", str(out), "--env-file", str(dotenv), *args], environ=environ) == 0
        with zipfile.ZipFile(out) as archive:
            return json.loads(archive.read("manifest.json"))

    from_dotenv = built_manifest(environ={})
    assert from_dotenv["id"] == APP_ID
    assert from_dotenv["validDomains"] == ["dotenv.example.jp"]

    from_env = built_manifest(environ={"MicrosoftAppId": other, "DXBOT_PUBLIC_HOST": "env.example.jp"})
    assert from_env["id"] == other
    assert from_env["validDomains"] == ["env.example.jp"]

    from_cli = built_manifest(
        "--app-id", APP_ID, "--host", "cli.example.jp", environ={"MicrosoftAppId": other}
    )
    assert from_cli["id"] == APP_ID
    assert from_cli["validDomains"] == ["cli.example.jp"]


@pytest.mark.parametrize(
    "bad", ["http://dxbot.example.jp", "dxbot.example.jp/dashboard", "-dx.example.jp", "dx bot.jp"]
)
def test_malformed_host_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str) -> None:
    code, out = _run(tmp_path, "--app-id", APP_ID, f"--host={bad}")
    assert code == 2
    assert not out.exists()
    assert "公開ホスト名（DXBOT_PUBLIC_HOST）の形式が正しくありません" in capsys.readouterr().err


# ---------------------------------------------------------------- what users see


def _command_lists(manifest: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    lists = {}
    for command_list in manifest["bots"][0]["commandLists"]:
        assert len(command_list["scopes"]) == 1, "one command list per scope"
        lists[command_list["scopes"][0]] = command_list["commands"]
    return lists


def test_bot_is_installable_everywhere_and_accepts_files(manifest: dict[str, Any]) -> None:
    bot = manifest["bots"][0]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is True
    assert bot.get("isNotificationOnly") is not True
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "ja-jp"
    assert manifest["name"]["short"] == "DX推進ボット"
    assert JAPANESE.search(manifest["description"]["short"])
    assert JAPANESE.search(manifest["description"]["full"])
    for url in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][url].startswith("https://www.example.jp/")


def test_commands_are_in_japanese_for_each_scope(manifest: dict[str, Any]) -> None:
    lists = _command_lists(manifest)
    assert set(lists) == {"personal", "team", "groupChat"}
    titles = {c["title"] for commands in lists.values() for c in commands}
    assert titles == EXPECTED_COMMANDS
    for scope, commands in lists.items():
        assert commands[0]["title"] == "ヘルプ", f"{scope}: help comes first"
        assert len(commands) <= 10, f"{scope}: English strings can only be given for 10 commands"
        assert len({c["title"] for c in commands}) == len(commands), f"{scope}: duplicate command"
        for command in commands:
            assert JAPANESE.search(command["title"]) and not re.search(r"[A-Za-z]", command["title"]), command
            assert JAPANESE.search(command["description"]), command
            assert command["description"].endswith(("ます", "ます（DX推進課）")), command
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128, command


def test_commands_fit_where_they_are_used(manifest: dict[str, Any]) -> None:
    lists = {scope: {c["title"] for c in commands} for scope, commands in _command_lists(manifest).items()}
    # Posting to the suggestion box in a channel would show everyone who wrote it.
    assert "目安箱" in lists["personal"]
    assert "目安箱" not in lists["team"] | lists["groupChat"]
    # Only a channel or a chat can be made the inquiry desk.
    assert "ここを問い合わせ窓口にする" not in lists["personal"]
    assert {"ここを問い合わせ窓口にする", "カバー状況"} <= lists["team"]
    # Roster files arrive in personal chat, so 名簿 is offered there.
    assert {"名簿", "担当", "私の役割", "お知らせ一覧"} <= lists["personal"]


def test_english_strings_cover_what_users_read(manifest: dict[str, Any]) -> None:
    english = build.render(APP_ID, HOST).localizations["en-us.json"]
    assert build.localization_problems(manifest, "en-us.json", english) == []
    described = [k for k in english if k.endswith(".description")]
    assert len(described) == sum(len(c) for c in _command_lists(manifest).values())
    for key, value in english.items():
        assert not JAPANESE.search(value) or key.endswith(".description"), key
    assert english["staticTabs[1].name"] == "Dashboard"
    assert manifest["staticTabs"][1]["name"] == "ダッシュボード"


def test_localization_check_catches_missing_and_unknown_keys(manifest: dict[str, Any]) -> None:
    english = dict(build.render(APP_ID, HOST).localizations["en-us.json"])
    english.pop("bots[0].commandLists[1].commands[3].description")
    english["bots[0].commandLists[0].commands[10].title"] = "help"
    english["description.short"] = "x" * 81
    keys = {
        (p.key, p.params.get("key")) for p in build.localization_problems(manifest, "en-us.json", english)
    }
    assert keys == {
        ("localization_missing_key", "bots[0].commandLists[1].commands[3].description"),
        ("localization_unknown_key", "bots[0].commandLists[0].commands[10].title"),
        ("localization_too_long", "description.short"),
    }


# ---------------------------------------------------------------- icons


def test_icons_have_the_sizes_teams_requires() -> None:
    color = Image.open(REPO_ROOT / "manifests" / "color.png")
    outline = Image.open(REPO_ROOT / "manifests" / "outline.png")
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    assert len(set(color.convert("RGB").tobytes())) > 2, "the color icon is not a flat fill"


def test_outline_icon_is_white_on_transparent() -> None:
    rgba = Image.open(REPO_ROOT / "manifests" / "outline.png").convert("RGBA")
    alpha = rgba.getchannel("A")
    for corner in ((0, 0), (31, 0), (0, 31), (31, 31)):
        assert alpha.getpixel(corner) == 0, f"corner {corner} is not transparent"
    data = rgba.tobytes()
    visible = [data[i : i + 4] for i in range(0, len(data), 4) if data[i + 3] > 0]
    assert len(visible) > 100, "the glyph is too faint to read"
    assert all(p[:3] == b"\xff\xff\xff" for p in visible)


def _png(tmp_path: Path, name: str, image: Image.Image) -> Path:
    path = tmp_path / name
    image.save(path)
    return path


def test_icon_check_catches_bad_icons(tmp_path: Path) -> None:
    good_color = REPO_ROOT / "manifests" / "color.png"
    good_outline = REPO_ROOT / "manifests" / "outline.png"
    assert build.icon_problems(good_color, good_outline) == []

    outline = Image.open(good_outline).convert("RGBA")
    outline.putpixel((16, 16), (0, 0, 0, 255))
    grey = _png(tmp_path, "grey.png", outline)
    opaque = _png(tmp_path, "opaque.png", Image.new("RGBA", (32, 32), (255, 255, 255, 255)))
    small_color = _png(tmp_path, "small.png", Image.new("RGB", (96, 96), (37, 99, 168)))
    jpeg = tmp_path / "photo.png"
    Image.new("RGB", (192, 192), (37, 99, 168)).save(jpeg, format="JPEG")

    def keys(color: Path, outline_path: Path) -> set[str]:
        return {p.key for p in build.icon_problems(color, outline_path)}

    assert keys(good_color, grey) == {"outline_not_white"}
    assert keys(good_color, opaque) == {"outline_no_transparency"}
    assert keys(small_color, good_outline) == {"icon_size"}
    assert keys(jpeg, good_outline) == {"icon_not_png"}
    assert keys(tmp_path / "absent.png", good_outline) == {"icon_missing"}


# ---------------------------------------------------------------- Microsoft's own validator


def _offline() -> list[str]:
    """A prefix that runs a command without network access, where the machine allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def test_microsofts_validator_accepts_the_package_offline(tmp_path: Path) -> None:
    """What Teams Developer Portal checks, run locally: `atk validate` on the unpacked `make package`."""
    if not ATK.is_file():
        message = "atk not installed: cd manifests && npm ci --ignore-scripts"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    code, out = _run(tmp_path, "--app-id", APP_ID, "--host", HOST)
    assert code == 0
    unpacked = tmp_path / "package"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CI": "true", "NO_COLOR": "1"}
    result = subprocess.run(
        [*_offline(), str(ATK), "validate", "--manifest-file", "manifest.json"],
        cwd=unpacked, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "All passed" in report, report
