"""The domain's data: a budget line as read, and the decision the engine makes about it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from .money import format_amount

# Status of a line. ``excluded`` is for subtotal/total rows, which are kept but never counted.
MATCHED = "matched"
REVIEW = "review"
UNMATCHED = "unmatched"
EXCLUDED = "excluded"
STATUSES = (MATCHED, REVIEW, UNMATCHED, EXCLUDED)

#: zh-TW labels of the statuses, as the workbooks show them.
STATUS_LABELS = {MATCHED: "符合", REVIEW: "待覆核", UNMATCHED: "不符合", EXCLUDED: "小計不計"}

# Kinds of input row.
LINE = "line"
TOTAL = "total"  # 合計/小計/總計… rows: kept, status excluded, never counted


@dataclass(slots=True)
class LineItem:
    """One budget line as read from an export, with its provenance.

    Text fields keep the original text exactly; matching folds a copy. ``amount`` is in ``unit``
    (元, 千元 or 萬元); ``None`` when the cell was blank or unreadable (see ``problems`` of the read).
    ``cells`` holds every original cell value of the row in column order, so the annotated
    workbook can reproduce the row exactly.
    """

    description: str = ""
    amount: Decimal | None = None
    unit: str = "元"
    plan: str = ""
    branch: str = ""
    account: str = ""
    account_code: str = ""
    agency: str = ""
    year: int | None = None
    file: str = ""
    sheet: str = ""
    row: int | None = None
    kind: str = LINE
    cells: tuple[Any, ...] = ()
    columns: tuple[str, ...] = ()  # header of each cell (one tuple shared by the sheet's lines)
    context: str = ""  # the 案名/heading row this line sits under (its 說明 often says only 施工費)
    #: What the reader noticed (:mod:`budget.exports.flags`); add with ``line.flags += (FLAG,)``. Most lines
    #: have none: they share one empty tuple (a list per line was ~56 MB per million lines).
    flags: Sequence[str] = ()

    @property
    def source(self) -> str:
        """``file / sheet / row`` for people."""
        if self.file and self.sheet and self.row is not None:  # most lines (the same text, sooner)
            return f"{self.file} / {self.sheet} / 第{self.row}列"
        parts = [self.file]
        if self.sheet:
            parts.append(self.sheet)
        if self.row is not None:
            parts.append(f"第{self.row}列")
        return " / ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason behind a decision: a term, pattern or code that hit (or excluded) in a field."""

    category: str
    kind: str  # any | all | none | code | regex | shared | subitem
    field: str  # description | plan | branch | account | account_code
    term: str
    excluded: bool = False

    def describe(self) -> str:
        """The evidence in zh-TW words, e.g. ``說明含「出席費」``."""
        where = FIELD_LABELS.get(self.field, self.field)
        if self.kind == "subitem":
            return f"依子項 {self.term} 所列金額計算"
        if self.kind == "code":
            text = f"{where}「{self.term}」開頭"
        elif self.kind == "regex":
            text = f"{where}符合樣式 /{self.term}/"
        else:
            text = f"{where}含「{self.term}」"
        return ("排除：" + text) if self.excluded else text

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "kind": self.kind, "field": self.field,
                "term": self.term, "excluded": self.excluded, "text": self.describe()}


FIELD_LABELS = {
    "description": "說明", "plan": "工作計畫", "branch": "分支計畫",
    "account": "用途別科目", "account_code": "科目代碼", "context": "所屬案名",
}


@dataclass(frozen=True, slots=True)
class SubItem:
    """A sub-item of a description (``(1)…15千元``) with its amount in the line's unit."""

    marker: str
    text: str
    amount: Decimal | None
    categories: tuple[str, ...] = ()


@dataclass(slots=True)
class Decision:
    """What the engine decided about one line, and why.

    ``gender_amount`` is the amount offered as gender budget, in the line's unit: for ``matched``
    it is counted; for ``review`` it is the engine's proposal, counted only once a person
    confirms it. ``rule`` names the category (or built-in rule) that decided.

    ``evidence``, ``also_matched``, ``reasons`` and ``subitems`` are read-only sequences (the engine
    passes lists; to add, assign a new one). Left out they are one shared empty tuple: most lines
    match nothing, and four empty lists per line were ~220 MB per million lines.
    """

    status: str
    category: str | None = None
    share_percent: Decimal | None = None
    gender_amount: Decimal = Decimal(0)
    rule: str = ""
    evidence: Sequence[Evidence] = ()
    also_matched: Sequence[str] = ()
    reasons: Sequence[str] = ()
    subitems: Sequence[SubItem] = ()
    #: The reviewer's 覆核 entry this decision follows (``""`` when the rules decided), and its 覆核說明.
    review: str = ""
    review_note: str = ""

    @property
    def counted(self) -> Decimal:
        """The amount that counts toward the gender total now (0 unless matched)."""
        return self.gender_amount if self.status == MATCHED else Decimal(0)

    def explain(self) -> str:
        """The evidence and reasons as one zh-TW sentence for the 判定依據 column."""
        parts = [e.describe() for e in self.evidence]
        text = "；".join(dict.fromkeys(parts))
        if self.reasons:
            text = ("；".join(self.reasons) + ("。依據：" + text if text else "")).strip()
        return text

    def to_dict(self, line: LineItem | None = None) -> dict[str, Any]:
        """JSON-ready dict; amounts as decimal strings."""
        out: dict[str, Any] = {
            "status": self.status,
            "category": self.category,
            "share_percent": format_amount(self.share_percent) if self.share_percent is not None else None,
            "gender_amount": format_amount(self.gender_amount),
            "rule": self.rule,
            "evidence": [e.to_dict() for e in self.evidence],
            "also_matched": list(self.also_matched),
            "reasons": list(self.reasons),
            "subitems": [
                {"marker": s.marker, "text": s.text, "amount": format_amount(s.amount) if s.amount is not None else None,
                 "categories": list(s.categories)}
                for s in self.subitems
            ],
        }
        if self.review:
            out["review"] = self.review
            out["review_note"] = self.review_note
        if line is not None:
            out["amount"] = format_amount(line.amount) if line.amount is not None else None
            out["unit"] = line.unit
        return out


#: The five official classes of the 性別預算編列情形表.
OFFICIAL_CLASSES: dict[int, str] = {
    1: "第1類 計畫類",
    2: "第2類 綱領類",
    3: "第3類 工具類",
    4: "第4類 性平法令類",
    5: "第5類 其他類",
}
