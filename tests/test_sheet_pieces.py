"""The .xlsx facts scan (budget.exports.sheet_facts) reads a sheet's XML in pieces of whole rows: the
facts found are the same whatever the piece size, with or without a namespace prefix on the tags."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

import pytest
import xlsxwriter

from budget.exports import sheet_facts, sheet_worker


def _workbook(path: Path) -> Path:
    # constant_memory: strings inline in the sheet (as many exports have them), rows written in order
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("明細")
    code = wb.add_format({"num_format": "0000"})
    ws.write_row(0, 0, ["說明", "預算數", "科目代碼"])
    for r in range(1, 60):
        if r in (5, 6, 7, 30):
            ws.set_row(r, None, None, {"hidden": True})
        if r == 50:
            ws.merge_range(50, 0, 52, 0, "合併")
        elif r == 55:
            ws.merge_range(55, 0, 55, 2, "橫向合併")
            continue
        elif r not in (51, 52):
            # "row>" and an escaped "<" in text; a control character (written as _x0007_) in one row
            ws.write_string(r, 0, "控制\x07字元" if r == 40 else f"第 {r} 列 row> 說明 a<b")
        if r % 7 == 0:
            ws.write_formula(r, 1, f"=10*{r}", None, 10 * r)  # a formula with its cached value
        elif r % 11 == 0:
            ws.write_formula(r, 1, f"=SUM(B1:B{r})", None, "")  # a formula without one
        else:
            ws.write_number(r, 1, r * 1000)
        ws.write_number(r, 2, 42, code)
    wb.close()
    return path


def _prefixed(src: Path, dst: Path) -> Path:
    """The same workbook with every tag of the sheet written with a namespace prefix (``<x:row>``)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<worksheet xmlns="', b'<x:worksheet xmlns:x="', 1)
                data = re.sub(rb"<(/?)(?!x:)([A-Za-z][\w.-]*[\s>/])", rb"<\1x:\2", data)
            zout.writestr(info, data)
    return dst


def _facts(path: Path, piece: int) -> sheet_facts.SheetFacts:
    with zipfile.ZipFile(path) as zf:
        listed = sheet_facts.xlsx_sheets(zf)
        old = sheet_facts.SCAN_PIECE
        sheet_facts.SCAN_PIECE = piece
        try:
            facts = sheet_facts.scan_xlsx_sheet(zf, listed[0], sheet_facts.xlsx_shared_count(zf))
            widths = sheet_facts.xlsx_code_widths(zf, listed[0].part, {(r, 3) for r in range(2, 61)})
        finally:
            sheet_facts.SCAN_PIECE = old
    return facts, widths


def _summary(facts: sheet_facts.SheetFacts) -> tuple:
    return (sorted(r for r in range(1, 100) if r in facts.hidden_rows), sorted(facts.formulas.items()),
            sorted(facts.merges), facts.merges_known, facts.escapes, facts.bad_shared)


@pytest.mark.parametrize("prefixed", [False, True])
def test_facts_do_not_depend_on_the_piece_size(tmp_path, prefixed):
    path = _workbook(tmp_path / "book.xlsx")
    if prefixed:
        path = _prefixed(path, tmp_path / "prefixed.xlsx")
    whole, whole_widths = _facts(path, 1 << 30)
    expected = _summary(whole)
    # What the workbook holds: hidden rows, formulas with and without values, both merges, an escape.
    hidden, formulas, merges, known, escapes, bad = expected
    assert hidden == [6, 7, 8, 31]
    assert len(formulas) == 8 + 4 and sum(1 for _, f in formulas if not f.has_value) == 4
    assert merges == [(51, 1, 53, 1), (56, 1, 56, 3)] and known and escapes and bad is None
    assert whole_widths and set(whole_widths.values()) == {4}
    for piece in (1, 64, 500, 4096):  # from a cut after every row to a few rows a piece
        facts, widths = _facts(path, piece)
        assert _summary(facts) == expected, piece
        assert widths == whole_widths


def test_a_piece_ends_after_a_row_end_tag_only():
    assert sheet_worker.after_last_row_end(b'<row r="1"><c/></row><row r="2">') == len(b'<row r="1"><c/></row>')
    assert sheet_worker.after_last_row_end(b'<x:row r="1"></x:row><x:row>') == len(b'<x:row r="1"></x:row>')
    assert sheet_worker.after_last_row_end(b"<row><c><is><t>arrow></t></is></c>") == -1  # a start tag, text
    assert sheet_worker.after_last_row_end(b"<sheetData/>") == -1


def test_a_damaged_sheet_part_is_still_refused(tmp_path):
    path = _workbook(tmp_path / "book.xlsx")
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # Flip a byte inside the compressed sheet: its CRC no longer matches what reading to the end finds.
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    raw[at] ^= 0xFF
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(raw))
    with pytest.raises((zipfile.BadZipFile, zlib.error)):
        _facts(damaged, 64)
