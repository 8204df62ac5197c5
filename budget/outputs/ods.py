"""An OpenDocument spreadsheet (.ods, CNS 15251) writer with the xlsxwriter API subset of backends.py.

Cells are kept per sheet as ready-made XML fragments (no document tree) and ``content.xml`` is
streamed into the zip on :meth:`Workbook.close`. Text is escaped with ``xml.sax.saxutils``; a
string cell is always a string (no formula is ever made from text); formulas come only from
``write_formula`` and are translated to OpenFormula (:mod:`budget.outputs.openformula`) with their
cached values. Conditional formats use LibreOffice's ``calcext`` elements (ODF has no standard
equivalent beyond per-cell style maps); charts are not written (``add_chart`` gives a chart that
draws nothing).
"""

from __future__ import annotations

import itertools
import tempfile
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterator
from xml.sax.saxutils import quoteattr

from .odsparts import (CORE_NS, MIMETYPE, Format, a1, cached_attrs, cell_style_xml, column_width, font_faces,
                       manifest_xml, meta_xml, number_text, page_styles_xml, settings_xml, text_xml, validation_xml)
from .openformula import odf_range, quote_sheet, split_sheet_ref, to_openformula

_FLUSH_AT = 1 << 16
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384

ROOT = ('<office:document-content ' + CORE_NS +
        'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
        'office:version="1.3">')


class _NoChart:
    """What ``add_chart`` gives in an .ods: accepts every chart call and draws nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class Worksheet:
    """One sheet: cells as XML fragments by row and column, plus the sheet's settings."""

    def __init__(self, book: "Workbook", name: str, index: int) -> None:
        self.book = book
        self.name = name
        self.index = index
        self.cells: dict[int, dict[int, tuple[str, str]]] = {}  # rows kept in memory
        self.constant_memory = book.constant_memory
        self.current = -1  # constant-memory mode: the row being written; rows above it are spooled
        self.spool: Any = None  # a temporary file of finished rows, one line each, in row order
        self.max_row = -1
        self.max_col = 0
        self.columns: dict[int, tuple[float | None, Format | None, bool]] = {}
        self.rows: dict[int, tuple[float | None, Format | None]] = {}
        self.frozen: tuple[int, int] | None = None
        self.filter: tuple[int, int, int, int] | None = None
        self.hidden = False
        self.validations: list[tuple[int, int, int, int, str]] = []
        self.conditions: list[tuple[int, int, int, int, str, str]] = []
        self.page: dict[str, Any] = {"landscape": False, "paper": 9, "fit": None, "repeat": None,
                                     "header": "", "footer": "", "margins": None}

    # --- cells ---------------------------------------------------------------------------------

    def _put(self, row: int, col: int, fmt: Format | None, body: str) -> int:
        if row < 0 or col < 0 or row >= MAX_ROWS or col >= MAX_COLUMNS:
            return -1
        if self.constant_memory and row > self.current:
            self._spool_current()
            self.current = row
        self.cells.setdefault(row, {})[col] = (fmt.style_name if fmt is not None else "", body)
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col
        return 0

    def _spool_current(self) -> None:
        """Constant-memory mode: move the finished row to the spool file (cells written to it later
        stay in memory and are merged back when the sheet is written)."""
        cells = self.cells.pop(self.current, None)
        if not cells:
            return
        if self.spool is None:
            self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        # Bodies hold escaped XML only (no tab, newline or U+001F): safe as field separators.
        self.spool.write(f"{self.current}\t" + "\t".join(f"{c}\x1f{st}\x1f{b}" for c, (st, b) in cells.items()) + "\n")

    def _data_rows(self) -> Iterator[tuple[int, dict[int, tuple[str, str]]]]:
        """Every written row in ascending order: the spooled ones merged with those in memory."""
        memory = sorted(self.cells)
        spooled: Iterator[tuple[int, dict[int, tuple[str, str]]]] = iter(())
        if self.spool is not None:
            self.spool.seek(0)
            spooled = (_parse_spooled(line) for line in self.spool)
        i = 0
        for row, cells in spooled:
            while i < len(memory) and memory[i] < row:
                yield memory[i], self.cells[memory[i]]
                i += 1
            if i < len(memory) and memory[i] == row:
                cells = {**cells, **self.cells[row]}
                i += 1
            yield row, cells
        for key in memory[i:]:
            yield key, self.cells[key]

    def write_string(self, row: int, col: int, string: str, cell_format: Format | None = None) -> int:
        """A text cell (never a formula, whatever the text)."""
        text = str(string)
        if not text:
            return self._put(row, col, cell_format, ">")
        return self._put(row, col, cell_format, f' office:value-type="string">{text_xml(text)}')

    def write_number(self, row: int, col: int, number: Any, cell_format: Format | None = None) -> int:
        """A number cell."""
        return self._put(row, col, cell_format, f' office:value-type="float" office:value="{number_text(number)}">')

    def write_boolean(self, row: int, col: int, boolean: bool, cell_format: Format | None = None) -> int:
        """A TRUE/FALSE cell."""
        return self._put(row, col, cell_format,
                         f' office:value-type="boolean" office:boolean-value="{"true" if boolean else "false"}">')

    def write_datetime(self, row: int, col: int, value: datetime | date | time, cell_format: Format | None = None) -> int:
        """A date, date-time or time cell."""
        if isinstance(value, time):
            frac = f".{value.microsecond:06d}" if value.microsecond else ""
            body = f' office:value-type="time" office:time-value="PT{value.hour:02d}H{value.minute:02d}M{value.second:02d}{frac}S">'
        else:
            stamp = value.isoformat() if isinstance(value, datetime) else value.isoformat() + "T00:00:00"
            body = f' office:value-type="date" office:date-value="{stamp}">'
        return self._put(row, col, cell_format, body)

    def write_blank(self, row: int, col: int, blank: Any = None, cell_format: Format | None = None) -> int:
        """An empty cell that keeps its format."""
        return self._put(row, col, cell_format, ">") if cell_format is not None else 0

    def write_formula(self, row: int, col: int, formula: str, cell_format: Format | None = None, value: Any = 0) -> int:
        """A formula in Excel syntax (translated to OpenFormula) with its cached ``value``."""
        attrs, paragraphs = cached_attrs(value)
        return self._put(row, col, cell_format, f" table:formula={quoteattr(to_openformula(formula))}{attrs}>{paragraphs}")

    def write_url(self, row: int, col: int, url: str, cell_format: Format | None = None, string: str | None = None,
                  tip: str | None = None) -> int:
        """A link; ``internal:'明細'!A5`` becomes a link to that cell of this workbook."""
        if url.startswith("internal:"):
            sheet, cell = split_sheet_ref(url[len("internal:"):])
            href = "#" + (quote_sheet(sheet) + "." if sheet is not None else "") + cell.replace("$", "")
        else:
            href = url
        shown = string if string is not None else url
        para = text_xml(shown)
        link = f"<text:a xlink:href={quoteattr(href)} xlink:type=\"simple\">"
        para = para.replace("<text:p>", "<text:p>" + link, 1).replace("</text:p>", "</text:a></text:p>", 1)
        return self._put(row, col, cell_format, f' office:value-type="string">{para}')

    # --- layout --------------------------------------------------------------------------------

    def set_column(self, first: int, last: int, width: float | None = None, cell_format: Format | None = None,
                   options: dict[str, Any] | None = None) -> int:
        """Width (in characters, as xlsxwriter), default format and ``{"hidden": True}`` of columns."""
        hidden = bool((options or {}).get("hidden"))
        for col in range(first, last + 1):
            self.columns[col] = (width, cell_format, hidden)
        return 0

    def set_row(self, row: int, height: float | None = None, cell_format: Format | None = None,
                options: dict[str, Any] | None = None) -> int:
        """Height of a row in points."""
        self.rows[row] = (height, cell_format)
        return 0

    def freeze_panes(self, row: int, col: int, *args: Any) -> None:
        self.frozen = (row, col)

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        self.filter = (first_row, first_col, last_row, last_col)

    def hide(self) -> None:
        self.hidden = True

    def activate(self) -> None:
        self.book.active = self.index

    def data_validation(self, first_row: int, first_col: int, last_row: int, last_col: int,
                        options: dict[str, Any]) -> int:
        """A drop-down list or a decimal/integer/custom check on a range, as an ODF content validation."""
        name = f"val{len(self.book.validations) + 1}"
        self.book.validations.append(validation_xml(name, self.name, first_row, first_col, options))
        self.validations.append((first_row, first_col, last_row, last_col, name))
        return 0

    def conditional_format(self, first_row: int, first_col: int, last_row: int, last_col: int,
                           options: dict[str, Any]) -> int:
        """A ``formula`` conditional format; other types are not written to .ods."""
        if options.get("type") != "formula":
            return -1
        fmt = options.get("format")
        style = self.book.condition_style(fmt)
        condition = "formula-is(" + to_openformula(options["criteria"], prefix=False) + ")"
        self.conditions.append((first_row, first_col, last_row, last_col, style, condition))
        return 0

    def insert_chart(self, *args: Any, **kwargs: Any) -> int:
        return 0

    # --- print setup ---------------------------------------------------------------------------

    def set_landscape(self) -> None:
        self.page["landscape"] = True

    def set_portrait(self) -> None:
        self.page["landscape"] = False

    def set_paper(self, paper: int) -> None:
        self.page["paper"] = paper

    def fit_to_pages(self, width: int, height: int) -> None:
        self.page["fit"] = (width, height)

    def repeat_rows(self, first: int, last: int | None = None) -> None:
        self.page["repeat"] = (first, first if last is None else last)

    def set_header(self, header: str = "", options: Any = None, margin: Any = None) -> None:
        self.page["header"] = header

    def set_footer(self, footer: str = "", options: Any = None, margin: Any = None) -> None:
        self.page["footer"] = footer

    def set_margins(self, left: float = 0.7, right: float = 0.7, top: float = 0.75, bottom: float = 0.75) -> None:
        self.page["margins"] = (left, right, top, bottom)

    def print_area(self, *args: Any) -> int:
        return 0

    # --- writing -------------------------------------------------------------------------------

    def last_column(self) -> int:
        used = [self.max_col] + [v[3] for v in self.validations] + list(self.columns)
        return max(used)

    def write_xml(self, out: "_Stream") -> None:
        """Stream this sheet's ``table:table`` element."""
        book = self.book
        out.write(f'<table:table table:name={quoteattr(self.name)} table:style-name="ta{self.index}">')
        col_styles = []
        for col in range(self.last_column() + 1):
            w, fmt, hidden = self.columns.get(col, (None, None, False))
            default = f' table:default-cell-style-name="{fmt.style_name}"' if fmt is not None else ""
            collapse = ' table:visibility="collapse"' if hidden else ""
            col_styles.append(f'<table:table-column table:style-name="{book.column_style(w)}"{default}{collapse}/>')
        out.write("".join(col_styles))
        repeat = self.page["repeat"]
        special = set(self.rows) | (set(range(repeat[0], repeat[1] + 1)) if repeat else set())
        last_row = max([self.max_row, *special] + [v[2] for v in self.validations])
        row = 0
        for data_row, cells in itertools.chain(self._data_rows(), [(last_row + 1, {})]):
            while row < data_row:  # rows without cells: as few elements as possible
                if row in special:
                    self._emit(out, row, {}, repeat)
                    row += 1
                    continue
                stop = row + 1
                active = self._active(row)
                while stop < data_row and stop not in special and self._active(stop) == active:
                    stop += 1
                n = stop - row
                rep = f' table:number-rows-repeated="{n}"' if n > 1 else ""
                out.write(self._row_xml(row, {}, active).replace("<table:table-row ", f"<table:table-row{rep} ", 1))
                row = stop
            if data_row <= last_row:
                self._emit(out, row, cells, repeat)
                row += 1
        if last_row < 0:
            out.write('<table:table-row table:style-name="ro0"><table:table-cell/></table:table-row>')
        out.write(self._conditions_xml())
        out.write("</table:table>")
        if self.spool is not None:
            self.spool.close()

    def _active(self, row: int) -> list[tuple[int, int, int, int, str]]:
        return [v for v in self.validations if v[0] <= row <= v[2]]

    def _emit(self, out: "_Stream", row: int, cells: dict[int, tuple[str, str]], repeat: tuple[int, int] | None) -> None:
        if repeat and row == repeat[0]:
            out.write("<table:table-header-rows>")
        out.write(self._row_xml(row, cells, self._active(row)))
        if repeat and row == repeat[1]:
            out.write("</table:table-header-rows>")

    def _row_xml(self, row: int, cells: dict[int, tuple[str, str]], active: list[tuple]) -> str:
        height, _ = self.rows.get(row, (None, None))
        parts = [f'<table:table-row table:style-name="{self.book.row_style(height)}">']
        last = max(list(cells) + [v[3] for v in active] + [-1])
        col = 0
        while col <= last:
            cell = cells.get(col)
            valid = next((v[4] for v in active if v[1] <= col <= v[3]), None)
            if cell is None and valid is None:
                stop = col + 1
                while stop <= last and stop not in cells and not any(v[1] <= stop <= v[3] for v in active):
                    stop += 1
                n = stop - col
                parts.append(f'<table:table-cell table:number-columns-repeated="{n}"/>' if n > 1 else "<table:table-cell/>")
                col = stop
                continue
            attrs = f' table:content-validation-name="{valid}"' if valid else ""
            if cell is None:
                parts.append(f"<table:table-cell{attrs}/>")
            else:
                style, body = cell
                if style:
                    attrs = f' table:style-name="{style}"' + attrs
                parts.append(f"<table:table-cell{attrs}{body}</table:table-cell>")
            col += 1
        parts.append("</table:table-row>")
        return "".join(parts)

    def _conditions_xml(self) -> str:
        if not self.conditions:
            return ""
        parts = ["<calcext:conditional-formats>"]
        for r1, c1, r2, c2, style, condition in self.conditions:
            target = f"{odf_range(a1(r1, c1), self.name)}:{odf_range(a1(r2, c2), self.name)}".replace("$", "")
            base = odf_range(a1(r1, c1), self.name).replace("$", "")
            parts.append(f"<calcext:conditional-format calcext:target-range-address={quoteattr(target)}>"
                         f"<calcext:condition calcext:apply-style-name=\"{style}\" calcext:value={quoteattr(condition)} "
                         f"calcext:base-cell-address={quoteattr(base)}/></calcext:conditional-format>")
        parts.append("</calcext:conditional-formats>")
        return "".join(parts)


def _parse_spooled(line: str) -> tuple[int, dict[int, tuple[str, str]]]:
    row, *cells = line.rstrip("\n").split("\t")
    parsed: dict[int, tuple[str, str]] = {}
    for cell in cells:
        col, style, body = cell.split("\x1f", 2)
        parsed[int(col)] = (style, body)
    return int(row), parsed


class _Stream:
    """Buffered UTF-8 writing into an open zip member."""

    def __init__(self, member: Any) -> None:
        self.member = member
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        self.member.write("".join(self.parts).encode("utf-8"))
        self.parts, self.size = [], 0


class Workbook:
    """An .ods workbook with the xlsxwriter API subset every writer of the tool uses."""

    def __init__(self, path: str | Path, options: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        #: Like xlsxwriter's option: rows move to a temporary file once a later row is written.
        self.constant_memory = bool((options or {}).get("constant_memory"))
        self.sheets: list[Worksheet] = []
        self.formats: list[Format] = []
        self.validations: list[str] = []
        self.names: list[tuple[str, str]] = []
        self.properties: dict[str, str] = {}
        self.active = 0
        self.condition_styles: list[Format] = []
        self._column_styles: dict[float | None, str] = {}
        self._row_styles: dict[float | None, str] = {None: "ro0"}

    def add_worksheet(self, name: str | None = None) -> Worksheet:
        name = name or f"Sheet{len(self.sheets) + 1}"
        if any(s.name.lower() == name.lower() for s in self.sheets):
            raise ValueError(f"duplicate sheet name: {name}")
        sheet = Worksheet(self, name, len(self.sheets) + 1)
        self.sheets.append(sheet)
        return sheet

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        fmt = Format(dict(properties or {}), f"ce{len(self.formats) + 1}")
        self.formats.append(fmt)
        return fmt

    def condition_style(self, fmt: Format | None) -> str:
        props = dict(fmt.props) if fmt is not None else {}
        style = Format(props, f"cf{len(self.condition_styles) + 1}")
        self.condition_styles.append(style)
        return style.style_name

    def define_name(self, name: str, ref: str) -> int:
        self.names.append((name, ref))
        return 0

    def set_properties(self, properties: dict[str, str]) -> None:
        self.properties.update(properties)

    def add_chart(self, options: dict[str, Any]) -> _NoChart:
        return _NoChart()

    def column_style(self, width: float | None) -> str:
        style = self._column_styles.get(width)
        if style is None:
            style = self._column_styles[width] = f"co{len(self._column_styles) + 1}"
        return style

    def row_style(self, height: float | None) -> str:
        style = self._row_styles.get(height)
        if style is None:
            style = self._row_styles[height] = f"ro{len(self._row_styles)}"
        return style

    def close(self) -> None:
        """Write the .ods file: mimetype first and stored, then content.xml streamed, then the rest."""
        with zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
            with zf.open("content.xml", "w", force_zip64=True) as member:
                out = _Stream(member)
                self._content(out)
                out.flush()
            zf.writestr("styles.xml", page_styles_xml(self.sheets, self.condition_styles, self.formats))
            zf.writestr("settings.xml", settings_xml(self.sheets, self.active))
            zf.writestr("meta.xml", meta_xml(self.properties))
            zf.writestr("META-INF/manifest.xml", manifest_xml())

    def _content(self, out: _Stream) -> None:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ROOT)
        out.write(font_faces(self.formats + self.condition_styles))
        # Automatic styles precede the body: collect every sheet's column and row styles first.
        for sheet in self.sheets:
            if sheet.constant_memory:
                sheet._spool_current()
            for col in range(sheet.last_column() + 1):
                self.column_style(sheet.columns.get(col, (None, None, False))[0])
            for height, _ in sheet.rows.values():
                self.row_style(height)
        out.write("<office:automatic-styles>")
        for width, name in self._column_styles.items():
            out.write(f'<style:style style:name="{name}" style:family="table-column"><style:table-column-properties '
                      f'fo:break-before="auto" style:column-width="{column_width(width)}"/></style:style>')
        for height, name in self._row_styles.items():
            size = (f'style:row-height="{height}pt" style:use-optimal-row-height="false"' if height
                    else 'style:use-optimal-row-height="true"')
            out.write(f'<style:style style:name="{name}" style:family="table-row"><style:table-row-properties '
                      f'{size} fo:break-before="auto"/></style:style>')
        for sheet in self.sheets:
            display = "false" if sheet.hidden else "true"
            out.write(f'<style:style style:name="ta{sheet.index}" style:family="table" style:master-page-name="pm{sheet.index}">'
                      f'<style:table-properties table:display="{display}" style:writing-mode="lr-tb"/></style:style>')
        for fmt in self.formats:
            out.write(cell_style_xml(fmt))
        out.write("</office:automatic-styles><office:body><office:spreadsheet>")
        if self.validations:
            out.write("<table:content-validations>" + "".join(self.validations) + "</table:content-validations>")
        for sheet in self.sheets:
            sheet.write_xml(out)
        self._names_and_filters(out)
        out.write("</office:spreadsheet></office:body></office:document-content>")

    def _names_and_filters(self, out: _Stream) -> None:
        if self.names:
            out.write("<table:named-expressions>")
            first = quote_sheet(self.sheets[0].name) if self.sheets else "'Sheet1'"
            for name, ref in self.names:
                sheet, cells = split_sheet_ref(ref)
                address = odf_range(cells, sheet)
                out.write(f"<table:named-range table:name={quoteattr(name)} table:base-cell-address="
                          f"{quoteattr('$' + first + '.$A$1')} table:cell-range-address={quoteattr(address)}/>")
            out.write("</table:named-expressions>")
        filters = [s for s in self.sheets if s.filter]
        if filters:
            out.write("<table:database-ranges>")
            for sheet in filters:
                r1, c1, r2, c2 = sheet.filter  # type: ignore[misc]
                target = f"{odf_range(a1(r1, c1), sheet.name)}:{odf_range(a1(r2, c2), sheet.name)}".replace("$", "")
                out.write(f'<table:database-range table:name="__Anonymous_Sheet_DB__{sheet.index - 1}" '
                          f'table:target-range-address={quoteattr(target)} table:display-filter-buttons="true"/>')
            out.write("</table:database-ranges>")


def verify_ods(path: str | Path) -> None:
    """Check that ``path`` is a complete .ods package (every member's CRC, mimetype first, content.xml)."""
    from ..problems import BudgetError

    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            infos = zf.infolist()
            mimetype = zf.read("mimetype") if infos and infos[0].filename == "mimetype" else b""
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise BudgetError.one("output-verify-failed", f"寫出的試算表無法開啟：{exc}",
                              "the spreadsheet just written is not a valid zip package", file=str(path)) from exc
    if bad is not None or mimetype != MIMETYPE.encode() or not {"content.xml", "META-INF/manifest.xml"} <= names:
        raise BudgetError.one("output-verify-failed", "寫出的試算表不完整", "the spreadsheet just written is incomplete",
                              file=str(path))
