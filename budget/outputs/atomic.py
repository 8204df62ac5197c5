"""Writing an output file safely: never over an input, temp file beside the target, fsync, verify, rename.

A failed or interrupted run leaves the previous output byte-identical; on a handled failure no
temp file is left behind either. Only a killed process can leave a ``.<name>.<random>.tmp`` file,
which :func:`remove_stale_temps` deletes on a later run.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from ..problems import BudgetError

T = TypeVar("T")

#: Temp files older than this (seconds) are considered left over by a killed run.
STALE_AFTER = 3600

_TEMP_SUFFIX = ".tmp"


def _temp_prefix(name: str) -> str:
    return f".{name}."


def lock_file_for(output: str | Path) -> Path:
    """The owner file Excel keeps beside a workbook it has open (``~$<name>``)."""
    output = Path(output)
    return output.with_name("~$" + output.name)


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file: same path, a hard link or a symlink to it."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    try:
        return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())
    except OSError:
        return False


def check_output_path(output: str | Path, inputs: Iterable[str | Path] = (), *,
                      suffixes: tuple[str, ...] = (".xlsx",)) -> Path:
    """Refuse, with a :class:`BudgetError`, an output that must not be written; return it as a Path.

    Refused: the output is one of ``inputs`` (same path, hard link or symlink); it is a folder;
    its suffix is not one of ``suffixes``; it exists and is read-only; Excel's owner file
    ``~$<name>`` sits beside it (the workbook is open); its folder is missing or not writable.
    """
    output = Path(output)
    label = str(output)
    if suffixes and output.suffix.lower() not in suffixes:
        raise BudgetError.one(
            "output-bad-suffix", f"輸出檔名必須以 {'、'.join(suffixes)} 結尾", "the output must be an .xlsx file",
            file=label, hint="例如 -o 性別預算.xlsx")
    for given in inputs:
        if _same_file(output, Path(given)):
            raise BudgetError.one(
                "output-is-input", "輸出檔就是輸入檔（或其連結），為保護原始資料，不會覆寫",
                "the output is an input file (or a link to it); inputs are never overwritten",
                file=label, hint="請以 -o 指定另一個輸出檔名")
    if output.is_dir():
        raise BudgetError.one("output-is-directory", "輸出路徑是資料夾", "the output path is a folder",
                              file=label, hint="請以 -o 指定檔名，例如 -o 資料夾/性別預算.xlsx")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise BudgetError.one("output-folder-missing", "輸出資料夾不存在", "the output folder does not exist",
                              file=label)
    if output.exists():
        mode = output.stat().st_mode
        # POSIX lets os.replace swap out a read-only file, and root passes os.access: check the bits too.
        if not os.access(output, os.W_OK) or not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
            raise BudgetError.one(
                "output-readonly", "輸出檔為唯讀，不會覆寫", "the output file is read-only; it was not replaced",
                file=label, hint="請改用其他輸出檔名，或先取消唯讀")
    if lock_file_for(output).exists():
        raise BudgetError.one(
            "output-open", "輸出檔似乎正在 Excel 中開啟（旁邊有 ~$ 暫存檔）",
            "the output seems to be open in Excel (its ~$ owner file exists)",
            file=label, hint="請先關閉該活頁簿再重試；若 Excel 已關閉，可刪除 " + lock_file_for(output).name)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BudgetError.one("output-folder-not-writable", "沒有權限在輸出資料夾建立檔案",
                              "cannot create files in the output folder", file=str(folder))
    return output


def verify_xlsx(path: str | Path) -> None:
    """Check that ``path`` is a complete .xlsx package (every member's CRC, the workbook part)."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BudgetError.one("output-verify-failed", f"寫出的活頁簿無法開啟：{exc}",
                              "the workbook just written is not a valid zip package", file=str(path)) from exc
    if bad is not None or "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise BudgetError.one("output-verify-failed", "寫出的活頁簿不完整", "the workbook just written is incomplete",
                              file=str(path))


def remove_stale_temps(folder: str | Path, name: str, older_than: float = STALE_AFTER) -> list[Path]:
    """Delete this tool's temp files for output ``name`` in ``folder`` older than ``older_than`` seconds."""
    folder = Path(folder)
    prefix, removed, now = _temp_prefix(name), [], time.time()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(_TEMP_SUFFIX):
            try:
                if now - entry.lstat().st_mtime >= older_than and entry.is_file():
                    entry.unlink()
                    removed.append(entry)
            except OSError:
                continue
    return removed


def _new_file_mode(output: Path) -> int:
    if output.exists():
        return stat.S_IMODE(output.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(output: str | Path, write: Callable[[Path], T], *, inputs: Iterable[str | Path] = (),
                 verify: Callable[[Path], None] | None = verify_xlsx,
                 suffixes: tuple[str, ...] = (".xlsx",)) -> T:
    """Write ``output`` through ``write(temp_path)`` so that it appears whole or not at all.

    Checks the output with :func:`check_output_path`, writes to a temp file in the same folder,
    fsyncs it, runs ``verify`` on it, checks again (the workbook may have been opened meanwhile)
    and renames it into place with ``os.replace``. On any failure the temp file is deleted, the
    previous output is untouched and the error is raised again (``OSError`` as a
    :class:`BudgetError` ``output-write-failed``). Returns what ``write`` returned.
    """
    inputs = list(inputs)
    output = check_output_path(output, inputs, suffixes=suffixes)
    folder = output.parent if str(output.parent) else Path(".")
    remove_stale_temps(folder, output.name)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(output.name), suffix=_TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise BudgetError.one("output-folder-not-writable", f"無法在輸出資料夾建立檔案：{exc.strerror}",
                              "cannot create files in the output folder", file=str(folder)) from exc
    os.close(fd)
    temp = Path(temp_name)
    try:
        result = write(temp)
        with open(temp, "r+b") as fh:
            os.fsync(fh.fileno())
        if verify is not None:
            verify(temp)
        check_output_path(output, inputs, suffixes=suffixes)
        os.chmod(temp, _new_file_mode(output))
        os.replace(temp, output)
    except OSError as exc:
        _discard(temp)
        raise BudgetError.one(
            "output-write-failed", f"無法寫出輸出檔：{exc.strerror or exc}；原有檔案未變更",
            "could not write the output; any previous file is unchanged", file=str(output),
            hint="若檔案正在 Excel 中開啟，請先關閉") from exc
    except BaseException:
        _discard(temp)
        raise
    _fsync_folder(folder)
    return result


def _discard(temp: Path) -> None:
    try:
        temp.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - nothing more can be done; the name marks it as ours
        pass
