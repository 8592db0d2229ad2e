"""End-to-end fixtures: the real bot, the Microsoft 365 Agents Playground, headless Chromium.

    def test_help(drive):
        run = drive([{"chat": "Personal Chat"}, {"send": "ヘルプ"}, {"expect": {"card": True}}],
                    user="leader@demo-city.example.jp")
        assert "できること" in run.bot_cards()[-1].title

``e2e_bot`` starts ``python -m bot run`` once per session on a fresh SQLite database (migrated and
seeded with the demo city). ``playground(user)`` starts one Agents Playground per mock user (the
playground has a single signed-in user, so acting as 鈴木 一郎 means another playground whose
``currentUser`` is 鈴木 一郎; see e2e/README.md). ``drive(steps, user=...)`` runs e2e/driver.mjs in
headless Chromium against that user's playground; screenshots land in test-artifacts/e2e/<test>/.

Without Node, the e2e Node packages or Chromium the tests skip with a NOTICE in the terminal summary;
under CI=true a missing tool fails them instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.mock_users import dump, load_base, user_config

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = REPO / "e2e"
PLAYGROUND_CLI = E2E_DIR / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
PLAYWRIGHT = E2E_DIR / "node_modules" / "playwright-core" / "package.json"
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("DXBOT_E2E_CHROMIUM", "/usr/bin/chromium")
ADMIN_EMAIL = "dx-admin@demo-city.example.jp"

_notices: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for notice in _notices:
        terminalreporter.write_line(f"NOTICE: {notice}", yellow=True, bold=True)


def missing_tools() -> list[str]:
    """What the e2e tests need and this machine lacks."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node (Node.js)")
    if not PLAYGROUND_CLI.exists() or not PLAYWRIGHT.exists():
        missing.append("e2e/node_modules (cd e2e && npm ci)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"chromium at {CHROMIUM} (apt-get install chromium)")
    return missing


@pytest.fixture(scope="session")
def e2e_tools() -> None:
    missing = missing_tools()
    if not missing:
        return
    why = "e2e tests (Agents Playground + headless Chromium) need: " + ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}. Under CI=true they must run: .ci/run installs them.", pytrace=False)
    if why + "; skipped. `bash .ci/run` installs them." not in _notices:
        _notices.append(why + "; skipped. `bash .ci/run` installs them.")
    pytest.skip(why)


# -- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Service:
    """A child process in its own process group, with its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass


def start_service(name: str, cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> Service:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    return Service(name, proc, log)


def wait_log(service: Service, line: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited with {service.proc.returncode}:\n{_tail(service.log)}")
        if line in service.log.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{service.name} never logged {line!r} in {timeout:.0f} s:\n{_tail(service.log)}")


def wait_http(
    service: Service, url: str, timeout: float, ok: Callable[[bytes], bool] = lambda _: True
) -> bytes:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited with {service.proc.returncode}:\n{_tail(service.log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                body = resp.read()
                if resp.status == 200 and ok(body):
                    return body
                last = f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.25)
    raise RuntimeError(
        f"{service.name} not ready at {url} after {timeout:.0f} s ({last}):\n{_tail(service.log)}"
    )


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MicrosoftApp", "DXBOT_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class BotServer:
    endpoint: str
    base_url: str
    database_url: str
    service: Service


@pytest.fixture(scope="session")
def e2e_bot(e2e_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotServer]:
    """``python -m bot run`` on a free port, local mode (no app id), demo city in a fresh SQLite file."""
    work = tmp_path_factory.mktemp("e2e-bot")
    port = free_port()
    env = _clean_env() | {
        "DXBOT_DATABASE_URL": f"sqlite+aiosqlite:///{work}/e2e.db",
        "DXBOT_HOST": "127.0.0.1",
        "DXBOT_PORT": str(port),
        "DXBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # the city's working language; today only the default when a client sends no locale, and the
        # playground always sends en-US (see e2e/README.md)
        "DXBOT_LOCALE": "ja",
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
    }
    # cwd is the scratch dir so that a developer's .env in the checkout does not leak in
    for args in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=work, env=env, capture_output=True, text=True,
            timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(
                f"`python -m bot {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}", pytrace=False
            )
    service = start_service("bot", [sys.executable, "-m", "bot", "run"], env, work, work / "bot.log")
    try:
        wait_http(service, f"http://127.0.0.1:{port}/readyz", timeout=120)
        # The bot answers on words at once and adds the FAQ search's meaning channel once the demo entries
        # are embedded (a few seconds): the scenarios are written for the bot as it then answers.
        wait_log(service, "meaning channel on", timeout=180)
        yield BotServer(
            f"http://127.0.0.1:{port}/api/messages",
            f"http://127.0.0.1:{port}",
            env["DXBOT_DATABASE_URL"],
            service,
        )
    finally:
        service.stop(grace=40)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(service.log, ARTIFACTS / "bot.log")


@dataclass
class Playground:
    user: str
    name: str
    url: str
    personal_chat_id: str
    service: Service


@pytest.fixture(scope="session")
def playground(
    e2e_bot: BotServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Playground]]:
    """``playground(user)``: an Agents Playground signed in as that mock user, one per user per session."""
    work = tmp_path_factory.mktemp("e2e-playground")
    base = load_base()
    started: dict[str, Playground] = {}

    def start(user: str = ADMIN_EMAIL) -> Playground:
        if user in started and started[user].service.alive():
            return started[user]
        config = user_config(base, user)
        slug = config["currentUser"]["id"].split(":")[-1]
        config_path = work / f"{slug}.yml"
        config_path.write_text(dump(config), encoding="utf-8")
        port = free_port()
        env = _clean_env() | {
            "LANG": "ja_JP.UTF-8",
            "TZ": "Asia/Tokyo",
            "TEAMSAPPTESTER_BROWSER": "none",  # do not try to open a desktop browser
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config_path),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(work / f"{slug}.playground.log"),
        }
        cmd = [
            shutil.which("node") or "node", str(PLAYGROUND_CLI),
            "-e", e2e_bot.endpoint, "-c", "msteams", "-p", str(port), "--disable-telemetry",
        ]  # fmt: skip
        service = start_service(f"playground({user})", cmd, env, work, work / f"{slug}.out.log")
        url = f"http://127.0.0.1:{port}/"
        name = config["currentUser"]["name"]
        try:
            wait_http(service, f"{url}_internal/v1/config", 60, ok=lambda body: name in body.decode("utf-8"))
        except RuntimeError as exc:
            service.stop()
            pytest.fail(str(exc), pytrace=False)
        started[user] = Playground(user, name, url, config["personalChat"]["id"], service)
        return started[user]

    try:
        yield start
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for pg in started.values():
            pg.service.stop()
            shutil.copyfile(pg.service.log, ARTIFACTS / f"playground-{pg.service.log.stem}.log")


# -- the browser -----------------------------------------------------------------------------------


@dataclass
class Card:
    title: str
    text: str
    buttons: list[str]
    inputs: list[dict[str, str]]


@dataclass
class Message:
    author: str | None
    from_bot: bool
    text: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class DriveResult:
    """What the page(s) showed. ``messages`` are the first user's tab; ``tabs`` has every user's."""

    ok: bool
    error: str | None
    messages: list[Message]
    tabs: dict[str, list[Message]]
    results: list[Any]
    screenshots: list[Path]
    artifacts: Path
    raw: dict[str, Any]

    def bot_messages(self, tab: str | None = None) -> list[Message]:
        return [m for m in (self.tabs[tab] if tab else self.messages) if m.from_bot]

    def bot_cards(self, tab: str | None = None) -> list[Card]:
        return [c for m in self.bot_messages(tab) for c in m.cards]


def _message(raw: dict[str, Any]) -> Message:
    cards = [Card(c.get("title", ""), c["text"], c["buttons"], c["inputs"]) for c in raw.get("cards", [])]
    return Message(raw.get("author"), bool(raw.get("fromBot")), raw.get("text", ""), cards)


@pytest.fixture
def drive(
    playground: Callable[[str], Playground], request: pytest.FixtureRequest
) -> Callable[..., DriveResult]:
    """Run e2e/driver.mjs; fails the test when a step fails (unless ``check=False``).

    ``drive(steps, user="leader@demo-city.example.jp")``: one user's tab.
    ``drive(steps, users={"admin": "dx-admin@…", "leader": "leader@…"})``: one tab per user, all open
    from the start; steps say ``"as": "leader"`` (default: the first user).
    """
    calls = 0

    def run(
        steps: list[dict[str, Any]],
        user: str = ADMIN_EMAIL,
        users: dict[str, str] | None = None,
        check: bool = True,
        timeout: float = 240,
    ) -> DriveResult:
        nonlocal calls
        calls += 1
        tabs = {name: playground(who) for name, who in (users or {"main": user}).items()}
        name = request.node.name.replace("/", "_") + ("" if calls == 1 else f"-{calls}")
        out_dir = ARTIFACTS / name
        shutil.rmtree(out_dir, ignore_errors=True)
        cmd = [
            shutil.which("node") or "node",
            str(E2E_DIR / "driver.mjs"),
            "--steps",
            "-",
            "--artifacts",
            str(out_dir),
        ]
        for tab, pg in tabs.items():
            cmd += ["--url", f"{tab}={pg.url}"]
        # its own process group, so that a hung run takes its Chromium down with it
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=REPO, env=_clean_env(), start_new_session=True,
        )  # fmt: skip
        try:
            stdout, stderr = proc.communicate(json.dumps(steps, ensure_ascii=False), timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(
                f"driver.mjs did not finish in {timeout:.0f} s; screenshots so far: {out_dir}", pytrace=False
            )
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        try:
            raw = json.loads(stdout)
        except json.JSONDecodeError:
            pytest.fail(
                f"driver.mjs exited {proc.returncode} without a report:\n{stdout}\n{stderr}",
                pytrace=False,
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
        result = DriveResult(
            ok=raw["ok"], error=raw["error"], messages=[_message(m) for m in raw["messages"]],
            tabs={t: [_message(m) for m in ms] for t, ms in raw["tabs"].items()},
            results=raw["results"], screenshots=[Path(p) for p in raw["screenshots"]], artifacts=out_dir, raw=raw,
        )  # fmt: skip
        if check and not result.ok:
            said = "\n".join(
                f"  [{tabs[t].name}] {m.author or tabs[t].name}: {m.text[:300]!r}"
                for t, ms in result.tabs.items()
                for m in ms
            )
            pytest.fail(
                f"e2e: {result.error}\nthe page showed:\n{said or '  (nothing)'}\nscreenshots: {out_dir}\n"
                f"logs: {ARTIFACTS} (bot.log, playground-*.log are copied at the end of the session)",
                pytrace=False,
            )
        return result

    return run
