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
    "ods-unavailable": Entry(ERROR, "無法產出 .ods 附註工作簿", "OpenDocument output is unavailable here", "請下載 .xlsx，或安裝 LibreOffice"),
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
    "report-not-annotated": Entry(ERROR, "上傳的檔案不是本工具產出的附註工作簿", "not an annotated workbook", "請上傳由 classify 或網頁下載的附註工作簿"),
    "report-several-years": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "report-unknown-category": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-amount-negative": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-amount-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-carried": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-invalid": Entry(ERROR, "網頁覆核無法套用（類別、計入數或比例不正確）", "a browser review cannot be applied", "類別選「不列入」或規則中的類別；計入數與比例擇一"),
    "review-malformed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-no-amount": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-not-applied": Entry(WARNING, "先前儲存的網頁覆核已不適用，未寫入工作簿", "a saved browser review no longer applies"),
    "review-not-placed": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-on-total-row": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-share-out-of-range": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "review-unknown-category": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "reviewed-not-annotated": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-encoding": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-invalid": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-not-found": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-syntax": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "rules-too-large": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "serve-needs-password": Entry(ERROR, "serve 的 --host 不是本機時必須設定 --password", "a non-local --host needs --password", "只在本機使用時省略 --host"),
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
    "upload-bad-type": Entry(ERROR, "不接受此類上傳檔案", "this kind of file is not accepted here", "預算明細：.xlsx .xls .ods .csv；規則檔：.toml"),
    "usage": Entry(ERROR, "", ""),  # TODO(catalogue): fill in
    "web-no-file": Entry(ERROR, "表單未選擇檔案", "no file was chosen"),
    "web-request-refused": Entry(ERROR, "網頁請求被拒絕（找不到、跨站、過大或尚未完成）", "the request was refused"),
    "web-run-missing": Entry(ERROR, "找不到此次分類的上傳檔或規則檔，或分類尚未完成", "the run's files are missing or it has not finished"),
}
