"""Reading chosen columns of an annotated workbook's sheet straight from its .xlsx package: the fast path of
the guarded reader's child (:mod:`budget.exports.sheet_worker`) when the read-back asks for 明細.

calamine parses every cell of a sheet. 明細 has about fourteen cells a row, two of them ~300-character
formulas, and the read-back needs nine of its columns. This reader streams the sheet's XML from the zip in
pieces and finds the cells of the wanted columns with one regular expression, skipping the others unparsed,
and gives each cell the value calamine gives it (tests/test_xlsx_scan.py compares them): inline and shared
strings (rich text runs too), ``t="str"`` formula values, booleans, numbers, errors (blank), XML character
references and ``_xHHHH_`` escapes. It finds the formulas without a calculated value in the same pass.

It reads the forms our writer, Excel, LibreOffice and openpyxl write, and nothing else. A cell without its
reference or with other attributes, a namespace prefix or declaration among the cells, a comment, CDATA,
DTD or processing instruction, text whose surrounding spaces calamine would trim, a number in a date format,
a shared string that is not there, a row that does not end… raise :class:`Unreadable`, and the child reads
the sheet with calamine instead (which then reports what is wrong with it, if anything).

Sizes stay bounded as in the guarded reader: :func:`budget.exports.sniff.sniff` has refused any part that
declares more than 1 GiB or compresses suspiciously well, zipfile inflates no part past its declared size,
sheets are streamed in pieces of :data:`PIECE` bytes, and the shared strings (held in memory) are read only up
to :data:`MAX_SHARED_BYTES`. Standard library and defusedxml only: the child loads this file alone.
"""

from __future__ import annotations

import operator
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator

#: Bytes inflated at a time.
PIECE = 4 << 20
#: Most bytes of a part before its data (``<sheetData>``), and of one row or shared string.
MAX_HEAD = MAX_ITEM = 16 << 20
#: Largest shared-strings part read here; a larger one is left to the guarded reader. Excel and LibreOffice
#: move every text into this part when they save (LibreOffice as rich text, a run per change of script:
#: 98 MB for 20,000 lines), which calamine parses faster than this module (20,000 lines saved by LibreOffice:
#: 2.0 s for these strings here, 2.1 s for the whole workbook in the guarded reader's child).
MAX_SHARED_BYTES = 16 << 20
#: Most rows read from one sheet (an .xlsx worksheet's own limit).
MAX_ROWS = 1_048_576

_MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ABSENT = object()  # a cell calamine does not see: no value (a formula never calculated, an empty number)
_SLOW = object()  # a cell :meth:`ScannedBook._quick_value` leaves to :meth:`ScannedBook._value`


class Unreadable(Exception):
    """The package holds something this reader does not read: read the workbook with the guarded reader."""


@dataclass
class ScannedSheet:
    """A sheet's rows as the guarded reader gives them: row i is row i+1, blanks None, trailing blanks cut."""

    rows: list[list[Any]]
    #: The sheet columns (0-based) of each row's cells, when only some were asked for; None: every column.
    columns: list[int] | None = None
    #: (row, column), 1-based, of cells in the columns asked for by ``formulas`` holding a formula without a
    #: calculated value (read as blank).
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)


# --- cells -----------------------------------------------------------------------------------------

#: A cell: reference, style and type in this order, then an optional formula, value and inline string.
_CELL_BODY = (rb'"(?: s="([0-9]{1,9})")?(?: t="([a-zA-Z]{1,12})")?'
              rb'(?: ?/>|>(<f(?:\s[^>]*)?(?:/>|>[^<]*</f>))?(?:<v>([^<]*)</v>|<v ?/>)?'
              rb'(?:<is>(?:<t>([^<]*)</t>|<t xml:space="preserve">([^<]*)</t>|((?:<(?!/is>)[^>]*>|[^<]+)*+))</is>)?'
              rb'</c>)')


def _cell_pattern(letters: str) -> re.Pattern[bytes]:
    """The cells of the columns ``letters`` (a regex alternative: group 1 the letters, 2 the row, … 9 a rich
    inline string). A cell of those columns in another form, and any cell element without a reference,
    match with group 2 None (and are :class:`Unreadable`); the other columns' cells do not match."""
    return re.compile(rb'<c(?: r="(' + letters.encode() + rb')([1-9][0-9]{0,6})' + _CELL_BODY +
                      rb'| r="(?:' + letters.encode() + rb')[0-9]|(?! r="[A-Z]{1,3}[0-9])[\s>/])')


_ANY_CELL = _cell_pattern("[A-Z]{1,3}")
#: A row's start tag (group 1 its number; None for a row without one).
_ROW = re.compile(rb'<row(?: r="([1-9][0-9]{0,6})"[^>]*>|[\s>/])')
_NUMBER = re.compile(rb"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
#: Rich text: runs (with their fonts) and plain text, once the phonetic runs are removed.
_RUNS = re.compile(rb'(?:<r>(?:<rPr>(?:<[a-zA-Z]+(?: [a-zA-Z]+="[^"<]*")*/>)*+</rPr>|<rPr/>)?'
                   rb'(?:<t>[^<]*</t>|<t xml:space="preserve">[^<]*</t>|<t/>)</r>'
                   rb'|<t>[^<]*</t>|<t xml:space="preserve">[^<]*</t>|<t/>)*+')
_RUN_TEXT = re.compile(rb'<t>([^<]*)</t>|<t xml:space="preserve">([^<]*)</t>')
_PHONETIC = re.compile(rb'<rPh [^>]*>(?:<t>[^<]*</t>|<t xml:space="preserve">[^<]*</t>)</rPh>|<phoneticPr [^>]*/>')
_SHARED = re.compile(rb'<si>(?:<t>([^<]*)</t>|<t xml:space="preserve">([^<]*)</t>|((?:<(?!/si>)[^>]*>|[^<]+)*+))'
                     rb'</si>|<si/>|(<si)')
#: A shared string's text element, or its end (one literal ``<`` first: the regex engine then skips to each ``<``).
_SHARED_TOKEN = re.compile(rb'<(?:(t>|t xml:space="preserve">)([^<]*)</t>|(/si>|si/>))')
_CHAR_REF = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ESCAPE = re.compile(r"_x([0-9a-fA-F]{4})_")
_TRIMMED = " \t\n\r"
#: Text calamine would trim, among inline strings joined with NULs (see :func:`_trimmed`).
_EDGES = tuple(a + b for w in b" \t\n\r" for a, b in ((b"\x00", bytes([w])), (bytes([w]), b"\x00")))


def _trimmed(joined: bytes) -> bool:
    """Do texts joined with NULs hold one that starts or ends with white space calamine trims?"""
    return joined[:1] in b" \t\n\r" and joined[:1] != b"" or joined[-1:] in b" \t\n\r" and joined[-1:] != b"" or any(
        edge in joined for edge in _EDGES)


def _letters(column: int) -> bytes:
    """0 → ``A``, 26 → ``AA``."""
    out = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out.encode("ascii")


def _column(letters: bytes) -> int:
    """``A`` → 0."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _char(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise Unreadable(f"character reference {match.group(0)}")


def _escape(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    if 0xD800 <= code <= 0xDFFF:  # calamine leaves a lone surrogate escaped
        raise Unreadable("a surrogate _xHHHH_ escape")
    return chr(code)


def _text(raw: bytes, trim: bool) -> str:
    """The text of a ``<t>`` or ``<v>`` element. ``trim``: an element without ``xml:space="preserve"``, whose
    surrounding white space calamine drops (such text is left to it)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("text that is not UTF-8") from None
    if b"&" not in raw and b"_x" not in raw and b"\r" not in raw:  # most text: as it is
        if trim and text and (text[0] in _TRIMMED or text[-1] in _TRIMMED):
            raise Unreadable("text calamine would trim")
        return text
    if b"\r" in raw:  # XML turns a raw CR into LF; calamine too, but not a &#13; (rare: left to it)
        raise Unreadable("a raw carriage return")
    if "&" in text:
        count = text.count("&")
        named = (text.count("&lt;") + text.count("&gt;") + text.count("&quot;") + text.count("&apos;") +
                 text.count("&amp;"))
        if named == count:  # the usual: no character references (&amp; last, so &amp;lt; stays &lt;)
            text = (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
                    .replace("&amp;", "&"))
        elif len(_CHAR_REF.findall(text)) == count:
            text = _CHAR_REF.sub(_char, text)
        else:
            raise Unreadable("a stray & in text")
        if "_x" in text:  # which of the two escapes calamine undoes first is not worth knowing
            raise Unreadable("character references and _xHHHH_ escapes together")
    if "_x" in text:
        text = _ESCAPE.sub(_escape, text)
    if trim and text and (text[0] in _TRIMMED or text[-1] in _TRIMMED):
        raise Unreadable("text calamine would trim")
    return text


def _rich(inner: bytes) -> str:
    """The text of rich text (``<r>`` runs, their fonts ignored; phonetic runs skipped)."""
    if b"<rPh" in inner or b"<phoneticPr" in inner:
        inner = _PHONETIC.sub(b"", inner)
    if _RUNS.fullmatch(inner) is None:
        raise Unreadable("rich text in an unknown form")
    parts = _RUN_TEXT.findall(inner)
    if all(plain == b"" for plain, _ in parts):  # LibreOffice: every run preserved
        joined = b"".join(preserved for _, preserved in parts)
        if len(parts) > 1 and b"_x" in joined:  # an escape across two runs: which way calamine reads it is moot
            raise Unreadable("an _xHHHH_ escape in rich text")
        return _text(joined, False)
    return "".join(_text(plain, True) if plain else _text(preserved, False) for plain, preserved in parts)


# --- the package -----------------------------------------------------------------------------------

class ScannedBook:
    """An .xlsx package opened for :meth:`sheet`; raises :class:`Unreadable` when its parts are not where
    and what this reader expects. Use as a context manager (closes the zip)."""

    def __init__(self, path: str | Path) -> None:
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise Unreadable(f"not a zip: {exc}") from None
        try:
            self._parts()
        except Unreadable:
            self.zf.close()
            raise
        except Exception as exc:  # a damaged package: the guarded reader says so
            self.zf.close()
            raise Unreadable(f"{type(exc).__name__}: {exc}") from None
        self._shared: list[str] | None = None
        self._number_styles: list[bool] | None = None

    def __enter__(self) -> "ScannedBook":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.zf.close()

    def _parts(self) -> None:
        """The sheets' parts by name, and the shared strings' and styles' parts, from the relationships."""
        from defusedxml.ElementTree import fromstring

        names = {n.lower(): n for n in self.zf.namelist()}
        book = "xl/workbook.xml"
        if "_rels/.rels" in names:
            for rel in fromstring(self.zf.read(names["_rels/.rels"]), forbid_dtd=True).iter(_PKG_REL + "Relationship"):
                if rel.get("Type", "").endswith("/officeDocument"):
                    book = rel.get("Target", book).lstrip("/")
        book = names.get(book.lower(), book)
        rels_name = posixpath.join(posixpath.dirname(book), "_rels", posixpath.basename(book) + ".rels")
        targets: dict[str, str] = {}
        self.shared_part = self.styles_part = None
        for rel in fromstring(self.zf.read(names[rels_name.lower()]), forbid_dtd=True).iter(_PKG_REL + "Relationship"):
            target = rel.get("Target", "")
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(posixpath.dirname(book), target))
            full = names.get(full.lower(), full)
            targets[rel.get("Id", "")] = full
            kind = rel.get("Type", "")
            if kind.endswith("/sharedStrings"):
                self.shared_part = full
            elif kind.endswith("/styles"):
                self.styles_part = full
        self.sheet_parts: dict[str, str] = {}
        for el in fromstring(self.zf.read(book), forbid_dtd=True).iter():
            if el.tag.endswith("}sheet") or el.tag == "sheet":
                self.sheet_parts[el.get("name", "")] = targets.get(el.get(_DOC_REL + "id", ""), "")

    def _info(self, part: str) -> zipfile.ZipInfo:
        try:
            return self.zf.getinfo(part)
        except KeyError:
            raise Unreadable(f"no part {part}") from None

    # --- what the cells refer to ---------------------------------------------------------------

    def shared(self) -> list[str]:
        """The shared strings (read once, when a cell first refers to one)."""
        if self._shared is None:
            if self.shared_part is None:
                raise Unreadable("a shared string in a workbook without them")
            info = self._info(self.shared_part)
            if info.file_size > MAX_SHARED_BYTES:
                raise Unreadable("shared strings too large to read here fast")
            strings: list[str] = []
            for piece in _pieces(self.zf, info, b"sst", b"", b"</sst>", b"</si>"):
                _shared_strings(piece, strings)
            self._shared = strings
        return self._shared

    def number_styles(self) -> list[bool]:
        """For each cell style (``s``), whether a number in it is a plain number to calamine (not a date)."""
        if self._number_styles is None:
            self._number_styles = _number_styles(self.zf.read(self._info(self.styles_part).filename)
                                                 if self.styles_part else None)
        return self._number_styles

    # --- a sheet ---------------------------------------------------------------------------------

    def sheet(self, name: str, titles: list[str] | Callable[[list[Any]], list[str]] | None = None,
              formulas: list[str] = (), *, max_rows: int = MAX_ROWS,
              matches: Callable[[Any, list[str]], bool] | None = None) -> ScannedSheet:
        """The rows of sheet ``name``: every column, or (``titles``) only the columns whose row-1 title is one
        of ``titles`` as the guarded reader matches them (row 1 then holds those titles; ``titles`` may also be
        a function of row 1's values giving them). ``formulas``: titles of columns (among those read) whose
        formula cells without a calculated value are reported. ``matches``: whether a row-1 value is one of
        some titles (:func:`budget.exports.sheet_worker._header_matches`, which the child passes)."""
        if matches is None:
            from .sheet_worker import _header_matches as matches

        part = self.sheet_parts.get(name)
        if not part:
            raise Unreadable(f"no sheet {name}")
        rows: list[list[Any]] = []
        no_value: set[tuple[int, int]] = set()
        kept: list[int] | None = None
        slots: dict[bytes, int] = {}  # column letters → position in a row (titles) or column (every column)
        report: set[bytes] = set()  # column letters whose formulas without a value are reported
        pattern = _ANY_CELL if titles is None else None
        previous = last_row = 0  # the last cell (row * 16384 + column) and row seen: each comes after the one before
        last_piece, last_cell = b"", -1
        value_of, quick = self._value, self._quick_value
        plain_styles: set[bytes] | None = None
        for piece in _pieces(self.zf, self._info(part), b"worksheet", b"<sheetData>", b"</sheetData>", b"</row>",
                             empty=b"<sheetData/>"):
            try:
                row_numbers = [int(n) for n in _ROW.findall(piece)]
            except ValueError:  # b"": a row without its number
                raise Unreadable("a row without its number") from None
            if row_numbers and (row_numbers[0] <= last_row or
                                any(a >= b for a, b in zip(row_numbers, row_numbers[1:]))):
                raise Unreadable("rows out of order or repeated")
            last_row = row_numbers[-1] if row_numbers else last_row
            start = 0
            if pattern is None:  # the first piece: row 1's titles decide which columns are read
                header, start = self._header(piece)
                chosen = titles(header) if callable(titles) else titles
                kept = [i for i, v in enumerate(header) if matches(v, chosen)]
                slots = {_letters(i): k for k, i in enumerate(kept)}
                report = {_letters(i) for i in kept if matches(header[i], list(formulas))}
                rows.append([header[i] for i in kept])
                pattern = _cell_pattern("|".join(sorted((b.decode() for b in slots), key=len, reverse=True))
                                        or "(?!)")
                previous = 2 * 16384 - 1
            width = len(kept) if kept is not None else 0
            at = piece.rfind(b'<c r="')
            if at >= 0:
                last_piece, last_cell = piece, at
            found = pattern.findall(piece, start)
            if not found:
                continue
            letters, digits, styles, kinds, formulas_, values, plains = list(zip(*found))[:7]
            if b"" in digits:  # (findall gives b"" for a group that took no part: another alternative matched)
                raise Unreadable("a cell in an unknown form")
            numbers = list(map(int, digits))
            cols = [slots[k] if k in slots else slots.setdefault(k, _column(k)) for k in letters]
            keys = [n * 16384 + c for n, c in zip(numbers, cols)]
            if keys[0] <= previous or not all(map(operator.lt, keys, islice(keys, 1, None))):
                raise Unreadable("cells out of order or repeated")
            previous = keys[-1]
            if numbers[-1] > max_rows:
                raise Unreadable("more rows than the limit")
            if report and any(formulas_):
                no_value.update((n, _column(k) + 1) for n, k, f, v in zip(numbers, letters, formulas_, values)
                                if f and k in report and not v.strip())
            joined = b"\x00".join(plains)  # (inline strings' plain text; b"" for the other cells)
            if b"&" in joined or b"_x" in joined or b"\r" in joined or _trimmed(joined):
                cells = [quick(k, s, v, p) for k, s, v, p in zip(kinds, styles, values, plains)]
            else:  # the usual: the piece's texts decoded at once, plain numbers in a plain style read here
                try:
                    texts = joined.decode("utf-8").split("\x00")
                except UnicodeDecodeError:
                    raise Unreadable("text that is not UTF-8") from None
                if plain_styles is None:
                    plain_styles = self._plain_number_styles()
                cells = [t if t and k == b"inlineStr" else
                         int(v) if not k and v.isdigit() and len(v) < 16 and s in plain_styles else quick(k, s, v, p)
                         for t, k, s, v, p in zip(texts, kinds, styles, values, plains)]
            if _SLOW in cells:  # a form the quick reading leaves alone: each cell of this piece read as it is
                for i, g in enumerate(map(re.Match.groups, pattern.finditer(piece, start))):
                    if cells[i] is _SLOW:
                        cells[i] = value_of(g[2], g[3], g[5], g[6], g[7], g[8])
            if numbers[-1] > len(rows):
                rows.extend([[] for _ in range(numbers[-1] - len(rows))])
            for n, c, cell in zip(numbers, cols, cells):
                if cell is _ABSENT:
                    continue
                row = rows[n - 1]
                if kept is None:
                    if len(row) <= c:
                        row.extend([None] * (c + 1 - len(row)))
                elif not row:
                    row = rows[n - 1] = [None] * width
                row[c] = cell if cell != "" else None
        if pattern is None:
            raise Unreadable("a sheet without rows")  # the guarded reader reads it (or says what is wrong)
        height = self._height(last_piece, last_cell) if last_cell >= 0 else 0
        if any(rows[height:]):
            raise Unreadable("cells after the last row")
        del rows[height:]
        rows.extend([] for _ in range(height - len(rows)))
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        return ScannedSheet(rows, kept, no_value)

    def _header(self, piece: bytes) -> tuple[list[Any], int]:
        """Row 1's cells (every column, from A) and where the rows after it start in ``piece``."""
        m = _ROW.match(piece)
        if m is None or m.group(1) != b"1":
            raise Unreadable("the sheet does not start with row 1")
        end = piece.find(b"</row>", m.end())
        if end < 0:
            raise Unreadable("row 1 does not end")
        header: list[Any] = []
        for cell in _ANY_CELL.finditer(piece, m.end(), end):
            letters, digits, style, kind, formula, value, plain, preserved, rich = cell.groups()
            if digits != b"1":
                raise Unreadable("a cell of row 1 in an unknown form")
            got = self._value(style, kind, value, plain, preserved, rich)
            col = _column(letters)
            if col < len(header):
                raise Unreadable("cells out of order or repeated")
            header.extend([None] * (col + 1 - len(header)))
            header[col] = None if got is _ABSENT or got == "" else got
        return header, end

    def _height(self, piece: bytes, at: int) -> int:
        """The sheet's height as calamine counts it: the number of the last row holding a value, checked to be
        the row of the last cell (a last row of blank cells only is left to the guarded reader)."""
        start = piece.rfind(b"<row", 0, at)
        m = _ROW.match(piece, start) if start >= 0 else None
        end = piece.find(b"</row>", at)
        if m is None or m.group(1) is None or end < 0:
            raise Unreadable("the last row in an unknown form")
        number = int(m.group(1))
        present = False
        for cell in _ANY_CELL.finditer(piece, m.end(), end):
            letters, digits, style, kind, formula, value, plain, preserved, rich = cell.groups()
            if digits is None or int(digits) != number:
                raise Unreadable("a cell of the last row in an unknown form")
            present = present or self._value(style, kind, value, plain, preserved, rich) is not _ABSENT
        if not present:
            raise Unreadable("the last row holds no value")
        return number

    def _plain_number_styles(self) -> set[bytes]:
        """The ``s`` attributes (b"" for none) under which :meth:`_value` reads a number as a plain number."""
        styles = self.number_styles()
        out = {str(i).encode("ascii") for i, plain in enumerate(styles) if plain}
        if not styles or styles[0]:
            out.add(b"")
        return out

    def _quick_value(self, kind: bytes, style: bytes, value: bytes, plain: bytes) -> Any:
        """A cell's value from :func:`re.findall`'s groups (b"" for a group that took no part): what
        :meth:`_value` gives, for the forms where b"" is not ambiguous; _SLOW for the others."""
        if kind == b"inlineStr":
            return _text(plain, True) if plain else _SLOW
        if not kind or kind == b"n" or kind == b"s":
            return self._value(style or None, kind or None, value, None, None, None) if value else (
                _ABSENT if kind != b"s" else _SLOW)
        if kind == b"str" and value:
            return _text(value, False)
        return _SLOW

    def _value(self, style: bytes | None, kind: bytes | None, value: bytes | None, plain: bytes | None,
               preserved: bytes | None, rich: bytes | None) -> Any:
        """A cell's value as the guarded reader gives it (an integral number as int), "" for an empty
        string, or _ABSENT."""
        if kind is None or kind == b"n":
            if not value:
                return _ABSENT
            if _NUMBER.fullmatch(value) is None:
                raise Unreadable(f"a number in an unknown form: {value[:40]!r}")
            styles = self._number_styles
            if styles is None:
                styles = self.number_styles()
            index = int(style) if style is not None else 0
            if not (index < len(styles) and styles[index]) and (styles or index):
                raise Unreadable("a number in a date (or unknown) format")
            number = float(value)
            return int(number) if number.is_integer() else number
        if kind == b"s":
            if value is None or not value.isdigit():
                raise Unreadable("a shared string without its index")
            strings = self._shared if self._shared is not None else self.shared()
            index = int(value)
            if index >= len(strings):
                raise Unreadable("a shared string that is not there")
            return strings[index]
        if kind == b"inlineStr":
            if plain is not None:
                return _text(plain, True)
            if preserved is not None:
                return _text(preserved, False)
            if rich is not None:
                return _rich(rich)
            raise Unreadable("an inline string without its text")
        if kind == b"str":
            return _ABSENT if value is None else _text(value, False)
        if kind == b"b":
            if value == b"1" or value == b"0":
                return value == b"1"
            raise Unreadable("a boolean in an unknown form")
        if kind == b"e":
            return ""
        raise Unreadable(f"a cell of type {kind!r}")


def _shared_strings(piece: bytes, strings: list[str]) -> None:
    """Append the shared strings (``<si>`` items) of ``piece`` to ``strings``.

    An item's text is its ``<t>`` elements' (those of rich text runs too, their fonts ignored), as calamine
    reads it; the counts of ``<si`` and ``<t`` check that every item and text element was seen."""
    if b"<rPh" in piece or b"<phoneticPr" in piece:  # phonetic runs (Japanese workbooks): item by item
        for m in _SHARED.finditer(piece):
            plain, preserved, rich, stray = m.groups()
            if stray is not None:
                raise Unreadable("a shared string in an unknown form")
            strings.append(_text(plain, True) if plain is not None else _text(preserved, False)
                           if preserved is not None else _rich(rich) if rich else "")
        return
    tokens = _SHARED_TOKEN.findall(piece)
    append = strings.append
    before = len(strings)
    texts = 0
    parts: list[tuple[bytes, bytes]] = []
    for tag, text, end in tokens:
        if tag:
            parts.append((tag, text))
        elif end == b"/si>":
            texts += len(parts)
            if len(parts) == 1:
                append(_text(parts[0][1], parts[0][0] == b"t>"))
            elif not parts:
                append("")
            elif all(t != b"t>" for t, _ in parts):  # LibreOffice: runs, every one preserved
                joined = b"".join(text for _, text in parts)
                if b"_x" in joined:  # an escape across two runs: which way calamine reads it is moot
                    raise Unreadable("an _xHHHH_ escape in rich text")
                append(_text(joined, False))
            else:
                append("".join(_text(text, t == b"t>") for t, text in parts))
            parts = []
        else:  # <si/>
            append("")
    # Every item ended (none in another form), every text element was one of those read (or empty).
    if parts or piece.count(b"<si") != len(strings) - before or (
            piece.count(b"<t") != texts and piece.count(b"<t") != texts + piece.count(b"<t/>")):
        raise Unreadable("shared strings in an unknown form")


def _pieces(zf: zipfile.ZipFile, info: zipfile.ZipInfo, root: bytes, start: bytes, end: bytes, item_end: bytes,
            *, empty: bytes | None = None) -> Iterator[bytes]:
    """The XML of a part between ``start`` and ``end`` (``start`` empty: right after the root element
    ``root``'s start tag), in pieces of about :data:`PIECE` bytes each ending after an ``item_end``.

    Raises :class:`Unreadable` when the root element is not ``root`` in SpreadsheetML's namespace without a
    prefix, or the data holds comments, CDATA, a DTD, processing instructions or namespace declarations, or
    the part does not end as it should (it is read to its end, so that zipfile checks its CRC)."""
    with zf.open(info) as fh:
        buf = b""
        while True:  # the head: up to the data
            chunk = fh.read(PIECE)
            buf += chunk
            opening = _ROOT.search(buf)
            if opening is not None:
                at = buf.find(start, opening.end()) if start else opening.end()
                if at >= 0 or (empty and buf.find(empty, opening.end()) >= 0):
                    break
            if not chunk or len(buf) > MAX_HEAD:
                raise Unreadable("the part's data was not found")
        head = buf[:opening.end()]
        if opening.group(1) != root or b"<!" in head or head.count(_MAIN_NS) != 1 or \
                b'xmlns="' + _MAIN_NS + b'"' not in opening.group(0):
            raise Unreadable("the part's root element is not the expected one")
        between = buf[opening.end():at if at >= 0 else buf.find(empty, opening.end())]
        if b"<!" in between or b"<?" in between:
            raise Unreadable("a comment, DTD or processing instruction")
        if at < 0:  # <sheetData/>: no rows
            while fh.read(PIECE):
                pass
            return
        buf = buf[at + len(start):]
        while True:
            stop = buf.find(end)
            if stop >= 0:
                piece, rest = buf[:stop], buf[stop:]
            else:
                cut = buf.rfind(item_end)
                piece, rest = (buf[:cut + len(item_end)], buf[cut + len(item_end):]) if cut >= 0 else (b"", buf)
            if piece:
                # (``!`` and ``?`` are rare: memchr finds them fast, a two-byte search is slower)
                if (b"!" in piece and b"<!" in piece) or (b"?" in piece and b"<?" in piece) or b"xmlns" in piece:
                    raise Unreadable("a comment, CDATA, processing instruction or namespace among the data")
                yield piece
            if stop >= 0:
                if b"<!" in rest:
                    raise Unreadable("a comment or CDATA after the data")
                while fh.read(PIECE):  # to the end, so that zipfile checks the part's CRC
                    pass
                return
            chunk = fh.read(PIECE)
            if not chunk:
                raise Unreadable("the part ends before its data does")
            buf = rest + chunk
            if len(rest) > MAX_ITEM:
                raise Unreadable("a row or string too long")


#: The root element's start tag after the XML declaration (group 1 its name).
_ROOT = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?\s*<([a-zA-Z]+)(?:\s[^>]*)?>')

#: Number formats calamine shows as numbers (not dates or times): Excel's built-in ones.
_NUMBER_FORMATS = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 37, 38, 39, 40, 41, 42, 43, 44, 48, 49})
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _number_styles(styles: bytes | None) -> list[bool]:
    """Whether each cell style (``cellXfs``) shows a number as a number; [] when the workbook has no styles
    (every number then is a number). A format code is a number's when, without its quoted text, escapes,
    [colours] and padding, it holds none of the letters of dates and times (General excepted)."""
    if styles is None:
        return []
    from defusedxml.ElementTree import fromstring

    ns = "{" + _MAIN_NS.decode() + "}"
    root = fromstring(styles, forbid_dtd=True)
    plain: dict[int, bool] = {}
    formats = root.find(ns + "numFmts")
    for fmt in (formats if formats is not None else ()):
        code = fmt.get("formatCode", "")
        letters = _FORMAT_LITERALS.sub("", code).lower()
        plain[int(fmt.get("numFmtId", "-1"))] = code.lower() == "general" or not any(c in letters for c in "dmyhsegb")
    xfs = root.find(ns + "cellXfs")
    out = []
    for xf in (xfs if xfs is not None else ()):
        fmt_id = int(xf.get("numFmtId", "0"))
        out.append(plain[fmt_id] if fmt_id in plain else fmt_id in _NUMBER_FORMATS)
    return out
