"""The delivery engine: every proactive message the bot sends goes through here.

Features queue rows inside their own transaction; a worker (a ``bot.api.Job`` started by the app,
or ``dxbot delivery worker`` on its own) claims due rows, sends them under Teams' rate limits,
retries what can be retried and records the Teams activity id. See README.md beside this file.

    from dialogs.engines.delivery import DeliveryItem, Recipient, enqueue, counts
    n = await enqueue(session, "survey", round.id,
                      [DeliveryItem(Recipient(person_id=p.id), Message(card=card)) for p in people])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.api import Services
from dialogs.engines.delivery.queue import (
    INITIAL,
    ChangeStatus,
    DeliveryCounts,
    DeliveryItem,
    ProgressListener,
    Recipient,
    address_from_json,
    cancel_pending,
    change_status,
    counts,
    delete_delivered,
    delivered_to_conversation,
    deliveries,
    enqueue,
    find_by_activity,
    message_to_payload,
    payload_to_message,
    pending_operations,
    record_sent,
    retry_failed,
    retry_failed_changes,
    update_delivered,
    use_progress_listeners,
)
from dialogs.kit.feature import Feature
from storage.models.delivery import Delivery, DeliveryOp, DeliveryState

__all__ = [
    "INITIAL",
    "ChangeStatus",
    "Delivery",
    "DeliveryCounts",
    "DeliveryItem",
    "DeliveryOp",
    "DeliveryState",
    "ProgressListener",
    "Recipient",
    "address_from_json",
    "cancel_pending",
    "change_status",
    "counts",
    "delete_delivered",
    "deliveries",
    "delivered_to_conversation",
    "enqueue",
    "find_by_activity",
    "message_to_payload",
    "payload_to_message",
    "pending_operations",
    "record_sent",
    "retry_failed",
    "retry_failed_changes",
    "update_delivered",
    "use_progress_listeners",
]


def feature(listeners: Mapping[str, Sequence[ProgressListener]]) -> Feature:
    """The engine as the composition root includes it: no commands, one background job (the worker),
    its CLI, and the features' progress ``listeners`` (delivery kind -> listeners) for every worker."""
    from dialogs.engines.delivery.cli import register_cli
    from dialogs.engines.delivery.receipts import router  # read receipts (既読)
    from dialogs.engines.delivery.worker import delivery_job

    async def startup(services: Services) -> None:
        use_progress_listeners(services, listeners)

    return Feature(
        "delivery",
        router,
        startup=startup,
        jobs=[delivery_job()],
        cli=lambda sub: register_cli(sub, listeners),
    )
