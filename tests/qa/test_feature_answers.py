"""Questions in Teams, over the real HTTP path: answers, feedback, related questions, misses, and the
admin commands that keep the knowledge base, with the index following every change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dialogs.qa.seed import seed_demo
from dialogs.qa.service import KnowledgeBase
from storage.models import Feedback, KbEntry, QueryLog
from tests.cards import by_id, title
from tests.qa.feature_support import all_text, find_action, has_action, last_card
from tests.support import ADMIN, LEADER, STAFF, members_for, running_bot, settings_for

pytestmark = pytest.mark.asyncio


def _settings(url: str):
    return settings_for(url, admins=[ADMIN.email])


async def test_a_question_gets_the_best_entry_with_feedback_and_related_buttons(sqlite_url, connector):
    connector.members = members_for(ADMIN, LEADER)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("Teams会議を録画するにはどうすればいいですか", user=LEADER)
        _, card = last_card(connector, LEADER.conversation_id)
        shown = all_text(card)
        assert "録画" in by_id(card, "qa.answer.question")["text"]  # the entry's own question as the heading
        assert "役に立った" in shown and "役に立たなかった" in shown
        # Related questions are a vertical list of tappable rows whose text wraps (buttons side by side
        # in an ActionSet are cut off on a phone): never a qa.show button in an ActionSet.
        rows = [el for el in card["body"] if el.get("type") == "Container" and "selectAction" in el]
        assert 1 <= len(rows) <= 2
        async with bot.services.sessionmaker() as s:
            for row in rows:
                assert row["selectAction"]["data"]["action"] == "qa.show"
                entry = await s.scalar(
                    select(KbEntry).where(KbEntry.key == row["selectAction"]["data"]["entry"])
                )
                assert row["items"][0]["wrap"] is True and entry.question in row["items"][0]["text"]
        assert not [
            a
            for el in card["body"]
            if el.get("type") == "ActionSet"
            for a in el["actions"]
            if a.get("data", {}).get("action") == "qa.show"
        ]
        # Staff read no internal ids: not the entry's ID, not "ID:".
        entry_key = find_action(card, "qa.feedback")["entry"]
        assert entry_key not in shown and "ID" not in shown
        assert "見つかりませんでした" not in shown
        async with bot.services.sessionmaker() as s:
            logged = (await s.scalars(select(QueryLog))).all()
        assert [q.query for q in logged] == ["Teams会議を録画するにはどうすればいいですか"]
        assert logged[0].answered and logged[0].top_key == find_action(card, "qa.feedback")["entry"]
        # An admin sees the ID, which 「FAQ編集 ID」 needs.
        await bot.say("Teams会議を録画するにはどうすればいいですか", user=ADMIN)
        _, admin_card = last_card(connector, ADMIN.conversation_id)
        assert f"ID：{entry_key}" in all_text(admin_card)


async def test_feedback_is_stored_with_the_query_and_the_card_thanks_in_place(sqlite_url, connector):
    connector.members = members_for(LEADER)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("生成AIを仕事で使ってもいいですか", user=LEADER)
        card_id, card = last_card(connector, LEADER.conversation_id)
        helpful = find_action(card, "qa.feedback")
        assert helpful["helpful"] is True
        await bot.press(helpful, user=LEADER, reply_to_id=card_id)

        async with bot.services.sessionmaker() as s:
            rows = (await s.scalars(select(Feedback))).all()
        assert len(rows) == 1
        assert rows[0].helpful is True
        assert rows[0].entry_key == helpful["entry"]
        assert rows[0].query == "生成AIを仕事で使ってもいいですか"
        # The same card now thanks instead of asking, and keeps its related questions.
        updated = connector.activities[card_id]["attachments"][0]["content"]
        assert "ありがとうございました" in all_text(updated)
        assert not has_action(updated, "qa.feedback")
        assert has_action(updated, "qa.show") == has_action(card, "qa.show")


async def test_not_helpful_offers_to_ask_the_dx_division(sqlite_url, connector):
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("Teamsの背景をぼかしたい", user=STAFF)
        card_id, card = last_card(connector, STAFF.conversation_id)
        not_helpful = [
            a["data"]
            for el in card["body"]
            if el.get("type") == "ActionSet"
            for a in el["actions"]
            if a.get("data", {}).get("helpful") is False
        ][0]
        await bot.press(not_helpful, user=STAFF, reply_to_id=card_id)
        updated = connector.activities[card_id]["attachments"][0]["content"]
        assert has_action(updated, "qa.ask")
        # Not thanked as if it had helped: an apology and the next steps (ask again in other words,
        # or ask the DX division).
        said = all_text(updated)
        assert "ご回答ありがとうございました" not in said and "ありがとう" not in said
        assert "申し訳ありません" in said and "言葉を変えて" in said and "DX推進課に質問" in said
        async with bot.services.sessionmaker() as s:
            row = await s.scalar(select(Feedback))
        assert row.helpful is False and row.query == "Teamsの背景をぼかしたい"


async def test_a_related_question_button_shows_that_entry(sqlite_url, connector):
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("Teams会議を録画したい", user=STAFF)
        _, card = last_card(connector, STAFF.conversation_id)
        related = find_action(card, "qa.show")
        await bot.press(related, user=STAFF)
        _, shown = last_card(connector, STAFF.conversation_id)
        async with bot.services.sessionmaker() as s:
            entry = await s.scalar(select(KbEntry).where(KbEntry.key == related["entry"]))
        assert by_id(shown, "qa.answer.question")["text"] == entry.question
        assert find_action(shown, "qa.feedback")["entry"] == entry.key


async def test_an_unknown_question_says_not_found_and_offers_the_dx_division(sqlite_url, connector):
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("職員駐車場の抽選はいつ行われますか", user=STAFF)
        _, card = last_card(connector, STAFF.conversation_id)
        assert title(card) == "見つかりませんでした"
        ask = find_action(card, "qa.ask")
        assert ask["qid"] is not None
        question_box = [el for el in card["body"] if el.get("type") == "Input.Text"][0]
        assert question_box["value"] == "職員駐車場の抽選はいつ行われますか"
        async with bot.services.sessionmaker() as s:
            row = await s.scalar(select(QueryLog))
        assert row.answered is False


async def test_staff_are_refused_admin_commands_politely(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        for command in (
            "FAQ追加",
            "FAQ編集 teams-meeting-record",
            "FAQ削除 teams-meeting-record",
            "同義語",
            "FAQ一覧",
        ):
            await bot.say(command, user=STAFF)
        await bot.press({"action": "qa.entry.delete", "key": "teams-meeting-record"}, user=STAFF)
        await bot.press({"action": "qa.syn.add", "terms": "会議,打ち合わせ"}, user=STAFF)
        texts = connector.texts_to(STAFF.conversation_id)
        assert len(texts) == 7
        assert all("DX推進課の管理者" in t and "申し訳ありません" in t for t in texts)
        assert connector.cards_to(STAFF.conversation_id) == []
        async with bot.services.sessionmaker() as s:
            assert await s.scalar(select(KbEntry).where(KbEntry.key == "teams-meeting-record")) is not None
        # The admin gets the form for the same command.
        await bot.say("FAQ追加", user=ADMIN)
        _, form = last_card(connector, ADMIN.conversation_id)
        assert has_action(form, "qa.entry.save")


async def test_admin_adds_an_entry_and_it_answers_at_once_without_restart(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        question = "公用車を予約するにはどうしますか"
        await bot.say(question, user=STAFF)
        _, before = last_card(connector, STAFF.conversation_id)
        assert title(before) == "見つかりませんでした"

        await bot.say("FAQ追加", user=ADMIN)
        form_id, form = last_card(connector, ADMIN.conversation_id)
        save = find_action(form, "qa.entry.save")
        await bot.press(
            {
                **save,
                "new_key": "car-booking",
                "question": "公用車を予約するには?",
                "alternates": "公用車の予約方法\n庁用車を借りたい",
                "answer": "庁内ポータルの **施設予約** から公用車を選んで予約します。",
                "tags": "公用車, 予約",
                "url": "https://portal.example.jp/cars",
                "status": "published",
            },
            user=ADMIN,
            reply_to_id=form_id,
        )
        saved = connector.activities[form_id]["attachments"][0]["content"]
        assert "保存しました" in all_text(saved) and "公開しました" in all_text(saved)

        await bot.say(question, user=STAFF)
        _, after = last_card(connector, STAFF.conversation_id)
        assert by_id(after, "qa.answer.question")["text"] == "公用車を予約するには?"
        assert find_action(after, "qa.feedback")["entry"] == "car-booking"

        # Edit: the answer changes, the index follows.
        await bot.say("FAQ編集 car-booking", user=ADMIN)
        edit_id, edit = last_card(connector, ADMIN.conversation_id)
        assert "施設予約" in all_text(edit)
        await bot.press(
            {
                **find_action(edit, "qa.entry.save"),
                "question": "公用車を予約するには?",
                "alternates": "公用車の予約方法",
                "answer": "4月からは **総務課の予約フォーム** で予約します。",
                "tags": "",
                "url": "",
                "status": "published",
            },
            user=ADMIN,
            reply_to_id=edit_id,
        )
        await bot.say(question, user=STAFF)
        _, edited = last_card(connector, STAFF.conversation_id)
        assert "総務課の予約フォーム" in all_text(edited)

        # Delete with confirmation: the entry no longer answers.
        await bot.say("FAQ削除 car-booking", user=ADMIN)
        confirm_id, confirm = last_card(connector, ADMIN.conversation_id)
        assert "削除しますか" in all_text(confirm)
        await bot.press(find_action(confirm, "qa.entry.delete"), user=ADMIN, reply_to_id=confirm_id)
        await bot.say(question, user=STAFF)
        _, gone = last_card(connector, STAFF.conversation_id)
        assert title(gone) == "見つかりませんでした"


async def test_a_draft_is_not_used_until_published(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("FAQ追加", user=ADMIN)
        form_id, form = last_card(connector, ADMIN.conversation_id)
        values = {
            "new_key": "",
            "question": "公用スマートフォンの貸し出し手続きは?",
            "alternates": "",
            "answer": "情報政策課に申請書を出してください。",
            "tags": "",
            "url": "",
            "status": "draft",
        }
        await bot.press({**find_action(form, "qa.entry.save"), **values}, user=ADMIN, reply_to_id=form_id)
        await bot.say("公用スマートフォンの貸し出し手続き", user=STAFF)
        _, card = last_card(connector, STAFF.conversation_id)
        async with bot.services.sessionmaker() as s:
            draft = await s.scalar(select(KbEntry).where(KbEntry.question.like("公用スマートフォン%")))
        assert draft.key.startswith("faq-") and draft.status == "draft"
        assert "公用スマートフォンの貸し出し手続きは?" not in all_text(card)

        # Published from the form, it answers.
        await bot.say(f"FAQ編集 {draft.key}", user=ADMIN)
        edit_id, edit = last_card(connector, ADMIN.conversation_id)
        assert "下書き" in all_text(edit)
        await bot.press(
            {**find_action(edit, "qa.entry.save"), **values, "status": "published"},
            user=ADMIN,
            reply_to_id=edit_id,
        )
        await bot.say("公用スマートフォンの貸し出し手続き", user=STAFF)
        _, card = last_card(connector, STAFF.conversation_id)
        assert find_action(card, "qa.feedback")["entry"] == draft.key


async def test_form_errors_keep_what_the_admin_typed(sqlite_url, connector):
    connector.members = members_for(ADMIN)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("FAQ追加", user=ADMIN)
        form_id, form = last_card(connector, ADMIN.conversation_id)
        await bot.press(
            {
                **find_action(form, "qa.entry.save"),
                "new_key": "teams-meeting-record",
                "question": "重複",
                "answer": "本文",
                "alternates": "",
                "tags": "",
                "url": "",
                "status": "published",
            },
            user=ADMIN,
            reply_to_id=form_id,
        )
        again = connector.activities[form_id]["attachments"][0]["content"]
        assert "すでに使われています" in all_text(again)
        assert "本文" in all_text(again)
        await bot.press(
            {
                **find_action(form, "qa.entry.save"),
                "new_key": "ok-key",
                "question": "質問",
                "answer": "",
                "alternates": "",
                "tags": "",
                "url": "",
                "status": "published",
            },
            user=ADMIN,
            reply_to_id=form_id,
        )
        assert "回答を入力してください" in all_text(
            connector.activities[form_id]["attachments"][0]["content"]
        )
        async with bot.services.sessionmaker() as s:
            assert (
                await s.scalar(select(func.count()).select_from(KbEntry).where(KbEntry.key == "ok-key")) == 0
            )


async def test_synonyms_added_by_an_admin_change_search_without_restart(sqlite_url, connector):
    connector.members = members_for(ADMIN, STAFF)
    async with running_bot(_settings(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("FAQ追加", user=ADMIN)
        form_id, form = last_card(connector, ADMIN.conversation_id)
        await bot.press(
            {
                **find_action(form, "qa.entry.save"),
                "new_key": "kintai",
                "question": "勤怠システムの使い方",
                "answer": "出退勤の打刻は勤怠システムで行います。",
                "alternates": "",
                "tags": "",
                "url": "",
                "status": "published",
            },
            user=ADMIN,
            reply_to_id=form_id,
        )
        await bot.say("ピッとくんの使い方", user=STAFF)  # the city's nickname for it
        _, before = last_card(connector, STAFF.conversation_id)
        assert (
            not has_action(before, "qa.feedback") or find_action(before, "qa.feedback")["entry"] != "kintai"
        )

        await bot.say("同義語", user=ADMIN)
        syn_id, syn = last_card(connector, ADMIN.conversation_id)
        assert "テレワーク" in all_text(syn)  # seeded from the shipped list
        await bot.press(
            {"action": "qa.syn.add", "terms": "勤怠システム, ピッとくん"}, user=ADMIN, reply_to_id=syn_id
        )
        assert "ピッとくん" in all_text(connector.activities[syn_id]["attachments"][0]["content"])

        await bot.say("ピッとくんの使い方", user=STAFF)
        _, after = last_card(connector, STAFF.conversation_id)
        assert find_action(after, "qa.feedback")["entry"] == "kintai"


async def test_a_second_process_notices_a_change_through_the_version(db_url, connector):
    """Two bots on one database: an edit in one is answered by the other, no restart."""
    connector.members = members_for(ADMIN, STAFF)
    async with (
        running_bot(_settings(db_url), connector) as bot_a,
        running_bot(_settings(db_url), connector) as bot_b,
    ):
        await seed_demo(bot_a.services, True)
        other = KnowledgeBase()
        async with bot_b.services.sessionmaker() as s:
            before = await other.index(s)
        assert "car-booking" not in [h.id for h in before.search("公用車を予約", top_k=5)]

        await bot_a.say("FAQ追加", user=ADMIN)
        form_id, form = last_card(connector, ADMIN.conversation_id)
        await bot_a.press(
            {
                **find_action(form, "qa.entry.save"),
                "new_key": "car-booking",
                "question": "公用車を予約するには?",
                "answer": "施設予約から予約します。",
                "alternates": "",
                "tags": "",
                "url": "",
                "status": "published",
            },
            user=ADMIN,
            reply_to_id=form_id,
        )
        async with bot_b.services.sessionmaker() as s:
            after = await other.index(s)
        assert after is not before
        assert after.search("公用車を予約したい", top_k=1)[0].id == "car-booking"
