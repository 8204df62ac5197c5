"""Cell safety for every workbook the tool writes: text stays text, nothing is cut or dropped silently.

Input text is always a string cell (never a formula, link or error value; a quote prefix on text a
spreadsheet would take for a formula when typed), text over the 32,767-character cell limit and
control characters become problems (never a silent cut), numbers a spreadsheet cannot hold exactly
are written as text (and said so), and every writer return code that means "not written" raises.
Every format names the CJK font (:data:`FONT`), so the whole workbook prints in one face.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from ..money import format_amount
from ..problems import ERROR, WARNING, BudgetError, Problem

#: Longest text a cell holds (in UTF-16 code units, as Excel counts).
MAX_CELL_TEXT = 32767
#: Most significant digits a spreadsheet number keeps; longer numbers are written as text.
MAX_DIGITS = 15
#: First characters that make a spreadsheet treat typed text as a formula; such cells get a quote prefix.
FORMULA_STARTS = frozenset("=+-@\t\r#{")
#: The font every cell names: 微軟正黑體 (Microsoft JhengHei) where installed; the Big5 charset
#: (136) tells a reader without it to fall back to a Traditional Chinese face (LibreOffice: Noto Sans CJK TC).
FONT = {"font_name": "Microsoft JhengHei", "font_charset": 136, "font_size": 10}
#: What every format starts from: the font, and text at the top of its cell (rows grow for wrapped text).
BASE = {**FONT, "valign": "top"}

_CONTROL = {c: chr(0x2400 + c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
_CONTROL[0x7F] = "\u2421"

#: Named styles; every one also carries :data:`FONT`.
STYLES: dict[str, dict[str, Any]] = {
    "plain": {},
    "text": {"num_format": "@"},
    "header": {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"},
    "bold": {"bold": True},
    "title": {"bold": True, "font_size": 14},
    "title2": {"bold": True, "font_size": 12},
    "wrap": {"text_wrap": True, "valign": "top"},
    "amount": {"num_format": "#,##0"},
    "amount_total": {"num_format": "#,##0", "bold": True},
    "percent": {"num_format": "0%"},
    "percent2": {"num_format": "0.00%"},
    "date": {"num_format": "yyyy-mm-dd"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm:ss"},
    "time": {"num_format": "hh:mm:ss"},
    "link": {"font_color": "#0563C1", "underline": 1},
    "input": {"bg_color": "#FFFBEA", "border": 1, "border_color": "#BFBFBF", "text_wrap": True, "valign": "top"},
    "input_amount": {"bg_color": "#FFFBEA", "border": 1, "border_color": "#BFBFBF", "num_format": "#,##0.####"},
    "input_percent": {"bg_color": "#FFFBEA", "border": 1, "border_color": "#BFBFBF", "num_format": "0.##%"},
    "status_matched": {"bg_color": "#C6EFCE", "font_color": "#006100", "bold": True},
    "status_review": {"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True},
    "status_unmatched": {},
    "status_excluded": {"font_color": "#808080", "italic": True},
}


def display_width(text: str) -> int:
    """How many columns ``text`` takes on screen: CJK wide/full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how a spreadsheet counts a cell's characters)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_prefix(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-16 units (never splitting a character)."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i]
    return text


def clean_text(text: str) -> tuple[str, list[str]]:
    """``text`` made safe for a cell: control characters shown as ␇-style symbols, lone surrogates as �.

    Returns the text and what was changed (``control`` / ``surrogate``); tab, newline and CR stay.
    """
    if text.isprintable():
        return text, []
    changed: list[str] = []
    out = []
    for ch in text:
        code = ord(ch)
        if code in _CONTROL:
            out.append(_CONTROL[code])
            if "control" not in changed:
                changed.append("control")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
            if "surrogate" not in changed:
                changed.append("surrogate")
        else:
            out.append(ch)
    return "".join(out), changed


def safe_text(text: str) -> tuple[str, list[str]]:
    """``text`` made fit for a cell, and what was changed: ``control``, ``surrogate``, ``too-long``.

    Control characters become visible symbols (␇), lone surrogates �, tab/newline/CR stay; text over
    :data:`MAX_CELL_TEXT` is cut to it (the caller records :func:`cell_problems`).
    """
    text, changed = clean_text(text)
    if len(text) > MAX_CELL_TEXT // 2 and utf16_len(text) > MAX_CELL_TEXT:
        text = utf16_prefix(text, MAX_CELL_TEXT)
        changed.append("too-long")
    return text, changed


def needs_quote(text: str) -> bool:
    """Would a spreadsheet take ``text``, typed into a cell, for a formula?"""
    return bool(text) and text[0] in FORMULA_STARTS


def cell_problems(changed: list[str], full_length: int, **where: Any) -> list[Problem]:
    """The problems recording what :func:`safe_text` changed in a cell at ``where`` (file, sheet, row, column)."""
    problems = []
    if "control" in changed or "surrogate" in changed:
        problems.append(Problem("control-character-replaced", "文字含控制字元，已以可見符號（如 ␇）取代",
                                "control characters were replaced by visible symbols", WARNING, **where))
    if "too-long" in changed:
        problems.append(Problem(
            "text-too-long", f"文字長度 {full_length:,} 字超過儲存格上限 32,767 字，活頁簿中只保留前 32,767 字",
            "text longer than a cell holds (32,767); only its beginning is in the workbook", ERROR,
            hint="完整內容請見原始檔或 report --json", **where))
    return problems


def fits_number(value: Decimal) -> bool:
    """Can a spreadsheet number hold ``value`` without losing a digit?"""
    if not value.is_finite():
        return False
    return len(value.normalize().as_tuple().digits) <= MAX_DIGITS


#: Integers strictly within this bound have at most 15 digits: a spreadsheet holds them exactly.
_EXACT_INT = 10**MAX_DIGITS


def integral(value: Any) -> int | None:
    """``value`` as an int if it is an int or a whole Decimal of at most 15 digits (else None), cheaply.

    The common case of :meth:`CellWriter.number` without Decimal introspection: such a value fits a
    spreadsheet number, shows no decimals and is written as this int.
    """
    kind = type(value)
    if kind is int:
        return value if -_EXACT_INT < value < _EXACT_INT else None
    if kind is Decimal and value.is_finite():
        whole = int(value)
        if whole == value and -_EXACT_INT < whole < _EXACT_INT:
            return whole
    return None


def cached(value: Decimal) -> int | float:
    """A Decimal as the number a formula's cached value should carry."""
    return int(value) if value == value.to_integral_value() else float(value)


def decimals_of(value: Decimal) -> int:
    """How many decimals ``value`` shows (at most 10)."""
    exponent = value.normalize().as_tuple().exponent
    return min(-exponent, 10) if isinstance(exponent, int) and exponent < 0 else 0


def quote_sheet(sheet: str) -> str:
    """A sheet name as a formula reference writes it (``'明細'``)."""
    return "'" + sheet.replace("'", "''") + "'"


def not_written(rc: int, sheet: Any, row: int, col: int) -> None:
    """Raise: the writer returned ``rc`` (< 0) for cell ``row``/``col`` — it was not written."""
    name = getattr(sheet, "name", str(sheet))
    raise BudgetError.one(
        "cell-not-written", f"工作表「{name}」第 {row + 1} 列第 {col + 1} 欄無法寫入（寫入程式回傳 {rc}），未產出檔案",
        "the spreadsheet writer refused a cell; nothing was written", sheet=name, row=row + 1, column=str(col + 1),
        hint="超出工作表上限（1,048,576 列、16,384 欄）或內容無法寫入")


#: Where a written value came from, for problems: a location dict, or (line, column title).
Where = Any


def location(where: Where) -> dict[str, Any]:
    """Problem location fields of ``where`` (a dict, or a (line, column title) pair)."""
    if isinstance(where, tuple):
        line, column = where
        return {"file": line.file or None, "sheet": line.sheet or None, "row": line.row, "column": column or None}
    return dict(where or {})


class CellWriter:
    """Writes cells safely into one workbook (from :func:`budget.outputs.backends.open_book`);
    collects the problems it finds in :attr:`problems`."""

    def __init__(self, book: Any, problems: list[Problem] | None = None) -> None:
        self.book = book
        self.problems: list[Problem] = problems if problems is not None else []
        self._formats: dict[tuple, Any] = {}

    def fmt(self, kind: str | None, quote: bool = False, decimals: int = 0, extra: tuple = ()) -> Any:
        """A cached format: style ``kind`` (see :data:`STYLES`) with the font; ``quote`` adds the quote prefix."""
        key = (kind, quote, decimals, extra)
        f = self._formats.get(key)
        if f is None:
            props = {**BASE, **STYLES.get(kind or "plain", {})}
            if kind in ("amount", "amount_total") and decimals:
                props["num_format"] = "#,##0." + "0" * decimals
            if quote:
                props["quote_prefix"] = True
            props.update(dict(extra))
            f = self._formats[key] = self.book.add_format(props)
        return f

    def index_formats(self) -> None:
        """Fix the style index of every format made so far (.xlsx: as if each had been used once)."""
        for f in self._formats.values():
            index = getattr(f, "_get_xf_index", None)
            if index is not None:
                index()

    def text(self, ws: Any, row: int, col: int, value: str, kind: str | None = None, where: Where = None) -> None:
        """Write ``value`` as a string cell, cleaned and within the cell limit; problems if ``where``."""
        if not (value.isprintable() and len(value) <= MAX_CELL_TEXT // 2):  # else the common case, cheaply
            value = self._safe_text(value, where)
        if value and ws.write_string(row, col, value, self.fmt(kind, value[0] in FORMULA_STARTS)):
            not_written(-1, ws, row, col)

    def _safe_text(self, value: str, where: Where) -> str:
        text, changed = safe_text(value)
        if changed and (where is not None or "too-long" in changed):
            self.problems.extend(cell_problems(changed, utf16_len(value), **location(where)))
        return text

    def number(self, ws: Any, row: int, col: int, value: Decimal | int | float, kind: str | None = None,
               where: Where = None) -> bool:
        """Write a number; one a spreadsheet cannot hold exactly is written as text. True if numeric."""
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.text(ws, row, col, repr(value), None, where)
                return False
            decimals = 0 if value.is_integer() else min(len(repr(value).partition(".")[2]), 10)
            if ws.write_number(row, col, value, self.fmt(kind, decimals=decimals)):
                not_written(-1, ws, row, col)
            return True
        whole = integral(value)
        if whole is not None:  # the common case: no Decimal introspection
            if ws.write_number(row, col, whole, self.fmt(kind)):
                not_written(-1, ws, row, col)
            return True
        dec = value if isinstance(value, Decimal) else Decimal(value)
        if not fits_number(dec):
            if where is not None:  # said once, where the number comes from (derived figures say nothing more)
                self.problems.append(Problem(
                    "number-as-text", f"數值 {format_amount(dec)} 超過 15 位有效數字，以文字寫入以免失真",
                    "a number with more than 15 significant digits was written as text", WARNING, **location(where)))
            self.text(ws, row, col, format_amount(dec), None)
            return False
        decimals = decimals_of(dec)
        if ws.write_number(row, col, int(dec) if not decimals else dec, self.fmt(kind, decimals=decimals)):
            not_written(-1, ws, row, col)
        return True

    def percent(self, ws: Any, row: int, col: int, percent: Decimal, kind: str | None = None) -> None:
        """Write ``percent`` (40 for 40 %) as the fraction 0.4 with a percent format."""
        kind = kind or ("percent" if percent == percent.to_integral_value() else "percent2")
        if ws.write_number(row, col, float(percent / 100), self.fmt(kind)):
            not_written(-1, ws, row, col)

    def formula(self, ws: Any, row: int, col: int, formula: str, value: Decimal | int | float | str,
                kind: str | None = None) -> None:
        """Write one of the tool's own formulas with its computed (cached) value."""
        if isinstance(value, Decimal):
            whole = integral(value)
            if whole is not None:
                fmt, value = self.fmt(kind), whole
            else:
                fmt = self.fmt(kind, decimals=decimals_of(value)) if kind in ("amount", "amount_total") else self.fmt(kind)
                value = cached(value)
        else:
            fmt = self.fmt(kind)
        if ws.write_formula(row, col, formula, fmt, value):
            not_written(-1, ws, row, col)

    def link(self, ws: Any, row: int, col: int, sheet: str, cell: str, text: str) -> None:
        """An internal link to ``sheet``!``cell`` showing ``text``."""
        if ws.write_url(row, col, f"internal:{quote_sheet(sheet)}!{cell}", self.fmt("link"), text):
            not_written(-1, ws, row, col)

    def value(self, ws: Any, row: int, col: int, value: Any, amount: bool, where: Where) -> None:
        """Write an original cell value by its type (text stays text, numbers numbers, dates dates)."""
        if value is None:
            return
        if isinstance(value, str):
            self.text(ws, row, col, value, "text", where)
            return
        if isinstance(value, bool):
            rc = ws.write_boolean(row, col, value, self.fmt(None))
        elif isinstance(value, (int, float, Decimal)):
            self.number(ws, row, col, value, "amount" if amount else None, where)
            return
        elif isinstance(value, datetime):
            has_time = (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0)
            rc = ws.write_datetime(row, col, value.replace(tzinfo=None), self.fmt("datetime" if has_time else "date"))
        elif isinstance(value, date):
            rc = ws.write_datetime(row, col, datetime(value.year, value.month, value.day), self.fmt("date"))
        elif isinstance(value, dtime):
            rc = ws.write_datetime(row, col, value, self.fmt("time"))
        else:
            self.text(ws, row, col, str(value), "text", where)
            return
        if rc:
            not_written(rc, ws, row, col)
