"""The one place the web pages use the review grammar: a browser review as a ``ReviewEntry``, its decision,
and annotated workbooks written with (or read back for) the reviews.

``budget.review`` is being rebuilt around ``ReviewEntry``/``review_decision`` and
``write_annotated_workbook(..., reviews=...)``. Until that lands this module falls back on today's
grammar (``parse_override``/``decide``): a browser review becomes a 覆核 text such as
``gender-training 40%`` on a decision replaced before writing, which ``report`` reads back the same way.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Mapping

from ..models import REVIEW, TOTAL, Decision, LineItem
from ..money import AmountError, convert, format_amount, parse_amount
from ..normalize import fold
from ..problems import BudgetError, Problem
from ..rules import RuleSet
from .. import review as _review

#: What a reviewer picks for "not gender budget".
NOT_COUNTED = "不列入"

NEW_API = hasattr(_review, "ReviewEntry") and hasattr(_review, "review_decision")

if NEW_API:  # pragma: no cover - switched on when budget.review gains the new API
    ReviewEntry = _review.ReviewEntry
else:
    @dataclass(frozen=True)
    class ReviewEntry:  # type: ignore[no-redef]
        """A reviewer's entry for one line (same fields as the coming ``budget.review.ReviewEntry``)."""

        category: str = ""             # id, Chinese name, or 不列入; "" = none
        amount: Decimal | None = None  # 覆核計入數, in the line's own unit
        percent: Decimal | None = None  # 0–100
        note: str = ""


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
            raise ReviewError(f"看不懂覆核計入數「{amount}」，請填數字（本行的金額單位）") from None
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
    if NEW_API:  # pragma: no cover
        try:
            return _review.review_decision(entry, line, decision, rules)
        except _review.ReviewEntryError as exc:
            raise ReviewError(exc.message, exc.hint) from None
    try:
        return _review.decide(line, decision, _override(entry, line, decision, rules), rules, entry.note)
    except _review.ReviewEntryError as exc:
        raise ReviewError(exc.message, exc.hint) from None


def _override(entry: ReviewEntry, line: LineItem, decision: Decision, rules: RuleSet) -> Any:
    """Today's Override for an entry, with the checks the coming grammar makes."""
    if not entry.category:
        raise ReviewError("請選擇覆核類別（或「不列入」）")
    if entry.amount is not None and entry.percent is not None:
        raise ReviewError("覆核計入數與覆核比例請擇一填寫")
    if line.kind == TOTAL:
        raise ReviewError("合計/小計列不計入，不能覆核")
    key = fold(entry.category)
    if entry.category == NOT_COUNTED or key in _review.NONE_WORDS:
        if entry.amount is not None or entry.percent is not None:
            raise ReviewError("「不列入」不需填計入數或比例")
        return _review.Override("不計入", None)
    category = next((c for c in rules.categories if fold(c.id) == key or fold(c.name) == key), None)
    if category is None:
        raise ReviewError(f"類別「{entry.category}」不在規則檔中")
    if entry.percent is not None:
        if not Decimal(0) <= entry.percent <= Decimal(100):
            raise ReviewError(f"覆核比例 {format_amount(entry.percent)}% 不在 0 到 100 之間")
        return _review.Override(f"{category.id} {format_amount(entry.percent)}%", category.id,
                                share_percent=entry.percent)
    amount = entry.amount
    if amount is None and decision.status == REVIEW and decision.category and line.amount is not None \
            and decision.gender_amount != line.amount:
        amount = abs(decision.gender_amount)  # a bare category counts the suggested amount (建議數)
    if amount is None:
        return _review.Override(category.id, category.id)
    if amount < 0:
        raise ReviewError("覆核計入數不可為負數")
    return _review.Override(f"{category.id} {format_amount(amount)}", category.id, amount=amount)


# --- workbooks ---------------------------------------------------------------------------------

def write_workbook(path: Path, run: Any, reviews: Mapping[int, ReviewEntry]) -> list[Problem]:
    """Write ``run``'s annotated workbook to ``path`` (.xlsx or .ods by suffix) with ``reviews`` (line index →
    entry) in its review columns; returns problems of reviews that no longer apply (they are left out)."""
    from ..outputs.annotated import write_annotated_workbook

    path = Path(path)
    problems: list[Problem] = []
    if NEW_API:  # pragma: no cover
        names = {c.id: c.name for c in run.rules.categories}  # 覆核類別 shows the drop-down's Chinese names
        named = {i: replace(e, category=names.get(e.category, e.category)) for i, e in reviews.items()}

        def write(target: Path) -> None:
            write_annotated_workbook(target, run, reviews=named)
    else:
        reviewed, problems = _reviewed_run(run, reviews)

        def write(target: Path) -> None:
            write_annotated_workbook(target, reviewed)
    with _collector_paused():
        if path.suffix.lower() != ".ods":
            write(path)
        elif not NEW_API:  # today's writer only writes .xlsx
            _write_ods(path, write)
        else:  # pragma: no cover
            try:
                write(path)
            except NotImplementedError:  # the writer has no OpenDocument backend yet
                _write_ods(path, write)
    return problems


@contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while a big workbook is written (as the pipeline does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _reviewed_run(run: Any, reviews: Mapping[int, ReviewEntry]) -> tuple[Any, list[Problem]]:
    """A copy of ``run`` whose decisions follow ``reviews``, totals recomputed."""
    from ..engine.totals import compute_totals

    decisions = list(run.decisions)
    problems: list[Problem] = []
    for i, entry in reviews.items():
        line = run.lines[i]
        try:
            decisions[i] = review_decision(entry, line, run.decisions[i], run.rules)
        except ReviewError as exc:
            problems.append(Problem("review-not-applied", f"網頁覆核未採用：{exc.message}", "a browser review was not applied",
                                    file=line.file or None, sheet=line.sheet or None, row=line.row))
    totals = compute_totals(run.lines, decisions, run.rules, unit=run.totals.unit, sources=run.sources)
    return replace(run, decisions=decisions, totals=totals, problems=list(run.problems) + problems), problems


def _write_ods(path: Path, write: Callable[[Path], None]) -> None:
    """OpenDocument through LibreOffice (the .xlsx converted) until the writer offers it itself."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise BudgetError.one("ods-unavailable", "此電腦未安裝 LibreOffice，暫時無法產出 .ods；請下載 .xlsx",
                              "OpenDocument output needs LibreOffice here")
    with tempfile.TemporaryDirectory() as folder:
        xlsx = Path(folder) / (path.stem + ".xlsx")
        write(xlsx)
        done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{folder}/profile",
                               "--convert-to", "ods", "--outdir", folder, str(xlsx)],
                              capture_output=True, timeout=600, check=False)
        produced = Path(folder) / (path.stem + ".ods")
        if done.returncode != 0 or not produced.is_file():
            raise BudgetError.one("ods-unavailable", "LibreOffice 轉換 .ods 失敗；請下載 .xlsx", "conversion failed")
        shutil.move(str(produced), path)


def workbook_reviews(path: Path, rules: RuleSet) -> tuple[Any, dict[int, ReviewEntry], list[Problem]]:
    """An annotated workbook read back: the book, its rows' reviews (row index → entry) and problems."""
    from ..outputs.readback import read_annotated

    book = read_annotated(path)
    entries: dict[int, ReviewEntry] = {}
    problems = list(book.problems)
    for i, row in enumerate(book.rows):
        if NEW_API:  # pragma: no cover
            if getattr(row, "entry_problem", None) is not None:
                problems.append(row.entry_problem)
            elif not is_cleared(row.review_entry):
                entries[i] = row.review_entry
            continue
        if not str(row.review or "").strip():
            continue
        try:
            override = _review.parse_override(row.review, rules)
        except _review.ReviewEntryError as exc:
            problems.append(exc.problem(**row.review_location()))
            continue
        if override is None:
            continue
        amount = override.amount
        if amount is not None and override.unit:
            amount = convert(amount, override.unit, row.line.unit)
        entries[i] = ReviewEntry(category=override.category or NOT_COUNTED, amount=amount,
                                 percent=override.share_percent, note=str(row.review_note or ""))
    return book, entries, problems
