"""The annotated summary workbook (摘要/明細/待覆核/規則/紀錄/資料), built from scratch with xlsxwriter.

Input text is always written as a string cell (``write_string``; a quote prefix on text that a
spreadsheet could take for a formula), never as a formula, hyperlink or error value. The only
formulas are the tool's own totals on 摘要, each carrying its computed value. Text over 32,767
characters and control characters are never lost silently: each becomes a problem.
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import layout
from ..check import describe_conditions
from ..exports.columns import field_for_header
from .layout import ADDED_COLUMNS, DATA_COLUMNS, DATA_HEADER, OFFICIAL_CLASSES
from ..models import EXCLUDED, LINE, MATCHED, REVIEW, STATUS_LABELS, UNMATCHED, Decision, LineItem
from ..money import convert, format_amount
from ..problems import ERROR, WARNING, Problem

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import RunResult

#: Longest text a cell holds (in UTF-16 code units, as Excel counts).
MAX_CELL_TEXT = 32767
#: Most significant digits a spreadsheet number keeps; longer numbers are written as text.
MAX_DIGITS = 15
#: Above this many lines the workbook is written in xlsxwriter's constant-memory mode.
CONSTANT_MEMORY_ABOVE = 50_000
#: First characters that make a spreadsheet treat typed text as a formula; such cells get a quote prefix.
FORMULA_STARTS = frozenset("=+-@\t\r#{")

_CONTROL = {c: chr(0x2400 + c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
_CONTROL[0x7F] = "\u2421"
#: The columns after the original ones on 明細: the amount in the workbook's unit, then the layout's.
_DETAIL_ADDED = (("amount", layout.AMOUNT_TITLE), *ADDED_COLUMNS)
_ADDED_TITLES = dict(_DETAIL_ADDED)
_NONE_ENTRY = "none"


@dataclass
class WorkbookReport:
    """What writing the workbook found: problems (text cut, characters replaced…) and the 明細 total."""

    path: str
    rows: int
    workbook_total: Decimal
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


def write_annotated_workbook(path: str | Path, run: "RunResult", *,
                             progress: Callable[[str, int, int | None], None] | None = None) -> WorkbookReport:
    """Write the annotated workbook of ``run`` to ``path`` (use :func:`budget.safe_write.atomic_write`).

    Sheets, in order: 摘要 (totals as formulas over 明細 with their computed values, chart), 明細
    (every input row with its original columns, then :data:`budget.layout.ADDED_COLUMNS`), 待覆核,
    規則, 紀錄 and the hidden 資料 (:data:`budget.layout.DATA_COLUMNS`, row for row with 明細).
    """
    return _Writer(Path(path), run, progress).write()


def display_width(text: str) -> int:
    """How many columns ``text`` takes on screen: CJK wide/full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _utf16_prefix(text: str, limit: int) -> str:
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


def _fits_number(value: Decimal) -> bool:
    """Can a spreadsheet number hold ``value`` without losing a digit?"""
    if not value.is_finite():
        return False
    normalized = value.normalize()
    return len(normalized.as_tuple().digits) <= MAX_DIGITS


def _cached(value: Decimal) -> int | float:
    """A Decimal as the number a formula's cached value should carry."""
    return int(value) if value == value.to_integral_value() else float(value)


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


DATA_CHUNK = 16_000  # characters of a 資料 record per cell (well within 32,767 UTF-16 units)


class _Writer:
    """One workbook being written; holds formats and the problems found while writing."""

    def __init__(self, path: Path, run: "RunResult", progress: Callable[..., None] | None) -> None:
        self.path = path
        self.run = run
        self.progress = progress
        self.unit = run.totals.unit
        self.problems: list[Problem] = []
        self._formats: dict[tuple, Any] = {}
        self.workbook_total = Decimal(0)

    # --- formats -------------------------------------------------------------------------------

    def fmt(self, kind: str | None, quote: bool = False, decimals: int = 0) -> Any:
        """A cached format: ``kind`` names a style (see :data:`_STYLES`); ``quote`` adds the quote prefix."""
        if kind is None and not quote:
            return None
        key = (kind, quote, decimals)
        f = self._formats.get(key)
        if f is None:
            props = dict(_STYLES.get(kind or "", {}))
            if kind in ("amount", "amount_total") and decimals:
                props["num_format"] = "#,##0." + "0" * decimals
            if quote:
                props["quote_prefix"] = True
            f = self._formats[key] = self.wb.add_format(props)
        return f

    # --- cells ---------------------------------------------------------------------------------

    def text(self, ws: Any, row: int, col: int, value: str, kind: str | None = None,
             where: Where = None) -> None:
        """Write ``value`` as a string cell, cleaned and within the cell limit; problems if ``where``."""
        if value.isprintable() and len(value) <= MAX_CELL_TEXT // 2:  # the common case, checked cheaply
            if value:
                ws.write_string(row, col, value, self.fmt(kind, value[0] in FORMULA_STARTS))
            return
        text, changed = clean_text(value)
        if changed and where is not None:
            self.problems.append(Problem(
                "control-character-replaced", "文字含控制字元，已以可見符號（如 ␇）取代",
                "control characters were replaced by visible symbols", WARNING, **_location(where)))
        if len(text) > MAX_CELL_TEXT // 2 and _utf16_len(text) > MAX_CELL_TEXT:
            full = _utf16_len(text)
            text = _utf16_prefix(text, MAX_CELL_TEXT)
            if where is not None:
                self.problems.append(Problem(
                    "text-too-long", f"文字長度 {full:,} 字超過儲存格上限 32,767 字，活頁簿中只保留前 32,767 字",
                    "text longer than a cell holds (32,767); only its beginning is in the workbook", ERROR,
                    hint="完整內容請見原始檔", **_location(where)))
        if not text:
            return
        ws.write_string(row, col, text, self.fmt(kind, text[0] in FORMULA_STARTS))

    def number(self, ws: Any, row: int, col: int, value: Decimal | int | float, kind: str | None = None,
               where: Where = None) -> bool:
        """Write a number; one a spreadsheet cannot hold exactly is written as text. True if numeric."""
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.text(ws, row, col, repr(value), None, where)
                return False
            decimals = 0 if value.is_integer() else min(len(repr(value).partition(".")[2]), 10)
            ws.write_number(row, col, value, self.fmt(kind, decimals=decimals) if kind else None)
            return True
        dec = value if isinstance(value, Decimal) else Decimal(value)
        if not _fits_number(dec):
            if where is not None:
                self.problems.append(Problem(
                    "number-as-text", f"數值 {format_amount(dec)} 超過 15 位有效數字，以文字寫入以免失真",
                    "a number with more than 15 significant digits was written as text", WARNING,
                    **_location(where)))
            self.text(ws, row, col, format_amount(dec), None)
            return False
        exponent = dec.normalize().as_tuple().exponent
        decimals = min(-exponent, 10) if isinstance(exponent, int) and exponent < 0 else 0
        ws.write_number(row, col, int(dec) if not decimals else dec, self.fmt(kind, decimals=decimals) if kind else None)
        return True

    def percent(self, ws: Any, row: int, col: int, percent: Decimal) -> None:
        """Write ``percent`` (40 for 40 %) as the fraction 0.4 with a percent format."""
        ws.write_number(row, col, float(percent) / 100,
                        self.fmt("percent" if percent == percent.to_integral_value() else "percent2"))

    def value(self, ws: Any, row: int, col: int, value: Any, amount: bool, where: Where) -> None:
        """Write an original cell value by its type (text stays text, numbers numbers, dates dates)."""
        if value is None:
            return
        if isinstance(value, str):
            self.text(ws, row, col, value, "text", where)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, (int, float, Decimal)):
            self.number(ws, row, col, value, "amount" if amount else None, where)
        elif isinstance(value, datetime):
            has_time = (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0)
            ws.write_datetime(row, col, value.replace(tzinfo=None), self.fmt("datetime" if has_time else "date"))
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), self.fmt("date"))
        elif isinstance(value, dtime):
            ws.write_datetime(row, col, value, self.fmt("time"))
        else:
            self.text(ws, row, col, str(value), "text", where)

    # --- the workbook --------------------------------------------------------------------------

    def write(self) -> WorkbookReport:
        import xlsxwriter

        from .atomic import parts_folder_for

        started = time.perf_counter()
        self.wb = xlsxwriter.Workbook(str(self.path), {
            "tmpdir": parts_folder_for(self.path),  # scratch parts beside the temp file, not in /tmp
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            # Shared strings (smaller, faster, read back exactly by every reader) unless the run is so
            # large that holding every cell in memory would hurt; then rows are flushed as written.
            "constant_memory": len(self.run.lines) > CONSTANT_MEMORY_ABOVE, "nan_inf_to_errors": False,
        })
        run = self.run
        self.wb.set_properties({
            "title": "性別預算附註工作簿", "subject": "性別預算分類結果",
            "author": f"gender-budget {run.tool_version}", "comments": f"規則檔 {run.rules.name}",
        })
        sheets = {name: self.wb.add_worksheet(name) for name in (
            layout.SUMMARY_SHEET, layout.DETAIL_SHEET, layout.REVIEW_SHEET, layout.RULES_SHEET, layout.LOG_SHEET,
            layout.DATA_SHEET)}
        sheets[layout.SUMMARY_SHEET].activate()
        sheets[layout.DATA_SHEET].hide()
        try:
            self._plan_detail()
            self._write_rules(sheets[layout.RULES_SHEET])
            self._write_lines(sheets[layout.DETAIL_SHEET], sheets[layout.DATA_SHEET], sheets[layout.REVIEW_SHEET])
            self._write_summary(sheets[layout.SUMMARY_SHEET])
            self._check_totals()
            self._write_log(sheets[layout.LOG_SHEET])
        finally:
            self.wb.close()
        return WorkbookReport(str(self.path), len(run.lines), self.workbook_total, self.problems,
                              time.perf_counter() - started)

    # --- 明細 layout -----------------------------------------------------------------------------

    def _plan_detail(self) -> None:
        """Decide 明細's columns: the union of the inputs' headers (first seen first), then the added ones."""
        self.original: list[str] = []
        index: dict[tuple[str, int], int] = {}
        self._positions: dict[tuple[int, int], tuple[tuple[str, ...], list[int]]] = {}
        amount_headers = self._amount_headers()
        self.amount_cols: set[int] = set()
        for line in self.run.lines:
            cells, columns = _cells_of(line)
            key = (id(columns), len(cells))
            if key in self._positions and self._positions[key][0] is columns:
                continue
            seen: dict[str, int] = {}
            positions = []
            for j in range(len(cells)):
                header = columns[j] if j < len(columns) and columns[j] is not None else ""
                header = str(header)
                k = seen.get(header, 0)
                seen[header] = k + 1
                if (header, k) not in index:
                    index[(header, k)] = len(self.original)
                    self.original.append(header)
                    if header and (header in amount_headers or field_for_header(header) == "amount"):
                        self.amount_cols.add(index[(header, k)])
                positions.append(index[(header, k)])
            self._positions[key] = (columns, positions)
        self.added = {key: len(self.original) + i for i, (key, _) in enumerate(_DETAIL_ADDED)}
        titles = set(_ADDED_TITLES.values())
        self.headers = [("原：" + h if h in titles else h) or "（無標題）" for h in self.original]
        renamed = [h for h in self.original if h in titles]
        if renamed:
            self.problems.append(Problem(
                "header-renamed", f"原始欄名與附註欄同名，於明細中加上「原：」：{'、'.join(renamed)}",
                "original headers that clash with added columns are shown as 原：<name>", WARNING))
        self.headers += [title for _, title in _DETAIL_ADDED]

    def _amount_headers(self) -> set[str]:
        headers: set[str] = set()
        for src in self.run.sources:
            for sheet in getattr(src, "sheets", []) or []:
                mapping = getattr(sheet, "mapping", {}) or {}
                for k, v in mapping.items():
                    if k == "amount":
                        headers.add(str(v))
                    elif v == "amount":
                        headers.add(str(k))
        return headers

    def _positions_of(self, line: LineItem) -> tuple[tuple[Any, ...], list[int]]:
        cells, columns = _cells_of(line)
        return cells, self._positions[(id(columns), len(cells))][1]

    def _col(self, key: str) -> str:
        from xlsxwriter.utility import xl_col_to_name

        return xl_col_to_name(self.added[key])

    def _range(self, key: str) -> str:
        """The absolute range of an added 明細 column over the data rows (for the 摘要 formulas)."""
        letter = self._col(key)
        last = max(len(self.run.lines) + 1, 2)
        return f"{_quote(layout.DETAIL_SHEET)}!${letter}$2:${letter}${last}"

    # --- 明細, 資料 and 待覆核, in one pass ------------------------------------------------------

    def _write_lines(self, detail: Any, data: Any, review: Any) -> None:
        run = self.run
        n = len(run.lines)
        header_fmt = self.fmt("header")
        for c, title in enumerate(self.headers):
            self.text(detail, 0, c, title, "header")
        for c, name in enumerate(DATA_HEADER):
            data.write_string(0, c, name, header_fmt)
        review_headers = ["明細列", "來源", "工作計畫", "用途別科目", "說明", f"計算金額（{self.unit}）", "建議類別代碼",
                          "建議類別", "建議性別預算數", "待覆核原因與依據", "亦符合類別"]
        for c, title in enumerate(review_headers):
            self.text(review, 0, c, title, "header")
        widths = [display_width(h) for h in self.headers]
        review_widths = [display_width(h) for h in review_headers]
        review_row = 0
        # The common original cell, short printable text, goes straight to xlsxwriter (same result as
        # self.value(), which handles everything else: numbers, dates, control characters, long text).
        write_string = detail.write_string
        plain, quoted = self.fmt("text"), self.fmt("text", True)
        for i, (line, d) in enumerate(zip(run.lines, run.decisions, strict=True)):
            r = i + 1
            cells, positions = self._positions_of(line)
            for j, value in enumerate(cells):
                c = positions[j]
                if value is None:
                    continue
                if type(value) is str and len(value) <= MAX_CELL_TEXT // 2 and value.isprintable():
                    if value:
                        write_string(r, c, value, quoted if value[0] in FORMULA_STARTS else plain)
                else:
                    self.value(detail, r, c, value, c in self.amount_cols, (line, self.original[c]))
                if i < 500:
                    widths[c] = max(widths[c], display_width(_sample(value)))
            added = self._added_values(line, d)
            for key, (kind, value) in added.items():
                c = self.added[key]
                if value is None or value == "":
                    continue
                if isinstance(value, Decimal) and kind != "percent":
                    numeric = self.number(detail, r, c, value, kind, (line, _ADDED_TITLES["amount"]) if key == "amount" else None)
                    if key == "amount" and numeric:
                        self.workbook_total += value
                elif kind == "percent":
                    self.percent(detail, r, c, value)
                else:
                    self.text(detail, r, c, value, kind)
                if i < 500:
                    widths[c] = max(widths[c], display_width(_sample(value)))
            self._data_row(data, r, line, d)
            if d.status == REVIEW:
                review_row += 1
                values = self._review_values(r, line, d, added)
                for c, value in enumerate(values):
                    if value is None or value == "":
                        continue
                    if isinstance(value, (int, Decimal)):
                        self.number(review, review_row, c, value, "amount" if c in (5, 8) else None)
                    else:
                        self.text(review, review_row, c, value, "wrap" if c == 9 else None)
                    if review_row < 500:
                        review_widths[c] = max(review_widths[c], display_width(_sample(value)))
            if self.progress is not None and (r % 2000 == 0 or r == n):
                self.progress("write", r, n)
        self._finish_detail(detail, widths, n)
        _finish_table(data, len(DATA_HEADER), n, [30, 80])
        review_widths[9] = 60
        _finish_table(review, len(review_headers), review_row, [min(max(w + 2, 8), 50) for w in review_widths])

    def _added_values(self, line: LineItem, d: Decision) -> dict[str, tuple[str | None, Any]]:
        """The added columns of one 明細 row: key → (style, value)."""
        rules = self.run.rules
        cat = rules.category(d.category) if d.category else None
        amount = None
        if line.kind == LINE and line.amount is not None:
            amount = convert(line.amount, line.unit, self.unit)
        gender = None
        if d.category and d.status in (MATCHED, REVIEW):
            gender = convert(d.gender_amount, line.unit, self.unit)
        share = None
        if d.share_percent is not None and d.status in (MATCHED, REVIEW):
            share = d.share_percent
        values: dict[str, tuple[str | None, Any]] = {
            "category_name": (None, cat.name if cat else ""),
            "category": (None, d.category or ""),
            "official_class": (None, OFFICIAL_CLASSES.get(cat.official_class, "") if cat else ""),
            "status": ("status_" + d.status, STATUS_LABELS.get(d.status, d.status)),
            "amount": ("amount", amount),
            "share_percent": ("percent", share),
            "gender_amount": ("amount", gender),
            "evidence": (None, d.explain()),
            "rule": (None, d.rule),
            "source": (None, line.source),
            "review": ("input", d.review),  # a reviewed decision carried over (classify --reviewed)
            "review_note": ("input", d.review_note),
        }
        return {key: values[key] for key in self.added}

    def _review_values(self, r: int, line: LineItem, d: Decision, added: dict[str, tuple[str | None, Any]]) -> list[Any]:
        account = f"{line.account_code} {line.account}".strip()
        return [r + 1, line.source, line.plan, account, line.description, added["amount"][1], d.category or "",
                added["category_name"][1], added["gender_amount"][1], d.explain(), "、".join(d.also_matched)]

    def _data_row(self, ws: Any, r: int, line: LineItem, d: Decision) -> None:
        """One line on 資料: its 工作計畫, then all its fields as one JSON object (see layout.DATA_HEADER)."""
        values = (
            line.file, line.sheet, line.row, line.kind, line.year, line.agency, line.plan, line.branch,
            line.account_code, line.account, line.description,
            format_amount(line.amount) if line.amount is not None else "", line.unit, d.status, d.category or "",
            format_amount(d.share_percent) if d.share_percent is not None else "", format_amount(d.gender_amount),
            d.rule, line.context,
        )
        if line.plan:
            self.text(ws, r, 0, line.plan)
        record = json.dumps({k: v for k, v in zip(DATA_COLUMNS, values) if v not in (None, "")},
                            ensure_ascii=False, separators=(",", ":"))
        # A record longer than a cell holds continues in the next cells (a description near 32,767).
        for k in range(0, len(record), DATA_CHUNK):
            ws.write_string(r, 1 + k // DATA_CHUNK, record[k:k + DATA_CHUNK])

    def _finish_detail(self, ws: Any, widths: list[int], n: int) -> None:
        last_col = len(self.headers) - 1
        inputs = {self.added["review"], self.added["review_note"]}
        for c, w in enumerate(widths):
            cap = 60 if c == self.added["evidence"] else 50
            ws.set_column(c, c, max(min(max(w + 2, 6), cap), 14 if c in inputs else 0),
                          self.fmt("input") if c in inputs else None)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(n, 1), last_col)
        if n == 0:
            return
        status = f"${self._col('status')}2"
        rows = (1, 0, n, last_col)
        ws.conditional_format(*rows, {"type": "formula", "criteria": f'={status}="{STATUS_LABELS[MATCHED]}"',
                                      "format": self.wb.add_format({"bg_color": "#E2EFDA"})})
        ws.conditional_format(*rows, {"type": "formula", "criteria": f'={status}="{STATUS_LABELS[REVIEW]}"',
                                      "format": self.wb.add_format({"bg_color": "#FFF2CC"})})
        ws.conditional_format(*rows, {"type": "formula", "criteria": f'={status}="{STATUS_LABELS[EXCLUDED]}"',
                                      "format": self.wb.add_format({"font_color": "#808080", "italic": True})})
        c = self.added["review"]
        ws.data_validation(1, c, n, c, {
            "validate": "list", "source": self._choices_range,
            "ignore_blank": True, "show_input": True, "show_error": False, "error_type": "information",
            "input_title": "覆核 Review",
            "input_message": "選擇類別代碼；或輸入「代碼 40%」（比例）、「代碼 24000」（金額，本列單位）；"
                             "none 表示不計入性別預算。",
        })

    # --- 規則 ------------------------------------------------------------------------------------

    def _write_rules(self, ws: Any) -> None:
        rules = self.run.rules
        rows: list[list[Any]] = [
            ["規則檔", rules.name],
            ["路徑", rules.path],
            ["SHA-256", rules.sha256],
            ["金額單位（規則檔預設）", rules.unit],
        ]
        for r, row in enumerate(rows):
            self.text(ws, r, 0, row[0], "bold")
            self.text(ws, r, 1, str(row[1]))
        head = ["類別代碼 id", "名稱", "英文名稱", "官方分類", "性別目標", "依據", "條件", "計入比例", "需人工覆核", "優先順序"]
        top = len(rows) + 1
        for c, title in enumerate(head):
            self.text(ws, top, c, title, "header")
        widths = [display_width(h) for h in head]
        r = top
        for cat in rules.categories:
            r += 1
            values = [cat.id, cat.name, cat.name_en, OFFICIAL_CLASSES.get(cat.official_class, str(cat.official_class)),
                      cat.goal, cat.basis, describe_conditions(cat), None, "是" if cat.review else "", None]
            for c, value in enumerate(values):
                if value:
                    self.text(ws, r, c, value)
                    widths[c] = max(widths[c], display_width(_sample(value)))
            self.percent(ws, r, 7, Decimal(cat.share_percent))
            ws.write_number(r, 9, cat.priority)
        r += 1
        self.text(ws, r, 0, _NONE_ENTRY)
        self.text(ws, r, 1, "不計入性別預算（覆核時使用）")
        self._choices_range = f"={_quote(layout.RULES_SHEET)}!$A${top + 2}:$A${r + 1}"
        for c, w in enumerate(widths):
            ws.set_column(c, c, min(max(w + 2, 8), 60 if c == 6 else 40))
        ws.freeze_panes(top + 1, 0)

    # --- 摘要 ------------------------------------------------------------------------------------

    def _write_summary(self, ws: Any) -> None:
        run, totals = self.run, self.run.totals
        amt, gender, status = self._range("amount"), self._range("gender_amount"), self._range("status")
        cat_col, class_col = self._range("category"), self._range("official_class")
        matched, review_label = STATUS_LABELS[MATCHED], STATUS_LABELS[REVIEW]
        excluded_label = STATUS_LABELS[EXCLUDED]
        r = 0
        self.text(ws, r, 0, "性別預算摘要", "title")
        r += 1
        self.text(ws, r, 0, f"規則檔：{run.rules.name}　產生時間：{run.started:%Y-%m-%d %H:%M}　gender-budget {run.tool_version}")
        r += 1
        self.text(ws, r, 0, f"金額單位：{self.unit}（{totals.unit_note}）", "bold")
        r += 2

        self.text(ws, r, 0, "項目", "header")
        self.text(ws, r, 1, f"金額（{self.unit}）", "header")
        self.text(ws, r, 2, "說明", "header")
        r += 1
        budget_cell = f"$B${r + 1}"
        self._formula(ws, r, 1, f'=SUMIFS({amt},{status},"<>{excluded_label}")', totals.budget_total, "amount_total")
        self.text(ws, r, 0, "預算總額", "bold")
        self.text(ws, r, 2, "明細各行「計算金額」合計（小計列不計）")
        r += 1
        gender_cell = f"$B${r + 1}"
        self._formula(ws, r, 1, f'=SUMIFS({gender},{status},"{matched}")', totals.gender_total, "amount_total")
        self.text(ws, r, 0, "性別預算數", "bold")
        self.text(ws, r, 2, "判定為「符合」各行之性別預算數合計")
        r += 1
        share = totals.gender_total / totals.budget_total if totals.budget_total else Decimal(0)
        ws.write_formula(r, 1, f"=IF({budget_cell}=0,0,{gender_cell}/{budget_cell})", self.fmt("percent2"), float(share))
        self.text(ws, r, 0, "性別預算占比", "bold")
        r += 1
        review_cell = f"$B${r + 1}"
        self._formula(ws, r, 1, f'=SUMIFS({gender},{status},"{review_label}")', totals.review_total, "amount_total")
        self.text(ws, r, 0, "待覆核建議數")
        self.text(ws, r, 2, f"{totals.status_lines.get(REVIEW, 0):,} 行待人工確認；請在「明細」的「覆核」欄填寫（見「待覆核」工作表）")
        r += 1
        self._formula(ws, r, 1, f"={gender_cell}+{review_cell}", totals.gender_total + totals.review_total, "amount_total")
        self.text(ws, r, 0, "性別預算數（含待覆核建議）")
        r += 2

        self.text(ws, r, 0, "判定", "header")
        self.text(ws, r, 1, "行數", "header")
        self.text(ws, r, 2, f"預算金額（{self.unit}）", "header")
        for status_key in (MATCHED, REVIEW, UNMATCHED, EXCLUDED):
            r += 1
            label = STATUS_LABELS[status_key]
            self.text(ws, r, 0, label)
            ws.write_formula(r, 1, f'=COUNTIF({status},"{label}")', None, totals.status_lines.get(status_key, 0))
            if status_key != EXCLUDED:
                self._formula(ws, r, 2, f'=SUMIFS({amt},{status},"{label}")',
                              totals.status_amounts.get(status_key, Decimal(0)), "amount")
        r += 2

        head = ["類別代碼", "性別預算類別", "官方分類", "符合行數", f"性別預算數（{self.unit}）", "待覆核行數",
                f"待覆核建議數（{self.unit}）", "占性別預算"]
        for c, title in enumerate(head):
            self.text(ws, r, c, title, "header")
        first_cat = r + 1
        for g in totals.by_category:
            r += 1
            self.text(ws, r, 0, g.key)
            self.text(ws, r, 1, g.label)
            self.text(ws, r, 2, OFFICIAL_CLASSES.get(g.official_class or 0, ""))
            crit = f'{cat_col},"{g.key}"'
            ws.write_formula(r, 3, f'=COUNTIFS({crit},{status},"{matched}")', None, g.matched_lines)
            self._formula(ws, r, 4, f'=SUMIFS({gender},{crit},{status},"{matched}")', g.gender_amount, "amount")
            ws.write_formula(r, 5, f'=COUNTIFS({crit},{status},"{review_label}")', None, g.review_lines)
            self._formula(ws, r, 6, f'=SUMIFS({gender},{crit},{status},"{review_label}")', g.review_amount, "amount")
            part = g.gender_amount / totals.gender_total if totals.gender_total else Decimal(0)
            ws.write_formula(r, 7, f"=IF({gender_cell}=0,0,E{r + 1}/{gender_cell})", self.fmt("percent2"), float(part))
        last_cat = r
        r += 2

        head = ["官方分類", "符合行數", f"性別預算數（{self.unit}）", "待覆核行數", f"待覆核建議數（{self.unit}）"]
        for c, title in enumerate(head):
            self.text(ws, r, c, title, "header")
        for g in totals.by_class:
            r += 1
            self.text(ws, r, 0, g.label)
            crit = f'{class_col},"{g.label}"'
            ws.write_formula(r, 1, f'=COUNTIFS({crit},{status},"{matched}")', None, g.matched_lines)
            self._formula(ws, r, 2, f'=SUMIFS({gender},{crit},{status},"{matched}")', g.gender_amount, "amount")
            ws.write_formula(r, 3, f'=COUNTIFS({crit},{status},"{review_label}")', None, g.review_lines)
            self._formula(ws, r, 4, f'=SUMIFS({gender},{crit},{status},"{review_label}")', g.review_amount, "amount")
        r += 2

        if totals.by_plan:
            from xlsxwriter.utility import xl_col_to_name

            plan_letter = xl_col_to_name(DATA_HEADER.index("plan"))
            last = max(len(run.lines) + 1, 2)
            plans = f"{_quote(layout.DATA_SHEET)}!${plan_letter}$2:${plan_letter}${last}"
            head = ["工作計畫", "行數", f"預算金額（{self.unit}）", f"性別預算數（{self.unit}）", "待覆核行數"]
            for c, title in enumerate(head):
                self.text(ws, r, c, title, "header")
            for g in totals.by_plan:
                r += 1
                self.text(ws, r, 0, g.label)
                # Exact comparison (SUMPRODUCT), not SUMIFS: plan names may hold * ? ~ or start with < > =.
                key = f"$A${r + 1}" if g.key else '""'
                is_plan = f"({plans}={key})"
                ws.write_formula(r, 1, f'=SUMPRODUCT({is_plan}*({status}<>"{excluded_label}"))', None, g.lines)
                self._formula(ws, r, 2, f"=SUMPRODUCT(--{is_plan},{amt})", g.budget, "amount")
                self._formula(ws, r, 3, f'=SUMPRODUCT({is_plan}*({status}="{matched}"),{gender})', g.gender_amount,
                              "amount")
                ws.write_formula(r, 4, f'=SUMPRODUCT({is_plan}*({status}="{review_label}"))', None, g.review_lines)
            r += 2

        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, 28)
        ws.set_column(2, 2, 22)
        ws.set_column(3, 7, 16)
        if totals.by_category:
            chart = self.wb.add_chart({"type": "bar"})
            chart.add_series({
                "name": "性別預算數",
                "categories": [layout.SUMMARY_SHEET, first_cat, 1, last_cat, 1],
                "values": [layout.SUMMARY_SHEET, first_cat, 4, last_cat, 4],
                "data_labels": {"value": True, "num_format": "#,##0"},
            })
            chart.set_title({"name": f"各類別性別預算數（{self.unit}）"})
            chart.set_legend({"none": True})
            chart.set_y_axis({"reverse": True})
            chart.set_x_axis({"num_format": "#,##0"})
            chart.set_size({"width": 720, "height": max(300, 28 * len(totals.by_category) + 80)})
            ws.insert_chart(4, 9, chart)

    def _formula(self, ws: Any, row: int, col: int, formula: str, value: Decimal, kind: str) -> None:
        exponent = value.normalize().as_tuple().exponent
        decimals = min(-exponent, 10) if isinstance(exponent, int) and exponent < 0 else 0
        ws.write_formula(row, col, formula, self.fmt(kind, decimals=decimals), _cached(value))

    def _check_totals(self) -> None:
        totals = self.run.totals
        totals.workbook_total = self.workbook_total
        if self.workbook_total != totals.input_total:
            self.problems.append(Problem(
                "total-mismatch",
                f"活頁簿明細合計 {format_amount(self.workbook_total)} 與輸入合計 {format_amount(totals.input_total)} 不符",
                "the workbook's total differs from the input total", ERROR))

    # --- 紀錄 ------------------------------------------------------------------------------------

    def _write_log(self, ws: Any) -> None:
        run, totals = self.run, self.run.totals
        r = 0

        def pair(label: str, value: Any, kind: str | None = None) -> None:
            nonlocal r
            self.text(ws, r, 0, label, "bold")
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                self.number(ws, r, 1, value, kind)
            elif value not in (None, ""):
                self.text(ws, r, 1, str(value))
            r += 1

        def table(title: str, head: list[str], rows: list[list[Any]]) -> None:
            nonlocal r
            r += 1
            self.text(ws, r, 0, title, "title2")
            r += 1
            for c, h in enumerate(head):
                self.text(ws, r, c, h, "header")
            for values in rows:
                r += 1
                for c, value in enumerate(values):
                    if value is None or value == "":
                        continue
                    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                        self.number(ws, r, c, value)
                    else:
                        self.text(ws, r, c, str(value))
            r += 1

        self.text(ws, r, 0, "執行紀錄 Run log", "title")
        r += 1
        pair("工具版本", f"gender-budget {run.tool_version}")
        pair("執行時間", run.started.isoformat(timespec="seconds"))
        pair("輸出檔", Path(run.output).name if run.output else "")
        pair("規則檔", f"{run.rules.name}（{run.rules.path}）")
        pair("規則檔 SHA-256", run.rules.sha256)
        pair("金額單位", f"{self.unit}：{totals.unit_note}")

        table("輸入檔 Inputs", ["檔名", "路徑", "SHA-256", "格式", "大小（位元組）", "編碼", "略過的工作表"], [
            [_get(s, "name"), _get(s, "path"), _get(s, "sha256"), _get(s, "format"), _get(s, "size"),
             _get(s, "encoding"), "、".join(_get(s, "skipped_sheets") or [])] for s in run.sources])
        table("工作表 Sheets", ["檔名", "工作表", "表頭列", "欄位對應", "單位", "年度", "讀取列數", "明細行數", "小計列數",
                               "略過空白列", "隱藏"], [
            [_get(s, "name"), _get(sh, "name"), _get(sh, "header_row"), _mapping_text(_get(sh, "mapping")),
             _get(sh, "unit"), _get(sh, "year"), _get(sh, "rows_read"), _get(sh, "lines"), _get(sh, "totals"),
             _get(sh, "skipped_blank"), "是" if _get(sh, "hidden") else ""]
            for s in run.sources for sh in (_get(s, "sheets") or [])])

        r += 1
        self.text(ws, r, 0, "列數與總額 Counts and totals", "title2")
        r += 1
        pair("讀取列數", totals.rows_read)
        pair("明細行數（不含小計）", totals.lines)
        pair("計入預算總額的行數", totals.counted)
        pair("排除（小計不計）", totals.excluded)
        pair("略過（空白列）", totals.skipped)
        pair("金額空白或無法讀取的行數", totals.unreadable)
        pair(f"輸入總額（{self.unit}）", totals.input_total, "amount")
        pair(f"活頁簿明細總額（{self.unit}）", self.workbook_total, "amount")
        pair("兩者一致", "是" if self.workbook_total == totals.input_total else "否 — 請檢查紀錄中的問題")
        pair(f"性別預算數（{self.unit}）", totals.gender_total, "amount")
        pair("性別預算數（精確值）", format_amount(totals.gender_total))
        pair("預算總額（精確值）", format_amount(totals.budget_total))

        table("各階段耗時 Timings（秒）", ["階段", "秒"], [[k, f"{v:.3f}"] for k, v in run.timings.items()]
              + [["write", "（寫出本活頁簿的時間不在此列；見 classify --timings）"]])

        problems = list(run.problems) + self.problems
        table(f"問題 Problems（{len(problems)}）", ["嚴重度", "代碼", "訊息", "Message", "檔案", "工作表", "列", "欄",
                                                     "提示"], [
            ["錯誤" if p.severity == ERROR else "警告", p.code, p.message, p.message_en, p.file, p.sheet, p.row,
             p.column or p.key, p.hint] for p in problems])
        if not problems:
            self.text(ws, r, 0, "（無）")
        ws.set_column(0, 0, 26)
        ws.set_column(1, 1, 40)
        ws.set_column(2, 2, 50)
        ws.set_column(3, 10, 16)


#: Where a written value came from, for problems: a location dict, or (line, column title).
Where = "dict[str, Any] | tuple[LineItem, str | None] | None"


def _location(where: Any) -> dict[str, Any]:
    if isinstance(where, tuple):
        line, column = where
        return {"file": line.file or None, "sheet": line.sheet or None, "row": line.row, "column": column or None}
    return dict(where or {})


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _mapping_text(mapping: Any) -> str:
    if not mapping:
        return ""
    return "；".join(f"{k}={v}" for k, v in dict(mapping).items())


def _sample(value: Any) -> str:
    """The start of a value as text, for column widths."""
    if isinstance(value, str):
        return value[:80]
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (int, Decimal)):
        return f"{value:,}"
    return str(value)[:80]


#: The 資料 values :meth:`_Writer._data_row` produces, in its order (placed by name in DATA_COLUMNS).
_SYNTHETIC_COLUMNS = ("工作計畫", "分支計畫", "科目代碼", "用途別科目", "說明", "金額", "單位")


def _cells_of(line: LineItem) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The line's original cells and headers; lines built without cells show their own fields."""
    if line.cells:
        return tuple(line.cells), tuple(line.columns)
    return ((line.plan or None, line.branch or None, line.account_code or None, line.account or None,
             line.description or None, line.amount, line.unit), _SYNTHETIC_COLUMNS)


def _finish_table(ws: Any, columns: int, rows: int, widths: list[int]) -> None:
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(rows, 1), columns - 1)


_STYLES: dict[str, dict[str, Any]] = {
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
    "input": {"bg_color": "#FFFBEA", "border": 1, "border_color": "#BFBFBF"},
    "status_" + MATCHED: {"bg_color": "#C6EFCE", "font_color": "#006100", "bold": True},
    "status_" + REVIEW: {"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True},
    "status_" + UNMATCHED: {},
    "status_" + EXCLUDED: {"font_color": "#808080", "italic": True},
}
