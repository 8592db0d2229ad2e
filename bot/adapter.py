"""botbuilder's CloudAdapter, with connector clients reused across turns and a cheaper way in.

The stock adapter builds a new ConnectorClient and UserTokenClient for every incoming activity; with
msrest that costs ~7 ms of CPU each, more than the rest of a turn. We build one connector per
(service URL, audience, bot identity) and reuse it, and create no user-token client (the bot uses
no OAuth prompts). Authentication is unchanged: every request still goes through
``bot_framework_authentication.authenticate_request``.

``process_json`` takes the body the web handler has already parsed and validated, so the JSON is read
once, and builds the ``Activity`` with ``bot.activity`` instead of msrest's generic deserialiser.

Order of checks: authenticate first (any failure, whatever botframework-connector raised, is
``AuthenticationFailed``, a 401), then the tenant (``TenantRefused``, a 403), then the turn. A
stranger therefore learns nothing about which tenants are served.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, JwtTokenValidation

from bot.activity import activity_from_json
from bot.signing_keys import SigningKeysUnavailable

log = logging.getLogger(__name__)


class AuthenticationFailed(PermissionError):
    """The request's token did not prove it came from the Bot Framework for this bot."""


class TenantRefused(PermissionError):
    """An authenticated activity from a tenant this bot does not serve, or naming two tenants."""


class DxAdapter(CloudAdapter):
    def __init__(self, *args: Any, tenants: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connectors: dict[tuple[str, str, str], Any] = {}
        self._tenants = frozenset(t.lower() for t in tenants)  # GUIDs: case does not matter

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
        invoke_response = await self.process_activity(auth_header, activity, bot.on_turn)
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
            result = await self._authenticate(activity, auth_header_or_authenticate_request_result)
        else:
            result = auth_header_or_authenticate_request_result
        self._check_tenant(activity)
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

    async def _authenticate(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        try:
            return await self.bot_framework_authentication.authenticate_request(activity, auth_header)
        except SigningKeysUnavailable:
            raise
        except Exception as exc:
            # botframework-connector raises PermissionError, PyJWT errors, IndexError (unknown key
            # id), bare Exception (algorithm, endorsements) and more: for the caller all mean "not
            # proven". Logged without a traceback: a stranger's bad token is not our error.
            log.warning("refused an unauthenticated request: %s: %s", type(exc).__name__, exc)
            raise AuthenticationFailed(str(exc)) from exc

    def _check_tenant(self, activity: Activity) -> None:
        in_conversation = _conversation_tenant(activity)
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        tenant = data.get("tenant")
        in_channel_data = tenant.get("id") if isinstance(tenant, dict) else None
        if not isinstance(in_channel_data, str) or not in_channel_data:
            in_channel_data = None
        if in_conversation and in_channel_data and in_conversation.lower() != in_channel_data.lower():
            log.warning("refused an activity whose conversation and channelData name different tenants")
            raise TenantRefused("conversation.tenantId and channelData.tenant.id disagree")
        if self._tenants and (in_conversation or in_channel_data or "").lower() not in self._tenants:
            log.warning("refused a request from a tenant outside the allowed tenants")
            raise TenantRefused("tenant not allowed")


def _conversation_tenant(activity: Activity) -> str | None:
    # Teams sends conversation.tenantId; botbuilder's schema spells the key tenantID, so the value
    # arrives in additional_properties.
    conv = activity.conversation
    if conv is None:
        return None
    extra = conv.additional_properties if isinstance(conv.additional_properties, dict) else {}
    for value in (conv.tenant_id, extra.get("tenantId")):
        if isinstance(value, str) and value:
            return value
    return None
