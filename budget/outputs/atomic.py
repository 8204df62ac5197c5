"""Writing an output file safely: never over an input, temp file beside the target, fsync, verify, rename.

A failed or interrupted run leaves the previous output byte-identical; on a handled failure no
temp file is left behind either. The writer's scratch files (xlsxwriter's parts) live in a
``<temp>.parts`` folder beside the temp file, not in the system temp folder. Only a killed process
can leave a ``.<name>.<random>.tmp`` file or its parts folder; a writing run holds a lock on its
temp file, and :func:`remove_stale_temps` deletes every unlocked one on a later run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from ..problems import BudgetError
from .backends import book_format

#: What the tool writes: Office Open XML or OpenDocument (CNS 15251) spreadsheets.
WORKBOOK_SUFFIXES = (".xlsx", ".ods")

T = TypeVar("T")

#: Where locks are unavailable (Windows), temp files older than this (seconds) count as left over.
STALE_AFTER = 3600

_TEMP_SUFFIX = ".tmp"
_PARTS_SUFFIX = ".parts"
#: ``.<output name>.<mkstemp's 8 random characters>.tmp`` and its ``.parts`` folder.
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(\.parts)?$")


def _temp_prefix(name: str) -> str:
    return f".{name}."


def lock_file_for(output: str | Path) -> Path:
    """The owner file Excel keeps beside a workbook it has open (``~$<name>``)."""
    output = Path(output)
    return output.with_name("~$" + output.name)


def lock_files_for(output: str | Path) -> list[Path]:
    """The lock files an office suite keeps beside an open workbook: Excel's ``~$<name>``, LibreOffice's ``.~lock.<name>#``."""
    output = Path(output)
    return [lock_file_for(output), output.with_name(f".~lock.{output.name}#")]


def parts_folder_for(path: str | Path) -> Path | None:
    """The scratch folder for a writer writing ``path``, when ``path`` is one of this module's temp files.

    Created on first use; :func:`atomic_write` removes it, and a later run removes it when the
    writing process was killed. ``None`` for any other path (the writer then uses the system default).
    """
    path = Path(path)
    if not (_TEMP_NAME.match(path.name) and path.name.endswith(_TEMP_SUFFIX)):
        return None
    folder = path.with_name(path.name + _PARTS_SUFFIX)
    folder.mkdir(exist_ok=True)
    return folder


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
                      suffixes: tuple[str, ...] = WORKBOOK_SUFFIXES) -> Path:
    """Refuse, with a :class:`BudgetError`, an output that must not be written; return it as a Path.

    Refused: the output is one of ``inputs`` (same path, hard link or symlink); it is a folder;
    its suffix is not one of ``suffixes``; it exists and is read-only; Excel's owner file
    ``~$<name>`` sits beside it (the workbook is open); its folder is missing or not writable.
    """
    output = Path(output)
    label = str(output)
    if suffixes and output.suffix.lower() not in suffixes:
        raise BudgetError.one(
            "output-bad-suffix", f"輸出檔名必須以 {'、'.join(suffixes)} 結尾",
            f"the output's name must end in {' or '.join(suffixes)}", file=label, hint="例如 -o 性別預算.xlsx 或 -o 性別預算.ods")
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
    for lock in lock_files_for(output):
        if lock.exists():
            suite = "Excel" if lock.name.startswith("~$") else "LibreOffice"
            raise BudgetError.one(
                "output-open", f"輸出檔似乎正在 {suite} 中開啟（旁邊有鎖定檔 {lock.name}）",
                f"the output seems to be open in {suite} (its lock file {lock.name} exists)",
                file=label, hint=f"請先關閉該活頁簿再重試；若 {suite} 已關閉，可刪除 {lock.name}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BudgetError.one("output-folder-not-writable", "沒有權限在輸出資料夾建立檔案",
                              "cannot create files in the output folder", file=str(folder))
    return output


def verify_workbook(path: str | Path, fmt: str | None = None) -> None:
    """Check that ``path`` is a complete workbook of its format (``fmt``, else by the suffix of ``path``)."""
    if (fmt or book_format(path)) == "ods":
        from .ods import verify_ods

        verify_ods(path)
    else:
        verify_xlsx(path)


def verify_xlsx(path: str | Path) -> None:
    """Check that ``path`` is a complete .xlsx package (every member's CRC, the workbook part)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            members = sorted(zf.infolist(), key=lambda i: -i.file_size)
        bad = _first_bad_member(path, members)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise BudgetError.one("output-verify-failed", f"寫出的活頁簿無法開啟：{exc}",
                              "the workbook just written is not a valid zip package", file=str(path)) from exc
    if bad is not None or "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise BudgetError.one("output-verify-failed", "寫出的活頁簿不完整", "the workbook just written is incomplete",
                              file=str(path))


def _first_bad_member(path: str | Path, members: list[zipfile.ZipInfo]) -> str | None:
    """``ZipFile.testzip`` (every member read, its CRC checked), the two largest members on threads of their own.

    zlib inflates and checks without the interpreter lock, so two threads take about half the time.
    """
    from concurrent.futures import ThreadPoolExecutor

    def check(group: list[zipfile.ZipInfo]) -> str | None:
        with zipfile.ZipFile(path) as zf:
            for info in group:
                try:
                    with zf.open(info) as member:
                        while member.read(1 << 20):
                            pass
                except zipfile.BadZipFile:
                    return info.filename
        return None

    groups = [members[:1], members[1:]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(check, groups))
    return next((name for name in results if name), None)


def remove_stale_temps(folder: str | Path, name: str | None = None, older_than: float = STALE_AFTER) -> list[Path]:
    """Delete temp files (and parts folders) that killed runs left in ``folder``; return what was removed.

    A temp file is stale when no process holds its lock (where locks are unavailable: when it is
    older than ``older_than`` seconds). ``name`` limits the sweep to one output's temp files.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not _TEMP_NAME.match(entry.name) or (name and not entry.name.startswith(_temp_prefix(name))):
            continue
        if entry.name.endswith(_PARTS_SUFFIX):
            owner = entry.with_name(entry.name[:-len(_PARTS_SUFFIX)])
            if not owner.exists() and _remove(entry):  # its temp file is gone: nobody writes into it
                removed.append(entry)
            continue
        if _is_stale(entry, older_than) and _remove(entry):
            removed.append(entry)
            parts = entry.with_name(entry.name + _PARTS_SUFFIX)
            if parts.exists() and _remove(parts):
                removed.append(parts)
    return removed


def _is_stale(temp: Path, older_than: float) -> bool:
    """True when the run that made ``temp`` is gone (its lock is free), or, without locks, it is old."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        try:
            return time.time() - temp.lstat().st_mtime >= older_than
        except OSError:
            return False
    try:
        fd = os.open(temp, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a running process holds it
    finally:
        os.close(fd)
    return True


def _hold_lock(fd: int) -> None:
    """Lock the temp file for as long as ``fd`` is open, so other runs see it in use."""
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):  # pragma: no cover - no locks here: the age rule applies
        pass


def _remove(entry: Path) -> bool:
    try:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


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
                 verify: Callable[[Path], None] | None = None,
                 suffixes: tuple[str, ...] = WORKBOOK_SUFFIXES) -> T:
    """Write ``output`` through ``write(temp_path)`` so that it appears whole or not at all.

    Checks the output with :func:`check_output_path`, writes to a temp file in the same folder,
    fsyncs it, runs ``verify`` on it (default: :func:`verify_workbook` for the output's format), checks again (the workbook may have been opened meanwhile)
    and renames it into place with ``os.replace``. On any failure the temp file is deleted, the
    previous output is untouched and the error is raised again (an operating-system error, also one
    a writer wraps, such as a full disk, as a :class:`BudgetError` ``output-write-failed``). Returns
    what ``write`` returned. Temp files that killed runs left in the folder are removed first.
    """
    inputs = list(inputs)
    output = check_output_path(output, inputs, suffixes=suffixes)
    folder = output.parent if str(output.parent) else Path(".")
    remove_stale_temps(folder)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(output.name), suffix=_TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise _write_failed(exc, output, folder) from None
    temp = Path(temp_name)
    _hold_lock(fd)
    try:
        result = write(temp)
        with open(temp, "r+b") as fh:
            os.fsync(fh.fileno())
        if verify is None:
            verify_workbook(temp, book_format(output))
        else:
            verify(temp)
        check_output_path(output, inputs, suffixes=suffixes)
        os.chmod(temp, _new_file_mode(output))
        _discard(temp.with_name(temp.name + _PARTS_SUFFIX))
        if os.name == "nt":  # pragma: no cover - Windows renames no open file; no lock is held there anyway
            os.close(fd)
            fd = -1
        os.replace(temp, output)
    except BaseException as exc:
        failure = None if isinstance(exc, (BudgetError, KeyboardInterrupt, SystemExit)) else _os_error_in(exc)
        _release(exc)
        _discard(temp)
        _discard(temp.with_name(temp.name + _PARTS_SUFFIX))
        if failure is not None:
            raise _write_failed(failure, output) from None
        raise
    finally:
        if fd >= 0:
            os.close(fd)
    _fsync_folder(folder)
    return result


def _os_error_in(exc: BaseException) -> OSError | None:
    """The operating-system error behind ``exc`` (xlsxwriter wraps a full disk in ``FileCreateError``)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, OSError):
            return current
        wrapped = next((a for a in getattr(current, "args", ()) if isinstance(a, OSError)), None)
        if wrapped is not None:
            return wrapped
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _write_failed(exc: OSError, output: Path, folder: Path | None = None) -> BudgetError:
    """The project's own "could not write" problem for an operating-system error."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return BudgetError.one(
            "output-write-failed", f"磁碟空間不足，無法寫出輸出檔（{reason}）；原有檔案未變更",
            "no space left on the disk; the output was not written and any previous file is unchanged",
            file=str(output), hint="請先釋出磁碟空間，或以 -o 寫到其他磁碟")
    if folder is not None:
        return BudgetError.one("output-folder-not-writable", f"無法在輸出資料夾建立檔案：{reason}",
                               "cannot create files in the output folder", file=str(folder))
    return BudgetError.one(
        "output-write-failed", f"無法寫出輸出檔：{reason}；原有檔案未變更",
        "could not write the output; any previous file is unchanged", file=str(output),
        hint="若檔案正在 Excel 中開啟，請先關閉")


def _release(exc: BaseException) -> None:
    """Free what the failed writer still holds (an open zip) now, quietly, not in a later ``__del__``."""
    import gc
    import traceback

    with _quiet_unraisable():
        traceback.clear_frames(exc.__traceback__)
        gc.collect()


@contextlib.contextmanager
def _quiet_unraisable() -> Iterator[None]:
    """Drop the OSErrors objects raise while being freed (a zip closing on a full disk); pass on the rest."""
    previous = sys.unraisablehook

    def hook(info: Any) -> None:
        if not isinstance(info.exc_value, OSError):
            previous(info)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _discard(temp: Path) -> None:
    """Remove a temp file or parts folder of this run (nothing more can be done if that fails)."""
    _remove(temp)
