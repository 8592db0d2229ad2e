"""Thanks, greetings and acknowledgements are no questions: answer them with a short friendly line.

    small_talk("ありがとうございました！")      # -> "thanks"
    small_talk("おはようございます")             # -> "greeting.morning"
    small_talk("先日はありがとうございました。Teamsの録画方法を教えてください")   # -> None: search it

The message is normalised (NFKC, lower case, katakana as hiragana, punctuation, spaces and emoji
dropped) and must consist of nothing but the phrases below: a closed list, so anything with a real
question in it still goes to the search. Without this, 「ありがとう」 got 「見つかりませんでした」 and
an offer to bother the DX division.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

MAX_LENGTH = 60  # longer messages are never small talk; saves the regex work

# Emoji that carry a meaning, as words; every other emoji is dropped.
_EMOJI_WORDS = {
    "👍": "ok",
    "👌": "ok",
    "🆗": "ok",
    "🙆": "ok",
    "🙏": "ありがとう",
    "🙇": "ありがとう",
}

# Each pattern is written for the normalised text (hiragana, lower case, no spaces). No pattern
# repeats a character another one also takes (「ー」 is only a framing word), so a long run of them
# cannot make the match backtrack exponentially.
_THANKS = (
    r"ありがと[うおぉ]?(?:ござい(?:ます|ました))?"
    r"|(?:有難|有り難)(?:う|き)?(?:ござい(?:ます|ました))?"
    r"|さんきゅう?|せんきゅう?|さんくす|あざっ?す|あざーす"
    r"|感謝(?:します|いたします|致します|しています|です)?"
    r"|助かり(?:ます|ました)|助かる|恐れ入ります|おそれいります|恐縮です"
    r"|thanks?(?:you)?|thankyou|thx|tysm|ty|cheers|appreciated?|appreciateit"
)
_MORNING = r"おはよう(?:ございます)?|goodmorning|morning"
_EVENING = r"こんばん[はわ]|goodevening"
_TIRED = r"(?:お|ご)?(?:疲れ|つかれ|苦労|くろう)(?:様|さま|さん)?(?:です|でした)?"
_HELLO = r"こんにち[はわ]|はじめまして|初めまして|hello|hiya|hi|hey|goodafternoon"
_BYE = (
    r"(?:お先に|おさきに)?(?:失礼|しつれい)(?:します|いたします|致します|しました)"
    r"|(?:お|ご)?(?:疲れ|つかれ|苦労|くろう)(?:様|さま)?でした"
    r"|さようなら|さよなら|またね|ではまた|また明日|またあした|bye|goodbye|byebye|seeyou"
)
_ACK = (
    r"了解(?:しました|いたしました|です)?|りょうかい|りょ|承知(?:しました|いたしました|致しました)"
    r"|かしこまりました|(?:わ|分)かりました|わかった|把握しました|なるほど|大丈夫です"
    r"|よろしく(?:お願い|おねがい)?(?:します|いたします|致します)?"
    r"|はい|うん|おっけ|おけ|ok(?:ay)?|okey|gotit|noted|sure|understood"
    r"|great|good|nice|cool|perfect|awesome"
)
# Someone trying the bot out: 「テスト」 used to be answered with whichever entry mentions テスト.
_TEST = r"てすと(?:中|ちゅう|送信|そうしん)?|test(?:ing)?|試し(?:に)?|ためし(?:に)?|動作確認|どうさかくにん"
# Words that only soften or frame one of the phrases above: 「ご回答」ありがとうございました,
# 「本当に」助かりました, 了解「です」, thanks 「a lot」.
_FRAME = (
    r"ご?(?:回答|返信|対応|連絡|説明|教示)(?:いただき|頂き)?|ご?丁寧に|ていねいに"
    r"|早速(?:の)?|さっそく|早々に|迅速な|迅速に|お忙しい(?:ところ|中)"
    r"|色々と?|いろいろと?|本当に|ほんとうに|ほんとに|大変|たいへん|どうも|とても"
    r"|先日は|昨日は|本日は|この度は|このたびは|いつも|引き続き|今後とも|今日も|では|それでは|じゃあ"
    r"|教えて(?:いただき|頂き|くれて)|お世話に?なっております|お世話になります"
    r"|です|でした|ます|ね|よ|ー|笑|w|m|の|は|に|と|も"
    r"|very|much|so|alot|lot|a|many|again|all|there|everyone|you"
)
# Most specific first: 「お疲れ様です、ありがとうございました」 is thanks.
KINDS: tuple[tuple[str, str], ...] = (
    ("thanks", _THANKS),
    ("farewell", _BYE),
    ("greeting.morning", _MORNING),
    ("greeting.evening", _EVENING),
    ("greeting.tired", _TIRED),
    ("greeting.hello", _HELLO),
    ("test", _TEST),
    ("ack", _ACK),
)
_ONLY_PHRASES = re.compile("(?:" + "|".join([p for _, p in KINDS] + [_FRAME]) + ")+")
_KIND_PATTERNS = [(kind, re.compile(pattern)) for kind, pattern in KINDS]
_SINGLE = {"どうも": "thanks"}  # alone it is thanks; next to another phrase it only frames it


def normalize(text: str) -> tuple[str, bool]:
    """The text as the phrases are written (NFKC, lower case, hiragana, letters and digits only),
    and whether it had an emoji in it."""
    folded = unicodedata.normalize("NFKC", text).lower()
    kept: list[str] = []
    emoji = False
    for ch in folded:
        if ch in _EMOJI_WORDS:
            kept.append(_EMOJI_WORDS[ch])
            continue
        category = unicodedata.category(ch)
        if category[0] in "LN":
            # Katakana to hiragana (ァ..ヶ), so ｱﾘｶﾞﾄｳ, アリガトウ and ありがとう compare equal.
            kept.append(chr(ord(ch) - 0x60) if "\u30a1" <= ch <= "\u30f6" else ch)
        elif category == "So":
            emoji = True
    return "".join(kept), emoji


def small_talk(text: str) -> str | None:
    """The kind of small talk the whole message is (``thanks``, ``greeting.morning`` …), or None."""
    if len(text) > MAX_LENGTH * 2:
        return None
    norm, emoji = normalize(text)
    if not norm:
        return "ack" if emoji else None  # 😊 or 🎉 alone
    if len(norm) > MAX_LENGTH:
        return None
    if norm in _SINGLE:
        return _SINGLE[norm]
    if not _ONLY_PHRASES.fullmatch(norm):
        return None
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(norm):
            return kind
    return None  # framing words only (「ご回答」「本当に」): not small talk


def reply_text(t: Callable[..., str], kind: str) -> str:
    """The answer to one kind of small talk, in the asker's language."""
    if kind.startswith("greeting."):
        return t("qa.smalltalk.greeting", hello=t(f"qa.smalltalk.hello.{kind.removeprefix('greeting.')}"))
    return t(f"qa.smalltalk.{kind}")
