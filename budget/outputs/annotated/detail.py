"""明細 (every input row, the tool's decision, the review columns, the final decision as formulas), 資料 and 待覆核, in one pass."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable

from .. import forked, layout
from ..cells import FORMULA_STARTS, MAX_CELL_TEXT, display_width, integral, not_written
from ..layout import DATA_COLUMNS, DATA_HEADER, NAME_IDS, NAME_NAMES, NAME_SHARES
from ...models import EXCLUDED, LINE, MATCHED, REVIEW, STATUS_LABELS, Decision, LineItem
from ...money import UNITS, convert, format_amount
from ...review import NONE_WORDS, ReviewEntry

if TYPE_CHECKING:  # pragma: no cover
    from .book import Book

#: Characters of a 資料 record per cell (well within 32,767 UTF-16 units); longer records continue.
DATA_CHUNK = 16_000
#: Rows whose contents decide the columns' widths (the rest cost nothing extra).
WIDTH_SAMPLE = 500
REVIEW_HEADERS = ("明細列", "工作計畫", "用途別科目", "說明", "計算金額", "建議類別", "建議數", "待覆核原因與依據", "亦符合類別")


def record_check(record: str) -> str:
    """The check ``k`` of one 資料 record (its JSON without ``k``): finds a record edited by hand."""
    return hashlib.blake2b(record.encode("utf-8"), digest_size=8).hexdigest()


def write_lines(book: "Book", detail: Any, data: Any, review: Any) -> None:
    """Write 明細, 資料 and 待覆核 row by row (rows go out to disk as written).

    With many lines and a second CPU (see :mod:`budget.outputs.forked`), a forked process writes the
    second half of the rows while this one writes the first; its rows are then taken over as they
    are. If it cannot, this process writes them itself: the workbook is the same either way.
    """
    rows = _Rows(book, detail, data, review)
    n = len(book.run.lines)
    split = _split_point(book, (detail, data, review), n)
    if split is None:
        rows.write(0, n)
    else:
        _write_in_two(book, rows, split, n)
    rows.finish()


def _write_in_two(book: "Book", rows: "_Rows", split: int, n: int) -> None:
    """Lines before ``split`` here, the rest by a forked process; its rows adopted, or written here if it fails."""
    sheets = (rows.detail, rows.data, rows.review)
    for ws in sheets:
        ws.before_fork()
    # The second process's files, in a folder of their own: removed with the workbook's scratch (or if it dies).
    folder = tempfile.mkdtemp(prefix="rows-", dir=rows.detail.tmpdir)
    book.scratch.append(folder)
    try:
        child = forked.start(lambda: rows.detached(split, n, folder))
    except OSError as exc:  # no process to spare (EAGAIN, ENOMEM): one writes them all
        book.parallel_note = f"無法啟動第二個程序 (could not fork: {exc})"
        rows.write(0, n)
        return
    started = time.perf_counter()
    try:
        rows.write(0, split, progress_scale=n / split)
    except BaseException:
        child.abandon()
        raise
    mine = time.perf_counter() - started
    ok, part = child.join()
    if ok and rows.adopt(part, split):
        book.row_seconds = (mine, part["seconds"])
        return
    book.parallel_note = (f"第二個程序未完成，改由本程序寫出 (second process did not finish): {str(part)[-300:]}" if not ok
                          else "第二個程序用了新格式或共用字串，改由本程序寫出 (second process needed new formats or shared strings)")
    rows.discard(part if ok else None)
    rows.write(split, n)


#: The share of the rows this process writes when two do. Per row the two are about as fast (the forked one
#: copies its pages as it first writes to them; this one also hashes the 資料 records and draws progress):
#: with 0.53, rows1/rows2 at 100k and 1M lines (benchmarks/RESULTS.md) put the even split at 0.49-0.51.
FIRST_SHARE = 0.5
#: Fewer lines than this are written by one process (forking costs more than it saves).
PARALLEL_MIN_LINES = 5_000


def _split_point(book: "Book", sheets: tuple[Any, ...], n: int) -> int | None:
    """Where a forked process takes over the rows, or None to write them all here."""
    if n < PARALLEL_MIN_LINES or not all(hasattr(ws, "begin_detached") for ws in sheets):
        book.parallel_note = "" if n < PARALLEL_MIN_LINES else "此寫出程式不分工 (this writer writes on one core)"
        return None
    reason = forked.why_not()
    if reason is not None:
        book.parallel_note = reason
        return None
    # Every review row links to 明細: the links per sheet are limited (65,530), which one process checks.
    reviews = sum(1 for d in book.run.decisions if d.status == REVIEW)
    if reviews > 60_000:
        book.parallel_note = "待覆核連結過多 (too many review links to split)"
        return None
    book.parallel_note = "2"
    return max(int(n * FIRST_SHARE), WIDTH_SAMPLE + 1)


def fingerprint_line(amount: Any, status: Any, source: Any) -> str:
    """One 明細 row's 計算金額, 判定 and 來源 cells as a reader sees them (a number as the double it holds, a blank
    as nothing), for :func:`detail_fingerprint`."""
    return f"{_fingerprint_key(amount)}\x1f{_fingerprint_key(status)}\x1f{_fingerprint_key(source)}\n"


def detail_fingerprint(rows: Iterable[tuple[Any, Any, Any]]) -> str:
    """The SHA-256 of 明細's 計算金額, 判定 and 來源 cells (``rows``: one triple per row, from row 2), each row as
    :func:`fingerprint_line` gives it. The writer takes it of the cells it writes and 紀錄 records it; a read-back
    that finds the same knows that no 明細 row was edited there, added, deleted or sorted, without comparing each
    row with its 資料 record (see budget.outputs.readback: `classify --reviewed` then reads only the rows a
    reviewer filled in)."""
    digest, batch = hashlib.sha256(), []
    for row in rows:
        batch.append(fingerprint_line(*row))
        if len(batch) >= 10_000:
            digest.update("".join(batch).encode("utf-8"))
            batch.clear()
    digest.update("".join(batch).encode("utf-8"))
    return digest.hexdigest()


def _fingerprint_key(value: Any) -> str:
    if value is None or value == "":
        return ""
    if type(value) in (int, float, Decimal):
        return repr(float(value))
    return "\x02" + str(value)  # text (never taken for a number)


class _Rows:
    """The rows of 明細, 資料 and 待覆核, written in stretches (all of them, or two halves by two processes)."""

    def __init__(self, book: "Book", detail: Any, data: Any, review: Any) -> None:
        self.book, self.detail, self.data, self.review = book, detail, data, review
        self.widths = _start_detail(book, detail)
        _start_data(book, data)
        self.review_widths = _start_review(book, review)
        self.formulas = RowFormulas(book)
        self.data_rows = DataRows(book, data)
        self.added_cells = AddedCells(book, detail)
        # The original cells' number formats (whole numbers).
        self.number_formats = {c: book.cells.fmt("amount" if c in book.amount_cols else None)
                               for c in range(len(book.original))}
        _index_row_formats(book)
        self.digest = hashlib.sha256()
        self.records = self.digest.update  # where each 資料 record goes (its bytes and a newline)
        self.fingerprint = hashlib.sha256()
        self.marks = self.fingerprint.update  # where 明細's fingerprint lines go, in order (see detail_fingerprint)
        self.review_row = 0

    def write(self, start: int, stop: int, progress_scale: float = 1.0) -> None:
        """Write lines ``start``…``stop - 1`` (rows ``start + 1``…): their 明細, 資料 and 待覆核 rows."""
        book, detail, cells = self.book, self.detail, self.book.cells
        run = book.run
        n = len(run.lines)
        widths, formulas, data_rows, added_cells = self.widths, self.formulas, self.data_rows, self.added_cells
        records, number_formats = self.records, self.number_formats
        batch: list[str] = []  # fingerprint lines, handed on 10,000 at a time
        mark = batch.append
        write_string, write_number = detail.write_string, detail.write_number
        col_formats = book.col_formats
        wrap_width = book.wrap_width
        amount_cols = book.amount_cols
        evidence_col = book.added["evidence"]
        lines, decisions, finals = run.lines, run.decisions, book.finals
        for i in range(start, stop):
            line, d = lines[i], decisions[i]
            r = i + 1
            sampling = i < WIDTH_SAMPLE
            values, positions = book.positions_of(line)
            longest = 0.0  # the most lines a wrapped cell of this row needs (CJK counted wide: an estimate from above)
            for j, value in enumerate(values):
                if value is None:
                    continue
                c = positions[j]
                if type(value) is str:
                    if c in wrap_width:
                        longest = max(longest, len(value) * 2 / wrap_width[c])
                    if len(value) <= MAX_CELL_TEXT // 2 and value.isprintable():
                        if value and write_string(r, c, value, col_formats[c][value[0] in FORMULA_STARTS]):
                            not_written(-1, detail, r, c)
                    else:
                        cells.value(detail, r, c, value, c in amount_cols, (line, book.original[c]))
                elif (whole := integral(value)) is not None:  # what cells.value writes for it, without introspection
                    if write_number(r, c, whole, number_formats[c]):
                        not_written(-1, detail, r, c)
                else:
                    cells.value(detail, r, c, value, c in amount_cols, (line, book.original[c]))
                if sampling:
                    widths[c] = max(widths[c], display_width(_sample(value)))
            added = _added_values(book, i, line, d)
            mark(fingerprint_line(added["amount"][1], added["status"][1], added["source"][1]))
            if len(batch) >= 10_000:
                self.marks("".join(batch).encode("utf-8"))
                batch.clear()
            added_cells.write(r, line, added, widths if sampling else None)
            longest = max(longest, len(added["evidence"][1]) * 2 / wrap_width[evidence_col])
            if longest > 1:
                _row_height(detail, r, longest)
            if line.kind == LINE:
                formulas.write(detail, r, line, d, finals[i])
            records(data_rows.write(r, line, d).encode("utf-8") + b"\n")
            if d.status == REVIEW:
                self.review_row += 1
                _review_row(book, self.review, self.review_row, r, line, d, added, self.review_widths)
            if book.progress is not None and (r % 2000 == 0 or r == n):
                book.progress("write", min(int(r * progress_scale), n - 1) if progress_scale != 1.0 else r, n)
        self.marks("".join(batch).encode("utf-8"))

    # --- the second process's half ------------------------------------------------------------

    def detached(self, start: int, stop: int, folder: str) -> dict[str, Any]:
        """(In the forked process) write lines ``start``…``stop - 1`` into row files of their own in ``folder``;
        what :meth:`adopt` takes."""
        book = self.book
        book.progress = None
        sheets = (self.detail, self.data, self.review)
        self.review_row = sum(1 for d in book.run.decisions[:start] if d.status == REVIEW)
        for ws, first in zip(sheets, (start + 1, start + 1, self.review_row + 1)):
            ws.tmpdir = folder
            ws.begin_detached(first)
        problems_before, total_before = len(book.problems), book.workbook_total
        formats_before, strings_before = _format_count(book.wb), book.wb.str_table.count
        started = time.perf_counter()
        fd, records_path = tempfile.mkstemp(suffix=".records", dir=folder)
        fd2, marks_path = tempfile.mkstemp(suffix=".marks", dir=folder)
        try:
            with os.fdopen(fd, "wb", buffering=1 << 20) as out, os.fdopen(fd2, "wb", buffering=1 << 20) as marks:
                self.records, self.marks = out.write, marks.write
                self.write(start, stop)
        except BaseException:
            os.unlink(records_path)
            os.unlink(marks_path)
            raise
        sheet_parts = [ws.detach_rows() for ws in sheets]
        return {"sheets": sheet_parts, "records": records_path, "marks": marks_path,
                "seconds": time.perf_counter() - started,
                "problems": book.problems[problems_before:], "total": book.workbook_total - total_before,
                "review_widths": self.review_widths, "review_row": self.review_row,
                "formats_changed": _format_count(book.wb) != formats_before or book.wb.str_table.count != strings_before}

    def adopt(self, part: dict[str, Any], start: int) -> bool:
        """Take over the forked process's rows (from line ``start`` on); False if they cannot be (new formats)."""
        if part["formats_changed"]:
            return False
        book = self.book
        for ws, sheet_part in zip((self.detail, self.data, self.review), part["sheets"]):
            ws.adopt_rows(sheet_part, start + 1 if ws is not self.review else self.review_row + 1)
        with open(part["records"], "rb") as src:
            while chunk := src.read(1 << 20):
                self.digest.update(chunk)
        os.unlink(part["records"])
        with open(part["marks"], "rb") as src:
            while chunk := src.read(1 << 20):
                self.fingerprint.update(chunk)
        os.unlink(part["marks"])
        book.problems.extend(part["problems"])
        book.workbook_total += part["total"]
        self.review_widths[:] = [max(a, b) for a, b in zip(self.review_widths, part["review_widths"])]
        self.review_row = part["review_row"]
        return True

    @staticmethod
    def discard(part: dict[str, Any] | None) -> None:
        """Delete the row files of a forked process's rows that are not taken over."""
        if not part:
            return
        for name in [p["rows"] for p in part["sheets"]] + [part["records"], part["marks"]]:
            if name:
                try:
                    os.unlink(name)
                except OSError:
                    pass

    def finish(self) -> None:
        """Widths, filters, validations: what needs every row written."""
        book = self.book
        n = len(book.run.lines)
        book.data_digest = self.digest.hexdigest()
        book.detail_digest = self.fingerprint.hexdigest()
        _finish_detail(book, self.detail, self.widths, n)
        # 資料 is read by programs: no column styles (set now, they would reach only the rows not yet on disk).
        book.finish_table(self.data, len(DATA_HEADER), n, [30, 80], formats=False)
        widths_review = [min(max(w + 2, 8), 24) for w in self.review_widths]
        widths_review[3], widths_review[7] = 40, 60  # wrapped: the row heights above assume these widths
        book.finish_table(self.review, len(REVIEW_HEADERS), self.review_row, widths_review)


#: The styles a row may use (with and without the quote prefix), and the decimals an amount may show.
ROW_STYLES = (None, "text", "amount", "wrap", "link", "input", "input_amount", "input_percent",
              *(f"status_{s}" for s in STATUS_LABELS))
ROW_DECIMALS = range(1, 5)


def _index_row_formats(book: "Book") -> None:
    """Create every format a row may use and fix its style index, before any row is written.

    A forked process that needed a format this process has not indexed could not have its rows
    taken over (the indices would differ); with them all indexed first, both processes agree.
    """
    fmt = book.cells.fmt
    for kind in ROW_STYLES:
        for quote in (False, True):
            fmt(kind, quote)
    for decimals in ROW_DECIMALS:
        fmt("amount", decimals=decimals)
    book.cells.index_formats()


def _format_count(wb: Any) -> tuple[int, int]:
    """How many formats the workbook has, and how many have a style index (a forked process may add neither)."""
    return len(wb.formats), len(wb.xf_format_indices)


class AddedCells:
    """Writes the constant added cells of a 明細 row (common cells directly, with cached formats)."""

    def __init__(self, book: "Book", ws: Any) -> None:
        self.book, self.ws = book, ws
        self.kind_formats: dict[str | None, tuple[Any, Any]] = {}  # style → its format without and with quote prefix
        self.amount_col = book.added["amount"]

    def write(self, r: int, line: LineItem, added: dict[str, tuple[str | None, Any]], widths: list[int] | None) -> None:
        """Write row ``r``'s added cells; widen ``widths`` (if given) to their contents."""
        book, ws, cells, kind_formats, amount_col = self.book, self.ws, self.book.cells, self.kind_formats, self.amount_col
        added_cols, write_string, write_number = book.added, ws.write_string, ws.write_number
        for key, (kind, value) in added.items():
            if value is None or value == "":
                continue
            c = added_cols[key]
            formats = kind_formats.get(kind)
            if formats is None:
                formats = kind_formats[kind] = (cells.fmt(kind), cells.fmt(kind, True))
            if type(value) is str:
                if len(value) <= MAX_CELL_TEXT // 2 and value.isprintable():  # what cells.text writes, cheaply
                    if write_string(r, c, value, formats[value[0] in FORMULA_STARTS]):
                        not_written(-1, ws, r, c)
                else:
                    cells.text(ws, r, c, value, kind)
            elif key == "review_percent":
                cells.percent(ws, r, c, value, "input_percent")
            elif isinstance(value, Decimal):
                whole = integral(value)
                if whole is not None:  # what cells.number writes, without Decimal introspection
                    if write_number(r, c, whole, formats[0]):
                        not_written(-1, ws, r, c)
                    numeric = True
                else:
                    numeric = cells.number(ws, r, c, value, kind, (line, book.headers[c]) if c == amount_col else None)
                if c == amount_col and numeric:
                    book.workbook_total += value
            else:
                cells.text(ws, r, c, value, kind)
            if widths is not None:
                widths[c] = max(widths[c], display_width(_sample(value)))


def _start_detail(book: "Book", ws: Any) -> list[int]:
    """Header row and column formats of 明細 (set first: rows may be flushed as they are written)."""
    cells = book.cells
    book.col_formats = {}
    book.column_format = {}
    inputs = {book.added[k] for k in layout.REVIEW_KEYS}
    kinds = {book.added["amount"]: "amount", book.added["suggested"]: "amount", book.added["gender_amount"]: "amount",
             book.added["review_amount"]: "input_amount", book.added["review_percent"]: "input_percent",
             book.added["review_category"]: "input", book.added["review_note"]: "input",
             book.added["evidence"]: "wrap"}
    book.wrap_width = {c: 30 for c in book.wrap_cols}
    book.wrap_width[book.added["evidence"]] = 36
    for c in range(len(book.headers)):
        wrap = c in book.wrap_cols
        book.col_formats[c] = (cells.fmt("text", extra=(("text_wrap", True),) if wrap else ()),
                               cells.fmt("text", True, extra=(("text_wrap", True),) if wrap else ()))
        book.column_format[c] = cells.fmt(kinds.get(c, "wrap" if wrap else "plain"))
        ws.set_column(c, c, 14 if c in inputs else 10, book.column_format[c])
    for c, title in enumerate(book.headers):
        cells.text(ws, 0, c, title, "header")
    book.print_rows[layout.DETAIL_SHEET] = (0, 0)
    return [display_width(h) for h in book.headers]


#: Printed height of one line of 10-point text, in points; a row grows to at most :data:`MAX_ROW_LINES` lines.
LINE_HEIGHT = 13.5
MAX_ROW_LINES = 12


def _row_height(ws: Any, r: int, lines: float) -> None:
    """Make row ``r`` tall enough for ``lines`` lines of wrapped text (readers do not grow rows themselves)."""
    count = min(int(lines) + (lines > int(lines)), MAX_ROW_LINES)
    if ws.set_row(r, LINE_HEIGHT * count + 2):
        not_written(-1, ws, r, 0)


def _start_data(book: "Book", ws: Any) -> None:
    header_fmt = book.cells.fmt("header")
    for c, name in enumerate((*DATA_HEADER, layout.DATA_UNIT_PREFIX + book.unit)):
        if ws.write_string(0, c, name, header_fmt):
            not_written(-1, ws, 0, c)
    book.print_rows[layout.DATA_SHEET] = (0, 0)


def _start_review(book: "Book", ws: Any) -> list[int]:
    for c, title in enumerate(REVIEW_HEADERS):
        book.cells.text(ws, 0, c, title + (f"（{book.unit}）" if c in (4, 6) else ""), "header")
    ws.set_column(3, 3, 40, book.cells.fmt("wrap"))
    ws.set_column(7, 7, 60, book.cells.fmt("wrap"))
    book.print_rows[layout.REVIEW_SHEET] = (0, 0)
    return [display_width(h) + 4 for h in REVIEW_HEADERS]


def _added_values(book: "Book", i: int, line: LineItem, d: Decision) -> dict[str, tuple[str | None, Any]]:
    """The constant added columns of one 明細 row: key → (style, value); formulas come separately."""
    rules, unit = book.run.rules, book.unit
    suggested = d.category is not None and d.status in (MATCHED, REVIEW)
    cat = rules.category(d.category) if suggested else None
    entry = book.entries.get(i) or _BLANK
    is_line = line.kind == LINE
    return {
        "amount": ("amount", convert(line.amount, line.unit, unit) if is_line and line.amount is not None else None),
        "status": ("status_" + d.status, STATUS_LABELS.get(d.status, d.status)),
        "suggested_name": (None, cat.name if cat else ""),
        "suggested": ("amount", convert(d.gender_amount, line.unit, unit) if suggested else None),
        "unit": (None, line.unit if is_line else ""),
        "review_category": ("input", entry.category),
        "review_amount": ("input_amount", entry.amount),
        "review_percent": ("input_percent", entry.percent),
        "review_note": ("input", entry.note),
        "evidence": ("wrap", d.explain()),
        "rule": (None, d.rule),
        "source": (None, line.source),
    }


_BLANK = ReviewEntry()


class RowFormulas:
    """The two formula cells of a line: its final category (by name) and 性別預算數 (in the workbook's unit)."""

    def __init__(self, book: "Book") -> None:
        self.book = book
        L = {k: book.letter(k) for k in ("amount", "status", "suggested", "review_category", "review_amount",
                                          "review_percent", "category_name")}
        self.L = L
        self.cols = [book.added[k] for k in ("category_name", "gender_amount")]
        self.none_test = ",".join(f'{{K}}="{w}"' for w in sorted(NONE_WORDS))
        self.matched = STATUS_LABELS[MATCHED]
        self.amount_format = book.cells.fmt("amount")
        self._parts: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}

    def write(self, ws: Any, r: int, line: LineItem, d: Decision, final: Decision) -> None:
        """Write row ``r``'s formulas with their values from ``final``."""
        book = self.book
        rules = book.run.rules
        suggested_cat = rules.category(d.category) if d.category and d.status in (MATCHED, REVIEW) else None
        suggested = _quoted(suggested_cat.name) if suggested_cat else ""
        matched = suggested if d.status == MATCHED else ""
        key = (matched, suggested, line.unit)
        parts = self._parts.get(key)
        if parts is None:
            if _ROW in suggested:  # never in a real name; written without the cache
                x, g = self.formulas(str(r + 1), matched, suggested, line.unit)
            else:
                x, g = self.formulas(_ROW, matched, suggested, line.unit)
                parts = self._parts[key] = (x.split(_ROW), g.split(_ROW))
        if parts is not None:
            n = str(r + 1)
            x, g = n.join(parts[0]), n.join(parts[1])
        counted = final.status == MATCHED and final.category
        cat = rules.category(final.category) if counted else None
        gender = convert(final.gender_amount, line.unit, book.unit) if counted else Decimal(0)
        book.cells.formula(ws, r, self.cols[0], x, cat.name if cat else "")
        whole = integral(gender)
        if whole is None:
            book.cells.formula(ws, r, self.cols[1], g, gender, "amount")
        elif ws.write_formula(r, self.cols[1], g, self.amount_format, whole):  # what cells.formula writes
            not_written(-1, ws, r, self.cols[1])

    def formulas(self, n: str, matched: str, suggested: str, unit: str) -> tuple[str, str]:
        """The final category's and 性別預算數's formulas of row ``n`` (1-based, as text)."""
        L = self.L
        K, M, P, G, A, X = (f"${L[k]}{n}" for k in ("review_category", "review_amount", "review_percent",
                                                      "suggested", "amount", "category_name"))
        blank = f'AND({K}="",{M}="",{P}="")'
        none = "OR(" + self.none_test.format(K=K) + ")"
        # The final category by its name. IFNA (stored _xlfn.IFNA, as Excel writes it; LibreOffice reads it)
        # catches MATCH's #N/A: the typed text is neither a name nor an id.
        x = (f'=IF({blank},"{matched}",IF({K}="","{suggested}",IF({none},"",'
             f'_xlfn.IFNA(INDEX({NAME_NAMES},MATCH({K},{NAME_NAMES},0)),_xlfn.IFNA(INDEX({NAME_NAMES},MATCH({K},{NAME_IDS},0)),"？")))))')
        f = format_amount(Decimal(UNITS[unit]) / UNITS[self.book.unit])
        places = len(str(UNITS[unit])) - 1
        times, over = (f"*{f}", f"/{f}") if f != "1" else ("", "")
        share = f"_xlfn.IFNA(INDEX({NAME_SHARES},MATCH({X},{NAME_NAMES},0)),0)"
        g = (f'=IF(OR({X}="",{X}="？"),0,IF({blank},{G},IF({M}<>"",IF({A}<0,-1,1)*{M}{times},'
             f'IF({P}<>"",ROUND({A}*{P}{over},{places}){times},IF({G}<>"",{G},ROUND({A}*{share}{over},{places}){times})))))')
        return x, g


#: Stands for the row number in a cached formula (split on it, joined with the number).
_ROW = "\x00"


def _quoted(text: str) -> str:
    """``text`` inside a formula's string literal."""
    return text.replace('"', '""')


class DataRows:
    """Writes the lines on 資料: each its 工作計畫, then all its fields as one JSON object with its check ``k``."""

    def __init__(self, book: "Book", ws: Any) -> None:
        self.book, self.ws = book, ws
        self.keys = [json.dumps(k) + ":" for k in DATA_COLUMNS]
        self.plan_formats = (book.cells.fmt(None), book.cells.fmt(None, True))

    def write(self, r: int, line: LineItem, d: Decision) -> str:
        """Write line ``r``'s record (the JSON ``json.dumps`` makes, built directly); the record."""
        values = (
            line.file, line.sheet, line.row, line.kind, line.year, line.agency, line.plan, line.branch,
            line.account_code, line.account, line.description,
            format_amount(line.amount) if line.amount is not None else "", line.unit, d.status, d.category or "",
            format_amount(d.share_percent) if d.share_percent is not None else "", format_amount(d.gender_amount),
            d.rule, line.context,
        )
        ws = self.ws
        plan = line.plan
        if plan:
            if len(plan) <= MAX_CELL_TEXT // 2 and plan.isprintable():  # what cells.text writes, cheaply
                if ws.write_string(r, 0, plan, self.plan_formats[plan[0] in FORMULA_STARTS]):
                    not_written(-1, ws, r, 0)
            else:
                self.book.cells.text(ws, r, 0, plan)
        fields = []
        for key, v in zip(self.keys, values):
            kind = type(v)
            if kind is str:
                if v:
                    fields.append(key + _json_text(v))
            elif kind is int:
                fields.append(key + int.__repr__(v))
            elif v is not None and v != "":
                fields.append(key + json.dumps(v, ensure_ascii=False, separators=(",", ":")))
        body = "{" + ",".join(fields) + "}"
        record = f'{body[:-1]},"k":"{record_check(body)}"}}'
        # A record longer than a cell holds continues in the next cells (a description near 32,767).
        if len(record) <= DATA_CHUNK:
            if ws.write_string(r, 1, record, self.plan_formats[0]):
                not_written(-1, ws, r, 1)
            return record
        for k in range(0, len(record), DATA_CHUNK):
            if ws.write_string(r, 1 + k // DATA_CHUNK, record[k:k + DATA_CHUNK], self.plan_formats[0]):
                not_written(-1, ws, r, 1 + k // DATA_CHUNK)
        return record


#: A string as JSON text without escaping non-ASCII (what ``json.dumps(..., ensure_ascii=False)`` writes).
_json_text = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _review_row(book: "Book", ws: Any, row: int, r: int, line: LineItem, d: Decision,
                added: dict[str, tuple[str | None, Any]], widths: list[int]) -> None:
    """One 待覆核 row: a link to its 明細 row, what the line is and why it needs a person."""
    cells = book.cells
    cells.link(ws, row, 0, layout.DETAIL_SHEET, f"A{r + 1}", str(r + 1))
    longest = max(len(line.description) * 2 / 40, len(added["evidence"][1]) * 2 / 60)
    if longest > 1:
        _row_height(ws, row, longest)
    account = f"{line.account_code} {line.account}".strip()
    values = [None, line.plan, account, line.description, added["amount"][1], added["suggested_name"][1],
              added["suggested"][1], d.explain(), "、".join(_name(book, c) for c in d.also_matched)]
    for c, value in enumerate(values):
        if value is None or value == "":
            continue
        if isinstance(value, Decimal):
            cells.number(ws, row, c, value, "amount")
        else:
            cells.text(ws, row, c, value, "wrap" if c in (3, 7) else None)
        if row < WIDTH_SAMPLE:
            widths[c] = max(widths[c], display_width(_sample(value)))


def _name(book: "Book", category_id: str) -> str:
    cat = book.run.rules.category(category_id)
    return cat.name if cat else category_id


def _finish_detail(book: "Book", ws: Any, widths: list[int], n: int) -> None:
    last_col = len(book.headers) - 1
    inputs = {book.added[k] for k in layout.REVIEW_KEYS}
    for c, w in enumerate(widths):
        width = book.wrap_width.get(c) or max(min(max(w + 2, 6), 20), 12 if c in inputs else 0)
        ws.set_column(c, c, width, book.column_format[c])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), last_col)
    if n == 0:
        return
    status = f"${book.letter('status')}2"
    rows = (1, 0, n, last_col)
    for label, props in ((STATUS_LABELS[MATCHED], {"bg_color": "#E2EFDA"}), (STATUS_LABELS[REVIEW], {"bg_color": "#FFF2CC"}),
                         (STATUS_LABELS[EXCLUDED], {"font_color": "#808080", "italic": True})):
        if ws.conditional_format(*rows, {"type": "formula", "criteria": f'={status}="{label}"',
                                         "format": book.wb.add_format(props)}):
            not_written(-1, ws, 1, 0)
    _validations(book, ws, n)


def _validations(book: "Book", ws: Any, n: int) -> None:
    """Drop-down on 覆核類別; amount within the line and percentage within 0–100 %, never both."""
    K, M, P = (book.added[k] for k in ("review_category", "review_amount", "review_percent"))
    m, p, a, u = (f"{book.letter(k)}2" for k in ("review_amount", "review_percent", "amount", "unit"))
    checks = []
    checks.append(ws.data_validation(1, K, n, K, {
        "validate": "list", "source": book.choices_range, "ignore_blank": True, "show_input": True,
        "show_error": False, "input_title": "覆核類別",
        "input_message": "選擇類別（或輸入類別代碼）；「不列入」表示不計入性別預算。只選類別時計入建議數（無建議數時依類別比例計入全行）。"}))
    factor = f'IF({u}="千元",1000,IF({u}="萬元",10000,1))'
    checks.append(ws.data_validation(1, M, n, M, {
        "validate": "custom", "value": f'=AND(ISNUMBER({m}),{m}>=0,{m}*{factor}<=ABS({a})*{UNITS[book.unit]},{p}="")',
        "ignore_blank": True, "show_input": True, "input_title": "覆核計入數",
        "input_message": "計入性別預算的金額（本行單位，見「單位」欄），不可大於本行金額；與覆核比例擇一填寫。",
        "error_title": "覆核計入數不正確", "error_message": "金額須介於 0 與本行金額之間，且不可與覆核比例同時填寫。"}))
    checks.append(ws.data_validation(1, P, n, P, {
        "validate": "custom", "value": f'=AND(ISNUMBER({p}),{p}>=0,{p}<=1,{m}="")',
        "ignore_blank": True, "show_input": True, "input_title": "覆核比例",
        "input_message": "計入性別預算的比例，例如輸入 40% ；與覆核計入數擇一填寫。",
        "error_title": "覆核比例不正確", "error_message": "比例須介於 0% 與 100% 之間，且不可與覆核計入數同時填寫。"}))
    for rc, col in zip(checks, (K, M, P)):
        if rc:
            not_written(rc, ws, 1, col)


def _sample(value: Any) -> str:
    """The start of a value as text, for column widths."""
    if isinstance(value, str):
        return value[:80]
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (int, Decimal)):
        return f"{value:,}"
    return str(value)[:80]


