"""The roster in Teams: commands, the file import with its dry-run card, coverage, DX division roles.

Each route names the role it needs; dialogs/kit/dispatch.py refuses everyone else politely.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date

from bot.api import Role, Turn
from dialogs.kit.router import Router, by_extension
from dialogs.kit.uploads import receive_file
from dialogs.roster import cards
from dialogs.roster.admins import Outcome, audit, division_members, grant, recent_audit, revoke
from dialogs.roster.coverage import coverage
from dialogs.roster.directory import find_sections, person_roles, roster_summary
from dialogs.roster.graph import GraphConfig, install_for
from dialogs.roster.importer import Actor, ImportPlan, MassEnd, apply_plan, mass_end, plan_import
from dialogs.roster.network import current_promoters_where, today_jst
from dialogs.roster.pending import Sender, close, confirmation_code, confirmed, open_pending, save_pending
from dialogs.roster.reader import read_roster
from storage.models.roster import DivisionRoleKind, PendingImport, Section

router = Router("roster")

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 10 * 1024 * 1024
_FULL_DATE = re.compile(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日|(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")


def _today(turn: Turn) -> date:
    return today_jst(turn.services.clock())


def _actor(turn: Turn) -> Actor:
    return Actor(
        label=turn.identity.email or turn.user.name or turn.user.id, person_id=turn.identity.person_id
    )


def _guard(turn: Turn, plan: ImportPlan) -> MassEnd | None:
    settings = turn.services.settings
    return mass_end(plan, settings.roster_max_end_share, settings.roster_max_end_count)


def parse_effective(message: str, today: date) -> date | None:
    """The effective date written with the file: 2027-04-01, 2027/4/1, 2027年4月1日, 4月1日 or 4/1.

    Returns None when the message names no date; raises ValueError for a date that cannot be read.
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", message or "")
    if not re.search(r"\d", text):
        return None
    if m := _FULL_DATE.search(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _MONTH_DAY.search(text):
        month, day = (int(m[1]), int(m[2])) if m[1] else (int(m[3]), int(m[4]))
        options = []
        for year in (today.year - 1, today.year, today.year + 1):
            try:
                options.append(date(year, month, day))
            except ValueError:
                continue
        if not options:
            raise ValueError(text)
        return min(options, key=lambda d: abs((d - today).days))
    raise ValueError(text)


# --- import by file -------------------------------------------------------------------------------
@router.on_file(
    role=Role.ADMIN,
    accepts=by_extension("csv", "xlsx", "xlsm", "xls", "txt"),
    scopes=("personal",),  # a roster is personal data: not in front of a channel's members
    scope_hint="roster.import.personal_only",
)
async def on_roster_file(turn: Turn) -> None:
    attachment = turn.attachments[0]
    try:
        effective = parse_effective(turn.text, _today(turn)) or _today(turn)
    except ValueError:
        await turn.reply(turn.t("roster.import.bad_date", text=turn.text))
        return
    if len(turn.attachments) > 1:
        await turn.reply(turn.t("roster.import.one_file", n=len(turn.attachments), file=attachment.name))
    data = await receive_file(turn, attachment, max_bytes=MAX_FILE_BYTES, too_large="roster.import.too_large")
    if data is None:  # too large, cut short or refused: the admin was told; nothing is read
        return
    # Parsing a big sheet takes seconds of CPU: in a worker thread, so the bot keeps answering others.
    parsed = await asyncio.to_thread(read_roster, data, attachment.name)
    plan = await plan_import(turn.session, parsed, effective)
    if not plan.ok:
        await turn.reply_card(
            cards.errors_card(turn.t, attachment.name, plan.problems), text=turn.t("roster.errors.title")
        )
        return
    if not plan.has_changes:
        await turn.reply_card(
            cards.dry_run_card(turn.t, plan, attachment.name, None), text=turn.t("roster.dry.title")
        )
        return
    sender = Sender(turn.user.aad_object_id or turn.user.id, turn.identity.person_id, _actor(turn).label)
    digest = plan.digest()
    token = await save_pending(
        turn.session, sender, attachment.name, data, effective, digest, turn.services.clock()
    )
    guard = _guard(turn, plan)
    card = cards.dry_run_card(
        turn.t, plan, attachment.name, token, guard=guard, confirm_code=confirmation_code(token, digest)
    )
    await turn.reply_card(card, text=turn.t("roster.dry.title"))


async def _pending_for(turn: Turn, data: dict) -> PendingImport | None:
    """The pending import this button names, if this admin may decide it now; else say why not."""
    pending = await open_pending(turn.session, str(data.get("token") or ""))
    if pending is None:
        await turn.reply(turn.t("roster.pending.unknown"))
        return None
    if pending.requested_by_aad != (turn.user.aad_object_id or turn.user.id):
        await turn.reply(turn.t("roster.pending.not_yours", label=pending.requested_by_label))
        return None
    if pending.status != "pending":
        await turn.reply(turn.t(f"roster.pending.decided.{pending.status}"))
        return None
    if pending.expires_at <= turn.services.clock():
        close(pending, "expired", turn.services.clock())
        await turn.reply(turn.t("roster.pending.expired"))
        return None
    return pending


async def _show(turn: Turn, card: dict, preview: str) -> None:
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card, text=preview)


@router.action("roster.apply", role=Role.ADMIN)
async def on_apply(turn: Turn, data: dict) -> None:
    pending = await _pending_for(turn, data)
    if pending is None:
        return
    now = turn.services.clock()
    # Re-read and re-check against the roster as it is now: another import may have happened since.
    parsed = await asyncio.to_thread(read_roster, pending.content, pending.file_name)
    plan = await plan_import(turn.session, parsed, pending.effective)
    if not plan.ok:
        close(pending, "failed", now)
        await _show(
            turn, cards.errors_card(turn.t, pending.file_name, plan.problems), turn.t("roster.errors.title")
        )
        return
    if plan.digest() != pending.plan_digest:
        pending.plan_digest = plan.digest()
        if not plan.has_changes:  # someone already brought the roster to what this file says
            close(pending, "superseded", now)
        card = cards.dry_run_card(
            turn.t,
            plan,
            pending.file_name,
            pending.token,
            note=turn.t("roster.pending.changed"),
            guard=_guard(turn, plan),
            confirm_code=confirmation_code(pending.token, pending.plan_digest),
        )
        await _show(turn, card, turn.t("roster.dry.title"))
        return
    # Ending many roles needs the card's confirmation, given for this import and this plan; a press
    # without it (an old client, a forged or replayed submit) changes nothing.
    guard = _guard(turn, plan)
    if guard and not confirmed(data, pending.token, pending.plan_digest):
        log.info(
            "roster import refused: mass end not confirmed", extra={"correlation_id": turn.correlation_id}
        )
        await turn.reply(turn.t("roster.guard.refused", people=guard.people))
        # The card again, with the tick: the card pressed may predate the guard (its settings changed).
        code = confirmation_code(pending.token, pending.plan_digest)
        card = cards.dry_run_card(
            turn.t, plan, pending.file_name, pending.token, guard=guard, confirm_code=code
        )
        await _show(turn, card, turn.t("roster.dry.title"))
        return
    actor = _actor(turn)
    await apply_plan(turn.session, plan, actor, pending.file_name, now, mass_end_confirmed=bool(guard))
    close(pending, "applied", now)
    log.info("roster import applied", extra={"correlation_id": turn.correlation_id, **plan.summary()})
    await _show(
        turn,
        cards.applied_card(turn.t, plan, pending.file_name, actor.label, now),
        turn.t("roster.applied.title"),
    )


@router.action("roster.cancel", role=Role.ADMIN)
async def on_cancel(turn: Turn, data: dict) -> None:
    pending = await _pending_for(turn, data)
    if pending is None:
        return
    close(pending, "cancelled", turn.services.clock())
    await _show(turn, cards.cancelled_card(turn.t, pending.file_name), turn.t("roster.cancelled.title"))


@router.command(
    "名簿取り込み",
    "名簿インポート",
    "名簿の更新",
    "import roster",
    role=Role.ADMIN,
    help_key="roster.cmd.import",
)
async def import_howto(turn: Turn, args: str) -> None:
    await turn.reply(turn.t("roster.import.howto"))


# --- what anyone may ask --------------------------------------------------------------------------
@router.command("名簿", "roster", help_key="roster.cmd.summary")
async def show_summary(turn: Turn, args: str) -> None:
    summary = await roster_summary(turn.session, _today(turn))
    await turn.reply_card(cards.summary_card(turn.t, summary), text=turn.t("roster.summary.title"))


@router.command("担当", "who", usage="担当 税務課", help_key="roster.cmd.who")
async def show_section(turn: Turn, args: str) -> None:
    if not args.strip():
        await turn.reply(turn.t("roster.who.usage"))
        return
    found = await find_sections(turn.session, args)
    if not found.matches:
        if found.suggestions:
            names = "、".join(f"{r.section}({r.department})" for r in found.suggestions)
            await turn.reply(turn.t("roster.who.suggest", query=args, names=names))
        else:
            await turn.reply(turn.t("roster.who.not_found", query=args))
        return
    ids = [r.id for r in found.matches]
    holders: dict[int, list] = {}
    for p in await current_promoters_where(turn.session, _today(turn), Section.id.in_(ids)):
        holders.setdefault(p.section_id, []).append(p)
    await turn.reply_card(cards.section_card(turn.t, found.matches, holders), text=found.matches[0].label)


@router.command("私の役割", "自分の役割", "my role", "whoami", help_key="roster.cmd.me")
async def show_me(turn: Turn, args: str) -> None:
    email = turn.identity.email
    person_id = turn.identity.person_id  # linked by the account's object id, never looked up by email
    info = await person_roles(turn.session, person_id, _today(turn)) if person_id else None
    configured = bool(email and email.lower() in turn.services.settings.admins)
    await turn.reply_card(cards.me_card(turn.t, info, email, configured), text=turn.t("roster.me.title"))


# --- reach ------------------------------------------------------------------------------------------
@router.command("カバー状況", "coverage", role=Role.AUTHOR, help_key="roster.cmd.coverage")
async def show_coverage(turn: Turn, args: str) -> None:
    report = await coverage(turn.session, _today(turn))
    missing = len({h.email for h in report.unreachable()})
    is_admin = turn.identity.has(Role.ADMIN)
    graph = GraphConfig.from_settings(turn.services.settings)
    offer = missing if (is_admin and graph.configured and missing) else None
    hint = bool(is_admin and not graph.configured and missing)
    if hint:  # the operator's part, in their terms; the card says it in the DX division's
        log.info(
            "coverage: %d promoters lack the app; set DXBOT_GRAPH_* to offer installing it in bulk", missing
        )
    card = cards.coverage_card(turn.t, report, offer, graph_hint=hint)
    await turn.reply_card(card, text=turn.t("roster.cov.title", day=cards.day_text(turn.t, report.day)))


@router.action("roster.install", role=Role.ADMIN)
async def on_install(turn: Turn, data: dict) -> None:
    graph = GraphConfig.from_settings(turn.services.settings)
    if not graph.configured:
        log.warning(
            "install requested but DXBOT_GRAPH_* is not set", extra={"correlation_id": turn.correlation_id}
        )
        await turn.reply(turn.t("roster.install.not_configured"))
        return
    report = await coverage(turn.session, _today(turn))
    users = sorted({h.email for h in report.unreachable()})
    if not users:
        await turn.reply(turn.t("roster.install.nobody"))
        return
    result = await install_for(graph, users)
    if result.error:
        await turn.reply(turn.t("roster.install.token_failed"))
        return
    counts = {k: result.count(k) for k in ("installed", "already", "not_found", "forbidden", "failed")}
    audit(
        turn.session,
        _actor(turn),
        "roster.app_install",
        turn.services.clock(),
        requested=len(users),
        **counts,
    )
    await turn.reply(turn.t("roster.install.done", n=len(users), **counts))


# --- DX division roles and audit log -----------------------------------------------------------------
async def _change_role(turn: Turn, args: str, kind: DivisionRoleKind, add: bool, command: str) -> None:
    parts = args.split(maxsplit=1)
    if not parts:
        await turn.reply(turn.t("roster.admin.usage", command=command))
        return
    address, name = parts[0], (parts[1] if len(parts) > 1 else "")
    now = turn.services.clock()
    if add:
        outcome = await grant(turn.session, address, kind, _actor(turn), now, name=name)
    else:
        outcome = await revoke(turn.session, address, kind, _actor(turn), now, turn.services.settings.admins)
    shown = address.strip().lower()
    if outcome is Outcome.LAST_ADMIN:
        await turn.reply(turn.t("roster.admin.last_admin"))
        return
    await turn.reply(
        turn.t(f"roster.admin.{outcome.value}", email=shown, role=cards.division_text(turn.t, kind))
    )


@router.command(
    "管理者追加",
    "add admin",
    role=Role.ADMIN,
    usage="管理者追加 メールアドレス",
    help_key="roster.cmd.admin_add",
)
async def add_admin(turn: Turn, args: str) -> None:
    await _change_role(turn, args, DivisionRoleKind.ADMIN, True, "管理者追加")


@router.command(
    "管理者削除",
    "remove admin",
    role=Role.ADMIN,
    usage="管理者削除 メールアドレス",
    help_key="roster.cmd.admin_remove",
)
async def remove_admin(turn: Turn, args: str) -> None:
    await _change_role(turn, args, DivisionRoleKind.ADMIN, False, "管理者削除")


@router.command(
    "送信担当追加",
    "add author",
    role=Role.ADMIN,
    usage="送信担当追加 メールアドレス",
    help_key="roster.cmd.author_add",
)
async def add_author(turn: Turn, args: str) -> None:
    await _change_role(turn, args, DivisionRoleKind.AUTHOR, True, "送信担当追加")


@router.command(
    "送信担当削除",
    "remove author",
    role=Role.ADMIN,
    usage="送信担当削除 メールアドレス",
    help_key="roster.cmd.author_remove",
)
async def remove_author(turn: Turn, args: str) -> None:
    await _change_role(turn, args, DivisionRoleKind.AUTHOR, False, "送信担当削除")


@router.command("管理者一覧", "admins", role=Role.ADMIN, help_key="roster.cmd.admins")
async def list_admins(turn: Turn, args: str) -> None:
    members = await division_members(turn.session)
    card = cards.division_card(turn.t, members, list(turn.services.settings.admins))
    await turn.reply_card(card, text=turn.t("roster.admins.title"))


@router.command("監査ログ", "audit log", role=Role.ADMIN, help_key="roster.cmd.audit")
async def show_audit(turn: Turn, args: str) -> None:
    limit = int(args) if args.strip().isdigit() else 20
    entries = await recent_audit(turn.session, min(max(limit, 1), 100))
    await turn.reply_card(cards.audit_card(turn.t, entries), text=turn.t("roster.audit.title"))
