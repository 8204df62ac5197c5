"""Column mapping, declared once as data: which header names mean which line field."""

from __future__ import annotations

from ..normalize import fold

#: Line fields and the header names offices use for them (matched after folding).
#: Order matters inside a list: an exact match on an earlier alias wins.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "description": ("說明", "內容", "摘要", "項目說明", "計畫內容", "用途說明", "說明及內容", "內容說明",
                    "預算說明", "細目說明", "description"),
    "amount": ("金額", "預算數", "本年度預算數", "經費", "預算金額", "本年度預算", "預算", "金額(元)",
               "金額(千元)", "預算數(元)", "預算數(千元)", "本年度預算數(千元)", "本年度預算數(元)", "amount"),
    "account": ("用途別科目", "科目名稱", "科目", "用途別", "用途別科目名稱", "會計科目", "account"),
    "account_code": ("科目代碼", "代碼", "科目編號", "用途別代碼", "用途別科目代碼", "account_code"),
    "plan": ("工作計畫", "計畫名稱", "工作計畫名稱", "計畫", "業務計畫", "plan"),
    "branch": ("分支計畫", "分支計畫名稱", "branch"),
    "agency": ("單位", "機關", "科室", "機關名稱", "單位名稱", "agency"),
    "year": ("年度", "預算年度", "year"),
    "unit": ("單位別", "金額單位", "unit"),
}

#: Fields a usable export must have.
REQUIRED_FIELDS = ("description", "amount")

FIELD_NAMES_ZH = {
    "description": "說明", "amount": "金額", "account": "用途別科目", "account_code": "科目代碼",
    "plan": "工作計畫", "branch": "分支計畫", "agency": "機關/單位", "year": "年度", "unit": "金額單位",
}

_FOLDED = {f: tuple(fold(a) for a in aliases) for f, aliases in FIELD_ALIASES.items()}


def field_for_header(header: str, overrides: dict[str, str] | None = None) -> str | None:
    """The line field a header names, or None.

    ``overrides`` maps field → header text (from ``--map`` or a rules file's ``[columns]``) and
    wins over the aliases.
    """
    key = fold(header)
    if not key:
        return None
    for field, wanted in (overrides or {}).items():
        if fold(wanted) == key:
            return field
    for field, aliases in _FOLDED.items():
        if key in aliases:
            return field
    # Headers with a unit suffix or note, e.g. "本年度預算數(單位:千元)".
    for field, aliases in _FOLDED.items():
        for alias in aliases:
            if len(alias) >= 2 and key.startswith(alias) and key[len(alias):len(alias) + 1] in "(（[":
                return field
    return None


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """Parse ``--map field=header`` options; raises ValueError naming the bad pair."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        field = field.strip()
        if not sep or not header.strip():
            raise ValueError(f"「{pair}」格式應為 欄位=表頭，例如 description=摘要")
        if field not in FIELD_ALIASES:
            raise ValueError(f"「{field}」不是可對應的欄位；可用：{', '.join(FIELD_ALIASES)}")
        mapping[field] = header.strip()
    return mapping
