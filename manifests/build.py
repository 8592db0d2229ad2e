"""Build the Teams app package: manifest.json, icons and localization files in one zip.

    python manifests/build.py --app-id 0f8fad5b-d9cb-469f-a165-70867728950e \\
        [--host dxbot.example.jp] [--out build/appPackage.zip]

The app id and host may also come from the environment or the repository's .env
(MicrosoftAppId, DXBOT_PUBLIC_HOST); the command line wins. The filled manifest is checked
against ../shared/schemas/MicrosoftTeams.schema.json (relative to the repository root), the
icons and the localization file are checked too, and nothing is written if any check fails.
Exit status: 0 written, 1 a check failed, 2 a missing or malformed app id or host.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import validators
from PIL import Image, UnidentifiedImageError

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
TEMPLATE = HERE / "manifest.template.json"
CATALOG = HERE / "catalog.toml"
DEFAULT_SCHEMA = REPO_ROOT.parent / "shared" / "schemas" / "MicrosoftTeams.schema.json"
DEFAULT_OUT = REPO_ROOT / "build" / "appPackage.zip"
DEFAULT_ENV_FILE = REPO_ROOT / ".env"

COLOR_ICON_SIZE = 192
OUTLINE_ICON_SIZE = 32
# The localization schema can only address commands[0-9] with titles up to 32 and
# descriptions up to 128 characters; older Teams clients show at most 10 commands per
# list. The manifest schema alone would allow more, but then the English file could not
# translate them all, so the package keeps to the stricter limits.
MAX_COMMANDS_PER_LIST = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128

GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
NIL_GUID = "00000000-0000-0000-0000-000000000000"
HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST = re.compile(rf"^{HOST_LABEL}(?:\.{HOST_LABEL})*(?::(?P<port>[0-9]{{1,5}}))?$")
PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")
HOST_PLACEHOLDER = "{{DXBOT_PUBLIC_HOST}}"

# Keys a Teams localization file may contain, with their length limits.
LOCALIZATION_KEYS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^name\.short$"), 30),
    (re.compile(r"^name\.full$"), 100),
    (re.compile(r"^description\.short$"), 80),
    (re.compile(r"^description\.full$"), 4000),
    (re.compile(r"^staticTabs\[(?:[0-9]|1[0-5])\]\.name$"), 128),
    (re.compile(r"^bots\[0\]\.commandLists\[[0-2]\]\.commands\[[0-9]\]\.title$"), MAX_COMMAND_TITLE),
    (
        re.compile(r"^bots\[0\]\.commandLists\[[0-2]\]\.commands\[[0-9]\]\.description$"),
        MAX_COMMAND_DESCRIPTION,
    ),
)
REQUIRED_LOCALIZATION_KEYS = ("name.short", "description.short", "description.full")


# ---------------------------------------------------------------- messages


def _load_catalog() -> dict[str, dict[str, str]]:
    with CATALOG.open("rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the package, rendered from the message catalog."""

    key: str
    params: Mapping[str, object]

    def render(self, lang: str, catalog: Mapping[str, Mapping[str, str]]) -> str:
        return catalog[lang][self.key].format(**self.params)


def message(key: str, **params: object) -> str:
    """The catalog message in Japanese, then in English."""
    catalog = _load_catalog()
    return "\n".join(catalog[lang][key].format(**params) for lang in ("ja", "en"))


class PackageError(Exception):
    """Refusal with a bilingual message and an exit status."""

    def __init__(self, text: str, exit_code: int) -> None:
        super().__init__(text)
        self.exit_code = exit_code


class InvalidPackage(PackageError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        catalog = _load_catalog()
        blocks = []
        for lang in ("ja", "en"):
            lines = "\n".join(f"  - {p.render(lang, catalog)}" for p in problems)
            blocks.append(catalog[lang]["invalid_manifest"].format(problems=lines))
        super().__init__("\n".join(blocks), exit_code=1)
        self.problems = list(problems)


# ---------------------------------------------------------------- inputs


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, `export` and quotes allowed); {} if absent."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[key.strip()] = value
    return values


def _pick(
    cli: str | None, flag: str, name: str, environ: Mapping[str, str], dotenv: Mapping[str, str]
) -> tuple[str, str]:
    """The first non-empty value among the command line, the environment and .env, and where it came from."""
    for value, source in (
        (cli, flag),
        (environ.get(name), f"環境変数 {name}"),
        (dotenv.get(name), f".env の {name}"),
    ):
        if value is not None and value.strip():
            return value.strip(), source
    return "", ""


def check_app_id(value: str, source: str) -> str:
    """The app id as a lower-case GUID, or PackageError (exit 2). The value is never echoed:
    a secret pasted into the wrong variable must not end up in a CI log."""
    if not value:
        raise PackageError(message("app_id_missing"), exit_code=2)
    if not GUID.match(value):
        raise PackageError(message("app_id_invalid", source=source), exit_code=2)
    if value == NIL_GUID:
        raise PackageError(message("app_id_nil", source=source), exit_code=2)
    return value.lower()


def check_host(value: str, source: str) -> str | None:
    """A bare host name (optionally with a port), lower-cased; None when not given."""
    if not value:
        return None
    host = value.lower().removeprefix("https://").rstrip("/")
    match = HOST.match(host)
    if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
        raise PackageError(message("host_invalid", source=source), exit_code=2)
    return host


def app_version() -> str:
    """The manifest version follows the Python package version, so releases bump both."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


# ---------------------------------------------------------------- manifest


def _fill(text: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def _without_host(manifest: dict[str, Any], app_id: str) -> tuple[dict[str, Any], dict[int, int]]:
    """Drop what needs a public host: the dashboard tabs and validDomains. SSO for the bot alone
    uses the resource api://botid-<app id>. Returns the static-tab index map (old -> new)."""
    configurable = [t for t in manifest.get("configurableTabs", []) if HOST_PLACEHOLDER not in json.dumps(t)]
    if configurable:
        manifest["configurableTabs"] = configurable
    else:
        manifest.pop("configurableTabs", None)
    tabs = manifest.get("staticTabs", [])
    kept = [i for i, tab in enumerate(tabs) if HOST_PLACEHOLDER not in json.dumps(tab)]
    manifest["staticTabs"] = [tabs[i] for i in kept]
    manifest["validDomains"] = [d for d in manifest.get("validDomains", []) if HOST_PLACEHOLDER not in d]
    if not manifest["validDomains"]:
        del manifest["validDomains"]
    sso = manifest.get("webApplicationInfo")
    if sso and HOST_PLACEHOLDER in sso.get("resource", ""):
        sso["resource"] = f"api://botid-{app_id}"
    return manifest, {old: new for new, old in enumerate(kept)}


def _renumber_tabs(strings: dict[str, str], index_map: Mapping[int, int]) -> dict[str, str]:
    tab_key = re.compile(r"^staticTabs\[(\d+)\]\.(.+)$")
    result = {}
    for key, value in strings.items():
        match = tab_key.match(key)
        if match:
            old = int(match.group(1))
            if old not in index_map:
                continue
            key = f"staticTabs[{index_map[old]}].{match.group(2)}"
        result[key] = value
    return result


@dataclass
class Package:
    manifest: dict[str, Any]
    localizations: dict[str, dict[str, str]]  # file name -> strings

    def files(self) -> dict[str, bytes]:
        """Archive name -> content, in the order they go into the zip."""
        files = {"manifest.json": _json_bytes(self.manifest)}
        for icon in (self.manifest["icons"]["color"], self.manifest["icons"]["outline"]):
            files[icon] = (HERE / icon).read_bytes()
        for name, strings in self.localizations.items():
            files[name] = _json_bytes(strings)
        return files


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render(app_id: str, host: str | None, version: str | None = None) -> Package:
    """The manifest and localization strings with the placeholders filled."""
    values = {"MICROSOFT_APP_ID": app_id, "APP_VERSION": version or app_version()}
    if host:
        values["DXBOT_PUBLIC_HOST"] = host
    manifest = json.loads(_fill(TEMPLATE.read_text(encoding="utf-8"), values))
    index_map: dict[int, int] | None = None
    if not host:
        # validDomains take a bare domain; only the URLs carry a port.
        manifest, index_map = _without_host(manifest, app_id)
    elif ":" in host:
        manifest["validDomains"] = [d.split(":", 1)[0] if d == host else d for d in manifest["validDomains"]]
    localizations = {}
    for language in manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        strings = json.loads((HERE / language["file"]).read_text(encoding="utf-8"))
        if index_map is not None:
            strings = _renumber_tabs(strings, index_map)
        localizations[language["file"]] = strings
    return Package(manifest, localizations)


# ---------------------------------------------------------------- checks


def schema_validator(schema_path: Path) -> jsonschema.protocols.Validator:
    """A validator for the Teams schema. It declares draft-04 but also uses `const` and
    `if`/`then` from later drafts; a plain draft-04 validator would silently skip them
    (manifestVersion would go unchecked), so those keywords are added back."""
    if not schema_path.is_file():
        raise PackageError(message("schema_missing", path=schema_path), exit_code=1)
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    draft7 = validators.Draft7Validator.VALIDATORS
    cls = validators.extend(
        validators.Draft4Validator,
        {"const": draft7["const"], "if": draft7["if"]},
    )
    # No check_schema(): Microsoft's schema has patterns with \p{L}, which Python's `re`
    # cannot compile. They sit under `extensions`, which this manifest does not use.
    return cls(schema)


def _where(path: Sequence[object]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(全体)"


def schema_problems(manifest: Mapping[str, Any], validator: jsonschema.protocols.Validator) -> list[Problem]:
    problems = []
    for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(
            Problem("schema_violation", {"where": _where(error.absolute_path), "detail": error.message})
        )
    return problems


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _lookup(manifest: Mapping[str, Any], key: str) -> Any:
    """The manifest value a localization key such as bots[0].commandLists[1].commands[2].title names."""
    node: Any = manifest
    for segment in key.split("."):
        match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", segment)
        if not match or not isinstance(node, dict):
            return None
        node = node.get(match.group(1))
        for index in map(int, re.findall(r"\[(\d+)\]", match.group(2))):
            if not isinstance(node, list) or index >= len(node):
                return None
            node = node[index]
    return node


def limit_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    """Stricter limits than the manifest schema: see MAX_COMMANDS_PER_LIST."""
    problems = []
    for b, bot in enumerate(manifest.get("bots", [])):
        for c, command_list in enumerate(bot.get("commandLists", [])):
            commands = command_list.get("commands", [])
            where = f"bots[{b}].commandLists[{c}].commands"
            if len(commands) > MAX_COMMANDS_PER_LIST:
                problems.append(
                    Problem(
                        "too_many_commands",
                        {"where": where, "count": len(commands), "limit": MAX_COMMANDS_PER_LIST},
                    )
                )
            for i, command in enumerate(commands):
                for field, limit in (("title", MAX_COMMAND_TITLE), ("description", MAX_COMMAND_DESCRIPTION)):
                    text = command.get(field, "")
                    if isinstance(text, str) and len(text) > limit:
                        problems.append(
                            Problem(
                                "text_too_long",
                                {"where": f"{where}[{i}].{field}", "length": len(text), "limit": limit},
                            )
                        )
    return problems


def _translatable_keys(manifest: Mapping[str, Any]) -> list[str]:
    """Keys that need an English string. Command titles are left out on purpose: a title is
    the text Teams sends to the bot, and the Japanese command works in every language."""
    keys = [
        k
        for k in ("name.short", "name.full", "description.short", "description.full")
        if _lookup(manifest, k)
    ]
    keys += [
        f"staticTabs[{i}].name" for i, tab in enumerate(manifest.get("staticTabs", [])) if tab.get("name")
    ]
    for b, bot in enumerate(manifest.get("bots", [])):
        for c, command_list in enumerate(bot.get("commandLists", [])):
            for i, command in enumerate(command_list.get("commands", [])):
                if command.get("description"):
                    keys.append(f"bots[{b}].commandLists[{c}].commands[{i}].description")
    return keys


def localization_problems(
    manifest: Mapping[str, Any], file: str, strings: Mapping[str, Any]
) -> list[Problem]:
    problems = []
    for key, value in strings.items():
        if key == "$schema":
            continue
        limit = next((lim for pattern, lim in LOCALIZATION_KEYS if pattern.match(key)), None)
        if limit is None or not isinstance(_lookup(manifest, key), str):
            problems.append(Problem("localization_unknown_key", {"file": file, "key": key}))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem("localization_not_text", {"file": file, "key": key}))
        elif len(value) > limit:
            problems.append(
                Problem(
                    "localization_too_long", {"file": file, "key": key, "length": len(value), "limit": limit}
                )
            )
    for key in dict.fromkeys([*REQUIRED_LOCALIZATION_KEYS, *_translatable_keys(manifest)]):
        if key not in strings:
            problems.append(Problem("localization_missing_key", {"file": file, "key": key}))
    return problems


def _open_icon(path: Path, size: int, problems: list[Problem]) -> Image.Image | None:
    """The icon if it is a PNG file (a wrong size is reported but the image still returned)."""
    if not path.is_file():
        problems.append(Problem("icon_missing", {"file": path.name}))
        return None
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError):
        image = None
    if image is None or image.format != "PNG":
        problems.append(Problem("icon_not_png", {"file": path.name}))
        return None
    if image.size != (size, size):
        params = {"file": path.name, "width": image.width, "height": image.height, "expected": size}
        problems.append(Problem("icon_size", params))
    return image


def icon_problems(color: Path, outline: Path) -> list[Problem]:
    """Color icon 192×192; outline icon 32×32, white (any opacity) on a transparent background."""
    problems: list[Problem] = []
    _open_icon(color, COLOR_ICON_SIZE, problems)
    image = _open_icon(outline, OUTLINE_ICON_SIZE, problems)
    if image is not None:
        data = image.convert("RGBA").tobytes()
        pixels = [data[i : i + 4] for i in range(0, len(data), 4)]
        visible = [p for p in pixels if p[3] > 0]
        not_white = sum(1 for p in visible if p[:3] != b"\xff\xff\xff")
        if not_white:
            problems.append(Problem("outline_not_white", {"file": outline.name, "count": not_white}))
        if len(visible) == len(pixels):
            problems.append(Problem("outline_no_transparency", {"file": outline.name}))
        if not visible:
            problems.append(Problem("outline_empty", {"file": outline.name}))
    return problems


def check(package: Package, validator: jsonschema.protocols.Validator) -> list[Problem]:
    """Every problem with the package; an empty list means it may be written."""
    manifest = package.manifest
    problems = schema_problems(manifest, validator)
    left = sorted({m for s in _strings(manifest) for m in PLACEHOLDER.findall(s)})
    left += sorted(
        {m for strings in package.localizations.values() for m in PLACEHOLDER.findall(json.dumps(strings))}
    )
    if left:
        problems.append(Problem("placeholder_left", {"names": ", ".join(dict.fromkeys(left))}))
    problems += limit_problems(manifest)
    for file, strings in package.localizations.items():
        problems += localization_problems(manifest, file, strings)
    icons = manifest.get("icons", {})
    if isinstance(icons.get("color"), str) and isinstance(icons.get("outline"), str):
        problems += icon_problems(HERE / icons["color"], HERE / icons["outline"])
    return problems


# ---------------------------------------------------------------- output


def write_zip(files: Mapping[str, bytes], out: Path) -> None:
    """A reproducible zip (fixed timestamps and order), replaced atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(out)


def build(app_id: str, host: str | None, out: Path, schema_path: Path = DEFAULT_SCHEMA) -> Package:
    """Render, check and write the package; raises InvalidPackage with every problem found."""
    package = render(app_id, host)
    problems = check(package, schema_validator(schema_path))
    if problems:
        raise InvalidPackage(problems)
    write_zip(package.files(), out)
    return package


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Teams アプリパッケージ（zip）を作成します / build the Teams app package"
    )
    parser.add_argument("--app-id", help="Microsoft アプリ ID（既定: 環境変数または .env の MicrosoftAppId）")
    parser.add_argument("--host", help="公開ホスト名 例: dxbot.example.jp（既定: DXBOT_PUBLIC_HOST）")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"出力先（既定: {DEFAULT_OUT.relative_to(REPO_ROOT)}）"
    )
    parser.add_argument(
        "--env-file", type=Path, default=DEFAULT_ENV_FILE, help="読み込む .env（既定: リポジトリ直下の .env）"
    )
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA, help="Teams マニフェストのスキーマ")
    args = parser.parse_args(argv)

    environ = os.environ if environ is None else environ
    dotenv = read_env_file(args.env_file)
    try:
        app_id = check_app_id(*_pick(args.app_id, "--app-id", "MicrosoftAppId", environ, dotenv))
        host_value, host_source = _pick(args.host, "--host", "DXBOT_PUBLIC_HOST", environ, dotenv)
        host = check_host(host_value, host_source)
        if host is None:
            print(message("host_missing"), file=sys.stderr)
        package = build(app_id, host, args.out, args.schema)
    except PackageError as error:
        print(error, file=sys.stderr)
        return error.exit_code
    print(message("built", path=args.out, files=", ".join(package.files())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
