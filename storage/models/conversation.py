"""Conversation references and Teams accounts: what every proactive message depends on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ConversationRef(Base):
    """One conversation the bot can write into: a personal chat, a group chat or a channel."""

    __tablename__ = "conversation_refs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(512), unique=True)
    conversation_type: Mapped[str] = mapped_column(String(20))  # personal | groupChat | channel
    service_url: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    bot_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(256))  # personal chats: the Teams user id
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team_id: Mapped[str | None] = mapped_column(String(256))
    channel_id: Mapped[str | None] = mapped_column(String(256))
    title: Mapped[str | None] = mapped_column(String(256))  # team/channel name where known
    reference: Mapped[dict] = mapped_column(JSON)  # the full serialized reference, for the adapter
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(64))  # uninstalled | blocked | not_found
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_conversation_refs_personal", "aad_object_id", "conversation_type"),)


class TeamsAccount(Base):
    """A Teams user the bot has seen: (tenant, Entra object id), never an email.

    The roster link (``person_id``) is made once, from the member record's ``userPrincipalName``
    (``upn``), and kept by object id afterwards; the member record's ``email`` is shown, never matched.
    """

    __tablename__ = "teams_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default="", server_default="")  # "" if unknown
    aad_object_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(256), default="")
    upn: Mapped[str | None] = mapped_column(String(320), index=True)  # lower-cased userPrincipalName
    email: Mapped[str | None] = mapped_column(String(320), index=True)  # member record's email, display only
    person_id: Mapped[int | None] = mapped_column(index=True)  # roster link, set by the roster feature
    locale: Mapped[str | None] = mapped_column(String(16))
    # When the Teams member record was last asked for the UPN (so a failed lookup is not repeated each message).
    email_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "aad_object_id", name="uq_teams_accounts_tenant_id"),)


class TrustedServiceUrl(Base):
    """A Bot Connector service URL seen on a request that passed authentication.

    Proactive sends and member lookups go only to these (bot/service_urls.py): an activity can name
    any serviceUrl, and the bot must not send its token or anyone's data where a stranger pointed it.
    """

    __tablename__ = "trusted_service_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(512), unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
