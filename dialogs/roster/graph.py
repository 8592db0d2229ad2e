"""Proactive installation of the app for promoters the bot cannot reach yet, through Microsoft Graph.

    config = GraphConfig.from_settings(services.settings)
    if config.configured:
        result = await install_for(config, ["yamada@city.example.jp", ...])

Needs an Entra ID app registration with the application permission
``TeamsAppInstallation.ReadWriteSelfForUser.All`` (admin consent) and the app's id in the tenant's app
catalog. Graph calls: POST {login}/{tenant}/oauth2/v2.0/token (client credentials), then
POST {graph}/users/{upn}/teamwork/installedApps with ``teamsApp@odata.bind``. Once installed, Teams
tells the bot, which stores the conversation reference: the promoter becomes reachable.

Uses the standard library's HTTP client in worker threads (features stay free of the transport's
aiohttp); a few concurrent requests, honouring Retry-After on 429.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphConfig:
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    teams_app_id: str = ""  # the app's id in the tenant app catalog (appCatalogs/teamsApps/{id})
    base_url: str = "https://graph.microsoft.com/v1.0"
    login_url: str = "https://login.microsoftonline.com"

    @property
    def configured(self) -> bool:
        return bool(self.tenant_id and self.client_id and self.client_secret and self.teams_app_id)

    @classmethod
    def from_settings(cls, settings: Any) -> GraphConfig:
        return cls(
            tenant_id=getattr(settings, "graph_tenant_id", "") or "",
            client_id=getattr(settings, "graph_client_id", "") or "",
            client_secret=getattr(settings, "graph_client_secret", "") or "",
            teams_app_id=getattr(settings, "graph_teams_app_id", "") or "",
            base_url=(getattr(settings, "graph_base_url", "") or cls.base_url).rstrip("/"),
            login_url=(getattr(settings, "graph_login_url", "") or cls.login_url).rstrip("/"),
        )


@dataclass
class InstallResult:
    """Emails by outcome: installed, already (had the app), not_found, forbidden, failed."""

    by_outcome: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    error: str | None = None  # the whole run failed (e.g. no token)

    def count(self, outcome: str) -> int:
        return len(self.by_outcome.get(outcome, []))


class GraphError(Exception):
    def __init__(self, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(f"graph: {status}")
        self.status = status
        self.retry_after = retry_after


def _request(
    method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (configured https URLs)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        retry = exc.headers.get("Retry-After") if exc.headers else None
        raise GraphError(exc.code, float(retry) if retry else None) from None
    except (urllib.error.URLError, TimeoutError, OSError):
        raise GraphError(None) from None


class GraphClient:
    def __init__(self, config: GraphConfig, timeout: float = 20.0) -> None:
        self.config = config
        self.timeout = timeout
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and self._token[1] > time.monotonic() + 60:
                return self._token[0]
            c = self.config
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "scope": "https://graph.microsoft.com/.default",
                }
            ).encode()
            url = f"{c.login_url}/{urllib.parse.quote(c.tenant_id)}/oauth2/v2.0/token"
            _, raw = await asyncio.to_thread(
                _request,
                "POST",
                url,
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
                self.timeout,
            )
            data = json.loads(raw)
            self._token = (data["access_token"], time.monotonic() + float(data.get("expires_in", 3600)))
            return self._token[0]

    async def install(self, user: str, attempts: int = 4) -> str:
        """Install the app for one user (UPN or object id); the outcome name."""
        c = self.config
        url = f"{c.base_url}/users/{urllib.parse.quote(user)}/teamwork/installedApps"
        body = json.dumps(
            {"teamsApp@odata.bind": f"{c.base_url}/appCatalogs/teamsApps/{c.teams_app_id}"}
        ).encode()
        for attempt in range(attempts):
            headers = {"Authorization": f"Bearer {await self.token()}", "Content-Type": "application/json"}
            try:
                await asyncio.to_thread(_request, "POST", url, body, headers, self.timeout)
                return "installed"
            except GraphError as exc:
                if exc.status == 409:
                    return "already"
                if exc.status == 404:
                    return "not_found"
                if exc.status == 403:
                    return "forbidden"
                if exc.status == 401 and attempt == 0:
                    self._token = None
                    continue
                if exc.status in (None, 429, 500, 502, 503, 504) and attempt + 1 < attempts:
                    await asyncio.sleep(min(exc.retry_after or 2**attempt, 30))
                    continue
                log.warning("graph install failed with status %s", exc.status)
                return "failed"
        return "failed"


async def install_for(config: GraphConfig, users: list[str], concurrency: int = 4) -> InstallResult:
    result = InstallResult()
    if not users:
        return result
    client = GraphClient(config)
    try:
        await client.token()
    except (GraphError, KeyError, ValueError) as exc:
        log.warning("graph token request failed: %s", type(exc).__name__)
        result.error = "token"
        return result
    gate = asyncio.Semaphore(concurrency)

    async def one(user: str) -> None:
        async with gate:
            outcome = await client.install(user)
        result.by_outcome[outcome].append(user)

    await asyncio.gather(*(one(u) for u in users))
    return result
