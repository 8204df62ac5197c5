"""Which spreadsheet writer a workbook is written with, by the output's suffix: .xlsx (xlsxwriter) or .ods.

Every writer of the tool opens its workbook with :func:`open_book` and uses only this subset of
xlsxwriter's API, so that another backend (OpenDocument, a faster writer) can stand in for it:

- ``book.add_worksheet(name)``, ``book.add_format(props)``, ``book.define_name(name, ref)``, ``book.close()``
- ``sheet.write_string/write_number/write_boolean/write_datetime/write_blank(row, col, value, fmt=None)``
- ``sheet.write_formula(row, col, formula, fmt, cached_value)`` (Excel syntax, always with a cached value)
- ``sheet.write_url(row, col, "internal:'明細'!A5", fmt, string)`` (links inside the workbook only)
- ``sheet.set_column(first, last, width, fmt=None, options=None)``, ``sheet.set_row(row, height, fmt=None)``
- ``sheet.freeze_panes(row, col)``, ``sheet.autofilter(r1, c1, r2, c2)``, ``sheet.hide()``
- ``sheet.data_validation(r1, c1, r2, c2, options)`` (``list`` sources and ``decimal``/``custom`` checks)
- ``sheet.conditional_format(r1, c1, r2, c2, options)`` (``formula`` criteria)
- print setup: ``set_landscape()``, ``set_paper(9)``, ``fit_to_pages(1, 0)``, ``repeat_rows(first, last)``,
  ``set_header(text)``, ``set_footer(text)``, ``print_area(...)``, ``set_margins(...)``
- ``book.set_properties({"title": …})``, ``sheet.activate()``; ``book.add_chart(...)`` and
  ``sheet.insert_chart(...)`` are accepted by every backend, but only .xlsx draws charts.

The OpenDocument backend (:mod:`budget.outputs.ods`) translates formulas to OpenFormula and the
print setup to ODF page styles; ``&L &C &R &P &N &F &A`` work in headers and footers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Options every xlsxwriter workbook of the tool is opened with: text stays text, never a formula or link.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                "nan_inf_to_errors": False}


def book_format(path: str | Path) -> str:
    """``"xlsx"`` or ``"ods"`` by the output's suffix (anything else is written as .xlsx)."""
    return "ods" if Path(path).suffix.lower() == ".ods" else "xlsx"


def open_book(path: str | Path, *, fmt: str | None = None, constant_memory: bool = False,
              rows_in_order: bool = False, tmpdir: str | Path | None = None) -> Any:
    """A workbook object with the xlsxwriter API subset above, writing ``path`` in ``fmt`` (default: by suffix).

    ``rows_in_order``: the caller writes each sheet's rows in order and never goes back to one (no
    late ``set_row``), so the fast .xlsx writer may stream them to disk as written; otherwise it
    keeps every row until the book is closed (unless ``constant_memory``), as xlsxwriter does.
    ``tmpdir`` holds the writer's scratch parts; by default, when ``path`` is a temp file of
    :func:`budget.outputs.atomic.atomic_write`, its parts folder beside it (which a later run
    removes if this one is killed), never the system temp folder.
    """
    fmt = fmt or book_format(path)
    if fmt == "ods":
        from .ods import Workbook

        return Workbook(path, {"constant_memory": constant_memory})
    from .atomic import parts_folder_for

    tmpdir = tmpdir if tmpdir is not None else parts_folder_for(path)
    options = {**XLSX_OPTIONS, "constant_memory": constant_memory}
    if tmpdir is not None:
        options["tmpdir"] = str(tmpdir)
    return _xlsx_book(path, options, stream=constant_memory or rows_in_order)


#: Environment variable that picks the .xlsx writer: ``fast`` (default) or ``xlsxwriter``.
XLSX_WRITER_ENV = "GENDER_BUDGET_XLSX_WRITER"


def xlsx_writer_name() -> str:
    """Which .xlsx writer :func:`open_book` uses: ``fast`` (:mod:`.xlsx_fast`) unless the environment says ``xlsxwriter``."""
    import os

    return "xlsxwriter" if os.environ.get(XLSX_WRITER_ENV, "").strip().lower() == "xlsxwriter" else "fast"


def _xlsx_book(path: str | Path, options: dict[str, Any], stream: bool = False) -> Any:
    """The .xlsx workbook: :class:`.xlsx_fast.FastBook` (2-3x less CPU on the same cells, see
    benchmarks/RESULTS.md), or plain xlsxwriter when asked for; both take the same calls."""
    if xlsx_writer_name() == "fast" and fast_writer_supported():
        from .xlsx_fast import FastBook

        # stream: rows go to disk as written (the files are the same either way); else all stay until close.
        return FastBook(str(path), {**options, "constant_memory": stream})
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), options)


#: The xlsxwriter internals :mod:`.xlsx_fast` builds on (tested with xlsxwriter 3.3.1).
_FAST_NEEDS = ("_initialize", "_assemble_xml_file", "_write_sheet_data", "_write_optimized_sheet_data", "_write_row",
               "_write_cell", "_prepare_formula", "_convert_date_time", "_opt_close", "_opt_reopen", "set_row_pixels")


def fast_writer_supported() -> bool:
    """Does the installed xlsxwriter have what the fast writer relies on? If not, plain xlsxwriter is used."""
    try:
        import xlsxwriter.workbook
        import xlsxwriter.worksheet
    except ImportError:  # pragma: no cover
        return False
    major = int(xlsxwriter.__version__.split(".")[0])
    worksheet = xlsxwriter.worksheet.Worksheet
    return (major == 3 and all(hasattr(worksheet, name) for name in _FAST_NEEDS)
            and hasattr(xlsxwriter.workbook, "ZipFile") and hasattr(xlsxwriter.workbook.Workbook, "_store_workbook")
            and hasattr(xlsxwriter.worksheet, "re_dynamic_function"))
