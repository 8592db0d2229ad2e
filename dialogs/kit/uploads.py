"""Receiving a file a user sent in Teams, the same way in every feature.

    data = await receive_file(turn, attachment, max_bytes=MAX_FILE_BYTES, too_large="roster.import.too_large")
    if data is None:
        return          # the user was told why (too large, cut off, link not allowed, failed) and what to do

Either the whole file or nothing: a download cut short is refused, never parsed as a shorter file.
"""

from __future__ import annotations

import logging

from bot.api import (
    DownloadError,
    DownloadNotAllowed,
    FileAttachment,
    FileIncomplete,
    FileTooLarge,
    Turn,
)

log = logging.getLogger(__name__)


def size_text(n: int) -> str:
    """10485760 -> "10 MB" (whole MB as people say it; smaller in KB)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB"
    return f"{max(1, n // 1024)} KB"


async def receive_file(
    turn: Turn, attachment: FileAttachment, *, max_bytes: int, too_large: str
) -> bytes | None:
    """The file's bytes, or None after replying why not. ``too_large`` is the feature's catalog key for a
    file over ``max_bytes`` (it says what to leave out); it gets ``name`` and ``limit``."""
    try:
        return await turn.download(attachment, max_bytes=max_bytes)
    except FileTooLarge:
        await turn.reply(turn.t(too_large, name=attachment.name, limit=size_text(max_bytes)))
    except FileIncomplete as exc:
        log.warning(
            "file download cut short: %d of %s bytes",
            exc.received,
            exc.expected,
            extra={"correlation_id": turn.correlation_id},
        )
        await turn.reply(turn.t("core.file.incomplete", name=attachment.name))
    except DownloadNotAllowed as exc:
        log.warning("file download refused: %s", exc.reason, extra={"correlation_id": turn.correlation_id})
        await turn.reply(turn.t("core.file.not_allowed", name=attachment.name))
    except DownloadError as exc:
        log.warning("file download failed: %s", exc, extra={"correlation_id": turn.correlation_id})
        await turn.reply(turn.t("core.file.download_failed", name=attachment.name))
    return None
