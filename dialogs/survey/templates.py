"""Built-in templates: DXマインド (mindset), ツール活用 (tool adoption), 業務量 (workload).

template = TEMPLATES["mindset"]
questions = template.questions()            # list of question dicts
tool_questions(["Teams チャット", "生成AI"])  # the tool list is editable
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

FREQUENCY_CHOICES = [
    {"key": "daily", "label": "毎日", "label_en": "Every day"},
    {"key": "weekly", "label": "週に数回", "label_en": "A few times a week"},
    {"key": "monthly", "label": "月に数回", "label_en": "A few times a month"},
    {"key": "never", "label": "使っていない", "label_en": "Not using it"},
    {"key": "unknown", "label": "知らない", "label_en": "Don't know it"},
]

# (stable key, name): keys stay the same across rounds so trends line up.
DEFAULT_TOOLS: list[tuple[str, str]] = [
    ("t_chat", "Teams チャット"),
    ("t_webmeeting", "Web会議"),
    ("t_coedit", "共同編集"),
    ("t_eapply", "電子申請"),
    ("t_rpa", "RPA"),
    ("t_aiocr", "AI-OCR"),
    ("t_lowcode", "ローコード"),
    ("t_genai", "生成AI"),
    ("t_paperless", "ペーパーレス会議"),
]

MINDSET_ITEMS: list[tuple[str, str, str]] = [
    ("m1", "DXを自分ごととして捉えている", "I see DX as my own business"),
    ("m2", "仕事のやり方を変えることに前向きである", "I am willing to change how I work"),
    ("m3", "上司がDXの取組を後押ししてくれている", "My manager supports DX efforts"),
    ("m4", "所属する課は新しいツールを試すことに前向きである", "My section is open to trying new tools"),
    ("m5", "デジタルツールを使いこなす自信がある", "I am confident using digital tools"),
    ("m6", "業務改善のアイデアを出しやすい雰囲気がある", "It is easy to suggest improvements here"),
    (
        "m7",
        "DX推進課から必要な情報や支援を得られている",
        "I get the information and help I need from the DX division",
    ),
    ("m8", "DXの取組で業務が良くなっていると感じる", "DX efforts are making our work better"),
]


def tool_key(name: str) -> str:
    for key, known in DEFAULT_TOOLS:
        if known == name:
            return key
    return "t_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


def tool_questions(tools: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "key": tool_key(name),
            "type": "single",
            "text": f"{name}をどのくらい使っていますか",
            "text_en": f"How often do you use {name}?",
            "required": True,
            "choices": FREQUENCY_CHOICES,
            "tool": name,
        }
        for name in tools
    ]


def mindset_questions() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"key": key, "type": "scale5", "text": ja, "text_en": en, "required": True}
        for key, ja, en in MINDSET_ITEMS
    ]
    items.append(
        {
            "key": "comment",
            "type": "text",
            "text": "DXの取組について、ご意見やお困りごとがあれば自由にお書きください",
            "text_en": "Any comments or difficulties about DX (optional)",
            "required": False,
            "max_length": 1000,
        }
    )
    return items


def workload_questions() -> list[dict[str, Any]]:
    return [
        {
            "key": "w_noncore",
            "type": "number",
            "text": "この1か月、勤務時間のうちノンコア業務(誰でもできる定型的な作業)に使った割合はおよそ何%ですか",
            "text_en": "Last month, roughly what share of your working time went to non-core work (%)?",
            "required": True,
            "min": 0,
            "max": 100,
            "unit": "%",
        },
        {
            "key": "w_manual_hours",
            "type": "number",
            "text": "紙の書類や手作業(転記・押印・集計など)に使う時間は、1週間におよそ何時間ですか",
            "text_en": "Hours a week spent on paper or manual steps (copying, stamping, tallying)",
            "required": True,
            "min": 0,
            "max": 60,
            "unit": "時間",
        },
        {
            "key": "w_busy",
            "type": "scale11",
            "text": "現在の業務量の負担感を0(とても余裕がある)〜10(限界)で教えてください",
            "text_en": "How heavy is your workload now, from 0 (plenty of room) to 10 (at the limit)?",
            "required": True,
        },
        {
            "key": "w_targets",
            "type": "multi",
            "text": "デジタル化で減らせそうな作業を選んでください",  # the card adds 「(3つまで)」
            "text_en": "Pick the tasks that digital tools could reduce",
            "required": False,
            "max_choices": 3,
            "choices": [
                {"key": "reception", "label": "申請・届出の受付", "label_en": "Receiving applications"},
                {"key": "approval", "label": "決裁・押印", "label_en": "Approvals and stamps"},
                {"key": "transcribe", "label": "転記・集計", "label_en": "Copying and tallying"},
                {"key": "filing", "label": "文書の保管・検索", "label_en": "Filing and finding documents"},
                {"key": "meetings", "label": "会議資料の準備", "label_en": "Preparing meeting papers"},
                {"key": "inquiries", "label": "問い合わせ対応", "label_en": "Answering inquiries"},
                {"key": "other", "label": "その他", "label_en": "Other"},
            ],
        },
        {
            "key": "w_comment",
            "type": "text",
            "text": "減らしたい作業の具体例があればお書きください",
            "text_en": "Examples of work you would like to reduce (optional)",
            "required": False,
        },
    ]


@dataclass(frozen=True)
class Template:
    key: str
    name: str  # as typed in 「サーベイ 作成 DXマインド」
    name_en: str
    anonymous: bool  # mindset is anonymous; tool use and workload describe the section's work
    description: str

    def questions(self, tools: list[str] | None = None) -> list[dict[str, Any]]:
        if self.key == "mindset":
            return mindset_questions()
        if self.key == "tools":
            return tool_questions(tools or [name for _, name in DEFAULT_TOOLS])
        return workload_questions()


TEMPLATES: dict[str, Template] = {
    "mindset": Template(
        "mindset",
        "DXマインド",
        "DX mindset",
        True,
        "DXへの意識(自分ごと化、変化への前向きさ、上司の後押しなど)を5段階で伺います。無記名です。",
    ),
    "tools": Template(
        "tools",
        "ツール活用",
        "Tool adoption",
        False,
        "各ツールをどのくらい使っているかを伺います。課ごとの普及状況を把握するため記名式です。",
    ),
    "workload": Template(
        "workload",
        "業務量",
        "Workload",
        True,
        "ノンコア業務の割合や、紙・手作業に使う時間を伺います。無記名です。",
    ),
}


def find_template(name: str) -> Template | None:
    from dialogs.kit.router import fold

    wanted = fold(name)
    for tpl in TEMPLATES.values():
        if wanted in (fold(tpl.key), fold(tpl.name), fold(tpl.name_en)):
            return tpl
    aliases = {"マインド": "mindset", "意識": "mindset", "ツール": "tools", "業務": "workload"}
    for alias, key in aliases.items():
        if fold(alias) == wanted:
            return TEMPLATES[key]
    return None
