"""Atomic output: a failed write leaves the previous file byte-identical and no temp file; refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from budget.outputs import atomic as safe_write
from budget.problems import BudgetError
from budget.outputs.atomic import atomic_write, check_output_path, parts_folder_for, remove_stale_temps


def _xlsx(path: Path, text: str) -> Path:
    """A tiny but valid .xlsx written with xlsxwriter, holding ``text`` in A1."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet().write_string(0, 0, text)
    wb.close()
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _code(exc: pytest.ExceptionInfo[BudgetError]) -> str:
    return exc.value.problems[0].code


def test_writes_and_returns_what_the_writer_returned(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    result = atomic_write(out, lambda temp: _xlsx(temp, "NEW").name)
    assert result.startswith(".out.xlsx.") and result.endswith(".tmp")
    assert zipfile.ZipFile(out).testzip() is None
    assert _leftovers(tmp_path) == []


def test_new_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    umask = os.umask(0o022)
    try:
        atomic_write(out, lambda temp: _xlsx(temp, "x"))
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_failure_mid_write_keeps_previous_output(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "out.xlsx", "PREVIOUS GOOD RESULT")
    before = out.read_bytes()

    def half_then_crash(temp: Path) -> None:
        temp.write_bytes(b"PK\x03\x04 half a workbook")
        raise RuntimeError("disk vanished")

    with pytest.raises(RuntimeError):
        atomic_write(out, half_then_crash)
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_os_error_becomes_budget_error_and_nothing_changes(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "out.xlsx", "PREVIOUS")
    before = out.read_bytes()

    def no_space(temp: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(BudgetError) as exc:
        atomic_write(out, no_space)
    assert _code(exc) == "output-write-failed"
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_incomplete_workbook_is_not_renamed_into_place(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "out.xlsx", "PREVIOUS")
    before = out.read_bytes()
    with pytest.raises(BudgetError) as exc:
        atomic_write(out, lambda temp: temp.write_bytes(b"not a zip at all"))
    assert _code(exc) == "output-verify-failed"
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("which", ["largest", "smaller"])
def test_a_workbook_with_a_damaged_part_is_not_renamed_into_place(tmp_path: Path, which: str) -> None:
    """A flipped byte inside a part (either of the two groups the check reads on its own thread) is found."""
    import zipfile

    out = _xlsx(tmp_path / "out.xlsx", "PREVIOUS")
    before = out.read_bytes()

    def damaged(temp: Path) -> None:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("[Content_Types].xml", "<Types/>" * 50)
            zf.writestr("xl/workbook.xml", "<workbook/>" * 200)
            zf.writestr("xl/worksheets/sheet1.xml", "".join(f"<row r='{i}'/>" for i in range(20000)))
        with zipfile.ZipFile(temp) as zf:
            info = zf.getinfo("xl/worksheets/sheet1.xml" if which == "largest" else "xl/workbook.xml")
        data = bytearray(temp.read_bytes())
        at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
        data[at] ^= 0xFF
        temp.write_bytes(bytes(data))

    with pytest.raises(BudgetError) as exc:
        atomic_write(out, damaged)
    assert _code(exc) == "output-verify-failed"
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_killed_writer_leaves_previous_output_and_a_stale_temp_that_is_cleaned(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "out.xlsx", "PREVIOUS GOOD RESULT")
    before = out.read_bytes()
    started = tmp_path / "started"
    child = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from budget.outputs.atomic import atomic_write

        def slow(temp):
            with open(temp, "wb") as fh:
                fh.write(b"PK" + b"x" * 100000)
                fh.flush()
                Path({str(started)!r}).write_text("go")
                time.sleep(60)

        atomic_write({str(out)!r}, slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert proc.poll() is None, "the child exited before writing"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.read_bytes() == before
    stale = _leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(".out.xlsx.")
    # the killed run holds no lock any more: the next run (of any output in the folder) removes it at once
    atomic_write(tmp_path / "another.xlsx", lambda temp: _xlsx(temp, "x"))
    assert _leftovers(tmp_path) == []
    assert out.read_bytes() == before


def test_a_running_writer_keeps_its_temp_and_parts(tmp_path: Path) -> None:
    seen = {}

    def write(temp: Path) -> None:
        parts = parts_folder_for(temp)
        assert parts is not None and parts.is_dir() and parts.parent == tmp_path
        (parts / "sheet1.xml").write_text("x")
        seen["removed"] = remove_stale_temps(tmp_path)  # another run sweeping meanwhile
        _xlsx(temp, "x")

    atomic_write(tmp_path / "out.xlsx", write)
    assert seen["removed"] == []
    assert _leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]


def test_orphan_parts_folders_are_removed(tmp_path: Path) -> None:
    parts = tmp_path / ".out.xlsx.abcd1234.tmp.parts"
    parts.mkdir()
    (parts / "tmpx").write_bytes(b"x" * 100)
    temp = tmp_path / ".old.xlsx.zzzz9999.tmp"
    temp.write_bytes(b"x")
    removed = remove_stale_temps(tmp_path)
    assert sorted(p.name for p in removed) == [temp.name, parts.name]
    assert list(tmp_path.iterdir()) == []


def test_files_that_only_look_like_temps_are_left_alone(tmp_path: Path) -> None:
    lookalike = tmp_path / ".other.xlsx.abc.tmp"  # not a name this module makes
    lookalike.write_bytes(b"x")
    user = tmp_path / "notes.tmp"
    user.write_bytes(b"x")
    mine = tmp_path / ".out.xlsx.abc12345.tmp"
    mine.write_bytes(b"x")
    atomic_write(tmp_path / "out.xlsx", lambda temp: _xlsx(temp, "x"))
    assert lookalike.exists() and user.exists() and not mine.exists()


@pytest.mark.parametrize("how", ["same", "dot", "hardlink", "symlink"])
def test_refuses_to_write_over_an_input(tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _xlsx(tmp_path / "in.xlsx", "INPUT")
    before = source.read_bytes()
    if how == "same":
        out = source
    elif how == "dot":
        monkeypatch.chdir(tmp_path)
        out = Path("./sub/../in.xlsx")
        (tmp_path / "sub").mkdir()
    elif how == "hardlink":
        out = tmp_path / "link.xlsx"
        os.link(source, out)
    else:
        out = tmp_path / "link.xlsx"
        out.symlink_to(source)
    called = []
    with pytest.raises(BudgetError) as exc:
        atomic_write(out, lambda temp: called.append(temp), inputs=[source])
    assert _code(exc) == "output-is-input"
    assert called == []
    assert source.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_refuses_read_only_output(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "out.xlsx", "KEEP")
    before = out.read_bytes()
    out.chmod(0o444)
    try:
        with pytest.raises(BudgetError) as exc:
            atomic_write(out, lambda temp: _xlsx(temp, "NEW"))
        assert _code(exc) == "output-readonly"
        assert out.read_bytes() == before
    finally:
        out.chmod(0o644)
    assert _leftovers(tmp_path) == []


def test_refuses_output_open_in_excel(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "報告.xlsx", "KEEP")
    before = out.read_bytes()
    (tmp_path / "~$報告.xlsx").write_bytes(b"owner")
    with pytest.raises(BudgetError) as exc:
        atomic_write(out, lambda temp: _xlsx(temp, "NEW"))
    assert _code(exc) == "output-open"
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_refuses_when_the_workbook_is_opened_during_the_write(tmp_path: Path) -> None:
    out = _xlsx(tmp_path / "out.xlsx", "KEEP")
    before = out.read_bytes()

    def write_while_user_opens_it(temp: Path) -> None:
        _xlsx(temp, "NEW")
        (tmp_path / "~$out.xlsx").write_bytes(b"owner")

    with pytest.raises(BudgetError) as exc:
        atomic_write(out, write_while_user_opens_it)
    assert _code(exc) == "output-open"
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_refuses_a_folder_and_a_missing_folder_and_a_wrong_suffix(tmp_path: Path) -> None:
    (tmp_path / "dir.xlsx").mkdir()
    with pytest.raises(BudgetError) as exc:
        check_output_path(tmp_path / "dir.xlsx")
    assert _code(exc) == "output-is-directory"
    with pytest.raises(BudgetError) as exc:
        check_output_path(tmp_path / "missing" / "out.xlsx")
    assert _code(exc) == "output-folder-missing"
    with pytest.raises(BudgetError) as exc:
        check_output_path(tmp_path / "out.csv")
    assert _code(exc) == "output-bad-suffix"


def test_unwritable_folder_is_reported_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores folder permissions, so the failure is injected where the temp file is created.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safe_write.tempfile, "mkstemp", refuse)
    with pytest.raises(BudgetError) as exc:
        atomic_write(tmp_path / "out.xlsx", lambda temp: _xlsx(temp, "x"))
    assert _code(exc) == "output-folder-not-writable"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write to any folder")
def test_unwritable_folder_for_real(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(BudgetError) as exc:
            atomic_write(folder / "out.xlsx", lambda temp: _xlsx(temp, "x"))
        assert _code(exc) == "output-folder-not-writable"
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
