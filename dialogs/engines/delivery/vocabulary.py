"""One vocabulary for where a copy stands and why it did not arrive, used by every status a person
reads (``dxbot delivery status``, ``dxbot announce status``, exports) and by ``--json`` output.

Japanese words for people, stable English codes for machines:

    status_code("unreachable")      -> "not_reachable"
    status_word("not_reachable")    -> "未接続"
    reason_word("blocked")          -> "ボットをブロックしている"

``not_reachable`` (未接続): no chat with the person (never added the bot, blocked it, removed the app).
``send_failed`` (送信失敗): Teams refused or did not answer after every retry. Both together are
``not_delivered`` (届いていない).
"""

from __future__ import annotations

from dialogs.kit.i18n import catalogs, t

STATUS_CODES = ("delivered", "pending", "not_reachable", "send_failed", "cancelled")
_BY_STATE = {
    "queued": "pending",
    "sending": "pending",
    "delivered": "delivered",
    "unreachable": "not_reachable",
    "failed": "send_failed",
    "cancelled": "cancelled",
    "skipped": "cancelled",
}

# Exit codes of the commands that report a send (documented in dialogs/engines/delivery/README.md).
EXIT_OK = 0  # everything delivered, or still on its way with nothing lost so far
EXIT_ERROR = 1  # not found, or the command could not run
EXIT_INPUT = 2  # the input was wrong (as argparse does)
EXIT_NOT_DELIVERED = 3  # some recipients were not reachable or the send failed
EXIT_PENDING = 4  # --wait ended with copies still on their way


def status_code(state: str) -> str:
    """The stable code for a delivery row's state."""
    return _BY_STATE.get(state, state)


def status_word(code: str, locale: str = "ja") -> str:
    return t(f"delivery.status.{code}", locale)


def reason_word(reason: str | None, locale: str = "ja") -> str:
    """What a row's ``error`` (``blocked``, ``http_500``, …) means, in the reader's words."""
    code = reason or "unknown"
    key = f"delivery.reason.{code}"
    if key in catalogs()["ja"]:
        return t(key, locale)
    return t("delivery.reason.other", locale, code=code)
