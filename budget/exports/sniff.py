"""Decide what an input file is from its bytes, and refuse broken or unsafe containers before any parser runs."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..problems import BudgetError, Problem

XLSX, XLS, ODS, CSV = "xlsx", "xls", "ods", "csv"

#: Extensions and the format each one promises.
EXTENSION_FORMATS = {
    ".xlsx": XLSX, ".xlsm": XLSX, ".xls": XLS, ".ods": ODS,
    ".csv": CSV, ".txt": CSV, ".tsv": CSV, ".tab": CSV,
}
FORMAT_NAMES = {XLSX: "Excel 活頁簿 (.xlsx)", XLS: "舊版 Excel 97-2003 (.xls)", ODS: "ODF 試算表 (.ods)",
                CSV: "文字檔 (CSV)"}

# Limits of the zip container, checked on the central directory before anything is inflated.
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 1 << 30          # one part (a sheet, the shared strings) may inflate to 1 GiB
MAX_TOTAL_BYTES = 2 << 30           # all parts together
MAX_RATIO = 100                     # real sheets compress ~8:1; bombs 250:1 and more
RATIO_FLOOR_BYTES = 16 << 20        # parts smaller than this may compress as well as they like

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What a file is: its format and, for zip containers, the names of its XML parts."""

    format: str
    size: int


def _fail(code: str, message: str, message_en: str, display: str, hint: str = "") -> BudgetError:
    return BudgetError([Problem(code, message, message_en, file=display, hint=hint)])


def sniff(path: Path, display: str) -> Sniffed:
    """The format of ``path`` (xlsx/xls/ods/csv) decided from its bytes; checks the extension agrees.

    Raises :class:`BudgetError` for a missing file, a folder, an empty file, a password-protected
    workbook, HTML or XML saved with a spreadsheet extension, a text file named like a workbook, a
    workbook whose extension names another format, and anything that is not a spreadsheet.
    """
    if not path.exists():
        raise _fail("file-not-found", "找不到檔案；請確認路徑與檔名是否正確。", "file not found", display)
    if path.is_dir():
        raise _fail("file-is-directory", "這是資料夾，不是檔案；請指定資料夾內的預算匯出檔。",
                    "this is a directory, not a file", display)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise _fail("file-unreadable", f"無法開啟檔案（{exc.strerror or exc}）；請確認權限或檔案是否被其他程式鎖定。",
                    "cannot open the file", display) from None
    if size == 0:
        raise _fail("file-empty", "檔案是空的（0 位元組）；請重新匯出。", "the file is empty (0 bytes)", display)
    ext = path.suffix.lower()
    promised = EXTENSION_FORMATS.get(ext)

    if head.startswith(_ZIP_MAGICS):
        actual = _zip_kind(path, display)
    elif head.startswith(_OLE_MAGIC):
        actual = _ole_kind(path, display)
    else:
        actual = _text_kind(head, display, ext, promised)

    if promised and promised != actual and not (promised == CSV and actual == CSV):
        raise _fail(
            "file-extension-mismatch",
            f"副檔名是 {ext}，但內容其實是{FORMAT_NAMES[actual]}；請將副檔名改為 "
            f"{_preferred_ext(actual)}，或用 Excel/LibreOffice 開啟後另存為 .xlsx 再試。",
            f"the file is named {ext} but is really {actual}; rename it or save it again as .xlsx",
            display,
        )
    return Sniffed(actual, size)


def _preferred_ext(fmt: str) -> str:
    return {XLSX: ".xlsx", XLS: ".xls", ODS: ".ods", CSV: ".csv"}[fmt]


def _text_kind(head: bytes, display: str, ext: str, promised: str | None) -> str:
    """HTML, XML Spreadsheet 2003, binary junk or text (CSV)."""
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    text_head = head.decode("utf-16", "ignore").lower() if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
    sample = stripped[:2048]
    if sample.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body")) or \
            text_head.lstrip().startswith(("<html", "<!doctype html", "<table")):
        raise _fail("file-is-html",
                    "這是網頁（HTML）存成試算表的副檔名，不是真正的活頁簿；請用 Excel 開啟後「另存新檔」為 .xlsx 再試。",
                    "a web page (HTML) saved with a spreadsheet extension, not a workbook; open it in Excel "
                    "and save it as .xlsx", display)
    if sample.startswith(b"<?xml") or sample.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head or b"excel.sheet" in head.lower():
            raise _fail("file-is-xml-spreadsheet",
                        "這是「XML 試算表 2003」格式；請用 Excel 開啟後另存為 .xlsx 再試。",
                        "an XML Spreadsheet 2003 file; save it as .xlsx in Excel", display)
        if promised != CSV:
            raise _fail("file-not-spreadsheet", "這是 XML 文件，不是試算表；請匯出為 .xlsx、.ods 或 .csv。",
                        "an XML document, not a spreadsheet", display)
    is_utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
    if not is_utf16 and b"\x00" in head and not _text_with_stray_nul(head):
        raise _fail("file-not-spreadsheet", "這不是可讀取的試算表或文字檔；請匯出為 .xlsx、.ods、.xls 或 .csv。",
                    "not a spreadsheet or text file", display)
    if promised in (XLSX, XLS, ODS):
        raise _fail("file-is-text",
                    f"副檔名是 {ext}，但內容是純文字（可能是 CSV）；若是 CSV，請將副檔名改為 .csv；"
                    "否則請用 Excel 開啟後另存為 .xlsx。",
                    f"named {ext} but the content is plain text (CSV?); rename it to .csv or save it as .xlsx",
                    display)
    return CSV


#: NUL bytes a text file may hold in its first 8 KB and still be read as text (each row with one is flagged).
MAX_STRAY_NUL = 8


def _text_with_stray_nul(head: bytes) -> bool:
    """True for text with a few stray NUL bytes (a CSV edited by a faulty program): read it, flag the rows.

    Binary files hold many NULs and do not decode; the rest of the text must decode as UTF-8 or Big5.
    """
    if head.count(b"\x00") > MAX_STRAY_NUL:
        return False
    rest = head.replace(b"\x00", b"")
    for codec in ("utf-8", "cp950"):
        try:
            rest.decode(codec)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(rest) - 3:  # the 8 KB cut a character in two
                return True
    return False


def _ole_kind(path: Path, display: str) -> str:
    """An OLE2 compound file: an encrypted OOXML package, a BIFF .xls, or something else."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # olefile raises OSError/ValueError/struct errors on damaged files
        raise _fail("file-corrupt", "檔案已損毀或不完整（例如下載中斷）；請重新匯出。",
                    "the file is damaged or incomplete", display) from None
    if "encryptioninfo" in streams or "encryptedpackage" in streams:
        raise _fail("file-encrypted",
                    "活頁簿有密碼保護，無法讀取；請在 Excel 移除密碼（檔案 › 資訊 › 保護活頁簿）後重新存檔再試。",
                    "the workbook is password-protected; remove the password in Excel and save again", display)
    if "workbook" in streams or "book" in streams:
        return XLS
    what = ("Word 文件" if "worddocument" in streams
            else "PowerPoint 簡報" if "powerpoint document" in streams else "Office 檔案")
    raise _fail("file-not-spreadsheet", f"這是{what}，不是試算表；請匯出為 .xlsx、.ods、.xls 或 .csv。",
                "an Office file that is not a spreadsheet", display)


def _zip_kind(path: Path, display: str) -> str:
    """An .xlsx or .ods zip package whose central directory is sane; raises otherwise."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            mimetype = zf.read("mimetype")[:200].strip() if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError,
            NotImplementedError):
        raise _fail("file-corrupt", "檔案已損毀或不完整（例如下載中斷，zip 結構無法讀取）；請重新匯出或重新下載。",
                    "the file is damaged or incomplete (broken zip); export or download it again", display) from None
    check_zip_sizes(infos, display)
    lower = {n.lower() for n in names}
    if mimetype == _ODS_MIMETYPE or (mimetype.startswith(_ODS_MIMETYPE) and "content.xml" in lower):
        if "content.xml" not in lower:
            raise _fail("file-corrupt", "ODF 試算表缺少 content.xml，檔案不完整；請重新匯出。",
                        "the .ods file has no content.xml", display)
        try:
            encrypted = "meta-inf/manifest.xml" in lower and _ods_encrypted(path)
        except Exception:  # zlib.error, BadZipFile (CRC): the package is damaged
            raise _fail("file-corrupt", "檔案已損毀或不完整；請重新匯出或重新下載。",
                        "the file is damaged or incomplete", display) from None
        if encrypted:
            raise _fail("file-encrypted", "試算表有密碼保護，無法讀取；請移除密碼後重新存檔再試。",
                        "the .ods file is password-protected", display)
        return ODS
    if "xl/workbook.bin" in lower:
        raise _fail("file-is-xlsb", "這是 Excel 二進位活頁簿 (.xlsb)；請用 Excel 另存為 .xlsx 再試。",
                    "an Excel binary workbook (.xlsb); save it as .xlsx", display)
    if "[content_types].xml" in lower and any(n.endswith("workbook.xml") for n in lower):
        return XLSX
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        raise _fail("file-not-spreadsheet", "這是 ODF 文書或簡報檔，不是試算表；請匯出為 .ods 或 .xlsx。",
                    "an ODF document that is not a spreadsheet", display)
    if "word/document.xml" in lower or "ppt/presentation.xml" in lower:
        raise _fail("file-not-spreadsheet", "這是 Word 或 PowerPoint 檔案，不是試算表；請匯出為 .xlsx。",
                    "a Word or PowerPoint file, not a spreadsheet", display)
    raise _fail("file-not-spreadsheet", "這是 zip 壓縮檔，不是 Excel 或 ODF 試算表；請解壓縮後指定其中的試算表。",
                "a zip archive, not an Excel or ODF workbook", display)


def _ods_encrypted(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        manifest = zf.read(next(n for n in zf.namelist() if n.lower() == "meta-inf/manifest.xml"))
    return b"encryption-data" in manifest


def check_zip_sizes(infos: list[zipfile.ZipInfo], display: str) -> None:
    """Refuse a zip whose central directory declares absurd sizes (a zip bomb) or too many parts.

    Both zipfile and calamine refuse to inflate a member past its declared size, so the
    declared sizes are a sound upper bound.
    """
    if len(infos) > MAX_MEMBERS:
        raise _fail("file-too-large", f"檔案內含 {len(infos):,} 個部件，超過上限 {MAX_MEMBERS:,}，不像正常的試算表；未處理。",
                    f"{len(infos)} parts in the package, more than {MAX_MEMBERS}", display)
    total = 0
    for info in infos:
        total += info.file_size
        if info.flag_bits & 0x1:
            raise _fail("file-encrypted", "檔案內容以 zip 密碼加密，無法讀取；請移除密碼後重新匯出。",
                        "zip members are encrypted", display)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO):
            raise _fail(
                "file-too-large",
                f"檔案內的 {info.filename} 宣告解壓後有 {info.file_size / (1 << 20):,.0f} MB（壓縮比 {ratio:,.0f}:1），"
                "過大或疑似壓縮炸彈（zip bomb）；未處理。若是真實資料，請分成數個檔案。",
                f"{info.filename} declares {info.file_size} bytes uncompressed (ratio {ratio:.0f}:1): "
                "too large or a zip bomb", display)
    if total > MAX_TOTAL_BYTES:
        raise _fail("file-too-large", f"檔案解壓後共 {total / (1 << 20):,.0f} MB，超過上限；請分成數個檔案。",
                    f"{total} bytes uncompressed in total, more than the limit", display)


class _PrologDone(Exception):
    pass


class _StopAtRoot:
    """A parser target that stops at the first element: everything before it is the XML prolog."""

    def start(self, tag, attrib):  # noqa: D401 - parser callback
        raise _PrologDone

    def close(self):
        return None


def check_xml_prologs(path: Path, display: str) -> None:
    """Refuse a package whose XML parts declare a DTD (entity expansion, XXE): workbooks never need one.

    A DTD can only appear before the root element, so each part is parsed with defusedxml only
    up to its first element; this costs one small read per part whatever the sheet size.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename.lower()
            if not (name.endswith((".xml", ".rels", ".vml")) or name == "[content_types].xml") or info.file_size == 0:
                continue
            parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True,
                                      forbid_external=True)
            try:
                with zf.open(info) as fh:
                    fed = 0
                    while True:
                        chunk = fh.read(65536)
                        if not chunk:
                            parser.close()
                            break
                        parser.feed(chunk)
                        fed += len(chunk)
                        if fed > (4 << 20):  # a 4 MB prolog is not a workbook
                            raise _fail("file-unsafe-xml", f"{info.filename} 的 XML 開頭異常冗長；未處理。",
                                        "an XML part with an absurd prolog", display)
            except _PrologDone:
                continue
            except DefusedXmlException:
                raise _fail("file-unsafe-xml",
                            f"檔案內的 {info.filename} 含有 DTD／實體宣告（可用於 XML 炸彈或讀取本機檔案），"
                            "正常的試算表不會有；未處理。請用 Excel 開啟後另存新檔再試。",
                            f"{info.filename} declares a DTD or entities, which workbooks never need; not processed",
                            display) from None
            except BudgetError:
                raise
            except Exception:  # ParseError, BadZipFile, zlib.error: the part is damaged
                raise _fail("file-corrupt", f"檔案內的 {info.filename} 已損毀；請重新匯出。",
                            f"{info.filename} is damaged", display) from None
