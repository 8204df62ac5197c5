"""Read a CSV export as text cells: UTF-8 (BOM or not), UTF-16 with BOM, or Big5/cp950 with 造字 reported per row."""

from __future__ import annotations

import codecs
import csv
import io
import re
import threading
from pathlib import Path

from ..problems import WARNING, BudgetError
from .rawsheet import CellIssue, RawSheet

#: The replacement shown where a Big5 user-defined character (造字) could not be decoded.
PRIVATE_CHAR_MARK = "\ufffd"
FLAG_BIG5_PRIVATE = "big5-private-char"

_recorded = threading.local()
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _record_big5(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: replace one undecodable Big5 sequence and remember its bytes."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data = exc.object
    start = exc.start
    lead = data[start]
    if 0x81 <= lead <= 0xFE and start + 1 < len(data):
        trail = data[start + 1]
        if 0x40 <= trail <= 0x7E or 0xA1 <= trail <= 0xFE:
            _recorded.found.append((bytes(data[start:start + 2]), True))
            return PRIVATE_CHAR_MARK, start + 2
    _recorded.found.append((bytes(data[start:start + 1]), False))
    return PRIVATE_CHAR_MARK, start + 1


codecs.register_error("gender-budget-big5", _record_big5)


def _decode_big5(data: bytes, codec: str) -> tuple[str, list[tuple[bytes, bool]]]:
    _recorded.found = []
    try:
        text = data.decode(codec, errors="gender-budget-big5")
        return text, _recorded.found
    finally:
        _recorded.found = []


def _encoding_error(display: str, detail: str, detail_en: str) -> BudgetError:
    return BudgetError.one(
        "encoding-unknown",
        f"無法判斷文字編碼（{detail}）；本工具可讀 UTF-8 與 Big5 (cp950)。請以 --encoding 指定編碼，"
        "例如 --encoding big5hkscs，或用 Excel 開啟後另存為「CSV UTF-8」或 .xlsx。",
        f"cannot decode the text ({detail_en}); use --encoding, or save as CSV UTF-8 or .xlsx",
        file=display, hint="--encoding utf-8 | cp950 | big5hkscs | utf-16")


def decode_csv_bytes(data: bytes, display: str, encoding: str | None = None
                     ) -> tuple[str, str, list[tuple[bytes, bool]]]:
    """Decode a CSV file's bytes: returns (text, encoding used, undecodable Big5 sequences in order).

    Without ``encoding``: UTF-16 when a UTF-16 BOM is present, else UTF-8 (BOM optional), else
    cp950 with each user-defined character (造字) replaced by U+FFFD and recorded. Text that is
    neither raises :class:`BudgetError` with an ``--encoding`` hint.
    """
    if encoding:
        codec = encoding.strip().lower()
        try:
            codecs.lookup(codec)
        except LookupError:
            raise BudgetError.one("encoding-invalid", f"不認得編碼「{encoding}」；常用的有 utf-8、cp950、big5hkscs、utf-16。",
                                  f"unknown encoding {encoding!r}", file=display) from None
        if codecs.lookup(codec).name in {codecs.lookup(c).name for c in ("cp950", "big5", "big5hkscs")}:
            text, found = _decode_big5(data, codec)
            return text, encoding, found
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise BudgetError.one(
                "encoding-failed",
                f"以 {encoding} 解碼失敗（第 {line} 行，位元組 0x{data[exc.start:exc.end].hex()}）；請確認 --encoding 是否正確。",
                f"cannot decode as {encoding} at line {line}", file=display, row=line,
                hint="--encoding utf-8 | cp950 | big5hkscs | utf-16") from None
        return text.removeprefix("\ufeff"), encoding, []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            raise _encoding_error(display, "UTF-16 內容損毀", "broken UTF-16") from None
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8", []
    except UnicodeDecodeError:
        pass
    text, found = _decode_big5(data, "cp950")
    broken = sum(1 for _, pair in found if not pair)
    non_ascii = (len(text) - len(text.encode("ascii", "ignore"))) or 1
    # A Big5 file with a few 造字 decodes almost entirely; anything else leaves broken bytes everywhere.
    if broken > 1 or len(found) > max(20, non_ascii // 20):
        raise _encoding_error(display, "不是 UTF-8，也不像 Big5", "neither UTF-8 nor Big5")
    return text, "cp950", found


def _delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:20])
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def read_csv(path: Path, display: str, *, encoding: str | None, max_rows: int) -> tuple[RawSheet, str]:
    """Read a CSV file into a :class:`RawSheet` of text cells; returns it with the encoding used.

    Every field stays text (codes keep their leading zeros). Big5 造字 become U+FFFD and each row
    holding one gets a warning naming the row, column and bytes; the file is still read.
    """
    data = path.read_bytes()
    text, used, found = decode_csv_bytes(data, display, encoding)
    delimiter = _delimiter(text)
    if csv.field_size_limit() < (16 << 20):
        csv.field_size_limit(16 << 20)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if row and row[-1] == "":  # trailing empty fields are not data (a row of 100,000 commas)
                row = _trimmed(row)
            rows.append(row)
            if len(rows) > max_rows:
                raise BudgetError.one("too-many-rows",
                                      f"超過上限 {max_rows:,} 列；請分成數個檔案，或以 --max-rows 提高上限。",
                                      f"more than the limit of {max_rows} rows", file=display, hint="--max-rows")
    except csv.Error as exc:
        raise BudgetError.one("file-corrupt", f"CSV 格式錯誤（{exc}）；請確認引號是否成對，或重新匯出。",
                              f"malformed CSV: {exc}", file=display) from None
    sheet = RawSheet(name="", rows=rows, may_have_control_chars=bool(_CTRL.search(text)))
    if found:
        _locate_private_chars(sheet, found)
    return sheet, used


def _trimmed(row: list[str]) -> list[str]:
    end = len(row)
    while end and row[end - 1] == "":
        end -= 1
    return row[:end]


def _locate_private_chars(sheet: RawSheet, found: list[tuple[bytes, bool]]) -> None:
    """Pair each U+FFFD in the cells, in order, with the bytes it replaced; one issue per cell."""
    queue = iter(found)
    for index, row in enumerate(sheet.rows):
        for col, value in enumerate(row):
            if PRIVATE_CHAR_MARK not in value:
                continue
            codes = [next(queue, (b"", True))[0].hex().upper() for _ in range(value.count(PRIVATE_CHAR_MARK))]
            sheet.cell_issues.append(CellIssue(
                index + 1, col + 1, "big5-private-char",
                f"含 Big5 造字（位元組 {'、'.join('0x' + c for c in codes)}），無法轉成標準字，已以 {PRIVATE_CHAR_MARK} 表示；"
                "請對照原始資料確認此字。",
                "a Big5 user-defined character (造字) with no standard code point; shown as U+FFFD",
                WARNING, FLAG_BIG5_PRIVATE))
