"""The benchmark's floors: what only reading and writing the same cells costs, with no classification.

    python benchmarks/floor.py write EXPORT.xlsx OUT.xlsx [--writer xlsxwriter-cm|xlsxwriter|fast]
    python benchmarks/floor.py read BOOK.xlsx [BOOK.xlsx ...]

``write``: python-calamine reads every cell of the first sheet; the writer writes them plus the
cells an unmatched line gets in the annotated workbook (判定, 性別預算數, 來源; most lines are
unmatched), nothing else. ``xlsxwriter-cm`` (the default, issue 6's floor) is xlsxwriter in
``constant_memory`` mode, ``xlsxwriter`` its in-memory mode, ``fast`` the tool's own writer
(:mod:`budget.outputs.xlsx_fast`). Formats are those the tool's 明細 gives: text cells ``@``,
amounts ``#,##0``, so that the writers are compared on the cells the tool writes.

``read``: python-calamine reads every cell of every sheet of each workbook into Python values
(the floor of ``report`` and ``classify --reviewed``, which read annotated workbooks back).
"""

from __future__ import annotations

import sys
from pathlib import Path

WRITERS = ("xlsxwriter-cm", "xlsxwriter", "fast")


def open_writer(dst: str, writer: str):
    """A workbook of ``writer`` (see :data:`WRITERS`), text never turned into formulas or links."""
    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    if writer == "fast":
        from budget.outputs.xlsx_fast import FastBook

        return FastBook(dst, options)
    import xlsxwriter

    return xlsxwriter.Workbook(dst, {**options, "constant_memory": writer == "xlsxwriter-cm"})


def write_floor(src: str, dst: str, writer: str = "xlsxwriter-cm", formats: bool = False) -> int:
    """Read every cell of ``src`` with calamine, write them plus the added cells; rows written."""
    import python_calamine

    from budget.outputs.layout import ADDED_COLUMNS, DETAIL_SHEET

    book = python_calamine.CalamineWorkbook.from_path(src)
    sheet = book.get_sheet_by_index(0)
    out = open_writer(dst, writer)
    ws = out.add_worksheet(DETAIL_SHEET)
    text_fmt = out.add_format({"num_format": "@"}) if formats else None
    amount_fmt = out.add_format({"num_format": "#,##0"}) if formats else None
    name = Path(src).name
    keys = [k for k, _ in ADDED_COLUMNS]
    status_col, amount_col, source_col = keys.index("status"), keys.index("gender_amount"), keys.index("source")
    write_string, write_number = ws.write_string, ws.write_number
    width = 0
    r = -1
    for r, row in enumerate(sheet.iter_rows()):
        width = max(width, len(row))
        for c, value in enumerate(row):
            if isinstance(value, str):
                if value:
                    write_string(r, c, value, text_fmt)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                write_number(r, c, value, amount_fmt)
            elif value is not None:
                write_string(r, c, str(value), text_fmt)
        if r >= 4:  # past the title rows and the header: the added cells of a line
            write_string(r, width + status_col, "不符合")
            write_number(r, width + amount_col, 0, amount_fmt)
            write_string(r, width + source_col, f"{name} / {sheet.name} / 第{r + 1}列")
    out.close()
    return r + 1


def read_floor(paths: list[str]) -> int:
    """Read every cell of every sheet of ``paths`` with calamine; cells read."""
    import python_calamine

    cells = 0
    for path in paths:
        book = python_calamine.CalamineWorkbook.from_path(path)
        for name in book.sheet_names:
            for row in book.get_sheet_by_name(name).iter_rows():
                cells += len(row)
    return cells


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if argv[:1] == ["write"]:
        writer = argv[argv.index("--writer") + 1] if "--writer" in argv else "xlsxwriter-cm"
        if writer not in WRITERS:
            raise SystemExit(f"--writer must be one of {', '.join(WRITERS)}")
        write_floor(argv[1], argv[2], writer, formats="--formats" in argv)
        return 0
    if argv[:1] == ["read"]:
        read_floor(argv[1:])
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
