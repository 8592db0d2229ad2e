"""Dashboard fixtures: the demo city after a year of use, a fake Entra ID (OpenID metadata and JWKS
served locally, signed with our own RSA key), tokens, and the app in Teams or local mode.

    async with dashboard_app(settings) as client:
        resp = await client.get("/dashboard/view/overview", headers=bearer(token_for(ADMIN_EMAIL)))
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import create_app
from bot.settings import Settings

APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
HOST = "dxbot.demo-city.example.jp"
AUDIENCE = f"api://{HOST}/botid-{APP_ID}"
TENANT = "00000000-0000-0000-0000-0000000000aa"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
ADMIN_EMAIL = "dx-admin@demo-city.example.jp"
LEADER_EMAIL = "leader@demo-city.example.jp"
STAFF_EMAIL = "staff@demo-city.example.jp"
KID = "demo-key-1"


@dataclass
class FakeEntra:
    """OpenID metadata and JWKS on a local port; counts how often each was fetched."""

    key: rsa.RSAPrivateKey
    kid: str = KID
    url: str = ""  # the metadata URL
    hits: dict[str, int] = field(default_factory=lambda: {"metadata": 0, "keys": 0})
    down: bool = False

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [jwk | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **claims: Any) -> str:
        """A Teams SSO token (v1 shape) for an admin, unless ``claims`` say otherwise."""
        now = int(time.time())
        tid = claims.pop("tid", TENANT)
        body: dict[str, Any] = {
            "aud": AUDIENCE,
            "iss": f"https://sts.windows.net/{tid}/",
            "tid": tid,
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            "oid": str(uuid.uuid4()),
            "upn": ADMIN_EMAIL,
            "name": "佐藤 花子",
            "ver": "1.0",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
async def entra(signing_key: rsa.RSAPrivateKey) -> AsyncIterator[FakeEntra]:
    fake = FakeEntra(signing_key)

    async def metadata(request: web.Request) -> web.Response:
        fake.hits["metadata"] += 1
        if fake.down:
            return web.Response(status=503)
        base = str(request.url.origin())
        return web.json_response(
            {
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def keys(_: web.Request) -> web.Response:
        fake.hits["keys"] += 1
        return web.json_response(fake.jwks())

    app = web.Application()
    app.router.add_get("/common/v2.0/.well-known/openid-configuration", metadata)
    app.router.add_get("/discovery/v2.0/keys", keys)
    server = TestServer(app)
    await server.start_server()
    fake.url = str(server.make_url("/common/v2.0/.well-known/openid-configuration"))
    try:
        yield fake
    finally:
        await server.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the demo city ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the demo city and a year of activity, made once per test session."""
    from tests.dashboard.demo import main

    path = tmp_path_factory.mktemp("dashboard-demo") / "demo.sqlite3"
    main(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def demo_url(demo_file: Path, tmp_path: Path) -> str:
    """A private copy of the demo database for one test (tests may change it)."""
    copy = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_file, copy)
    return f"sqlite+aiosqlite:///{copy}"


def teams_settings(db_url: str, entra: FakeEntra, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "background_jobs": False,
        "app_id": APP_ID,
        "app_password": "not-used-here",
        "app_tenant_id": TENANT,
        "secret_key": "dashboard-tests-secret-key-of-48-bytes-0123456789",
        "public_url": f"https://{HOST}",
        "allowed_tenants": [TENANT],
        "dashboard_openid_metadata_url": entra.url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def local_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": db_url, "background_jobs": False, "app_id": ""}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def dashboard_app(settings: Settings) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def form_token(client: TestClient) -> str:
    """The CSRF token of the local sign-in form (its cookie stays in the client's jar)."""
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', await (await client.get("/dashboard/login")).text())
    return found.group(1) if found else ""


@pytest.fixture
def tokens(entra: FakeEntra) -> Callable[..., str]:
    return entra.token
