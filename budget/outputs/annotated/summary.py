"""摘要: every figure a formula of 明細's final columns (with its value), so a typed review shows at once."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import layout
from ..cells import display_width, not_written, quote_sheet
from ..layout import DATA_HEADER, OFFICIAL_CLASSES
from ...models import EXCLUDED, LINE, MATCHED, REVIEW, STATUS_LABELS, UNMATCHED

if TYPE_CHECKING:  # pragma: no cover
    from .book import Book


def write_summary(book: "Book", ws: Any) -> None:
    """The totals, the tool's verdicts, and the figures by category, official class and 工作計畫."""
    run, cells, unit = book.run, book.cells, book.unit
    ft = book.final_totals
    R = {k: book.range(k) for k in ("amount", "gender_amount", "status", "category_name",
                                    "suggested", "suggested_name", "review_category", "review_amount",
                                    "review_percent")}
    pending = (f'({R["status"]}="{STATUS_LABELS[REVIEW]}")*({R["review_category"]}="")'
               f'*({R["review_amount"]}="")*({R["review_percent"]}="")')
    cells.text(ws, 0, 0, "性別預算摘要", "title")
    cells.text(ws, 1, 0, f"規則檔：{run.rules.name}　產生時間：{run.started:%Y-%m-%d %H:%M}　gender-budget {run.tool_version}")
    cells.text(ws, 2, 0, f"金額單位：{unit}（{ft.unit_note}）；所有數字皆由「明細」的覆核欄與判定計算，填寫覆核後重新計算即更新", "bold")
    r = 4
    for c, title in enumerate(("項目", f"金額（{unit}）／行數", "說明")):
        cells.text(ws, r, c, title, "header")
    book.print_rows[layout.SUMMARY_SHEET] = (0, 2)
    reviewed = sum(1 for i, e in book.entries.items() if not e.is_blank and run.lines[i].kind == LINE)
    rows = [
        ("預算總額", f'=SUMIFS({R["amount"]},{R["status"]},"<>{STATUS_LABELS[EXCLUDED]}")', ft.budget_total,
         "amount_total", "明細各行「計算金額」合計（小計列不計）"),
        ("性別預算數", f'=SUM({R["gender_amount"]})', ft.gender_total, "amount_total",
         "明細「性別預算數」合計：工具判定符合者，加上覆核計入者"),
        ("性別預算占比", None, None, "percent2", ""),
        ("已覆核行數", f'=SUMPRODUCT(((({R["review_category"]}<>"")+({R["review_amount"]}<>"")+({R["review_percent"]}<>""))>0)'
                   f'*({R["status"]}<>"{STATUS_LABELS[EXCLUDED]}"))', reviewed, None, "覆核類別、覆核計入數或覆核比例有填寫的行"),
        ("待覆核行數", f"=SUMPRODUCT({pending})", ft.status_lines.get(REVIEW, 0), None,
         "判定為待覆核、尚未填寫覆核欄的行；請在「明細」的覆核類別等欄填寫（見「待覆核」工作表）"),
        ("待覆核建議數", f'=SUMPRODUCT({pending},{R["suggested"]})', ft.review_total, "amount",
         "上述各行的建議數合計（尚未計入性別預算數）"),
        ("性別預算數（含待覆核建議）", None, ft.gender_total + ft.review_total, "amount", ""),
    ]
    first = r + 1
    for label, formula, value, kind, note in rows:
        r += 1
        cells.text(ws, r, 0, label, "bold" if kind == "amount_total" else None)
        if label == "性別預算占比":
            share = ft.gender_total / ft.budget_total if ft.budget_total else Decimal(0)
            cells.formula(ws, r, 1, f"=IF(B{first + 1}=0,0,B{first + 2}/B{first + 1})", float(share), "percent2")
        elif formula is None:
            cells.formula(ws, r, 1, f"=B{first + 2}+B{first + 6}", value, kind)
        else:
            cells.formula(ws, r, 1, formula, value, kind)
        if note:
            cells.text(ws, r, 2, note, "wrap")
            lines = -(-display_width(note) // 60)
            if lines > 1 and ws.set_row(r, 13.5 * lines + 2):
                not_written(-1, ws, r, 2)
    gender_cell = f"$B${first + 2}"
    r = _verdicts(book, ws, r + 2, R)
    r = _by_category(book, ws, r + 2, R, pending, gender_cell)
    r = _by_class(book, ws, r + 2, R)
    _by_plan(book, ws, r + 2, R, pending)
    for c, width in enumerate((40, 20, 62, 16, 18, 14, 18, 12)):
        ws.set_column(c, c, width, cells.fmt("wrap" if c in (0, 2) else "plain"))


def _verdicts(book: "Book", ws: Any, r: int, R: dict[str, str]) -> int:
    cells, totals = book.cells, book.run.totals
    for c, title in enumerate(("工具判定", "行數", f"預算金額（{book.unit}）")):
        cells.text(ws, r, c, title, "header")
    for status in (MATCHED, REVIEW, UNMATCHED, EXCLUDED):
        r += 1
        label = STATUS_LABELS[status]
        cells.text(ws, r, 0, label)
        cells.formula(ws, r, 1, f'=COUNTIF({R["status"]},"{label}")', totals.status_lines.get(status, 0))
        if status != EXCLUDED:
            cells.formula(ws, r, 2, f'=SUMIFS({R["amount"]},{R["status"]},"{label}")',
                          totals.status_amounts.get(status, Decimal(0)), "amount")
    return r


def _by_category(book: "Book", ws: Any, r: int, R: dict[str, str], pending: str, gender_cell: str) -> int:
    cells, ft, unit = book.cells, book.final_totals, book.unit
    head = ("性別預算類別", "官方分類", "計入行數", f"性別預算數（{unit}）", "待覆核行數", f"待覆核建議數（{unit}）", "占性別預算")
    for c, title in enumerate(head):
        cells.text(ws, r, c, title, "header")
    book.category_rows = (r + 2, r + 1 + len(ft.by_category))  # 1-based, for the table by class
    for g in ft.by_category:
        r += 1
        cells.text(ws, r, 0, g.label)
        cells.text(ws, r, 1, OFFICIAL_CLASSES.get(g.official_class or 0, ""))
        # Exact comparison (SUMPRODUCT) where a name holds a character COUNTIF would take as a pattern.
        name = g.label.replace('"', '""')
        is_cat = f'({R["suggested_name"]}="{name}")'
        if any(ch in g.label for ch in "*?~") or g.label[:1] in "<>=":
            final = f'({R["category_name"]}="{name}")'
            cells.formula(ws, r, 2, f"=SUMPRODUCT(--{final})", g.matched_lines)
            cells.formula(ws, r, 3, f'=SUMPRODUCT(--{final},{R["gender_amount"]})', g.gender_amount, "amount")
        else:
            cells.formula(ws, r, 2, f'=COUNTIF({R["category_name"]},"{name}")', g.matched_lines)
            cells.formula(ws, r, 3, f'=SUMIFS({R["gender_amount"]},{R["category_name"]},"{name}")', g.gender_amount,
                          "amount")
        cells.formula(ws, r, 4, f"=SUMPRODUCT({pending}*{is_cat})", g.review_lines)
        cells.formula(ws, r, 5, f'=SUMPRODUCT({pending}*{is_cat},{R["suggested"]})', g.review_amount, "amount")
        part = g.gender_amount / ft.gender_total if ft.gender_total else Decimal(0)
        cells.formula(ws, r, 6, f"=IF({gender_cell}=0,0,D{r + 1}/{gender_cell})", float(part), "percent2")
    return r


def _by_class(book: "Book", ws: Any, r: int, R: dict[str, str]) -> int:
    """The five classes, each the sum of its categories' rows above (which sum 明細)."""
    cells, ft = book.cells, book.final_totals
    first, last = book.category_rows
    classes, lines, amounts = (f"${c}${first}:${c}${max(last, first)}" for c in "BCD")
    for c, title in enumerate(("官方分類", "計入行數", f"性別預算數（{book.unit}）")):
        cells.text(ws, r, c, title, "header")
    for g in ft.by_class:
        r += 1
        cells.text(ws, r, 0, g.label)
        cells.formula(ws, r, 1, f'=SUMIF({classes},"{g.label}",{lines})', g.matched_lines)
        cells.formula(ws, r, 2, f'=SUMIF({classes},"{g.label}",{amounts})', g.gender_amount, "amount")
    return r


def _by_plan(book: "Book", ws: Any, r: int, R: dict[str, str], pending: str) -> int:
    from xlsxwriter.utility import xl_col_to_name

    cells, ft = book.cells, book.final_totals
    if not ft.by_plan:
        return r
    letter = xl_col_to_name(DATA_HEADER.index("plan"))
    plans = f"{quote_sheet(layout.DATA_SHEET)}!${letter}$2:${letter}${max(len(book.run.lines) + 1, 2)}"
    head = ("工作計畫", "行數", f"預算金額（{book.unit}）", f"性別預算數（{book.unit}）", "待覆核行數")
    for c, title in enumerate(head):
        cells.text(ws, r, c, title, "header")
    excluded = STATUS_LABELS[EXCLUDED]
    for g in ft.by_plan:
        r += 1
        cells.text(ws, r, 0, g.label)
        # Exact comparison (SUMPRODUCT), not SUMIFS: plan names may hold * ? ~ or start with < > =.
        is_plan = f"({plans}=" + (f"$A${r + 1})" if g.key else '"")')
        cells.formula(ws, r, 1, f'=SUMPRODUCT({is_plan}*({R["status"]}<>"{excluded}"))', g.lines)
        cells.formula(ws, r, 2, f'=SUMPRODUCT(--{is_plan},{R["amount"]})', g.budget, "amount")
        cells.formula(ws, r, 3, f'=SUMPRODUCT(--{is_plan},{R["gender_amount"]})', g.gender_amount, "amount")
        cells.formula(ws, r, 4, f"=SUMPRODUCT({is_plan}*{pending})", g.review_lines)
    return r
