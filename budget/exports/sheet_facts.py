"""Cell facts calamine does not give, read from the .xlsx/.ods XML: sheet parts and states, hidden rows,
formulas and their cached values, merges, and the number formats of codes stored as numbers.

Large parts are scanned with byte-level regular expressions (no XML tree is built: a 100k-row
sheet costs about 0.1 s); small parts (workbook, relationships, styles) are parsed with defusedxml.
Rows and columns here are 1-based, as Excel shows them.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from ..limits import SHEET_COLUMNS, SHEET_ROWS
from .sheet_worker import row_pieces
from .spans import RowRuns

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_CELL_REF = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?(\d{1,7})["']""")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v\s*>([^<]*)<")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")
_STYLE = re.compile(rb"""\ss\s*=\s*["'](\d+)["']""")


@dataclass
class FormulaCell:
    """A formula cell: whether it carries a cached value, and that value's text."""

    has_value: bool
    value: str = ""


@dataclass
class SheetFacts:
    """What the XML says about one sheet beyond its values."""

    name: str
    state: str = "visible"  # visible | hidden | veryhidden
    part: str = ""
    hidden_rows: RowRuns = field(default_factory=RowRuns)  # 1-based row numbers, kept as runs
    formulas: dict[tuple[int, int], FormulaCell] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 1-based r0, c0, r1, c1
    merges_known: bool = False
    escapes: bool = False  # the XML holds _xHHHH_ escapes or character references (maybe control characters)
    #: the first cell whose shared-string index points outside the shared strings: (row, col, index text)
    bad_shared: tuple[int, int, str] | None = None


# Searches that start with a literal run at memchr speed (~0.05 s per 100 MB); an alternation or a
# leading optional group would make the regex engine try every position (ten times slower).
_ESCAPE_X = re.compile(rb"_x00")
_CHAR_REF = re.compile(rb"&#")
_HIDDEN_ATTR = re.compile(rb"""hidden\s*=\s*["'](?:1|true)["']""")
_F_PLAIN = re.compile(rb"<f[\s>/]")
_F_PREFIXED = re.compile(rb":f[\s>/]")
_TAG_NAME = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)")


def _has_escapes(data: bytes) -> bool:
    return bool(_ESCAPE_X.search(data) or _CHAR_REF.search(data))


def _enclosing_tag(data: bytes, p: int) -> tuple[int, bytes]:
    """Start and local name of the tag that contains position ``p``."""
    start = data.rfind(b"<", 0, p)
    m = _TAG_NAME.match(data, start) if start >= 0 else None
    return start, (m.group(1) if m else b"")


def xlsx_shared_strings_escape(zf: zipfile.ZipFile) -> bool:
    """True when the shared strings may hold control characters (escaped as ``_x0007_`` or ``&#7;``)."""
    for info in zf.infolist():
        if info.filename.lower().endswith("sharedstrings.xml"):
            if _has_escapes(zf.read(info)):
                return True
    return False


def column_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(number: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    out = ""
    while number > 0:
        number, rem = divmod(number - 1, 26)
        out = chr(65 + rem) + out
    return out


def _parse_xml(data: bytes):
    from defusedxml.ElementTree import fromstring

    return fromstring(data, forbid_dtd=True)


# --- .xlsx ----------------------------------------------------------------------------------------

def xlsx_sheets(zf: zipfile.ZipFile) -> list[SheetFacts]:
    """Every sheet of the workbook in order, with its state and the zip part holding its cells."""
    names = {n.lower(): n for n in zf.namelist()}
    wb_part = "xl/workbook.xml"
    if "_rels/.rels" in names:
        rels = _parse_xml(zf.read(names["_rels/.rels"]))
        for rel in rels.iter(_NS_PKG_REL + "Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                wb_part = rel.get("Target", wb_part).lstrip("/")
    wb_real = names.get(wb_part.lower(), wb_part)
    wb = _parse_xml(zf.read(wb_real))
    rels_part = posixpath.join(posixpath.dirname(wb_real), "_rels", posixpath.basename(wb_real) + ".rels")
    targets: dict[str, str] = {}
    if rels_part.lower() in names:
        for rel in _parse_xml(zf.read(names[rels_part.lower()])).iter(_NS_PKG_REL + "Relationship"):
            target = rel.get("Target", "")
            if target.startswith("/"):
                full = target.lstrip("/")
            else:
                full = posixpath.normpath(posixpath.join(posixpath.dirname(wb_real), target))
            targets[rel.get("Id", "")] = names.get(full.lower(), full)
    sheets = []
    for el in wb.iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            rid = el.get(_NS_REL + "id", "")
            state = (el.get("state") or "visible").lower()
            sheets.append(SheetFacts(name=el.get("name", ""), state=state, part=targets.get(rid, "")))
    return sheets


_SHARED_ITEM = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")
_SHARED_ITEM = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")


def xlsx_shared_count(zf: zipfile.ZipFile) -> int:
    """How many shared strings the workbook really holds (its ``<si>`` items, not the count it declares)."""
    for info in zf.infolist():
        if info.filename.lower().endswith("sharedstrings.xml"):
            return len(_SHARED_ITEM.findall(zf.read(info)))
    return 0


def _numbers_below(count: int) -> bytes:
    """A regex matching exactly the decimal numbers 0 … count-1 (leading zeros allowed)."""
    if count <= 0:
        return rb"(?!)"
    top = str(count - 1)
    parts = [rb"\d{1,%d}" % (len(top) - 1)] if len(top) > 1 else []
    for i, digit in enumerate(top):
        low = 1 if i == 0 and len(top) > 1 else 0
        if int(digit) > low:
            rest = len(top) - i - 1
            parts.append(top[:i].encode() + b"[%d-%d]" % (low, int(digit) - 1) + (rb"\d{%d}" % rest if rest else b""))
    parts.append(top.encode())
    return rb"0*(?:" + b"|".join(parts) + rb")"


def _bad_shared_index(data: bytes, count: int) -> tuple[int, int, str] | None:
    """The first cell (row, col, index) whose shared-string index is not 0 … count-1, else None.

    calamine reads an index past the end as an error and a negative one from the end of the list
    (a title where a description should be): the file is refused instead, naming the cell. The
    regex matches only bad indexes and starts with a literal, so a sheet is checked at C speed.
    """
    good = _numbers_below(count)
    for quote in (b'"', b"'"):
        pattern = re.compile(rb"t=" + quote + rb"s" + quote + rb"[^>]*>\s*<(?:[\w.-]+:)?v\s*>\s*(?!"
                             + good + rb"\s*<)([^<]*)<")
        m = pattern.search(data)
        if m is None:
            continue
        index = m.group(1).strip().decode("ascii", "replace")[:20]
        start = max(data.rfind(b"<c", 0, m.start()), data.rfind(b":c", 0, m.start()))
        ref = _CELL_REF.search(data, start, m.start() + 1) if start >= 0 else None
        if ref is None:
            return (0, 0, index)
        return (int(ref.group(2)), column_number(ref.group(1).decode("ascii")), index)
    return None


#: Bytes of a sheet's XML scanned at a time (a 1M-row export holds ~500 MB of it; read whole, it was the
#: largest thing in memory while reading).
SCAN_PIECE = 4 << 20


def scan_xlsx_sheet(zf: zipfile.ZipFile, facts: SheetFacts, shared_count: int | None = None) -> SheetFacts:
    """Fill ``facts`` with the sheet's hidden rows, formula cells and merged ranges; with ``shared_count``,
    also the first cell whose shared-string index is out of range (``facts.bad_shared``).

    The XML is scanned in pieces of whole rows (:func:`~budget.exports.sheet_worker.row_pieces`); every
    search below looks within
    a row, or after the last one (``<mergeCells>``).
    """
    if not facts.part:
        return facts
    facts.merges_known = True
    for data in row_pieces(zf, facts.part, SCAN_PIECE):
        _scan_piece(data, facts, shared_count)
    return facts


def _scan_piece(data: bytes, facts: SheetFacts, shared_count: int | None) -> None:
    """The facts of one piece of whole rows (see :func:`scan_xlsx_sheet`)."""
    facts.escapes = facts.escapes or _has_escapes(data)
    if shared_count is not None and facts.bad_shared is None:
        facts.bad_shared = _bad_shared_index(data, shared_count)
    for m in _HIDDEN_ATTR.finditer(data):
        start, name = _enclosing_tag(data, m.start())
        if name == b"row":
            num = _ROW_NUMBER.search(data, start, data.find(b">", start))
            if num:
                facts.hidden_rows.add(int(num.group(1)), int(num.group(1)))
    hits = [m.start() for m in _F_PLAIN.finditer(data)]
    if _F_PREFIXED.search(data):  # a writer that prefixes the namespace: <x:f>
        hits += [m.start() for m in _F_PREFIXED.finditer(data) if _enclosing_tag(data, m.start() + 1)[1] == b"f"]
    if hits:
        _scan_formulas(data, sorted(hits), facts.formulas)
    tail = _merge_cells_start(data)
    if tail >= 0:
        for m in re.finditer(rb"""ref\s*=\s*["']\$?([A-Za-z]{1,3})\$?(\d+):\$?([A-Za-z]{1,3})\$?(\d+)["']""",
                             data[tail:]):
            facts.merges.append((int(m.group(2)), column_number(m.group(1).decode()),
                                 int(m.group(4)), column_number(m.group(3).decode())))


def _merge_cells_start(data: bytes) -> int:
    """Where the ``<mergeCells>`` (or ``<x:mergeCells>``) start tag is in ``data``, or -1."""
    p = len(data)
    while (p := data.rfind(b"mergeCells", 0, p)) >= 0:
        start, name = _enclosing_tag(data, p)
        if name == b"mergeCells" and data[start + 1:start + 2] != b"/":
            return start
    return -1


def _scan_formulas(data: bytes, hits: list[int], formulas: dict[tuple[int, int], FormulaCell]) -> None:
    """The cell around each ``<f>`` at ``hits`` (sorted): its reference and cached value.

    Each backward search for the cell's start stops at the previous formula (cells do not nest, so
    the enclosing cell starts after it): the scan is linear in the sheet's size, whatever the
    number of formulas (unbounded searches made 50,000 formulas cost minutes).
    """
    floor = 0
    close = -1
    for p in hits:
        start = max(data.rfind(b"<c ", floor, p), data.rfind(b":c ", floor, p), data.rfind(b"<c\t", floor, p),
                    data.rfind(b"<c\n", floor, p), data.rfind(b"<c\r", floor, p))
        floor = p
        if start < 0:
            continue
        tag_end = data.find(b">", start, p + 1)
        if tag_end < 0:
            continue
        ref = _CELL_REF.search(data, start, tag_end + 1)
        if not ref:
            continue
        if close < p:
            close = data.find(b"c>", p)
            if close < 0:  # a cut or malformed part: no cell closes after here, so no later search either
                close = len(data) + 1
        value = _VALUE.search(data, tag_end, min(close, len(data)))
        key = (int(ref.group(2)), column_number(ref.group(1).decode("ascii")))
        text = value.group(1).decode("utf-8", "replace").strip() if value else ""
        formulas[key] = FormulaCell(bool(text), text)


def _zero_pad_formats(zf: zipfile.ZipFile) -> dict[int, int]:
    """Style index → digits of a zero-padded number format such as ``0000`` (only those styles)."""
    names = {n.lower(): n for n in zf.namelist()}
    if "xl/styles.xml" not in names:
        return {}
    root = _parse_xml(zf.read(names["xl/styles.xml"]))
    formats: dict[int, str] = {}
    for el in root.iter(_NS_MAIN + "numFmt"):
        try:
            formats[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
        except ValueError:
            continue
    pads: dict[int, int] = {}
    xfs = root.find(_NS_MAIN + "cellXfs")
    if xfs is None:
        return pads
    for index, xf in enumerate(xfs.findall(_NS_MAIN + "xf")):
        code = formats.get(int(xf.get("numFmtId", "0") or 0), "")
        code = code.replace('"', "").replace("\\", "")
        if re.fullmatch(r"0{2,}", code):
            pads[index] = len(code)
    return pads


def xlsx_code_widths(zf: zipfile.ZipFile, part: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """For numeric code cells (row, col), the zero-padded width their number format shows (``0000`` → 4).

    Only cells whose format is all zeros are returned; called only when a code column holds numbers.
    """
    pads = _zero_pad_formats(zf)
    if not pads or not cells:
        return {}
    wanted_cols = {c for _, c in cells}
    letters = b"|".join(column_letters(c).encode() for c in sorted(wanted_cols))
    cell_re = re.compile(rb"<(?:[\w.-]+:)?c\s[^>]*?\br\s*=\s*[\"'](" + letters + rb")(\d+)[\"'][^>]*>")
    out: dict[tuple[int, int], int] = {}
    for data in row_pieces(zf, part, SCAN_PIECE):
        for m in cell_re.finditer(data):
            key = (int(m.group(2)), column_number(m.group(1).decode()))
            if key not in cells:
                continue
            style = _STYLE.search(m.group(0))
            if style and int(style.group(1)) in pads:
                out[key] = pads[int(style.group(1))]
    return out


# --- .ods -----------------------------------------------------------------------------------------

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_MARKERS = (b"table:formula", b"table:visibility", b"number-columns-spanned", b"number-rows-spanned")


def _count(el, attr: str) -> int:
    """A repeat or span count of an .ods element: at least 1 (a bad number raises ValueError: damaged file)."""
    return max(1, int(el.get(_T + attr, "1") or 1))


#: A row holding data may be repeated at most this many times; more is not an export (a 1 KB file of a million rows).
MAX_DATA_ROW_REPEAT = 1000
_BIG_ROW_REPEAT = re.compile(rb"""number-rows-repeated\s*=\s*["'](\d{4,})["']""")


def ods_repeated_data_row(zf: zipfile.ZipFile) -> tuple[str, int, int] | None:
    """(sheet, first row, times) of a row holding data that the .ods repeats more than
    :data:`MAX_DATA_ROW_REPEAT` times, else None. Empty repeated rows (LibreOffice pads every sheet
    with them) cost one regex search; the XML is parsed only to locate an offending row.
    """
    names = {n.lower(): n for n in zf.namelist()}
    data = zf.read(names["content.xml"])
    suspect = False
    for m in _BIG_ROW_REPEAT.finditer(data):
        if int(m.group(1)) <= MAX_DATA_ROW_REPEAT:
            continue
        end = data.find(b"table-row>", m.end())
        body = data[m.end():end if end > 0 else len(data)]
        if b"office:value" in body or b"<text:" in body:
            suspect = True
            break
    if not suspect:
        return None
    return _locate_repeated_data_row(data)


def _locate_repeated_data_row(data: bytes) -> tuple[str, int, int] | None:
    import io

    from defusedxml.ElementTree import iterparse

    sheet, row, repeat = "", 0, 1
    for event, el in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if el.tag == _T + "table":
                sheet, row = el.get(_T + "name", ""), 0
            elif el.tag == _T + "table-row":
                row += 1
                repeat = _count(el, "number-rows-repeated")
            continue
        if el.tag == _T + "table-row":
            has_data = any(c.get(_O + "value-type") is not None or len(c) for c in el)
            if repeat > MAX_DATA_ROW_REPEAT and has_data:
                return sheet, row, repeat
            row += repeat - 1
            el.clear()
    return None


def scan_ods(zf: zipfile.ZipFile, wanted: set[str] | None = None) -> dict[str, SheetFacts]:
    """Hidden rows, formula cells and merges of each table in an .ods file.

    The XML is only parsed (with defusedxml, streaming) when content.xml contains one of those
    features at all; a plain export costs one substring search.
    """
    from defusedxml.ElementTree import iterparse

    names = {n.lower(): n for n in zf.namelist()}
    out: dict[str, SheetFacts] = {}
    with zf.open(names["content.xml"]) as fh:
        head = fh.read()
    if not any(marker in head for marker in _ODS_MARKERS):
        return out
    import io

    facts: SheetFacts | None = None
    row = col = 0
    row_repeat = 1
    depth_skip = 0
    for event, el in iterparse(io.BytesIO(head), events=("start", "end"), forbid_dtd=True):
        tag = el.tag
        if event == "start":
            if tag == _T + "table":
                name = el.get(_T + "name", "")
                facts = SheetFacts(name=name, merges_known=True)
                out[name] = facts
                row = 0
            elif facts is None:
                continue
            elif tag == _T + "table-row":
                row += 1
                col = 0
                row_repeat = _count(el, "number-rows-repeated")
                if el.get(_T + "visibility", "visible") in ("collapse", "filter"):
                    facts.hidden_rows.add(row, row + min(row_repeat, SHEET_ROWS) - 1)  # a run, not each row
            elif tag in (_T + "table-cell", _T + "covered-table-cell"):
                col += 1
                if depth_skip:
                    continue
                formula = el.get(_T + "formula")
                if formula is not None and tag == _T + "table-cell":
                    vtype = el.get(_O + "value-type")
                    value = el.get(_O + "value") or el.get(_O + "string-value") or ""
                    facts.formulas[(row, col)] = FormulaCell(vtype is not None, value)
                cs = _count(el, "number-columns-spanned")
                rs = _count(el, "number-rows-spanned")
                if (cs > 1 or rs > 1) and tag == _T + "table-cell":  # kept as a range, clipped to a sheet
                    facts.merges.append((row, col, min(row + rs - 1, SHEET_ROWS), min(col + cs - 1, SHEET_COLUMNS)))
        else:
            if tag in (_T + "table-cell", _T + "covered-table-cell") and facts is not None:
                col += _count(el, "number-columns-repeated") - 1
                el.clear()
            elif tag == _T + "table-row" and facts is not None:
                row += row_repeat - 1
                el.clear()
            elif tag == _T + "table":
                facts = None
                el.clear()
    return out
