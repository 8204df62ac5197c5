"""What reading exports returns: the lines, and what was read from each file and sheet."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import LineItem
from ..problems import Problem


@dataclass
class SheetInfo:
    """What was read from one sheet (a CSV file is one sheet named "")."""

    name: str
    header_row: int  # 1-based row number of the (last) header row
    columns: tuple[str, ...]  # header titles in column order; two-row headers joined like "科目/名稱"
    mapping: dict[str, str]  # field -> header title used
    unit: str  # 元/千元/萬元 of this sheet's amounts (a per-row unit column or amount text may override)
    year: int | None  # ROC year from a title row, the sheet name, or a uniform 年度 column
    rows_read: int  # rows below the header that were examined
    lines: int
    totals: int
    skipped_blank: int
    hidden: bool = False
    header_first_row: int = 0  # 1-based first header row (differs from header_row for two-row headers)
    skipped_headers: int = 0  # header rows repeated inside the data (page breaks), skipped
    unit_source: str = ""  # where the unit came from: --unit, header, title, default


@dataclass
class SourceInfo:
    """One input file."""

    path: str
    name: str
    sha256: str
    format: str  # "xlsx" | "xls" | "ods" | "csv"
    size: int
    encoding: str | None
    sheets: list[SheetInfo]
    skipped_sheets: list[str]  # hidden or non-data sheets; the reason is in the problems


@dataclass
class ReadResult:
    """Every line and total row of every file, in input order, with the sources and non-fatal problems."""

    lines: list[LineItem]
    sources: list[SourceInfo]
    problems: list[Problem]
