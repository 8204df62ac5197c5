"""How the report says a line's decision in zh-TW: 「覆核：計入 40%」, 「依比例 60%」, the 說明 of a reviewed line."""

from __future__ import annotations

from decimal import Decimal

from .models import MATCHED, Decision, LineItem
from .money import format_amount, format_thousands
from .review import REVIEWED_RULE, ReviewEntryError, parse_override
from .rules import RuleSet


def _reviewed_parts(decision: Decision, rules: RuleSet | None) -> tuple[Decimal | None, Decimal | None, str | None]:
    """What the reviewer entered: (percentage, amount, the amount's unit or None for the line's unit).

    Read from the decision's reviewed-amount/percentage fields where it has them, else from its
    覆核 entry (the one-column grammar of budget.review)."""
    percent = next((getattr(decision, n) for n in ("reviewed_percent", "reviewed_share_percent", "review_percent",
                                                   "review_share_percent") if getattr(decision, n, None) is not None), None)
    amount = next((getattr(decision, n) for n in ("reviewed_amount", "review_amount")
                   if getattr(decision, n, None) is not None), None)
    if percent is not None or amount is not None or rules is None or not decision.review:
        return percent, amount, None
    try:
        override = parse_override(decision.review, rules)
    except ReviewEntryError:
        return None, None, None
    if override is None:
        return None, None, None
    return override.share_percent, override.amount, override.unit


def review_wording(line: LineItem, decision: Decision, rules: RuleSet | None = None) -> str:
    """A reviewed decision in words for 說明: 「覆核：計入 40%」, 「覆核：計入 24,000 元」, 「覆核：全額計入」."""
    if decision.status != MATCHED:
        return "覆核：不列入"
    percent, amount, unit = _reviewed_parts(decision, rules)
    if amount is not None:
        words = f"覆核：計入 {format_thousands(amount)} {unit or line.unit}"
    elif percent is not None:
        words = f"覆核：計入 {format_amount(percent)}%"
    elif decision.share_percent is None or decision.share_percent == 100:
        words = "覆核：全額計入"
    else:
        words = f"覆核：計入 {format_amount(decision.share_percent)}%"
    return words


def _reviewed(decision: Decision) -> bool:
    return bool(decision.review) or decision.rule == REVIEWED_RULE


def line_detail(line: LineItem, decision: Decision, rules: RuleSet | None = None) -> str:
    """One counted line for 說明: its description, and for a reviewed line the decision and the note."""
    text = line.description or "（未列說明）"
    if not _reviewed(decision):
        return text
    words = review_wording(line, decision, rules)
    return f"{text}（{words}" + (f"；{decision.review_note}" if decision.review_note else "") + "）"


def estimate_of(line: LineItem, decision: Decision, rules: RuleSet | None = None) -> str:
    """How the line's gender amount was estimated, in words."""
    if _reviewed(decision):
        return review_wording(line, decision, rules)
    if decision.subitems and any(s.categories for s in decision.subitems):
        return "依子項所列金額"
    if decision.share_percent is None or decision.share_percent == 100:
        return "全額計入"
    return f"依比例 {format_amount(decision.share_percent)}%"
