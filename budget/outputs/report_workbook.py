"""Writing the annual report workbook (性別預算編列情形表, 年度比較, 統計, 附錄) as .xlsx or .ods, atomically.

The workbook is opened with :func:`budget.outputs.backends.open_book` (the output's suffix picks
xlsxwriter or the OpenDocument backend) and every cell goes through :meth:`_Sheet.text` /
:meth:`_Sheet.number`: input text is always a string cell (never a formula or link) made safe by
:mod:`budget.outputs.cells`, and whatever had to change is recorded as a problem on the report.
Every sheet prints on A4 landscape, one page wide, with its header rows repeated and
「第 X 頁，共 Y 頁」 and the file name in the footer.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from ..money import round_half_up
from ..problems import Problem
from ..report import AMOUNT_COLUMNS, COUNT_COLUMNS, PERCENT_COLUMNS, ROUNDING_NOTE, Report
from .backends import book_format, open_book
from .cells import cell_problems, display_width, needs_quote, safe_text

TABLE_SHEET = "性別預算編列情形表"
COMPARE_SHEET = "年度比較"
STATS_SHEET = "統計"
EVIDENCE_SHEET = "附錄 判定依據"
#: The CJK font every cell names (Windows' 微軟正黑體); readers without it substitute their own CJK font.
FONT = "Microsoft JhengHei"
#: Page footer: the file name on the left, 「第 X 頁，共 Y 頁」 on the right; the sheet's name on top.
FOOTER = "&L&F&R第 &P 頁，共 &N 頁"
HEADER = "&C&A"
#: Widths (characters) of the table's known columns; other columns are fitted to their text.
COLUMN_WIDTHS = {"class": 20, "item": 34, "goal": 34, "accounts": 20, "amount": 14, "explanation": 50,
                 "evidence": 40, "descriptions": 40, "category_name": 24, "plan_branch": 28, "review_note": 30}

#: Points per line of 11-point CJK text, for sizing rows to their wrapped text.
LINE_HEIGHT = 15
_WRAPPED = frozenset({"text", "text_qp", "cell", "header", "group", "total"})


def default_output(report: Report, first_input: str | Path) -> Path:
    """``<folder of the first input>/<year>年度性別預算報告.xlsx``."""
    return Path(first_input).resolve().parent / f"{report.report_year}年度性別預算報告.xlsx"


def write_report_workbook(report: Report, output: str | Path, inputs: Sequence[str | Path] = ()) -> Path:
    """Write the report to ``output`` (``.xlsx``, or ``.ods`` for OpenDocument) atomically
    (budget.outputs.atomic): never over one of ``inputs``, and on any failure an existing ``output``
    is left as it was. What had to change in a cell (text cut at 32,767 characters, control
    characters) is added to ``report.problems``."""
    from .atomic import atomic_write

    fmt = book_format(output)
    problems = atomic_write(output, lambda temp: _write(report, str(temp), fmt, Path(output).name), inputs=inputs)
    report.problems.extend(problems)
    return Path(output)


class _Sheet:
    """A worksheet with typed, safe writers, column-width tracking and the report's print setup."""

    def __init__(self, book: "_Book", name: str) -> None:
        self.ws = book.wb.add_worksheet(name)
        self.name = name
        self.book = book
        self.widths: dict[int, int] = {}
        self.wrapped: dict[int, list[tuple[int, str]]] = {}  # row -> (column, text) of wrapping cells
        self.heights: dict[int, float] = {}  # rows given a height of their own (title, signatures)

    def _fit(self, col: int, text: str) -> None:
        longest = max((display_width(part) for part in text.split("\n")), default=0)
        self.widths[col] = max(self.widths.get(col, 0), min(longest + 2, 60))

    def text(self, row: int, col: int, value: Any, fmt: str = "text", fit: bool = True) -> None:
        """Write ``value`` as text; ``fit=False`` for titles and notes that may run past their column."""
        raw = "" if value is None else str(value)
        text, changed = safe_text(raw)
        if changed:
            self.book.problems.extend(cell_problems(changed, len(raw), file=self.book.label, sheet=self.name,
                                                    row=row + 1, column=_column_letter(col)))
        if needs_quote(text) and fmt == "text":
            fmt = "text_qp"
        self.ws.write_string(row, col, text, self.book.formats[fmt])
        if fmt in _WRAPPED:
            self.wrapped.setdefault(row, []).append((col, text))
        if fit:
            self._fit(col, text)

    def height(self, row: int, points: float) -> None:
        """Give ``row`` its own height (kept when rows are sized to their wrapped text)."""
        self.heights[row] = points
        self.ws.set_row(row, points)

    def number(self, row: int, col: int, value: Decimal | int | None, fmt: str = "amount") -> None:
        if value is None:
            self.ws.write_string(row, col, "", self.book.formats[fmt])
            return
        self.ws.write_number(row, col, float(value), self.book.formats[fmt])
        self._fit(col, f"{float(value):,.0f}" if fmt.endswith("amount") else "100.00%")

    def percent(self, row: int, col: int, value: Decimal | None, fmt: str = "percent") -> None:
        """``value`` is in percent (12.34 → 12.34%)."""
        self.number(row, col, None if value is None else value / 100, fmt)

    def finish(self, header_first: int, header_last: int, minimum: int = 8, fixed: dict[int, int] | None = None) -> None:
        """Set column widths and the print setup (A4 landscape, one page wide, header rows repeated)."""
        fixed = fixed or {}
        widths = {col: fixed.get(col, max(width, minimum)) for col, width in {**self.widths, **fixed}.items()}
        for col, width in sorted(widths.items()):
            self.ws.set_column(col, col, width)
        # Readers do not all size rows to wrapped text on opening (LibreOffice keeps an .xlsx's row
        # heights): give each row the height its longest wrapped cell needs.
        for row, cells in self.wrapped.items():
            lines = max(sum(max(1, math.ceil(display_width(part) / _per_line(widths.get(col, 8.43))))
                            for part in text.split("\n")) for col, text in cells)
            if lines > 1 and row not in self.heights:
                self.ws.set_row(row, LINE_HEIGHT * lines + 2)
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_first, header_last)
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        ws.set_header(HEADER)
        ws.set_footer(FOOTER)


def _per_line(width: float) -> float:
    """How many half-width characters fit on one line of a column ``width`` characters wide (CJK
    glyphs of the substitute fonts run a little wider than two default characters)."""
    return max(width * 0.85 - 1, 1)


def _column_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Book:
    def __init__(self, path: str, fmt: str, label: str) -> None:
        self.wb = open_book(path, fmt=fmt)
        self.label = label
        self.problems: list[Problem] = []
        base = {"font_name": FONT, "font_size": 11, "valign": "top", "text_wrap": True}
        amount = {"num_format": "#,##0"}
        spec: dict[str, dict[str, Any]] = {
            "text": {}, "text_qp": {"quote_prefix": True},
            "title": {"bold": True, "font_size": 14, "text_wrap": False},
            "unit": {"italic": True, "text_wrap": False},
            "header": {"bold": True, "bg_color": "#D9E1F2", "border": 1, "align": "center", "valign": "vcenter"},
            "cell": {"border": 1}, "cell_amount": {"border": 1, **amount},
            "amount": amount, "percent": {"num_format": "0.00%"}, "count": {"num_format": "0"},
            "group": {"bold": True, "bg_color": "#F2F2F2", "border": 1},
            "group_amount": {"bold": True, "bg_color": "#F2F2F2", "border": 1, **amount},
            "group_percent": {"bold": True, "bg_color": "#F2F2F2", "border": 1, "num_format": "0.00%"},
            "total": {"bold": True, "top": 1, "bottom": 6},
            "total_amount": {"bold": True, "top": 1, "bottom": 6, **amount},
            "total_percent": {"bold": True, "top": 1, "bottom": 6, "num_format": "0.00%"},
            "note": {"font_color": "#404040", "text_wrap": False},
            "sign": {"bold": True, "text_wrap": False, "valign": "top"},
        }
        self.formats = {name: self.wb.add_format({**base, **props}) for name, props in spec.items()}

    def sheet(self, name: str) -> _Sheet:
        return _Sheet(self, name)


def _write(report: Report, path: str, fmt: str, label: str) -> list[Problem]:
    book = _Book(path, fmt, label)
    _table_sheet(book, report)
    if len(report.years) > 1:
        _compare_sheet(book, report)
    _stats_sheet(book, report)
    _evidence_sheet(book, report)
    book.wb.set_properties({"title": f"{report.report_year}年度性別預算報告", "comments": "gender-budget report"})
    book.wb.close()
    return book.problems


def _title(sheet: _Sheet, report: Report, text: str) -> None:
    agency = f"{report.agency} " if report.agency else ""
    sheet.text(0, 0, f"{agency}{text}", "title", fit=False)
    sheet.text(1, 0, f"單位：新臺幣{report.unit}", "unit", fit=False)
    sheet.height(0, 22)


def _rounding_line(sheet: _Sheet, report: Report, row: int, years: Sequence[int]) -> int:
    """The one rounding note under a table, when any of ``years`` has rounding differences."""
    if any(report.rounding_note(y) for y in years):
        sheet.text(row, 0, f"註：{ROUNDING_NOTE}。", "note", fit=False)
        row += 1
    return row


def _table_sheet(book: _Book, report: Report) -> None:
    """性別預算編列情形表: every class (zero where empty), its items, the total, one note, signatures."""
    sheet = book.sheet(TABLE_SHEET)
    columns = report.columns
    keys = [c.key for c in columns]
    _title(sheet, report, f"{report.report_year}年度性別預算編列情形表")
    header = 3
    for c, column in enumerate(columns):
        sheet.text(header, c, column.title, "header")
    sheet.ws.freeze_panes(header + 1, 0)
    row = header + 1
    main = report.main

    def group_row(label: str, amount: Decimal, style: str, remark: str = "") -> None:
        for c, key in enumerate(keys):
            if c == 0:
                sheet.text(row, c, label, style, fit=False)
            elif key == "amount":
                sheet.number(row, c, report.in_unit(amount), f"{style}_amount")
            else:
                sheet.text(row, c, remark if c == 1 else "", style, fit=False)

    for klass, items in report.classes():
        group_row(f"{report.class_name(klass)}　小計", main.by_class.get(klass, Decimal(0)), "group",
                  "" if items else "本年度無此類項目")
        row += 1
        shown_goal: str | None = None
        for item in items:
            for c, key in enumerate(keys):
                value = report.column_value(item, key)
                if key == "class":
                    value = ""  # the class is on its subtotal row above
                elif key == "goal":
                    value = "" if item.category == shown_goal else value
                if key in AMOUNT_COLUMNS:
                    sheet.number(row, c, value, "cell_amount")
                elif key in PERCENT_COLUMNS:
                    sheet.percent(row, c, value)
                elif key in COUNT_COLUMNS:
                    sheet.number(row, c, value, "count")
                else:
                    sheet.text(row, c, value, "cell")
            shown_goal = item.category
            row += 1
    group_row("總計", main.gender_total, "total")
    row += 1
    row = _rounding_line(sheet, report, row, [main.year])
    for note in report.notes:
        if note.year == main.year and note.scope == "待覆核":
            sheet.text(row, 0, "附註：" + note.message, "note", fit=False)
            row += 1
    if not main.items:
        sheet.text(row, 0, "本年度無計入性別預算的項目。", "note", fit=False)
        row += 1
    _signature_row(sheet, report, row + 1, len(keys))
    fixed = {c: COLUMN_WIDTHS[k] for c, k in enumerate(keys) if k in COLUMN_WIDTHS}
    sheet.finish(header, header, fixed=fixed)


def _signature_row(sheet: _Sheet, report: Report, row: int, width: int) -> None:
    """承辦人、單位主管、主計主任、機關首長 (or the rules file's list) spread across the table's width."""
    names = report.signatures
    if not names:
        return
    width = max(width, len(names))
    for i, name in enumerate(names):
        sheet.text(row, i * width // len(names), f"{name}：", "sign", fit=False)
    sheet.height(row, 48)


def _compare_sheet(book: _Book, report: Report) -> None:
    sheet = book.sheet(COMPARE_SHEET)
    years = [y.year for y in report.years]
    pairs = list(zip(years, years[1:]))
    _title(sheet, report, f"性別預算年度比較（{years[0]}–{years[-1]} 年度）")
    row = 3

    def table(caption: str, rows: list[tuple[str, dict[int, Decimal]]], total: dict[int, Decimal] | None) -> tuple[int, int]:
        nonlocal row
        sheet.text(row, 0, caption, "title", fit=False)
        row += 1
        head = ["項目"] + [f"{y} 年度" for y in years]
        for a, b in pairs:
            head += [f"{a}→{b} 增減", f"{a}→{b} 增減%"]
        for c, title in enumerate(head):
            sheet.text(row, c, title, "header")
        header_row = row
        row += 1
        first = row
        body = rows + ([("合計", total)] if total is not None else [])
        for label, values in body:
            style = "total" if label == "合計" and total is not None else "text"
            sheet.text(row, 0, label, style)
            shown = {y: report.in_unit(values.get(y, Decimal(0))) for y in years}
            for k, y in enumerate(years):
                sheet.number(row, 1 + k, shown[y], "total_amount" if style == "total" else "amount")
            for k, (a, b) in enumerate(pairs):
                before, after = values.get(a, Decimal(0)), values.get(b, Decimal(0))
                col = 1 + len(years) + 2 * k
                sheet.number(row, col, shown[b] - shown[a], "total_amount" if style == "total" else "amount")
                pct = None if not before else (after - before) * 100 / abs(before)
                sheet.percent(row, col + 1, None if pct is None else round_half_up(pct, "0.01"),
                              "total_percent" if style == "total" else "percent")
            row += 1
        row += 1
        return header_row, first

    totals = {y.year: y.gender_total for y in report.years}
    classes = sorted({k for y in report.years for k in y.by_class} | set(range(1, 6)))
    class_rows = [(report.class_name(k), {y.year: y.by_class.get(k, Decimal(0)) for y in report.years}) for k in classes]
    class_header, class_first = table("依官方分類", class_rows, totals)
    ids = [cid for cid in report.categories if any(cid in y.by_category for y in report.years)]
    cat_rows = [(report.category_name(cid), {y.year: y.by_category.get(cid, Decimal(0)) for y in report.years})
                for cid in ids]
    table("依性別預算項目", cat_rows, totals)

    sheet.text(row, 0, "新增或消失的項目", "title", fit=False)
    row += 1
    for c, title in enumerate(("項目（類別／工作計畫／分支計畫）", "比較年度", "狀態", f"金額（{report.unit}）")):
        sheet.text(row, c, title, "header")
    row += 1
    items = [c for c in report.changes if c.level == "item"]
    for change in items:
        sheet.text(row, 0, change.name)
        sheet.text(row, 1, f"{change.from_year}→{change.to_year}")
        sheet.text(row, 2, "新增" if change.status == "new" else "消失")
        sheet.number(row, 3, report.in_unit(change.after if change.status == "new" else change.before))
        row += 1
    if not items:
        sheet.text(row, 0, "無")
        row += 1
    row = _rounding_line(sheet, report, row + 1, years)
    # Several tables on one sheet: the title and unit rows repeat on every page, not one table's header.
    sheet.finish(0, 1, fixed={0: 40, **{c: 13 for c in range(1, 1 + len(years) + 2 * len(pairs))}})
    chart = book.wb.add_chart({"type": "line"})
    last = class_first + len(class_rows)  # the 合計 row
    for r in range(class_first, last + 1):
        chart.add_series({
            "name": [COMPARE_SHEET, r, 0],
            "categories": [COMPARE_SHEET, class_header, 1, class_header, len(years)],
            "values": [COMPARE_SHEET, r, 1, r, len(years)],
            "marker": {"type": "circle"},
        })
    chart.set_title({"name": "性別預算趨勢"})
    chart.set_y_axis({"name": report.unit, "num_format": "#,##0"})
    chart.set_size({"width": 640, "height": 360})
    sheet.ws.insert_chart(row + 1, 0, chart)


def _stats_sheet(book: _Book, report: Report) -> None:
    sheet = book.sheet(STATS_SHEET)
    main = report.main
    _title(sheet, report, f"{main.year}年度性別預算統計")
    row = 3
    for label, value, kind in (("機關預算總額", main.budget_total, "amount"), ("性別預算合計", main.gender_total, "amount"),
                               ("性別預算占機關預算比率", main.share, "percent"),
                               ("計入明細筆數", sum(i.lines for i in main.items), "count"),
                               ("待覆核未計入筆數", main.pending_lines, "count")):
        sheet.text(row, 0, label, "group")
        if kind == "amount":
            sheet.number(row, 1, report.in_unit(value), "amount")
        elif kind == "percent":
            sheet.percent(row, 1, value)
        else:
            sheet.number(row, 1, value, "count")
        row += 1
    row += 1

    def table(caption: str, rows: list[tuple[str, Decimal]]) -> tuple[int, int]:
        nonlocal row
        sheet.text(row, 0, caption, "title", fit=False)
        row += 1
        for c, title in enumerate(("項目", f"金額（{report.unit}）", "占性別預算%", "占機關預算%")):
            sheet.text(row, c, title, "header")
        row += 1
        first = row
        for label, value in rows:
            sheet.text(row, 0, label)
            sheet.number(row, 1, report.in_unit(value))
            sheet.percent(row, 2, _pct(value, main.gender_total))
            sheet.percent(row, 3, _pct(value, main.budget_total))
            row += 1
        sheet.text(row, 0, "合計", "total")
        sheet.number(row, 1, report.in_unit(main.gender_total), "total_amount")
        sheet.percent(row, 2, _pct(main.gender_total, main.gender_total), "total_percent")
        sheet.percent(row, 3, _pct(main.gender_total, main.budget_total), "total_percent")
        row += 2
        return first, len(rows)

    class_first, class_count = table("依官方分類", [(report.class_name(k), main.by_class.get(k, Decimal(0)))
                                               for k, _ in report.classes()])
    cat_first, cat_count = table("依性別預算項目", [(report.category_name(k), v) for k, v in main.by_category.items()])
    table("依用途別科目", list(main.by_account.items()))
    row = _rounding_line(sheet, report, row, [main.year])
    row += 1
    sheet.text(row, 0, "資料來源", "title", fit=False)
    row += 1
    for source in report.sources:
        sheet.text(row, 0, f"{source['year']} 年度")
        sheet.text(row, 1, source["path"])
        sheet.text(row, 2, "附註工作簿（含覆核）" if source["kind"] == "annotated" else "預算匯出檔（依規則即時分類）")
        row += 1
    sheet.finish(0, 1, fixed={0: 34, 1: 18})
    if class_count:
        pie = book.wb.add_chart({"type": "pie"})
        pie.add_series({"name": "依官方分類",
                        "categories": [STATS_SHEET, class_first, 0, class_first + class_count - 1, 0],
                        "values": [STATS_SHEET, class_first, 1, class_first + class_count - 1, 1],
                        "data_labels": {"percentage": True, "category": True}})
        pie.set_title({"name": f"{main.year}年度性別預算（依官方分類）"})
        sheet.ws.insert_chart(3, 5, pie)
    if cat_count:
        bar = book.wb.add_chart({"type": "bar"})
        bar.add_series({"name": "依性別預算項目",
                        "categories": [STATS_SHEET, cat_first, 0, cat_first + cat_count - 1, 0],
                        "values": [STATS_SHEET, cat_first, 1, cat_first + cat_count - 1, 1]})
        bar.set_title({"name": f"{main.year}年度性別預算（依項目，{report.unit}）"})
        bar.set_legend({"none": True})
        sheet.ws.insert_chart(20, 5, bar)


def _evidence_sheet(book: _Book, report: Report) -> None:
    """附錄 判定依據: why each item counts (the matcher's evidence) and how its amount was estimated."""
    sheet = book.sheet(EVIDENCE_SHEET)
    main = report.main
    _title(sheet, report, f"{main.year}年度性別預算編列情形表 附錄：判定依據")
    header = 3
    titles = ("類別", "項目", f"性別預算數（{report.unit}）", "計算方式", "判定依據", "明細筆數")
    for c, title in enumerate(titles):
        sheet.text(header, c, title, "header")
    sheet.ws.freeze_panes(header + 1, 0)
    row = header + 1
    for item in main.items:
        sheet.text(row, 0, report.class_name(item.official_class), "cell")
        sheet.text(row, 1, item.title, "cell")
        sheet.number(row, 2, report.in_unit(item.amount), "cell_amount")
        sheet.text(row, 3, "；".join(item.estimates), "cell")
        sheet.text(row, 4, "\n".join(item.evidence) or "（未記錄）", "cell")
        sheet.number(row, 5, item.lines, "count")
        row += 1
    if not main.items:
        sheet.text(row, 0, "本年度無計入性別預算的項目。", "note", fit=False)
    sheet.finish(header, header, fixed={0: 16, 1: 36, 2: 13, 3: 24, 4: 50, 5: 9})


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return round_half_up(part * 100 / whole, "0.01")
