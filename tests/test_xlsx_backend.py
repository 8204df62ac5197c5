"""The fast .xlsx writer (budget.outputs.xlsx_fast) against the writer API subset of outputs/backends.py.

Every test writes a tiny workbook with :class:`FastBook` and reads it back with openpyxl and
python-calamine (and LibreOffice, recalculating): cells, text that looks like a formula, formulas
with cached values, validations, conditional formats, print setup, rows streamed out of the window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter

from budget.outputs import backends
from budget.outputs.backends import XLSX_OPTIONS, open_book
from budget.outputs.xlsx_fast import ROW_WINDOW, FastBook, RowAlreadyWritten, escape_text

#: Text a spreadsheet could take for something else: it must come back as the same text.
TRICKY_TEXT = ["=SUM(A1:A3)", "+886-2-1234", "-5", "@user", "=1+1", "{=A1}", "<r><t>粗體</t></r>", "a & b < c > d",
               "_x0041_", "_x005F_x0041_", " 前後空白 ", "換行\n第二行", "tab\there", "\"引號\" 'x'", "性別平等專案小組",
               "𠀀 surrogate pair", "#N/A", "TRUE", "0012", "1e5"]


def _book(path: Path) -> FastBook:
    """A fast book that streams rows (as ``open_book(..., rows_in_order=True)`` opens the annotated workbook)."""
    return FastBook(str(path), {**XLSX_OPTIONS, "constant_memory": True})


def _calamine_rows(path: Path, sheet: str) -> list[list[object]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_open_book_uses_the_fast_writer_unless_told_otherwise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backends.XLSX_WRITER_ENV, raising=False)
    book = open_book(tmp_path / "a.xlsx")
    assert isinstance(book, FastBook)
    book.close()
    monkeypatch.setenv(backends.XLSX_WRITER_ENV, "xlsxwriter")
    book = open_book(tmp_path / "b.xlsx", constant_memory=True)
    assert type(book) is xlsxwriter.Workbook
    book.close()


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "text.xlsx"
    book = _book(path)
    sheet = book.add_worksheet("明細")
    quoted = book.add_format({"quote_prefix": True})
    for r, text in enumerate(TRICKY_TEXT):
        sheet.write_string(r, 0, text)
        sheet.write_string(r, 1, text, quoted)
    book.close()
    ws = openpyxl.load_workbook(path)["明細"]
    for r, text in enumerate(TRICKY_TEXT, start=1):
        for c in (1, 2):
            cell = ws.cell(r, c)
            assert cell.data_type == "s", (text, cell.data_type)
            # openpyxl does not unescape inline strings: overlapping _xHHHH_ (calamine gets it right)
            assert cell.value == text or text == "_x005F_x0041_"
    assert [row[:2] for row in _calamine_rows(path, "明細")] == [[t, t] for t in TRICKY_TEXT]
    with zipfile.ZipFile(path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_control_characters_are_escaped_as_excel_does(tmp_path: Path) -> None:
    assert escape_text("a\x07b") == ("a_x0007_b", False)
    assert escape_text("_x0041_") == ("_x005F_x0041_", False)
    assert escape_text("_x005F_x0041_") == ("_x005F_x005F_x005F_x0041_", False)
    assert escape_text(" x") == (" x", True)
    path = tmp_path / "ctl.xlsx"
    book = _book(path)
    book.add_worksheet("s").write_string(0, 0, "bell\x07 and _x0007_")
    book.close()
    assert _calamine_rows(path, "s") == [["bell\x07 and _x0007_"]]


def test_numbers_booleans_dates_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    book = _book(path)
    sheet = book.add_worksheet("s")
    amount = book.add_format({"num_format": "#,##0.00"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_number(0, 0, 22500)
    sheet.write_number(0, 1, Decimal("1234.56"), amount)
    sheet.write_number(0, 2, 0.1)
    sheet.write_number(0, 3, 123456789012345)
    sheet.write_boolean(1, 0, True)
    sheet.write_boolean(1, 1, False)
    sheet.write_datetime(2, 0, datetime(2026, 11, 29, 8, 30), day)
    sheet.write_datetime(2, 1, date(2027, 1, 1))
    sheet.write_blank(3, 0, None, amount)
    sheet.write_blank(3, 1, None)  # no format: nothing written, as xlsxwriter
    book.close()
    ws = openpyxl.load_workbook(path)["s"]
    assert [c.value for c in ws[1]] == [22500, 1234.56, 0.1, 123456789012345]
    assert ws["B1"].number_format == "#,##0.00"
    assert [ws["A2"].value, ws["B2"].value] == [True, False]
    assert ws["A3"].value == datetime(2026, 11, 29, 8, 30) and ws["A3"].number_format == "yyyy-mm-dd"
    assert ws["B3"].value == 46388  # no format, no default date format: a serial number, as xlsxwriter
    assert ws["A4"].number_format == "#,##0.00" and ws["A4"].value is None
    rows = _calamine_rows(path, "s")
    assert rows[0] == [22500, 1234.56, 0.1, 123456789012345]
    assert rows[1][:2] == [True, False]


def test_formulas_carry_their_cached_values(tmp_path: Path) -> None:
    path = tmp_path / "formulas.xlsx"
    book = _book(path)
    sheet = book.add_worksheet("明細")
    bold = book.add_format({"bold": True, "num_format": "#,##0"})
    for r in range(3):
        sheet.write_number(r, 0, (r + 1) * 1000)
        sheet.write_string(r, 1, "符合" if r != 1 else "不符合")
    sheet.write_formula(3, 0, "=SUM(A1:A3)", bold, 6000)
    sheet.write_formula(3, 1, '=SUMIFS(A1:A3,B1:B3,"符合")', None, 4000)
    sheet.write_formula(3, 2, '=IF(A4>0,"有","無")', None, "有")
    sheet.write_formula(3, 3, "=A4>0", None, True)
    sheet.write_formula(3, 4, "=1/0", None, "#DIV/0!")
    book.close()
    ws = openpyxl.load_workbook(path)["明細"]
    assert ws["A4"].value == "=SUM(A1:A3)" and ws["B4"].value == '=SUMIFS(A1:A3,B1:B3,"符合")'
    cached = openpyxl.load_workbook(path, data_only=True)["明細"]
    assert [c.value for c in cached[4]] == [6000, 4000, "有", True, "#DIV/0!"]
    assert _calamine_rows(path, "明細")[3][:4] == [6000, 4000, "有", True]


def test_the_rest_of_the_subset_is_xlsxwriters_own(tmp_path: Path) -> None:
    path = tmp_path / "subset.xlsx"
    book = _book(path)
    detail = book.add_worksheet("明細")
    rules = book.add_worksheet("規則")
    data = book.add_worksheet("資料")
    header = book.add_format({"bold": True, "bg_color": "#D9E1F2"})
    wide = book.add_format({"bg_color": "#FFFBEA"})
    for c, title in enumerate(["說明", "判定", "覆核"]):
        detail.write_string(0, c, title, header)
    for r in range(1, 6):
        detail.write_string(r, 0, f"第{r}行")
        detail.write_string(r, 1, "符合")
        detail.write_string(r, 2, "none")  # no format of its own: gets the column's
    rules.write_string(0, 0, "none")
    data.write_string(0, 0, "plan")
    data.hide()
    detail.set_column(2, 2, 14, wide)
    detail.set_row(0, 30, header)
    detail.freeze_panes(1, 0)
    detail.autofilter(0, 0, 5, 2)
    detail.data_validation(1, 2, 5, 2, {"validate": "list", "source": "='規則'!$A$1:$A$1", "show_error": False})
    detail.data_validation(1, 0, 5, 0, {"validate": "decimal", "criteria": ">=", "value": 0})
    detail.conditional_format(1, 0, 5, 2, {"type": "formula", "criteria": '=$B2="符合"',
                                           "format": book.add_format({"bg_color": "#E2EFDA"})})
    detail.write_url(6, 0, "internal:'規則'!A1", None, "到規則")
    book.define_name("覆核選項", "='規則'!$A$1:$A$1")
    detail.set_landscape()
    detail.set_paper(9)
    detail.fit_to_pages(1, 0)
    detail.repeat_rows(0, 0)
    detail.set_header("&C性別預算明細")
    detail.set_footer("&C第 &P 頁")
    detail.print_area(0, 0, 6, 2)
    detail.set_margins(0.5, 0.5, 0.75, 0.75)
    book.close()

    wb = openpyxl.load_workbook(path)
    ws = wb["明細"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C6"
    assert ws["C2"].fill.fgColor.rgb.endswith("FFFBEA") and ws["A1"].font.b
    assert ws.row_dimensions[1].height == 30
    kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
    assert kinds == ["decimal", "list"]
    assert ws.conditional_formatting and ws["A7"].value == "到規則" and ws["A7"].hyperlink.location == "'規則'!A1"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0  # width 1 is the default
    assert ws.print_title_rows == "$1:$1" and ws.oddHeader.center.text == "性別預算明細"
    assert ws.print_area == "'明細'!$A$1:$C$7" and ws.page_margins.left == 0.5
    assert wb["資料"].sheet_state == "hidden" and "覆核選項" in wb.defined_names
    assert _calamine_rows(path, "明細")[1] == ["第1行", "符合", "none"]


def test_rows_stream_out_in_order_and_late_writes_fail_loudly(tmp_path: Path) -> None:
    path = tmp_path / "stream.xlsx"
    book = _book(path)
    sheet = book.add_worksheet("s")
    n = ROW_WINDOW * 5
    for r in range(n):
        sheet.write_number(r, 1, r)
        sheet.write_string(r, 0, f"r{r}")  # columns out of order within a row
    sheet.write_string(n - 10, 2, "late but within the window")
    with pytest.raises(RowAlreadyWritten):
        sheet.write_string(0, 2, "too late")
    with pytest.raises(RowAlreadyWritten):
        sheet.set_row(0, 20)
    book.close()
    rows = _calamine_rows(path, "s")
    assert len(rows) == n
    assert all(rows[r][:2] == [f"r{r}", r] for r in range(n))
    assert rows[n - 10][2] == "late but within the window"
    ws = openpyxl.load_workbook(path, read_only=True)["s"]
    assert ws.calculate_dimension() == f"A1:C{n}"


def test_constant_memory_option_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "cm.xlsx"
    book = FastBook(str(path), {**XLSX_OPTIONS, "constant_memory": True})
    for name in ("a", "b"):
        sheet = book.add_worksheet(name)
        for r in range(3):
            sheet.write_string(r, 0, f"{name}{r}")
    book.close()
    assert _calamine_rows(path, "b") == [["b0"], ["b1"], ["b2"]]


def test_the_same_cells_as_xlsxwriter(tmp_path: Path) -> None:
    """Written by both writers, the same calls read back the same (calamine, every sheet)."""
    paths = {}
    for name, factory in (("fast", FastBook), ("xlsxwriter", xlsxwriter.Workbook)):
        paths[name] = tmp_path / f"{name}.xlsx"
        book = factory(str(paths[name]), dict(XLSX_OPTIONS))
        sheet = book.add_worksheet("明細")
        fmt = book.add_format({"num_format": "#,##0"})
        for r in range(300):
            sheet.write_string(r, 0, TRICKY_TEXT[r % len(TRICKY_TEXT)].replace("<r>", "[r]"))
            sheet.write_number(r, 1, r * 1.5, fmt)
            sheet.write_formula(r, 2, f"=B{r + 1}*2", fmt, r * 3.0)
        book.close()
    fast, plain = (_calamine_rows(paths[n], "明細") for n in ("fast", "xlsxwriter"))
    assert [row[0] for row in fast] == [TRICKY_TEXT[r % len(TRICKY_TEXT)].replace("<r>", "[r]") for r in range(300)]
    # xlsxwriter's escaping loses overlapping _xHHHH_ sequences; everything else is the same
    differ = [r for r in range(300) if fast[r] != plain[r]]
    assert all(fast[r][0] == "_x005F_x0041_" for r in differ)


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_and_recalculates(tmp_path: Path) -> None:
    path = tmp_path / "lo.xlsx"
    book = _book(path)
    sheet = book.add_worksheet("明細")
    for r in range(3):
        sheet.write_number(r, 0, (r + 1) * 1000)
        sheet.write_string(r, 1, "=A1" if r == 0 else "符合")
    sheet.write_formula(3, 0, "=SUM(A1:A3)", None, 0)  # a wrong cached value: LibreOffice must correct it
    sheet.write_formula(3, 1, '=COUNTIF(B1:B3,"符合")', None, 2)
    book.close()
    profile = tmp_path / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    out = tmp_path / "out"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(path)],
                   capture_output=True, timeout=240, env={**os.environ, "HOME": str(tmp_path)})
    assert (out / "lo.xlsx").exists()
    ws = openpyxl.load_workbook(out / "lo.xlsx", data_only=True)["明細"]
    assert [ws["A4"].value, ws["B4"].value] == [6000, 2]
    assert ws["B1"].value == "=A1" and ws["B1"].data_type == "s"


def test_dynamic_function_test_finds_every_formula_xlsxwriter_would() -> None:
    from xlsxwriter.worksheet import re_dynamic_function

    from budget.outputs.xlsx_fast import _DYNAMIC_NAMES, _dynamic

    assert {"FILTER", "UNIQUE", "XLOOKUP", "LAMBDA", "SORT"} <= _DYNAMIC_NAMES
    formulas = [f"={p}{name}({arg})" for name in sorted(_DYNAMIC_NAMES) + ["SUM", "IF", "INDEX", "MATCH", "LEN"]
                for p in ("", "1+", "_xlfn.", "_xlfn._xlws.", "A1.", "'明細'!A1+", "x", "1", "_")
                for arg in ("A1:A3", "")]
    formulas += ['=IF(AND($T2="",$U2=""),$R2,_xlfn.IFNA(INDEX(類別名稱,MATCH($Y2,類別名稱,0)),"？"))', "=A1", "=1+2",
                 '="FILTER("', "=LAMBDA(x,x+1)(2)", "=SUM(A1:A3)*UNIQUE(B1:B3)"]
    for f in formulas:
        if re_dynamic_function.search(f):
            assert _dynamic(f), f  # never missed: such a formula must go through xlsxwriter's own code
    assert not _dynamic('=IF(AND($T2="",$U2=""),$R2,_xlfn.IFNA(INDEX(類別名稱,MATCH($Y2,類別名稱,0)),"？"))')


def test_row_settings_and_column_formats_match_xlsxwriter_across_the_window(tmp_path: Path) -> None:
    """Rows with heights, hidden rows, row formats and column formats: the same as xlsxwriter's, on disk or not."""
    n = ROW_WINDOW * 3
    paths = {}
    for name, factory in (("fast", FastBook), ("xlsxwriter", xlsxwriter.Workbook)):
        paths[name] = path = tmp_path / f"{name}.xlsx"
        book = factory(str(path), {**XLSX_OPTIONS, "constant_memory": factory is FastBook})
        sheet = book.add_worksheet("s")
        wide, bold = book.add_format({"bg_color": "#FFFBEA"}), book.add_format({"bold": True})
        sheet.set_column(1, 1, 12, wide)
        for r in range(n):
            sheet.write_string(r, 0, f"r{r}", bold if r % 5 == 0 else None)
            sheet.write_number(r, 1, r)  # no format of its own: the column's, or the row's
            if r % 7 == 0:
                sheet.set_row(r, 13.5 * (1 + r % 3) + 2)
            if r % 11 == 0:
                sheet.set_row(r, None, bold)
            if r % 13 == 0:
                sheet.set_row(r, 20, None, {"hidden": True})
        sheet.set_row(n + 3, 40)  # a row with settings only
        book.close()
    fast, plain = (openpyxl.load_workbook(paths[k])["s"] for k in ("fast", "xlsxwriter"))
    for r in range(1, n + 5):
        a, b = fast.row_dimensions[r], plain.row_dimensions[r]
        assert (a.height, a.hidden, a.customHeight) == (b.height, b.hidden, b.customHeight), r
        for c in (1, 2):
            x, y = fast.cell(r, c), plain.cell(r, c)
            assert (x.value, x.font.b, x.fill.fgColor.rgb) == (y.value, y.font.b, y.fill.fgColor.rgb), (r, c)


@pytest.mark.parametrize("zip64", [False, True])
def test_the_threaded_package_holds_what_zipfile_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64) -> None:
    """Parts deflated on threads (large ones through temp files) make the package zipfile makes, ZIP64 too."""
    from budget.outputs import xlsx_fast

    monkeypatch.setattr(xlsx_fast, "DEFLATE_CHUNK", 4096)
    if zip64:
        monkeypatch.setattr(xlsx_fast, "_ZIP32_LIMIT", 10_000)
    parts = {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": ("<row>明細 & 資料</row>" * 5000).encode(),
             "xl/worksheets/sheet2.xml": os.urandom(50_000), "docProps/app.xml": b""}
    packages = {}
    for name, factory in (("zipfile", xlsx_fast._FastZip), ("threaded", xlsx_fast._ThreadedZip)):
        folder = tmp_path / name
        folder.mkdir()
        packages[name] = tmp_path / f"{name}.zip"
        zf = factory(str(packages[name]), "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        for i, (arcname, data) in enumerate(parts.items()):
            part = folder / f"part{i}"
            part.write_bytes(data)
            stamp = time.mktime((1980, 1, 31, 0, 0, 0, 0, 0, -1))  # what xlsxwriter sets
            os.utime(part, (stamp, stamp))
            zf.write(str(part), arcname)
            part.unlink()  # as xlsxwriter does, at once
        zf.close()
        assert not list(folder.iterdir())  # no temp files left
    with zipfile.ZipFile(packages["zipfile"]) as a, zipfile.ZipFile(packages["threaded"]) as b:
        assert b.testzip() is None
        assert [i.filename for i in b.infolist()] == list(parts)
        for x, y in zip(a.infolist(), b.infolist()):
            assert (x.filename, x.date_time, x.CRC, x.file_size, x.external_attr, x.compress_type) == \
                   (y.filename, y.date_time, y.CRC, y.file_size, y.external_attr, y.compress_type)
        assert all(b.read(name) == data for name, data in parts.items())


def test_formulas_of_one_shape_in_other_rows_are_tested_each_on_their_own(tmp_path: Path) -> None:
    """The dynamic-array test is remembered per formula shape (row number taken out), never across shapes."""
    path = tmp_path / "shapes.xlsx"
    book = _book(path)
    sheet = book.add_worksheet("s")
    for r in range(1, 40):
        sheet.write_formula(r, 0, f"=LEN(B{r + 1})", None, 0)
        sheet.write_formula(r, 1, f"=_xlfn._xlws.SORT(C{r + 1}:C{r + 2})" if r % 2 else f"=SUM(C{r + 1}:C{r + 2})", None, 0)
    book.close()
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    # xlsxwriter writes dynamic-array formulas as array formulas with cm="1": only the SORT rows
    assert xml.count('cm="1"') == 20 and xml.count("SORT(") == 20 and xml.count("<f>SUM(") == 19 and xml.count("<f>LEN(") == 39


def test_row_files_are_spliced_into_their_worksheet_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet's streamed rows reach the package without being copied into its part first, and nothing is left."""
    from budget.outputs import xlsx_fast

    monkeypatch.setattr(xlsx_fast, "DEFLATE_CHUNK", 4096)  # many chunks, across the row files' borders
    monkeypatch.setattr(xlsx_fast, "ROW_WINDOW", 64)
    path = tmp_path / "spliced.xlsx"
    book = FastBook(str(path), {**XLSX_OPTIONS, "tmpdir": str(tmp_path), "constant_memory": True})
    sheet = book.add_worksheet("明細")
    for r in range(3000):
        sheet.write_string(r, 0, f"第{r}列 & <說明>")
        sheet.write_number(r, 1, r)
    sheet.autofilter(0, 0, 2999, 1)  # after sheetData in the part: the tail must follow the rows
    book.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spliced.xlsx"]
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "\x00" not in xml and xml.count("<row ") == 3000 and xml.index("</sheetData>") < xml.index("<autoFilter")
    rows = _calamine_rows(path, "明細")
    assert rows[2999] == ["第2999列 & <說明>", 2999] and len(rows) == 3000


def test_a_book_not_streaming_takes_late_row_heights_as_xlsxwriter_does(tmp_path: Path) -> None:
    """open_book without rows_in_order (the report, the web page's check results): any row may still be
    written or sized until close, however many rows came after it (the report sizes rows at the end)."""
    path = tmp_path / "late.xlsx"
    book = open_book(path)
    sheet = book.add_worksheet("性別預算編列情形表")
    for r in range(ROW_WINDOW * 3):
        sheet.write_string(r, 0, f"項目{r}")
    sheet.set_row(3, 30)
    sheet.write_string(5, 1, "late cell")
    book.close()
    ws = openpyxl.load_workbook(path)["性別預算編列情形表"]
    assert ws.row_dimensions[4].height == 30 and ws["B6"].value == "late cell" and ws.max_row == ROW_WINDOW * 3
    streaming = open_book(tmp_path / "stream.xlsx", rows_in_order=True)
    s2 = streaming.add_worksheet("s")
    for r in range(ROW_WINDOW * 3):
        s2.write_string(r, 0, "x")
    with pytest.raises(RowAlreadyWritten):
        s2.set_row(3, 40)
    streaming.close()
