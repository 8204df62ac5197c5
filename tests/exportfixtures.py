"""Builders for the reader's test corpus: budget exports as offices produce them, and broken or hostile files.

Every builder writes one file into a directory (pytest's ``tmp_path``) and returns its path. The
contents are made up for the tests; nothing is copied from real budget books.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

# --- the standard small table -------------------------------------------------------------------

TITLE = "臺北市政府資訊局 116年度 歲出預算明細表"
UNIT_LINE = "單位：新臺幣千元"
HEADER = ["工作計畫", "用途別科目", "說明", "本年度預算數"]
#: (plan, account, description, amount) — amounts as they sit in the cells
ROWS = [
    ["3203100100 一般行政", "2036 按日按件計資酬金", "性別平等專案小組外聘委員出席費", 60],
    ["3203100100 一般行政", "2003 教育訓練費", "性別意識培力課程講座鐘點費", 40],
    ["3203100100 一般行政", "2054 一般事務費", "辦公用品及文具", 1234],
]


def _openpyxl():
    import openpyxl

    return openpyxl


def simple_xlsx(tmp: Path, name: str = "simple.xlsx", rows: list[list] | None = None,
                header: list[str] | None = None, title_rows: list[str] | None = None) -> Path:
    """A plain export: optional title rows, one header row, data rows."""
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "歲出明細"
    for t in title_rows or []:
        ws.append([t])
    ws.append(header or HEADER)
    for r in rows if rows is not None else ROWS:
        ws.append(r)
    path = tmp / name
    wb.save(path)
    return path


def simple_xlsxwriter(tmp: Path, name: str = "simple_xw.xlsx") -> Path:
    """The standard table written by xlsxwriter (which, unlike openpyxl, uses a shared-strings part)."""
    import xlsxwriter

    path = tmp / name
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("歲出明細")
    ws.write_row(0, 0, HEADER)
    for r, values in enumerate(ROWS, start=1):
        ws.write_row(r, 0, values)
    wb.close()
    return path


def layout_xlsx(tmp: Path) -> Path:
    """The office layout the issue describes, in one sheet "預算" next to a hidden sheet "代碼表".

    Row 1 title, row 2 unit line, rows 4-5 a two-row header with merged cells (科目 over 代碼/名稱,
    說明 and 金額 merged down), data from row 6: amounts as numbers and as text in every accepted
    form, a blank row, a hidden row, a 小 計 row, a formula without a cached value, a code stored as
    a number with format 0000, and a 合計 row.
    """
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "預算"
    ws["A1"] = TITLE
    ws["A2"] = UNIT_LINE
    ws["A4"], ws["C4"], ws["D4"] = "科目", "說明", "金額"
    ws.merge_cells("A4:B4")
    ws.merge_cells("C4:C5")
    ws.merge_cells("D4:D5")
    ws["A5"], ws["B5"] = "代碼", "名稱"
    data = [
        ("2036", "按日按件計資酬金", "性別平等專案小組委員出席費", 60),          # row 6
        ("2003", "教育訓練費", "性別意識培力課程", "1,234"),                     # row 7
        ("2054", "一般事務費", "職務代理人費用", "１２３"),                       # row 8
        (None, None, None, None),                                               # row 9 blank
        ("2054", "一般事務費", "退回款", "(1,234)"),                              # row 10
        ("2054", "一般事務費", "沖銷", "△500"),                                  # row 11 (hidden)
        (None, None, "小 計", "=SUM(D6:D11)"),                                   # row 12 formula, no cached value
        ("0271", "測試科目", "代碼以文字儲存", 10),                               # row 13
        (271, "測試科目", "代碼以數字儲存", 20),                                  # row 14 (format 0000)
        ("2036", "按日按件計資酬金", "講座鐘點費", "=D6*2"),                       # row 15 formula line
        ("2036", "按日按件計資酬金", "金額打錯", "12,34"),                        # row 16 unreadable
        (None, None, "合計", 1000),                                              # row 17
    ]
    for i, values in enumerate(data, start=6):
        for j, v in enumerate(values, start=1):
            if v is not None:
                ws.cell(row=i, column=j, value=v)
    ws["A14"].number_format = "0000"
    ws.row_dimensions[11].hidden = True
    hidden = wb.create_sheet("代碼表")
    hidden.append(["說明", "金額"])
    hidden.append(["隱藏工作表的資料", 5])
    hidden.sheet_state = "hidden"
    path = tmp / "layout.xlsx"
    wb.save(path)
    return path


def offset_xlsx(tmp: Path) -> Path:
    """Data that does not start at A1: header at C3, data at C4 and C6 (C5 blank)."""
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"] = "說明", "金額"
    ws["C4"], ws["D4"] = "出席費", 5
    ws["C6"], ws["D6"] = "鐘點費", 7
    path = tmp / "offset.xlsx"
    wb.save(path)
    return path


def two_sheets_xlsx(tmp: Path) -> Path:
    """Two data sheets (A, B), a notes sheet without a header and an empty sheet."""
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook()
    a = wb.active
    a.title = "資訊局"
    a.append(["說明", "預算數"])
    a.append(["出席費", 1])
    b = wb.create_sheet("秘書室")
    b.append(["摘要", "經費"])
    b.append(["鐘點費", 2])
    b.append(["代理人", 3])
    notes = wb.create_sheet("說明頁")
    notes.append(["本表依主計總處格式編製"])
    notes.append(["聯絡人：王小明"])
    wb.create_sheet("空白")
    path = tmp / "two_sheets.xlsx"
    wb.save(path)
    return path


def xlsxwriter_formulas(tmp: Path) -> Path:
    """Formulas written by xlsxwriter: stored with a cached value of 0."""
    import xlsxwriter

    path = tmp / "xw_formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("明細")
    ws.write_row(0, 0, ["說明", "金額"])
    ws.write_row(1, 0, ["出席費", 100])
    ws.write(2, 0, "鐘點費")
    ws.write_formula(2, 1, "=B2*2")
    wb.close()
    return path


def codes_xlsx(tmp: Path) -> Path:
    """A code column with text '0271', number 271 formatted 0000, and a plain number 1234."""
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["科目代碼", "說明", "金額"])
    ws.append(["0271", "文字代碼", 1])
    ws.append([271, "數字代碼補零", 2])
    ws.append([1234, "數字代碼", 3])
    ws["A3"].number_format = "0000"
    path = tmp / "codes.xlsx"
    wb.save(path)
    return path


# --- other formats --------------------------------------------------------------------------------

def real_xls(tmp: Path, name: str = "legacy.xls") -> Path | None:
    """A BIFF .xls written by xlwt (None when xlwt is not installed)."""
    try:
        import xlwt
    except ImportError:
        return None
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("預算")
    sheet.write(0, 0, TITLE)
    sheet.write(1, 0, UNIT_LINE)
    for c, title in enumerate(HEADER):
        sheet.write(3, c, title)
    for r, values in enumerate(ROWS, start=4):
        for c, v in enumerate(values):
            sheet.write(r, c, v)
    code_style = xlwt.easyxf(num_format_str="0000")
    sheet.write(7, 0, "3203100100 一般行政")
    sheet.write(7, 1, 271, code_style)  # a code stored as a number, shown as 0271
    sheet.write(7, 2, "代碼以數字儲存")
    sheet.write(7, 3, 5)
    sheet.write(8, 2, "合計")
    sheet.write(8, 3, 1339)
    sheet.row(6).hidden = True
    hidden = book.add_sheet("隱藏")
    hidden.write(0, 0, "x")
    hidden.visibility = 1
    path = tmp / name
    book.save(str(path))
    return path


def real_ods(tmp: Path, name: str = "budget.ods") -> Path:
    """An .ods written with odfpy: title row, header, data (a code as text '0271'), a hidden sheet."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    hidden_style = Style(name="hiddentable", family="table")
    hidden_style.addElement(TableProperties(display=False))
    doc.automaticstyles.addElement(hidden_style)

    def row(values):
        tr = TableRow()
        for v in values:
            if v is None:
                tr.addElement(TableCell())
            elif isinstance(v, (int, float)):
                cell = TableCell(valuetype="float", value=v)
                cell.addElement(P(text=str(v)))
                tr.addElement(cell)
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=v))
                tr.addElement(cell)
        return tr

    table = Table(name="歲出")
    table.addElement(row([TITLE]))
    table.addElement(row(["科目代碼", "說明", "金額(元)"]))
    table.addElement(row(["0271", "性別平等專案小組出席費", 2500]))
    table.addElement(row(["2003", "性別培力課程", 12000]))
    doc.spreadsheet.addElement(table)
    other = Table(name="隱藏表", stylename=hidden_style)
    other.addElement(row(["說明", "金額"]))
    other.addElement(row(["不應讀到", 1]))
    doc.spreadsheet.addElement(other)
    path = tmp / name
    doc.save(str(path))
    return path


def layout_ods(tmp: Path, name: str = "layout.ods") -> Path:
    """An .ods with a two-row header spanned by merged cells (科目 over 代碼/名稱), a hidden row 5 and a
    subtotal formula with no computed value in row 6 (as a program writes it)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()

    def text(value, **kw):
        cell = TableCell(valuetype="string", **kw)
        cell.addElement(P(text=value))
        return cell

    def number(value):
        cell = TableCell(valuetype="float", value=value)
        cell.addElement(P(text=str(value)))
        return cell

    table = Table(name="預算")
    r1 = TableRow()
    r1.addElement(text("科目", numbercolumnsspanned=2))
    r1.addElement(CoveredTableCell())
    r1.addElement(text("說明", numberrowsspanned=2))
    r1.addElement(text("金額(千元)", numberrowsspanned=2))
    table.addElement(r1)
    r2 = TableRow()
    r2.addElement(text("代碼"))
    r2.addElement(text("名稱"))
    r2.addElement(CoveredTableCell())
    r2.addElement(CoveredTableCell())
    table.addElement(r2)
    for values, kw in ((("2036", "按日按件計資酬金", "出席費", 60), {}), (("2003", "教育訓練費", "培力課程", 40), {}),
                       (("2054", "一般事務費", "隱藏列", 5), {"visibility": "collapse"})):
        row = TableRow(**kw)
        for v in values:
            row.addElement(number(v) if isinstance(v, int) else text(v))
        table.addElement(row)
    total = TableRow()
    total.addElement(TableCell())
    total.addElement(TableCell())
    total.addElement(text("小計"))
    total.addElement(TableCell(formula="of:=SUM([.D3:.D5])"))
    table.addElement(total)
    doc.spreadsheet.addElement(table)
    path = tmp / name
    doc.save(str(path))
    return path


def csv_file(tmp: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV file with the given rows, encoded as asked (utf-8, utf-8-sig, cp950, utf-16)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path = tmp / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def big5_csv_with_private_char(tmp: Path) -> Path:
    """A cp950 CSV whose row 3 description holds a user-defined character (造字, bytes FA 40)."""
    lines = [
        "科目代碼,說明,金額",
        "0271,性別平等專案小組出席費,100",
        "2036,@@委員出席費,50",
        "2003,性別培力課程,30",
    ]
    data = "\r\n".join(lines).encode("cp950").replace(b"@@", "林".encode("cp950") + b"\xfa\x40") + b"\r\n"
    path = tmp / "big5.csv"
    path.write_bytes(data)
    return path


# --- broken and hostile files -------------------------------------------------------------------

def renamed(src: Path, tmp: Path, name: str) -> Path:
    """A copy of ``src`` under another name (e.g. an .xls renamed .xlsx)."""
    path = tmp / name
    shutil.copyfile(src, path)
    return path


def text_file(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def html_as_xls(tmp: Path, name: str = "web.xls") -> Path:
    """A web page saved with a spreadsheet extension, as many web systems export."""
    return text_file(tmp, name, "<html><head><meta charset='utf-8'></head><body><table><tr><td>說明</td>"
                                "<td>金額</td></tr><tr><td>出席費</td><td>1</td></tr></table></body></html>")


def truncated(src: Path, tmp: Path, fraction: float = 0.6) -> Path:
    """The first part of a file, as an interrupted download leaves it."""
    data = src.read_bytes()
    path = tmp / ("truncated" + src.suffix)
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def corrupt_member(src: Path, tmp: Path, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """A zip whose sheet data bytes were damaged after compression (the CRC no longer matches)."""
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
        offset = info.header_offset
    data = bytearray(src.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[offset + 26: offset + 30])
    start = offset + 30 + name_len + extra_len
    for i in range(start + 10, min(start + info.compress_size - 2, start + 60)):
        data[i] ^= 0x5A
    path = tmp / ("corrupt" + src.suffix)
    path.write_bytes(bytes(data))
    return path


def encrypted_xlsx(src: Path, tmp: Path, password: str = "secret") -> Path:
    """``src`` encrypted with a password, as Excel's "Encrypt with Password" stores it (an OLE file)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    path = tmp / "encrypted.xlsx"
    with src.open("rb") as fin, path.open("wb") as fout:
        OOXMLFile(fin).encrypt(password, fout)
    return path


def rewrite_members(src: Path, tmp: Path, name: str, change) -> Path:
    """A copy of an .xlsx with ``change(member_name, bytes) -> bytes`` applied to every member."""
    path = tmp / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    return path


def sparse_far_cell(src: Path, tmp: Path) -> Path:
    """A well-formed small workbook with one extra cell at XFD1048576 (aborts python-calamine 0.9)."""
    def change(member: str, data: bytes) -> bytes:
        if member.endswith("worksheets/sheet1.xml"):
            return data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
        return data
    return rewrite_members(src, tmp, "sparse_far.xlsx", change)


_LOL = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b"]>\n")


def billion_laughs(src: Path, tmp: Path, member: str = "xl/sharedStrings.xml") -> Path:  # noqa: D401
    """An entity-expansion bomb in one XML part (the DTD goes before the root element)."""
    def change(name: str, data: bytes) -> bytes:
        if name == member:
            body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
            return _LOL + body.replace(b"</si>", b"</si><si><t>&lol9;</t></si>", 1)
        return data
    if member not in zipfile.ZipFile(src).namelist():
        raise ValueError(f"{src.name} has no {member}")
    return rewrite_members(src, tmp, "lol_" + member.replace("/", "_") + ".xlsx", change)


def xxe(src: Path, tmp: Path, secret: Path) -> Path:
    """An external-entity reference to a local file in the sheet XML."""
    def change(name: str, data: bytes) -> bytes:
        if name.endswith("worksheets/sheet1.xml"):
            body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
            return (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://' + str(secret).encode()
                    + b'">]>' + body)
        return data
    return rewrite_members(src, tmp, "xxe.xlsx", change)


def ratio_bomb(src: Path, tmp: Path, megabytes: int = 40) -> Path:
    """A workbook with an extra part of ``megabytes`` of zeros: tiny on disk, a ratio over 1000:1."""
    path = tmp / "ratio_bomb.xlsx"
    shutil.copyfile(src, path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * (megabytes << 20))
    return path


def declared_size_bomb(src: Path, tmp: Path, declared: int = 3 << 30) -> Path:
    """A workbook whose central directory declares a 3 GiB uncompressed sheet (the bytes are small)."""
    data = bytearray(src.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack("<I", data[eocd + 16: eocd + 20])[0]
    pos = cd_offset
    while data[pos:pos + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28: pos + 34])
        name = bytes(data[pos + 46: pos + 46 + name_len])
        if name.endswith(b"sheet1.xml"):
            data[pos + 24: pos + 28] = struct.pack("<I", min(declared, 0xFFFFFFFF))
        pos += 46 + name_len + extra_len + comment_len
    path = tmp / "declared_bomb.xlsx"
    path.write_bytes(bytes(data))
    return path


def soffice_convert(src: Path, tmp: Path, fmt: str) -> Path | None:
    """Convert with LibreOffice headless (None when it is not installed or fails)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        return None
    out = tmp / f"lo_{fmt}"
    out.mkdir(exist_ok=True)
    try:
        profile = (tmp / "lo_profile").resolve().as_uri()
        subprocess.run([exe, f"-env:UserInstallation={profile}", "--headless", "--convert-to", fmt,
                        "--outdir", str(out), str(src)],
                       capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    result = out / (src.stem + "." + fmt)
    return result if result.exists() else None


# --- hostile files of issue 14: tiny files that declare huge things ------------------------------

def minimal_ods(tmp: Path, name: str, rows_xml: str) -> Path:
    """An .ods whose one table "S" holds ``rows_xml`` (table-row elements written by hand)."""
    content = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="S">{rows_xml}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    path = tmp / name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml",
                   '<?xml version="1.0"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                   'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                   '</manifest:manifest>')
    return path


def ods_cell(value, attrs: str = "") -> str:
    """One table-cell element (a float or a string) for :func:`minimal_ods`."""
    if value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value="{value}"{attrs}>'
                f"<text:p>{value}</text:p></table:table-cell>")
    return f'<table:table-cell office:value-type="string"{attrs}><text:p>{value}</text:p></table:table-cell>'


def ods_row(values, extra: str = "", attrs: str = "") -> str:
    """One table-row element of ``values`` (plus raw ``extra`` cells) for :func:`minimal_ods`."""
    return f"<table:table-row{attrs}>" + "".join(ods_cell(v) for v in values) + extra + "</table:table-row>"


def ods_small_table() -> str:
    """The rows of a three-line export: header 說明/金額, lines of 100, 200, 300."""
    return ods_row(["說明", "金額"]) + "".join(ods_row([f"項目{i}", i * 100]) for i in (1, 2, 3))


def xlsx_sheet_edit(src: Path, tmp: Path, name: str, edit) -> Path:
    """A copy of an .xlsx with ``edit(bytes) -> bytes`` applied to its first worksheet's XML."""
    def change(member: str, data: bytes) -> bytes:
        return edit(data) if member.endswith("worksheets/sheet1.xml") else data
    return rewrite_members(src, tmp, name, change)


def xlsx_far_merges(src: Path, tmp: Path, count: int = 5) -> Path:
    """``count`` merged ranges a million rows long below the data (6 KB, 1.6 GB in the old reader)."""
    refs = "".join(f'<mergeCell ref="{"ABCD"[i % 4]}{100 + i}:{"ABCD"[i % 4]}{1_000_000 + i}"/>' for i in range(count))

    def edit(data: bytes) -> bytes:
        data = re.sub(rb"<mergeCells[^>]*>.*?</mergeCells>|<mergeCells[^>]*/>", b"", data, flags=re.S)
        tag = f'<mergeCells count="{count}">{refs}</mergeCells>'.encode()
        return data.replace(b"</sheetData>", b"</sheetData>" + tag, 1)
    return xlsx_sheet_edit(src, tmp, f"merges{count}.xlsx", edit)


def xls_many_merges(tmp: Path, merges: int = 150) -> Path | None:
    """An .xls whose ``merges`` merged ranges all cover rows 3…65,536 of every column (overlapping, as no
    honest writer does; 2.8 GB in the old reader). Written by xlwt with disjoint merges, then the
    MERGEDCELLS record is patched in place."""
    try:
        import xlwt
    except ImportError:
        return None
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("預算")
    sheet.write(0, 0, "說明")
    sheet.write(0, 1, "金額")
    sheet.write(1, 0, "出席費")
    sheet.write(1, 1, 100)
    for i in range(merges):
        sheet.merge(10 + i, 10 + i, 2, 3)
    path = tmp / "merges.xls"
    book.save(str(path))
    data = bytearray(path.read_bytes())
    record = data.find(struct.pack("<HHH", 0x00E5, 2 + 8 * merges, merges))  # MERGEDCELLS, all in one record
    for i in range(merges):
        at = record + 6 + 8 * i
        data[at:at + 8] = struct.pack("<HHHH", 2, 65_535, 0, 255)
    path.write_bytes(bytes(data))
    return path


def xlsx_formula_amounts(tmp: Path, rows: int, name: str = "formulas.xlsx") -> Path:
    """An .xlsx whose every amount is a formula with its cached value, written the way Excel saves it."""
    body = io.StringIO()
    body.write('<row r="1"><c r="A1" t="inlineStr"><is><t>說明</t></is></c>'
               '<c r="B1" t="inlineStr"><is><t>金額</t></is></c></row>')
    for r in range(2, rows + 2):
        body.write(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>項目{r}</t></is></c>'
                   f'<c r="B{r}" s="1"><f>C{r}*2</f><v>{r * 2}</v></c><c r="C{r}"><v>{r}</v></c></row>')
    return _xlsx_from_sheet_xml(tmp, name, body.getvalue())


def _xlsx_from_sheet_xml(tmp: Path, name: str, sheet_data: str, shared: list[str] | None = None) -> Path:
    """A minimal valid .xlsx around ``sheet_data`` (the rows), with an optional shared-strings part."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    path = tmp / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>' if shared is not None else "")
                   + "</Types>")
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}"><sheets>'
                   '<sheet name="歲出" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                   + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>' if shared is not None else "")
                   + "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData>{sheet_data}</sheetData></worksheet>')
        if shared is not None:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            z.writestr("xl/sharedStrings.xml",
                       f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{len(shared)}" '
                       f'uniqueCount="{len(shared)}">{items}</sst>')
    return path


def xlsx_shared_strings(tmp: Path, name: str, index: str) -> Path:
    """An .xlsx whose description in row 3 points at shared string ``index`` (valid: 0…3)."""
    shared = ["說明", "金額", "出席費", "講座鐘點費"]
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>100</v></c></row>'
            f'<row r="3"><c r="A3" t="s"><v>{index}</v></c><c r="B3"><v>200</v></c></row>')
    return _xlsx_from_sheet_xml(tmp, name, rows, shared)


def xlsx_amount_cell(tmp: Path, name: str, cell_xml: str) -> Path:
    """An .xlsx with one line whose amount cell (B2) is ``cell_xml`` (the whole <c> element)."""
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>說明</t></is></c><c r="B1" t="inlineStr"><is><t>金額</t></is></c></row>'
            f'<row r="2"><c r="A2" t="inlineStr"><is><t>出席費</t></is></c>{cell_xml}</row>')
    return _xlsx_from_sheet_xml(tmp, name, rows)
