"""An .xlsx or .ods workbook: the container's facts read here, the cell values from the reader child process.

The child (:mod:`budget.exports.sheet_worker`) parses the values with python-calamine under a memory
cap; meanwhile this process checks the XML prologs, lists the sheets, scans each sheet's XML for what
calamine does not give (:mod:`budget.exports.sheet_facts`) and streams the rows as :class:`RawSheet`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..problems import WARNING, BudgetError, Problem
from .files import report_hidden
from .rawsheet import RawSheet
from .sniff import ODS, XLSX


def read_zip_workbook(path: Path, display: str, fmt: str, sheet: str | None, max_rows: int,
                      problems: list[Problem]) -> tuple[Iterator[RawSheet], list[str]]:
    """An .xlsx or .ods: calamine in a child process for the values, this process for the facts.

    Returns the sheets (streamed as the child reads them; close the iterator to stop the child) and
    the names of the sheets skipped, each with its warning in ``problems``.
    """
    import zipfile

    from . import sheet_facts
    from .sheet_worker import start_worker
    from .sniff import check_xml_prologs

    check_xml_prologs(path, display)
    skipped: list[str] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise BudgetError.one("file-corrupt", "檔案已損毀或不完整；請重新匯出。", "damaged file", file=display) from None
    with zf:
        if fmt == XLSX:
            try:
                listed = sheet_facts.xlsx_sheets(zf)
            except Exception:
                raise BudgetError.one("file-corrupt", "活頁簿結構 (workbook.xml) 已損毀；請重新匯出或另存新檔。",
                                      "workbook.xml is damaged", file=display) from None
            wanted = _xlsx_wanted(listed, sheet, display, problems, skipped)
            worker = start_worker(path, display, sheets=wanted, max_rows=max_rows)
            facts, may_ctrl = _xlsx_facts(zf, listed, wanted, worker, display)
        else:
            _refuse_repeated_data_row(zf, display)
            worker = start_worker(path, display, sheets=[sheet] if sheet else None, max_rows=max_rows)
            try:
                facts = sheet_facts.scan_ods(zf)
            except Exception:
                worker.cancel()
                raise BudgetError.one("file-corrupt", "ODF 試算表內容 (content.xml) 已損毀；請重新匯出。",
                                      "content.xml is damaged", file=display) from None
            may_ctrl = False  # XML 1.0 cannot hold control characters and ODF has no escape for them
        try:
            sheet_states = dict(worker.sheet_list())
        except BaseException:
            worker.cancel()
            raise
        if fmt == ODS:
            skipped += report_hidden(list(sheet_states.items()), sheet, display, problems)
    return _streamed(path, fmt, worker, facts, sheet_states, may_ctrl), skipped


def _xlsx_wanted(listed: list, sheet: str | None, display: str, problems: list[Problem],
                 skipped: list[str]) -> list[str]:
    """The sheets of an .xlsx to read: ``--sheet``'s, else every visible worksheet (the rest skipped, warned)."""
    names = [s.name for s in listed]
    if sheet is not None:
        if sheet not in names:
            raise BudgetError.one("sheet-not-found",
                                  f"找不到工作表「{sheet}」；這個檔案的工作表有：{'、'.join(f'「{n}」' for n in names)}。",
                                  f"no sheet named {sheet!r}", file=display, sheet=sheet,
                                  hint="請用 --sheet 指定正確的工作表名稱。")
        return [sheet]
    wanted = []
    for s in listed:
        if s.state != "visible":
            skipped.append(s.name)
            problems.append(Problem("sheet-hidden", "隱藏的工作表，已略過；若要讀取請以 --sheet 指定。",
                                    "hidden sheet skipped; name it with --sheet to read it",
                                    severity=WARNING, file=display, sheet=s.name, hint=f"--sheet {s.name}"))
        elif "worksheets/" not in s.part.lower():
            skipped.append(s.name)
            problems.append(Problem("sheet-not-worksheet", "圖表或巨集工作表，已略過。",
                                    "chart or macro sheet skipped", severity=WARNING, file=display, sheet=s.name))
        else:
            wanted.append(s.name)
    if not wanted:
        raise BudgetError.one("no-data-sheet", "檔案中沒有可見的工作表；若資料在隱藏的工作表，請以 --sheet 指定。",
                              "no visible worksheet; use --sheet", file=display, hint="--sheet 工作表名稱")
    return wanted


def _xlsx_facts(zf, listed: list, wanted: list[str], worker, display: str) -> tuple[dict, bool]:
    """Scan the wanted sheets' XML while the child parses: (facts by sheet name, may hold control characters).

    Stops the child when a part is damaged or a cell points at a shared string that does not exist.
    """
    import zipfile

    from . import sheet_facts

    facts: dict[str, sheet_facts.SheetFacts] = {}
    try:
        by_name = {s.name: s for s in listed}
        shared = sheet_facts.xlsx_shared_count(zf)
        for name in wanted:
            facts[name] = sheet_facts.scan_xlsx_sheet(zf, by_name[name], shared)
            if facts[name].bad_shared:
                raise _bad_shared(display, name, facts[name].bad_shared, shared)
        return facts, sheet_facts.xlsx_shared_strings_escape(zf)
    except zipfile.BadZipFile:
        worker.cancel()
        raise BudgetError.one("file-corrupt", "檔案內容已損毀（CRC 檢查失敗）；請重新匯出或重新下載。",
                              "a part fails its CRC check", file=display) from None
    except BaseException:
        worker.cancel()
        raise


def _streamed(path: Path, fmt: str, worker, facts: dict, sheet_states: dict[str, str], may_ctrl: bool
              ) -> Iterator[RawSheet]:
    """The child's sheets as :class:`RawSheet`, joined with this process's facts; the child stops at the end."""
    try:
        for grid in worker.sheets():
            f = facts.get(grid.name)
            raw = RawSheet(name=grid.name, rows=[], more=grid.more, width=grid.width,
                           hidden=sheet_states.get(grid.name, "visible") != "visible",
                           merges=[(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for r0, c0, r1, c1 in grid.merges],
                           merges_known=grid.merges_known or fmt == ODS, cut_at_last_column=fmt == ODS)
            if f is not None:
                raw.hidden_rows = f.hidden_rows
                raw.formulas = f.formulas
                if not grid.merges_known and f.merges_known:
                    raw.merges = f.merges
            raw.may_have_control_chars = may_ctrl or (f is not None and f.escapes)
            if fmt == XLSX and f is not None and f.part:
                part = f.part
                raw.code_widths = (lambda cells, _p=part: xlsx_code_widths_of(path, _p, cells))
            yield raw
    finally:
        worker.cancel()


def xlsx_code_widths_of(path: Path, part: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """:func:`budget.exports.sheet_facts.xlsx_code_widths` of one sheet part, opening the file again."""
    import zipfile

    from .sheet_facts import xlsx_code_widths

    with zipfile.ZipFile(path) as zf:
        return xlsx_code_widths(zf, part, cells)


def _bad_shared(display: str, sheet: str, cell: tuple[int, int, str], count: int) -> BudgetError:
    from .sheet_facts import column_letters

    row, col, index = cell
    where = f"{column_letters(col)}{row}" if row else "某儲存格"
    return BudgetError.one(
        "shared-string-invalid",
        f"儲存格 {where} 指向不存在的共用字串（第 {index} 個，檔案只有 {count:,} 個）；檔案已損毀，"
        "其內容無法確定。請重新匯出，或用 Excel 開啟後另存新檔再試。",
        f"cell {where} points at shared string {index}, but the file holds {count}: the file is damaged",
        file=display, sheet=sheet, row=row or None, column=column_letters(col) if col else None)


def _refuse_repeated_data_row(zf, display: str) -> None:
    """Refuse an .ods that repeats a row holding data more than MAX_DATA_ROW_REPEAT times (before any parsing)."""
    from . import sheet_facts

    try:
        found = sheet_facts.ods_repeated_data_row(zf)
    except Exception:  # ParseError, ValueError, BadZipFile: the package is damaged
        raise BudgetError.one("file-corrupt", "ODF 試算表內容 (content.xml) 已損毀；請重新匯出。",
                              "content.xml is damaged", file=display) from None
    if found:
        sheet, row, times = found
        raise BudgetError.one(
            "row-repeated",
            f"此列（含資料）在檔案中宣告重複 {times:,} 次，超過上限 {sheet_facts.MAX_DATA_ROW_REPEAT:,} 次，"
            "不像預算明細；未處理。請用 LibreOffice 開啟確認後重新匯出。",
            f"a row holding data is declared repeated {times} times (more than "
            f"{sheet_facts.MAX_DATA_ROW_REPEAT}); not an export", file=display, sheet=sheet, row=row)
