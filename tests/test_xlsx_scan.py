"""The fast reader of an annotated workbook's own sheets (budget.exports.xlsx_scan) reads what the guarded
reader (calamine in a child process) reads, or gives up (Unreadable) and the guarded reader reads it."""

from __future__ import annotations

import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from budget.exports.sheet_worker import start_worker
from budget.outputs.layout import DATA_SHEET, DETAIL_SHEET, LOG_SHEET
from budget.outputs.readback import TITLES, _detail_titles, read_annotated, reviewed_detail_rows, start_reading
from budget.exports.xlsx_scan import ScannedBook, Unreadable
from budget.problems import BudgetError
from budget.review import apply_reviews
from test_review import _rows_for_review, rules, write_annotated  # noqa: F401  (rules: a fixture)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _calamine(path: Path, sheets: list[str], columns: dict | None = None) -> dict:
    handle = start_worker(path, path.name, sheets=sheets, max_rows=1 << 20, columns=columns)
    handle.sheet_list()
    out = {}
    for sheet in handle.sheets():
        out[sheet.name] = (sheet.columns, [row for chunk in sheet.more for row in chunk])
    return out


def _scanned(path: Path, name: str, titles=None, formulas=()):
    with ScannedBook(path) as book:
        sheet = book.sheet(name, titles, formulas)
    return sheet.columns, sheet.rows


def _both_readers(path: Path):
    """The workbook read back by the fast reader and by the guarded reader, as comparable data."""
    fast, guarded = start_reading(path), start_reading(path, scan=False)
    books = []
    for reading in (fast, guarded):
        book = reading.finish()
        books.append(([(r.to_dict(), r.review_entry, r.explanation, r.category_name, r.official_class,
                        r.entry_problem and r.entry_problem.to_dict()) for r in book.rows],
                      [p.to_dict() for p in book.problems], book.sha256))
    return fast.scanned, guarded.scanned, books[0], books[1]


def _same_sheets(path: Path) -> None:
    """Every sheet read back is cell for cell what calamine reads."""
    titles = _detail_titles()
    guarded = _calamine(path, [LOG_SHEET, DATA_SHEET, DETAIL_SHEET], {DETAIL_SHEET: titles})
    assert _scanned(path, LOG_SHEET) == guarded[LOG_SHEET]
    assert _scanned(path, DATA_SHEET) == guarded[DATA_SHEET]
    assert _scanned(path, DETAIL_SHEET, titles) == guarded[DETAIL_SHEET]


def test_a_workbook_written_by_classify_reads_the_same_by_both_readers(tmp_path: Path) -> None:
    rows = [r[:2] + ("", "") for r in _rows_for_review()]  # as written: nothing typed in, no openpyxl save
    path = write_annotated(tmp_path / "115.性別預算.xlsx", rows)
    with zipfile.ZipFile(path) as zf:
        assert not any(n.endswith("sharedStrings.xml") for n in zf.namelist())  # inline strings only
    _same_sheets(path)
    scanned, guarded, fast_book, guarded_book = _both_readers(path)
    assert (scanned, guarded) == (True, False)
    assert fast_book == guarded_book


def _to_shared_strings(path: Path) -> Path:
    """``path`` with every inline string moved to a shared-strings table, as Excel saves a workbook."""
    import re

    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    strings: dict[bytes, int] = {}

    def shared(m: re.Match) -> bytes:
        item = b"<si><t" + m.group(2) + b">" + m.group(3) + b"</t></si>"
        return m.group(1) + b' t="s"><v>' + str(strings.setdefault(item, len(strings))).encode() + b"</v></c>"

    inline = re.compile(rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?) t="inlineStr"><is><t((?: xml:space="preserve")?)>'
                        rb'([^<]*)</t></is></c>')
    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        parts[name] = inline.sub(shared, parts[name])
    parts["xl/sharedStrings.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
                                     b'schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
                                     % (len(strings), len(strings)) + b"".join(strings) + b"</sst>")
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b"</Relationships>", b'<Relationship Id="rIdShared" Type="http://schemas.'
                                      b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                      b'Target="sharedStrings.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def test_reviews_typed_and_saved_with_shared_strings_read_the_same(tmp_path: Path, rules, monkeypatch) -> None:
    from budget.exports import xlsx_scan

    path = _to_shared_strings(write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review()))
    with zipfile.ZipFile(path) as zf:
        assert b'<is>' not in zf.read("xl/worksheets/sheet2.xml")
    _same_sheets(path)
    scanned, _, fast_book, guarded_book = _both_readers(path)
    assert scanned and fast_book == guarded_book
    book = read_annotated(path)
    assert [r.review for r in book.rows] == ["", "gender-training 25%", "gender-training 140%", "不列入", ""]
    assert reviewed_detail_rows(path) == [3, 4, 5]
    monkeypatch.setattr(xlsx_scan, "MAX_SHARED_BYTES", 100)  # large shared strings: left to calamine
    with pytest.raises(Unreadable):
        _scanned(path, DETAIL_SHEET, _detail_titles())


def test_edits_in_the_review_columns_read_the_same(tmp_path: Path) -> None:
    import openpyxl

    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    ws = wb[DETAIL_SHEET]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(2, col[TITLES["review_category"]]).value = "  gender-training  "  # spaces: kept, then stripped
    ws.cell(2, col[TITLES["review_note"]]).value = "A & B <ok> \"q\" 'a' 第二行\n換行"
    ws.cell(3, col[TITLES["review_amount"]]).value = 1234.5
    ws.cell(5, col[TITLES["review_percent"]]).value = "40%"
    ws.cell(6, col[TITLES["review_amount"]]).value = True  # not an amount: a problem, the same by both
    ws.cell(6, col[TITLES["review_percent"]]).value = "=1/0"  # a formula without a value
    wb.save(path)
    _same_sheets(path)
    scanned, _, fast_book, guarded_book = _both_readers(path)
    assert scanned and fast_book == guarded_book
    rows = read_annotated(path).rows
    assert rows[0].review_note == "A & B <ok> \"q\" 'a' 第二行\n換行"
    assert rows[1].review_entry.amount == Decimal("1234.5")
    assert rows[4].entry_problem.code == "review-formula-no-value"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_saved_again_by_libreoffice_reads_the_same(tmp_path: Path, rules) -> None:
    from exportfixtures import soffice_convert

    original = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    source = tmp_path / "src"
    source.mkdir()
    path = soffice_convert(shutil.copy(original, source / "115.性別預算.xlsx") and source / "115.性別預算.xlsx",
                           tmp_path, "xlsx")
    assert path is not None, "LibreOffice did not convert the workbook"
    with zipfile.ZipFile(path) as zf:
        assert b'xml:space="preserve"' in zf.read("xl/sharedStrings.xml")
    _same_sheets(path)
    scanned, _, fast_book, guarded_book = _both_readers(path)
    assert scanned and fast_book[:2] == guarded_book[:2]
    decisions = apply_reviews(read_annotated(path).rows, rules)[0]
    assert [d.counted for d in decisions] == [d.counted for d in apply_reviews(read_annotated(original).rows, rules)[0]]


# --- cell forms, one workbook per case ------------------------------------------------------------

_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
       '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
         '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
         '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
              '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
              '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://'
              'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
              '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'styles" Target="styles.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           '2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy/mm/dd"/><numFmt numFmtId="165" '
           'formatCode="#,##0;[Red]-#,##0"/></numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/>'
           '<xf numFmtId="164"/><xf numFmtId="165"/></cellXfs></styleSheet>')
_SHARED = ('<si><t>甲</t></si><si><t xml:space="preserve"> 乙 </t></si><si><r><rPr><b/><sz val="10"/></rPr>'
           '<t xml:space="preserve">丙</t></r><r><t xml:space="preserve">&amp;丁 </t></r></si><si/><si><t/></si>'
           '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>')
_ROOT = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _book(tmp_path: Path, rows: list[str], *, root: str = _ROOT, shared: str = _SHARED, name: str = "t.xlsx",
          head: str = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>') -> Path:
    body = "".join(f'<row r="{i}">{cells}</row>' for i, cells in enumerate(rows, start=1) if cells is not None)
    sheet = f'{head}{root}<sheetData>{body}</sheetData></worksheet>'
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _BOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        zf.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                                            f'openxmlformats.org/spreadsheetml/2006/main">{shared}</sst>')
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _inline(ref: str, text: str, preserve: bool = False) -> str:
    space = ' xml:space="preserve"' if preserve else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


_READ_FORMS = {  # cells the fast reader reads, each as calamine does
    "inline": _inline("A2", "出席費 a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#x41;&#66;"),
    "inline preserved": _inline("A2", "  兩端空白  ", preserve=True),
    "escapes": _inline("A2", "a_x0041_b_x005F_x0041_ _x000d_c"),
    "rich inline": '<c r="A2" t="inlineStr"><is><r><rPr><b/></rPr><t>粗體</t></r><r><t xml:space="preserve"> 一般'
                   '</t></r></is></c>',
    "empty inline": '<c r="A2" t="inlineStr"><is><t/></is></c><c r="B2" t="inlineStr"><is><t>x</t></is></c>',
    "shared": '<c r="A2" t="s"><v>0</v></c><c r="B2" s="0" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c>'
              '<c r="D2" t="s"><v>3</v></c><c r="E2" t="s"><v>4</v></c><c r="F2" t="s"><v>5</v></c>',
    "numbers": '<c r="A2"><v>4614000</v></c><c r="B2" t="n"><v>0.1</v></c><c r="C2" s="3"><v>-12.5</v></c>'
               '<c r="D2"><v>1E+20</v></c><c r="E2"><v>-0</v></c><c r="F2" s="0"><v>12345678901234567890</v></c>',
    "formula values": '<c r="A2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="B2"><f>1+1</f><v>2</v></c>'
                      '<c r="C2" t="str"><f aca="false">""</f><v></v></c><c r="D2"><f>1+1</f></c>'
                      '<c r="E2"><f t="shared" si="0"/><v>3</v></c><c r="F2" t="str"><f>1</f><v>  a  </v></c>',
    "booleans and errors": '<c r="A2" t="b"><v>1</v></c><c r="B2" t="b"><v>0</v></c><c r="C2" t="e"><v>#N/A</v></c>',
    "empty cells": '<c r="A2" s="1"/><c r="B2" s="2" t="n" /><c r="C2"><v/></c><c r="D2"><v></v></c>'
                   '<c r="E2" t="inlineStr"><is><t>last</t></is></c>',
    "gaps": '<c r="C2" t="inlineStr"><is><t>c</t></is></c><c r="AA2"><v>27</v></c>',
}


@pytest.mark.parametrize("form", sorted(_READ_FORMS))
def test_each_cell_form_reads_as_calamine_reads_it(tmp_path: Path, form: str) -> None:
    path = _book(tmp_path, [_inline("A1", "標題") + _inline("C1", "說明"), _READ_FORMS[form],
                            _inline("B3", "末列")])
    guarded = _calamine(path, ["S"])["S"]
    assert _scanned(path, "S") == guarded
    assert _scanned(path, "S", ["說明"]) == _calamine(path, ["S"], {"S": ["說明"]})["S"]


def test_rows_follow_calamine_blank_rows_leading_and_trailing_blanks(tmp_path: Path) -> None:
    path = _book(tmp_path, [_inline("B1", "標題"), None, "", _inline("D4", "x") + '<c r="E4" s="1"/>',
                            '<c r="A5" s="1"/>'])
    with pytest.raises(Unreadable):  # the last row holds no value: calamine's count of rows is left to it
        _scanned(path, "S")
    path = _book(tmp_path, [_inline("B1", "標題"), None, "", _inline("D4", "x") + '<c r="E4" s="1"/>'], name="u.xlsx")
    assert _scanned(path, "S") == _calamine(path, ["S"])["S"] == (None, [[None, "標題"], [], [], [None, None, None, "x"]])


_UNREAD_FORMS = {  # forms left to the guarded reader
    "no reference": '<c t="inlineStr"><is><t>x</t></is></c>',
    "attributes in another order": '<c r="A2" t="n" s="0"><v>1</v></c>',
    "another attribute": '<c r="A2" cm="1"><v>1</v></c>',
    "a date style": '<c r="A2" s="1"><v>45000</v></c>',
    "a custom date style": '<c r="A2" s="2"><v>45000</v></c>',
    "an unknown style": '<c r="A2" s="9"><v>45000</v></c>',
    "a date cell": '<c r="A2" t="d"><v>2020-01-02</v></c>',
    "a number in text": '<c r="A2"><v> 12 </v></c>',
    "a missing shared string": '<c r="A2" t="s"><v>99</v></c>',
    "trimmed text": _inline("A2", " x "),
    "a raw carriage return": _inline("A2", "a\rb"),
    "a stray ampersand": _inline("A2", "a & b"),
    "a surrogate escape": _inline("A2", "_xD83D_"),
    "an escape and a reference": _inline("A2", "&amp;_x0041_"),
    "a comment": "<!-- a note -->" + _inline("A2", "x"),
    "CDATA": '<c r="A2" t="inlineStr"><is><t><![CDATA[x]]></t></is></c>',
    "a processing instruction": '<?pi x?>' + _inline("A2", "x"),
    "a namespace": '<c r="A2" xmlns:x="urn:x" t="inlineStr"><is><t>x</t></is></c>',
    "a repeated cell": _inline("A2", "x") + _inline("A2", "y"),
    "cells out of order": _inline("B2", "x") + _inline("A2", "y"),
    "an unknown element": '<c r="A2"><v>1</v><extLst/></c>',
    "a boolean spelt out": '<c r="A2" t="b"><v>true</v></c>',
}


@pytest.mark.parametrize("form", sorted(_UNREAD_FORMS))
def test_forms_it_does_not_know_are_left_to_the_guarded_reader(tmp_path: Path, form: str) -> None:
    path = _book(tmp_path, [_inline("A1", "標題"), _UNREAD_FORMS[form], _inline("A3", "末列")])
    with pytest.raises(Unreadable):
        _scanned(path, "S")


@pytest.mark.parametrize("case", ["prefixed root", "another namespace", "a DTD", "rows out of order",
                                  "a row without its number", "a shared string with a text element of another form"])
def test_parts_it_does_not_know_are_left_to_the_guarded_reader(tmp_path: Path, case: str) -> None:
    rows = [_inline("A1", "標題"), '<c r="A2" t="s"><v>0</v></c>']
    kwargs: dict = {}
    if case == "prefixed root":
        kwargs["root"] = '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    elif case == "another namespace":
        kwargs["root"] = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                          'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    elif case == "a DTD":
        kwargs["head"] = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>'
    elif case == "rows out of order":
        rows = [_inline("A1", "標題"), _inline("A2", "x")]
        path = _book(tmp_path, rows)
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b'<row r="2">', b'<row r="1">')
        with zipfile.ZipFile(path, "w") as zf:
            for n, data in parts.items():
                zf.writestr(n, data)
        with pytest.raises(Unreadable):
            _scanned(path, "S")
        return
    elif case == "a row without its number":
        rows = [_inline("A1", "標題") + '</row><row>' + _inline("A2", "x")]
    else:
        kwargs["shared"] = '<si><r><t>a</t></r><r><t xml:space="default">b</t></r></si>'
        rows = [_inline("A1", "標題"), '<c r="A2" t="s"><v>0</v></c>']
    path = _book(tmp_path, rows, **kwargs)
    with pytest.raises(Unreadable):
        _scanned(path, "S")


# --- the read-back falls back ---------------------------------------------------------------------

def test_a_workbook_with_a_form_it_does_not_know_is_read_by_the_guarded_reader(tmp_path: Path) -> None:
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    expected = _both_readers(path)[3]
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    part = "xl/worksheets/sheet2.xml"  # 明細 (openpyxl names the sheets in order)
    assert '明細'.encode() in parts["xl/workbook.xml"]
    parts[part] = parts[part].replace(b"<sheetData>", b"<sheetData><!-- edited -->", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    scanned, _, fast_book, guarded_book = _both_readers(path)
    assert not scanned
    assert fast_book[:2] == guarded_book[:2] == expected[:2]


def test_errors_name_the_file_sheet_row_and_column_as_before(tmp_path: Path) -> None:
    import openpyxl

    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    wb[DATA_SHEET]["B4"].value = "{not json"
    wb.save(path)
    caught = []
    for fast in (True, False):
        with pytest.raises(BudgetError) as error:
            start_reading(path, scan=fast).finish()
        caught.append([p.to_dict() for p in error.value.problems])
    assert caught[0] == caught[1]
    assert [(p["code"], p["file"], p["sheet"], p["row"], p["column"]) for p in caught[0]] == [
        ("annotated-bad-data", str(path), DATA_SHEET, 4, "B")]


@pytest.mark.parametrize("part", ["xl/worksheets/sheet2.xml", "xl/worksheets/sheet6.xml"])
def test_a_damaged_part_is_reported_by_the_guarded_reader_in_its_words(tmp_path: Path, part: str) -> None:
    from exportfixtures import corrupt_member

    rows = [r[:2] + ("", "") for r in _rows_for_review()]
    path = write_annotated(tmp_path / "115.性別預算.xlsx", rows)
    with zipfile.ZipFile(path) as zf:
        assert zf.read("xl/workbook.xml").count(b"<sheet ") == 6  # 明細 is sheet2, 資料 sheet6
    damaged = corrupt_member(path, tmp_path, part)
    caught = []
    for fast in (True, False):
        with pytest.raises(BudgetError) as error:
            start_reading(damaged, scan=fast).finish()
        caught.append([(p.code, p.file) for p in error.value.problems])
    assert caught[0] == caught[1] == [("file-corrupt", str(damaged))]
