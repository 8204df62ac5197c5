"""The line fields as data: each field's name, zh-TW title, header aliases and the parser that reads its cell.

:data:`FIELDS` is the one table the row loop walks (:mod:`budget.exports.rows`): for every field the
header mapped to a column, the loop hands the cell to the field's parser, which writes the line.
Fields whose values are codes (``code=True``) keep numbers as text and are flagged afterwards
(:func:`restore_codes`). Adding a field means one entry here and one alias list in
:mod:`budget.exports.columns`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from ..models import LINE, LineItem
from ..money import AmountError, canonical_unit, parse_amount
from ..normalize import split_account
from ..problems import ERROR, WARNING, BudgetError
from .columns import FIELD_ALIASES, FIELD_NAMES_ZH
from .flags import (FLAG_AMOUNT_TEXT, FLAG_AMOUNT_UNREADABLE, FLAG_CODE_NUMBER, FLAG_FORMULA, FLAG_FORMULA_NO_VALUE,
                    FLAG_FORMULA_ZERO)
from .header import year_of_cell

#: Most significant digits an amount may have: what a workbook's numbers (and its own formulas) hold exactly.
AMOUNT_DIGITS = 15
_AMOUNT_LIMIT = Decimal(10) ** AMOUNT_DIGITS
_INT_LIMIT = 10 ** AMOUNT_DIGITS
_PLAIN_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", re.ASCII)


def text(value: Any) -> str:
    """A cell as the text of a line field (numbers without a trailing .0, dates in ISO form)."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15g")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def excel_float(value: float) -> Any:
    """A float cell as Excel shows it: at most 15 significant digits (0.30000000000000004 → 0.3)."""
    if value.is_integer():
        return int(value)
    return float(format(value, ".15g"))


@functools.lru_cache(maxsize=4096)
def canonical_unit_cached(text_: str) -> str | None:
    """:func:`budget.money.canonical_unit`, cached (a unit column repeats a few values)."""
    return canonical_unit(text_)


@functools.lru_cache(maxsize=65536)
def _split_account_cached(text_: str) -> tuple[str, str]:
    return split_account(text_)


class SheetReading:
    """What the field parsers of one sheet share: where they are, the row-problem report, formulas, codes.

    ``text_unit`` and ``unit_cell`` are per-row scratch values (reset by the row loop for each row).
    """

    __slots__ = ("display", "sheet", "report", "formulas", "is_csv", "amount_title", "lines", "code_cells",
                 "years_seen", "text_unit", "unit_cell")

    def __init__(self, display: str, sheet: str, report: Any, formulas: dict, is_csv: bool, amount_title: str
                 ) -> None:
        self.display, self.sheet, self.report = display, sheet, report
        self.formulas, self.is_csv, self.amount_title = formulas, is_csv, amount_title
        self.lines: list[LineItem] = []
        self.code_cells: dict[tuple[int, int], tuple[int, str]] = {}  # (row, col) -> (index in lines, field)
        self.years_seen: set[int] = set()
        self.text_unit: str | None = None
        self.unit_cell: Any = None


Parser = Callable[[Any, LineItem, SheetReading, int], None]


@dataclass(frozen=True, slots=True)
class Field:
    """One line field: its name, zh-TW title, the header titles that name it, and how its cell is read."""

    name: str
    title_zh: str
    aliases: tuple[str, ...]
    parse: Parser
    code: bool = False  # a code: kept as text; a number here is flagged and zero-padded if the file says


# --- the parsers: (cell value, the line being built, the sheet, 0-based column) -------------------

def _description(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    line.description = value if type(value) is str else text(value)


def _account_code(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    line.account_code = text(value).strip()


def _account(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    t = text(value).strip()
    if t:
        code, name = _split_account_cached(t)
        if code and not line.account_code:
            line.account_code = code
        line.account = name if code else t


def _plan(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    line.plan = text(value)


def _branch(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    line.branch = text(value)


def _agency(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    line.agency = text(value)


@functools.lru_cache(maxsize=1024, typed=True)  # typed: True and 1, 116 and 116.0 are different cells
def _year_of_cell_cached(value: Any) -> int | None:
    return year_of_cell(value)


def _year(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    try:
        y = _year_of_cell_cached(value)
    except TypeError:  # an unhashable value cannot come from a sheet, but never fail on it
        y = year_of_cell(value)
    if y is not None:
        line.year = y
        sheet.years_seen.add(y)


def _unit(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    sheet.unit_cell = value  # resolved after the amount, which may name its own unit


def _amount(value: Any, line: LineItem, sheet: SheetReading, col: int) -> None:
    """Parse the amount strictly; a formula without a value, unreadable text or an absurd number is reported."""
    rnum, report = line.row, sheet.report
    formula = sheet.formulas.get((rnum, col + 1)) if sheet.formulas else None
    if formula is not None and not formula.has_value:
        line.flags += (FLAG_FORMULA_NO_VALUE,)
        if line.kind == LINE:
            report.add("formula-no-value",
                       "金額是公式但檔案中沒有計算結果（常見於程式產生的檔案），無法得知金額、未計入；"
                       "請用 Excel 開啟、重新計算並存檔後再試。",
                       "the amount is a formula without a cached value; not counted", ERROR, rnum, sheet.amount_title)
        else:
            report.add("formula-no-value-total", "小計列的金額是公式但沒有計算結果，無法核對小計。",
                       "a total row's formula has no cached value", WARNING, rnum, sheet.amount_title)
        return
    if value is None:
        return
    t = type(value)
    amount: Decimal | None
    if t is int:
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise _absurd(value, line, sheet)
        amount = Decimal(value)
    elif t is str and _PLAIN_AMOUNT.fullmatch(value):
        amount = Decimal(value.replace(",", ""))  # the common case; same result as parse_amount
        if len(value) > AMOUNT_DIGITS and not _holdable(amount):
            raise _absurd(value, line, sheet)
        if not sheet.is_csv and formula is None:
            line.flags += (FLAG_AMOUNT_TEXT,)
    else:
        try:
            amount, sheet.text_unit = parse_amount(excel_float(value) if t is float else value)
        except (AmountError, OverflowError, ValueError):
            _unreadable(value, line, sheet)
            return
        if amount is not None and not _holdable(amount):
            raise _absurd(value, line, sheet)
        if t is str and not sheet.is_csv and amount is not None and formula is None:
            line.flags += (FLAG_AMOUNT_TEXT,)
    line.amount = amount
    if formula is not None and amount is not None:
        line.flags += (FLAG_FORMULA,)
        if amount == 0:
            line.flags += (FLAG_FORMULA_ZERO,)
            report.add("formula-cached-zero",
                       "金額是公式，檔案中存的計算結果為 0（程式產生的檔案常如此）；請確認實際金額。",
                       "the amount is a formula whose cached value is 0; check it", WARNING, rnum, sheet.amount_title)


def _holdable(amount: Decimal) -> bool:
    """At most :data:`AMOUNT_DIGITS` significant digits and below 10^15 in its unit (Decimal's own digits,
    never ``normalize()``, which would round to the context's precision first)."""
    if not amount.is_finite() or abs(amount) >= _AMOUNT_LIMIT:
        return False
    digits = amount.as_tuple().digits
    if len(digits) <= AMOUNT_DIGITS:
        return True
    first, last = 0, len(digits)
    while first < last and digits[first] == 0:
        first += 1
    while last > first and digits[last - 1] == 0:
        last -= 1
    return last - first <= AMOUNT_DIGITS


def _absurd(value: Any, line: LineItem, sheet: SheetReading) -> BudgetError:
    shown = text(value)
    shown = shown if len(shown) <= 40 else f"{shown[:20]}…（共 {len(shown):,} 字）"
    return BudgetError.one(
        "amount-too-large",
        f"金額「{shown}」超過預算能容納的範圍（最多 {AMOUNT_DIGITS} 位有效數字、小於 10 的 {AMOUNT_DIGITS} 次方）；"
        "試算表自己的公式也無法精確計算這樣的數字。請確認此儲存格。",
        f"the amount {shown!r} is beyond what a budget can hold (more than {AMOUNT_DIGITS} significant digits "
        "or too large)", file=sheet.display, sheet=sheet.sheet or None, row=line.row, column=sheet.amount_title)


def _unreadable(value: Any, line: LineItem, sheet: SheetReading) -> None:
    line.flags += (FLAG_AMOUNT_UNREADABLE,)
    shown = text(value)
    if len(shown) > 60:
        shown = f"{shown[:30]}…（共 {len(shown):,} 字）"
    if line.kind == LINE:
        sheet.report.add("amount-unreadable",
                         f"金額「{shown}」無法解讀為金額，未計入；請修正此儲存格（例如 1,234、(1,234)、△1,234）。",
                         f"amount {shown!r} is not a readable amount; not counted", ERROR, line.row, sheet.amount_title)
    else:  # a total is never counted: only its check is lost
        sheet.report.add("total-amount-unreadable", f"小計列的金額「{shown}」無法解讀，無法核對小計。",
                         f"a total row's amount {shown!r} is not readable", WARNING, line.row, sheet.amount_title)


def _field(name: str, parse: Parser, code: bool = False) -> Field:
    return Field(name, FIELD_NAMES_ZH[name], FIELD_ALIASES[name], parse, code)


#: Every field, in the order the row loop reads them (a 科目代碼 column before 用途別科目, which may hold one).
FIELDS: tuple[Field, ...] = (
    _field("description", _description),
    _field("amount", _amount),
    _field("account_code", _account_code, code=True),
    _field("account", _account, code=True),
    _field("plan", _plan, code=True),
    _field("branch", _branch, code=True),
    _field("agency", _agency),
    _field("year", _year),
    _field("unit", _unit),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
assert set(FIELD_BY_NAME) == set(FIELD_ALIASES), "every mapped field has a parser"


def restore_codes(code_widths: Callable | None, sheet: SheetReading, titles: tuple[str, ...]) -> None:
    """Codes stored as numbers: zero-pad them from the cell's number format where the file says, and flag."""
    code_cells, lines = sheet.code_cells, sheet.lines
    widths = code_widths(set(code_cells)) if code_widths else {}
    for (rnum, col), (index, fld) in code_cells.items():
        line = lines[index]
        value = line.cells[col - 1]
        if isinstance(value, float) and not value.is_integer():
            continue  # not a code at all; left as text
        digits = str(int(value)) if isinstance(value, (int, float)) else text(value)
        width = widths.get((rnum, col))
        padded = digits.zfill(width) if width else digits
        if fld == "account":
            code, name = split_account(padded)
            if code:
                if not line.account_code or line.account_code == digits:
                    line.account_code = code
                line.account = name
        else:
            setattr(line, fld, padded)
        if FLAG_CODE_NUMBER not in line.flags:
            line.flags += (FLAG_CODE_NUMBER,)
        if width:
            msg = f"代碼以數字 {digits} 儲存，已依儲存格格式補回前導 0 為 {padded}；建議將此欄設為文字格式。"
        else:
            msg = f"代碼以數字 {digits} 儲存，前導 0 可能已遺失；建議將此欄設為文字格式後重新匯出。"
        sheet.report.add("code-stored-as-number", msg, f"code stored as a number ({digits} -> {padded})", WARNING,
                         rnum, titles[col - 1] or None)
