"""Read workbook cells with python-calamine in a child process, so a file that makes calamine abort cannot kill the run.

python-calamine 0.9 aborts the whole process (a Rust allocation failure no ``except`` catches) on a
5 KB well-formed .xlsx with one cell at XFD1048576, and on other sparse or oversized sheets. The
parent runs ``python -m budget.sheet_worker`` with a memory cap and a timeout and turns the
child's death into a clear "檔案過大或過於複雜" problem. Cells travel back with :mod:`marshal`
(the fastest stdlib serialiser for lists of str/int/float), after the child has turned integral
floats into ints and empty cells into ``None``.
"""

from __future__ import annotations

import datetime as _dt
import marshal
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import BudgetError, Problem

#: Address-space cap of the child (POSIX only): far above a 1M-row sheet, far below a bomb.
MEMORY_LIMIT_BYTES = 6 << 30
#: The child's wall-clock limit grows with the file size; never less than this many seconds.
MIN_TIMEOUT_S = 120
_DATE_TAG = "\x00date"


@dataclass
class SheetGrid:
    """One sheet's cells: ``rows[i][j]`` is Excel row ``i+1``, column ``j+1``; blank cells are None."""

    name: str
    rows: list[list[Any]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based r0, c0, r1, c1
    merges_known: bool = False


@dataclass
class WorkbookGrids:
    """Every sheet of a workbook (name, visibility) and the grids of the sheets that were read."""

    sheets: list[tuple[str, str]]  # (name, "visible" | "hidden" | "veryhidden")
    grids: list[SheetGrid]


# --- parent side --------------------------------------------------------------------------------

class WorkerHandle:
    """A running child that reads one workbook; :meth:`result` waits for it."""

    def __init__(self, proc: subprocess.Popen, display: str, timeout: float) -> None:
        self.proc, self.display, self.timeout = proc, display, timeout

    def cancel(self) -> None:
        """Stop the child (used when this process finds the file unusable first)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()

    def result(self) -> WorkbookGrids:
        """Wait for the child and return its grids; raises :class:`BudgetError` if it failed or died."""
        try:
            out, err = self.proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise _too_complex(self.display, f"讀取超過 {self.timeout:.0f} 秒仍未完成",
                               f"reading took more than {self.timeout:.0f} s") from None
        code = self.proc.returncode
        if code != 0 or not out:
            reason = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            how = (f"讀取程序被系統終止（訊號 {-code}）" if code < 0 else f"讀取程序異常結束（代碼 {code}）")
            raise _too_complex(self.display, how, f"the reader process died ({code}): {reason[0][:200]}")
        try:
            result = marshal.loads(out)
        except (ValueError, EOFError, TypeError):
            raise _too_complex(self.display, "讀取程序回傳的資料不完整", "the reader process returned broken data") from None
        error = result.get("error")
        if error:
            raise _child_error(error, self.display, result.get("sheets") or [])
        grids = []
        for name, rows, merges, merges_known, special in result["grids"]:
            if special:
                rows = [[_restore(v) for v in row] for row in rows]
            grids.append(SheetGrid(name, rows, [tuple(m) for m in merges], merges_known))
        return WorkbookGrids([tuple(s) for s in result["sheets"]], grids)


def start_worker(path: Path, display: str, *, sheets: list[str] | None, max_rows: int,
                 timeout: float | None = None, memory_limit: int = MEMORY_LIMIT_BYTES) -> WorkerHandle:
    """Start a child reading ``sheets`` (None: every visible worksheet) of an .xlsx/.xls/.ods file.

    The caller can do other work (scan the XML) while the child runs, then call ``result()``.
    """
    size = path.stat().st_size
    if timeout is None:
        timeout = max(MIN_TIMEOUT_S, size / (1 << 20) * 20)
    args = [sys.executable, "-m", "budget.sheet_worker", str(path), str(max_rows), str(memory_limit)]
    for name in sheets or []:
        args += ["--sheet", name]
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["RUST_BACKTRACE"] = "0"
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    return WorkerHandle(proc, display, timeout)


def read_grids(path: Path, display: str, *, sheets: list[str] | None, max_rows: int,
               timeout: float | None = None, memory_limit: int = MEMORY_LIMIT_BYTES) -> WorkbookGrids:
    """Read ``sheets`` of a workbook in a child process and wait for the grids (see :func:`start_worker`).

    Raises :class:`BudgetError` when the child reports a password, damage, a missing sheet or too
    many rows, and when it dies (killed by the memory cap, an abort inside calamine) or times out.
    """
    return start_worker(path, display, sheets=sheets, max_rows=max_rows, timeout=timeout,
                        memory_limit=memory_limit).result()


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


def _child_error(error: list[Any], display: str, sheets: list[Any]) -> BudgetError:
    kind, detail = error[0], error[1]
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


def _clean_rows(rows: list[list[Any]]) -> tuple[list[list[Any]], bool]:
    """Integral floats to int, '' to None; dates tagged for marshal. Returns (rows, had_dates)."""
    special = False
    out = []
    for row in rows:
        new = []
        for v in row:
            t = type(v)
            if t is str:
                new.append(v if v else None)
            elif t is float:
                new.append(int(v) if v.is_integer() else v)
            elif t is int or t is bool or v is None:
                new.append(v)
            else:
                special = True
                if isinstance(v, _dt.datetime):
                    new.append((_DATE_TAG, "datetime", v.isoformat()))
                elif isinstance(v, _dt.date):
                    new.append((_DATE_TAG, "date", v.isoformat()))
                elif isinstance(v, _dt.time):
                    new.append((_DATE_TAG, "time", v.isoformat()))
                elif isinstance(v, _dt.timedelta):
                    new.append((_DATE_TAG, "timedelta", repr(v.total_seconds())))
                else:
                    new.append((_DATE_TAG, "text", str(v)))
        # calamine pads every row to the sheet width: drop the trailing blanks
        while new and new[-1] is None:
            new.pop()
        out.append(new)
    return out, special


def _child(argv: list[str]) -> dict[str, Any]:
    path, max_rows, memory_limit = argv[0], int(argv[1]), int(argv[2])
    wanted = [argv[i + 1] for i in range(3, len(argv) - 1) if argv[i] == "--sheet"]
    _limit_memory(memory_limit)
    import python_calamine as pc

    result: dict[str, Any] = {"sheets": [], "grids": [], "error": None}
    try:
        wb = pc.CalamineWorkbook.from_path(path)
        metas = wb.sheets_metadata
        result["sheets"] = [(m.name, _visibility(m)) for m in metas]
        if wanted:
            known = {m.name for m in metas}
            for name in wanted:
                if name not in known:
                    result["error"] = ("sheet-not-found", name)
                    return result
            chosen = wanted
        else:
            chosen = [m.name for m in metas
                      if _visibility(m) == "visible" and str(m.typ).endswith("WorkSheet")]
        total = 0
        for name in chosen:
            sheet = wb.get_sheet_by_name(name)
            end = sheet.end
            height = (end[0] + 1) if end else 0
            total += height
            if total > max_rows:
                result["error"] = ("too-many-rows", (name, total, max_rows))
                return result
            rows, special = _clean_rows(sheet.to_python(skip_empty_area=False))
            merges = sheet.merged_cell_ranges
            flat = [(a[0], a[1], b[0], b[1]) for a, b in merges] if merges is not None else []
            result["grids"].append((name, rows, flat, merges is not None, special))
    except pc.PasswordError as exc:
        result["error"] = ("password", str(exc))
    except MemoryError:
        result["error"] = ("memory", "")
    except pc.CalamineError as exc:
        result["error"] = ("corrupt", f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # anything else from a hostile file is still "cannot read"
        result["error"] = ("corrupt", f"{type(exc).__name__}: {exc}")
    return result


def main(argv: list[str] | None = None) -> None:
    """Child entry point: read the workbook named in argv and write the marshalled result on stdout."""
    result = _child(list(sys.argv[1:] if argv is None else argv))
    try:
        data = marshal.dumps(result)
    except MemoryError:
        data = marshal.dumps({"sheets": result["sheets"], "grids": [], "error": ("memory", "")})
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
