"""The annotated workbook's layout: sheet names and column titles shared by writer and readers.

The 明細 sheet shows every input row with its original columns followed by :data:`ADDED_COLUMNS`.
The hidden 資料 sheet holds the same lines in machine-readable form (:data:`DATA_HEADER`, a JSON
object of :data:`DATA_COLUMNS` per line, amounts as exact decimal text), row for row with 明細, so
``report`` and ``classify --reviewed`` can read a workbook back without guessing which original
column meant what.
"""

from __future__ import annotations

SUMMARY_SHEET = "摘要"
DETAIL_SHEET = "明細"
REVIEW_SHEET = "待覆核"
RULES_SHEET = "規則"
LOG_SHEET = "紀錄"
DATA_SHEET = "資料"

#: (key, zh-TW title) of the columns added after the original ones on 明細. ``status`` is the
#: tool's 判定, ``suggested_name``/``suggested`` its suggested category and gender amount (matched and
#: review lines), ``unit`` the line's own unit (覆核計入數 is in it); the four review columns are the
#: reviewer's; ``category_name`` (the final category, by its name) and ``gender_amount`` are the final
#: decision, formulas of the tool's decision and the review columns (with their computed values).
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "判定"),
    ("suggested_name", "建議類別"),
    ("suggested", "建議數"),
    ("unit", "單位"),
    ("review_category", "覆核類別"),
    ("review_amount", "覆核計入數"),
    ("review_percent", "覆核比例"),
    ("review_note", "覆核說明"),
    ("category_name", "性別預算類別"),
    ("gender_amount", "性別預算數"),
    ("evidence", "判定依據"),
    ("rule", "規則"),
    ("source", "來源"),
)
#: The reviewer's columns on 明細 (typed into; everything else is the tool's).
REVIEW_KEYS = ("review_category", "review_amount", "review_percent", "review_note")
#: Title of the one free-text review column of the previous layout (still read).
LEGACY_REVIEW_TITLE = "覆核"
#: Columns of the previous layout that this one no longer has (still read from older workbooks).
LEGACY_TITLES = {"review": LEGACY_REVIEW_TITLE, "category": "類別代碼", "official_class": "官方分類"}

#: Title of the column written on 明細 between the original columns and :data:`ADDED_COLUMNS`: each
#: line's amount in the workbook's unit (see 摘要/紀錄), blank for subtotal rows; the 摘要 totals sum it.
AMOUNT_TITLE = "計算金額"

#: Fields of each line on the hidden 資料 sheet, as keys of a JSON object (amounts as exact decimal text).
DATA_COLUMNS: tuple[str, ...] = (
    "file", "sheet", "row", "kind", "year", "agency", "plan", "branch", "account_code", "account",
    "description", "amount", "unit", "status", "category", "share_percent", "gender_amount", "rule",
    "context",
)

#: The 資料 sheet's header (row 1). From row 2, one line per row in 明細's order: column A its 工作計畫
#: (the 摘要 groups by it with formulas), column B the JSON object of its :data:`DATA_COLUMNS`.
#: One cell per line instead of one per field: this sheet is for machines, and writing it is paid
#: on every run.
DATA_HEADER: tuple[str, ...] = ("plan", "line")
#: Prefix of the 資料 header cell after :data:`DATA_HEADER` naming the workbook's unit (the unit of 明細's
#: amounts). Each record also carries its own check ``k`` and 紀錄 the SHA-256 of all records, so that an
#: edited record is found by row (older workbooks have neither).
DATA_UNIT_PREFIX = "unit:"
#: Defined names the 明細 formulas use for the 規則 sheet's category table.
NAME_IDS, NAME_NAMES, NAME_CLASSES, NAME_SHARES = "gb_ids", "gb_names", "gb_classes", "gb_shares"

from ..models import OFFICIAL_CLASSES  # noqa: E402,F401  (the domain's five classes; sheets show them)
