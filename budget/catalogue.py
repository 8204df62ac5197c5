"""Every problem code the tool raises, once: severity, what it means (zh-TW and English), the usual remedy.

A problem raised anywhere uses one of these codes; ``tests/test_problem_catalogue.py`` checks that every
code written in ``budget/`` is listed here. Append new codes in alphabetical order (one line each).
"""

from __future__ import annotations

from typing import NamedTuple

from .problems import ERROR, WARNING  # noqa: F401


class Entry(NamedTuple):
    """One code: how bad, what it means in zh-TW and in English, and the usual remedy."""

    severity: str
    message: str
    message_en: str
    hint: str = ""


#: code → entry. Messages here are templates; the problem itself carries the specific words.
CATALOGUE: dict[str, Entry] = {
    "against-not-annotated": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "amount-too-large": Entry(ERROR, "金額超過預算能容納的範圍（超過 15 位有效數字或大於 10 的 15 次方）。", "an amount beyond what a budget can hold (more than 15 significant digits, or 10^15 and more)", "確認此儲存格；試算表本身也無法精確計算這樣的數字"),
    "amount-unreadable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-bad-amount": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-bad-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-bad-status": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-decision-edited": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-misaligned": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-missing-sheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-no-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-no-review-column": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-review-without-line": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "bad-unit": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "code-stored-as-number": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "control-character-replaced": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "control-chars": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "encoding-failed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "encoding-invalid": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "encoding-unknown": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-corrupt": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-empty": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-encrypted": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-extension-mismatch": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-is-directory": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-is-html": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-is-text": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-is-xlsb": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-is-xml-spreadsheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-not-spreadsheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-too-complex": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-unreadable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "file-unsafe-xml": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "formula-cached-zero": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "formula-no-value": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "formula-no-value-total": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "header-ambiguous": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "header-missing-column": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "header-no-description": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "header-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "header-renamed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-changed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-duplicate": Entry(ERROR, "同一個檔案指定了兩次，其明細會重複計算。", "the same file is given twice; its lines would count twice", "每個檔案只指定一次"),
    "input-empty": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-encoding": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-is-directory": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "internal-error": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "map-field-unknown": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "map-header-unused": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "memory-budget-exceeded": Entry(ERROR, "讀取所需的記憶體估計超過上限。", "the estimated memory of the read passed its budget", "刪除多餘的列與欄、分檔，或以 GENDER_BUDGET_MEMORY_MB 提高上限"),
    "no-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "no-data-sheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "number-as-text": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-bad-suffix": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-folder-missing": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-folder-not-writable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-has-reviews": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-is-directory": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-is-input": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-is-reviewed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-open": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-readonly": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-verify-failed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "output-write-failed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "reader-unavailable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "report-duplicate-year": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "report-no-year": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "report-several-years": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "report-unknown-category": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-amount-negative": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-amount-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-carried": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-malformed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-no-amount": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-not-placed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-on-total-row": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-share-out-of-range": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-unknown-category": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "reviewed-not-annotated": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "row-repeated": Entry(ERROR, "含資料的列宣告重複超過 1,000 次，不像預算明細。", "a row holding data is declared repeated more than 1,000 times", "用 LibreOffice 開啟確認後重新匯出"),
    "rules-encoding": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-invalid": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-syntax": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "shared-string-invalid": Entry(ERROR, "儲存格指向不存在的共用字串，檔案已損毀。", "a cell points at a shared string the file does not hold: the file is damaged", "重新匯出，或用 Excel 開啟後另存新檔"),
    "sheet-empty": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-hidden": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-ignored": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-no-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-no-header": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-not-worksheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "text-too-long": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "too-many-columns": Entry(ERROR, "資料超過試算表上限 16,384 欄（XFD）。", "data past the 16,384 columns a sheet can hold", "刪除多餘的欄後重新匯出"),
    "too-many-rows": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "total-amount-unreadable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "total-mismatch": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "unit-conflict": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "unit-unknown": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "usage": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
}
