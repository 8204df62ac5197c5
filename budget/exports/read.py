"""Read budget exports (.xlsx/.xlsm, .xls, .ods, .csv) into line items with full provenance, or refuse them clearly.

``read_exports`` is the one entry point. The stage, in the order a file goes through it:

- :mod:`.files` — one file: sniff its format (:mod:`.sniff`), read its cells (CSV :mod:`.csv_read`,
  .xls :mod:`.xls_read`, .xlsx/.ods :mod:`.workbooks` with the calamine child :mod:`.sheet_worker`
  and the XML facts of :mod:`.sheet_facts`), then each sheet;
- :mod:`.rows` — one sheet: find the header (:mod:`.header`, :mod:`.columns`), then the row loop;
- :mod:`.fields` — the line fields as data, each with the parser that reads its cell;
- :mod:`.subtotals` — subtotal and heading rows, and the check of labelled totals;
- :mod:`.spans` — merged cells and hidden-row runs as ranges; :mod:`.memory` — the run's memory budget.

Fatal problems of every file are collected and raised together as one :class:`~budget.problems.BudgetError`;
the rest are returned as problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from ..limits import SHEET_ROWS
from ..models import LineItem
from ..money import UNITS, canonical_unit
from ..problems import BudgetError, Problem
from .columns import FIELD_ALIASES
from .files import DAMAGE, read_file, sha256_of
from .flags import *  # noqa: F401,F403 - the flags are part of what a reader's caller sees
from .memory import MemoryBudget, ReadRun
from .results import ReadResult, SheetInfo, SourceInfo
from .subtotals import is_total_label  # noqa: F401 - re-exported

__all__ = ["ReadResult", "SheetInfo", "SourceInfo", "read_exports", "SHEET_ROW_LIMIT", "sha256_of"]

#: Default row limit per sheet: as many rows as an .xlsx worksheet can hold (title rows included).
SHEET_ROW_LIMIT = SHEET_ROWS


def read_exports(paths: Sequence[str | Path], *, sheet: str | None = None, mapping: dict[str, str] | None = None,
                 encoding: str | None = None, unit: str | None = None, default_unit: str = "元",
                 max_rows: int = SHEET_ROWS, progress: Callable[[int], None] | None = None,
                 memory_budget: int | None = None) -> ReadResult:
    """Read budget exports into line items.

    ``sheet`` reads only that sheet of each workbook (even a hidden one); otherwise every visible
    sheet with a recognisable header is read. ``mapping`` maps field → header title (``--map``,
    a rules file's ``[columns]``) and wins over the aliases. ``encoding`` forces the CSV encoding.
    ``unit`` forces the unit of bare amounts (an amount text such as ``60千元`` still says its own);
    otherwise the unit comes from a per-row unit column, the amount header (``金額(千元)``), a title
    row (``單位：新臺幣千元``), else ``default_unit``. ``max_rows`` limits the rows of each file.
    ``progress`` is called with the cumulative number of rows processed. ``memory_budget`` (bytes;
    default from ``GENDER_BUDGET_MEMORY_MB`` or 6 GiB) bounds the estimated memory of the whole run.

    Raises :class:`BudgetError` with every fatal problem of every file (missing, a folder, given twice,
    empty, not a spreadsheet, damaged, password-protected, unsafe, too large or too wide, no usable
    header, no data, an amount beyond what a budget can hold, past the memory budget).
    Non-fatal problems (unreadable amounts — severity error —, formulas without values, hidden
    sheets skipped, Big5 造字, codes stored as numbers, subtotal mismatches…) are returned.
    """
    overrides = _check_mapping(mapping)
    forced_unit = _check_unit(unit, "--unit") if unit else None
    default = _check_unit(default_unit, "default_unit")
    if max_rows < 1:
        raise BudgetError.one("usage", "max_rows 必須是正整數。", "max_rows must be positive")
    paths = [Path(p) for p in paths]
    names = [p.name for p in paths]
    fatal: list[Problem] = []
    lines: list[LineItem] = []
    sources: list[SourceInfo] = []
    problems: list[Problem] = []
    run = ReadRun(progress, MemoryBudget(memory_budget))
    displays = [(p.name if names.count(p.name) == 1 and p.name else str(p)) for p in paths]
    duplicates = _duplicates(paths, displays)
    if duplicates:
        raise BudgetError(duplicates)  # the same file twice: nothing is read
    for path, display in zip(paths, displays):
        try:
            source, file_lines, file_problems = read_file(
                path, display, sheet=sheet, overrides=overrides, encoding=encoding, forced_unit=forced_unit,
                default_unit=default, max_rows=max_rows, run=run)
        except BudgetError as exc:
            fatal.extend(exc.problems)
            continue
        except DAMAGE as exc:  # a damaged file can fail in any parser; never a traceback for that
            fatal.append(Problem("file-corrupt", "檔案已損毀或不完整，無法讀取；請重新匯出或另存新檔再試。",
                                 f"the file is damaged ({type(exc).__name__}: {str(exc)[:200]})", file=display))
            continue
        except MemoryError:
            fatal.append(Problem("file-too-complex", "讀取時記憶體不足；檔案過大或過於複雜，請分成數個檔案再試。",
                                 "out of memory while reading", file=display))
            continue
        sources.append(source)
        lines.extend(file_lines)
        problems.extend(file_problems)
    if fatal:
        raise BudgetError(fatal)
    return ReadResult(lines, sources, problems)


def _duplicates(paths: list[Path], displays: list[str]) -> list[Problem]:
    """The same file named twice (or two names for one file, e.g. a link): refused, since its lines would count twice."""
    out: list[Problem] = []
    seen: dict[tuple[int, int] | str, str] = {}
    for path, display in zip(paths, displays):
        try:
            st = path.stat()
            key: tuple[int, int] | str = (st.st_dev, st.st_ino) if st.st_ino else str(path.resolve())
        except OSError:
            continue  # missing or unreadable: reported when the file is read
        if path.is_dir():
            continue
        if key in seen:
            out.append(Problem(
                "input-duplicate",
                f"同一個檔案指定了兩次（{seen[key]} 與 {display}），其明細會重複計算；請只指定一次。",
                f"the same file is given twice ({seen[key]} and {display}); its lines would be counted twice",
                file=display))
        else:
            seen[key] = display
    return out


def _check_mapping(mapping: dict[str, str] | None) -> dict[str, str]:
    overrides = dict(mapping or {})
    bad = [f for f in overrides if f not in FIELD_ALIASES]
    if bad:
        raise BudgetError.one("map-field-unknown",
                              f"「{'、'.join(bad)}」不是可對應的欄位；可用：{', '.join(FIELD_ALIASES)}。",
                              f"unknown field(s) {bad}", hint="--map 欄位=表頭，例如 --map description=摘要")
    return overrides


def _check_unit(unit: str, what: str) -> str:
    canonical = canonical_unit(unit) if unit else None
    if canonical is None or canonical not in UNITS:
        raise BudgetError.one("unit-unknown", f"{what} 的單位「{unit}」無法辨識；可用：元、千元、萬元。",
                              f"unknown unit {unit!r}; use 元, 千元 or 萬元")
    return canonical
