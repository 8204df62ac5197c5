"""The OpenDocument backend: the xlsxwriter subset written as .ods, formulas that LibreOffice recomputes,
text that stays text, print setup, and the report written as .ods."""

from __future__ import annotations

import shutil
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from budget.outputs.backends import open_book
from budget.outputs.ods import Workbook, verify_ods
from budget.outputs.openformula import to_openformula
from test_libreoffice_recalc import recalculated

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
NS = {"office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
      "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
      "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"}
@pytest.mark.parametrize("excel, openformula", [
    ("=SUM(A1:A9)", "of:=SUM([.A1:.A9])"),
    ("=SUMIFS('明細'!$F$2:$F$9,'明細'!$A$2:$A$9,\"x,y\")", "of:=SUMIFS([$'明細'.$F$2:.$F$9];[$'明細'.$A$2:.$A$9];\"x,y\")"),
    ("=IF(B2=0,0,C2/B2)", "of:=IF([.B2]=0;0;[.C2]/[.B2])"),
    ("=VLOOKUP(A2,'規 則'!$A$1:$C$9,2,FALSE)", "of:=VLOOKUP([.A2];[$'規 則'.$A$1:.$C$9];2;FALSE())"),
    ("=IFERROR(INDEX(資料!B:B,MATCH(A2,資料!A:A,0)),\"\")",
     "of:=IFERROR(INDEX([$'資料'.B$1:.B$1048576];MATCH([.A2];[$'資料'.A$1:.A$1048576];0));\"\")"),
    ("=COUNTIF($Q$2:$Q$9,\"A1,B2\")", "of:=COUNTIF([.$Q$2:.$Q$9];\"A1,B2\")"),
    ("=LOG10(A1)+_xlfn.STDEV.S(B1:B2)", "of:=LOG10([.A1])+STDEV.S([.B1:.B2])"),
    ("='it''s'!A1", "of:=[$'it''s'.A1]"),
])
def test_excel_formulas_become_openformula(excel, openformula):
    assert to_openformula(excel) == openformula


def _content(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("content.xml"))


def _styles(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("styles.xml"))


def _sample(path: Path) -> Path:
    """A workbook using every call of the backend subset, with formulas whose values are known."""
    wb = open_book(path)
    assert isinstance(wb, Workbook)
    detail, summary, data = wb.add_worksheet("明細"), wb.add_worksheet("摘要"), wb.add_worksheet("資料")
    head = wb.add_format({"bold": True, "font_name": "Microsoft JhengHei", "text_wrap": True, "border": 1})
    amount = wb.add_format({"num_format": "#,##0"})
    percent = wb.add_format({"num_format": "0.00%"})
    detail.write_string(0, 0, "類別", head)
    detail.write_string(0, 1, "金額", head)
    for r, (cat, value) in enumerate([("x", 100), ("y", 200), ("x", 300), ("y", 400), ("x", 500)], start=1):
        detail.write_string(r, 0, cat)
        detail.write_number(r, 1, value, amount)
    detail.write_string(7, 0, '=HYPERLINK("http://evil","點我")')
    detail.write_string(8, 0, "  兩個空白  與\t定位\n第二行 <&> \x07")
    detail.set_column(0, 0, 30)
    detail.set_row(0, 30)
    detail.freeze_panes(1, 0)
    detail.autofilter(0, 0, 5, 1)
    detail.data_validation(1, 2, 5, 2, {"validate": "list", "source": ["x", "y", "不列入"]})
    detail.data_validation(1, 3, 5, 3, {"validate": "list", "source": "='資料'!$A$1:$A$3"})
    detail.data_validation(1, 1, 5, 1, {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1000})
    detail.conditional_format(1, 0, 5, 1, {"type": "formula", "criteria": '=$A2="x"',
                                           "format": wb.add_format({"bg_color": "#E2EFDA"})})
    for sheet in (detail, summary):
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(0, 0)
        sheet.set_header("&C&A")
        sheet.set_footer("&L&F&R第 &P 頁，共 &N 頁")
    summary.write_formula(0, 0, "=SUMIFS('明細'!$B$2:$B$6,'明細'!$A$2:$A$6,\"x\")", amount, 900)
    summary.write_formula(1, 0, "=SUMPRODUCT(('明細'!$A$2:$A$6=\"y\")*('明細'!$B$2:$B$6))", amount, 600)
    summary.write_formula(2, 0, "=IFERROR(VLOOKUP(\"b\",'資料'!$A$1:$B$3,2,FALSE),-1)", None, 10)
    summary.write_formula(3, 0, "=ROUND(B4/3,2)", percent, 0.33)
    summary.write_number(3, 1, 1)
    summary.write_formula(4, 0, "=COUNTIF('明細'!A2:A6,\"x\")+COUNTIFS('明細'!A2:A6,\"y\",'明細'!B2:B6,\">250\")", None, 4)
    summary.write_formula(5, 0, "=INDEX('資料'!B1:B3,MATCH(\"c\",'資料'!A1:A3,0))", None, 20)
    summary.write_formula(6, 0, "=IF(MIN('明細'!B2:B6)<MAX('明細'!B2:B6),\"遞增\",\"否\")", None, "遞增")
    summary.write_formula(7, 0, "=SUM(明細!B2:B6)", amount, 1500)
    summary.write_url(8, 0, "internal:'明細'!A5", None, "看第5列")
    for i, v in enumerate("abc"):
        data.write_string(i, 0, v)
        data.write_number(i, 1, i * 10)
    data.hide()
    wb.define_name("choices", "='資料'!$A$1:$A$3")
    wb.set_properties({"title": "測試"})
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({"values": ["摘要", 0, 0, 2, 0]})
    summary.insert_chart(1, 3, chart)
    wb.close()
    return path


def test_the_file_is_a_valid_package_with_text_kept_as_text(tmp_path):
    out = _sample(tmp_path / "sample.ods")
    verify_ods(out)
    with zipfile.ZipFile(out) as zf:
        first = zf.infolist()[0]
        assert (first.filename, first.compress_type, zf.read("mimetype")) == (
            "mimetype", zipfile.ZIP_STORED, b"application/vnd.oasis.opendocument.spreadsheet")
    root = _content(out)
    tables = root.findall(".//table:table", NS)
    assert [t.get(f"{{{NS['table']}}}name") for t in tables] == ["明細", "摘要", "資料"]
    formulas = [c.get(f"{{{NS['table']}}}formula") for c in root.iter(f"{{{NS['table']}}}table-cell")
                if c.get(f"{{{NS['table']}}}formula")]
    assert len(formulas) == 8 and all(f.startswith("of:=") for f in formulas)
    assert not any("HYPERLINK" in f for f in formulas)  # input text never becomes a formula


def test_calamine_reads_back_values_text_and_cached_results(tmp_path):
    from python_calamine import CalamineWorkbook

    out = _sample(tmp_path / "sample.ods")
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["明細", "摘要", "資料"]
    detail = book.get_sheet_by_name("明細").to_python()
    assert detail[0][:2] == ["類別", "金額"] and detail[1][:2] == ["x", 100.0]
    assert detail[7][0] == '=HYPERLINK("http://evil","點我")'
    # calamine drops <text:tab/>; runs of spaces (<text:s/>) and lines survive.
    assert detail[8][0].replace("\t", "") == "  兩個空白  與定位\n第二行 <&> \ufffd"
    summary = book.get_sheet_by_name("摘要").to_python()
    assert [row[0] for row in summary[:9]] == [900.0, 600.0, 10.0, 0.33, 4.0, 20.0, "遞增", 1500.0, "看第5列"]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recomputes_every_formula(tmp_path):
    import openpyxl

    src = _sample(tmp_path / "sample.ods")
    # Wrong cached values prove the recalculation: LibreOffice must replace them.
    text = zipfile.ZipFile(src).read("content.xml").decode().replace('office:value="900"', 'office:value="1"')
    wrong = tmp_path / "wrong.ods"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(wrong, "w") as zout:
        for info in zin.infolist():
            data = text.encode() if info.filename == "content.xml" else zin.read(info.filename)
            zout.writestr(info, data)
    book = openpyxl.load_workbook(recalculated(wrong, tmp_path), data_only=True)
    values = [book["摘要"].cell(r, 1).value for r in range(1, 10)]
    assert values == [900, 600, 10, 0.33, 4, 20, "遞增", 1500, "看第5列"]
    assert book["資料"].sheet_state == "hidden"
    detail = openpyxl.load_workbook(tmp_path / "lo-out" / "wrong.xlsx")["明細"]
    kinds = sorted((v.type, str(v.sqref)) for v in detail.data_validations.dataValidation)
    assert kinds == [("decimal", "B2:B6"), ("list", "C2:C6"), ("list", "D2:D6")]
    assert detail.print_title_rows == "$1:$1" and detail.page_setup.orientation == "landscape"
    assert detail.auto_filter.ref == "A1:B6"
    assert len(detail.conditional_formatting) == 1
    # The tab is written as ODF's <text:tab/>; LibreOffice's .xlsx export (like calamine) drops it.
    assert detail["A9"].value.replace("\t", "") == "  兩個空白  與定位\n第二行 <&> \ufffd"
    assert detail["A8"].value == '=HYPERLINK("http://evil","點我")' and detail["A8"].data_type == "s"


def test_print_setup_is_in_the_page_styles(tmp_path):
    out = _sample(tmp_path / "sample.ods")
    styles = _styles(out)
    layouts = {pl.get(f"{{{NS['style']}}}name"): pl.find("style:page-layout-properties", NS)
               for pl in styles.iter(f"{{{NS['style']}}}page-layout")}
    for name in ("pl1", "pl2"):
        props = layouts[name]
        assert props.get(f"{{{NS['style']}}}print-orientation") == "landscape"
        assert (props.get(f"{{{NS['fo']}}}page-width"), props.get(f"{{{NS['fo']}}}page-height")) == ("29.7cm", "21cm")
        assert props.get(f"{{{NS['style']}}}scale-to-X") == "1"
    master = next(m for m in styles.iter(f"{{{NS['style']}}}master-page") if m.get(f"{{{NS['style']}}}name") == "pm1")
    footer = master.find("style:footer", NS)
    assert footer.find(".//text:file-name", NS) is not None
    assert footer.find(".//text:page-number", NS) is not None and footer.find(".//text:page-count", NS) is not None
    assert master.find("style:header//text:sheet-name", NS) is not None
    detail = _content(out).find(".//table:table", NS)
    header_rows = detail.find("table:table-header-rows", NS)
    assert header_rows is not None and len(header_rows) == 1
    with zipfile.ZipFile(out) as zf:
        settings = zf.read("settings.xml").decode()
    assert 'config:name="VerticalSplitPosition" config:type="int">1<' in settings


@pytest.mark.parametrize("constant_memory", [False, True])
def test_rows_written_out_of_order_all_arrive(tmp_path, constant_memory):
    from python_calamine import CalamineWorkbook

    out = tmp_path / "order.ods"
    wb = open_book(out, constant_memory=constant_memory)
    ws = wb.add_worksheet("明細")
    for r in range(1, 2000):
        ws.write_number(r, 0, r)
        ws.write_string(r, 1, f"第{r}列\t")
    ws.write_string(0, 0, "標題")        # above rows already spooled
    ws.write_string(500, 2, "補寫")      # into a spooled row
    ws.data_validation(1, 3, 3000, 3, {"validate": "list", "source": ["x"]})
    ws.repeat_rows(0, 0)
    wb.close()
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("明細").to_python()
    assert rows[0][0] == "標題" and rows[500][:3] == [500.0, "第500列", "補寫"]
    assert [r[0] for r in rows[1:2000]] == [float(r) for r in range(1, 2000)]
    content = zipfile.ZipFile(out).read("content.xml").decode()
    assert content.count("<table:table-header-rows>") == 1
    assert 'table:number-rows-repeated="1001"' in content  # the validated empty rows 2000..3000, as one element


def test_the_tools_own_reader_reads_an_ods_it_wrote(tmp_path):
    from decimal import Decimal

    from budget.exports import read_exports

    out = tmp_path / "116年度歲出預算明細.ods"
    wb = open_book(out)
    ws = wb.add_worksheet("歲出")
    ws.write_string(0, 0, "單位：新臺幣元")
    for c, title in enumerate(("年度", "工作計畫", "用途別科目", "說明", "金額")):
        ws.write_string(1, c, title)
    rows = [("116", "3251011000 資訊管理", "2036 按日按件計資酬金", "性別平等專案小組外聘委員出席費", 22500),
            ("116", "3251011000 資訊管理", "2003 業務費", "  =SUM(A1)  講座鐘點費 <&>", 13400.5)]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            (ws.write_number if isinstance(value, (int, float)) else ws.write_string)(r, c, value)
    wb.close()
    result = read_exports([out])
    assert [(ln.description, ln.amount, ln.row) for ln in result.lines] == [
        ("性別平等專案小組外聘委員出席費", Decimal("22500"), 3), ("  =SUM(A1)  講座鐘點費 <&>", Decimal("13400.5"), 4)]
