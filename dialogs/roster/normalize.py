"""Cleaning what city halls type into roster files: widths, spaces, role spellings, headers, emails.

org_name("　総務部 ") -> "総務部"      person_name("鈴木　一郎") -> "鈴木 一郎"
parse_role("副リーダー") -> PromoterRole.SUBLEADER     header_field("メールアドレス") -> "email"
"""

from __future__ import annotations

import re
import unicodedata

from storage.models.roster import PromoterRole

FIELDS = ("department", "section", "role", "name", "email")
# Headers seen in city exports, compared after fold(): NFKC, lower case, no spaces or punctuation.
_HEADERS: dict[str, tuple[str, ...]] = {
    "department": ("部", "部名", "部局", "部局名", "所属部", "所属部局", "department", "dept", "division"),
    "section": ("課", "課名", "所属課", "所属", "所属名", "課室", "課室名", "section", "sectionname"),
    "role": ("役割", "区分", "種別", "推進員区分", "role", "type"),
    "name": ("氏名", "名前", "職員氏名", "name", "fullname"),
    "email": (
        "メールアドレス",
        "メール",
        "アドレス",
        "eメール",
        "eメールアドレス",
        "email",
        "mail",
        "emailaddress",
        "upn",
        "userprincipalname",
    ),
}
# Columns that may be present and are ignored (numbering and remarks), rather than refused.
_IGNORED = ("no", "番号", "連番", "項番", "備考", "メモ", "remarks", "note", "notes", "memo")
_ROLES: dict[str, PromoterRole] = {}
for _spelling in ("リーダー", "dx推進リーダー", "推進リーダー", "leader", "dxleader", "正", "主"):
    _ROLES[_spelling] = PromoterRole.LEADER
for _spelling in (
    "サブリーダー",
    "副リーダー",
    "dx推進サブリーダー",
    "dx推進副リーダー",
    "推進サブリーダー",
    "subleader",
    "dxsubleader",
    "sub",
    "サブ",
    "副",
):
    _ROLES[_spelling] = PromoterRole.SUBLEADER

_PUNCT = re.compile(r"[\s\-_・･.:：()（）\[\]【】「」/]+")
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_FORMULA_PREFIX = ("=", "+", "-", "@", "\t", "\r")


def nfkc(value: object) -> str:
    """NFKC (half-width kana to full width, full-width ASCII to half width) and trimmed spaces."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return _SPACES.sub(" ", text).strip()


def unescape_cell(value: str) -> str:
    """Undo the export's protection: a quote before = + - @ was added so Excel would not run it."""
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_PREFIX:
        return value[1:]
    return value


def escape_cell(value: str) -> str:
    """Prefix a quote so spreadsheets show the cell as text instead of running it as a formula."""
    return "'" + value if value.startswith(_FORMULA_PREFIX) else value


def fold(value: object) -> str:
    """A key for comparing names typed by people: NFKC, lower case, no spaces or punctuation."""
    return _PUNCT.sub("", nfkc(value).lower())


def _is_wordy(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def org_name(value: object, clean: bool = False) -> str:
    """A department or section name: spaces are dropped, except between two Latin words.

    ``clean``: the value already went through ``nfkc``.
    """
    text = str(value) if clean else nfkc(value)
    if " " not in text:
        return text
    out = []
    for i, ch in enumerate(text):
        if ch == " ":
            before, after = text[i - 1], text[i + 1]
            if not (_is_wordy(before) and _is_wordy(after)):
                continue
        out.append(ch)
    return "".join(out)


def person_name(value: object) -> str:
    """A person's name with one half-width space where the file had any run of spaces."""
    return nfkc(value)


def email(value: object) -> str:
    """Lower-cased, trimmed; 'mailto:' and angle brackets removed."""
    text = nfkc(value).replace(" ", "")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip("<>").lower()


def is_email(value: str) -> bool:
    return len(value) <= 320 and bool(_EMAIL.match(value))


def parse_role(value: object) -> PromoterRole | None:
    return _ROLES.get(fold(value))


def header_field(value: object) -> str | None:
    """The field a header names ("department", …), "" for a column we ignore, None if unknown."""
    key = fold(value)
    if not key:
        return ""
    for field_name, spellings in _HEADERS.items():
        if key in spellings:
            return field_name
    if key in _IGNORED:
        return ""
    return None
