"""One sheet's rows below its header → line items: the row loop, the sheet's unit and year, row problems.

:func:`read_sheet` finds the header, decides the sheet's unit, then walks the rows once (streamed
sheets as they arrive): blank rows and repeated headers are skipped, subtotal labels spotted, and
every mapped field read by its parser from :data:`budget.exports.fields.FIELDS`.
"""

from __future__ import annotations

import re
from typing import Any

from ..limits import SHEET_COLUMNS
from ..models import LINE, TOTAL, LineItem
from ..money import canonical_unit, unit_in_text
from ..normalize import fold
from ..problems import ERROR, WARNING, BudgetError, Problem
from .columns import FIELD_NAMES_ZH
from .fields import FIELDS, SheetReading, canonical_unit_cached, restore_codes, text
from .flags import FLAG_CONTROL_CHARS, FLAG_HIDDEN_ROW, FLAG_TOTAL_LABEL, FLAG_UNIT_FROM_TEXT
from .header import HEADER_SCAN_ROWS, Header, HeaderMiss, cell_text, find_header, year_in_text
from .rawsheet import RawSheet, pull_rows
from .results import SheetInfo
from .spans import VerticalMerges, filled
from .subtotals import is_total_label, mark_subtotals

#: Problems of one kind reported row by row per sheet; beyond this a single summary is added.
MAX_ROW_PROBLEMS = 20
#: Rows between two progress reports (and memory-budget charges).
TICK_ROWS = 5000

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNIT_IN_TITLE = re.compile(r"(千元|仟元|萬元|元)")
_DONE: list[Any] = []  # stands in for a data row already turned into a line


class RowProblems:
    """Row problems of one sheet: the first :data:`MAX_ROW_PROBLEMS` of each kind, then a count."""

    def __init__(self, display: str, sheet: str) -> None:
        self.display, self.sheet = display, sheet or None
        self.out: list[Problem] = []
        self.counts: dict[str, int] = {}
        self.severity: dict[str, str] = {}

    def add(self, code: str, message: str, message_en: str, severity: str, row: int, column: str | None) -> None:
        """Record one row's problem (kept in full for the first rows of its kind, counted after)."""
        n = self.counts.get(code, 0) + 1
        self.counts[code] = n
        if severity == ERROR:
            self.severity[code] = ERROR
        else:
            self.severity.setdefault(code, severity)
        if n <= MAX_ROW_PROBLEMS:
            self.out.append(Problem(code, message, message_en, severity=severity, file=self.display,
                                    sheet=self.sheet, row=row, column=column))

    def finish(self) -> list[Problem]:
        """The problems recorded, with one summary per kind that had more rows than were listed."""
        for code, n in self.counts.items():
            if n > MAX_ROW_PROBLEMS:
                self.out.append(Problem(code, f"另有 {n - MAX_ROW_PROBLEMS:,} 列有相同問題（共 {n:,} 列）。",
                                        f"{n - MAX_ROW_PROBLEMS} more rows with the same problem ({n} in all)",
                                        severity=self.severity[code], file=self.display, sheet=self.sheet))
        return self.out


def too_wide(display: str, sheet: str, row: int, width: int) -> BudgetError:
    """The refusal for a row with data past the last column a sheet can hold (XFD)."""
    return BudgetError.one(
        "too-many-columns",
        f"此列有資料位於第 {width:,} 欄，達到或超過試算表上限 {SHEET_COLUMNS:,} 欄（XFD）；超出的部分無法讀取或輸出，未處理。"
        "請刪除多餘的欄後重新匯出。",
        f"data in column {width}, past the {SHEET_COLUMNS} columns a sheet can hold", file=display,
        sheet=sheet or None, row=row)


def _title_facts(rows: list[list[Any]], header: Header, sheet_name: str) -> tuple[str | None, int | None]:
    """Unit and ROC year declared in the title rows above the header (or in the header's unmapped cells)."""
    unit = year = None
    texts = [cell_text(v) for row in rows[: header.first_row - 1] for v in row]
    mapped = set(header.fields.values())
    texts += [t for c, t in enumerate(header.titles) if c not in mapped]
    for t in texts:
        if not t:
            continue
        if unit is None:
            unit = unit_in_text(t)
        if year is None:
            year = year_in_text(t)
    if year is None and sheet_name:
        year = year_in_text(sheet_name)
    return unit, year


def _sheet_unit(rows: list[list[Any]], header: Header, raw: RawSheet, display: str, forced_unit: str | None,
                default_unit: str, problems: list[Problem]) -> tuple[str, str, int | None]:
    """(unit of the sheet's bare amounts, where it came from, ROC year of the title rows)."""
    title_unit, title_year = _title_facts(rows, header, raw.name)
    amount_title = header.titles[header.fields["amount"]]
    m = _UNIT_IN_TITLE.search(fold(amount_title))
    header_unit = canonical_unit(m.group(1)) if m else None
    if forced_unit:
        return forced_unit, "--unit", title_year
    if header_unit:
        if title_unit and title_unit != header_unit:
            problems.append(Problem("unit-conflict",
                                    f"金額欄表頭「{amount_title}」的單位是{header_unit}，標題列寫{title_unit}；已採用表頭的{header_unit}。",
                                    "the amount header and a title row name different units; used the header's",
                                    severity=WARNING, file=display, sheet=raw.name or None, row=header.row))
        return header_unit, "header", title_year
    if title_unit:
        return title_unit, "title", title_year
    return default_unit, "default", title_year


def _ambiguity(header: Header, titles: tuple[str, ...], display: str, sheet: str) -> list[Problem]:
    out = []
    for fld, cols in header.ambiguous.items():
        names = "、".join(f"「{titles[c]}」" for c in cols)
        out.append(Problem("header-ambiguous",
                           f"{FIELD_NAMES_ZH.get(fld, fld)}欄有多個候選：{names}；已使用「{titles[cols[0]]}」。"
                           f"若不正確請以 --map {fld}=表頭 指定。",
                           f"several columns could be {fld}; used the first", severity=WARNING,
                           file=display, sheet=sheet or None, row=header.row, hint=f"--map {fld}={titles[cols[-1]]}"))
    return out


class _Walk:
    """The state of one walk down a sheet's data rows (everything the loop reads but does not change)."""

    def __init__(self, raw: RawSheet, header: Header, reading: SheetReading, *, sheet_unit: str,
                 forced_unit: str | None, title_year: int | None, is_csv: bool) -> None:
        self.raw, self.header, self.reading = raw, header, reading
        self.sheet_unit, self.forced_unit, self.title_year = sheet_unit, forced_unit, title_year
        fields = header.fields
        self.col_desc, self.col_amount = fields["description"], fields["amount"]
        #: (parser, column, field name if the field holds codes) for every mapped field, in FIELDS order
        self.columns = [(f.parse, fields[f.name], f.name if f.code else None) for f in FIELDS if f.name in fields]
        self.col_unit = fields.get("unit")
        self.pad = "" if is_csv else None
        self.unknown_units: dict[str, int] = {}
        self.row_flags: dict[int, list[str]] = {}
        self.skipped_blank = self.skipped_headers = 0
        # a header repeated in the data (exports that repeat it on every printed page) has these texts
        upper_lower = (header.upper, header.lower)
        self.desc_titles = {t[self.col_desc] for t in upper_lower if self.col_desc < len(t) and t[self.col_desc]}
        self.amount_titles = {t[self.col_amount] for t in upper_lower if self.col_amount < len(t) and t[self.col_amount]}

    def skip(self, row: list[Any], original: list[Any]) -> bool:
        """True (and counted) for a blank row or a header repeated inside the data."""
        length = len(row)
        raw_desc = row[self.col_desc] if self.col_desc < length else None
        raw_amount = row[self.col_amount] if self.col_amount < length else None
        if (raw_desc is None or raw_desc == "" or (type(raw_desc) is str and not raw_desc.strip())) and \
                (raw_amount is None or raw_amount == "" or (type(raw_amount) is str and not raw_amount.strip())):
            if all(v is None or (type(v) is str and not v.strip()) for v in original):
                self.skipped_blank += 1
                return True
        elif type(raw_desc) is str and type(raw_amount) is str and raw_amount.strip() in self.amount_titles and \
                raw_desc.strip() in self.desc_titles:
            self.skipped_headers += 1
            return True
        return False

    def line(self, row: list[Any], original: list[Any], rnum: int, titles: tuple[str, ...]) -> LineItem:
        """The line of one data row: flags, kind, then every mapped field through its parser."""
        reading, raw = self.reading, self.raw
        flags: list[str] = list(self.row_flags[rnum]) if rnum in self.row_flags else []
        if raw.hidden_rows and rnum in raw.hidden_rows:
            flags.append(FLAG_HIDDEN_ROW)
        if raw.may_have_control_chars:
            bad = [c for c, v in enumerate(row) if type(v) is str and _CTRL.search(v)]
            if bad:
                flags.append(FLAG_CONTROL_CHARS)
                reading.report.add("control-chars", "儲存格含控制字元（不可見字元），比對時以空白取代；輸出前請確認原文。",
                                   "a cell holds control characters; replaced by spaces for matching", WARNING, rnum,
                                   titles[bad[0]] or f"第 {bad[0] + 1} 欄")
        length = len(row)
        kind = LINE
        col_amount = self.col_amount
        for c in range(length):  # a subtotal label in any short text cell other than the amount
            v = row[c]
            if type(v) is str and c != col_amount and len(v) <= 30 and is_total_label(v):
                kind = TOTAL
                flags.append(FLAG_TOTAL_LABEL)
                break
        line = LineItem(year=self.title_year, file=reading.display, sheet=raw.name, row=rnum, kind=kind,
                        flags=tuple(flags))  # () for most lines: one shared empty tuple
        reading.text_unit = reading.unit_cell = None
        index = len(reading.lines)
        for parse, col, code in self.columns:  # every field through its parser: one loop, no branch per field
            value = row[col] if col < length else None
            parse(value, line, reading, col)
            if code is not None and value is not None and type(value) is not str and type(value) is not bool:
                reading.code_cells[(rnum, col + 1)] = (index, code)
        line.unit = self._unit(line)
        if FLAG_CONTROL_CHARS in flags:
            for attr in ("description", "account", "plan", "branch", "agency"):
                setattr(line, attr, _CTRL.sub(" ", getattr(line, attr)))
        width = len(titles)
        line.cells = tuple(original) if len(original) == width else tuple(original) + (self.pad,) * (width - len(original))
        line.columns = titles
        return line

    def _unit(self, line: LineItem) -> str:
        reading = self.reading
        if reading.text_unit:
            line.flags += (FLAG_UNIT_FROM_TEXT,)
            return reading.text_unit
        if self.forced_unit:
            return self.forced_unit
        u = reading.unit_cell
        if u is not None and u != "":
            cu = canonical_unit_cached(text(u))
            if cu:
                return cu
            self.unknown_units[text(u)] = self.unknown_units.get(text(u), 0) + 1
        return self.sheet_unit


def _width(raw: RawSheet, header: Header, start: int, display: str) -> int:
    """Columns of the sheet as far as its rows show: the header's and the longest row's (trailing blanks are
    not data). Rows still streaming are measured as they arrive (:func:`read_sheet` widens the titles)."""
    width = len(header.titles)
    for idx in range(start, len(raw.rows)):
        n = len(raw.rows[idx])
        if n > width:
            width = n
    if _past_last_column(raw, width):
        row = next((i + 1 for i, r in enumerate(raw.rows) if _past_last_column(raw, len(r))), header.row)
        raise too_wide(display, raw.name, row, width)
    return width


def _past_last_column(raw: RawSheet, length: int) -> bool:
    """True for a row with data past XFD, or reaching XFD in a format whose reader cuts rows there (.ods)."""
    return length > SHEET_COLUMNS or (length == SHEET_COLUMNS and raw.cut_at_last_column)


def read_sheet(raw: RawSheet, display: str, *, overrides: dict[str, str], forced_unit: str | None,
               default_unit: str, is_csv: bool, run: Any
               ) -> tuple[SheetInfo, list[LineItem], list[Problem]] | HeaderMiss:
    """Read one sheet: (SheetInfo, its lines in row order, its non-fatal problems), or the HeaderMiss.

    ``run`` counts progress and charges the memory budget (:class:`budget.exports.memory.ReadRun`).
    Raises :class:`BudgetError` for an amount beyond what a budget can hold, a row wider than a sheet,
    or a run past its memory budget, naming the row.
    """
    rows = raw.rows
    pull_rows(raw, HEADER_SCAN_ROWS + 2)
    header = find_header(rows, raw.merges, overrides, raw.merges_known)
    if isinstance(header, HeaderMiss):
        return header
    start = header.row
    width = _width(raw, header, start, display)
    titles = tuple(header.titles) + ("",) * (width - len(header.titles))
    problems = _ambiguity(header, titles, display, raw.name)
    sheet_unit, unit_source, title_year = _sheet_unit(rows, header, raw, display, forced_unit, default_unit, problems)
    report = RowProblems(display, raw.name)
    amount_title = titles[header.fields["amount"]]
    reading = SheetReading(display, raw.name, report, raw.formulas, is_csv, amount_title)
    walk = _Walk(raw, header, reading, sheet_unit=sheet_unit, forced_unit=forced_unit, title_year=title_year,
                 is_csv=is_csv)
    for issue in raw.cell_issues:
        if issue.row > header.row:
            walk.row_flags.setdefault(issue.row, []).append(issue.flag)
        title = titles[issue.col - 1] if issue.col - 1 < len(titles) else ""
        report.add(issue.code, issue.message, issue.message_en, issue.severity, issue.row, title or f"第 {issue.col} 欄")
    fill = VerticalMerges(raw.merges, header.row, [c for f, c in header.fields.items() if f != "amount"])
    lines = reading.lines
    budget = run.budget
    line_cost = budget.line_cost(len(titles))
    widened = False
    pos = freed = start
    while True:
        n = len(rows)
        for idx in range(pos, n):
            original = rows[idx]
            rnum = idx + 1
            if (idx - start) % TICK_ROWS == TICK_ROWS - 1:
                run.tick(TICK_ROWS)
            row = filled(original, fill.at(idx), rows) if fill else original
            if len(original) > len(titles):  # a streamed row longer than any before it
                if _past_last_column(raw, len(original)):
                    raise too_wide(display, raw.name, rnum, len(original))
                titles += ("",) * (len(original) - len(titles))
                line_cost = budget.line_cost(len(titles))
                widened = True
            if walk.skip(row, original):
                continue
            lines.append(walk.line(row, original, rnum, titles))
            budget.used += line_cost
            if budget.used > budget.limit:
                budget.charge(0, file=display, sheet=raw.name, row=rnum)  # raises: past the budget
        pos = max(pos, n)
        if not fill:  # processed rows are no longer needed (cells were copied): let big sheets shrink
            for i in range(freed, n):
                rows[i] = _DONE
            freed = n
        if not pull_rows(raw):
            break
    n = len(rows)
    run.tick((n - start) % TICK_ROWS)
    if widened:  # every line shows every column, padded like the rows of its sheet
        for line in lines:
            if len(line.cells) < len(titles):
                line.cells += (walk.pad,) * (len(titles) - len(line.cells))
            line.columns = titles
    info = _finish(walk, titles, rows_read=n - start, unit_source=unit_source, problems=problems)
    return info, lines, problems + report.finish()


def _finish(walk: _Walk, titles: tuple[str, ...], *, rows_read: int, unit_source: str,
            problems: list[Problem]) -> SheetInfo:
    """After the loop: restore codes, report unknown units, mark subtotals; what was read from the sheet."""
    reading, raw, header = walk.reading, walk.raw, walk.header
    lines, report, display, sheet_unit = reading.lines, reading.report, reading.display, walk.sheet_unit
    if reading.code_cells:
        restore_codes(raw.code_widths, reading, titles)
    for unit_text, count in walk.unknown_units.items():
        problems.append(Problem("unit-unknown",
                                f"單位欄的「{unit_text}」無法辨識（{count} 列），這些列採用{sheet_unit}。",
                                f"unit {unit_text!r} not recognised in {count} rows; used {sheet_unit}", severity=WARNING,
                                file=display, sheet=raw.name or None,
                                column=titles[walk.col_unit] if walk.col_unit is not None else None))
    mark_subtotals(lines, has_account="account" in header.fields or "account_code" in header.fields, report=report,
                   amount_title=reading.amount_title)
    years = reading.years_seen
    title_year = walk.title_year
    year = title_year if title_year is not None else (next(iter(years)) if len(years) == 1 else None)
    return SheetInfo(
        name=raw.name, header_row=header.row, columns=titles, mapping={f: titles[c] for f, c in header.fields.items()},
        unit=sheet_unit, year=year, rows_read=rows_read, lines=sum(1 for ln in lines if ln.kind == LINE),
        totals=sum(1 for ln in lines if ln.kind == TOTAL), skipped_blank=walk.skipped_blank, hidden=raw.hidden,
        header_first_row=header.first_row, skipped_headers=walk.skipped_headers, unit_source=unit_source)
