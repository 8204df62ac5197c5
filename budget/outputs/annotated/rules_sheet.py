"""規則: the rules file and its categories; the category table the 明細 formulas and drop-down look up."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import layout
from ..cells import display_width, not_written, quote_sheet
from ..layout import NAME_CLASSES, NAME_IDS, NAME_NAMES, NAME_SHARES, OFFICIAL_CLASSES
from ...check import describe_conditions
from ...review import NONE_CHOICE

if TYPE_CHECKING:  # pragma: no cover
    from .book import Book

HEAD = ("類別代碼 id", "名稱", "英文名稱", "官方分類", "性別目標", "依據", "條件", "計入比例", "需人工覆核", "優先順序")


def write_rules(book: "Book", ws: Any) -> None:
    """The rules file's facts, then one row per category; defines the names the 明細 formulas use."""
    rules, cells = book.run.rules, book.cells
    facts = [("規則檔", rules.name), ("路徑", rules.path), ("SHA-256", rules.sha256), ("金額單位（規則檔預設）", rules.unit)]
    for r, (label, value) in enumerate(facts):
        cells.text(ws, r, 0, label, "bold")
        cells.text(ws, r, 1, str(value))
    top = len(facts) + 1
    for c, title in enumerate(HEAD):
        cells.text(ws, top, c, title, "header")
    widths = [display_width(h) for h in HEAD]
    r = top
    for cat in rules.categories:
        r += 1
        values = [cat.id, cat.name, cat.name_en, OFFICIAL_CLASSES.get(cat.official_class, str(cat.official_class)),
                  cat.goal, cat.basis, describe_conditions(cat), None, "是" if cat.review else "", None]
        for c, value in enumerate(values):
            if value:
                cells.text(ws, r, c, value, "wrap" if c in (4, 5, 6) else None)
                widths[c] = max(widths[c], display_width(str(value)[:80]))
        cells.percent(ws, r, 7, Decimal(cat.share_percent))
        cells.number(ws, r, 9, cat.priority)
    r += 1
    cells.text(ws, r, 0, "（覆核用）")
    cells.text(ws, r, 1, NONE_CHOICE)
    cells.text(ws, r, 4, "不計入性別預算")
    first, last = top + 2, max(r, top + 1)  # 1-based rows of the categories (the 不列入 row is r + 1)
    sheet = quote_sheet(layout.RULES_SHEET)
    for name, letter in ((NAME_IDS, "A"), (NAME_NAMES, "B"), (NAME_CLASSES, "D"), (NAME_SHARES, "H")):
        if book.wb.define_name(name, f"={sheet}!${letter}${first}:${letter}${last}"):
            not_written(-1, ws, first - 1, 0)
    book.choices_range = f"={sheet}!$B${first}:$B${r + 1}"
    for c, w in enumerate(widths):
        ws.set_column(c, c, min(max(w + 2, 8), 50 if c in (4, 5, 6) else 30), book.cells.fmt("wrap" if c in (4, 5, 6) else "plain"))
    ws.freeze_panes(top + 1, 0)
    book.print_rows[layout.RULES_SHEET] = (top, top)
