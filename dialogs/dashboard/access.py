"""Who may look at the dashboard: a DX division admin, proven by a Teams SSO token or, in local mode,
by the local sign-in.

    outcome = await authenticate(req)     # Viewer, or Refusal(status, reason)

Teams: ``Authorization: Bearer <token>`` (dialogs/dashboard/tokens.py checks it); the person is the
one behind the Teams account of the token's tenant (``tid``) and object id (``oid``), as in the bot
(dialogs/kit/identity.py). For someone the bot has not met yet, the first link is made the same way, from
the token's ``upn``; ``preferred_username`` and ``email`` are never used. They must hold the admin
role (DXBOT_ADMINS by UPN, or the roster's DX division roles). A CSV link carries a signature instead
(``sig``), made for that admin when the page was rendered, so a plain download link works in the tab.
Local mode (no MicrosoftAppId): a signed cookie from the local sign-in form.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import HttpRequest, Role, Services
from dialogs.dashboard import tokens
from dialogs.kit.identity import identity_of_account, role_sources_of
from dialogs.kit.signing import Malformed, Signer, b64decode, b64encode, digits
from dialogs.roster.network import today_jst
from dialogs.roster.roles import roles_of
from storage import references
from storage.models import TeamsAccount
from storage.models.roster import DivisionRole, DivisionRoleKind, Person

log = logging.getLogger(__name__)
COOKIE = "dxdash"
COOKIE_PATH = "/dashboard"
SESSION_SECONDS = 8 * 3600  # a working day
LINK_SECONDS = 3600  # a signed CSV link, about as long as a Teams token


@dataclass(frozen=True)
class Viewer:
    email: str
    name: str
    person_id: int | None
    via: str  # "teams" | "local"


@dataclass(frozen=True)
class Refusal:
    status: int  # 401 no/invalid credentials, 403 not an admin, 503 keys unavailable
    reason: str  # a code: no_token, expired, audience, tenant, not_admin, …


def _signer(secret: str, purpose: str) -> Signer:
    return Signer(hashlib.sha256(f"dashboard:{purpose}:{secret}".encode()).digest())


def _sign(secret: str, purpose: str, message: str) -> str:
    return _signer(secret, purpose).sign(message)


# --- identity ------------------------------------------------------------------------------------


async def admin_by_account(
    session: AsyncSession, services: Services, tenant_id: str, oid: str, upn: str | None
) -> tuple[Viewer | None, str]:
    """The admin behind the Teams account (tenant, object id), or None with the reason."""
    if not tenant_id or not oid:
        return None, "unknown_person"
    account = await references.find_account(session, tenant_id, oid)
    if account is None:
        # Not met by the bot yet: link as the bot would on first contact (by UPN), without storing.
        clean = upn.strip().lower() if upn and "@" in upn else None
        account = TeamsAccount(tenant_id=tenant_id, aad_object_id=oid, user_id="", name="", upn=clean)
    identity = await identity_of_account(session, account, services.settings, role_sources_of(services))
    person = await session.get(Person, identity.person_id) if identity.person_id is not None else None
    if not identity.has(Role.ADMIN):
        return None, "not_admin" if person is not None else "unknown_person"
    email = person.email if person is not None else identity.email or ""
    name = person.name if person is not None else email
    return Viewer(email, name, person.id if person is not None else None, "teams"), ""


async def find_admin(
    session: AsyncSession, services: Services, emails: list[str]
) -> tuple[Viewer | None, str]:
    """The admin behind an address this server signed (a CSV link, the local sign-in), or None with the
    reason. Never for a Teams token: see ``admin_by_account``."""
    candidates = [e.strip().lower() for e in emails if e and "@" in e]
    person: Person | None = None
    if candidates:
        person = await session.scalar(select(Person).where(Person.email.in_(candidates)).limit(1))
    if not candidates and person is None:
        return None, "unknown_person"
    admins = set(services.settings.admins)
    is_admin = any(e in admins for e in candidates)
    if not is_admin and person is not None:
        roles = await roles_of(session, person.id, today_jst(services.clock()))
        is_admin = Role.ADMIN in roles
    if not is_admin:
        return None, "not_admin" if person is not None or candidates else "unknown_person"
    email = person.email if person is not None else candidates[0]
    name = person.name if person is not None else email
    return Viewer(email, name, person.id if person else None, "teams"), ""


async def local_admins(session: AsyncSession, services: Services) -> list[tuple[str, str]]:
    """(email, name) of everyone who may sign in locally: roster admins and DXBOT_ADMINS."""
    rows = (
        await session.execute(
            select(Person.email, Person.name)
            .join(DivisionRole, DivisionRole.person_id == Person.id)
            .where(DivisionRole.role == DivisionRoleKind.ADMIN, DivisionRole.revoked_at.is_(None))
            .order_by(Person.name)
        )
    ).all()
    out = {email: name for email, name in rows}
    for email in services.settings.admins:
        if email not in out:
            name = await session.scalar(select(Person.name).where(Person.email == email))
            out[email] = name or email
    return sorted(out.items(), key=lambda item: item[1])


# --- Teams: bearer tokens ------------------------------------------------------------------------


def bearer(req: HttpRequest) -> str | None:
    value = req.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def from_token(req: HttpRequest, token: str) -> Viewer | Refusal:
    services = req.services
    try:
        claims = await tokens.validate(
            token, tokens.signing_keys(services), tokens.Expected.from_settings(services.settings)
        )
    except tokens.TokenRejected as exc:
        log.info("dashboard token refused: %s", exc.reason)
        # No allowed tenant configured is the operator's to fix, not the user's: 503, not 401.
        return Refusal(503 if exc.reason == "not_configured" else 401, exc.reason)
    except tokens.KeysUnavailable:
        return Refusal(503, "keys_unavailable")
    upn = claims.get("upn")
    async with services.sessionmaker() as session:
        viewer, reason = await admin_by_account(
            session,
            services,
            str(claims.get("tid", "")).lower(),
            str(claims.get("oid", "")),
            upn if isinstance(upn, str) else None,
        )
    if viewer is None:
        log.info("dashboard: a valid token for someone who is not an admin (%s)", reason)
        return Refusal(403, reason)
    return viewer


# --- signed links (CSV downloads inside the Teams tab) ----------------------------------------------


def sign_link(services: Services, viewer: Viewer, path: str, params: dict[str, str]) -> str:
    """``path?params&u=…&exp=…&sig=…``: a download link only this admin's page shows, for an hour."""
    expires = int(time.time()) + LINK_SECONDS
    query = dict(sorted(params.items())) | {"u": viewer.email, "exp": str(expires)}
    message = f"{path}?{urlencode(query)}"
    return f"{message}&sig={_sign(services.settings.secret_key, 'link', message)}"


async def from_signed_link(req: HttpRequest) -> Viewer | Refusal:
    query = {k: v for k, v in req.query.items() if k != "sig"}
    sig = req.query.get("sig", "")
    ordered = dict(sorted((k, v) for k, v in query.items() if k not in ("u", "exp")))
    ordered |= {"u": query.get("u", ""), "exp": query.get("exp", "")}
    message = f"{req.path}?{urlencode(ordered)}"
    try:
        expires = digits(query.get("exp", ""))
        if not _signer(req.services.settings.secret_key, "link").verify(message, sig):
            return Refusal(401, "bad_link")
    except Malformed:
        return Refusal(400, "malformed_link")  # cut short or mangled on the way: not a link we made
    if expires < time.time():
        return Refusal(401, "link_expired")
    async with req.services.sessionmaker() as session:
        viewer, reason = await find_admin(session, req.services, [query.get("u", "")])
    if viewer is None:  # no longer an admin since the page was shown
        return Refusal(403, reason)
    return Viewer(viewer.email, viewer.name, viewer.person_id, "link")


# --- local mode: the signed cookie ------------------------------------------------------------------


def session_cookie(services: Services, email: str) -> str:
    expires = int(time.time()) + SESSION_SECONDS
    value = f"{b64encode(email.encode('utf-8'))}.{expires}"
    value = f"{value}.{_sign(services.settings.secret_key, 'session', value)}"
    return f"{COOKIE}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}"


def clear_cookie() -> str:
    return f"{COOKIE}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0"


def _cookie_email(req: HttpRequest) -> str | None:
    raw = req.headers.get("Cookie", "")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is just no session
        return None
    morsel = jar.get(COOKIE)
    if morsel is None:
        return None
    parts = morsel.value.split(".")
    if len(parts) != 3:
        return None
    email_part, expires, sig = parts
    # A malformed cookie is no session at all: the sign-in page, not an error.
    try:
        if not _signer(req.services.settings.secret_key, "session").verify(f"{email_part}.{expires}", sig):
            return None
        if digits(expires) < time.time():
            return None
        return b64decode(email_part).decode("utf-8")
    except (Malformed, UnicodeDecodeError):
        return None


async def from_cookie(req: HttpRequest) -> Viewer | Refusal:
    email = _cookie_email(req)
    if email is None:
        return Refusal(401, "no_session")
    async with req.services.sessionmaker() as session:
        viewer, reason = await find_admin(session, req.services, [email])
    if viewer is None:
        return Refusal(403, reason)
    return Viewer(viewer.email, viewer.name, viewer.person_id, "local")


def password_ok(services: Services, given: str) -> bool:
    wanted = services.settings.dashboard_local_password
    return not wanted or hmac.compare_digest(wanted.encode("utf-8"), given.encode("utf-8"))


# --- one entry point --------------------------------------------------------------------------------


async def authenticate(req: HttpRequest, *, allow_link: bool = False) -> Viewer | Refusal:
    """Local mode: the sign-in cookie. Teams: a bearer token (or, for downloads, a signed link)."""
    if req.services.settings.local_mode:
        if allow_link and "sig" in req.query:
            return await from_signed_link(req)
        return await from_cookie(req)
    token = bearer(req)
    if token:
        return await from_token(req, token)
    if allow_link and "sig" in req.query:
        return await from_signed_link(req)
    return Refusal(401, "no_token")
