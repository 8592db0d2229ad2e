"""Read receipts (既読): how far each personal chat has been read, as Teams last told the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ChatReadMark(Base):
    """The last message a person read in their chat with the bot. A chat with a mark has read receipts
    on (at least once); a chat without one is "unknown", never "unread"."""

    __tablename__ = "chat_read_marks"

    conversation_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    last_read_message_id: Mapped[str] = mapped_column(String(256))
    last_read_seq: Mapped[int] = mapped_column(BigInteger)  # the id as a number: Teams ids grow with time
    first_receipt_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
