"""Reviewers' decisions: the review columns' grammar (and the older one-cell 覆核), applied to decisions.

Carrying reviews to next year's lines lives in :mod:`budget.carry`.

A 覆核 entry is one of::

    gender-training            the category, at the category's share (100% unless the rules say less)
    gender-training 40%        the category, 40 % of the line's amount
    gender-training 24000      the category, 24000 in the line's unit (or ``24千元``, ``24,000元``)
    none                       not gender budget (also 無, 不計, 不計入)

A category may be written by its id or its exact name; full-width characters are folded. A malformed
entry never stops a run: it becomes a :class:`~budget.problems.Problem` on its row and the line keeps
the rules' decision.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Sequence

from .models import EXCLUDED, MATCHED, REVIEW, TOTAL, UNMATCHED, Decision, LineItem
from .money import AmountError, convert, format_amount, format_thousands, parse_amount, round_half_up, share_of
from .normalize import fold
from .problems import ERROR, Problem
from .rules import RuleSet

if TYPE_CHECKING:  # pragma: no cover
    from .outputs.readback import AnnotatedRow

#: The ``rule`` of a decision a reviewer made.
REVIEWED_RULE = "reviewed"
#: Flag put on a line whose carried-over review was made when its amount was different.
FLAG_AMOUNT_CHANGED = "review-carried-amount-changed"

NONE_WORDS = frozenset({"none", "無", "不計", "不計入", "不列入", "非性別預算", "否"})

_SHARE_RE = re.compile(r"^(?P<num>[-+]?\d+(?:\.\d+)?)\s*%$")


class ReviewEntryError(ValueError):
    """A 覆核 entry that cannot be applied; carries a problem code and zh-TW/English messages."""

    def __init__(self, code: str, message: str, message_en: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_en = message_en
        self.hint = hint

    def problem(self, **where: Any) -> Problem:
        """The error as a Problem at ``where`` (file, sheet, row, column)."""
        return Problem(self.code, self.message, self.message_en, ERROR, hint=self.hint, **where)


@dataclass(frozen=True, slots=True)
class Override:
    """A reviewer's decision as parsed from the 覆核 column.

    ``category`` is None for ``none``. At most one of ``share_percent`` and ``amount`` is set;
    ``amount`` is in ``unit`` when the entry named a unit, else in the line's unit (``unit`` None).
    """

    text: str
    category: str | None
    share_percent: Decimal | None = None
    amount: Decimal | None = None
    unit: str | None = None

    @property
    def is_none(self) -> bool:
        """True for ``none``: the line is not gender budget."""
        return self.category is None


def parse_override(text: object, rules: RuleSet) -> Override | None:
    """Parse one 覆核 entry; None when the cell is blank. Raises :class:`ReviewEntryError`."""
    if text is None:
        return None
    original = str(text).strip()
    if not original:
        return None
    folded = unicodedata.normalize("NFKC", original).replace("％", "%").strip()
    folded = re.sub(r"\s+", " ", folded)
    if fold(folded) in NONE_WORDS:
        return Override(original, None)
    name, _, value = folded.partition(" ")
    category = _find_category(name, rules)
    if category is None:
        # A category name may contain spaces: try the whole entry as a name before giving up.
        whole = _find_category(folded, rules)
        if whole is not None:
            return Override(original, whole)
        raise _unknown_category(name, rules)
    value = value.strip()
    if not value:
        return Override(original, category)
    share = _SHARE_RE.match(value.replace(" ", ""))
    if share:
        percent = Decimal(share.group("num"))
        if percent > 100 or percent < 0:
            raise ReviewEntryError(
                "review-share-out-of-range", f"覆核「{original}」的比例 {format_amount(percent)}% 不在 0 到 100 之間",
                "the share must be between 0 and 100 %")
        return Override(original, category, share_percent=percent)
    try:
        amount, unit = parse_amount(value)
    except AmountError:
        raise ReviewEntryError(
            "review-malformed", f"看不懂覆核「{original}」：類別代碼後應為比例（如 40%）或金額（如 24000）",
            "after the category id write a share (40%) or an amount (24000)",
            hint="格式：類別代碼、none、「類別代碼 40%」或「類別代碼 24000」") from None
    if amount is None:
        return Override(original, category)
    if amount < 0:
        raise ReviewEntryError("review-amount-negative", f"覆核「{original}」的金額不可為負數",
                               "the reviewed amount must not be negative")
    return Override(original, category, amount=amount, unit=unit)


def _find_category(name: str, rules: RuleSet) -> str | None:
    key = fold(name)
    for c in rules.categories:
        if fold(c.id) == key or fold(c.name) == key:
            return c.id
    return None


def _unknown_category(name: str, rules: RuleSet) -> ReviewEntryError:
    close = difflib.get_close_matches(name.lower(), rules.ids, n=3, cutoff=0.6)
    hint = ("是不是：" + "、".join(close) + "？ " if close else "") + "可用：" + "、".join(rules.ids + ["none"])
    return ReviewEntryError("review-unknown-category", f"覆核的類別代碼「{name}」不在規則檔中",
                            "unknown category id in the review column", hint=hint)


@dataclass(frozen=True)
class ReviewEntry:
    """A reviewer's entry for one line, as the review columns of 明細 (or the web page) hold it.

    ``category`` is what was picked or typed (an id, a Chinese name, or 不列入; ``""`` none);
    ``amount`` is 覆核計入數 in the line's own unit; ``percent`` is 覆核比例 as a percentage
    (0–100; the workbook cell holds percent/100); ``note`` is 覆核說明.
    """

    category: str = ""
    amount: Decimal | None = None
    percent: Decimal | None = None
    note: str = ""

    @property
    def is_blank(self) -> bool:
        """True when the entry decides nothing (a note alone decides nothing)."""
        return not self.category.strip() and self.amount is None and self.percent is None

    def text(self) -> str:
        """The entry in the one-cell grammar (``gender-training 40%``, ``不列入``), for messages and logs."""
        parts = [self.category.strip()]
        if self.amount is not None:
            parts.append(format_amount(self.amount))
        if self.percent is not None:
            parts.append(f"{format_amount(self.percent)}%")
        return " ".join(p for p in parts if p)


#: What 覆核類別 holds when the line is not gender budget (the drop-down's last choice).
NONE_CHOICE = "不列入"


def entry_from_override(override: Override, line: LineItem, note: str = "") -> ReviewEntry:
    """A one-cell 覆核 entry (the previous workbook layout) as a :class:`ReviewEntry` for ``line``.

    An amount written with a unit (``24千元``) is converted to the line's unit.
    """
    if override.is_none:
        return ReviewEntry(NONE_CHOICE, note=note)
    amount = override.amount
    if amount is not None and override.unit is not None and override.unit != line.unit:
        amount = convert(amount, override.unit, line.unit)
    return ReviewEntry(override.category or "", amount=amount, percent=override.share_percent, note=note)


def entry_from_text(text: str, line: LineItem, note: str = "") -> ReviewEntry:
    """A one-cell 覆核 entry split into a :class:`ReviewEntry` without the rules (the category stays
    as typed): ``gender-training 40%`` → category and percent. Unreadable tails stay in the category,
    so :func:`review_decision` reports them."""
    folded = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text)).replace("％", "%")).strip()
    if fold(folded) in NONE_WORDS:
        return ReviewEntry(NONE_CHOICE, note=note)
    head, _, tail = folded.rpartition(" ")
    share = _SHARE_RE.match(tail.replace(" ", "")) if head else None
    if share:
        return ReviewEntry(head, percent=Decimal(share.group("num")), note=note)
    if head:
        try:
            amount, unit = parse_amount(tail)
        except AmountError:
            amount, unit = None, None
        if amount is not None:
            if unit is not None and unit != line.unit:
                amount = convert(amount, unit, line.unit)
            return ReviewEntry(head, amount=amount, note=note)
    return ReviewEntry(folded, note=note)


def _entry_error(code: str, message: str, message_en: str, hint: str = "") -> ReviewEntryError:
    return ReviewEntryError(code, message, message_en, hint)


def _entry_category(entry: ReviewEntry, decision: Decision, rules: RuleSet) -> str | None:
    """The category id an entry names (``None`` for 不列入); raises :class:`ReviewEntryError`."""
    typed = unicodedata.normalize("NFKC", entry.category).strip()
    has_share = entry.amount is not None or entry.percent is not None
    if typed and fold(typed) in NONE_WORDS:
        if has_share:
            raise _entry_error("review-none-with-share", f"覆核類別為「{typed}」卻又填了計入數或比例",
                               "不列入 with an amount or a percentage", "不列入時請清空覆核計入數與覆核比例")
        return None
    if not typed:
        if decision.category and decision.status in (MATCHED, REVIEW):
            return decision.category
        raise _entry_error("review-no-category", "填了覆核計入數或比例，但沒有覆核類別（本行也沒有建議類別）",
                           "an amount or a percentage without a category", "請在「覆核類別」選擇類別")
    found = _find_category(typed, rules)
    if found is None:
        raise _unknown_category(typed, rules)
    return found


def review_decision(entry: ReviewEntry, line: LineItem, decision: Decision, rules: RuleSet) -> Decision:
    """The final decision about ``line`` after the reviewer's ``entry`` (``decision`` is the tool's).

    A category with neither amount nor percentage counts the tool's suggested amount where the line
    has one (a matched or review line), else the category's share of the line (the whole line unless
    the rules say less). Raises :class:`ReviewEntryError` (zh-TW message and code) when the entry is
    invalid: both amount and percentage, an amount over the line, a percentage outside 0–100 %…
    """
    if entry.is_blank:
        return decision if not entry.note else replace(decision, review_note=entry.note)
    if line.kind == TOTAL or decision.status == EXCLUDED:
        raise ReviewEntryError("review-on-total-row", f"合計/小計列不計入，覆核「{entry.text()}」未採用",
                               "subtotal rows are never counted; the review was not applied")
    if entry.amount is not None and entry.percent is not None:
        raise _entry_error("review-amount-and-share", "覆核計入數與覆核比例只能填一個",
                           "fill either the amount or the percentage, not both")
    category_id = _entry_category(entry, decision, rules)
    note = entry.note
    if category_id is None:
        reason = f"覆核決定：{NONE_CHOICE}" + (f"；覆核說明：{note}" if note else "")
        return Decision(UNMATCHED, rule=REVIEWED_RULE, reasons=[reason], review=NONE_CHOICE,
                        review_note=note, also_matched=[c for c in [decision.category] if c])
    category = rules.category(category_id)
    assert category is not None
    text = " ".join([category.id, *ReviewEntry(amount=entry.amount, percent=entry.percent).text().split()])
    if line.amount is None:
        raise ReviewEntryError("review-no-amount", f"本行金額空白或無法讀取，無法依覆核「{text}」計算性別預算數",
                               "the line has no readable amount")
    suggested = decision.category is not None and decision.status in (MATCHED, REVIEW)
    if entry.amount is not None:
        amount = entry.amount
        if amount < 0:
            raise ReviewEntryError("review-amount-negative", f"覆核計入數 {format_thousands(amount)} 不可為負數",
                                   "the reviewed amount must not be negative")
        if amount > abs(line.amount):
            raise ReviewEntryError(
                "review-amount-too-large",
                f"覆核計入數 {format_thousands(amount)} {line.unit} 大於本行金額 {format_thousands(line.amount)} {line.unit}",
                "the reviewed amount is larger than the line's amount")
        gender = -amount if line.amount < 0 else amount
        share = round_half_up(gender * 100 / line.amount, "0.01") if line.amount else Decimal(0)
    elif entry.percent is not None:
        if not Decimal(0) <= entry.percent <= 100:
            raise ReviewEntryError(
                "review-share-out-of-range", f"覆核比例 {format_amount(entry.percent)}% 不在 0 到 100 之間",
                "the share must be between 0 and 100 %")
        share = entry.percent
        gender = share_of(line.amount, share, line.unit)
    elif suggested:
        share, gender = decision.share_percent, decision.gender_amount
    else:
        share = Decimal(category.share_percent)
        gender = share_of(line.amount, share, line.unit)
    reason = f"覆核決定：{text}" + (f"；覆核說明：{note}" if note else "")
    evidence = decision.evidence if decision.category == category.id else []
    return Decision(MATCHED, category=category.id, share_percent=share, gender_amount=gender,
                    rule=REVIEWED_RULE, evidence=list(evidence), reasons=[reason],
                    also_matched=[c for c in [decision.category] if c and c != category.id],
                    review=text, review_note=note)


def decide(line: LineItem, decision: Decision, override: Override, rules: RuleSet, note: str = "") -> Decision:
    """The decision a one-cell 覆核 entry ``override`` makes about ``line`` (see :func:`review_decision`)."""
    return review_decision(entry_from_override(override, line, note), line, decision, rules)


def row_entry(row: "AnnotatedRow", rules: RuleSet) -> ReviewEntry:
    """The reviewer's entry of a workbook row: its review columns, or its one-cell 覆核 (older layout)
    parsed with ``rules``. Raises :class:`ReviewEntryError` for a malformed one-cell entry."""
    problem = getattr(row, "entry_problem", None)
    if problem is not None:
        raise ReviewEntryError(problem.code, problem.message, problem.message_en, problem.hint)
    if row.entry is not None:
        return row.entry
    override = parse_override(row.review, rules)
    if override is None:
        return ReviewEntry(note=row.review_note)
    return entry_from_override(override, row.line, row.review_note)


def apply_review(line: LineItem, decision: Decision, text: object, note: str, rules: RuleSet,
                 **where: Any) -> tuple[Decision, Problem | None]:
    """``decision`` with the one-cell 覆核 entry ``text`` applied; a malformed entry gives a Problem and
    leaves ``decision`` as it is. ``where`` locates the entry (file, sheet, row, column)."""
    try:
        override = parse_override(text, rules)
        if override is None:
            return decision, None
        return decide(line, decision, override, rules, note), None
    except ReviewEntryError as exc:
        return decision, exc.problem(**where)


def apply_reviews(rows: Sequence["AnnotatedRow"], rules: RuleSet) -> tuple[list[Decision], list[Problem]]:
    """The final decision of each row of an annotated workbook: the reviewer's where there is a
    valid entry, else the one the workbook records. Invalid entries come back as problems naming
    the row (the line then keeps the recorded decision)."""
    decisions: list[Decision] = []
    problems: list[Problem] = []
    for row in rows:
        try:
            entry = row_entry(row, rules)
            decisions.append(review_decision(entry, row.line, row.decision, rules))
        except ReviewEntryError as exc:
            decisions.append(row.decision)
            problem = getattr(row, "entry_problem", None)
            problems.append(problem or exc.problem(**row.review_location(exc.code)))
    return decisions, problems
