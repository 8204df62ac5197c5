"""The one place the web pages use the review grammar: a browser review as a ``ReviewEntry``, its decision
(``budget.review.review_decision``, the same grammar and checks as the workbook's review columns), and
annotated workbooks written with the reviews in their review columns or read back for them.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from .. import review as _review
from ..models import Decision, LineItem
from ..money import AmountError, format_amount, parse_amount
from ..normalize import fold
from ..problems import Problem, clip
from ..review import NONE_CHOICE as NOT_COUNTED, ReviewEntry
from ..rules import RuleSet

__all__ = ["NOT_COUNTED", "ReviewEntry", "ReviewError", "category_choices", "entry_from_form", "canonical",
           "is_cleared", "entry_text", "review_decision", "write_workbook", "workbook_reviews"]


class ReviewError(ValueError):
    """A review that cannot be applied; ``message`` is zh-TW and says what to change."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def category_choices(rules: RuleSet) -> list[tuple[str, str]]:
    """(value, label) pairs for the 覆核類別 drop-down: the categories' Chinese names, then 不列入."""
    return [(c.id, f"{c.name}（第{c.official_class}類）") for c in rules.categories] + [(NOT_COUNTED, NOT_COUNTED)]


def entry_from_form(category: str, amount: str, percent: str, note: str) -> ReviewEntry:
    """A ReviewEntry from the review form's fields (amount ``24,000`` or ``24千元`` is not converted here:
    a bare number is in the line's unit). Raises :class:`ReviewError` for an unreadable number."""
    value = None
    if amount.strip():
        try:
            value, _ = parse_amount(amount.strip())
        except AmountError:
            raise ReviewError(f"看不懂覆核計入數「{clip(amount)}」，請填數字（本行的金額單位）") from None
    share = None
    if percent.strip():
        try:
            share = Decimal(percent.strip().rstrip("%％").strip().replace(",", ""))
        except InvalidOperation:
            raise ReviewError(f"看不懂覆核比例「{percent}」，請填 0 到 100 的數字") from None
    return ReviewEntry(category=category.strip(), amount=value, percent=share, note=note.strip()[:2000])


def canonical(entry: ReviewEntry, rules: RuleSet) -> ReviewEntry:
    """The entry with its category written as the drop-down's value: the category id, or 不列入."""
    key = fold(entry.category)
    if not key:
        return entry
    if entry.category == NOT_COUNTED or key in _review.NONE_WORDS:
        return replace(entry, category=NOT_COUNTED)
    found = next((c.id for c in rules.categories if fold(c.id) == key or fold(c.name) == key), None)
    return replace(entry, category=found) if found else entry


def is_cleared(entry: ReviewEntry) -> bool:
    """True when the entry says nothing (the line goes back to the rules' decision)."""
    return not entry.category and entry.amount is None and entry.percent is None


def entry_text(entry: ReviewEntry) -> str:
    """The entry in words for tables: ``育兒支持 40%``."""
    parts = [entry.category]
    if entry.percent is not None:
        parts.append(f"{format_amount(entry.percent)}%")
    if entry.amount is not None:
        parts.append(format_amount(entry.amount))
    return " ".join(p for p in parts if p)


def review_decision(entry: ReviewEntry, line: LineItem, decision: Decision, rules: RuleSet) -> Decision:
    """The decision a review makes about ``line`` (``decision`` is the rules'); :class:`ReviewError` when invalid."""
    try:
        return _review.review_decision(entry, line, decision, rules)
    except _review.ReviewEntryError as exc:
        raise ReviewError(exc.message, exc.hint) from None


# --- workbooks ---------------------------------------------------------------------------------

def write_workbook(path: Path, run: Any, reviews: Mapping[int, ReviewEntry]) -> list[Problem]:
    """Write ``run``'s annotated workbook to ``path`` (.xlsx or .ods by suffix) with ``reviews`` (line index →
    entry) in its review columns, the categories by their Chinese names as the drop-down shows them."""
    from ..outputs.annotated import write_annotated_workbook
    from ..pipeline import collector_paused

    names = {c.id: c.name for c in run.rules.categories}
    named = {i: replace(e, category=names.get(e.category, e.category)) for i, e in reviews.items()}
    with collector_paused():
        report = write_annotated_workbook(Path(path), run, reviews=named)
    return list(getattr(report, "problems", []))


def workbook_reviews(path: Path, rules: RuleSet) -> tuple[Any, dict[int, ReviewEntry], list[Problem]]:
    """An annotated workbook read back: the book, its rows' reviews (row index → entry) and problems."""
    from ..outputs.readback import read_annotated

    book = read_annotated(path)
    entries: dict[int, ReviewEntry] = {}
    problems = list(book.problems)
    for i, row in enumerate(book.rows):
        if getattr(row, "entry_problem", None) is not None:
            problems.append(row.entry_problem)
        elif not is_cleared(row.review_entry):
            entries[i] = row.review_entry
    return book, entries, problems
