"""The automation API and the signed export links.

POST /api/v1/announcements                  Authorization: Bearer <one of DXBOT_API_KEYS>
GET  /api/v1/announcements/{id}             the figures
GET  /api/v1/announcements/{id}/export.xlsx ?exp=…&sig=… (the link on the author's card) or a bearer key
"""

from __future__ import annotations

import hmac
import html
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.api import HttpRequest, HttpResponse, HttpRoute
from dialogs.kit.i18n import t
from dialogs.kit.signing import Malformed, Signer, digits

log = logging.getLogger(__name__)
LINK_DAYS = 7
MAX_ID = 2**31 - 1  # an INTEGER column: a larger id names nothing (and must not reach the database)


def _signer(secret: str) -> Signer:
    return Signer(secret.encode("utf-8"), hex_chars=40)


def _sign(secret: str, ann_id: int, fmt: str, exp: int) -> str:
    return _signer(secret).sign(f"announce-export:{ann_id}:{fmt}:{exp}")


def _link_refused(status: int, key: str) -> HttpResponse:
    """A person opened the link from a card: a short page in words, not JSON."""
    text = html.escape(t(key))
    body = f"<!doctype html><html lang=ja><meta charset=utf-8><title>{text}</title><p>{text}</p></html>"
    return HttpResponse(status, body, "text/html")


def signed_export_path(secret: str, ann_id: int, fmt: str, now: datetime) -> str:
    exp = int(now.timestamp()) + LINK_DAYS * 86400
    return f"/api/v1/announcements/{ann_id}/export.{fmt}?exp={exp}&sig={_sign(secret, ann_id, fmt, exp)}"


def _problem(status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return HttpResponse.json({"error": code, "message": message, **extra}, status=status)


def _api_key(request: HttpRequest) -> int | None:
    """The position (1-based) of the bearer key in DXBOT_API_KEYS, or None."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    given = header[7:].strip().encode("utf-8", "replace")
    for i, key in enumerate(request.services.settings.api_keys, start=1):
        if key and hmac.compare_digest(given, key.encode()):
            return i
    return None


def _unauthorized() -> HttpResponse:
    resp = _problem(
        401, "unauthorized", "APIキーが正しくありません。Authorization: Bearer <APIキー> を付けてください。"
    )
    resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


async def create(request: HttpRequest) -> HttpResponse:
    from dialogs.announce.automation import create_and_send, find_by_key

    key = _api_key(request)
    if key is None:
        return _unauthorized()
    try:
        data = request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[… nested too deep
        return _problem(400, "malformed_json", "JSON として読み取れませんでした。")
    services = request.services
    now = services.clock()
    # Idempotency-Key: a retried request (the first answer was lost) gets the same announcement back.
    idem = next((v for k, v in request.headers.items() if k.lower() == "idempotency-key"), None)
    for attempt in range(2):
        try:
            async with services.sessionmaker() as session, session.begin():
                replayed = idem is not None and await find_by_key(session, idem) is not None
                ann, count, errors = await create_and_send(
                    services,
                    session,
                    data,
                    source="api",
                    author_label=f"api:{key}",
                    now=now,
                    idempotency_key=idem,
                )
                if ann is None:
                    return _problem(400, "invalid", "入力内容をご確認ください。", errors=errors)
                body = {
                    "replayed": replayed,
                    "id": ann.id,
                    "state": ann.state,
                    "recipients": count,
                    "send_at": ann.send_at.isoformat() if ann.send_at else None,
                    "deadline": ann.deadline.isoformat() if ann.deadline else None,
                    "status_url": f"/api/v1/announcements/{ann.id}",
                }
            break
        except IntegrityError:
            # Two requests with the same key at once: the other one created it; answer with that one.
            if idem is None or attempt:
                raise
    if replayed:
        return HttpResponse.json(body, status=200)
    log.info("announcement %d created through the API (key %d)", body["id"], key)
    return HttpResponse.json(body, status=201)


async def _announcement(request: HttpRequest, session: Any) -> Any:
    from storage.models.announce import Announcement

    try:
        ann_id = digits(request.match.get("id", ""), max_digits=10)
    except Malformed:
        return None
    return await session.get(Announcement, ann_id) if ann_id <= MAX_ID else None


async def status(request: HttpRequest) -> HttpResponse:
    """The same document as ``dxbot announce status --json`` (one vocabulary: counts and reasons
    by the delivery engine's stable codes)."""
    from dialogs.announce.automation import status_document

    if _api_key(request) is None:
        return _unauthorized()
    async with request.services.sessionmaker() as session:
        ann = await _announcement(request, session)
        if ann is None:
            return _problem(404, "not_found", "指定のお知らせが見つかりません。")
        return HttpResponse.json(await status_document(session, ann))


async def export(request: HttpRequest) -> HttpResponse:
    from dialogs.announce.export import export_bytes, file_name

    fmt = request.match.get("fmt", "")
    if fmt not in ("csv", "xlsx"):
        return _problem(404, "not_found", "形式は csv か xlsx です。")
    services = request.services
    if _api_key(request) is None:  # a link from the author's card: its signature is the credential
        try:
            ann_id = digits(request.match.get("id", ""), max_digits=10)
            exp = digits(request.query.get("exp", ""))
            good = _signer(services.settings.secret_key).verify(
                f"announce-export:{ann_id}:{fmt}:{exp}", request.query.get("sig", "")
            )
        except Malformed:
            return _link_refused(400, "announce.link.malformed")
        if not good or exp < int(services.clock().timestamp()):
            return _link_refused(403, "announce.link.invalid")
    async with services.sessionmaker() as session:
        ann = await _announcement(request, session)
        if ann is None:
            return _problem(404, "not_found", "指定のお知らせが見つかりません。")
        data = await export_bytes(session, ann, fmt)
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx" else "text/csv"
    )
    return HttpResponse(
        200,
        data,
        content_type,
        {"Content-Disposition": f'attachment; filename="{file_name(ann, fmt)}"', "Cache-Control": "no-store"},
    )


def routes() -> list[HttpRoute]:
    return [
        HttpRoute("POST", "/api/v1/announcements", create),
        HttpRoute("GET", "/api/v1/announcements/{id}", status),
        HttpRoute("GET", "/api/v1/announcements/{id}/export.{fmt}", export),
    ]
