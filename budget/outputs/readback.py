"""Reading an annotated workbook (the output of `classify`) back: its lines, decisions and 覆核 entries.

Lines and amounts come from the hidden 資料 sheet (exact decimal text, never cached formula values);
the reviewer's 覆核 and 覆核說明 come from 明細, whose columns are found by their titles in row 1.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .layout import (ADDED_COLUMNS, AMOUNT_TITLE, DATA_HEADER, DATA_SHEET, DETAIL_SHEET, LEGACY_TITLES, LOG_SHEET,
                     OFFICIAL_CLASSES, REVIEW_KEYS)
from ..collector import collector_paused
from ..models import LINE, STATUS_LABELS, STATUSES, TOTAL, Decision, LineItem
from ..money import AmountError, parse_amount
from ..problems import BudgetError, Problem, WARNING, clip

if TYPE_CHECKING:  # pragma: no cover
    from ..review import ReviewEntry
    from .trust import DataChecks

TITLES = {**dict(ADDED_COLUMNS), "amount": AMOUNT_TITLE, **LEGACY_TITLES}
#: Largest workbook part scanned for sheet names (the guarded reader checks the whole package).
MAX_UNCOMPRESSED = 1 << 30
#: Most rows read from each of 明細 and 資料.
MAX_ROWS = 1_048_576  # an .xlsx worksheet's own limit
#: Bytes of rows the reader child may hold while this process is busy (with the workbook before this one, or
#: with this one's 資料 while the child reads 明細): ~90 MB for 100,000 lines.
READ_AHEAD_BYTES = 512 << 20
#: The 明細 columns read back (by title): the reviewer's, and those the checks and the report use. The
#: export's own columns and the tool's formula and display columns (建議數, 單位, 性別預算數, 規則) are
#: not needed (the lines come from 資料), and are not even sent by the reader.
DETAIL_READ_KEYS = ("review_category", "review_amount", "review_percent", "review_note", "status",
                    "suggested_name", "category_name", "evidence", "source", "amount",
                    *LEGACY_TITLES)
#: The 明細 columns `classify --reviewed` reads back: what carrying a review over and the checks need; not
#: the suggestion's name and evidence, which only a report shows (their rows read back as "").
CARRY_READ_KEYS = tuple(k for k in DETAIL_READ_KEYS if k not in ("suggested_name", "category_name", "evidence"))
#: An amount as 資料 writes it (plain decimal text, at most 15 integer digits): read with ``Decimal``
#: directly; anything else goes through :func:`budget.money.parse_amount`.
_PLAIN_AMOUNT = re.compile(r"-?[1-9][0-9]{0,14}(?:\.[0-9]{1,4})?|0(?:\.[0-9]{1,4})?")


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
    #: Why the review cells could not be read (a formula without a value, an amount that is not one).
    entry_problem: Problem | None = None

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

    def review_location(self, code: str = "") -> dict[str, Any]:
        """Where the review entry is, as Problem location fields (the column a problem ``code`` is about)."""
        if self.entry is None:
            column = TITLES["review"]
        elif code.startswith("review-amount"):
            column = TITLES["review_amount"]
        elif code.startswith("review-share"):
            column = TITLES["review_percent"]
        else:
            column = TITLES["review_category"]
        return {"file": self.workbook or None, "sheet": self.detail_sheet, "row": self.detail_row, "column": column}

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


def read_annotated(path: str | Path, *, max_rows: int = MAX_ROWS, reading: "AnnotatedReading | None" = None,
                   carrying: bool = False) -> AnnotatedWorkbook:
    """Read an annotated workbook written by `classify` (and perhaps edited by a reviewer, in Excel or
    LibreOffice, saved as .xlsx or .ods).

    Cells are read by the guarded reader (budget.exports.sniff, budget.exports.sheet_worker). Raises
    :class:`BudgetError` when the file is not such a workbook or its 明細 rows can no longer be
    matched to the 資料 rows (for example after sorting or deleting rows). ``reading``: the same
    workbook's reading already started by :func:`start_reading` (its reader works meanwhile).

    ``carrying`` (`classify --reviewed`): only what carrying reviews over needs. 明細's columns
    :data:`CARRY_READ_KEYS`; and when 紀錄's two check codes say that no 資料 record and no 明細 計算金額,
    判定 or 來源 cell was changed (nor a row added, deleted or sorted), only the rows with a 覆核 cell filled
    in (or a review formula without a value) are read back: every other row is then known to be as
    written, and is not carried. Otherwise every row is read and checked, as without it.
    """
    return (reading or start_reading(path, max_rows=max_rows, carrying=carrying)).finish()


class AnnotatedReading:
    """An annotated workbook whose reader child is at work: :meth:`finish` reads it back, :meth:`cancel`
    stops the child when it is not needed after all.

    :meth:`read_data` takes the first part alone (紀錄 and 資料, which the child sends first): a report
    reads every workbook's 資料 while the children still parse their 明細, then each one's 明細. When
    ``carrying`` (see :func:`read_annotated`), the 資料 records are read in :meth:`finish`, once 明細 shows
    whether only the reviewed rows' are needed."""

    def __init__(self, path: Path, handle: Any, carrying: bool = False) -> None:
        self.path, self.handle, self.carrying = path, handle, carrying
        self._data: tuple[Any, ...] | None = None
        #: 明細 was read by budget.exports.xlsx_scan (not calamine): known once finished
        self.scanned = False

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self._data = None

    def read_data(self) -> None:
        """Read 紀錄 and 資料 (their lines and recorded decisions) now; :meth:`finish` does it otherwise."""
        from .trust import DataChecks

        if self._data is not None:
            return
        handle = self.handle
        if handle is None:
            raise ValueError("this reading was finished or cancelled")
        label = str(self.path)
        with collector_paused():
            try:
                grids: dict[str, list[list[Any]]] = {}
                sheets = handle.sheets()
                for sheet in sheets:
                    grids[sheet.name] = [row for chunk in sheet.more or () for row in chunk]
                    if sheet.name == DATA_SHEET:
                        break
                problems: list[Problem] = []
                data = grids.get(DATA_SHEET, [])
                checks = DataChecks(label, data, grids.get(LOG_SHEET, []))
                lines = decisions = None  # carrying: read in finish, perhaps only the reviewed rows'
                if not (self.carrying and checks.expected_detail_digest):
                    lines, decisions = _read_data(data, label, problems, checks)
            except BaseException:
                self.cancel()
                raise
        self._data = (sheets, checks, lines, decisions, problems, data)

    def finish(self) -> AnnotatedWorkbook:
        """The workbook read back (see :func:`read_annotated`)."""
        from .trust import review_columns

        self.read_data()
        assert self._data is not None
        (sheets, checks, lines, decisions, problems, data), self._data = self._data, None
        handle, self.handle = self.handle, None
        path, label = self.path, str(self.path)
        with collector_paused():
            detail: list[list[Any]] = []
            columns: list[int] | None = None
            no_value: set[tuple[int, int]] = set()
            try:
                for sheet in sheets:
                    cells = [row for chunk in sheet.more or () for row in chunk]
                    if sheet.name == DETAIL_SHEET:
                        detail, columns, no_value = cells, sheet.columns, sheet.formulas_without_value
                        self.scanned = sheet.scanned
            except BaseException:
                handle.cancel()
                raise
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            wanted = review_columns(detail, columns)
            checks.formulas_without_value = {(r, c) for r, c in no_value if c in wanted}
            rows = None
            if lines is None:
                rows = _reviewed_rows_only(data, detail, label, problems, checks, columns)
                if rows is None:  # something was changed: every row read and checked
                    lines, decisions = _read_data(data, label, problems, checks)
            if rows is None:
                rows = _read_detail(detail, lines, decisions, label, problems, checks, columns)
            return AnnotatedWorkbook(label, digest, rows, problems)


def check_annotated(path: str | Path) -> None:
    """Raise :class:`BudgetError` unless ``path`` is an annotated workbook (a spreadsheet package with the
    明細 and 資料 sheets; its cells are not read)."""
    from ..exports.sniff import ODS, XLS, XLSX, sniff

    label = str(path)
    if sniff(Path(path), label).format not in (XLSX, XLS, ODS) or not is_annotated(path):
        raise BudgetError.one(
            "annotated-missing-sheet", f"不是附註工作簿：找不到「{DETAIL_SHEET}」與「{DATA_SHEET}」工作表",
            "not an annotated workbook (no 明細 and 資料 sheets)", file=label,
            hint="請指定 gender-budget classify 產出的 .性別預算.xlsx（可另存為 .ods）")


def start_reading(path: str | Path, *, max_rows: int = MAX_ROWS, scan: bool = True,
                  carrying: bool = False) -> AnnotatedReading:
    """Check that ``path`` is an annotated workbook and start its reader child (the sheets and columns
    read back only; 明細 of an .xlsx by :mod:`budget.exports.xlsx_scan` unless ``scan`` is false, see
    :func:`budget.exports.sheet_worker.start_worker`); :meth:`AnnotatedReading.finish` then reads it. Raises
    :class:`BudgetError` when it is not one. ``carrying``: see :func:`read_annotated`."""
    path = Path(path)
    label = str(path)
    check_annotated(path)
    keys = CARRY_READ_KEYS if carrying else DETAIL_READ_KEYS
    return AnnotatedReading(path, _start_sheets(path, label, [LOG_SHEET, DATA_SHEET, DETAIL_SHEET], max_rows,
                                                {DETAIL_SHEET: _detail_titles(keys)}, ahead=READ_AHEAD_BYTES,
                                                formulas=_review_formulas(path), scan=scan), carrying)


def _review_formulas(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Ask the reader child for 明細's review cells holding a formula without a value (.xlsx only): they
    read as blank, and are reported instead (see budget.exports.sheet_worker.formulas_without_value)."""
    from ..exports.sheet_facts import xlsx_sheets

    try:
        with zipfile.ZipFile(path) as zf:
            if "xl/workbook.xml" not in zf.namelist():
                return {}
            part = next((f.part for f in xlsx_sheets(zf) if f.name == DETAIL_SHEET), "")
    except Exception:  # a damaged package: the reader child says what is wrong with it
        return {}
    return {DETAIL_SHEET: (part, _detail_titles(REVIEW_KEYS))} if part else {}


def _detail_titles(keys: tuple[str, ...] = DETAIL_READ_KEYS) -> list[str]:
    return [TITLES[key] for key in keys]


def reviewed_detail_rows(path: str | Path, *, max_rows: int = MAX_ROWS) -> list[int]:
    """The 明細 rows (1-based) of an annotated workbook whose 覆核 or 覆核說明 cell is filled in.

    Reads only the 明細 sheet, and does not need its rows to still match 資料 (a reviewer may have
    sorted them): this is what protects a reviewer's work from being overwritten.
    """
    path = Path(path)
    rows = _read_sheets(path, str(path), [DETAIL_SHEET], max_rows,
                        {DETAIL_SHEET: _detail_titles(("review", *REVIEW_KEYS))}).get(DETAIL_SHEET, [])
    header = [_text(v) for v in rows[0]] if rows else []
    cols = [c for c in (_find_title(header, key) for key in ("review", *REVIEW_KEYS)) if c is not None]
    return [number for number, raw in enumerate(rows[1:], start=2)
            if any(c < len(raw) and _text(raw[c]).strip() for c in cols)]


def _read_sheets(path: Path, label: str, names: list[str], max_rows: int,
                 titles: dict[str, list[str]] | None = None,
                 columns: dict[str, list[int] | None] | None = None) -> dict[str, list[list[Any]]]:
    """The cells of sheets ``names`` (hidden ones too), read by calamine in a guarded child process.

    ``titles`` (sheet → column titles) asks for only the columns of a sheet titled so in row 1: its
    rows then hold those cells only, and ``columns`` (when given) receives which sheet columns
    (0-based) they are, per sheet (None: every column).
    """
    return _collect_sheets(_start_sheets(path, label, names, max_rows, titles), columns)


def _start_sheets(path: Path, label: str, names: list[str], max_rows: int,
                  titles: dict[str, list[str]] | None = None, **options: Any) -> Any:
    from ..exports import sheet_worker

    return sheet_worker.start_worker(path, label, sheets=names, max_rows=max_rows, columns=titles, **options)


def _collect_sheets(handle: Any, columns: dict[str, list[int] | None] | None = None) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    try:
        for sheet in handle.sheets():
            rows: list[list[Any]] = []
            for chunk in sheet.more or ():
                rows.extend(chunk)
            out[sheet.name] = rows
            if columns is not None:
                columns[sheet.name] = sheet.columns
    except BaseException:
        handle.cancel()
        raise
    return out


def _read_data(rows: list[Any], label: str, problems: list[Problem], checks: "DataChecks",
               numbers: list[int] | None = None) -> tuple[list[LineItem], list[Decision]]:
    """資料 ``rows`` (row 1 the header) as lines and their recorded decisions; ``numbers``: the sheet row of each
    row after the header, when they are not rows 2, 3, …"""
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
    scan = json.scanner.make_scanner(json.JSONDecoder())  # one record: faster than json.loads per cell
    plain, str_, record_check, zero = _PLAIN_AMOUNT.fullmatch, str, checks.record, Decimal(0)
    text_fields, only_text = operator.itemgetter(*_TEXT_FIELDS), frozenset((str,)).issuperset
    for number, raw in zip(numbers, rows[1:]) if numbers is not None else enumerate(rows[1:], start=2):
        if len(raw) == 2 and type(raw[1]) is str_:  # as written: column A the plan, B the record
            text = raw[1]
        elif not any(v not in (None, "") for v in raw):
            break
        else:
            text = "".join(_text(v) for v in raw[1:])
        try:
            try:
                record, end = scan(text, 0)
            except StopIteration:
                end = -1
            if end != len(text):  # not exactly one JSON value: json.loads decides (whitespace…)
                record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise BudgetError.one("annotated-bad-data", "資料工作表的內容已損壞（無法解讀），請重新產出附註工作簿",
                                  "the data sheet was damaged", file=label, sheet=DATA_SHEET, row=number,
                                  column="B") from exc
        values = text_fields({**_NO_TEXT, **record})
        if not only_text(map(type, values)):  # a value that is not text (not as written): as text
            values = [v if type(v) is str_ else _text(v) for v in values]
        (file, sheet, kind, agency, plan, branch, account_code, account, description, amount, unit, status, category,
         share_percent, gender_amount, rule, context) = values
        amounts = [None if not value else
                   Decimal(value) if (value.isdigit() and value.isascii() and len(value) < 16 and
                                      (value[0] != "0" or len(value) == 1)) or plain(value) else
                   _data_amount(value, name, number, label, problems)
                   for name, value in zip(_AMOUNT_FIELDS, (amount, share_percent, gender_amount))]
        record_check(number, text, record)
        year, row = record.get("year"), record.get("row")
        # LineItem's fields in their order, up to kind (positional: faster for many lines)
        lines.append(LineItem(
            description, amounts[0], unit or "元", plan, branch, account, account_code, agency,
            year if type(year) is int and year >= 0 else _number(year), file, sheet,
            row if type(row) is int and row >= 0 else _number(row), TOTAL if kind == TOTAL else LINE,
            context=context))
        if status not in STATUSES:
            problems.append(Problem("annotated-bad-status", f"資料工作表的判定「{status}」不認得",
                                    "unknown status in the data sheet", file=label, sheet=DATA_SHEET, row=number,
                                    column="status"))
            status = "review"
        decisions.append(Decision(status, category or None, amounts[1], amounts[2] or zero, rule))
    return lines, decisions


def _reviewed_rows_only(data: list[Any], detail: list[Any], label: str, problems: list[Problem],
                        checks: "DataChecks", columns: list[int] | None) -> list[AnnotatedRow] | None:
    """Carrying reviews over: only the 明細 rows with a 覆核 cell filled in (or a review formula without a
    value), read back with their 資料 records, when 紀錄's check codes show that no 資料 record and no 明細
    計算金額, 判定 or 來源 cell was changed and no row was added, deleted or sorted (every other row is then as
    classify wrote it, and is not carried). None when they do not: every row is then read and checked."""
    from .annotated.detail import detail_fingerprint
    from .trust import DataChecks

    header = [_text(v) for v in detail[0]] if detail else []
    col = {key: _find_title(header, key) for key in TITLES}
    kept = [col[key] for key in ("amount", "status", "source")]
    if not data or col["review_category"] is None or None in kept or not checks.checked:
        return None
    texts = [raw[1] if len(raw) == 2 and type(raw[1]) is str else None for raw in data[1:]]
    body = detail[1:]
    if len(body) != len(texts) or None in texts or not checks.records_as_written(texts):
        return None
    a, s, c = kept
    if detail_fingerprint((raw[a] if a < len(raw) else None, raw[s] if s < len(raw) else None,
                           raw[c] if c < len(raw) else None) for raw in body) != checks.expected_detail_digest:
        return None
    inputs = [col[key] for key in REVIEW_KEYS if col[key] is not None]
    formula_rows = {r for r, _ in checks.formulas_without_value}
    wanted = [p for p, raw in enumerate(body)
              if p + 2 in formula_rows or any(i < len(raw) and raw[i] is not None for i in inputs)]
    numbers = [p + 2 for p in wanted]
    some = DataChecks(label, [], [])  # the rows' checks are the two codes above
    some.formulas_without_value = checks.formulas_without_value
    lines, decisions = _read_data([data[0], *(data[p + 1] for p in wanted)], label, problems, some, numbers)
    return _read_detail([detail[0], *(body[p] for p in wanted)], lines, decisions, label, problems, some, columns,
                        numbers)


def _number(value: Any) -> int | None:
    """A record's row or year: the number as written (a whole number), else its digits, else None."""
    if type(value) is int and value >= 0:
        return value
    text = value if type(value) is str else _text(value)
    return int(text) if text.isdigit() else None


def _data_amount(value: str, name: str, number: int, label: str, problems: list[Problem]) -> Decimal | None:
    """A 資料 amount that is not plain decimal text, by :func:`parse_amount`; None and a problem if unreadable."""
    try:
        return parse_amount(value)[0]
    except AmountError:
        problems.append(Problem("annotated-bad-amount", f"資料工作表的 {name}「{value}」無法解讀",
                                "unreadable amount in the data sheet", file=label, sheet=DATA_SHEET,
                                row=number, column=name))
        return None


#: The text fields of a 資料 record read back, in the order :func:`_read_data` unpacks them (row and year
#: are numbers), and each one's value when the record leaves it out.
_TEXT_FIELDS = ("file", "sheet", "kind", "agency", "plan", "branch", "account_code", "account", "description",
                "amount", "unit", "status", "category", "share_percent", "gender_amount", "rule", "context")
_NO_TEXT = dict.fromkeys(_TEXT_FIELDS, "")
_AMOUNT_FIELDS = ("amount", "share_percent", "gender_amount")


def _find_title(header: list[str], key: str) -> int | None:
    """The column of an added column's title (``性別預算數（元）`` counts as ``性別預算數``); the last one,
    since added columns follow the originals."""
    title = TITLES[key]
    hits = [i for i, h in enumerate(header) if h.strip() == title or h.strip().startswith(title + "（")]
    return hits[-1] if hits else None


def _read_detail(rows: list[Any], lines: list[LineItem], decisions: list[Decision], label: str,
                 problems: list[Problem], checks: "DataChecks", columns: list[int] | None = None,
                 numbers: list[int] | None = None) -> list[AnnotatedRow]:
    """明細 ``rows`` matched to the 資料 lines; ``columns``: the sheet column of each cell of a row, when
    only some columns were read (None: every column, in order); ``numbers``: the sheet row of each row after
    the header, when they are not rows 2, 3, …"""
    header = [_text(v) for v in rows[0]] if rows else []
    col = {key: _find_title(header, key) for key in TITLES}
    # (row, sheet column), 1-based, of review cells holding a formula without a value, as (row, cell index)
    no_value = {(r, c - 1) for r, c in checks.formulas_without_value} if columns is None else {
        (r, columns.index(c - 1)) for r, c in checks.formulas_without_value if c - 1 in columns}
    legacy = col["review_category"] is None
    if legacy and col["review"] is None:
        raise BudgetError.one("annotated-no-review-column", f"明細工作表第 1 列找不到「{TITLES['review_category']}」欄",
                              "no review column on the detail sheet", file=label, sheet=DETAIL_SHEET, row=1)
    inputs = [k for k in ("review", "review_note") if legacy] or list(REVIEW_KEYS)
    body = rows[1:]
    n = len(body)
    shortest = min(map(len, body), default=0)  # (the child leaves out a row's blank cells at its end)

    def texts(key: str) -> list[str]:
        """Column ``key``'s cell on every row, as stripped text ("" when blank or absent)."""
        i = col[key]
        if i is None:
            return [""] * n
        cells = [raw[i] for raw in body] if i < shortest else [raw[i] if i < len(raw) else None for raw in body]
        return ["" if v is None else v.strip() if type(v) is str else _text(v).strip() for v in cells]

    order = _align(texts("source"), lines, label)
    out = [AnnotatedRow(line, decisions[k], workbook=label, detail_row=None) for k, line in enumerate(lines)]
    notes, explanations, statuses = texts("review_note"), texts("evidence"), texts("status")
    names = texts("category_name" if legacy else "suggested_name")
    if legacy:
        reviews, classes, categories = texts("review"), texts("official_class"), texts("category")
    else:  # a row with none of the three deciding cells filled (most rows) takes its entry without a parse
        ReviewEntry = _review_entry_type()
        blank = ReviewEntry()
        far = 1 << 30  # the column of a deciding cell that is not there: past any row's end
        a, b, c = (far if i is None else i for i in (col["review_category"], col["review_amount"], col["review_percent"]))
    shown = {status: STATUS_LABELS.get(status) for status in STATUSES}
    for position, raw in enumerate(body):
        number = position + 2 if numbers is None else numbers[position]
        k = order.get(position)
        if k is None:
            if any(_cell_text(raw, col[key]) for key in inputs):
                problems.append(Problem("annotated-review-without-line", "此列有覆核但找不到對應的資料列，未採用",
                                        "a review entry on a row with no line", WARNING, file=label,
                                        sheet=DETAIL_SHEET, row=number, column=TITLES[inputs[0]]))
            continue
        row = out[k]
        row.detail_row = number
        row.review_note = notes[position]
        row.explanation = explanations[position]
        row.category_name = names[position]
        if legacy:
            row.review = reviews[position]
            row.official_class = _class_number(classes[position])
        elif not no_value and (a >= (w := len(raw)) or raw[a] is None) and (b >= w or raw[b] is None) and (
                c >= w or raw[c] is None):
            row.entry = ReviewEntry(note=row.review_note) if row.review_note else blank
        else:
            _read_entry(row, raw, col, no_value, label)
        checks.detail_amount(row, raw, col["amount"], number)
        status = statuses[position]
        if status and status == shown[row.decision.status] and not legacy:
            continue  # the decision as written (most rows)
        edited = _edited_decision(row, status, categories[position] if legacy else None)
        reviewed = bool(row.review) if legacy else row.entry is not None and not row.entry.is_blank
        if edited and not reviewed:
            where = TITLES["review"] if legacy else TITLES["review_category"]
            problems.append(Problem(
                "annotated-decision-edited",
                f"明細第 {number} 列的{edited}被直接修改，但「{where}」欄空白；修改未採用，"
                f"請把決定寫在覆核欄（{where}）",
                "the decision was edited in place but the review column is empty; the edit is not used",
                WARNING, file=label, sheet=DETAIL_SHEET, row=number))
    checks.finish(problems)
    return out


def _read_entry(row: AnnotatedRow, raw: tuple[Any, ...], col: dict[str, int | None],
                no_value: set[tuple[int, int]], label: str) -> None:
    """The reviewer's four cells of ``row`` as its :class:`ReviewEntry`; what cannot be read is kept
    as the row's ``entry_problem`` (the line then keeps the tool's decision, and the run says why).
    ``no_value``: (row, cell index) of review cells holding a formula without a value."""
    ReviewEntry = _review_entry_type()

    def value(key: str) -> Any:
        i = col[key]
        return raw[i] if i is not None and i < len(raw) else None

    problem = None
    for key in REVIEW_KEYS:
        i = col[key]
        if i is not None and (row.detail_row, i) in no_value:
            problem = _entry_problem(row, key, "review-formula-no-value",
                                     f"「{TITLES[key]}」是公式但沒有計算結果（存檔的程式未計算），無法得知其值",
                                     "a review cell holds a formula without a computed value",
                                     "請在 Excel 或 LibreOffice 開啟後重新計算並存檔，或直接填入數值")
    amount = percent = None
    try:
        amount = _decimal_cell(value("review_amount"), percent=False)
    except ValueError:
        problem = problem or _entry_problem(row, "review_amount", "review-amount-unreadable",
                                            f"覆核計入數「{clip(_text(value('review_amount')))}」不是金額", "not an amount")
    try:
        percent = _decimal_cell(value("review_percent"), percent=True)
    except ValueError:
        problem = problem or _entry_problem(row, "review_percent", "review-share-unreadable",
                                            f"覆核比例「{clip(_text(value('review_percent')))}」不是比例", "not a percentage")
    row.entry = ReviewEntry(_text(value("review_category")).strip(), amount, percent, row.review_note)
    row.entry_problem = problem
    row.review = row.entry.text()


def _review_entry_type() -> type:
    """:class:`budget.review.ReviewEntry` (imported once, not per row: review imports this module)."""
    global _REVIEW_ENTRY
    if _REVIEW_ENTRY is None:
        from ..review import ReviewEntry

        _REVIEW_ENTRY = ReviewEntry
    return _REVIEW_ENTRY


_REVIEW_ENTRY: type | None = None


def _entry_problem(row: AnnotatedRow, key: str, code: str, message: str, message_en: str, hint: str = "") -> Problem:
    from ..problems import ERROR

    return Problem(code, message, message_en, ERROR, hint=hint, file=row.workbook or None, sheet=DETAIL_SHEET,
                   row=row.detail_row, column=TITLES[key])


def _decimal_cell(value: Any, *, percent: bool) -> Decimal | None:
    """A review cell's number: a float as typed (repr, never binary noise), text as written.

    A percentage cell holds the fraction (40 % is 0.4); text may say ``40%``. Raises ValueError.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise ValueError(value)
        return _plain(number * 100 if percent else number)
    text = str(value).strip().replace("％", "%")
    if percent and text.endswith("%"):
        return _plain(Decimal(text[:-1].strip().replace(",", "")))
    try:
        amount, _unit = parse_amount(text)
    except AmountError:
        raise ValueError(text) from None
    if amount is None:
        return None
    return _plain(amount * 100 if percent else amount)


def _plain(number: Decimal) -> Decimal:
    """``number`` without trailing zeros or an exponent (``40.0`` → ``40``)."""
    normal = number.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _edited_decision(row: AnnotatedRow, status_text: str, category_text: str | None) -> str:
    """Which of 判定/類別代碼 a reviewer changed on 明細 (differs from 資料), or ``""``; ``category_text``
    None when 類別代碼 is a formula (this layout) and not compared."""
    changed = []
    if status_text and status_text not in (STATUS_LABELS.get(row.decision.status), row.decision.status):
        changed.append(f"「{TITLES['status']}」")
    if category_text is not None and category_text != (row.decision.category or "") and (
            category_text or row.decision.category):
        changed.append(f"「{TITLES['category']}」")
    return "與".join(changed)


def _class_number(text: str) -> int | None:
    for number, name in OFFICIAL_CLASSES.items():
        if text in (str(number), name) or text.startswith(f"第{number}類"):
            return number
    return None


def _cell_text(raw: list[Any], i: int | None) -> str:
    """Cell ``i`` of a row as stripped text ("" when blank or absent)."""
    if i is None or i >= len(raw) or raw[i] is None:
        return ""
    value = raw[i]
    return (value if type(value) is str else _text(value)).strip()


def _align(sources: list[str], lines: list[LineItem], label: str) -> dict[int, int]:
    """Which 資料 line each 明細 row shows (``sources``: each row's 來源): row for row, checked against 來源.

    When a reviewer sorted or deleted 明細 rows, rows are matched by their 來源 text instead; when
    that cannot place them, the workbook is refused rather than misread.
    """
    expected = [line.source for line in lines]
    positional = all(i >= len(sources) or not sources[i] or sources[i] == e for i, e in enumerate(expected))
    if positional and len(sources) >= len(lines) or not any(sources):
        return {i: i for i in range(min(len(sources), len(lines)))}
    by_source: dict[str, int] = {}
    duplicated: set[str] = set()
    for k, e in enumerate(expected):
        if e in by_source:
            duplicated.add(e)
        by_source[e] = k
    order: dict[int, int] = {}
    claimed: dict[int, int] = {}
    for i, s in enumerate(sources):
        if not s:
            continue
        if s in duplicated or s not in by_source:
            raise BudgetError.one(
                "annotated-misaligned", f"明細第 {i + 2} 列的來源「{s}」對不上資料工作表（列被排序、刪除或修改過？）",
                "the detail sheet's rows no longer match the data sheet", file=label, sheet=DETAIL_SHEET, row=i + 2,
                hint="請勿排序或刪除明細的列；可用篩選。請以原始附註工作簿重新填寫覆核欄")
        k = by_source[s]
        if k in claimed:  # another row's 來源 copied here: two rows would claim one line, one review lost
            raise BudgetError.one(
                "annotated-misaligned", f"明細第 {claimed[k] + 2} 列與第 {i + 2} 列的來源同為「{s}」（來源被複製？），"
                                        "無法判斷哪一列的覆核屬於此項目", "two detail rows claim the same line",
                file=label, sheet=DETAIL_SHEET, row=i + 2, column=TITLES["source"],
                hint="請勿修改來源欄；請以原始附註工作簿重新填寫覆核欄")
        claimed[k] = i
        order[i] = k
    return order
