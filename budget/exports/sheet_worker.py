"""Read workbook cells with python-calamine in a child process, so a file that makes calamine abort cannot kill the run.

python-calamine 0.9 aborts the whole process (a Rust allocation failure no ``except`` catches) on a
5 KB well-formed .xlsx with one cell at XFD1048576, and on other sparse or oversized sheets. The
parent runs this file in a child Python (see ``_CHILD``) with a memory cap and a timeout and turns the
child's death into a clear "檔案過大或過於複雜" problem.

The child streams: a frame with the sheet list, then per sheet a frame with its size and merged
cells followed by frames of rows (:data:`CHUNK_ROWS` at a time), so the parent turns rows into lines
while the child is still converting the rest, and neither side holds the whole sheet twice. A frame
is an 8-byte little-endian length and a :mod:`marshal` blob (the fastest stdlib serialiser for lists
of str/int/float); the child turns integral floats into ints and empty cells into ``None`` first.

A caller that needs only some columns of a sheet (the annotated workbook's read-back needs the added
columns of 明細, not the export's own) names them by their titles in row 1 (``columns``): the child
then sends row 1 and every row with only those columns, and the sheet's ``columns`` says which
(0-based) sheet columns they are. Converting and sending the others was most of the child's work.
Such a sheet of an annotated .xlsx (明細, asked with ``scan``) is read by :mod:`budget.exports.xlsx_scan`
instead, which finds the wanted columns' cells in the XML without parsing the others; calamine reads it
when that reader meets a form it does not know.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import marshal
import operator
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

if __package__:  # the parent side; the child loads this file alone (see _CHILD), without the package
    from ..problems import BudgetError, Problem

#: Address-space cap of the child (POSIX only): far above a 1M-row sheet, far below a bomb.
MEMORY_LIMIT_BYTES = 6 << 30
#: The child's wall-clock limit grows with the file size; never less than this many seconds.
MIN_TIMEOUT_S = 120
#: Rows per frame.
CHUNK_ROWS = 5000
#: Bytes of sheet XML inflated at a time when looking for formulas without a value.
FORMULA_PIECE = 4 << 20
_DATE_TAG = "\x00date"
#: How the child starts: this file loaded as a module of its own, not as ``budget.exports.sheet_worker``,
#: so that the package (the whole export reader) is not imported first; it needs only the standard
#: library and python-calamine. Measured, that was a third of a small workbook's child.
_CHILD = ("import importlib.util as u, sys; s = u.spec_from_file_location('gender_budget_sheet_child', sys.argv.pop(1)); "
          "m = sys.modules[s.name] = u.module_from_spec(s); s.loader.exec_module(m); m.main()")
_LEN = struct.Struct("<Q")
#: The signal a child's own timeout sends it (POSIX: SIGALRM, whose default action ends the process); 0 where
#: there is none (Windows: a timer thread of the parent kills the child instead).
_ALARM = int(getattr(signal, "SIGALRM", 0)) if hasattr(signal, "setitimer") else 0


@dataclass
class StreamedSheet:
    """One sheet arriving from the child: ``rows`` so far (row i is Excel row i+1, blank cells None)
    and ``more``, which yields the next lists of rows until the sheet is complete."""

    name: str
    width: int
    height: int
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based r0, c0, r1, c1
    merges_known: bool = False
    more: Iterator[list[list[Any]]] | None = None
    #: The sheet columns (0-based) that each row's cells are, when only some were asked for; None: all.
    columns: list[int] | None = None
    #: (row, column), 1-based, of the cells holding a formula without a value, when asked for (see
    #: :func:`start_worker`'s ``formulas``); known once the sheet's rows are all read.
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    #: Read by :mod:`budget.exports.xlsx_scan` rather than calamine (see :func:`start_worker`'s ``scan``).
    scanned: bool = False


# --- parent side --------------------------------------------------------------------------------

class WorkerHandle:
    """A running child that reads one workbook. Read :meth:`sheet_list`, then iterate :meth:`sheets`."""

    def __init__(self, proc: subprocess.Popen, stderr: Any, display: str, timeout: float,
                 timer: bool = True) -> None:
        self.proc, self.stderr, self.display, self.timeout = proc, stderr, display, timeout
        self.timed_out = False
        # The timeout: the child's own alarm where there is one (see start_worker), else a thread here.
        self._timer = threading.Timer(timeout, self._expire) if timer else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        self._sheets: list[tuple[str, str]] | None = None
        self._pending: Any = None

    def _expire(self) -> None:
        self.timed_out = True
        if self.proc.poll() is None:
            self.proc.kill()

    def _stop_timer(self) -> None:
        """Cancel the timeout and wait for its thread to end (a thread left running would keep the next
        stages, which fork only in a process without other threads, on one CPU)."""
        if self._timer is not None:
            self._timer.cancel()
            if self._timer is not threading.current_thread():
                self._timer.join()

    def cancel(self) -> None:
        """Stop the child (when this process finds the file unusable first, or is done)."""
        self._stop_timer()
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.stdout.close()
        finally:
            self.proc.wait()
            self.stderr.close()

    def _died(self) -> BudgetError:
        self._stop_timer()
        code = self.proc.wait()
        self.stderr.seek(0)
        reason = self.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        self.stderr.close()
        if self.timed_out or (_ALARM and code == -_ALARM):
            return _too_complex(self.display, f"讀取超過 {self.timeout:.0f} 秒仍未完成",
                                f"reading took more than {self.timeout:.0f} s")
        how = f"讀取程序被系統終止（訊號 {-code}）" if code < 0 else f"讀取程序異常結束（代碼 {code}）"
        return _too_complex(self.display, how, f"the reader process died ({code}): {reason[0][:200]}")

    def _frame(self) -> Any:
        head = self.proc.stdout.read(_LEN.size)
        if len(head) < _LEN.size:
            raise self._died()
        (size,) = _LEN.unpack(head)
        data = self.proc.stdout.read(size)
        if len(data) < size:
            raise self._died()
        try:
            frame = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            self.cancel()
            raise _too_complex(self.display, "讀取程序回傳的資料不完整", "the reader process returned broken data") from None
        if frame[0] == "error":
            self.cancel()
            raise _child_error(frame[1], frame[2], self.display, self._sheets or [])
        return frame

    def sheet_list(self) -> list[tuple[str, str]]:
        """Every sheet of the workbook as (name, "visible" | "hidden" | "veryhidden")."""
        if self._sheets is None:
            frame = self._frame()
            self._sheets = [tuple(s) for s in frame[1]]
        return self._sheets

    def sheets(self) -> Iterator[StreamedSheet]:
        """The sheets read, in order; each must be consumed (or abandoned) before the next is yielded."""
        self.sheet_list()
        while True:
            frame = self._frame()
            if frame[0] == "done":
                self._stop_timer()
                self.proc.stdout.close()
                self.proc.wait()
                self.stderr.close()
                return
            _, name, width, height, merges, merges_known, *rest = frame
            state = {"open": True}
            sheet = StreamedSheet(name, width, height, [tuple(m) for m in merges], merges_known, None,
                                  rest[0] if rest else None, scanned=len(rest) > 1 and rest[1])
            sheet.more = self._rows(state, sheet)
            yield sheet
            while state["open"]:  # the consumer stopped early: skip the rest of this sheet
                for _ in self._rows(state, sheet):
                    pass

    def _rows(self, state: dict[str, bool], sheet: StreamedSheet) -> Iterator[list[list[Any]]]:
        while state["open"]:
            frame = self._frame()
            if frame[0] == "end":
                state["open"] = False
                if len(frame) > 1:
                    sheet.formulas_without_value = {tuple(cell) for cell in frame[1]}
                return
            rows, special = frame[1], frame[2]
            if special:
                rows = [[_restore(v) for v in row] for row in rows]
            yield rows


def start_worker(path: Path, display: str, *, sheets: list[str] | None, max_rows: int,
                 timeout: float | None = None, memory_limit: int = MEMORY_LIMIT_BYTES,
                 columns: dict[str, list[str]] | None = None, ahead: int = 0,
                 formulas: dict[str, tuple[str, list[str]]] | None = None, scan: bool = False) -> WorkerHandle:
    """Start a child reading ``sheets`` (None: every visible worksheet) of an .xlsx/.xls/.ods file.

    ``columns`` (sheet name → titles) keeps only the columns of that sheet whose row-1 title, stripped,
    is one of the titles or starts with one followed by ``（`` (``性別預算數（元）``); see
    :attr:`StreamedSheet.columns`.

    ``ahead``: bytes of frames the child may hold beyond what the pipe takes, so that it keeps reading
    while this process is busy elsewhere (the next workbook of a report is read while this one is
    worked through); 0: the child waits for the pipe.

    ``formulas`` (sheet name → (its part in the .xlsx package, titles)): the child also finds the cells of
    the columns titled so holding a formula without a calculated value (they read as blank); see
    :attr:`StreamedSheet.formulas_without_value`.

    ``scan``: a sheet asked for with both ``columns`` and ``formulas`` (明細 of an annotated .xlsx) is read by
    :mod:`budget.exports.xlsx_scan` (only its wanted columns, straight from the XML: faster than calamine,
    which parses every cell), or by calamine when that reader does not know a form it meets.

    The caller can do other work (scan the XML) while the child parses. Problems reported by the
    child (password, damage, a missing sheet, too many rows) and its death (the memory cap, an
    abort inside calamine, the timeout) surface as :class:`BudgetError` from the handle's methods.
    """
    size = path.stat().st_size
    if timeout is None:
        timeout = max(MIN_TIMEOUT_S, size / (1 << 20) * 20)
    args = [sys.executable, "-c", _CHILD, str(Path(__file__).resolve()), str(path), str(max_rows), str(memory_limit)]
    for name in sheets or []:
        args += ["--sheet", name]
    for name, titles in (columns or {}).items():
        args += ["--columns", name, "\x1f".join(titles)]
    for name, (part, titles) in (formulas or {}).items():
        args += ["--formulas", name, part, "\x1f".join(titles)]
    if ahead:
        args += ["--ahead", str(ahead)]
    if scan:
        args.append("--scan")
    if _ALARM:  # the child's own wall-clock alarm ends it: no timer thread here (forking needs none)
        args += ["--alarm", repr(timeout)]
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["RUST_BACKTRACE"] = "0"
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env,
                            bufsize=1 << 20)
    return WorkerHandle(proc, stderr, display, timeout, timer=not _ALARM)


def _restore(value: Any) -> Any:
    if type(value) is tuple and len(value) == 3 and value[0] == _DATE_TAG:
        kind, text = value[1], value[2]
        if kind == "datetime":
            return _dt.datetime.fromisoformat(text)
        if kind == "date":
            return _dt.date.fromisoformat(text)
        if kind == "time":
            return _dt.time.fromisoformat(text)
        if kind == "timedelta":
            return _dt.timedelta(seconds=float(text))
        return text
    return value


def _too_complex(display: str, how: str, how_en: str) -> BudgetError:
    return BudgetError([Problem(
        "file-too-complex",
        f"檔案過大或過於複雜，無法安全讀取（{how}）；可能含有極遠的儲存格（例如 XFD1048576）或大量資料。"
        "請刪除多餘的列與欄、分成數個檔案，或另存新檔後再試。",
        f"the file is too large or too complex to read safely ({how_en})",
        file=display)])


def _child_error(kind: str, detail: Any, display: str, sheets: list[Any]) -> BudgetError:
    if kind == "password":
        return BudgetError.one("file-encrypted", "活頁簿有密碼保護，無法讀取；請在 Excel 移除密碼後重新存檔再試。",
                               "the workbook is password-protected", file=display)
    if kind == "sheet-not-found":
        names = "、".join(f"「{s[0]}」" for s in sheets)
        return BudgetError.one("sheet-not-found", f"找不到工作表「{detail}」；這個檔案的工作表有：{names}。",
                               f"no sheet named {detail!r}", file=display, sheet=str(detail),
                               hint="請用 --sheet 指定正確的工作表名稱。")
    if kind == "too-many-rows":
        sheet, rows, limit = detail
        return BudgetError.one("too-many-rows",
                               f"共有 {rows:,} 列，超過上限 {limit:,} 列；請分成數個檔案，或以 --max-rows 提高上限。",
                               f"{rows} rows, more than the limit of {limit}", file=display, sheet=sheet,
                               hint="--max-rows")
    if kind == "memory":
        return _too_complex(display, "記憶體不足", "out of memory")
    if kind == "internal":
        return BudgetError.one("reader-unavailable", "試算表讀取元件 (python-calamine) 無法載入；請重新安裝本工具。",
                               f"the spreadsheet reader cannot start: {detail}", file=display)
    return BudgetError.one("file-corrupt", "檔案已損毀或不完整，無法讀取；請重新匯出或另存新檔再試。",
                           f"the file is damaged or unreadable ({str(detail)[:200]})", file=display)


# --- child side ---------------------------------------------------------------------------------

def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimit; the timeout still applies
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _visibility(meta: Any) -> str:
    text = str(meta.visible).rsplit(".", 1)[-1].lower()
    return {"visible": "visible", "hidden": "hidden", "veryhidden": "veryhidden"}.get(text, "visible")


def _tag(v: Any) -> tuple[str, str, str]:
    if isinstance(v, _dt.datetime):
        return (_DATE_TAG, "datetime", v.isoformat())
    if isinstance(v, _dt.date):
        return (_DATE_TAG, "date", v.isoformat())
    if isinstance(v, _dt.time):
        return (_DATE_TAG, "time", v.isoformat())
    if isinstance(v, _dt.timedelta):
        return (_DATE_TAG, "timedelta", repr(v.total_seconds()))
    return (_DATE_TAG, "text", str(v))


def _clean(row: list[Any], prefix: list[None], shared: dict[str, str]) -> tuple[list[Any], bool]:
    """Integral floats to int, '' to None, dates tagged for marshal, trailing blanks dropped.

    Short texts repeated down a column (plan, branch, account) become one object per chunk: marshal
    then writes them once and the parent receives them shared, which saves memory on big sheets.
    """
    special = False
    new = prefix[:] if prefix else []
    append = new.append
    for v in row:
        t = type(v)
        if t is str:
            if not v:
                append(None)
            elif len(v) <= 40:
                append(shared.setdefault(v, v))
            else:
                append(v)
        elif t is float:
            append(int(v) if v.is_integer() else v)
        elif t is int or t is bool or v is None:
            append(v)
        else:
            special = True
            append(_tag(v))
    while new and new[-1] is None:
        new.pop()
    return new, special


def _header_matches(value: Any, titles: list[str]) -> bool:
    """Is a row-1 cell one of ``titles`` (or ``title（…``), as the read-back finds its columns?"""
    if value is None:
        return False
    text = (str(int(value)) if type(value) is float and value.is_integer() else str(value)).strip()
    return any(text == t or text.startswith(t + "（") for t in titles)


def _stream(path: str, wanted: list[str], max_rows: int, send,
            columns: dict[str, list[str]] | None = None,
            formulas: dict[str, tuple[str, list[str]]] | None = None, scan: bool = False) -> None:
    try:
        import python_calamine as pc
    except ImportError as exc:
        send(("error", "internal", f"python-calamine cannot be imported: {exc}"))
        return
    try:
        wb = pc.CalamineWorkbook.from_path(path)
        metas = wb.sheets_metadata
        send(("meta", [(m.name, _visibility(m)) for m in metas]))
        if wanted:
            known = {m.name for m in metas}
            missing = [n for n in wanted if n not in known]
            if missing:
                send(("error", "sheet-not-found", missing[0]))
                return
            chosen = wanted
        else:
            chosen = [m.name for m in metas
                      if _visibility(m) == "visible" and str(m.typ).endswith("WorkSheet")]
        total = 0
        for name in chosen:
            titles = (columns or {}).get(name)
            part, formula_titles = (formulas or {}).get(name, ("", None))
            scanned = _scan(path, name, titles, formula_titles, max_rows) if scan and part and titles else None
            if scanned is not None:  # the wanted columns read from the XML (calamine would parse every cell)
                total += len(scanned.rows)
                if total > max_rows:
                    send(("error", "too-many-rows", (name, total, max_rows)))
                    return
                send(("sheet", name, max(scanned.columns, default=-1) + 1, len(scanned.rows), [], False,
                      scanned.columns, True))
                for at in range(0, len(scanned.rows), CHUNK_ROWS):
                    send(("rows", scanned.rows[at:at + CHUNK_ROWS], False))
                send(("end", sorted(scanned.formulas_without_value)))
                continue
            sheet = wb.get_sheet_by_name(name)
            start, end = sheet.start, sheet.end
            height = (end[0] + 1) if end else 0
            width = (end[1] + 1) if end else 0
            total += height
            if total > max_rows:
                send(("error", "too-many-rows", (name, total, max_rows)))
                return
            merges = sheet.merged_cell_ranges
            flat = [(a[0], a[1], b[0], b[1]) for a, b in merges] if merges is not None else []
            # python-calamine 0.9 iter_rows() yields every row from the first, but each row only from the
            # first used column: put the leading empty columns back so positions match the sheet's.
            c0 = start[1] if start else 0
            prefix = [None] * c0 if c0 and width and width - c0 >= 0 else []
            rows = sheet.iter_rows()
            kept: list[int] | None = None
            first: list[Any] | None = None
            header: list[Any] = []
            if titles is not None or formula_titles is not None:  # row 1 names the columns
                first = next(rows, None)
                header = (prefix if first is not None and len(first) != width else []) + list(first or [])
            if titles is not None:  # only the columns titled so in row 1
                kept = [i for i, v in enumerate(header) if _header_matches(v, titles)]
            send(("sheet", name, width, height, flat, merges is not None, *([kept] if kept is not None else [])))
            chunk: list[list[Any]] = []
            special = False
            count = 0
            shared: dict[str, str] = {}
            if first is not None:
                rows = itertools.chain((first,), rows)
            pick = operator.itemgetter(*kept) if kept else None
            for row in rows:
                count += 1
                if kept is not None:  # the kept cells only (positions counted with the leading blanks)
                    off = c0 if prefix and len(row) != width else 0
                    n = len(row)
                    if pick is not None and not off and n > kept[-1]:
                        picked = pick(row)
                        row = list(picked) if len(kept) > 1 else [picked]
                    else:
                        row = [row[i - off] if 0 <= i - off < n else None for i in kept]
                    cleaned, odd = _clean(row, [], shared)
                else:
                    cleaned, odd = _clean(row, prefix if len(row) != width else [], shared)
                chunk.append(cleaned)
                special = special or odd
                if len(chunk) >= CHUNK_ROWS:
                    send(("rows", chunk, special))
                    chunk, special, shared = [], False, {}
            if chunk:
                send(("rows", chunk, special))
            if count != height:  # rows would be misnumbered: refuse rather than shift them silently
                send(("error", "corrupt", f"{name}: {count} rows read, {height} expected"))
                return
            if formula_titles is None:
                send(("end",))
            else:
                numbers = [i + 1 for i, v in enumerate(header) if _header_matches(v, formula_titles)]
                send(("end", sorted(formulas_without_value(path, part, numbers))))
        send(("done",))
    except pc.PasswordError as exc:
        send(("error", "password", str(exc)))
    except MemoryError:
        send(("error", "memory", ""))
    except Exception as exc:  # CalamineError and anything else from a hostile file: "cannot read"
        send(("error", "corrupt", f"{type(exc).__name__}: {exc}"))


def _scan(path: str, name: str, titles: list[str], formula_titles: list[str] | None, max_rows: int) -> Any:
    """Sheet ``name``'s columns ``titles`` read by :mod:`budget.exports.xlsx_scan` (a ScannedSheet), or None when
    that reader does not read it (a form it does not know, a damaged part: calamine reads it, or says what is
    wrong). The child loads that module from its file, beside this one (the package is not imported here)."""
    try:
        if __package__:
            from . import xlsx_scan
        else:
            import importlib.util

            spec = importlib.util.spec_from_file_location("gender_budget_xlsx_scan",
                                                          Path(__file__).with_name("xlsx_scan.py"))
            xlsx_scan = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(xlsx_scan)
        with xlsx_scan.ScannedBook(path) as book:
            return book.sheet(name, titles, formula_titles or [], max_rows=max_rows, matches=_header_matches)
    except MemoryError:
        raise
    except Exception:
        return None


def row_pieces(zf: Any, part: str, size: int, most: int | None = None) -> Iterator[bytes]:
    """A package part's XML in pieces of about ``size`` bytes, each cut just after a row's end tag, so that no
    row (nor cell) is split; what follows the last row comes in the last piece. Reading to the end checks
    the part's CRC: a damaged part raises BadZipFile. With ``most``, it stops when no row has ended in that
    many bytes. (Here, stdlib only, so that the child, which loads this file alone, reads pieces so too;
    budget.exports.sheet_facts scans exports' sheets with it.)"""
    with zf.open(part) as src:
        carry = b""
        while block := src.read(size):
            data = carry + block if carry else block
            cut = after_last_row_end(data)
            if cut < 0:  # no row ends in it (yet): keep reading
                if most is not None and len(data) > most:
                    return
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut]
        if carry:
            yield carry


def after_last_row_end(data: bytes) -> int:
    """The position just after the last ``</row>`` (or ``</x:row>``) in ``data``, or -1."""
    p = len(data)
    while (p := data.rfind(b"row>", 0, p)) >= 0:
        lt = data.rfind(b"<", 0, p)
        if lt >= 0 and data[lt + 1:lt + 2] == b"/":  # an end tag ("<" cannot appear unescaped in text)
            return p + 4
    return -1


def _letters(column: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    out = ""
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out


def formulas_without_value(path: str | Path, part: str, columns: list[int]) -> set[tuple[int, int]]:
    """(row, column), 1-based, of the cells of ``columns`` (1-based) in the .xlsx sheet ``part`` that hold a
    formula without a calculated value: they read as blank (a workbook saved by a program that does not
    calculate, e.g. openpyxl, leaves every formula so). Empty when the package cannot be read (the reader
    says what is wrong with it).

    Each cell is found by its reference (`` r="N12``), so the rest of the sheet's XML is never matched against.
    """
    import re
    import zipfile
    import zlib

    if not columns or not part:
        return set()
    by_letters = {_letters(c).encode("ascii"): c for c in columns}
    alternatives = b"|".join(sorted(by_letters, key=len, reverse=True))
    reference = re.compile(rb' r="(' + alternatives + rb')[0-9]')
    pattern = re.compile(rb'<(?:\w+:)?c r="(' + alternatives + rb')(\d+)"[^>]*>\s*<(?:\w+:)?f\b([^>]*/>|[^>]*>[^<]*'
                         rb'</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>)?')
    found: set[tuple[int, int]] = set()
    try:
        with zipfile.ZipFile(path) as zf:
            # (no row ending in 16 MB: not a sheet this scan reads; what was found so far stands)
            for data in row_pieces(zf, part, FORMULA_PIECE, most=FORMULA_PIECE * 4):
                # The references alone (`` r="N12"``; not NA12) at memchr speed, then the cell's own match.
                for hit in reference.finditer(data):
                    m = pattern.match(data, data.rfind(b"<", 0, hit.start()))
                    if m and m.group(1) == hit.group(1) and not (m.group(4) or b"").strip():
                        found.add((int(m.group(2)), by_letters[m.group(1)]))
        return found
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, RuntimeError, zlib.error):
        return set()


class _Sender:
    """Frames out on stdout from a thread of their own, up to ``ahead`` bytes of them held here, so that
    reading goes on while the parent is busy elsewhere (calamine lets go of the GIL while it parses)."""

    def __init__(self, out: Any, ahead: int) -> None:
        import collections

        self.out, self.ahead = out, ahead
        self.pending: Any = collections.deque()
        self.size = 0
        self.closed = False
        self.error: BaseException | None = None
        self.ready = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def __call__(self, frame: Any) -> None:
        data = marshal.dumps(frame)
        with self.ready:
            while self.size > self.ahead and self.error is None:
                self.ready.wait()
            if self.error is not None:
                raise BrokenPipeError from self.error
            self.pending.append(data)
            self.size += len(data)
            self.ready.notify_all()

    def _run(self) -> None:
        while True:
            with self.ready:
                while not self.pending and not self.closed:
                    self.ready.wait()
                if not self.pending:
                    return
                data = self.pending.popleft()
            try:
                self.out.write(_LEN.pack(len(data)))
                self.out.write(data)
            except OSError as exc:  # the parent stopped reading
                with self.ready:
                    self.error = exc
                    self.ready.notify_all()
                return
            with self.ready:
                self.size -= len(data)
                self.ready.notify_all()

    def close(self) -> None:
        """Wait until every frame is written."""
        with self.ready:
            self.closed = True
            self.ready.notify_all()
        self.thread.join()
        if self.error is not None:
            raise BrokenPipeError from self.error


def main(argv: list[str] | None = None) -> None:
    """Child entry point: read the workbook named in argv and stream frames on stdout."""
    args = list(sys.argv[1:] if argv is None else argv)
    path, max_rows, memory_limit = args[0], int(args[1]), int(args[2])
    wanted: list[str] = []
    columns: dict[str, list[str]] = {}
    formulas: dict[str, tuple[str, list[str]]] = {}
    ahead = 0
    scan = False
    i = 3
    while i < len(args):
        if args[i] == "--sheet" and i + 1 < len(args):
            wanted.append(args[i + 1])
            i += 2
        elif args[i] == "--columns" and i + 2 < len(args):
            columns[args[i + 1]] = args[i + 2].split("\x1f")
            i += 3
        elif args[i] == "--formulas" and i + 3 < len(args):
            formulas[args[i + 1]] = (args[i + 2], args[i + 3].split("\x1f"))
            i += 4
        elif args[i] == "--ahead" and i + 1 < len(args):
            ahead = int(args[i + 1])
            i += 2
        elif args[i] == "--scan":
            scan = True
            i += 1
        elif args[i] == "--alarm" and i + 1 < len(args):
            signal.setitimer(signal.ITIMER_REAL, max(float(args[i + 1]), 0.001))  # SIGALRM ends this process
            i += 2
        else:
            i += 1
    _limit_memory(memory_limit)
    out = sys.stdout.buffer

    def write(frame: Any) -> None:
        data = marshal.dumps(frame)
        out.write(_LEN.pack(len(data)))
        out.write(data)

    send = _Sender(out, ahead) if ahead > 0 else write
    try:
        try:
            _stream(path, wanted, max_rows, send, columns, formulas, scan)
        finally:
            if isinstance(send, _Sender):
                send.close()
        out.flush()
    except BrokenPipeError:  # the parent stopped reading (it found the file unusable first)
        pass


if __name__ == "__main__":
    main()
