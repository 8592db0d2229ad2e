"""The application factory: ``create_app(settings)`` builds everything and returns the aiohttp app.

app = create_app(Settings())
web.run_app(app, host=settings.host, port=settings.port)
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import DeserializationError

from bot import signing_keys
from bot.adapter import AuthenticationFailed, DxAdapter, TenantRefused
from bot.api import Headers, HttpRequest, HttpResponse, Messenger, Services
from bot.service_urls import ServiceUrls
from bot.services import default_messenger
from bot.settings import InsecureSettings, Settings
from bot.signing_keys import SigningKeysUnavailable
from bot.tasks import TaskGroup
from bot.turn import CLIENT_LOCALE_TRUSTED, DxBot, locale_of
from dialogs.composition import features, role_sources, route_table, turn_steps
from dialogs.kit.i18n import t
from dialogs.kit.identity import use_role_sources
from dialogs.kit.security_headers import secure
from storage.db import make_engine, make_sessionmaker
from storage.migrate import is_migrated

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
TASKS = web.AppKey("tasks", TaskGroup)
ADAPTER = web.AppKey("adapter", DxAdapter)
INFLIGHT = web.AppKey("inflight", dict)


class _BotConfig:
    """The attribute names botbuilder's configuration objects read."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        # botbuilder's SingleTenant insists on an app id; without one (local mode) authentication is
        # off either way, which its MultiTenant branch allows.
        self.APP_TYPE = settings.app_type if settings.app_id else "MultiTenant"
        self.APP_TENANTID = settings.app_tenant_id


def _problem(status: int, code: str, message_ja: str) -> web.Response:
    return web.json_response({"error": code, "message": message_ja}, status=status)


class _BodyTooSlow(Exception):
    pass


async def _read_body(request: web.Request, seconds: float) -> bytes:
    """The request body, or _BodyTooSlow when the client has not sent it within ``seconds``."""
    try:
        return await asyncio.wait_for(request.read(), seconds)
    except TimeoutError as exc:
        raise _BodyTooSlow from exc


def _too_slow() -> web.Response:
    resp = _problem(408, "timeout", "リクエストの本文が時間内に届きませんでした。")
    resp.force_close()  # the rest of the body may still arrive; do not read it as the next request
    return resp


def create_app(
    settings: Settings,
    *,
    messenger: Messenger | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """Raises InsecureSettings when ``settings.problems()`` says the bot must not serve requests."""
    problems = settings.problems()
    if problems:
        raise InsecureSettings(problems)
    signing_keys.install(settings.signing_keys_timeout_seconds)
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    service_urls = ServiceUrls(sessionmaker, local_mode=settings.local_mode)
    if messenger is None:
        messenger = default_messenger(settings, service_urls)
    services = Services(
        settings=settings,
        sessionmaker=sessionmaker,
        messenger=messenger,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    adapter = DxAdapter(
        ConfigurationBotFrameworkAuthentication(_BotConfig(settings)), tenants=settings.tenants
    )
    adapter.on_turn_error = _turn_error_handler(settings)
    # What the features offer the transport, wired by the composition root: who a sender is (the turn
    # and the dashboard's sign-in alike), and the features' own steps around a turn.
    use_role_sources(services, role_sources())
    bot = DxBot(services, route_table(), service_urls, turn_steps())

    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SERVICES] = services
    app[TASKS] = TaskGroup()
    app[ADAPTER] = adapter
    app[INFLIGHT] = {"count": 0, "idle": asyncio.Event()}
    app[INFLIGHT]["idle"].set()

    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _problem(400, "content_type", "Content-Type は application/json にしてください。")
        if request.content_length is not None and request.content_length > settings.max_body_bytes:
            return _problem(413, "too_large", "リクエストが大きすぎます(上限 256 KB)。")
        try:
            body = orjson.loads(await _read_body(request, settings.body_timeout_seconds))
        except _BodyTooSlow:
            return _too_slow()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, "too_large", "リクエストが大きすぎます(上限 256 KB)。")
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "malformed_json", "JSON として読み取れませんでした。")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return _problem(400, "not_an_activity", "Bot Framework のアクティビティではありません。")
        if not settings.local_mode and not request.headers.get("Authorization"):
            return _problem(401, "unauthorized", "認証情報がありません。")
        if request.headers.get("x-ms-agents-playground", "").lower() == "true":
            CLIENT_LOCALE_TRUSTED.set(False)  # this request's task only
        inflight = app[INFLIGHT]
        inflight["count"] += 1
        inflight["idle"].clear()
        try:
            response = await adapter.process_json(body, request.headers.get("Authorization", ""), bot)
        except DeserializationError:
            return _problem(400, "not_an_activity", "アクティビティの形式が正しくありません。")
        except AuthenticationFailed:
            return _problem(401, "unauthorized", "認証に失敗しました。")
        except TenantRefused:
            return _problem(403, "tenant", "このテナントからの利用は許可されていません。")
        except SigningKeysUnavailable:
            resp = _problem(
                503, "signing_keys", "認証用の鍵を取得できませんでした。しばらくして再送してください。"
            )
            resp.headers["Retry-After"] = "30"
            return resp
        finally:
            inflight["count"] -= 1
            if inflight["count"] == 0:
                inflight["idle"].set()
        return response

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        try:
            ok = await is_migrated(engine)
        except Exception as exc:  # the database is down or unreadable
            log.warning("readiness check failed: %s", type(exc).__name__)
            return web.json_response({"status": "database unreachable"}, status=503)
        if not ok:
            return web.json_response({"status": "database not migrated"}, status=503)
        return web.json_response({"status": "ready"})

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for feature in features():
        for route in feature.http:
            app.router.add_route(route.method, route.path, _web_handler(route.handler, services))

    async def on_startup(app: web.Application) -> None:
        if settings.local_mode and not settings.on_loopback:
            log.critical(
                "LOCAL MODE ON THE NETWORK (DXBOT_ALLOW_LOCAL_MODE_ON_NETWORK=true, DXBOT_HOST=%s): "
                "requests are NOT authenticated and anyone who reaches this port can claim to be an "
                "admin. Never run a city's bot like this; set MicrosoftAppId for production.",
                settings.host,
            )
        elif settings.local_mode:
            log.warning(
                "LOCAL MODE: MicrosoftAppId is empty, so requests are NOT authenticated. "
                "Use this only on 127.0.0.1 with the Agents Playground or tests."
            )
        for feature in features():
            if feature.startup:
                await feature.startup(services)
        # Everything made so far (modules, the route table, the search index) lives as long as the
        # process: keep it out of the cyclic collector's way, so collections during turns stay short.
        gc.collect()
        gc.freeze()
        if settings.background_jobs:
            for feature in features():
                for job in feature.jobs:
                    app[TASKS].start(job.name, job.run(services, app[TASKS].stop))

    async def on_shutdown(app: web.Application) -> None:
        # Let turns already running finish (bounded), then stop background jobs.
        try:
            await asyncio.wait_for(app[INFLIGHT]["idle"].wait(), timeout=20)
        except TimeoutError:
            log.warning("shutdown: %d turns still running", app[INFLIGHT]["count"])
        await app[TASKS].close()

    async def on_cleanup(app: web.Application) -> None:
        close = getattr(services.messenger, "close", None)
        if close:
            await close()
        await engine.dispose()

    app.on_response_prepare.append(_default_security_headers)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


async def _default_security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """What aiohttp answers by itself (404, 405, 413 …) and /healthz get the same defaults as the
    features' pages; a header a handler set wins."""
    headers = secure(HttpResponse(response.status, b"", headers=dict(response.headers)))
    for name, value in headers.items():
        response.headers.setdefault(name, value)


def _web_handler(handler: Callable[[HttpRequest], Any], services: Services) -> Callable[..., Any]:
    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            body = await _read_body(request, services.settings.body_timeout_seconds)
        except _BodyTooSlow:
            return _too_slow()
        req = HttpRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=Headers(request.headers.items()),
            body=body,
            match=dict(request.match_info),
            services=services,
            remote=request.remote or "",
        )
        resp: HttpResponse = await handler(req)
        body = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
        return web.Response(
            status=resp.status, body=body, content_type=resp.content_type, headers=secure(resp)
        )

    return serve


def _turn_error_handler(settings: Settings) -> Callable[[TurnContext, Exception], Any]:
    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        correlation_id = context.turn_state.get("correlation_id", "-")
        log.error(
            "turn failed (correlation id %s, activity type %s)",
            correlation_id,
            context.activity.type,
            exc_info=(type(error), error, error.__traceback__),
        )
        if context.activity.type != ActivityTypes.message:
            return
        locale = locale_of(context.activity, settings.locale)
        try:
            await context.send_activity(
                Activity(
                    type=ActivityTypes.message, text=t("core.error", locale, correlation_id=correlation_id)
                )
            )
        except Exception:  # the connector itself may be what failed
            log.warning("could not tell the user about turn failure %s", correlation_id)

    return on_turn_error
