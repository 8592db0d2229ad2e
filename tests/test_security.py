"""What the transport refuses: unsafe settings at start, unproven tokens, other tenants, slow bodies.

Tokens are made here with PyJWT and checked against a stand-in for the Bot Framework's published keys
(OpenID metadata and JWKS served from a thread, so a bot that blocks its event loop cannot stall it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from botframework.connector.auth import ChannelValidation
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import create_app
from bot.settings import DEV_SECRET_KEY, InsecureSettings, Settings
from tests.support import STAFF, TENANT, activity, running_bot, settings_for

APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
KEY = "transport-tests-secret-key-of-48-bytes-0123456789"
REPO = Path(__file__).resolve().parent.parent


# --- settings checked at start ---------------------------------------------------------------------


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _production(**values: Any) -> Settings:
    base = {"app_id": APP_ID, "app_password": "pw", "app_tenant_id": TENANT, "secret_key": KEY}
    return _settings(**(base | values))


def _variables(settings: Settings) -> list[str]:
    return [p.variable for p in settings.problems()]


def test_production_settings_with_everything_set_are_accepted():
    assert _production().problems() == []
    assert _production(app_type="MultiTenant", app_tenant_id="", allowed_tenants=[TENANT]).problems() == []
    assert _production().app_type == "SingleTenant"  # the default, as Azure Bot creates new bots


def test_production_refuses_the_development_key_and_short_keys():
    assert _variables(_production(secret_key=DEV_SECRET_KEY)) == ["DXBOT_SECRET_KEY"]
    assert _variables(_settings(app_id=APP_ID, app_password="pw", app_tenant_id=TENANT)) == [
        "DXBOT_SECRET_KEY"
    ]
    assert _variables(_production(secret_key="x" * 31)) == ["DXBOT_SECRET_KEY"]
    assert _variables(_production(secret_key="鍵" * 11)) == []  # 33 bytes in UTF-8


def test_an_app_id_needs_a_tenant():
    assert _variables(_production(app_tenant_id="")) == ["MicrosoftAppTenantId"]
    assert _variables(_production(app_type="MultiTenant", app_tenant_id="")) == ["DXBOT_ALLOWED_TENANTS"]
    assert _variables(_production(app_type="Everyone")) == ["MicrosoftAppType"]
    assert _variables(_production(app_password="")) == ["MicrosoftAppPassword"]


def test_local_mode_only_on_loopback_unless_opted_in():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert _settings(host=host).problems() == [], host
    for host in ("0.0.0.0", "", "::", "192.168.1.10", "bot.demo-city.example.jp"):
        assert _variables(_settings(host=host)) == ["MicrosoftAppId"], host
    assert _settings(host="0.0.0.0", allow_local_mode_on_network=True).problems() == []


def test_each_problem_says_in_japanese_and_english_what_to_set():
    problems = _settings(app_id=APP_ID, app_type="MultiTenant").problems()
    assert {p.variable for p in problems} == {
        "MicrosoftAppPassword",
        "DXBOT_ALLOWED_TENANTS",
        "DXBOT_SECRET_KEY",
    }
    for p in problems:
        assert p.variable in p.ja and p.variable in p.en
        assert "。" in p.ja and p.en.isascii()


def test_create_app_refuses_insecure_settings(sqlite_url):
    with pytest.raises(InsecureSettings) as err:
        create_app(settings_for(sqlite_url, app_id=APP_ID, app_password="pw", app_tenant_id=TENANT))
    assert "DXBOT_SECRET_KEY" in str(err.value)
    with pytest.raises(InsecureSettings):
        create_app(settings_for(sqlite_url, host="0.0.0.0"))


def _dxbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DXBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=base | env, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_the_docker_image_settings_refuse_to_start_without_an_app_id(tmp_path):
    """The image's own ENV (DXBOT_HOST=0.0.0.0) with no app id: `dxbot run` must not serve."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    docker = dict(re.findall(r"\b(DXBOT_(?:HOST|PORT))=(\S+)", dockerfile))
    assert docker["DXBOT_HOST"] == "0.0.0.0"
    assert re.search(r'CMD .*"dxbot check && .*exec dxbot run"', dockerfile)
    for command in (["run"], ["check"]):
        done = _dxbot(tmp_path, *command, **docker)
        assert done.returncode != 0, done.stdout + done.stderr
        assert "MicrosoftAppId" in done.stderr and "DXBOT_ALLOW_LOCAL_MODE_ON_NETWORK" in done.stderr
        assert "起動できません" in done.stderr and "Refusing to start" in done.stderr
        assert "serving on" not in done.stderr + done.stdout
    opted_in = _dxbot(tmp_path, "check", **docker, DXBOT_ALLOW_LOCAL_MODE_ON_NETWORK="true")
    assert opted_in.returncode == 0, opted_in.stderr


def test_run_refuses_production_with_the_development_key_and_secret_key_prints_a_good_one(tmp_path):
    prod = {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "pw", "MicrosoftAppTenantId": TENANT}
    done = _dxbot(tmp_path, "run", **prod)
    assert done.returncode != 0 and "DXBOT_SECRET_KEY" in done.stderr and "dxbot secret-key" in done.stderr
    key = _dxbot(tmp_path, "secret-key")
    assert key.returncode == 0
    new_key = key.stdout.strip()
    assert len(new_key.encode()) >= 32 and new_key != _dxbot(tmp_path, "secret-key").stdout.strip()
    assert _dxbot(tmp_path, "check", **prod, DXBOT_SECRET_KEY=new_key).returncode == 0


# --- tokens: a stand-in for the Bot Framework's signing keys -----------------------------------------


class ChannelKeys:
    """OpenID metadata + JWKS the way login.botframework.com publishes them, from its own thread."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        self.keys = [jwk | {"kid": "teams-key", "endorsements": ["msteams"]}]
        self.webchat_only = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.webchat_only.public_key()))
        self.keys.append(jwk | {"kid": "webchat-key", "endorsements": ["webchat"]})
        self.delay = 0.0
        self.metadata_requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path == "/metadata":
                    outer.metadata_requests += 1
                    time.sleep(outer.delay)
                    body = {"issuer": "https://api.botframework.com", "jwks_uri": f"{outer.url}/keys"}
                else:
                    body = {"keys": outer.keys}
                data = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the bot gave up waiting
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, service_url: str, *, key: Any = None, kid: str = "teams-key", **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": "https://api.botframework.com",
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
        } | claims
        return jwt.encode(body, key or self.private, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelKeys]:
    keys = ChannelKeys()
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", f"{keys.url}/metadata")
    yield keys
    keys.server.shutdown()


def teams_settings(db_url: str, **values: Any) -> Settings:
    base = {"app_id": APP_ID, "app_password": "pw", "app_tenant_id": TENANT, "secret_key": KEY}
    return settings_for(db_url, **(base | values))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_genuine_channel_token_is_accepted(sqlite_url, connector, channel):
    async with running_bot(teams_settings(sqlite_url), connector) as bot:
        typing = activity(connector.url, type="typing")
        assert await bot.post(typing, headers=_bearer(channel.token(connector.url))) in (200, 201)


async def test_every_authentication_failure_is_401_without_a_traceback(
    sqlite_url, connector, channel, caplog
):
    now = int(time.time())
    url = connector.url
    forged = {
        "unknown kid": channel.token(url, kid="not-published"),
        "no kid": jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url},
                             channel.private, algorithm="RS256"),
        "alg none": jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url},
                               None, algorithm="none", headers={"kid": "teams-key"}),
        "HS256": jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url},
                            "some-shared-secret-of-at-least-32-bytes", algorithm="HS256", headers={"kid": "teams-key"}),
        "unendorsed channel": channel.token(url, key=channel.webchat_only, kid="webchat-key"),
        "expired": channel.token(url, exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "another bot": channel.token(url, aud="ffffffff-0000-0000-0000-000000000000"),
        "another service url": channel.token("https://evil.example.com/"),
        "signed with another key": channel.token(url, key=channel.webchat_only),
        "garbage": "garbage",
        "three dots": "a.b.c",
    }  # fmt: skip
    caplog.set_level(logging.WARNING)
    async with running_bot(teams_settings(sqlite_url), connector) as bot:
        for name, token in forged.items():
            resp = await bot.client.post(
                "/api/messages", json=activity(url, text="ヘルプ"), headers=_bearer(token)
            )
            assert resp.status == 401, name
            assert (await resp.json())["error"] == "unauthorized", name
    assert connector.replies() == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


async def test_authentication_comes_before_the_tenant_check(sqlite_url, connector, channel):
    """A stranger from a tenant that is not served learns nothing: 401, not 403."""
    settings = teams_settings(sqlite_url, allowed_tenants=["another-tenant"])
    async with running_bot(settings, connector) as bot:
        act = activity(connector.url, text="ヘルプ")
        assert await bot.post(act, headers=_bearer("not-a-token")) == 401
        assert await bot.post(act, headers=_bearer(channel.token(connector.url, kid="unknown"))) == 401
        assert await bot.post(act, headers=_bearer(channel.token(connector.url))) == 403
    assert connector.replies() == []


async def test_an_app_id_serves_only_its_own_tenant(sqlite_url, connector, channel):
    token = channel.token(connector.url)
    async with running_bot(teams_settings(sqlite_url), connector) as bot:
        other = activity(connector.url, type="typing", conversation={"id": "a:x", "tenantId": "other"},
                         channel_data={"tenant": {"id": "other"}})  # fmt: skip
        assert await bot.post(other, headers=_bearer(token)) == 403
        assert await bot.post(activity(connector.url, type="typing"), headers=_bearer(token)) in (200, 201)
        upper = TENANT.upper()  # tenant ids are GUIDs; their case carries no meaning
        same = activity(connector.url, type="typing", conversation={"id": "a:x", "tenantId": upper},
                        channel_data={"tenant": {"id": TENANT}})  # fmt: skip
        assert await bot.post(same, headers=_bearer(token)) in (200, 201)


async def test_an_activity_naming_two_tenants_is_refused(sqlite_url, connector, channel):
    disagree = {"tenant": {"id": "11111111-2222-3333-4444-555555555555"}}
    token = channel.token(connector.url)
    async with running_bot(teams_settings(sqlite_url), connector) as bot:
        act = activity(connector.url, type="typing", channel_data=disagree)
        assert await bot.post(act, headers=_bearer(token)) == 403
    async with running_bot(settings_for(sqlite_url), connector) as bot:  # local mode too
        assert await bot.say("ヘルプ", channel_data=disagree) == 403
        assert await bot.say("ヘルプ") in (200, 201)
    assert len(connector.cards_to(STAFF.conversation_id)) == 1


async def test_a_slow_key_endpoint_neither_blocks_the_bot_nor_hangs_the_request(
    sqlite_url, connector, channel
):
    channel.delay = 3.0
    settings = teams_settings(sqlite_url, signing_keys_timeout_seconds=1.0)
    async with running_bot(settings, connector) as bot:
        act = activity(connector.url, type="typing")
        started = time.monotonic()
        posting = asyncio.create_task(bot.post(act, headers=_bearer(channel.token(connector.url))))
        await asyncio.sleep(0.3)
        health_started = time.monotonic()
        assert (await bot.client.get("/healthz")).status == 200
        assert time.monotonic() - health_started < 0.5, "the key fetch blocked the event loop"
        assert await posting == 503  # the keys could not be checked: the channel retries later
        assert time.monotonic() - started < 2.5, "the key fetch did not time out"
        channel.delay = 0.0
        token = channel.token(connector.url)
        assert await bot.post(act, headers=_bearer(token)) in (200, 201)  # fetched now; served
    assert channel.metadata_requests == 2


async def test_concurrent_requests_share_one_key_fetch(sqlite_url, connector, channel):
    channel.delay = 0.3
    async with running_bot(teams_settings(sqlite_url), connector) as bot:
        token = channel.token(connector.url)
        posts = [bot.post(activity(connector.url, type="typing"), headers=_bearer(token)) for _ in range(5)]
        assert all(s in (200, 201) for s in await asyncio.gather(*posts))
        # made-up key ids do not make the bot fetch the keys again and again
        for n in range(5):
            bad = channel.token(connector.url, kid=f"made-up-{n}")
            assert await bot.post(activity(connector.url, type="typing"), headers=_bearer(bad)) == 401
    assert channel.metadata_requests == 1


# --- stalled request bodies ----------------------------------------------------------------------------


async def _stalled_post(bot: Any, path: str, content_type: str = "application/json") -> bytes:
    """Send the headers and half the promised body, then nothing; return what the server answers."""
    url = bot.client.make_url(path)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: 1000\r\n\r\n".encode()
        + b'{"type": "message", "text": "'
    )
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), timeout=5)
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/api/messages", "/api/v1/announcements"])
async def test_a_stalled_request_body_gets_408_and_the_connection_is_closed(sqlite_url, connector, path):
    settings = settings_for(sqlite_url, body_timeout_seconds=0.5, api_keys=["automation-key"])
    async with running_bot(settings, connector) as bot:
        started = time.monotonic()
        answer = await _stalled_post(bot, path)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < 3
        assert (await bot.client.get("/healthz")).status == 200
