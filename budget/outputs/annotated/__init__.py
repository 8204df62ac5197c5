"""The annotated workbook (摘要/明細/待覆核/規則/紀錄/資料): one module per sheet, written in one pass.

明細 carries the reviewer's columns (覆核類別, 覆核計入數, 覆核比例, 覆核說明); the final category and
性別預算數 of each line are formulas of the tool's decision and those columns, and every figure of 摘要
is a formula of them, so a review typed in Excel or LibreOffice shows at once. Cells are written
through :mod:`budget.outputs.cells` only.
"""

from __future__ import annotations

from ..cells import clean_text, display_width
from .book import CONSTANT_MEMORY_ABOVE, WorkbookReport, write_annotated_workbook

__all__ = ["CONSTANT_MEMORY_ABOVE", "WorkbookReport", "clean_text", "display_width", "write_annotated_workbook"]
