"""A sheet as read from any format, before its header is found: cell values by row and what the file says of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .sheet_facts import FormulaCell


@dataclass
class RawSheet:
    """One sheet's cells and facts. ``rows[i]`` is row ``i + 1`` (rows may be ragged; blank cells are
    ``None`` in workbooks, ``""`` in CSV). Facts use 1-based (row, column) keys.
    """

    name: str
    rows: list[list[Any]]
    hidden: bool = False
    hidden_rows: set[int] = field(default_factory=set)
    formulas: dict[tuple[int, int], FormulaCell] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 inclusive
    merges_known: bool = False
    #: given numeric code cells, the zero-padded width their number format shows (on demand: costs a scan)
    code_widths: Callable[[set[tuple[int, int]]], dict[tuple[int, int], int]] | None = None
    #: rows still to come (a child process streams big workbooks); ``rows`` grows as they are pulled
    more: Iterator[list[list[Any]]] | None = None
    #: the sheet's width in columns when known in advance (streamed sheets), else computed from the rows
    width: int | None = None
    #: False when the format proves no cell can hold a control character (skips a per-cell check)
    may_have_control_chars: bool = True
    #: True when the cell reader silently cuts rows at XFD (calamine on .ods): data in XFD may go on past it
    cut_at_last_column: bool = False
    #: problems found while decoding a cell (e.g. Big5 造字); the reader adds file, sheet and column title
    cell_issues: list[CellIssue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CellIssue:
    """A problem in one cell found before the header is known; ``flag`` goes on the row's line."""

    row: int
    col: int  # 1-based
    code: str
    message: str
    message_en: str
    severity: str
    flag: str


def pull_rows(sheet: RawSheet, at_least: int | None = None) -> bool:
    """Append the next streamed rows to ``sheet.rows`` (until it has ``at_least`` rows, if given).

    Returns False once every row has arrived.
    """
    while sheet.more is not None:
        chunk = next(sheet.more, None)
        if chunk is None:
            sheet.more = None
            return False
        sheet.rows.extend(chunk)
        if at_least is None or len(sheet.rows) >= at_least:
            return True
    return False
