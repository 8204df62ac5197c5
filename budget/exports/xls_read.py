"""Read a legacy Excel 97-2003 (.xls, BIFF) workbook with xlrd: values, hidden sheets and rows, merges, code formats."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ..problems import BudgetError
from .rawsheet import RawSheet
from .sheet_facts import FormulaCell


def read_xls(path: Path, display: str, *, sheet: str | None, max_rows: int
             ) -> tuple[list[RawSheet], list[tuple[str, str]]]:
    """Read the sheets of an .xls file: returns (sheets read, every sheet as (name, visibility)).

    Without ``sheet`` every visible worksheet is read; with it, only that one (hidden or not).
    xlrd is pure Python, so a hostile file raises (caught here) instead of aborting the process;
    BIFF limits a sheet to 65,536 × 256 cells, which bounds the memory.
    """
    import xlrd

    try:
        # xlrd prints warnings about odd files on stdout unless given somewhere else to write them
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, ragged_rows=True,
                                   logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise BudgetError.one("file-encrypted", "活頁簿有密碼保護，無法讀取；請在 Excel 移除密碼後重新存檔再試。",
                                  "the workbook is password-protected", file=display) from None
        raise _corrupt(display, exc) from None
    except Exception as exc:  # struct.error, CompDocError, IndexError… from a damaged file
        raise _corrupt(display, exc) from None
    try:
        names = book.sheet_names()
        # xlrd keeps each sheet's BOUNDSHEET visibility without loading the sheet (on_demand)
        states = list(getattr(book, "_sheet_visibility", [])) or [book.sheet_by_index(i).visibility
                                                                  for i in range(len(names))]
        visibility = [(name, {0: "visible", 1: "hidden", 2: "veryhidden"}.get(vis, "visible"))
                      for name, vis in zip(names, states)]
        if sheet is not None:
            if sheet not in names:
                listed = "、".join(f"「{n}」" for n in names)
                raise BudgetError.one("sheet-not-found", f"找不到工作表「{sheet}」；這個檔案的工作表有：{listed}。",
                                      f"no sheet named {sheet!r}", file=display, sheet=sheet,
                                      hint="請用 --sheet 指定正確的工作表名稱。")
            chosen = [sheet]
        else:
            chosen = [n for n, vis in visibility if vis == "visible"]
        out = []
        total = 0
        for name in chosen:
            xs = book.sheet_by_name(name)
            total += xs.nrows
            if total > max_rows:
                raise BudgetError.one("too-many-rows",
                                      f"共有 {total:,} 列，超過上限 {max_rows:,} 列；請分成數個檔案，或以 --max-rows 提高上限。",
                                      f"{total} rows, more than the limit of {max_rows}", file=display, sheet=name,
                                      hint="--max-rows")
            out.append(_sheet(book, xs, name, dict(visibility)[name] != "visible"))
        return out, visibility
    except BudgetError:
        raise
    except Exception as exc:
        raise _corrupt(display, exc) from None
    finally:
        book.release_resources()


def _corrupt(display: str, exc: Exception) -> BudgetError:
    return BudgetError.one("file-corrupt", "檔案已損毀或不完整，無法讀取；請重新匯出，或用 Excel 開啟後另存為 .xlsx 再試。",
                           f"the .xls file is damaged or unreadable ({type(exc).__name__}: {str(exc)[:200]})",
                           file=display)


_EMPTY_TYPES = bytes((0, 6))  # xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK


def _sheet(book: Any, xs: Any, name: str, hidden: bool) -> RawSheet:
    import xlrd

    empty, text, number, date, boolean, error, blank = (
        xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_TEXT, xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE,
        xlrd.XL_CELL_BOOLEAN, xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK)
    rows: list[list[Any]] = []
    formulas: dict[tuple[int, int], FormulaCell] = {}
    for r in range(xs.nrows):
        types = xs.row_types(r)
        # trailing empty or blank cells are not data (merged ranges make xlrd pad rows to 256 of them)
        used = len(bytes(types).rstrip(_EMPTY_TYPES))
        values = xs.row_values(r, 0, used) if used else []
        row: list[Any] = []
        for c, (t, v) in enumerate(zip(types[:used], values)):
            if t == number:
                row.append(int(v) if float(v).is_integer() else v)
            elif t == text:
                if v == "":
                    # a text cell holding nothing: what BIFF writers store for a formula with no result
                    formulas[(r + 1, c + 1)] = FormulaCell(False, "")
                    row.append(None)
                else:
                    row.append(v)
            elif t in (empty, blank):
                row.append(None)
            elif t == date:
                try:
                    row.append(xlrd.xldate.xldate_as_datetime(v, book.datemode))
                except Exception:
                    row.append(v)
            elif t == boolean:
                row.append(bool(v))
            elif t == error:
                row.append(xlrd.error_text_from_code.get(v, "#ERR"))
            else:
                row.append(v)
        while row and row[-1] is None:
            row.pop()
        rows.append(row)
    hidden_rows = {r + 1 for r, info in xs.rowinfo_map.items() if getattr(info, "hidden", 0)}
    merges = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in xs.merged_cells]

    def code_widths(cells: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
        out = {}
        for (r, c) in cells:
            try:
                xf = book.xf_list[xs.cell_xf_index(r - 1, c - 1)]
                fmt = book.format_map[xf.format_key].format_str.replace('"', "").replace("\\", "")
            except (IndexError, KeyError, AttributeError):
                continue
            if re.fullmatch(r"0{2,}", fmt):
                out[(r, c)] = len(fmt)
        return out

    return RawSheet(name=name, rows=rows, hidden=hidden, hidden_rows=hidden_rows, formulas=formulas,
                    merges=merges, merges_known=True, code_widths=code_widths)
