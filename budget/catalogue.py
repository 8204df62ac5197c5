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
    "amount-unreadable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-amount-edited": Entry(ERROR, "明細的計算金額與資料工作表不符（被修改過），附註工作簿不予採用", "the detail sheet's amount differs from the data sheet", "金額由工具寫入，請勿修改；請在覆核欄填寫覆核計入數"),
    "annotated-bad-amount": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-bad-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-bad-status": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-data-edited": Entry(ERROR, "隱藏的資料工作表被修改過（檢查碼不符），附註工作簿不予採用", "the hidden data sheet was edited", "請勿修改資料工作表；請重新執行 classify"),
    "annotated-decision-edited": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-misaligned": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-missing-sheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-no-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-no-review-column": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "annotated-review-without-line": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "bad-unit": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "cell-not-written": Entry(ERROR, "寫入程式拒絕寫入某儲存格，未產出檔案", "the spreadsheet writer refused a cell; nothing was written"),
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
    "input-empty": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-encoding": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-is-directory": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "input-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "internal-error": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "map-field-unknown": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "map-header-unused": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
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
    "review-amount-and-share": Entry(ERROR, "覆核計入數與覆核比例只能擇一填寫", "fill either the amount or the percentage, not both"),
    "review-amount-negative": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-amount-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-amount-unreadable": Entry(ERROR, "覆核計入數不是金額", "the reviewed amount is not a number"),
    "review-carried": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-formula-no-value": Entry(ERROR, "覆核欄是公式但沒有計算結果", "a review cell holds a formula without a computed value", "開啟後重新計算並存檔，或直接填入數值"),
    "review-malformed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-no-amount": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-no-category": Entry(ERROR, "填了覆核計入數或比例，但沒有覆核類別", "an amount or a percentage without a category", "請在覆核類別選擇類別"),
    "review-none-with-share": Entry(ERROR, "覆核類別為不列入，卻又填了計入數或比例", "不列入 with an amount or a percentage"),
    "review-not-placed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-not-written": Entry(WARNING, "沿用的覆核無法寫入覆核欄", "a carried review could not be written into the review columns"),
    "review-on-total-row": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-share-out-of-range": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-share-unreadable": Entry(ERROR, "覆核比例不是比例", "the reviewed percentage is not a number"),
    "review-unknown-category": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "reviewed-not-annotated": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-encoding": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-invalid": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-syntax": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-empty": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-hidden": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-ignored": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-no-data": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-no-header": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "sheet-not-worksheet": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "text-too-long": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "too-many-rows": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "total-amount-unreadable": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "total-mismatch": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "unit-conflict": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "unit-unknown": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "usage": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
}
