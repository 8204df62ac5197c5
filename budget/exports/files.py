"""One input file → its sheets' lines: sniff the format, read the cells (CSV, .xls, .xlsx/.ods), read each sheet.

Also the file's SHA-256 (:func:`sha256_of`), the refusal for a file without a usable header, and the
warnings for hidden, empty or header-less sheets and for ``--map`` titles no header used.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from ..models import LineItem
from ..normalize import fold
from ..problems import WARNING, BudgetError, Problem
from .columns import FIELD_ALIASES, FIELD_NAMES_ZH, REQUIRED_FIELDS
from .header import HeaderMiss, cell_text
from .memory import ReadRun
from .rawsheet import RawSheet
from .results import SheetInfo, SourceInfo
from .rows import read_sheet
from .sniff import CSV, XLS


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex (read in 1 MB chunks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _damage_errors() -> tuple[type[BaseException], ...]:
    import struct
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    return (zipfile.BadZipFile, zlib.error, EOFError, struct.error, ParseError, UnicodeDecodeError, KeyError,
            IndexError, OSError)


#: Exceptions a damaged file can raise in any parser: reported as file-corrupt, never a traceback.
DAMAGE = _damage_errors()


def read_file(path: Path, display: str, *, sheet: str | None, overrides: dict[str, str], encoding: str | None,
              forced_unit: str | None, default_unit: str, max_rows: int, run: ReadRun
              ) -> tuple[SourceInfo, list[LineItem], list[Problem]]:
    """Read one file: (what was read, its lines in order, its non-fatal problems); BudgetError if unusable."""
    from .sniff import sniff

    sniffed = sniff(path, display)
    problems: list[Problem] = []
    skipped: list[str] = []
    used_encoding = None
    if sniffed.format == CSV:
        from .csv_read import read_csv

        raw, used_encoding = read_csv(path, display, encoding=encoding, max_rows=max_rows)
        raws = [raw]
        if sheet:
            problems.append(Problem("sheet-ignored", f"CSV 檔沒有工作表，--sheet「{sheet}」不適用，已讀取整個檔案。",
                                    "a CSV file has no sheets; --sheet ignored", severity=WARNING, file=display))
    elif sniffed.format == XLS:
        from .xls_read import read_xls

        raws, visibility = read_xls(path, display, sheet=sheet, max_rows=max_rows)
        skipped += report_hidden(visibility, sheet, display, problems)
    else:
        from .workbooks import read_zip_workbook

        raws, skipped_here = read_zip_workbook(path, display, sniffed.format, sheet, max_rows, problems)
        skipped += skipped_here

    sheets: list[SheetInfo] = []
    lines: list[LineItem] = []
    misses: list[tuple[RawSheet, HeaderMiss]] = []
    try:
        for raw in raws:
            result = read_sheet(raw, display, overrides=overrides, forced_unit=forced_unit,
                                default_unit=default_unit, is_csv=sniffed.format == CSV, run=run)
            if isinstance(result, HeaderMiss):
                misses.append((raw, result))
                continue
            info, sheet_lines, sheet_problems = result
            sheets.append(info)
            lines.extend(sheet_lines)
            problems.extend(sheet_problems)
    finally:
        close = getattr(raws, "close", None)
        if close is not None:
            close()  # a streaming workbook: stop its reader process

    if not sheets:
        fatal = [header_problem(raw, miss, display, overrides) for raw, miss in misses]
        if used_encoding and not encoding:
            # text decoded with the wrong codepage still decodes: its header just looks like nonsense
            fatal = [replace(p, message=p.message + f"（本檔以 {used_encoding} 解碼；若上列文字是亂碼，請以 --encoding 指定正確編碼。）")
                     for p in fatal]
        raise BudgetError(fatal or [
            Problem("no-data-sheet", "檔案中沒有可讀取的工作表（所有工作表都是隱藏的或空白的）；請以 --sheet 指定工作表。",
                    "no visible sheet with data; use --sheet", file=display, hint="--sheet 工作表名稱")])
    _skipped_sheets(misses, skipped, display, overrides, problems)
    if not any(info.lines or info.totals for info in sheets):
        raise BudgetError.one("no-data", "表頭下方沒有任何資料列；請確認匯出的範圍是否正確。",
                              "no data rows below the header", file=display,
                              sheet=sheets[0].name or None, row=sheets[0].header_row)
    for info in sheets:
        if not (info.lines or info.totals):
            problems.append(Problem("sheet-no-data", "工作表有表頭，但下方沒有任何資料列。", "a header but no data rows",
                                    severity=WARNING, file=display, sheet=info.name or None, row=info.header_row))
    check_overrides_used(overrides, sheets, display, problems)
    source = SourceInfo(path=str(path), name=path.name, sha256=sha256_of(path), format=sniffed.format,
                        size=sniffed.size, encoding=used_encoding, sheets=sheets, skipped_sheets=skipped)
    return source, lines, problems


def _skipped_sheets(misses: list[tuple[RawSheet, HeaderMiss]], skipped: list[str], display: str,
                    overrides: dict[str, str], problems: list[Problem]) -> None:
    """Warn about each sheet without a header (another sheet of the file had one): empty, or not data."""
    for raw, miss in misses:
        skipped.append(raw.name)
        if not any(v is not None and cell_text(v) for row in raw.rows[:50] for v in row):
            problems.append(Problem("sheet-empty", "工作表是空白的，已略過。", "empty sheet skipped",
                                    severity=WARNING, file=display, sheet=raw.name))
            continue
        p = header_problem(raw, miss, display, overrides)
        problems.append(Problem("sheet-no-header", "工作表沒有可辨識的表頭，視為非資料工作表而略過。" + p.message,
                                "no recognisable header; sheet skipped", severity=WARNING, file=display,
                                sheet=raw.name, hint=p.hint))


def report_hidden(visibility: list[tuple[str, str]], sheet: str | None, display: str,
                  problems: list[Problem]) -> list[str]:
    """Names of the hidden sheets skipped (none when ``--sheet`` names one), each with a warning."""
    skipped: list[str] = []
    if sheet is not None:
        return skipped
    for name, vis in visibility:
        if vis != "visible":
            skipped.append(name)
            problems.append(Problem("sheet-hidden", "隱藏的工作表，已略過；若要讀取請以 --sheet 指定。",
                                    "hidden sheet skipped; name it with --sheet to read it", severity=WARNING,
                                    file=display, sheet=name, hint=f"--sheet {name}"))
    return skipped


def header_problem(raw: RawSheet, miss: HeaderMiss, display: str, overrides: dict[str, str]) -> Problem:
    """The fatal problem for a sheet without a usable header: what was seen and how to map it."""
    sheet = raw.name or None
    aliases = "；".join(f"{FIELD_NAMES_ZH[f]}：{'、'.join(FIELD_ALIASES[f][:6])}" for f in REQUIRED_FIELDS)
    seen = "、".join(f"「{t}」" for t in miss.titles[:20]) or "（無）"
    if miss.fields:
        missing = [FIELD_NAMES_ZH[f] for f in REQUIRED_FIELDS if f not in miss.fields]
        return Problem(
            "header-missing-column",
            f"第 {miss.row} 列的表頭缺少{'與'.join(missing)}欄（看到的表頭：{seen}）；請以 --map 指定，"
            f"例如 --map {'description' if '說明' in missing else 'amount'}=表頭名稱。可辨識的表頭：{aliases}。",
            f"the header has no {' / '.join(f for f in REQUIRED_FIELDS if f not in miss.fields)} column",
            file=display, sheet=sheet, row=miss.row, hint="--map 欄位=表頭，例如 --map description=摘要 --map amount=預算數")
    return Problem(
        "header-not-found",
        f"前 30 列找不到可辨識的表頭（看到的內容：{seen}）；請確認這是預算明細，或以 --map 指定欄位，"
        f"例如 --map description=摘要 --map amount=預算數。可辨識的表頭：{aliases}。",
        "no recognisable header row in the first 30 rows; use --map field=header",
        file=display, sheet=sheet, row=miss.row, hint="--map 欄位=表頭，例如 --map description=摘要")


def check_overrides_used(overrides: dict[str, str], sheets: list[SheetInfo], display: str,
                         problems: list[Problem]) -> None:
    """Warn about each ``--map field=title`` whose title no sheet's header used."""
    for fld, title in overrides.items():
        if not any(info.mapping.get(fld) is not None and fold(info.mapping[fld]) == fold(title) for info in sheets):
            seen = "、".join(f"「{t}」" for t in dict.fromkeys(t for info in sheets for t in info.columns if t))
            problems.append(Problem("map-header-unused",
                                    f"指定的對應 {fld}={title} 在表頭中找不到，未使用（表頭有：{seen}）。",
                                    f"mapping {fld}={title} matched no header", severity=WARNING, file=display))
