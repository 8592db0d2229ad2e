"""The transport hands features one header view, looked up whatever the case the client wrote."""

from __future__ import annotations

import pytest

from bot.api import Headers, HttpRequest
from tests.support import running_bot, settings_for


def test_headers_are_found_whatever_the_case() -> None:
    headers = Headers([("Authorization", "Bearer a"), ("X-Trace", "1"), ("x-trace", "2")])
    assert headers["authorization"] == headers["AUTHORIZATION"] == "Bearer a"
    assert headers.get("COOKIE", "") == ""
    assert "x-TRACE" in headers and headers["X-Trace"] == "2"  # sent twice: the last one
    assert len(headers) == 2


def test_a_request_built_from_a_plain_dict_gets_the_same_view() -> None:
    req = HttpRequest("GET", "/", {}, {"cookie": "a=1"}, b"", {}, services=None)  # type: ignore[arg-type]
    assert req.headers["Cookie"] == "a=1"


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_the_automation_api_key_counts_in_any_header_case(sqlite_url, connector, name) -> None:
    settings = settings_for(sqlite_url, api_keys=["secret-key-1"])
    async with running_bot(settings, connector) as bot:
        resp = await bot.client.get("/api/v1/announcements/999", headers={name: "Bearer secret-key-1"})
        assert resp.status == 404, await resp.text()
