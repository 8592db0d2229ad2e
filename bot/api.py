"""What features see of the transport: plain data and two small interfaces.

Features (``dialogs/``) import from here and nowhere else in ``bot``. Moving from botbuilder to the
Microsoft 365 Agents SDK changes the implementations in ``bot/`` and leaves this module alone.

    async def handle(turn: Turn, args: str) -> None:
        await turn.reply(turn.t("help.title"))
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.settings import Settings


# Events the transport hands to features (``Router.on_event``), with the data each carries.
# Teams' read receipt in a personal chat: {"last_read_message_id": str}. Sent only when the app has the
# RSC permission ChatMessageReadReceipt.Read.Chat and the user keeps read receipts on.
EVENT_READ_RECEIPT = "read_receipt"


class Role(enum.IntEnum):
    """Who may use a route. Higher includes lower, except that PROMOTER is not implied by AUTHOR."""

    ANYONE = 0
    PROMOTER = 10  # a section's DX leader or sub-leader
    AUTHOR = 20  # DX division: may send announcements and surveys
    ADMIN = 30  # DX division: everything, manages other admins


@dataclass(frozen=True)
class User:
    id: str  # Teams channel account id (29:...)
    aad_object_id: str | None
    name: str
    tenant_id: str | None = None


@dataclass(frozen=True)
class Conversation:
    id: str
    type: str  # "personal" | "groupChat" | "channel"
    tenant_id: str | None = None
    team_id: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class FileAttachment:
    """A file a user sent to the bot (Teams file consent flow or an inline upload)."""

    name: str
    download_url: str
    file_type: str = ""


@dataclass(frozen=True)
class Identity:
    """Who the sender is in the roster, and what they may do."""

    person_id: int | None = None
    email: str | None = None  # the Teams account's UPN (sign-in address), lower case
    roles: frozenset[Role] = frozenset({Role.ANYONE})

    def has(self, role: Role) -> bool:
        if role == Role.ANYONE:
            return True
        if role == Role.PROMOTER:
            return Role.PROMOTER in self.roles or Role.ADMIN in self.roles
        return any(r >= role and r != Role.PROMOTER for r in self.roles)


@dataclass
class Message:
    """An outgoing message: text, an Adaptive Card, or both (the text is the notification preview)."""

    text: str | None = None
    card: dict[str, Any] | None = None
    importance: str | None = None  # "high" for 重要; Teams shows it

    def __post_init__(self) -> None:
        if self.text is None and self.card is None:
            raise ValueError("a message needs text or a card")


@dataclass(frozen=True)
class Address:
    """Where a proactive message goes: a stored conversation reference, in plain fields."""

    conversation_id: str
    service_url: str
    tenant_id: str | None = None
    conversation_type: str = "personal"
    bot_id: str | None = None
    user_id: str | None = None  # the Teams user id, to re-create a personal chat
    channel_id: str = "msteams"


class SendError(Exception):
    """A send the connector refused. ``status`` None means no answer (timeout, connection)."""

    def __init__(self, status: int | None, reason: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"send failed: {status} {reason}".strip())
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in (412, 429, 500, 502, 503, 504)

    @property
    def unreachable(self) -> bool:
        return self.status in (403, 404)


class DownloadError(Exception):
    """A file a user sent could not be fetched whole. Nothing of it may be used: a short read looks like
    a shorter file (a roster that ends early would end the assignments of everyone missing from it)."""


class FileTooLarge(DownloadError):
    def __init__(self, limit: int, size: int | None = None) -> None:
        super().__init__(f"file larger than {limit} bytes")
        self.limit = limit
        self.size = size  # what the server announced, if it did


class FileIncomplete(DownloadError):
    """The body ended before the announced length, or the connection broke mid-way."""

    def __init__(self, received: int, expected: int | None = None) -> None:
        super().__init__(f"file incomplete: {received} of {expected if expected is not None else '?'} bytes")
        self.received = received
        self.expected = expected


class DownloadNotAllowed(DownloadError):
    """The link (or a redirect) points where the bot does not fetch from: not https, or a private address."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"download not allowed: {reason}")
        self.reason = reason


class DownloadFailed(DownloadError):
    """No file: an error status (an expired link answers 401/403/404), a timeout, a network failure."""

    def __init__(self, status: int | None = None, reason: str = "") -> None:
        super().__init__(f"download failed: {status} {reason}".strip())
        self.status = status
        self.reason = reason


class Messenger(Protocol):
    """Sends to Teams outside a turn. The only way features reach Teams proactively."""

    async def send(self, address: Address, message: Message) -> str:
        """Post a new activity; return its activity id. Raises SendError."""
        ...

    async def update(self, address: Address, activity_id: str, message: Message) -> None: ...

    async def delete(self, address: Address, activity_id: str) -> None: ...

    async def create_personal_conversation(self, address: Address) -> Address:
        """Re-create the 1:1 chat with ``address.user_id``; return the new address. Raises SendError."""
        ...

    async def member(
        self, address: Address, user_id: str, team_id: str | None = None
    ) -> dict[str, Any] | None:
        """The Teams member record of ``user_id`` in that chat (or team); None if not a member.
        Raises SendError."""
        ...


@runtime_checkable
class MemberDirectory(Protocol):
    """Who is in a group chat or a team (its channels share the team's members). The bot's connector
    offers it; a rate-limited copy inside the delivery worker need not."""

    async def conversation_members(
        self, address: Address, team_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every member record (paged through); raises SendError."""
        ...


class Turn(Protocol):
    """One incoming activity, as a feature handler sees it."""

    text: str  # mention-free, whitespace-trimmed
    value: dict[str, Any] | None  # Adaptive Card submit data
    user: User
    conversation: Conversation
    locale: str  # "ja" | "en"
    attachments: list[FileAttachment]
    reply_to_id: str | None  # the card a submit came from
    identity: Identity
    services: Services
    correlation_id: str

    @property
    def session(self) -> AsyncSession:
        """This turn's database session: one transaction, committed when the handler returns and
        rolled back if it raises."""
        ...

    def t(self, key: str, **kwargs: Any) -> str: ...

    async def reply(self, text: str) -> str | None: ...

    async def reply_card(self, card: dict[str, Any], text: str | None = None) -> str | None: ...

    async def update_card(self, activity_id: str, card: dict[str, Any]) -> None: ...

    async def member_email(self) -> str | None:
        """The sender's UPN (sign-in address) from the Teams member record, lower case; None if unknown."""
        ...

    async def download(self, attachment: FileAttachment, max_bytes: int = 10 * 1024 * 1024) -> bytes:
        """The whole file, or an exception: FileTooLarge, FileIncomplete, DownloadNotAllowed or
        DownloadFailed (all DownloadError). Never a part of the file."""
        ...


@dataclass
class Services:
    """Long-lived things a handler or a background job may need. Built by ``create_app``."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    messenger: Messenger
    clock: Callable[[], datetime]
    extras: dict[str, Any] = field(default_factory=dict)  # feature-owned singletons (search index, …)


class Headers(Mapping[str, str]):
    """Request headers, looked up whatever the case: ``req.headers.get("authorization")`` finds
    ``Authorization``. Built once by the transport; a header sent twice keeps its last value."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True)
class HttpRequest:
    """A web request a feature serves (dashboard, chart links, automation API), without aiohttp."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers  # any case: headers["authorization"] == headers["Authorization"]
    body: bytes
    match: dict[str, str]  # path parameters, e.g. {"id": "12"} for /api/announcements/{id}
    services: Services
    remote: str = ""  # the client's address as the server saw it (a proxy's, behind one)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def json(self) -> Any:
        import json

        return json.loads(self.body.decode("utf-8"))


@dataclass
class HttpResponse:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> HttpResponse:
        import json

        return cls(status, json.dumps(data, ensure_ascii=False, default=str), "application/json")


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # aiohttp-style pattern: /api/announcements/{id}
    handler: Callable[[HttpRequest], Any]  # async (HttpRequest) -> HttpResponse


@dataclass(frozen=True)
class Job:
    """A background loop a feature owns: ``run(services, stop)`` returns when ``stop`` is set."""

    name: str
    run: Callable[[Services, Any], Any]  # async (Services, asyncio.Event) -> None
