"""bot/activity.py builds the same Activity msrest would, and leaves odd input to msrest."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botbuilder.schema import Activity, ChannelAccount
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.activity import activity_from_json

TEAMS_MESSAGE: dict[str, Any] = {
    "type": "message",
    "id": "1700000000000",
    "timestamp": "2026-11-23T01:52:46.1234567Z",
    "localTimestamp": "2026-11-23T10:52:46.123+09:00",
    "serviceUrl": "https://smba.trafficmanager.net/jp/",
    "channelId": "msteams",
    "from": {"id": "29:abc", "name": "鈴木 一郎", "aadObjectId": "aad-1"},
    "recipient": {"id": "28:bot", "name": "DX推進ボット"},
    "conversation": {
        "id": "a:1",
        "conversationType": "personal",
        "tenantId": "t-1",
        "isGroup": False,
    },
    "textFormat": "plain",
    "locale": "ja-JP",
    "text": "<at>DX推進ボット</at> ヘルプ",
    "attachments": [
        {"contentType": "text/html", "content": "<div>ヘルプ</div>"},
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": "名簿.xlsx",
            "content": {"downloadUrl": "https://x/y", "fileType": "xlsx"},
        },
    ],
    "entities": [{"type": "clientInfo", "locale": "ja-JP", "country": "JP", "platform": "Web"}],
    "channelData": {
        "tenant": {"id": "t-1"},
        "team": {"id": "19:t"},
        "channel": {"id": "19:c", "name": "一般"},
    },
    "value": {"action": "qa.feedback", "helpful": True},
    "membersAdded": [{"id": "28:bot"}, {"id": "29:abc", "name": "鈴木"}],
    "unknownTopLevel": {"kept": 1},
}


def _attrs(obj: Any) -> Any:
    """Every attribute, nested models and lists included, for comparing objects built two ways."""
    if isinstance(obj, Model):
        return (type(obj).__name__, {k: _attrs(v) for k, v in vars(obj).items()})
    if isinstance(obj, list):
        return [_attrs(v) for v in obj]
    return obj


def _same(fast: Activity, slow: Activity) -> None:
    assert type(fast) is type(slow)
    assert _attrs(fast) == _attrs(slow)
    assert fast.serialize() == slow.serialize()
    assert fast.additional_properties == slow.additional_properties
    assert fast.timestamp == slow.timestamp and fast.local_timestamp == slow.local_timestamp
    assert isinstance(fast.from_property, ChannelAccount)
    assert fast.from_property.aad_object_id == slow.from_property.aad_object_id


def test_a_teams_message_is_built_like_msrest_builds_it() -> None:
    fast = activity_from_json(copy.deepcopy(TEAMS_MESSAGE))
    slow = Activity().deserialize(copy.deepcopy(TEAMS_MESSAGE))
    _same(fast, slow)
    assert fast.additional_properties == {"unknownTopLevel": {"kept": 1}}
    assert fast.timestamp is not None and fast.timestamp.microsecond == 123456
    assert fast.attachments[1].content["downloadUrl"] == "https://x/y"
    assert fast.entities[0].type == "clientInfo"
    assert fast.conversation.is_group is False


@pytest.mark.parametrize(
    "change",
    [
        {"text": 12},  # a number where a string belongs: msrest makes it "12"
        {"conversation": {"id": 5, "isGroup": "true"}},  # msrest converts "true"
        {"membersAdded": {"id": "x"}},  # not a list
    ],
)
def test_odd_values_get_msrest_behaviour(change: dict[str, Any]) -> None:
    body = {**copy.deepcopy(TEAMS_MESSAGE), **change}
    try:
        slow: Activity | None = Activity().deserialize(copy.deepcopy(body))
    except DeserializationError:
        slow = None
    if slow is None:
        with pytest.raises(DeserializationError):
            activity_from_json(body)
    else:
        _same(activity_from_json(body), slow)


def test_a_nested_object_that_is_no_object_is_refused_like_msrest() -> None:
    body = {**copy.deepcopy(TEAMS_MESSAGE), "from": "someone"}
    with pytest.raises(DeserializationError):
        Activity().deserialize(copy.deepcopy(body))
    with pytest.raises(DeserializationError):
        activity_from_json(body)


def test_a_minimal_activity() -> None:
    fast = activity_from_json({"type": "typing"})
    assert fast.type == "typing" and fast.text is None and fast.from_property is None
