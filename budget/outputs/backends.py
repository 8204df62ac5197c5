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
              tmpdir: str | Path | None = None) -> Any:
    """A workbook object with the xlsxwriter API subset above, writing ``path`` in ``fmt`` (default: by suffix).

    ``tmpdir`` holds the writer's scratch parts; by default, when ``path`` is a temp file of
    :func:`budget.outputs.atomic.atomic_write`, its parts folder beside it (which a later run
    removes if this one is killed), never the system temp folder.
    """
    fmt = fmt or book_format(path)
    if fmt == "ods":
        from .ods import Workbook

        return Workbook(path, {"constant_memory": constant_memory})
    import xlsxwriter

    from .atomic import parts_folder_for

    tmpdir = tmpdir if tmpdir is not None else parts_folder_for(path)
    options = {**XLSX_OPTIONS, "constant_memory": constant_memory}
    if tmpdir is not None:
        options["tmpdir"] = str(tmpdir)
    return xlsxwriter.Workbook(str(path), options)
