"""botbuilder's CloudAdapter, with connector clients reused across turns and a cheaper way in.

The stock adapter builds a new ConnectorClient and UserTokenClient for every incoming activity; with
msrest that costs ~7 ms of CPU each, more than the rest of a turn. We build one connector per
(service URL, audience, bot identity) and reuse it, and create no user-token client (the bot uses
no OAuth prompts). Authentication is unchanged: every request still goes through
``bot_framework_authentication.authenticate_request``.

``process_json`` takes the body the web handler has already parsed and validated, so the JSON is read
once, and builds the ``Activity`` with ``bot.activity`` instead of msrest's generic deserialiser.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, JwtTokenValidation

from bot.activity import activity_from_json


class DxAdapter(CloudAdapter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connectors: dict[tuple[str, str, str], Any] = {}

    async def _connector(self, service_url: str, result: AuthenticateRequestResult) -> Any:
        app_id = JwtTokenValidation.get_app_id_from_claims(result.claims_identity.claims) or ""
        key = (service_url, str(result.audience), app_id)
        client = self._connectors.get(key)
        if client is None:
            client = await result.connector_factory.create(service_url, result.audience)
            if len(self._connectors) > 1000:  # service URLs are few; this only guards against abuse
                self._connectors.clear()
            self._connectors[key] = client
        return client

    async def process_json(self, body: dict[str, Any], auth_header: str, bot: Bot) -> web.Response:
        """What ``CloudAdapter.process`` does for a POST, from an already parsed body."""
        activity = activity_from_json(body)
        try:
            invoke_response = await self.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError as exc:
            raise web.HTTPUnauthorized from exc
        if invoke_response:
            return web.json_response(
                data=serializer_helper(invoke_response.body), status=invoke_response.status
            )
        return web.Response(status=201)

    async def process_activity(
        self,
        auth_header_or_authenticate_request_result: str | AuthenticateRequestResult,
        activity: Activity,
        logic: Callable[[TurnContext], Awaitable],
    ) -> InvokeResponse | None:
        if isinstance(auth_header_or_authenticate_request_result, str):
            result = await self.bot_framework_authentication.authenticate_request(
                activity, auth_header_or_authenticate_request_result
            )
        else:
            result = auth_header_or_authenticate_request_result
        activity.caller_id = result.caller_id
        connector = await self._connector(activity.service_url, result)
        context = self._create_turn_context(
            activity,
            result.claims_identity,
            result.audience,
            connector,
            None,
            logic,
            result.connector_factory,
        )
        await self.run_pipeline(context, logic)
        return self._process_turn_results(context)
