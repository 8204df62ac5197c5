"""Writing the annual report workbook (性別預算編列情形表, 年度比較, 統計) with xlsxwriter, atomically.

Every text from the inputs goes through ``write_string`` in a workbook opened with
strings_to_formulas/urls/numbers off, so a description such as ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from ..money import round_half_up
from ..report import AMOUNT_COLUMNS, COUNT_COLUMNS, PERCENT_COLUMNS, Report
from .cells import display_width

TABLE_SHEET = "性別預算編列情形表"
COMPARE_SHEET = "年度比較"
STATS_SHEET = "統計"
MAX_TEXT = 32_767
TRUNCATED = "…（內容過長已截斷，完整內容見附註工作簿）"
_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "#", "{")


def default_output(report: Report, first_input: str | Path) -> Path:
    """``<folder of the first input>/<year>年度性別預算報告.xlsx``."""
    return Path(first_input).resolve().parent / f"{report.report_year}年度性別預算報告.xlsx"


def write_report_workbook(report: Report, output: str | Path, inputs: Sequence[str | Path] = ()) -> Path:
    """Write the report to ``output`` atomically (budget.outputs.atomic): never over one of ``inputs``,
    and on any failure an existing ``output`` is left as it was."""
    from .atomic import atomic_write

    atomic_write(output, lambda temp: _write(report, str(temp)), inputs=inputs)
    return Path(output)


class _Sheet:
    """A worksheet with typed writers and column-width tracking."""

    def __init__(self, book: "_Book", name: str) -> None:
        self.ws = book.wb.add_worksheet(name)
        self.book = book
        self.widths: dict[int, int] = {}

    def _fit(self, col: int, text: str) -> None:
        longest = max((display_width(part) for part in text.split("\n")), default=0)
        self.widths[col] = max(self.widths.get(col, 0), min(longest + 2, 60))

    def text(self, row: int, col: int, value: Any, fmt: str = "text", fit: bool = True) -> None:
        """Write ``value`` as text; ``fit=False`` for titles and notes that may run past their column."""
        text = "" if value is None else str(value)
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - len(TRUNCATED)] + TRUNCATED
        if text.startswith(_RISKY_START) and fmt == "text":
            fmt = "text_qp"
        self.ws.write_string(row, col, text, self.book.formats[fmt])
        if fit:
            self._fit(col, text)

    def number(self, row: int, col: int, value: Decimal | int | None, fmt: str = "amount") -> None:
        if value is None:
            self.ws.write_blank(row, col, None, self.book.formats[fmt])
            return
        self.ws.write_number(row, col, float(value), self.book.formats[fmt])
        self._fit(col, f"{float(value):,.0f}" if fmt.startswith("amount") else "100.00%")

    def percent(self, row: int, col: int, value: Decimal | None, fmt: str = "percent") -> None:
        """``value`` is in percent (12.34 → 12.34%)."""
        self.number(row, col, None if value is None else value / 100, fmt)

    def finish(self, minimum: int = 8) -> None:
        for col, width in self.widths.items():
            self.ws.set_column(col, col, max(width, minimum))


class _Book:
    def __init__(self, path: str) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                             "strings_to_numbers": False})
        base = {"font_name": "Microsoft JhengHei", "font_size": 11, "valign": "top"}
        spec: dict[str, dict[str, Any]] = {
            "text": {"text_wrap": True},
            "text_qp": {"text_wrap": True, "quote_prefix": True},
            "title": {"bold": True, "font_size": 14},
            "unit": {"italic": True},
            "header": {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "align": "center",
                       "valign": "vcenter"},
            "amount": {"num_format": "#,##0"},
            "percent": {"num_format": "0.00%"},
            "count": {"num_format": "0"},
            "group": {"bold": True, "bg_color": "#F2F2F2", "text_wrap": True},
            "group_amount": {"bold": True, "bg_color": "#F2F2F2", "num_format": "#,##0"},
            "group_percent": {"bold": True, "bg_color": "#F2F2F2", "num_format": "0.00%"},
            "total": {"bold": True, "top": 1, "bottom": 6},
            "total_amount": {"bold": True, "top": 1, "bottom": 6, "num_format": "#,##0"},
            "total_percent": {"bold": True, "top": 1, "bottom": 6, "num_format": "0.00%"},
            "note": {"italic": True, "font_color": "#7F6000"},
        }
        self.formats = {name: self.wb.add_format({**base, **props}) for name, props in spec.items()}

    def sheet(self, name: str) -> _Sheet:
        return _Sheet(self, name)


def _write(report: Report, path: str) -> None:
    book = _Book(path)
    _table_sheet(book, report)
    if len(report.years) > 1:
        _compare_sheet(book, report)
    _stats_sheet(book, report)
    book.wb.set_properties({"title": f"{report.report_year}年度性別預算報告", "comments": "gender-budget report"})
    book.wb.close()


def _title(sheet: _Sheet, report: Report, text: str) -> None:
    agency = f"{report.agency} " if report.agency else ""
    sheet.text(0, 0, f"{agency}{text}", "title", fit=False)
    sheet.text(1, 0, f"單位：新臺幣{report.unit}", "unit", fit=False)
    sheet.ws.set_row(0, 22)


def _table_sheet(book: _Book, report: Report) -> None:
    sheet = book.sheet(TABLE_SHEET)
    columns = report.columns
    _title(sheet, report, f"{report.report_year}年度性別預算編列情形表")
    header = 3
    for c, column in enumerate(columns):
        sheet.text(header, c, column.title, "header")
    sheet.ws.freeze_panes(header + 1, 0)
    row = header + 1
    main = report.main
    keys = [c.key for c in columns]

    def group_row(label: str, amount: Decimal, style: str) -> None:
        for c, key in enumerate(keys):
            if c == 0:
                sheet.text(row, c, label, style)
            elif key == "amount":
                sheet.number(row, c, report.in_unit(amount), f"{style}_amount")
            else:
                sheet.text(row, c, "", style)

    for klass, items in report.items_by_class():
        group_row(f"{report.class_name(klass)}　小計", main.by_class.get(klass, Decimal(0)), "group")
        row += 1
        for item in items:
            for c, key in enumerate(keys):
                value = report.column_value(item, key)
                if key in AMOUNT_COLUMNS:
                    sheet.number(row, c, value, "amount")
                elif key in PERCENT_COLUMNS:
                    sheet.percent(row, c, value)
                elif key in COUNT_COLUMNS:
                    sheet.number(row, c, value, "count")
                else:
                    sheet.text(row, c, value)
            row += 1
    group_row("總計", main.gender_total, "total")
    total_row = row
    row += 2
    notes = [n for n in report.notes if n.year == main.year and (n.scope.startswith("編列情形表") or n.scope == "待覆核")]
    if not main.items:
        sheet.text(row, 0, "本年度無計入性別預算的項目。", "note")
        row += 1
    for note in notes:
        sheet.text(row, 0, "附註：" + note.message, "note", fit=False)
        row += 1
    sheet.finish()
    if keys:
        sheet.ws.autofilter(header, 0, total_row - 1 if total_row > header + 1 else header, len(keys) - 1)


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
    classes = sorted({k for y in report.years for k in y.by_class})
    class_rows = [(report.class_name(k), {y.year: y.by_class.get(k, Decimal(0)) for y in report.years}) for k in classes]
    class_header, class_first = table("依官方分類", class_rows, totals)
    ids = [cid for cid in report.categories if any(cid in y.by_category for y in report.years)]
    cat_rows = [(f"{report.category_name(cid)}（{cid}）", {y.year: y.by_category.get(cid, Decimal(0)) for y in report.years})
                for cid in ids]
    table("依性別預算項目", cat_rows, totals)

    sheet.text(row, 0, "新增或消失的項目", "title", fit=False)
    row += 1
    for c, title in enumerate(("比較年度", "狀態", "項目（類別／工作計畫／分支計畫）", f"金額（{report.unit}）")):
        sheet.text(row, c, title, "header")
    row += 1
    items = [c for c in report.changes if c.level == "item"]
    for change in items:
        sheet.text(row, 0, f"{change.from_year}→{change.to_year}")
        sheet.text(row, 1, "新增" if change.status == "new" else "消失")
        sheet.text(row, 2, change.name)
        sheet.number(row, 3, report.in_unit(change.after if change.status == "new" else change.before))
        row += 1
    if not items:
        sheet.text(row, 0, "無")
        row += 1
    sheet.finish()

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

    class_first, class_count = table("依官方分類", [(report.class_name(k), v) for k, v in sorted(main.by_class.items())])
    cat_first, cat_count = table("依性別預算項目",
                                 [(f"{report.category_name(k)}（{k}）", v) for k, v in main.by_category.items()])
    table("依用途別科目", list(main.by_account.items()))
    notes = [n for n in report.notes if n.year == main.year and n.scope.startswith("依")]
    for note in notes:
        sheet.text(row, 0, "附註：" + note.message, "note", fit=False)
        row += 1
    row += 1
    sheet.text(row, 0, "資料來源", "title", fit=False)
    row += 1
    for source in report.sources:
        sheet.text(row, 0, f"{source['year']} 年度")
        sheet.text(row, 1, source["path"])
        sheet.text(row, 2, "附註工作簿（含覆核）" if source["kind"] == "annotated" else "預算匯出檔（依規則即時分類）")
        row += 1
    sheet.finish()
    sheet.ws.set_column(1, 1, 18)
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


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return round_half_up(part * 100 / whole, "0.01")


