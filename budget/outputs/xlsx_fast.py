"""A faster .xlsx writer: xlsxwriter for the workbook, a streaming cell writer of our own for sheet data.

:class:`FastBook` is an ``xlsxwriter.Workbook`` whose worksheets (:class:`FastSheet`) render each
cell to its XML the moment it is written and stream finished rows to a temporary file. Everything
else — styles, column widths, freeze panes, autofilter, data validation, conditional formats, print
setup, defined names, charts, document properties, the parts of the package — is xlsxwriter's own
code, unchanged, so every call of the subset in :mod:`budget.outputs.backends` (and the rest of
xlsxwriter's API) works as before. On POSIX the package is zipped by :class:`_ThreadedZip`: parts
deflated in chunks on two threads straight into the file, each sheet's row files spliced into its
part there instead of being copied into it first.

A sheet's rows may also be written by another process (:meth:`FastSheet.begin_detached`,
:meth:`FastSheet.detach_rows`, :meth:`FastSheet.adopt_rows`): its row files are taken over as they are.

What differs from xlsxwriter, on purpose:

- Strings are always inline (``t="inlineStr"``), never in the shared-string table: memory stays
  flat at a million rows, as in xlsxwriter's ``constant_memory`` mode, and no mode switch changes
  the file. Text is always escaped: a string that looks like a formula, a rich-text run
  (xlsxwriter writes ``<r>…</r>`` text raw) or an ``_x0041_`` escape stays the same text.
- Rows may be written in any order within :data:`ROW_WINDOW` rows of the highest row written so
  far; older rows are on disk, and writing to one raises :class:`RowAlreadyWritten` instead of
  silently dropping the cell (xlsxwriter's ``constant_memory`` mode drops it).
- Column and row formats apply to unformatted cells of rows still in the window when the sheet
  is finished or the row leaves it (as in ``constant_memory`` mode).

Cell writes the fast path does not cover (rich strings, array formulas, dynamic-array functions)
go through xlsxwriter's own code and are merged in row order.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import tempfile
import threading
import time as _clock
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet, re_dynamic_function

#: Rows kept in memory per sheet before the oldest are streamed to disk (a book opened with
#: ``constant_memory``; otherwise every row stays in memory until the book is closed, as in xlsxwriter).
ROW_WINDOW = 1024
#: zlib level of the package's parts (xlsxwriter uses zlib's default, 6).
COMPRESS_LEVEL = 1
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
#: Column letters, computed once (A … XFD).
_COLS = [xl_col_to_name(c) for c in range(_MAX_COL)]
_ESCAPE_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
#: The underscore of every ``_xHHHH_`` in a text, overlapping ones too (``_x005F_x0041_``).
_ESCAPE_START = re.compile("_(?=x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ERROR_VALUES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))
_INFINITIES = (float("inf"), float("-inf"))


#: The dynamic-array functions xlsxwriter writes its own way (names read from its pattern, so they stay its list).
_DYNAMIC_NAMES = frozenset(re.findall(r"\\b([A-Z][A-Z0-9_.]*)\\\(", re_dynamic_function.pattern))
_CALLED = re.compile(r"([A-Z][A-Z0-9_.]*)\(")


def _dynamic(formula: str) -> bool:
    """Does ``formula`` call a dynamic-array function? (xlsxwriter's test, 4x faster: names first, then a set.)

    A name found here that xlsxwriter's pattern would not match (``xFILTER(``) only sends the
    formula through xlsxwriter's own, slower code, which then decides.
    """
    if not _DYNAMIC_NAMES:  # pragma: no cover - an xlsxwriter whose pattern is not read this way
        return re_dynamic_function.search(formula) is not None
    if "(" not in formula:
        return False
    names = _CALLED.findall(formula)
    return not _DYNAMIC_NAMES.isdisjoint(names) or any(
        "." in name and name.rpartition(".")[2] in _DYNAMIC_NAMES for name in names)


class RowAlreadyWritten(ValueError):
    """A cell or row setting came for a row that has already been streamed to disk."""


def escape_text(text: str) -> tuple[str, bool]:
    """``text`` as the content of a ``<t>`` element, and whether it needs ``xml:space="preserve"``.

    Escapes ``& < >``, writes control characters as ``_xHHHH_`` and protects literal ``_xHHHH_``
    sequences (``_x005F_``), as Excel does, so that readers give back exactly ``text``.
    """
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "_x" in text:
        text = _ESCAPE_START.sub("_x005F_", text)
    if not text.isprintable():
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text, text[:1].isspace() or text[-1:].isspace()


def _escape_data(value: Any) -> str:
    text = str(value)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


class FastSheet(Worksheet):
    """An xlsxwriter worksheet whose cells are rendered at once and streamed to disk by row."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: dict[int, dict[int, str]] = {}
        self._row = -1
        self._cells: dict[int, str] = {}
        self._flushed_below = 0  # every row below this one is on disk
        self._spool: Any = None
        self._spool_name: str | None = None
        self._has_rows = False
        self._styles: dict[Any, str] = {}
        self._parts: list[str] = []  # finished row files before the spool, in row order (see adopt_rows)
        self._bare: list[tuple[int, int]] = []  # cells written without a format: a row or column format may apply
        self._info_rows: set[int] = set()  # rows with row settings (set_row) not yet on disk
        self._sizes: dict[tuple[Any, Any], tuple[Any, Any]] = {}  # (height, hidden) pairs of row_sizes, shared
        self._shapes: dict[str, bool] = {}  # formula shape → calls a dynamic-array function (see _dynamic)
        self._links_before = 0  # hyperlinks the sheet had when a forked process began writing it
        self._splice: dict[bytes, list[str]] | None = None  # set by FastBook when its package writer splices rows
        self._window: int | None = ROW_WINDOW  # rows kept in memory (None: all, until the book is closed)

    def _initialize(self, init_data: dict[str, Any]) -> None:
        # The base class must not open its own row file nor use shared strings: this sheet streams.
        super()._initialize({**init_data, "constant_memory": False})

    # --- where a cell goes -------------------------------------------------------------------

    def _goto(self, row: int) -> dict[int, str]:
        """The cells of ``row`` (created), after streaming old rows if the window is full."""
        if row < self._flushed_below:
            raise RowAlreadyWritten(f"工作表「{self.name}」第 {row + 1} 列已寫出，無法再寫入 "
                                    f"(sheet {self.name!r}: row {row + 1} was already written)")
        if row >= _MAX_ROW:
            raise IndexError(row)
        cells = self._pending.get(row)
        if cells is None:
            cells = self._pending[row] = {}
            if self.dim_rowmin is None or row < self.dim_rowmin:
                self.dim_rowmin = row
            if self.dim_rowmax is None or row > self.dim_rowmax:
                self.dim_rowmax = row
            if self._window is not None and len(self._pending) > self._window:
                self._flush(max(self._pending) - self._window // 2)
        self._row, self._cells = row, cells
        return cells

    def _style(self, fmt: Any) -> str:
        """The ``s`` attribute of a cell with format ``fmt`` (its index is fixed from now on)."""
        if fmt is None:
            return ""
        style = self._styles.get(fmt)
        if style is None:
            style = self._styles[fmt] = f' s="{fmt._get_xf_index()}"'
        return style

    # --- the subset's cell writes (fast path) ------------------------------------------------

    def write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:  # type: ignore[override]
        """Write ``string`` as a text cell (inline, escaped; never a formula)."""
        if type(row) is not int or type(col) is not int:
            return super().write_string(row, col, string, cell_format)
        if col < 0 or col >= _MAX_COL or row < 0:
            return -1
        error = 0
        if len(string) > 16383 and len(string.encode("utf-16-le")) // 2 > 32767:
            from xlsxwriter.worksheet import _utf16_truncate

            string, error = _utf16_truncate(string, 32767), -2
        cells = self._cells if row == self._row else self._goto(row)
        if cell_format is None:
            style = ""
            self._bare.append((row, col))
        else:
            style = self._styles.get(cell_format) or self._style(cell_format)
        if ("&" in string or "<" in string or ">" in string or "_x" in string or not string.isprintable()
                or string[:1].isspace() or string[-1:].isspace()):
            if "_x" in string and _ESCAPE_ESCAPE.search(string) and not (
                    string.startswith("<r>") and string.endswith("</r>")) and (
                    len(_ESCAPE_ESCAPE.findall(string)) == len(_ESCAPE_START.findall(string))):
                # Text holding a literal _xHHHH_: openpyxl unescapes it only in shared strings (whose
                # writer, xlsxwriter's, handles all but overlapping ones such as _x005F_x0041_).
                index = self.str_table._get_shared_string_index(string)
                cells[col] = f'<c r="{_COLS[col]}{row + 1}"{style} t="s"><v>{index}</v></c>'
                return error
            text, preserve = escape_text(string)
            space = ' xml:space="preserve"' if preserve else ""
            cells[col] = f'<c r="{_COLS[col]}{row + 1}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
        else:
            cells[col] = f'<c r="{_COLS[col]}{row + 1}"{style} t="inlineStr"><is><t>{string}</t></is></c>'
        return error

    _write_string = write_string

    def write_number(self, row: int, col: int, number: Any, cell_format: Any = None) -> int:  # type: ignore[override]
        """Write a number cell (int, float or Decimal)."""
        if type(row) is not int or type(col) is not int:
            return super().write_number(row, col, number, cell_format)
        if col < 0 or col >= _MAX_COL or row < 0:
            return -1
        kind = type(number)
        if (kind is float and (number != number or number in _INFINITIES)) or (  # noqa: PLR0124 (NaN)
                kind is Decimal and not number.is_finite()):
            return super()._write_number(row, col, number, cell_format)  # xlsxwriter's error or TypeError
        cells = self._cells if row == self._row else self._goto(row)
        if cell_format is None:
            style = ""
            self._bare.append((row, col))
        else:
            style = self._styles.get(cell_format) or self._style(cell_format)
        cells[col] = f'<c r="{_COLS[col]}{row + 1}"{style}><v>{number:.16G}</v></c>'
        return 0

    _write_number = write_number

    def write_formula(self, row: int, col: int, formula: str, cell_format: Any = None,  # type: ignore[override]
                      value: Any = 0) -> int:
        """Write a formula (Excel syntax) with its cached ``value`` (what non-recalculating readers show)."""
        if type(row) is not int or type(col) is not int:
            return super().write_formula(row, col, formula, cell_format, value)
        return self._write_formula(row, col, formula, cell_format, value)

    def _write_formula(self, row: int, col: int, formula: str, cell_format: Any = None, value: Any = 0) -> int:
        if col < 0 or col >= _MAX_COL or row < 0:
            return -1
        if not formula:
            return super()._write_formula(row, col, formula, cell_format, value)
        if formula[0] == "{" or self._dynamic(formula, row):
            if row < self._flushed_below:
                raise RowAlreadyWritten(f"sheet {self.name!r}: row {row + 1} was already written")
            return super()._write_formula(row, col, formula, cell_format, value)  # into self.table, merged
        formula = self._prepare_formula(formula) if (self.use_future_functions or "_xlfn." in formula) \
            else formula[1:] if formula[0] == "=" else formula
        cells = self._cells if row == self._row else self._goto(row)
        if cell_format is None:
            style = ""
            self._bare.append((row, col))
        else:
            style = self._styles.get(cell_format) or self._style(cell_format)
        if isinstance(value, bool):
            kind, value = ' t="b"', int(value)
        elif isinstance(value, str):
            kind = "" if value == "" else ' t="e"' if value in _ERROR_VALUES else ' t="str"'
        else:
            kind = ""
        cells[col] = f'<c r="{_COLS[col]}{row + 1}"{style}{kind}><f>{_escape_data(formula)}</f>' \
                     f'<v>{_escape_data(value)}</v></c>'
        return 0

    def _dynamic(self, formula: str, row: int) -> bool:
        """:func:`_dynamic`, remembered per formula shape: the formula with its own row number taken out.

        Formulas of a column differ only in their row number, which never changes which functions
        they call (no dynamic-array function has a digit in its name).
        """
        if "\x00" in formula:
            return _dynamic(formula)
        key = formula.replace(str(row + 1), "\x00")
        known = self._shapes.get(key)
        if known is None:
            known = _dynamic(formula)
            if len(self._shapes) < 4096:
                self._shapes[key] = known
        return known

    def write_boolean(self, row: int, col: int, boolean: Any, cell_format: Any = None) -> int:  # type: ignore[override]
        """Write a TRUE/FALSE cell."""
        if type(row) is not int or type(col) is not int:
            return super().write_boolean(row, col, boolean, cell_format)
        return self._write_boolean(row, col, boolean, cell_format)

    def _write_boolean(self, row: int, col: int, boolean: Any, cell_format: Any = None) -> int:
        if col < 0 or col >= _MAX_COL or row < 0:
            return -1
        cells = self._cells if row == self._row else self._goto(row)
        if cell_format is None:
            self._bare.append((row, col))
        cells[col] = f'<c r="{_COLS[col]}{row + 1}"{self._style(cell_format)} t="b"><v>{1 if boolean else 0}</v></c>'
        return 0

    def write_datetime(self, row: int, col: int, date: Any, cell_format: Any = None) -> int:  # type: ignore[override]
        """Write a date, time or datetime as an Excel serial number (with the default date format if none)."""
        if type(row) is not int or type(col) is not int:
            return super().write_datetime(row, col, date, cell_format)
        return self._write_datetime(row, col, date, cell_format)

    def _write_datetime(self, row: int, col: int, date_value: Any, cell_format: Any = None) -> int:
        if col < 0 or col >= _MAX_COL or row < 0:
            return -1
        if not isinstance(date_value, (datetime, date, time, timedelta)):
            raise TypeError(f"Unknown or unsupported datetime type: {type(date_value)}")
        number = self._convert_date_time(date_value)
        return self._write_number(row, col, number, cell_format if cell_format is not None
                                  else self.default_date_format)

    def write_blank(self, row: int, col: int, blank: Any = None, cell_format: Any = None) -> int:  # type: ignore[override]
        """Write an empty cell with a format (nothing without one, as xlsxwriter)."""
        if type(row) is not int or type(col) is not int:
            return super().write_blank(row, col, blank, cell_format)
        return self._write_blank(row, col, blank, cell_format)

    def _write_blank(self, row: int, col: int, _: Any = None, cell_format: Any = None) -> int:
        if cell_format is None:
            return 0
        if col < 0 or col >= _MAX_COL or row < 0:
            return -1
        cells = self._cells if row == self._row else self._goto(row)
        cells[col] = f'<c r="{_COLS[col]}{row + 1}"{self._style(cell_format)}/>'
        return 0

    def set_row_pixels(self, row: int, height: Any = None, cell_format: Any = None, options: Any = None) -> int:  # type: ignore[override]
        """As xlsxwriter's; a row already streamed to disk cannot change any more."""
        if 0 <= row < self._flushed_below:
            raise RowAlreadyWritten(f"工作表「{self.name}」第 {row + 1} 列已寫出，無法再設定列格式 "
                                    f"(sheet {self.name!r}: row {row + 1} was already written)")
        rc = super().set_row_pixels(row, height, cell_format, options)
        if row in self.row_info:
            self._info_rows.add(row)
            # Kept only to place images and charts: one shared pair per size, not a list per row (1M rows: ~70 MB).
            size = self.row_sizes[row]
            self.row_sizes[row] = self._sizes.setdefault((size[0], size[1]), (size[0], size[1]))
        return rc

    # --- streaming ---------------------------------------------------------------------------

    def _render_with_base(self, method: str, *args: Any) -> str:
        """XML that one of xlsxwriter's own writer methods produces, captured as text."""
        saved, self.fh = self.fh, io.StringIO()
        try:
            getattr(Worksheet, method)(self, *args)
            return self.fh.getvalue()
        finally:
            self.fh = saved

    def _flush(self, below: int | None = None) -> None:
        """Stream every pending row below ``below`` (all if None), plus row-setting-only rows, to disk."""
        limit = _MAX_ROW if below is None else below
        rows = {r for r in self._pending if r < limit}
        if self._info_rows:
            settings = {r for r in self._info_rows if r < limit}
            rows.update(settings)
            self._info_rows -= settings
        if self.table:
            rows.update(r for r in self.table if self.table[r] and r < limit)
            stale = [r for r in self.table if self.table[r] and r < self._flushed_below]
            if stale:
                raise RowAlreadyWritten(f"sheet {self.name!r}: rows {stale[:5]} were already written")
        if not rows:
            self._flushed_below = max(self._flushed_below, min(limit, (self.dim_rowmax or 0) + 1))
            return
        out: list[str] = []
        col_formats = {c: info.column_format for c, info in self.col_info.items()
                       if info.column_format is not None} if self.col_info else {}
        bare: dict[int, list[int]] = {}  # row → its cells written without a format
        if self._bare:
            later = []
            for r, c in self._bare:
                if r < limit:
                    bare.setdefault(r, []).append(c)
                else:
                    later.append((r, c))
            self._bare = later
        dim_colmin, dim_colmax = self.dim_colmin, self.dim_colmax
        for r in sorted(rows):
            cells = self._pending.pop(r, None) or {}
            if self.table and self.table.get(r):
                for c, cell in self.table.pop(r).items():
                    cells[c] = self._render_with_base("_write_cell", r, c, cell)
            info = self.row_info.pop(r, None)  # rendered below, never read again: not kept for every row
            if info is not None and info.row_format is not None:
                default = info.row_format
                fallback = {c: default for c in cells}
            else:
                fallback = col_formats
            if cells:
                order = sorted(cells)
                lo, hi = order[0], order[-1]
                if dim_colmin is None or lo < dim_colmin:
                    dim_colmin = lo
                if dim_colmax is None or hi > dim_colmax:
                    dim_colmax = hi
                if fallback and r in bare:
                    for c in bare[r]:
                        if c in fallback and c in cells:
                            cells[c] = _with_style(cells[c], self._style(fallback[c]))
                head = f'<row r="{r + 1}">' if info is None else self._row_head(r, info)
                out.append(head + "".join([cells[c] for c in order]) + "</row>")
            elif info is not None:
                out.append(self._row_head(r, info, empty=True))
        self.dim_colmin, self.dim_colmax = dim_colmin, dim_colmax
        if self._spool is None:
            fd, self._spool_name = tempfile.mkstemp(suffix=".xml", dir=self.tmpdir)
            self._spool = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._spool.write("".join(out))
        self._has_rows = True
        self._row, self._cells = -1, {}
        self._flushed_below = max(self._flushed_below, limit if below is not None else (self.dim_rowmax or 0) + 1)

    # --- rows written by another process -----------------------------------------------------

    def before_fork(self) -> None:
        """Push buffered row text to the row file, so that a forked process shares no unwritten buffer."""
        if self._spool is not None:
            self._spool.flush()

    def begin_detached(self, first_row: int) -> None:
        """In a forked process: write rows from ``first_row`` on into a row file of its own.

        Rows below ``first_row`` are the parent's: pending ones are forgotten here, and writing one
        raises :class:`RowAlreadyWritten`.
        """
        self._spool, self._spool_name, self._parts, self._has_rows = None, None, [], False  # the parent's file stays open
        self._pending = {r: cells for r, cells in self._pending.items() if r >= first_row}
        self._bare = [(r, c) for r, c in self._bare if r >= first_row]
        self._info_rows = {r for r in self._info_rows if r >= first_row}
        for r in [r for r in self.table if r < first_row]:
            del self.table[r]
        self._row, self._cells = -1, {}
        self._flushed_below = max(self._flushed_below, first_row)
        self._links_before = self.hlink_count

    def detach_rows(self) -> dict[str, Any]:
        """Stream every row to disk and hand the row file over: what :meth:`adopt_rows` takes.

        Called in a forked process that wrote a later stretch of rows of this sheet; the row file is
        then the other process's to keep or delete. Hyperlinks of those rows go with it.
        """
        self._flush()
        spool, self._spool = self._spool, None
        if spool is not None:
            spool.close()
        return {"rows": self._spool_name if self._has_rows else None,
                "dims": (self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax),
                "hyperlinks": {r: dict(cols) for r, cols in self.hyperlinks.items() if cols},
                "links_added": self.hlink_count - self._links_before}

    def adopt_rows(self, part: dict[str, Any], first_row: int) -> None:
        """Take the rows another process wrote (from :meth:`detach_rows`) as this sheet's rows from ``first_row`` on.

        Every row this sheet has below ``first_row`` is streamed first; afterwards only rows below
        the adopted ones' end may not be written.
        """
        self._flush()
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            self._parts.append(self._spool_name)  # type: ignore[arg-type]
            self._spool_name = None
        rowmin, rowmax, colmin, colmax = part["dims"]
        if part["rows"] is not None:
            self._parts.append(part["rows"])
            self._has_rows = True
        if rowmax is not None and rowmax >= first_row:
            if self.dim_rowmin is None or rowmin < self.dim_rowmin:
                self.dim_rowmin = rowmin
            self.dim_rowmax = rowmax if self.dim_rowmax is None else max(self.dim_rowmax, rowmax)
            self.dim_colmin = colmin if self.dim_colmin is None else min(self.dim_colmin, colmin)
            self.dim_colmax = colmax if self.dim_colmax is None else max(self.dim_colmax, colmax)
            self._flushed_below = max(self._flushed_below, rowmax + 1)
        for r, cols in part["hyperlinks"].items():
            if r >= first_row:
                self.hyperlinks[r].update(cols)
        self.hlink_count += part["links_added"]

    def _row_head(self, r: int, info: Any, empty: bool = False) -> str:
        """The ``<row>`` tag of row ``r`` with settings ``info``: xlsxwriter's ``_write_row``, without its writer for the common case."""
        if info.row_format is not None or info.level or info.collapsed or self.excel_version == 2010:
            return self._render_with_base("_write_row", r, None, info, *((True,) if empty else ()))
        height = self.default_row_height if info.height is None else info.height
        custom = height != self.original_row_height or height != self.default_row_height
        head = f'<row r="{r + 1}"'
        if custom:
            head += f' ht="{height * 0.75:.16g}"'
        if info.hidden:
            head += ' hidden="1"'
        if custom:
            head += ' customHeight="1"'
        return head + ("/>" if empty else ">")

    def _assemble_xml_file(self) -> None:
        self._flush()  # the <dimension> element, written before the data, needs every row's columns
        super()._assemble_xml_file()

    def _write_sheet_data(self) -> None:
        self._flush()
        if not self._has_rows:
            self._xml_empty_tag("sheetData")
            return
        self._xml_start_tag("sheetData")
        spool, self._spool = self._spool, None
        if spool is not None:
            spool.close()
            self._parts.append(self._spool_name)  # type: ignore[arg-type]
        parts, self._parts = self._parts, []
        if self._splice is not None:  # the package writer reads the row files in place of this marker
            marker = f"\x00rows:{id(self)}\x00"
            self._splice[marker.encode("ascii")] = parts
            self.fh.write(marker)
            self._xml_end_tag("sheetData")
            return
        try:
            # The row files are UTF-8 as the part is: copied as bytes when the part is a file (no decoding).
            raw = getattr(self.fh, "buffer", None)
            if raw is not None and (getattr(self.fh, "encoding", "") or "").lower().replace("-", "") == "utf8":
                self.fh.flush()
            else:
                raw = None
            for name in parts:
                if raw is not None:
                    with open(name, "rb") as src:
                        shutil.copyfileobj(src, raw, 1 << 20)
                    continue
                with open(name, encoding="utf-8", newline="") as src:
                    while chunk := src.read(1 << 20):
                        self.fh.write(chunk)
        finally:
            for name in parts:
                os.unlink(name)
        self._xml_end_tag("sheetData")

    def _write_optimized_sheet_data(self) -> None:  # never used: this sheet is not constant_memory
        self._write_sheet_data()

    def _opt_close(self) -> None:  # xlsxwriter's constant_memory bookkeeping: this sheet has no row file
        pass

    def _opt_reopen(self) -> None:
        pass


def _with_style(cell_xml: str, style: str) -> str:
    """``cell_xml`` with ``style`` added if the cell has no style of its own."""
    head_end = cell_xml.index('"', 6) + 1  # after r="A1"
    if cell_xml.startswith(' s="', head_end) or not style:
        return cell_xml
    return cell_xml[:head_end] + style + cell_xml[head_end:]


class _FastZip(zipfile.ZipFile):
    """A ZipFile that deflates at level 1: 2.5x faster than zlib's default, files about 20 % larger."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", COMPRESS_LEVEL)
        super().__init__(*args, **kwargs)


#: Parts are deflated in chunks of this many bytes, on two threads (zlib works without the interpreter lock).
DEFLATE_CHUNK = 4 << 20
_ZIP32_LIMIT = 0xFFFFFFFF


def _deflate_chunk(data: bytes, last: bool) -> bytes:
    """One chunk of a part as raw deflate: ended by a sync flush (byte-aligned, not final) unless ``last``.

    Chunks deflated on their own and joined make one valid deflate stream (as pigz writes them).
    """
    comp = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class _Pieces:
    """One part's bytes read from several places in order: bytes, then files (row files spliced in)."""

    def __init__(self, pieces: list[bytes | str]) -> None:
        self.pieces, self._at, self._file = pieces, 0, None

    def read(self, size: int) -> bytes:
        out: list[bytes] = []
        while size > 0 and self._at < len(self.pieces):
            piece = self.pieces[self._at]
            if isinstance(piece, bytes):
                data, self.pieces[self._at] = piece[:size], piece[size:]
                if not self.pieces[self._at]:
                    self._at += 1
            else:
                if self._file is None:
                    self._file = open(piece, "rb")  # noqa: SIM115 - closed below
                data = self._file.read(size)
                if len(data) < size:
                    self._file.close()
                    self._file, self._at = None, self._at + 1
            out.append(data)
            size -= len(data)
        return b"".join(out)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _deflate_into(src: Any, out: Any, pool: Any) -> tuple[int, int, int]:
    """Raw-deflate ``src`` into ``out`` in chunks on ``pool``: (CRC-32, size, compressed size)."""
    chunk = src.read(DEFLATE_CHUNK)
    following = src.read(DEFLATE_CHUNK) if len(chunk) == DEFLATE_CHUNK else b""
    pending: list[Any] = []
    crc = size = csize = 0
    try:
        while True:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            pending.append(pool.submit(_deflate_chunk, chunk, not following))
            if len(pending) > 4:  # at most a few chunks in memory
                data = pending.pop(0).result()
                out.write(data)
                csize += len(data)
            if not following:
                break
            chunk, following = following, src.read(DEFLATE_CHUNK)
        for job in pending:
            data = job.result()
            out.write(data)
            csize += len(data)
    except BaseException:
        for job in pending:
            job.cancel()
        raise
    return crc, size, csize


class _ThreadedZip:
    """The .xlsx package, as ``zipfile.ZipFile`` writes it for xlsxwriter, with every part deflated on two threads.

    xlsxwriter calls ``write(part_file, name)`` for each part and removes the file at once; each part
    is deflated then, in chunks on two threads, straight into the package (its local header patched
    afterwards, as zipfile does on a seekable file). A worksheet part holding a marker of
    :class:`FastSheet` gets its row files spliced in there: they are never copied into the part.
    A package that would need ZIP64 (over 4 GB) is written again by ``zipfile`` from the same
    sources, kept open (a removed file stays readable while open: POSIX only, as this class is).
    """

    def __init__(self, filename: str, mode: str = "w", compression: int = zipfile.ZIP_DEFLATED,
                 allowZip64: bool = True, splice: dict[bytes, list[str]] | None = None) -> None:  # noqa: N803
        from concurrent.futures import ThreadPoolExecutor

        self.filename, self.splice = filename, splice if splice is not None else {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="deflate")
        self._out = open(filename, "wb")  # noqa: SIM115 - closed in close()
        self._parts: list[tuple[str, os.stat_result, Any, tuple[int, int, int, int]]] = []
        self._row_files: list[str] = []

    def _source(self, filename: str) -> tuple[Any, list[bytes | str] | None]:
        """The part's file, opened; and, for a worksheet with spliced rows, its pieces in order."""
        src = open(filename, "rb")  # noqa: SIM115 - closed in close()
        if not self.splice or os.fstat(src.fileno()).st_size > 1 << 24:
            return src, None
        text = src.read()
        for marker, files in self.splice.items():
            at = text.find(marker)
            if at >= 0:
                self._row_files.extend(files)
                return src, [text[:at], *files, text[at + len(marker):]]
        src.seek(0)
        return src, None

    def write(self, filename: str, arcname: str) -> None:
        src, pieces = self._source(filename)
        try:
            st = os.fstat(src.fileno())
            out = self._out
            offset = out.tell()
            raw = arcname.encode("utf-8")
            out.write(_local_header(raw, st, 0, 0, 0))
            reader = _Pieces(list(pieces)) if pieces is not None else src
            try:
                crc, size, csize = _deflate_into(reader, out, self._pool)
            finally:
                if pieces is not None:
                    reader.close()
            end = out.tell()
            out.seek(offset + 14)
            out.write(struct.pack("<3L", crc & 0xFFFFFFFF, min(csize, _ZIP32_LIMIT), min(size, _ZIP32_LIMIT)))
            out.seek(end)
        except BaseException:  # xlsxwriter does not close its ZipFile when a write fails: let nothing stay open
            src.close()
            self._abandon()
            raise
        self._parts.append((arcname, st, (src, pieces), (crc, size, csize, offset)))

    def _abandon(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._out.close()
        for _, _, (src, _), _ in self._parts:
            src.close()

    def writestr(self, *args: Any) -> None:  # pragma: no cover - xlsxwriter's in_memory mode, written by zipfile
        raise NotImplementedError("in_memory")

    def close(self) -> None:
        try:
            done = self._parts
            start = self._out.tell()
            if start >= _ZIP32_LIMIT or any(r[1] >= _ZIP32_LIMIT or r[2] >= _ZIP32_LIMIT for *_, r in done) \
                    or len(done) >= 0xFFFF:
                self._out.close()
                self._write_zip64(done)
            else:
                self._write_directory(done, start)
                self._out.close()
        finally:
            self._pool.shutdown(wait=True)
            self._out.close()
            for _, _, (src, _), _ in self._parts:
                src.close()
            for name in self._row_files:
                try:
                    os.unlink(name)
                except OSError:
                    pass

    def _write_directory(self, done: list[tuple[str, os.stat_result, Any, tuple[int, int, int, int]]],
                         start: int) -> None:
        central = []
        for name, st, _, (crc, size, csize, offset) in done:
            raw = name.encode("utf-8")
            dostime, dosdate, flags = _dos_stamp(st) + (0 if raw.isascii() else 0x800,)
            central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0 if os.name == "nt" else 3, 20, 0,
                                       flags, zipfile.ZIP_DEFLATED, dostime, dosdate, crc, csize, size, len(raw),
                                       0, 0, 0, 0, (st.st_mode & 0xFFFF) << 16, offset) + raw)
        directory = b"".join(central)
        self._out.write(directory)
        self._out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory),
                                    start, 0))

    def _write_zip64(self, done: list[tuple[str, os.stat_result, Any, Any]]) -> None:
        with _FastZip(self.filename, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for name, st, (src, pieces), _ in done:
                info = zipfile.ZipInfo(name, _clock.localtime(st.st_mtime)[:6])
                info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, (st.st_mode & 0xFFFF) << 16
                src.seek(0)
                reader = _Pieces(list(pieces)) if pieces is not None else src
                try:
                    with zf.open(info, "w", force_zip64=True) as dest:
                        shutil.copyfileobj(reader, dest, 1 << 20)
                finally:
                    if pieces is not None:
                        reader.close()


def _dos_stamp(st: os.stat_result) -> tuple[int, int]:
    """A file's modification time as a zip entry's DOS time and date."""
    t = _clock.localtime(st.st_mtime)
    return t[3] << 11 | t[4] << 5 | t[5] // 2, (t[0] - 1980) << 9 | t[1] << 5 | t[2]


def _local_header(raw_name: bytes, st: os.stat_result, crc: int, csize: int, size: int) -> bytes:
    dostime, dosdate = _dos_stamp(st)
    return struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0 if raw_name.isascii() else 0x800,
                       zipfile.ZIP_DEFLATED, dostime, dosdate, crc, csize, size, len(raw_name), 0) + raw_name


_ZIP_LOCK = threading.Lock()


class FastBook(xlsxwriter.Workbook):
    """An ``xlsxwriter.Workbook`` whose worksheets are :class:`FastSheet` (see the module docstring)."""

    worksheet_class = FastSheet

    def __init__(self, filename: Any = None, options: dict[str, Any] | None = None) -> None:
        options = dict(options or {})
        # constant_memory: stream rows out of a window of ROW_WINDOW rows; else keep them all until close, so
        # that any row may still be written or given a height (xlsxwriter's in-memory mode).
        self._row_window = ROW_WINDOW if options.pop("constant_memory", False) else None
        super().__init__(filename, options)

    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Any:
        sheet = super().add_worksheet(name, worksheet_class)
        if isinstance(sheet, FastSheet):
            sheet._window = self._row_window
        return sheet

    def _store_workbook(self) -> None:
        # xlsxwriter opens its ZipFile inside this method: lend it ours (large parts on two threads, where a
        # removed part file stays readable: POSIX), or zipfile's at our compression level.
        threaded = os.name == "posix" and not self.in_memory and isinstance(self.filename, (str, os.PathLike))
        splice: dict[bytes, list[str]] = {}
        for sheet in self.worksheets():
            if isinstance(sheet, FastSheet):
                sheet._splice = splice if threaded else None
        with _ZIP_LOCK:
            saved = xlsxwriter.workbook.ZipFile
            xlsxwriter.workbook.ZipFile = (lambda *a, **k: _ThreadedZip(*a, splice=splice, **k)) if threaded \
                else _FastZip
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = saved

