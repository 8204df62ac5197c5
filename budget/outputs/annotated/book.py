"""The annotated workbook as a whole: what every sheet shares (columns, entries, final decisions), and the order of writing."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .. import layout
from ..backends import open_book
from ..cells import CellWriter, quote_sheet
from ...engine.totals import Totals, compute_totals
from ...exports.columns import field_for_header
from ...models import LineItem, Decision
from ...problems import ERROR, WARNING, Problem
from ...review import REVIEWED_RULE, ReviewEntry, ReviewEntryError, entry_from_override, parse_override, review_decision

if TYPE_CHECKING:  # pragma: no cover
    from ...pipeline import RunResult

#: Above this many lines the workbook is written in constant-memory mode (rows flushed as written).
CONSTANT_MEMORY_ABOVE = 50_000
#: The columns after the original ones on 明細: the amount in the workbook's unit, then the layout's.
DETAIL_ADDED = (("amount", layout.AMOUNT_TITLE), *layout.ADDED_COLUMNS)
ADDED_TITLES = dict(DETAIL_ADDED)


@dataclass
class WorkbookReport:
    """What writing the workbook found: problems (text cut, characters replaced…) and the 明細 total."""

    path: str
    rows: int
    workbook_total: Decimal
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    processes: str = ""  # "2": a second process wrote half the rows; else why one did (empty: too few lines)
    row_seconds: tuple[float, float] | None = None  # this process's and the second one's time on their rows


def write_annotated_workbook(path: str | Path, run: "RunResult", *, reviews: Mapping[int, ReviewEntry] | None = None,
                             progress: Callable[[str, int, int | None], None] | None = None,
                             fmt: str | None = None) -> WorkbookReport:
    """Write the annotated workbook of ``run`` to ``path`` (through :func:`budget.outputs.atomic.atomic_write`).

    ``reviews`` (key: index into ``run.lines``) are written into 明細's review columns, and the final
    figures (cached values of the formulas) follow them; a decision the run already carries from a
    reviewer (``classify --reviewed``) is written into those columns too. Sheets, in order: 摘要, 明細,
    待覆核, 規則, 紀錄 and the hidden 資料 (row for row with 明細). ``fmt`` (``xlsx``/``ods``) defaults to
    the suffix of ``path`` (give it when ``path`` is a temp file).
    """
    book = Book(Path(path), run, reviews or {}, progress)
    book.fmt = fmt
    return book.write()


class Book:
    """One annotated workbook being written: the run, its reviewers' entries and final decisions."""

    def __init__(self, path: Path, run: "RunResult", reviews: Mapping[int, ReviewEntry],
                 progress: Callable[..., None] | None) -> None:
        self.path = path
        self.fmt: str | None = None  # "xlsx" / "ods"; None: by the suffix of path
        self.run = run
        self.progress = progress
        self.unit = run.totals.unit
        self.problems: list[Problem] = []
        self.workbook_total = Decimal(0)
        self.entries, self.finals = self._entries_and_finals(reviews)
        self.final_totals: Totals = compute_totals(run.lines, self.finals, run.rules, unit=self.unit) \
            if reviews else run.totals
        self.data_digest = ""
        self.detail_digest = ""
        self.scratch: list[str] = []  # folders of a second writing process, removed when the workbook is closed
        self.parallel_note = ""  # how the rows were written: "2" (two processes) or why on one
        self.row_seconds: tuple[float, float] | None = None  # each process's time on its rows, when two wrote them
        self.print_rows: dict[str, tuple[int, int]] = {}
        self.choices_range = ""

    # --- reviewers' entries -------------------------------------------------------------------

    def _entries_and_finals(self, reviews: Mapping[int, ReviewEntry]) -> tuple[dict[int, ReviewEntry], list[Decision]]:
        """The entry written on each line (given, or carried in the run) and each line's final decision."""
        run, rules = self.run, self.run.rules
        entries: dict[int, ReviewEntry] = {}
        finals = list(run.decisions)
        for i, d in enumerate(run.decisions):
            if d.rule == REVIEWED_RULE and d.review and i not in reviews:
                entry = self._carried_entry(run.lines[i], d)
                if entry is not None:
                    entries[i] = entry
        for i, entry in reviews.items():
            if not 0 <= i < len(run.lines):
                raise IndexError(f"review for line {i}, but the run has {len(run.lines)} lines")
            entries[i] = entry
            try:
                finals[i] = review_decision(entry, run.lines[i], run.decisions[i], rules)
            except ReviewEntryError as exc:
                line = run.lines[i]
                self.problems.append(exc.problem(file=line.file or None, sheet=line.sheet or None, row=line.row))
        return entries, finals

    def _carried_entry(self, line: LineItem, d: Decision) -> ReviewEntry | None:
        try:
            override = parse_override(d.review, self.run.rules)
        except ReviewEntryError:
            self.problems.append(Problem("review-not-written", f"覆核「{d.review}」無法寫入覆核欄", "a carried review "
                                         "could not be written into the review columns", WARNING, row=line.row))
            return None
        if override is None:
            return None
        entry = entry_from_override(override, line, d.review_note)
        cat = self.run.rules.category(entry.category) if entry.category else None
        return ReviewEntry(cat.name if cat else entry.category, entry.amount, entry.percent, entry.note)

    # --- 明細's columns ------------------------------------------------------------------------

    def plan_detail(self) -> None:
        """Decide 明細's columns: the union of the inputs' headers (first seen first), then the added ones."""
        self.original: list[str] = []
        index: dict[tuple[str, int], int] = {}
        self.positions: dict[tuple[int, int], tuple[tuple[str, ...], list[int]]] = {}
        amount_headers = self._amount_headers()
        self.amount_cols: set[int] = set()
        self.wrap_cols: set[int] = set()
        for line in self.run.lines:
            cells, columns = cells_of(line)
            key = (id(columns), len(cells))
            if key in self.positions and self.positions[key][0] is columns:
                continue
            seen: dict[str, int] = {}
            positions = []
            for j in range(len(cells)):
                header = str(columns[j]) if j < len(columns) and columns[j] is not None else ""
                k = seen.get(header, 0)
                seen[header] = k + 1
                if (header, k) not in index:
                    c = index[(header, k)] = len(self.original)
                    self.original.append(header)
                    kind = field_for_header(header) if header else None
                    if header and (header in amount_headers or kind == "amount"):
                        self.amount_cols.add(c)
                    if kind in ("description", "plan", "branch", "account"):
                        self.wrap_cols.add(c)
                positions.append(index[(header, k)])
            self.positions[key] = (columns, positions)
        self.added = {key: len(self.original) + i for i, (key, _) in enumerate(DETAIL_ADDED)}
        titles = set(ADDED_TITLES.values()) | {layout.LEGACY_REVIEW_TITLE}
        self.headers = [("原：" + h if h in titles else h) or "（無標題）" for h in self.original]
        renamed = [h for h in self.original if h in titles]
        if renamed:
            self.problems.append(Problem(
                "header-renamed", f"原始欄名與附註欄同名，於明細中加上「原：」：{'、'.join(renamed)}",
                "original headers that clash with added columns are shown as 原：<name>", WARNING))
        self.headers += [title for _, title in DETAIL_ADDED]

    def _amount_headers(self) -> set[str]:
        headers: set[str] = set()
        for src in self.run.sources:
            for sheet in getattr(src, "sheets", []) or []:
                for k, v in (getattr(sheet, "mapping", {}) or {}).items():
                    if k == "amount":
                        headers.add(str(v))
                    elif v == "amount":
                        headers.add(str(k))
        return headers

    def positions_of(self, line: LineItem) -> tuple[tuple[Any, ...], list[int]]:
        """The line's original cells and the 明細 column of each."""
        cells, columns = cells_of(line)
        return cells, self.positions[(id(columns), len(cells))][1]

    def letter(self, key: str) -> str:
        """The column letter of an added 明細 column."""
        from xlsxwriter.utility import xl_col_to_name

        return xl_col_to_name(self.added[key])

    def range(self, key: str) -> str:
        """The absolute range of an added 明細 column over the data rows (for the 摘要 formulas)."""
        letter = self.letter(key)
        last = max(len(self.run.lines) + 1, 2)
        return f"{quote_sheet(layout.DETAIL_SHEET)}!${letter}$2:${letter}${last}"

    # --- the workbook --------------------------------------------------------------------------

    def write(self) -> WorkbookReport:
        """Write every sheet and close the workbook; the report of what was found."""
        from . import detail, log, printing, rules_sheet, summary

        started = time.perf_counter()
        self.wb = open_book(self.path, fmt=self.fmt, constant_memory=len(self.run.lines) > CONSTANT_MEMORY_ABOVE,
                            rows_in_order=True)
        self.cells = CellWriter(self.wb, self.problems)
        sheets = {name: self.wb.add_worksheet(name) for name in (
            layout.SUMMARY_SHEET, layout.DETAIL_SHEET, layout.REVIEW_SHEET, layout.RULES_SHEET, layout.LOG_SHEET,
            layout.DATA_SHEET)}
        sheets[layout.DATA_SHEET].hide()
        try:
            self.plan_detail()
            rules_sheet.write_rules(self, sheets[layout.RULES_SHEET])
            detail.write_lines(self, sheets[layout.DETAIL_SHEET], sheets[layout.DATA_SHEET], sheets[layout.REVIEW_SHEET])
            summary.write_summary(self, sheets[layout.SUMMARY_SHEET])
            self._check_totals()
            log.write_log(self, sheets[layout.LOG_SHEET])
            for name, ws in sheets.items():
                printing.print_setup(ws, name, self.print_rows.get(name))
        finally:
            try:
                self.wb.close()
            finally:
                for folder in self.scratch:
                    shutil.rmtree(folder, ignore_errors=True)
        return WorkbookReport(str(self.path), len(self.run.lines), self.workbook_total, self.problems,
                              time.perf_counter() - started, self.parallel_note, self.row_seconds)

    def finish_table(self, ws: Any, columns: int, rows: int, widths: list[int], formats: bool = True) -> None:
        """Widths (and, if ``formats``, wrapping of wide columns), frozen header row and filter of a plain table sheet."""
        for c, w in enumerate(widths):
            ws.set_column(c, c, w, self.cells.fmt("wrap" if w >= 40 else "plain") if formats else None)
        ws.freeze_panes(1, 0)
        if columns:
            ws.autofilter(0, 0, max(rows, 1), columns - 1)

    def _check_totals(self) -> None:
        totals = self.run.totals
        totals.workbook_total = self.workbook_total
        if self.workbook_total != totals.input_total:
            from ...money import format_amount

            self.problems.append(Problem(
                "total-mismatch",
                f"活頁簿明細合計 {format_amount(self.workbook_total)} 與輸入合計 {format_amount(totals.input_total)} 不符",
                "the workbook's total differs from the input total", ERROR))


#: The 資料 values of lines built without cells (placed by name), shown on 明細 as their own fields.
SYNTHETIC_COLUMNS = ("工作計畫", "分支計畫", "科目代碼", "用途別科目", "說明", "金額", "單位")


def cells_of(line: LineItem) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The line's original cells and headers; lines built without cells show their own fields."""
    if line.cells:
        return tuple(line.cells), tuple(line.columns)
    return ((line.plan or None, line.branch or None, line.account_code or None, line.account or None,
             line.description or None, line.amount, line.unit), SYNTHETIC_COLUMNS)
