"""「ありがとう」 is no question: thanks, greetings and acknowledgements get a friendly line, not
「見つかりませんでした」 and an offer to ask the DX division; a real question around them is searched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.qa.seed import seed_demo
from dialogs.qa.small_talk import small_talk
from storage.models import QueryLog
from tests.qa.feature_support import all_text, last_card
from tests.support import LEADER, STAFF, members_for, running_bot, settings_for


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("ありがとう", "thanks"),
        ("ありがとうございました", "thanks"),
        ("ありがとうございます！", "thanks"),
        ("ｱﾘｶﾞﾄｳｺﾞｻﾞｲﾏｽ", "thanks"),
        ("ありがとー！！🙏", "thanks"),
        ("ご回答ありがとうございました。", "thanks"),
        ("了解しました、ありがとうございます。", "thanks"),
        ("お疲れ様です。ありがとうございました。", "thanks"),
        ("本当に助かりました", "thanks"),
        ("どうも", "thanks"),
        ("Thank you very much!", "thanks"),
        ("thanks a lot", "thanks"),
        ("了解です", "ack"),
        ("承知しました。", "ack"),
        ("OK", "ack"),
        ("ＯＫです", "ack"),
        ("👍", "ack"),
        ("😊", "ack"),
        ("got it", "ack"),
        ("よろしくお願いします", "ack"),
        ("こんにちは", "greeting.hello"),
        ("Hi there", "greeting.hello"),
        ("おはようございます", "greeting.morning"),
        ("Good morning!", "greeting.morning"),
        ("こんばんは", "greeting.evening"),
        ("お疲れ様です", "greeting.tired"),
        ("おつかれさまです！", "greeting.tired"),
        ("お疲れ様でした", "farewell"),
        ("お先に失礼します", "farewell"),
        ("テスト", "test"),
        ("ﾃｽﾄです", "test"),
        ("test", "test"),
        ("テスト送信です。よろしくお願いします", "test"),
    ],
)
def test_small_talk_is_recognised(message: str, kind: str) -> None:
    assert small_talk(message) == kind


@pytest.mark.parametrize(
    "message",
    [
        "先日はありがとうございました。Teamsの録画方法を教えてください",
        "ありがとう、でも録画ができません",
        "Teamsの録画方法を教えてください。よろしくお願いします",
        "こんにちは。電子申請の手順を知りたいです",
        "OKですか",
        "大丈夫ですか",
        "Thanks, how do I record a meeting?",
        "録画",
        "テストの結果はどこで見られますか",
        "試しに録画したい",
        "ご回答",  # a framing word alone is not small talk
        "！！！",
        "ありが" + "ー" * 58 + "x",  # no exponential backtracking on long runs
    ],
)
def test_questions_and_other_text_are_not_small_talk(message: str) -> None:
    assert small_talk(message) is None


@pytest.mark.asyncio
async def test_thanks_and_greetings_get_a_friendly_line_not_the_not_found_card(sqlite_url, connector):
    connector.members = members_for(LEADER)
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        await bot.say("ありがとうございました！", user=LEADER)
        await bot.say("おはようございます", user=LEADER)
        await bot.say("👍", user=LEADER)
        await bot.say("テスト", user=LEADER)
        texts = connector.texts_to(LEADER.conversation_id)
        assert texts[-4] == "どういたしまして。ほかにも知りたいことがあれば、いつでも質問してください。"
        assert texts[-3].startswith("おはようございます。") and "「ヘルプ」" in texts[-3]
        assert "質問してください" in texts[-2]
        assert texts[-1].startswith("テストですね。メッセージは届いています。")
        assert connector.cards_to(LEADER.conversation_id) == []  # no 「見つかりませんでした」
        async with bot.services.sessionmaker() as s:
            assert (await s.scalars(select(QueryLog))).all() == []  # not an unanswered question


@pytest.mark.asyncio
async def test_english_speakers_get_the_english_line(sqlite_url, connector):
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await bot.say("Thanks!", user=STAFF, locale="en-US")
        assert connector.texts_to(STAFF.conversation_id)[-1].startswith("You're welcome.")


@pytest.mark.asyncio
async def test_a_question_that_also_thanks_is_still_searched(sqlite_url, connector):
    connector.members = members_for(LEADER)
    async with running_bot(settings_for(sqlite_url), connector) as bot:
        await seed_demo(bot.services, True)
        question = "先日はありがとうございました。Teams会議を録画する方法を教えてください"
        await bot.say(question, user=LEADER)
        _, card = last_card(connector, LEADER.conversation_id)
        assert "録画" in all_text(card) and "見つかりませんでした" not in all_text(card)
        assert not any("どういたしまして" in t for t in connector.texts_to(LEADER.conversation_id))
        async with bot.services.sessionmaker() as s:
            assert [q.query for q in (await s.scalars(select(QueryLog))).all()] == [question]
