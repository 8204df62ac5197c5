"""The report workbook prints: every sheet A4 landscape, one page wide, header rows repeated, page X of Y
and the file name in the footer, a CJK font named; long text is recorded, never cut silently; .ods too."""

from __future__ import annotations

import json
import zipfile
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from budget.cli import app
from budget.pipeline import make_report
from budget.outputs.report_workbook import EVIDENCE_SHEET, FONT, TABLE_SHEET, write_report_workbook
from test_report import books, rules, rules_file, counted  # noqa: F401  (fixtures)
from test_review import line, write_annotated

STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"


def test_every_sheet_of_the_xlsx_report_is_set_up_for_printing(books, rules, tmp_path):  # noqa: F811
    import openpyxl

    out = write_report_workbook(make_report(books, rules), tmp_path / "report.xlsx", books)
    wb = openpyxl.load_workbook(out)
    assert len(wb.worksheets) == 4
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, str(setup.paperSize)) == ("landscape", "9"), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title  # 1 is the default
        assert ws.print_title_rows, ws.title
        footer = ws.oddFooter
        assert footer.left.text == "&F" and "&P" in footer.right.text and "&N" in footer.right.text, ws.title
        texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value]
        assert texts and all(c.font.name == FONT for c in texts), ws.title
        body = [c for c in texts if c.row > 4 and c.alignment.wrap_text]
        assert body or ws.title != TABLE_SHEET
    table = wb[TABLE_SHEET]
    assert table.print_title_rows == "$4:$4"
    tall = [r for r, d in table.row_dimensions.items() if d.height and d.height > 30]
    assert tall, "rows holding wrapped text get the height they need"


def test_every_sheet_of_the_ods_report_is_set_up_for_printing(books, rules, tmp_path):  # noqa: F811
    out = write_report_workbook(make_report(books, rules), tmp_path / "report.ods", books)
    with zipfile.ZipFile(out) as zf:
        content = ET.fromstring(zf.read("content.xml"))
        styles = ET.fromstring(zf.read("styles.xml"))
    tables = content.findall(f".//{{{TABLE}}}table")
    assert [t.get(f"{{{TABLE}}}name") for t in tables][0] == TABLE_SHEET and len(tables) == 4
    for table in tables:
        assert table.find(f"{{{TABLE}}}table-header-rows") is not None
    layouts = list(styles.iter(f"{{{STYLE}}}page-layout-properties"))
    assert len(layouts) == 4
    for props in layouts:
        assert props.get(f"{{{STYLE}}}print-orientation") == "landscape"
        assert props.get(f"{{{FO}}}page-width") == "29.7cm" and props.get(f"{{{STYLE}}}scale-to-X") == "1"
    for master in styles.iter(f"{{{STYLE}}}master-page"):
        footer = master.find(f"{{{STYLE}}}footer")
        for field in ("file-name", "page-number", "page-count"):
            assert footer.find(f".//{{{TEXT}}}{field}") is not None
    faces = [f.get(f"{{{STYLE}}}name") for f in content.iter(f"{{{STYLE}}}font-face")]
    assert faces == [FONT]


def test_report_as_ods_holds_the_same_cells_as_the_xlsx(books, rules, tmp_path):  # noqa: F811
    from python_calamine import CalamineWorkbook

    report = make_report(books, rules)
    xlsx = write_report_workbook(report, tmp_path / "r.xlsx", books)
    ods = write_report_workbook(make_report(books, rules), tmp_path / "r.ods", books)

    def cells(path):
        book = CalamineWorkbook.from_path(str(path))
        return {name: [[v for v in row if v != ""] for row in book.get_sheet_by_name(name).to_python()]
                for name in book.sheet_names}

    a, b = cells(xlsx), cells(ods)
    assert list(a) == list(b)
    for name in a:
        assert [r for r in a[name] if r] == [r for r in b[name] if r], name


def test_text_too_long_for_a_cell_is_recorded_not_cut_silently(rules, tmp_path):  # noqa: F811
    long = "性別意識培力課程" + "說" * 40_000
    book = write_annotated(tmp_path / "long.xlsx", [(line(long, "1000"), counted("gender-training", "1000"), "", "")])
    report = make_report([book], rules)
    write_report_workbook(report, tmp_path / "r.xlsx")
    found = [(p.code, p.sheet) for p in report.problems if p.code == "text-too-long"]
    assert (("text-too-long", TABLE_SHEET) in found) and len(found) >= 1
    assert all(p.row and p.column for p in report.problems if p.code == "text-too-long")


def test_cli_writes_the_report_as_ods(books, rules, rules_file, tmp_path):  # noqa: F811
    out = tmp_path / "報告.ods"
    result = CliRunner().invoke(app, ["report", *map(str, books), "-r", str(rules_file), "-o", str(out), "--json"])
    assert result.exit_code == 1, result.output  # one line still waits for review
    payload = json.loads(result.stdout)
    assert payload.pop("output") == str(out)
    assert payload == make_report(books, rules).to_dict()
    with zipfile.ZipFile(out) as zf:
        assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_the_evidence_appendix_keeps_the_matcher_evidence(rules, tmp_path, suffix):  # noqa: F811
    from python_calamine import CalamineWorkbook

    rows = [(line("性別意識培力課程講座", "1000"), counted("gender-training", "1000"), "", "")]
    book = write_annotated(tmp_path / "e.xlsx", rows)
    out = write_report_workbook(make_report([book], rules), tmp_path / f"r{suffix}")
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(EVIDENCE_SHEET).to_python()
    assert sheet[3][:3] == ["類別", "項目", "性別預算數（千元）"]
    assert sheet[4][0] == "第3類 工具類" and "性別意識培力課程" in sheet[4][1]
