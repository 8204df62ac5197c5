"""Reading an annotated workbook (the output of `classify`) back: its lines, decisions and 覆核 entries.

Lines and amounts come from the hidden 資料 sheet (exact decimal text, never cached formula values);
the reviewer's 覆核 and 覆核說明 come from 明細, whose columns are found by their titles in row 1.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .layout import ADDED_COLUMNS, DATA_HEADER, DATA_SHEET, DETAIL_SHEET, OFFICIAL_CLASSES
from ..models import LINE, STATUS_LABELS, STATUSES, TOTAL, Decision, LineItem
from ..money import AmountError, parse_amount
from ..problems import WARNING, BudgetError, Problem

TITLES = dict(ADDED_COLUMNS)
#: Largest workbook part scanned for sheet names (the guarded reader checks the whole package).
MAX_UNCOMPRESSED = 1 << 30
#: Most rows read from each of 明細 and 資料.
MAX_ROWS = 1_048_576  # an .xlsx worksheet's own limit


@dataclass
class AnnotatedRow:
    """One line of an annotated workbook: the line, the decision recorded, and the reviewer's entry."""

    line: LineItem
    decision: Decision
    review: str = ""
    review_note: str = ""
    explanation: str = ""
    category_name: str = ""
    official_class: int | None = None
    workbook: str = ""
    detail_sheet: str = DETAIL_SHEET
    detail_row: int | None = None
    #: The review columns' entry (this layout); None for a workbook of the older one-cell 覆核 layout.
    entry: "ReviewEntry | None" = None

    @property
    def review_entry(self) -> "ReviewEntry":
        """The reviewer's entry for this line (a one-cell 覆核 of the older layout split without rules)."""
        from ..review import ReviewEntry, entry_from_text

        if self.entry is not None:
            return self.entry
        return entry_from_text(self.review, self.line, self.review_note) if self.review else ReviewEntry(
            note=self.review_note)

    def where(self) -> str:
        """``LAST.xlsx 明細第 12 列`` for messages."""
        name = Path(self.workbook).name if self.workbook else ""
        return f"{name} {self.detail_sheet}第 {self.detail_row} 列".strip()

    def review_location(self) -> dict[str, Any]:
        """Where the 覆核 entry is, as Problem location fields."""
        return {"file": self.workbook or None, "sheet": self.detail_sheet, "row": self.detail_row,
                "column": TITLES["review"]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the line's fields, its recorded decision and the review."""
        return {
            **line_fields(self.line),
            "status": self.decision.status, "category": self.decision.category,
            "gender_amount": _fmt(self.decision.gender_amount),
            "review": self.review, "review_note": self.review_note,
            "workbook": self.workbook, "detail_row": self.detail_row,
        }


def line_fields(line: LineItem) -> dict[str, Any]:
    """A line's own fields as JSON-ready data (amount as decimal text)."""
    return {
        "file": line.file, "sheet": line.sheet, "row": line.row, "year": line.year, "plan": line.plan,
        "branch": line.branch, "account_code": line.account_code, "account": line.account,
        "description": line.description, "amount": _fmt(line.amount), "unit": line.unit,
    }


def _fmt(value: Decimal | None) -> str | None:
    from ..money import format_amount

    return None if value is None else format_amount(value)


@dataclass
class AnnotatedWorkbook:
    """An annotated workbook as read back."""

    path: str
    sha256: str
    rows: list[AnnotatedRow]
    problems: list[Problem] = field(default_factory=list)

    @property
    def lines(self) -> list[LineItem]:
        return [r.line for r in self.rows]

    @property
    def years(self) -> list[int]:
        """The distinct years of the lines, ascending."""
        return sorted({r.line.year for r in self.rows if r.line.year is not None})

    @property
    def agencies(self) -> list[str]:
        return sorted({r.line.agency for r in self.rows if r.line.agency})

    def reviewed(self) -> list[AnnotatedRow]:
        """Rows with a 覆核 entry."""
        return [r for r in self.rows if r.review.strip()]


def is_annotated(path: str | Path) -> bool:
    """Is ``path`` an annotated workbook (an .xlsx or .ods with the 明細 and 資料 sheets)?

    Decided cheaply from the package's workbook part, without reading any cells.
    """
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    wanted = [f'name="{name}"'.encode() for name in (DETAIL_SHEET, DATA_SHEET)]
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            part = "xl/workbook.xml" if "xl/workbook.xml" in names else "content.xml" if "content.xml" in names else None
            if part is None or zf.getinfo(part).file_size > MAX_UNCOMPRESSED:
                return False
            found: set[bytes] = set()
            tail = b""
            with zf.open(part) as fh:  # streamed: an .ods keeps its sheet names in the (large) content.xml
                while chunk := fh.read(1 << 20):
                    text = tail + chunk
                    found.update(w for w in wanted if w in text)
                    if len(found) == len(wanted):
                        return True
                    tail = text[-64:]
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, ValueError):
        return False
    return False


def _text(value: Any) -> str:
    """A cell value as text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_annotated(path: str | Path, *, max_rows: int = MAX_ROWS) -> AnnotatedWorkbook:
    """Read an annotated workbook written by `classify` (and perhaps edited by a reviewer, in Excel or
    LibreOffice, saved as .xlsx or .ods).

    Cells are read by the guarded reader (budget.exports.sniff, budget.exports.sheet_worker). Raises
    :class:`BudgetError` when the file is not such a workbook or its 明細 rows can no longer be
    matched to the 資料 rows (for example after sorting or deleting rows).
    """
    from ..exports.sniff import ODS, XLS, XLSX, sniff

    path = Path(path)
    label = str(path)
    if sniff(path, label).format not in (XLSX, XLS, ODS) or not is_annotated(path):
        raise BudgetError.one(
            "annotated-missing-sheet", f"不是附註工作簿：找不到「{DETAIL_SHEET}」與「{DATA_SHEET}」工作表",
            "not an annotated workbook (no 明細 and 資料 sheets)", file=label,
            hint="請指定 gender-budget classify 產出的 .性別預算.xlsx（可另存為 .ods）")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    grids = _read_sheets(path, label, [DETAIL_SHEET, DATA_SHEET], max_rows)
    problems: list[Problem] = []
    lines, decisions = _read_data(grids.get(DATA_SHEET, []), label, problems)
    rows = _read_detail(grids.get(DETAIL_SHEET, []), lines, decisions, label, problems)
    return AnnotatedWorkbook(label, digest, rows, problems)


def reviewed_detail_rows(path: str | Path, *, max_rows: int = MAX_ROWS) -> list[int]:
    """The 明細 rows (1-based) of an annotated workbook whose 覆核 or 覆核說明 cell is filled in.

    Reads only the 明細 sheet, and does not need its rows to still match 資料 (a reviewer may have
    sorted them): this is what protects a reviewer's work from being overwritten.
    """
    path = Path(path)
    rows = _read_sheets(path, str(path), [DETAIL_SHEET], max_rows).get(DETAIL_SHEET, [])
    header = [_text(v) for v in rows[0]] if rows else []
    cols = [c for c in (_find_title(header, "review"), _find_title(header, "review_note")) if c is not None]
    return [number for number, raw in enumerate(rows[1:], start=2)
            if any(c < len(raw) and _text(raw[c]).strip() for c in cols)]


def _read_sheets(path: Path, label: str, names: list[str], max_rows: int) -> dict[str, list[list[Any]]]:
    """The cells of sheets ``names`` (hidden ones too), read by calamine in a guarded child process."""
    from ..exports import sheet_worker

    if not hasattr(sheet_worker, "start_worker"):  # the reader's earlier, non-streaming interface
        return {g.name: g.rows for g in sheet_worker.read_grids(path, label, sheets=names, max_rows=max_rows).grids}
    handle = sheet_worker.start_worker(path, label, sheets=names, max_rows=max_rows)
    out: dict[str, list[list[Any]]] = {}
    try:
        for sheet in handle.sheets():
            rows: list[list[Any]] = []
            for chunk in sheet.more or ():
                rows.extend(chunk)
            out[sheet.name] = rows
    except BaseException:
        handle.cancel()
        raise
    return out


def _read_data(rows: list[Any], label: str, problems: list[Problem]) -> tuple[list[LineItem], list[Decision]]:
    if not rows:
        raise BudgetError.one("annotated-no-data", "資料工作表是空的", "the data sheet is empty", file=label,
                              sheet=DATA_SHEET)
    header = [_text(v) for v in rows[0]]
    if tuple(header[:len(DATA_HEADER)]) != DATA_HEADER:
        raise BudgetError.one("annotated-bad-data", f"資料工作表的表頭應為 {'、'.join(DATA_HEADER)}",
                              "the data sheet's header is not the expected one", file=label, sheet=DATA_SHEET, row=1,
                              hint="請用 gender-budget classify 重新產出附註工作簿")
    lines: list[LineItem] = []
    decisions: list[Decision] = []
    for number, raw in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in raw):
            break
        try:
            record = json.loads("".join(_text(v) for v in raw[1:]))
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise BudgetError.one("annotated-bad-data", "資料工作表的內容已損壞（無法解讀），請重新產出附註工作簿",
                                  "the data sheet was damaged", file=label, sheet=DATA_SHEET, row=number,
                                  column="B") from exc

        def get(name: str) -> str:
            return _text(record.get(name))

        amounts = {}
        for name in ("amount", "share_percent", "gender_amount"):
            try:
                amounts[name] = parse_amount(get(name))[0]
            except AmountError:
                problems.append(Problem("annotated-bad-amount", f"資料工作表的 {name}「{get(name)}」無法解讀",
                                        "unreadable amount in the data sheet", file=label, sheet=DATA_SHEET,
                                        row=number, column=name))
                amounts[name] = None
        year_text = get("year")
        line = LineItem(
            description=get("description"), amount=amounts["amount"], unit=get("unit") or "元",
            plan=get("plan"), branch=get("branch"), account=get("account"), account_code=get("account_code"),
            agency=get("agency"), year=int(year_text) if year_text.isdigit() else None, file=get("file"),
            sheet=get("sheet"), row=int(get("row")) if get("row").isdigit() else None,
            kind=TOTAL if get("kind") == TOTAL else LINE, context=get("context"),
        )
        status = get("status")
        if status not in STATUSES:
            problems.append(Problem("annotated-bad-status", f"資料工作表的判定「{status}」不認得",
                                    "unknown status in the data sheet", file=label, sheet=DATA_SHEET, row=number,
                                    column="status"))
            status = "review"
        decisions.append(Decision(status, category=get("category") or None, share_percent=amounts["share_percent"],
                                  gender_amount=amounts["gender_amount"] or Decimal(0), rule=get("rule")))
        lines.append(line)
    return lines, decisions


def _find_title(header: list[str], key: str) -> int | None:
    """The column of an added column's title; the last one, since added columns follow the originals."""
    title = TITLES[key]
    hits = [i for i, h in enumerate(header) if h.strip() == title]
    return hits[-1] if hits else None


def _read_detail(rows: list[Any], lines: list[LineItem], decisions: list[Decision], label: str,
                 problems: list[Problem]) -> list[AnnotatedRow]:
    header = [_text(v) for v in rows[0]] if rows else []
    col = {key: _find_title(header, key) for key in TITLES}
    if col["review"] is None:
        raise BudgetError.one("annotated-no-review-column", f"明細工作表第 1 列找不到「{TITLES['review']}」欄",
                              "no review column on the detail sheet", file=label, sheet=DETAIL_SHEET, row=1)

    def cell(raw: tuple[Any, ...], key: str) -> str:
        i = col[key]
        return _text(raw[i]).strip() if i is not None and i < len(raw) else ""

    body = rows[1:]
    order = _align(body, lines, cell, label)
    out: list[AnnotatedRow] = []
    for k, line in enumerate(lines):
        out.append(AnnotatedRow(line, decisions[k], workbook=label, detail_row=None))
    for position, raw in enumerate(body):
        number = position + 2
        k = order.get(position)
        if k is None:
            if cell(raw, "review"):
                problems.append(Problem("annotated-review-without-line", "此列有覆核但找不到對應的資料列，未採用",
                                        "a review entry on a row with no line", WARNING, file=label,
                                        sheet=DETAIL_SHEET, row=number, column=TITLES["review"]))
            continue
        row = out[k]
        row.detail_row = number
        row.review = cell(raw, "review")
        row.review_note = cell(raw, "review_note")
        row.explanation = cell(raw, "evidence")
        row.category_name = cell(raw, "category_name")
        row.official_class = _class_number(cell(raw, "official_class"))
        edited = _edited_decision(row, cell(raw, "status"), cell(raw, "category"))
        if edited and not row.review:
            problems.append(Problem(
                "annotated-decision-edited",
                f"明細第 {number} 列的{edited}被直接修改，但「{TITLES['review']}」欄空白；修改未採用，"
                f"請把決定寫在「{TITLES['review']}」欄（類別代碼、none、「代碼 40%」或「代碼 金額」）",
                "the decision was edited in place but the review column is empty; the edit is not used",
                WARNING, file=label, sheet=DETAIL_SHEET, row=number))
    return out


def _edited_decision(row: AnnotatedRow, status_text: str, category_text: str) -> str:
    """Which of 判定/類別代碼 a reviewer changed on 明細 (differs from 資料), or ``""``."""
    changed = []
    if status_text and status_text not in (STATUS_LABELS.get(row.decision.status), row.decision.status):
        changed.append(f"「{TITLES['status']}」")
    if category_text != (row.decision.category or "") and (category_text or row.decision.category):
        changed.append(f"「{TITLES['category']}」")
    return "與".join(changed)


def _class_number(text: str) -> int | None:
    for number, name in OFFICIAL_CLASSES.items():
        if text in (str(number), name) or text.startswith(f"第{number}類"):
            return number
    return None


def _align(body: list[Any], lines: list[LineItem], cell: Any, label: str) -> dict[int, int]:
    """Which 資料 line each 明細 row shows: row for row, checked against the 來源 column.

    When a reviewer sorted or deleted 明細 rows, rows are matched by their 來源 text instead; when
    that cannot place them, the workbook is refused rather than misread.
    """
    sources = [cell(raw, "source") for raw in body]
    expected = [line.source for line in lines]
    positional = all(i >= len(sources) or not sources[i] or sources[i] == e for i, e in enumerate(expected))
    if positional and len(body) >= len(lines) or not any(sources):
        return {i: i for i in range(min(len(body), len(lines)))}
    by_source: dict[str, int] = {}
    duplicated: set[str] = set()
    for k, e in enumerate(expected):
        if e in by_source:
            duplicated.add(e)
        by_source[e] = k
    order: dict[int, int] = {}
    for i, s in enumerate(sources):
        if not s:
            continue
        if s in duplicated or s not in by_source:
            raise BudgetError.one(
                "annotated-misaligned", f"明細第 {i + 2} 列的來源「{s}」對不上資料工作表（列被排序、刪除或修改過？）",
                "the detail sheet's rows no longer match the data sheet", file=label, sheet=DETAIL_SHEET, row=i + 2,
                hint="請勿排序或刪除明細的列；可用篩選。請以原始附註工作簿重新填寫覆核欄")
        order[i] = by_source[s]
    return order
