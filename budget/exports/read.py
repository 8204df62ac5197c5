"""Read budget exports (.xlsx/.xlsm, .xls, .ods, .csv) into line items with full provenance, or refuse them clearly.

``read_exports`` is the one entry point. Per file it decides the format from the bytes
(:mod:`budget.exports.sniff`), checks the container, reads the cells (.xlsx/.ods through python-calamine in
a child process, :mod:`budget.exports.sheet_worker`; .xls with xlrd; CSV with :mod:`budget.exports.csv_read`), finds
the header under any title rows (:mod:`budget.header`), and turns every data row into a
:class:`~budget.models.LineItem`: amounts parsed strictly, units and years found, subtotal rows
marked, codes kept as text. Fatal problems of every file are collected and raised together as one
:class:`~budget.problems.BudgetError`; the rest are returned as problems.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .columns import FIELD_ALIASES, FIELD_NAMES_ZH, REQUIRED_FIELDS
from .header import HEADER_SCAN_ROWS, Header, HeaderMiss, cell_text, find_header, year_in_text, year_of_cell
from ..models import LINE, TOTAL, LineItem
from ..money import UNITS, AmountError, canonical_unit, convert, format_thousands, parse_amount, unit_in_text
from ..normalize import fold, split_account
from ..problems import ERROR, WARNING, BudgetError, Problem
from .rawsheet import RawSheet, pull_rows
from .sniff import CSV, ODS, XLS, XLSX

# Flags put on lines (LineItem.flags).
FLAG_HIDDEN_ROW = "hidden-row"                  # the row is hidden in the source sheet
FLAG_AMOUNT_UNREADABLE = "amount-unreadable"    # the amount cell is not money; amount is None
FLAG_AMOUNT_TEXT = "amount-text"                # the amount was text in a workbook ("1,234") and was converted
FLAG_FORMULA_NO_VALUE = "formula-no-value"      # the amount is a formula with no cached value; amount is None
FLAG_FORMULA_ZERO = "formula-cached-zero"       # the amount is a formula whose cached value is 0
FLAG_FORMULA = "formula"                        # the amount is a formula's cached value
FLAG_CODE_NUMBER = "code-stored-as-number"      # a code column held a number (leading zeros restored if known)
FLAG_CONTROL_CHARS = "control-chars"            # a cell held control characters (replaced by spaces in fields)
FLAG_TOTAL_LABEL = "total-label"                # kind total because a cell says 合計/小計/總計/共計/合共
FLAG_TOTAL_SUM_ABOVE = "total-sum-of-lines-above"  # kind total because its amount is the sum of the lines above
FLAG_TOTAL_SUM_BELOW = "total-sum-of-lines-below"  # kind total: a heading whose amount is the sum of the lines below
FLAG_TOTAL_MISMATCH = "total-mismatch"          # a labelled total that equals no sum of the lines it covers
FLAG_UNIT_FROM_TEXT = "unit-from-amount-text"   # the amount text named its own unit ("60千元")

#: Fields whose values are codes: kept as text, numbers flagged.
CODE_FIELDS = ("account_code", "account", "plan", "branch")
#: Problems of one kind reported row by row per sheet; beyond this a single summary is added.
MAX_ROW_PROBLEMS = 20

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOTAL_LABEL = re.compile(r"^.{0,12}?(合計|小計|總計|共計|合共|grandtotal|subtotal|total)(數|金額|數額)?$")
_LABEL_PUNCT = re.compile(r"[:：()（）\[\]【】〔〕<>＜＞「」『』.。、,，;；\-－—_=＝*＊#＃/／]")
_UNIT_IN_TITLE = re.compile(r"(千元|仟元|萬元|元)")
_PLAIN_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", re.ASCII)
_DONE: list[Any] = []  # stands in for a data row already turned into a line


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


# --- entry point ----------------------------------------------------------------------------------

#: Default row limit per sheet: as many rows as an .xlsx worksheet can hold (title rows included).
SHEET_ROW_LIMIT = 1_048_576


def read_exports(paths: Sequence[str | Path], *, sheet: str | None = None, mapping: dict[str, str] | None = None,
                 encoding: str | None = None, unit: str | None = None, default_unit: str = "元",
                 max_rows: int = SHEET_ROW_LIMIT, progress: Callable[[int], None] | None = None) -> ReadResult:
    """Read budget exports into line items.

    ``sheet`` reads only that sheet of each workbook (even a hidden one); otherwise every visible
    sheet with a recognisable header is read. ``mapping`` maps field → header title (``--map``,
    a rules file's ``[columns]``) and wins over the aliases. ``encoding`` forces the CSV encoding.
    ``unit`` forces the unit of bare amounts (an amount text such as ``60千元`` still says its own);
    otherwise the unit comes from a per-row unit column, the amount header (``金額(千元)``), a title
    row (``單位：新臺幣千元``), else ``default_unit``. ``max_rows`` limits the rows of each file.
    ``progress`` is called with the cumulative number of rows processed.

    Raises :class:`BudgetError` with every fatal problem of every file (missing, empty, not a
    spreadsheet, damaged, password-protected, unsafe, too large, no usable header, no data).
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
    counter = _Progress(progress)
    for path in paths:
        display = path.name if names.count(path.name) == 1 else str(path)
        try:
            source, file_lines, file_problems = _read_file(
                path, display, sheet=sheet, overrides=overrides, encoding=encoding, forced_unit=forced_unit,
                default_unit=default, max_rows=max_rows, counter=counter)
        except BudgetError as exc:
            fatal.extend(exc.problems)
            continue
        except _DAMAGE as exc:  # a damaged file can fail in any parser; never a traceback for that
            fatal.append(Problem("file-corrupt", "檔案已損毀或不完整，無法讀取；請重新匯出或另存新檔再試。",
                                 f"the file is damaged ({type(exc).__name__}: {str(exc)[:200]})", file=display))
            continue
        sources.append(source)
        lines.extend(file_lines)
        problems.extend(file_problems)
    if fatal:
        raise BudgetError(fatal)
    return ReadResult(lines, sources, problems)


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


def _damage_errors() -> tuple[type[BaseException], ...]:
    import struct
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    return (zipfile.BadZipFile, zlib.error, EOFError, struct.error, ParseError, UnicodeDecodeError, KeyError,
            IndexError, OSError)


_DAMAGE = _damage_errors()


class _Progress:
    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.done = 0

    def add(self, rows: int) -> None:
        self.done += rows
        if self.callback is not None:
            self.callback(self.done)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- one file -------------------------------------------------------------------------------------

def _read_file(path: Path, display: str, *, sheet: str | None, overrides: dict[str, str], encoding: str | None,
               forced_unit: str | None, default_unit: str, max_rows: int, counter: _Progress
               ) -> tuple[SourceInfo, list[LineItem], list[Problem]]:
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
        skipped += _report_hidden(visibility, sheet, display, problems)
    else:
        raws, skipped_here = _read_zip_workbook(path, display, sniffed.format, sheet, max_rows, problems)
        skipped += skipped_here

    sheets: list[SheetInfo] = []
    lines: list[LineItem] = []
    misses: list[tuple[RawSheet, HeaderMiss]] = []
    try:
        for raw in raws:
            result = _read_sheet(raw, display, overrides=overrides, forced_unit=forced_unit,
                                 default_unit=default_unit, is_csv=sniffed.format == CSV, counter=counter)
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
        fatal = [_header_problem(raw, miss, display, overrides) for raw, miss in misses]
        if used_encoding and not encoding:
            # text decoded with the wrong codepage still decodes: its header just looks like nonsense
            fatal = [replace(p, message=p.message + f"（本檔以 {used_encoding} 解碼；若上列文字是亂碼，請以 --encoding 指定正確編碼。）")
                     for p in fatal]
        raise BudgetError(fatal or [
            Problem("no-data-sheet", "檔案中沒有可讀取的工作表（所有工作表都是隱藏的或空白的）；請以 --sheet 指定工作表。",
                    "no visible sheet with data; use --sheet", file=display, hint="--sheet 工作表名稱")])
    for raw, miss in misses:
        skipped.append(raw.name)
        if not any(v is not None and cell_text(v) for row in raw.rows[:50] for v in row):
            problems.append(Problem("sheet-empty", "工作表是空白的，已略過。", "empty sheet skipped",
                                    severity=WARNING, file=display, sheet=raw.name))
            continue
        p = _header_problem(raw, miss, display, overrides)
        problems.append(Problem("sheet-no-header", "工作表沒有可辨識的表頭，視為非資料工作表而略過。" + p.message,
                                "no recognisable header; sheet skipped", severity=WARNING, file=display,
                                sheet=raw.name, hint=p.hint))
    if not any(info.lines or info.totals for info in sheets):
        raise BudgetError.one("no-data", "表頭下方沒有任何資料列；請確認匯出的範圍是否正確。",
                              "no data rows below the header", file=display,
                              sheet=sheets[0].name or None, row=sheets[0].header_row)
    for info in sheets:
        if not (info.lines or info.totals):
            problems.append(Problem("sheet-no-data", "工作表有表頭，但下方沒有任何資料列。", "a header but no data rows",
                                    severity=WARNING, file=display, sheet=info.name or None, row=info.header_row))
    _check_overrides_used(overrides, sheets, display, problems)
    source = SourceInfo(path=str(path), name=path.name, sha256=_sha256(path), format=sniffed.format,
                        size=sniffed.size, encoding=used_encoding, sheets=sheets, skipped_sheets=skipped)
    return source, lines, problems


def _report_hidden(visibility: list[tuple[str, str]], sheet: str | None, display: str,
                   problems: list[Problem]) -> list[str]:
    skipped = []
    if sheet is not None:
        return skipped
    for name, vis in visibility:
        if vis != "visible":
            skipped.append(name)
            problems.append(Problem("sheet-hidden", "隱藏的工作表，已略過；若要讀取請以 --sheet 指定。",
                                    "hidden sheet skipped; name it with --sheet to read it", severity=WARNING,
                                    file=display, sheet=name, hint=f"--sheet {name}"))
    return skipped


def _read_zip_workbook(path: Path, display: str, fmt: str, sheet: str | None, max_rows: int,
                       problems: list[Problem]) -> tuple[Iterator[RawSheet], list[str]]:
    """An .xlsx or .ods: calamine in a child process for the values, this process for the facts."""
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
        facts: dict[str, sheet_facts.SheetFacts] = {}
        if fmt == XLSX:
            try:
                listed = sheet_facts.xlsx_sheets(zf)
            except Exception:
                raise BudgetError.one("file-corrupt", "活頁簿結構 (workbook.xml) 已損毀；請重新匯出或另存新檔。",
                                      "workbook.xml is damaged", file=display) from None
            names = [s.name for s in listed]
            if sheet is not None:
                if sheet not in names:
                    raise BudgetError.one("sheet-not-found",
                                          f"找不到工作表「{sheet}」；這個檔案的工作表有：{'、'.join(f'「{n}」' for n in names)}。",
                                          f"no sheet named {sheet!r}", file=display, sheet=sheet,
                                          hint="請用 --sheet 指定正確的工作表名稱。")
                wanted = [sheet]
            else:
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
                                                "chart or macro sheet skipped", severity=WARNING, file=display,
                                                sheet=s.name))
                    else:
                        wanted.append(s.name)
                if not wanted:
                    raise BudgetError.one("no-data-sheet",
                                          "檔案中沒有可見的工作表；若資料在隱藏的工作表，請以 --sheet 指定。",
                                          "no visible worksheet; use --sheet", file=display, hint="--sheet 工作表名稱")
            worker = start_worker(path, display, sheets=wanted, max_rows=max_rows)
            try:
                by_name = {s.name: s for s in listed}
                for name in wanted:
                    facts[name] = sheet_facts.scan_xlsx_sheet(zf, by_name[name])
                may_ctrl = sheet_facts.xlsx_shared_strings_escape(zf)
            except zipfile.BadZipFile:
                worker.cancel()
                raise BudgetError.one("file-corrupt", "檔案內容已損毀（CRC 檢查失敗）；請重新匯出或重新下載。",
                                      "a part fails its CRC check", file=display) from None
            except BaseException:
                worker.cancel()
                raise
        else:
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
            skipped += _report_hidden(list(sheet_states.items()), sheet, display, problems)

    def raws() -> Iterator[RawSheet]:
        try:
            for grid in worker.sheets():
                f = facts.get(grid.name)
                raw = RawSheet(name=grid.name, rows=[], more=grid.more, width=grid.width,
                               hidden=sheet_states.get(grid.name, "visible") != "visible",
                               merges=[(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for r0, c0, r1, c1 in grid.merges],
                               merges_known=grid.merges_known or fmt == ODS)
                if f is not None:
                    raw.hidden_rows = f.hidden_rows
                    raw.formulas = f.formulas
                    if not grid.merges_known and f.merges_known:
                        raw.merges = f.merges
                raw.may_have_control_chars = may_ctrl or (f is not None and f.escapes)
                if fmt == XLSX and f is not None and f.part:
                    part = f.part
                    raw.code_widths = (lambda cells, _p=part: _xlsx_code_widths(path, _p, cells))
                yield raw
        finally:
            worker.cancel()

    return raws(), skipped


def _xlsx_code_widths(path: Path, part: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    import zipfile

    from .sheet_facts import xlsx_code_widths

    with zipfile.ZipFile(path) as zf:
        return xlsx_code_widths(zf, part, cells)


def _header_problem(raw: RawSheet, miss: HeaderMiss, display: str, overrides: dict[str, str]) -> Problem:
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


def _check_overrides_used(overrides: dict[str, str], sheets: list[SheetInfo], display: str,
                          problems: list[Problem]) -> None:
    for fld, title in overrides.items():
        if not any(info.mapping.get(fld) is not None and fold(info.mapping[fld]) == fold(title) for info in sheets):
            seen = "、".join(f"「{t}」" for t in dict.fromkeys(t for info in sheets for t in info.columns if t))
            problems.append(Problem("map-header-unused",
                                    f"指定的對應 {fld}={title} 在表頭中找不到，未使用（表頭有：{seen}）。",
                                    f"mapping {fld}={title} matched no header", severity=WARNING, file=display))


# --- one sheet ------------------------------------------------------------------------------------

class _RowProblems:
    """Row problems of one sheet: the first :data:`MAX_ROW_PROBLEMS` of each kind, then a count."""

    def __init__(self, display: str, sheet: str) -> None:
        self.display, self.sheet = display, sheet or None
        self.out: list[Problem] = []
        self.counts: dict[str, int] = {}
        self.severity: dict[str, str] = {}

    def add(self, code: str, message: str, message_en: str, severity: str, row: int, column: str | None) -> None:
        n = self.counts.get(code, 0) + 1
        self.counts[code] = n
        if severity == ERROR:
            self.severity[code] = ERROR
        else:
            self.severity.setdefault(code, severity)
        if n <= MAX_ROW_PROBLEMS:
            self.out.append(Problem(code, message, message_en, severity=severity, file=self.display,
                                    sheet=self.sheet, row=row, column=column))

    def finish(self) -> list[Problem]:
        for code, n in self.counts.items():
            if n > MAX_ROW_PROBLEMS:
                self.out.append(Problem(code, f"另有 {n - MAX_ROW_PROBLEMS:,} 列有相同問題（共 {n:,} 列）。",
                                        f"{n - MAX_ROW_PROBLEMS} more rows with the same problem ({n} in all)",
                                        severity=self.severity[code], file=self.display, sheet=self.sheet))
        return self.out


def _text(value: Any) -> str:
    """A cell as the text of a line field (numbers without a trailing .0, dates in ISO form)."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15g")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _excel_float(value: float) -> Any:
    """A float cell as Excel shows it: at most 15 significant digits (0.30000000000000004 → 0.3)."""
    if value.is_integer():
        return int(value)
    return float(format(value, ".15g"))


_LABEL_HINT = re.compile(r"[合小總共][\s\u3000]*[計共]|[Tt][Oo][Tt][Aa][Ll]|ｔｏｔａｌ|ＴＯＴＡＬ")


@functools.lru_cache(maxsize=65536)
def is_total_label(text: str) -> bool:
    """True when a cell is only a subtotal/total label: 合計, 小 計, 總計：, 業務費小計, 以上共計, Total…"""
    if not text or len(text) > 30 or not _LABEL_HINT.search(text):
        return False
    return bool(_TOTAL_LABEL.match(_LABEL_PUNCT.sub("", fold(text))))


def _title_facts(rows: list[list[Any]], header: Header, sheet_name: str) -> tuple[str | None, int | None]:
    """Unit and ROC year declared in the title rows above the header (or in the header's unmapped cells)."""
    unit = year = None
    texts = [cell_text(v) for row in rows[: header.first_row - 1] for v in row]
    mapped = set(header.fields.values())
    texts += [t for c, t in enumerate(header.titles) if c not in mapped]
    for text in texts:
        if not text:
            continue
        if unit is None:
            unit = unit_in_text(text)
        if year is None:
            year = year_in_text(text)
    if year is None and sheet_name:
        year = year_in_text(sheet_name)
    return unit, year


def _read_sheet(raw: RawSheet, display: str, *, overrides: dict[str, str], forced_unit: str | None,
                default_unit: str, is_csv: bool, counter: _Progress
                ) -> tuple[SheetInfo, list[LineItem], list[Problem]] | HeaderMiss:
    rows = raw.rows
    pull_rows(raw, HEADER_SCAN_ROWS + 2)
    header = find_header(rows, raw.merges, overrides, raw.merges_known)
    if isinstance(header, HeaderMiss):
        return header
    report = _RowProblems(display, raw.name)
    problems: list[Problem] = []
    fields = header.fields
    width = max([len(header.titles), raw.width or 0] + ([] if raw.more else [len(r) for r in rows[header.row:]]))
    titles = tuple(header.titles) + ("",) * (width - len(header.titles))
    mapping = {f: titles[c] for f, c in fields.items()}
    for fld, cols in header.ambiguous.items():
        names = "、".join(f"「{titles[c]}」" for c in cols)
        problems.append(Problem("header-ambiguous",
                                f"{FIELD_NAMES_ZH.get(fld, fld)}欄有多個候選：{names}；已使用「{titles[cols[0]]}」。"
                                f"若不正確請以 --map {fld}=表頭 指定。",
                                f"several columns could be {fld}; used the first", severity=WARNING,
                                file=display, sheet=raw.name or None, row=header.row,
                                hint=f"--map {fld}={titles[cols[-1]]}"))

    # Sheet-level unit and year.
    title_unit, title_year = _title_facts(rows, header, raw.name)
    amount_title = titles[fields["amount"]]
    header_unit = None
    m = _UNIT_IN_TITLE.search(fold(amount_title))
    if m:
        header_unit = canonical_unit(m.group(1))
    if forced_unit:
        sheet_unit, unit_source = forced_unit, "--unit"
    elif header_unit:
        sheet_unit, unit_source = header_unit, "header"
        if title_unit and title_unit != header_unit:
            problems.append(Problem("unit-conflict",
                                    f"金額欄表頭「{amount_title}」的單位是{header_unit}，標題列寫{title_unit}；已採用表頭的{header_unit}。",
                                    "the amount header and a title row name different units; used the header's",
                                    severity=WARNING, file=display, sheet=raw.name or None, row=header.row))
    elif title_unit:
        sheet_unit, unit_source = title_unit, "title"
    else:
        sheet_unit, unit_source = default_unit, "default"

    col_desc = fields["description"]
    col_amount = fields["amount"]
    col_account = fields.get("account")
    col_code = fields.get("account_code")
    col_plan = fields.get("plan")
    col_branch = fields.get("branch")
    col_agency = fields.get("agency")
    col_year = fields.get("year")
    col_unit = fields.get("unit")
    amount_col_title = titles[col_amount]
    pad = "" if is_csv else None
    formulas = raw.formulas
    hidden_rows = raw.hidden_rows
    check_ctrl = raw.may_have_control_chars
    row_flags: dict[int, list[str]] = {}
    for issue in raw.cell_issues:
        if issue.row > header.row:
            row_flags.setdefault(issue.row, []).append(issue.flag)
        title = titles[issue.col - 1] if issue.col - 1 < len(titles) else ""
        report.add(issue.code, issue.message, issue.message_en, issue.severity, issue.row,
                   title or f"第 {issue.col} 欄")
    fill = _vertical_fill(raw.merges, header.row, [c for c in (col_desc, col_account, col_code, col_plan, col_branch,
                                                               col_agency, col_year, col_unit) if c is not None])
    # a header repeated in the data (exports that repeat it on every printed page) has these texts
    desc_titles = {t[col_desc] for t in (header.upper, header.lower) if col_desc < len(t) and t[col_desc]}
    amount_titles = {t[col_amount] for t in (header.upper, header.lower) if col_amount < len(t) and t[col_amount]}
    label_cols = [c for c in range(width) if c != col_amount]

    lines: list[LineItem] = []
    code_cells: dict[tuple[int, int], tuple[int, str]] = {}  # (row, col) -> (index in lines, field)
    unknown_units: dict[str, int] = {}
    skipped_blank = skipped_headers = 0
    years_seen: set[int] = set()
    start = header.row
    pos = freed = start
    text_cols = [c for c in (col_account, col_code, col_plan, col_branch, col_agency, col_year, col_unit)
                 if c is not None]
    while True:
        n = len(rows)
        for idx in range(pos, n):
            row = rows[idx]
            rnum = idx + 1
            if (idx - start) % 5000 == 4999:
                counter.add(5000)
            if fill and idx in fill:
                row = _filled(row, fill[idx], rows)  # values of vertically merged cells, for the fields only
            length = len(row)
            raw_desc = row[col_desc] if col_desc < length else None
            raw_amount = row[col_amount] if col_amount < length else None
            if (raw_desc is None or raw_desc == "" or (type(raw_desc) is str and not raw_desc.strip())) and \
                    (raw_amount is None or raw_amount == "" or (type(raw_amount) is str and not raw_amount.strip())):
                if all(v is None or (type(v) is str and not v.strip()) for v in rows[idx]):
                    skipped_blank += 1
                    continue
            elif type(raw_desc) is str and type(raw_amount) is str and raw_amount.strip() in amount_titles and \
                    raw_desc.strip() in desc_titles:
                skipped_headers += 1
                continue
            flags: list[str] = list(row_flags[rnum]) if rnum in row_flags else []
            if hidden_rows and rnum in hidden_rows:
                flags.append(FLAG_HIDDEN_ROW)
            if check_ctrl:
                bad = [c for c, v in enumerate(row) if type(v) is str and _CTRL.search(v)]
                if bad:
                    flags.append(FLAG_CONTROL_CHARS)
                    report.add("control-chars", "儲存格含控制字元（不可見字元），比對時以空白取代；輸出前請確認原文。",
                               "a cell holds control characters; replaced by spaces for matching", WARNING, rnum,
                               titles[bad[0]] or f"第 {bad[0] + 1} 欄")

            # A subtotal label in any short text cell other than the amount.
            kind = LINE
            for c in label_cols:
                if c < length:
                    v = row[c]
                    if type(v) is str and len(v) <= 30 and is_total_label(v):
                        kind = TOTAL
                        flags.append(FLAG_TOTAL_LABEL)
                        break

            # Amount.
            amount: Decimal | None = None
            text_unit = None
            formula = formulas.get((rnum, col_amount + 1)) if formulas else None
            if formula is not None and not formula.has_value:
                flags.append(FLAG_FORMULA_NO_VALUE)
                if kind == LINE:
                    report.add("formula-no-value",
                               "金額是公式但檔案中沒有計算結果（常見於程式產生的檔案），無法得知金額、未計入；"
                               "請用 Excel 開啟、重新計算並存檔後再試。",
                               "the amount is a formula without a cached value; not counted", ERROR, rnum,
                               amount_col_title)
                else:
                    report.add("formula-no-value-total", "小計列的金額是公式但沒有計算結果，無法核對小計。",
                               "a total row's formula has no cached value", WARNING, rnum, amount_col_title)
            elif raw_amount is not None:
                t = type(raw_amount)
                if t is int:
                    amount = Decimal(raw_amount)
                elif t is str and _PLAIN_AMOUNT.fullmatch(raw_amount):
                    amount = Decimal(raw_amount.replace(",", ""))  # the common case; same result as parse_amount
                    if not is_csv and formula is None:
                        flags.append(FLAG_AMOUNT_TEXT)
                else:
                    try:
                        amount, text_unit = parse_amount(_excel_float(raw_amount) if t is float else raw_amount)
                    except AmountError:
                        flags.append(FLAG_AMOUNT_UNREADABLE)
                        if kind == LINE:
                            report.add("amount-unreadable",
                                       f"金額「{_text(raw_amount)}」無法解讀為金額，未計入；請修正此儲存格"
                                       "（例如 1,234、(1,234)、△1,234）。",
                                       f"amount {_text(raw_amount)!r} is not a readable amount; not counted",
                                       ERROR, rnum, amount_col_title)
                        else:  # a total is never counted: only its check is lost
                            report.add("total-amount-unreadable",
                                       f"小計列的金額「{_text(raw_amount)}」無法解讀，無法核對小計。",
                                       f"a total row's amount {_text(raw_amount)!r} is not readable", WARNING, rnum,
                                       amount_col_title)
                    else:
                        if t is str and not is_csv and amount is not None and formula is None:
                            flags.append(FLAG_AMOUNT_TEXT)
                if formula is not None and amount is not None:
                    flags.append(FLAG_FORMULA)
                    if amount == 0:
                        flags.append(FLAG_FORMULA_ZERO)
                        report.add("formula-cached-zero",
                                   "金額是公式，檔案中存的計算結果為 0（程式產生的檔案常如此）；請確認實際金額。",
                                   "the amount is a formula whose cached value is 0; check it", WARNING, rnum,
                                   amount_col_title)

            # Unit of this line.
            if text_unit:
                line_unit = text_unit
                flags.append(FLAG_UNIT_FROM_TEXT)
            elif forced_unit:
                line_unit = forced_unit
            else:
                line_unit = sheet_unit
                if col_unit is not None and col_unit < length:
                    u = row[col_unit]
                    if u is not None and u != "":
                        cu = _canonical_unit_cached(_text(u))
                        if cu:
                            line_unit = cu
                        else:
                            unknown_units[_text(u)] = unknown_units.get(_text(u), 0) + 1

            # Text fields; codes that arrive as numbers are collected and fixed after the loop.
            description = raw_desc if type(raw_desc) is str else _text(raw_desc)
            account = account_code = plan = branch = agency = ""
            year = title_year
            if text_cols:
                if col_code is not None and col_code < length:
                    v = row[col_code]
                    if v is not None and type(v) is not str and type(v) is not bool:
                        code_cells[(rnum, col_code + 1)] = (len(lines), "account_code")
                    account_code = _text(v).strip()
                if col_account is not None and col_account < length:
                    v = row[col_account]
                    if v is not None and type(v) is not str and type(v) is not bool:
                        code_cells[(rnum, col_account + 1)] = (len(lines), "account")
                    text = _text(v).strip()
                    if text:
                        code, name = _split_account_cached(text)
                        if code and not account_code:
                            account_code = code
                        account = name if code else text
                if col_plan is not None and col_plan < length:
                    v = row[col_plan]
                    if v is not None and type(v) is not str and type(v) is not bool:
                        code_cells[(rnum, col_plan + 1)] = (len(lines), "plan")
                    plan = _text(v)
                if col_branch is not None and col_branch < length:
                    v = row[col_branch]
                    if v is not None and type(v) is not str and type(v) is not bool:
                        code_cells[(rnum, col_branch + 1)] = (len(lines), "branch")
                    branch = _text(v)
                if col_agency is not None and col_agency < length:
                    agency = _text(row[col_agency])
                if col_year is not None and col_year < length:
                    y = year_of_cell(row[col_year])
                    if y is not None:
                        year = y
                        years_seen.add(y)
            if check_ctrl and FLAG_CONTROL_CHARS in flags:
                description, account, plan, branch, agency = (
                    _CTRL.sub(" ", t) for t in (description, account, plan, branch, agency))

            original = rows[idx]
            cells = tuple(original) if len(original) == width else tuple(original) + (pad,) * (width - len(original))
            lines.append(LineItem(description=description, amount=amount, unit=line_unit, plan=plan, branch=branch,
                                  account=account, account_code=account_code, agency=agency, year=year, file=display,
                                  sheet=raw.name, row=rnum, kind=kind, cells=cells, columns=titles, flags=flags))
        pos = max(pos, n)
        if not fill:  # processed rows are no longer needed (cells were copied): let big sheets shrink
            for i in range(freed, n):
                rows[i] = _DONE
            freed = n
        if not pull_rows(raw):
            break
    counter.add((len(rows) - start) % 5000)
    n = len(rows)

    if code_cells:
        _restore_codes(raw, lines, code_cells, titles, report)
    for text, count in unknown_units.items():
        problems.append(Problem("unit-unknown",
                                f"單位欄的「{text}」無法辨識（{count} 列），這些列採用{sheet_unit}。",
                                f"unit {text!r} not recognised in {count} rows; used {sheet_unit}", severity=WARNING,
                                file=display, sheet=raw.name or None,
                                column=titles[col_unit] if col_unit is not None else None))
    _mark_sum_totals(lines)
    if col_account is not None or col_code is not None:
        _mark_headings(lines)
    _check_totals(lines, report, amount_col_title)

    year = title_year if title_year is not None else (next(iter(years_seen)) if len(years_seen) == 1 else None)
    info = SheetInfo(
        name=raw.name, header_row=header.row, columns=titles, mapping=mapping, unit=sheet_unit, year=year,
        rows_read=n - start, lines=sum(1 for ln in lines if ln.kind == LINE),
        totals=sum(1 for ln in lines if ln.kind == TOTAL), skipped_blank=skipped_blank, hidden=raw.hidden,
        header_first_row=header.first_row, skipped_headers=skipped_headers, unit_source=unit_source)
    return info, lines, problems + report.finish()


def _filled(row: list[Any], entries: list[tuple[int, int, int]], rows: list[list[Any]]) -> list[Any]:
    """``row`` with its blank cells inside vertical merges given the merge's value (for the fields only)."""
    out = list(row)
    for c, r0, c0 in entries:
        if c >= len(out) or out[c] is None or out[c] == "":
            while len(out) <= c:
                out.append(None)
            src = rows[r0]
            out[c] = src[c0] if c0 < len(src) else None
    return out


@functools.lru_cache(maxsize=4096)
def _canonical_unit_cached(text: str) -> str | None:
    return canonical_unit(text)


@functools.lru_cache(maxsize=65536)
def _split_account_cached(text: str) -> tuple[str, str]:
    return split_account(text)


def _vertical_fill(merges: list[tuple[int, int, int, int]], header_row: int, cols: list[int]
                   ) -> dict[int, list[tuple[int, int, int]]]:
    """Cells inside a vertical merge in the data area: row index → [(col, top row index, left col)]."""
    out: dict[int, list[tuple[int, int, int]]] = {}
    wanted = set(cols)
    for r0, c0, r1, c1 in merges:
        if r1 <= r0 or r0 <= header_row or r1 - r0 > 1_000_000:
            continue
        for c in range(c0 - 1, c1):
            if c not in wanted:
                continue
            for r in range(r0 - 1, r1):
                if (r, c) != (r0 - 1, c0 - 1):
                    out.setdefault(r, []).append((c, r0 - 1, c0 - 1))
    return out


def _restore_codes(raw: RawSheet, lines: list[LineItem], code_cells: dict[tuple[int, int], tuple[int, str]],
                   titles: tuple[str, ...], report: _RowProblems) -> None:
    """Codes stored as numbers: zero-pad them from the cell's number format where the file says, and flag."""
    widths = raw.code_widths(set(code_cells)) if raw.code_widths else {}
    for (rnum, col), (index, fld) in code_cells.items():
        line = lines[index]
        value = line.cells[col - 1]
        if isinstance(value, float) and not value.is_integer():
            continue  # not a code at all; left as text
        digits = str(int(value)) if isinstance(value, (int, float)) else _text(value)
        width = widths.get((rnum, col))
        padded = digits.zfill(width) if width else digits
        if fld == "account_code":
            line.account_code = padded
        elif fld == "account":
            code, name = split_account(padded)
            if code:
                if not line.account_code or line.account_code == digits:
                    line.account_code = code
                line.account = name
        elif fld == "plan":
            line.plan = padded
        elif fld == "branch":
            line.branch = padded
        if FLAG_CODE_NUMBER not in line.flags:
            line.flags.append(FLAG_CODE_NUMBER)
        if width:
            msg = f"代碼以數字 {digits} 儲存，已依儲存格格式補回前導 0 為 {padded}；建議將此欄設為文字格式。"
        else:
            msg = f"代碼以數字 {digits} 儲存，前導 0 可能已遺失；建議將此欄設為文字格式後重新匯出。"
        report.add("code-stored-as-number", msg, f"code stored as a number ({digits} -> {padded})", WARNING, rnum,
                   titles[col - 1] or None)


def _group_key(line: LineItem) -> tuple[str, str]:
    return (line.plan.strip(), line.branch.strip())


def _in_yuan(line: LineItem) -> Decimal | None:
    if line.amount is None or line.unit == "元":
        return line.amount
    return convert(line.amount, line.unit, "元")


def _label_only(line: LineItem) -> bool:
    desc = line.description
    return not desc or not desc.strip() or (len(desc) <= 30 and is_total_label(desc))


def _sum_run(lines: list[LineItem], start: int, step: int, belongs: Callable[[LineItem], bool],
             stop_at: Decimal | None = None) -> tuple[Decimal, int, int]:
    """Sum (in 元) the consecutive lines from ``start``, going by ``step``, while ``belongs(line)``.

    Stops early once the sum reaches ``stop_at``. Returns (sum, lines summed, index of the last line
    looked at); the count is 0 when a line of the run has an unreadable amount, since then no sum
    can be trusted. Blank amounts are passed over.
    """
    total, count, j = Decimal(0), 0, start
    while 0 <= j < len(lines) and belongs(lines[j]):
        line = lines[j]
        if line.amount is None:
            if FLAG_AMOUNT_UNREADABLE in line.flags or FLAG_FORMULA_NO_VALUE in line.flags:
                return total, 0, j
        else:
            total += _in_yuan(line)
            count += 1
            if total == stop_at:
                return total, count, j
        j += step
    return total, count, j - step


def _mark_sum_totals(lines: list[LineItem]) -> None:
    """Mark unlabelled subtotal rows: a row with no description (or only a label) whose amount equals the
    sum of the lines directly above it (back to the previous total, the header or a change of 工作計畫/
    分支計畫), or directly below it (up to the next row without a description). At least two lines
    must add up, and the amount must not be 0; a genuine line always has a description, so it is not
    taken for a subtotal by accident.
    """
    for i, line in enumerate(lines):
        if (line.description and line.description.strip()) or line.kind != LINE or not line.amount:
            continue
        key = _group_key(line)
        target = _in_yuan(line)

        def above(prev: LineItem) -> bool:
            return (prev.kind != TOTAL and _group_key(prev) == key
                    and not (prev.amount is not None and _label_only(prev)))

        def below(nxt: LineItem) -> bool:
            return nxt.kind != TOTAL and _group_key(nxt) == key and not _label_only(nxt)

        for step, belongs, flag in ((-1, above, FLAG_TOTAL_SUM_ABOVE), (1, below, FLAG_TOTAL_SUM_BELOW)):
            total, count, _ = _sum_run(lines, i + step, step, belongs)
            if count >= 2 and total == target:
                line.kind = TOTAL
                line.flags.append(flag)
                break


def _mark_headings(lines: list[LineItem]) -> None:
    """Mark heading rows that carry their lines' total: a row with no 用途別科目 (a 案別 or 計畫 heading,
    whatever its description says) whose amount equals the sum of the lines right below it that do have
    one, up to the next row without a 用途別科目 or a change of 工作計畫/分支計畫. One line is enough here:
    in a budget book every real line sits under an account, so only a heading lacks one.
    The lines it covers keep the heading's text as their ``context`` (their own 說明 is often only
    本年度所需施工費). Called only for sheets with an account column.
    """
    n = len(lines)
    for i, line in enumerate(lines):
        if line.kind != LINE or not line.amount or line.account or line.account_code:
            continue
        key = _group_key(line)

        def under(nxt: LineItem) -> bool:
            return nxt.kind != TOTAL and bool(nxt.account or nxt.account_code) and _group_key(nxt) == key

        target = _in_yuan(line)
        total, count, j = _sum_run(lines, i + 1, 1, under, stop_at=target)
        if count >= 1 and total == target and (j + 1 >= n or not under(lines[j + 1])):
            line.kind = TOTAL
            line.flags.append(FLAG_TOTAL_SUM_BELOW)
            for covered in lines[i + 1:j + 1]:
                covered.context = line.description


def _check_totals(lines: list[LineItem], report: _RowProblems, amount_title: str) -> None:
    """Check each labelled total against the sums it could mean; flag and warn when it equals none.

    A total may cover the lines since the previous total row, all lines so far in its 工作計畫/分支計畫
    (or the whole sheet), or the subtotal rows since the previous grand total.
    """
    if not any(FLAG_TOTAL_LABEL in line.flags for line in lines if line.kind == TOTAL):
        return
    since_total = Decimal(0)
    by_group: dict[tuple[str, str], Decimal] = {}
    all_lines = Decimal(0)
    subtotals = Decimal(0)
    unreliable = False
    for line in lines:
        value = _in_yuan(line)
        if line.kind == LINE:
            if value is None:
                if FLAG_AMOUNT_UNREADABLE in line.flags or FLAG_FORMULA_NO_VALUE in line.flags:
                    unreliable = True
                continue
            since_total += value
            all_lines += value
            key = _group_key(line)
            by_group[key] = by_group.get(key, Decimal(0)) + value
            continue
        if FLAG_TOTAL_LABEL in line.flags and value is not None and not unreliable:
            options = {since_total, all_lines, subtotals, by_group.get(_group_key(line), Decimal(0))}
            if value not in options:
                line.flags.append(FLAG_TOTAL_MISMATCH)
                report.add("total-mismatch",
                           f"小計列金額 {format_thousands(line.amount)}{line.unit} 與上方明細合計 "
                           f"{format_thousands(convert(since_total, '元', line.unit))}{line.unit} 不符；請確認是否漏列或重複。",
                           "a total row does not equal the sum of the lines above it", WARNING, line.row or 0,
                           amount_title)
        if value is not None:
            subtotals = Decimal(0) if _is_grand(line) else subtotals + value
        since_total = Decimal(0)
        unreliable = False


def _is_grand(line: LineItem) -> bool:
    texts = [line.description, line.account, line.plan] + [c for c in line.cells if type(c) is str]
    return any(("總計" in fold(t) or "合計" in fold(t)) and is_total_label(t) for t in texts if t)
