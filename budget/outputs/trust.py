"""The annotated workbook read back is checked, not trusted: the hidden 資料 sheet against its own check
codes, the digest in 紀錄 and the visible 明細; review cells holding formulas without a value are found."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from .layout import AMOUNT_TITLE, DATA_SHEET, DATA_UNIT_PREFIX, DETAIL_SHEET, REVIEW_KEYS
from .readback import AnnotatedRow, _find_title, _fmt, _text
from ..models import LINE
from ..money import convert
from ..problems import ERROR, BudgetError, Problem


class DataChecks:
    """The hidden 資料 sheet checked, not trusted: each record's own check ``k``, the SHA-256 of all
    records recorded in 紀錄, and each line's amount against the visible 明細 計算金額 cell.

    Workbooks of the older layout carry no checks; then only nothing is compared. Every mismatch is
    collected and the workbook is refused by row (:meth:`finish`).
    """

    def __init__(self, label: str, data: list[Any], log: list[Any]) -> None:
        from ..money import canonical_unit
        from .annotated.log import DATA_CHECK_LABEL, DETAIL_CHECK_LABEL

        self.label = label
        header = [_text(v) for v in data[0]] if data else []
        units = [h[len(DATA_UNIT_PREFIX):] for h in header if h.startswith(DATA_UNIT_PREFIX)]
        self.unit = canonical_unit(units[0]) if units else None
        self.expected_digest = _logged_digest(log, DATA_CHECK_LABEL)
        self.expected_detail_digest = _logged_digest(log, DETAIL_CHECK_LABEL)
        self.refusals: list[Problem] = []
        #: (row, record text, its check ``k``) of each record taken in
        self.records: list[tuple[int, str, Any]] = []
        self.formulas_without_value: set[tuple[int, int]] = set()
        self.checked = self.expected_digest is not None
        if self.checked:
            from .annotated.detail import record_check

            self._record_check = record_check

    def record(self, number: int, text: str, record: dict[str, Any]) -> None:
        """Take one 資料 record (row ``number``; ``text`` its JSON as stored) into the digest. Each record's own
        check is only computed when the digest differs (:meth:`finish`), to name the rows edited."""
        if self.checked:
            self.records.append((number, text, record.get("k")))

    def _digest(self, texts: list[str] | None = None) -> str:
        """The SHA-256 of the records taken in (or of ``texts``), each followed by a newline (as 紀錄 records it)."""
        if texts is None:
            texts = [r[1] for r in self.records]
        digest = hashlib.sha256()
        for start in range(0, len(texts), 10_000):  # a few large updates, not one per record
            digest.update(("\n".join(texts[start:start + 10_000]) + "\n").encode("utf-8"))
        return digest.hexdigest()

    def records_as_written(self, texts: list[str]) -> bool:
        """Are ``texts`` (every 資料 record, in order) the records 紀錄's digest was taken of?"""
        return self.checked and bool(texts) and self._digest(texts) == self.expected_digest

    def _edited_records(self) -> list[Problem]:
        """A refusal for each record whose own check ``k`` does not match its text."""
        edited = []
        for number, text, check in self.records:
            cut = text.rfind(',"k":"')
            if check is None or cut < 0 or self._record_check(text[:cut] + "}") != check:
                edited.append(Problem(
                    "annotated-data-edited", f"資料工作表第 {number} 列被修改過（檢查碼不符），不予採用",
                    "a record of the hidden data sheet was edited", ERROR, file=self.label, sheet=DATA_SHEET,
                    row=number, hint="資料工作表由工具寫入，請勿修改；請改在明細的覆核欄填寫，或重新執行 classify"))
        return edited

    def detail_amount(self, row: AnnotatedRow, raw: tuple[Any, ...], col: int | None, number: int) -> None:
        """Compare 明細's 計算金額 of ``row`` with its 資料 amount (in the workbook's unit)."""
        if not self.checked or self.unit is None or col is None or row.line.kind != LINE:
            return
        shown = raw[col] if col < len(raw) else None
        expected = None if row.line.amount is None else convert(row.line.amount, row.line.unit, self.unit)
        if isinstance(shown, (int, float)) and not isinstance(shown, bool):
            same = expected is not None and (shown == expected or  # exactly (most rows), else within 1e-12
                                             abs(Decimal(repr(shown)) - expected) <= abs(expected) * Decimal("1e-12"))
        else:
            same = expected is None or _text(shown).replace(",", "") == _fmt(expected)
        if not same:
            self.refusals.append(Problem(
                "annotated-amount-edited",
                f"明細第 {number} 列的「{AMOUNT_TITLE}」（{_text(shown) or '空白'}）與資料工作表的金額"
                f"（{_fmt(expected) or '空白'}）不符，不予採用", "the detail sheet's amount differs from the data sheet",
                ERROR, file=self.label, sheet=DETAIL_SHEET, row=number, column=AMOUNT_TITLE,
                hint="金額欄由工具寫入，請勿修改；請在覆核欄填寫覆核計入數"))

    def finish(self, problems: list[Problem]) -> None:
        """Refuse the workbook when anything did not match (every row named at once)."""
        differs = self.checked and self._digest() != self.expected_digest
        if differs:  # only now each record's own check (the digest matching says every record is as written)
            self.refusals[:0] = self._edited_records()
        if differs and not self.refusals:
            self.refusals.append(Problem(
                "annotated-data-edited", "資料工作表的列被新增、刪除或修改過（與紀錄中的檢查碼不符），不予採用",
                "rows of the hidden data sheet were added, deleted or edited", ERROR, file=self.label,
                sheet=DATA_SHEET))
        if self.refusals:
            raise BudgetError(self.refusals)


def _logged_digest(log: list[Any], label: str) -> str | None:
    """The SHA-256 that 紀錄 recorded under ``label``, or None (an older workbook)."""
    for raw in log:
        if raw and _text(raw[0]).strip() == label:
            return _text(raw[1]).strip() if len(raw) > 1 else ""
    return None


def review_columns(detail: list[Any], columns: list[int] | None = None) -> set[int]:
    """The sheet columns (1-based) of 明細's review columns, found by their titles in ``detail``'s row 1
    (``columns``: the sheet column, 0-based, of each of its cells when only some columns were read)."""
    header = [_text(v) for v in detail[0]] if detail else []
    found = [i for i in (_find_title(header, k) for k in REVIEW_KEYS) if i is not None]
    return {(columns[i] if columns is not None else i) + 1 for i in found}
