"""The DX division's admins keep the knowledge base from Teams: add, edit, delete, synonyms.

「FAQ追加」 → form; 「FAQ編集 ID」 → the form filled in; 「FAQ削除 ID」 → a confirmation;
「FAQ一覧」 → counts and drafts; 「同義語」 → the list with add and remove. Every change bumps the
knowledge base version, so the search index is rebuilt without a restart.
"""

from __future__ import annotations

import re
from typing import Any

from bot.api import Role, Turn
from dialogs.kit.cards import adaptive_card, text
from dialogs.kit.router import Router
from dialogs.qa import store
from dialogs.qa.cards import (
    delete_confirm_card,
    entry_form,
    entry_saved_card,
    kb_overview_card,
    synonyms_card,
)
from dialogs.qa.kbfile import MAX_LENGTH
from dialogs.qa.phrasings import count_candidates
from dialogs.qa.search import parse_synonyms
from storage.models import EntryStatus, KbEntry, Ticket

router = Router("qa")

_URL = re.compile(r"^https?://\S+$")
_LIST_SPLIT = re.compile(r"[,、，\n|]")


def _key_arg(args: str) -> str:
    return args.split()[0] if args.split() else ""


async def _entry_or_explain(turn: Turn, key: str, usage_key: str) -> KbEntry | None:
    if not key:
        await turn.reply(turn.t(usage_key))
        return None
    entry = await store.get_entry(turn.session, key)
    if entry is None:
        await turn.reply(turn.t("qa.entry.not_found", id=key))
    return entry


@router.command("FAQ追加", "faq add", role=Role.ADMIN, help_key="qa.cmd.add", usage="FAQ追加")
async def on_add(turn: Turn, args: str) -> None:
    await turn.reply_card(entry_form(turn.t), text=turn.t("qa.form.add_title"))


@router.action("qa.entry.add", role=Role.ADMIN)
async def on_add_button(turn: Turn, data: dict[str, Any]) -> None:
    await on_add(turn, "")


@router.command("FAQ編集", "faq edit", role=Role.ADMIN, help_key="qa.cmd.edit", usage="FAQ編集 ID")
async def on_edit(turn: Turn, args: str) -> None:
    entry = await _entry_or_explain(turn, _key_arg(args), "qa.entry.usage_edit")
    if entry is not None:
        await turn.reply_card(entry_form(turn.t, entry), text=turn.t("qa.form.edit_title", id=entry.key))


@router.action("qa.entry.edit", role=Role.ADMIN)
async def on_edit_button(turn: Turn, data: dict[str, Any]) -> None:
    await on_edit(turn, str(data.get("key") or ""))


def _form_values(data: dict[str, Any]) -> dict[str, str]:
    return {
        k: str(data.get(k) or "")
        for k in ("new_key", "question", "alternates", "answer", "tags", "url", "status")
    }


def _validate(
    turn: Turn, values: dict[str, str], *, adding: bool
) -> tuple[store.EntryInput | None, str | None]:
    """The entry the form describes, or the first problem in polite Japanese."""
    question = values["question"].strip()
    answer = values["answer"].strip()
    url = values["url"].strip()
    key = values["new_key"].strip()
    if adding and key and not store.KEY_PATTERN.match(key):
        return None, turn.t("qa.form.bad_key", id=key)
    if not question:
        return None, turn.t("qa.form.need_question")
    if not answer:
        return None, turn.t("qa.form.need_answer")
    if len(question) > MAX_LENGTH["question"]:
        return None, turn.t(
            "qa.form.too_long", label=turn.t("qa.form.question"), limit=MAX_LENGTH["question"]
        )
    if len(answer) > MAX_LENGTH["answer"]:
        return None, turn.t("qa.form.too_long", label=turn.t("qa.form.answer"), limit=MAX_LENGTH["answer"])
    if url and not _URL.match(url):
        return None, turn.t("qa.form.bad_url")
    alternates = [a.strip() for a in values["alternates"].splitlines() if a.strip()]
    tags = [tag.strip() for tag in _LIST_SPLIT.split(values["tags"]) if tag.strip()]
    status = EntryStatus.DRAFT if values["status"] == EntryStatus.DRAFT.value else EntryStatus.PUBLISHED
    return (
        store.EntryInput(
            key=key,
            question=question,
            answer=answer,
            alternates=alternates,
            tags=tags,
            url=url or None,
            status=status,
        ),
        None,
    )


@router.action("qa.entry.save", role=Role.ADMIN)
async def on_save(turn: Turn, data: dict[str, Any]) -> None:
    adding = data.get("mode") != "edit"
    values = _form_values(data)
    existing: KbEntry | None = None
    if not adding:
        existing = await store.get_entry(turn.session, str(data.get("key") or ""))
        if existing is None:
            await turn.reply(turn.t("qa.entry.not_found", id=data.get("key") or ""))
            return
    entry_input, error = _validate(turn, values, adding=adding)
    if entry_input is not None and adding:
        if not entry_input.key:
            entry_input.key = await store.next_free_key(
                turn.session, "faq-" + turn.services.clock().strftime("%Y%m%d")
            )
        elif await store.get_entry(turn.session, entry_input.key) is not None:
            entry_input, error = None, turn.t("qa.form.key_taken", id=values["new_key"].strip())
    ticket_id = data.get("ticket") if isinstance(data.get("ticket"), int) else None
    if entry_input is None:
        card = entry_form(turn.t, existing, values=values, error=error, ticket_id=ticket_id)
        await _show(turn, card)
        return
    if existing is not None:
        entry_input.key = existing.key
    entry, created = await store.upsert_entry(
        turn.session,
        entry_input,
        actor=turn.user.name,
        now=turn.services.clock(),
        source_ticket_id=ticket_id,
    )
    if created and entry.owner is None:
        entry.owner = turn.user.name
    if ticket_id is not None:
        ticket = await turn.session.get(Ticket, ticket_id)
        if ticket is not None and ticket.entry_key != entry.key:
            ticket.entry_key = entry.key
    await _show(turn, entry_saved_card(turn.t, entry, created))


async def _show(turn: Turn, card: dict[str, Any]) -> None:
    """Replace the form the button came from, or send the card when there is none."""
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, card)
    else:
        await turn.reply_card(card)


@router.command("FAQ削除", "faq delete", role=Role.ADMIN, help_key="qa.cmd.delete", usage="FAQ削除 ID")
async def on_delete(turn: Turn, args: str) -> None:
    entry = await _entry_or_explain(turn, _key_arg(args), "qa.entry.usage_delete")
    if entry is not None:
        await turn.reply_card(delete_confirm_card(turn.t, entry), text=turn.t("qa.delete.title"))


@router.action("qa.entry.delete", role=Role.ADMIN)
async def on_delete_confirmed(turn: Turn, data: dict[str, Any]) -> None:
    key = str(data.get("key") or "")
    entry = await store.delete_entry(turn.session, key)
    message = turn.t("qa.delete.done", id=key) if entry else turn.t("qa.entry.not_found", id=key)
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, adaptive_card([text(message)]))
    else:
        await turn.reply(message)


@router.action("qa.entry.delete_cancel", role=Role.ADMIN)
async def on_delete_cancelled(turn: Turn, data: dict[str, Any]) -> None:
    message = turn.t("qa.delete.cancelled", id=str(data.get("key") or ""))
    if turn.reply_to_id:
        await turn.update_card(turn.reply_to_id, adaptive_card([text(message)]))
    else:
        await turn.reply(message)


@router.command("FAQ一覧", "faq list", role=Role.ADMIN, help_key="qa.cmd.list", usage="FAQ一覧")
async def on_list(turn: Turn, args: str) -> None:
    counts = await store.count_entries(turn.session)
    drafts = await store.drafts(turn.session)
    waiting = await count_candidates(turn.session)
    await turn.reply_card(kb_overview_card(turn.t, counts, drafts, waiting), text=turn.t("qa.list.title"))


# --- synonyms -------------------------------------------------------------------------------------
async def _synonyms(turn: Turn, message: str | None = None, *, replace: bool = False) -> None:
    await store.ensure_synonyms_seeded(turn.session, turn.services.clock())
    groups = await store.synonym_groups(turn.session)
    card = synonyms_card(turn.t, groups, message)
    if replace:
        await _show(turn, card)
    else:
        await turn.reply_card(card, text=turn.t("qa.syn.title"))


@router.command("同義語", "synonyms", role=Role.ADMIN, help_key="qa.cmd.synonyms", usage="同義語")
async def on_synonyms(turn: Turn, args: str) -> None:
    if args.strip():
        await _add_synonyms(turn, args, replace=False)
        return
    await _synonyms(turn)


async def _add_synonyms(turn: Turn, raw: str, *, replace: bool) -> None:
    groups = parse_synonyms(raw.replace("\n", ","))
    if not groups:
        await turn.reply(turn.t("qa.syn.need_two"))
        return
    terms = groups[0]
    await store.add_synonym_group(turn.session, terms, turn.services.clock())
    await _synonyms(turn, turn.t("qa.syn.added", terms=" = ".join(terms)), replace=replace)


@router.action("qa.syn.add", role=Role.ADMIN)
async def on_synonym_add(turn: Turn, data: dict[str, Any]) -> None:
    await _add_synonyms(turn, str(data.get("terms") or ""), replace=True)


@router.action("qa.syn.remove", role=Role.ADMIN)
async def on_synonym_remove(turn: Turn, data: dict[str, Any]) -> None:
    raw = str(data.get("group") or "").strip().lstrip("#")
    if not raw.isdigit():
        await turn.reply(turn.t("qa.syn.need_number"))
        return
    group = await store.delete_synonym_group(turn.session, int(raw), turn.services.clock())
    if group is None:
        await turn.reply(turn.t("qa.syn.no_such", id=raw))
        return
    await _synonyms(turn, turn.t("qa.syn.removed", terms=" = ".join(group.terms)), replace=True)
