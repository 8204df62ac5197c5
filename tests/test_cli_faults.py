"""Faults and everyday mistakes: a full disk, a killed writer, an open workbook, an empty text, absurd rules files."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from budget.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
CSV = "說明,金額\n性別意識培力課程講座鐘點費,100\n文具,50\n"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_a_full_disk_is_the_projects_own_could_not_write(export: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    original = zipfile.ZipFile.write

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    from budget.outputs import xlsx_fast

    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    monkeypatch.setattr(xlsx_fast._ThreadedZip, "write", full)  # the package writer used on POSIX
    out = tmp_path / "out.xlsx"
    result = run("classify", export, "-o", out)
    monkeypatch.setattr(zipfile.ZipFile, "write", original)
    assert result.exit_code == 2, result.output
    assert "磁碟空間不足" in result.output and "內部錯誤" not in result.output
    assert "Traceback" not in result.output and "FileCreateError" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # nothing written, no litter


def test_a_real_full_disk(export: Path, tmp_path: Path) -> None:
    """A 64 KiB tmpfs (needs root; skipped elsewhere): exit 2, the message, no ZipFile.__del__ traceback."""
    folder = tmp_path / "full"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    try:
        done = subprocess.run([sys.executable, "-m", "budget", "classify", str(export), "-o", str(folder / "o.xlsx")],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 2
        assert "磁碟空間不足" in done.stderr
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
        assert list(folder.iterdir()) == []
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_killed_writer_leaves_its_parts_beside_the_output_and_the_next_run_removes_them(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    outdir.mkdir()
    systemp = tmp_path / "systemp"
    systemp.mkdir()
    started = tmp_path / "started"
    child = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from budget.outputs.atomic import atomic_write
        from budget.outputs.backends import open_book

        def slow(temp):
            book = open_book(temp, constant_memory=True)
            sheet = book.add_worksheet("明細")
            for row in range(2000):
                sheet.write_string(row, 0, "性別預算" * 5)
            Path({str(started)!r}).write_text("go")
            time.sleep(60)

        atomic_write({str(outdir / "o.xlsx")!r}, slow)
    """)
    env = {**os.environ, "TMPDIR": str(systemp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", child], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
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
    left = sorted(p.name for p in outdir.iterdir())
    assert len(left) == 2 and left[0].endswith(".tmp") and left[1].endswith(".tmp.parts"), left
    assert any((outdir / left[1]).iterdir())  # xlsxwriter's worksheet part is there, not in the system temp
    assert list(systemp.iterdir()) == []
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(CSV, encoding="utf-8")
    result = run("classify", csv_path, "-o", outdir / "other.xlsx")
    assert result.exit_code in (0, 1), result.output
    assert sorted(p.name for p in outdir.iterdir()) == ["other.xlsx"]


@pytest.mark.parametrize("lock, suite", [("~$out.xlsx", "Excel"), (".~lock.out.xlsx#", "LibreOffice")])
def test_an_open_output_is_refused(export: Path, tmp_path: Path, lock: str, suite: str) -> None:
    (tmp_path / lock).write_text("someone,host,2026\n")
    result = run("classify", export, "-o", tmp_path / "out.xlsx")
    assert result.exit_code == 2
    assert suite in result.output and lock in result.output
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_check_with_an_empty_text_is_a_usage_error(text: str) -> None:
    result = run("check", text)
    assert result.exit_code == 2
    assert "說明文字是空的" in result.output


def test_check_needs_a_text_or_a_file() -> None:
    result = run("check")
    assert result.exit_code == 2 and "請給說明文字" in result.output


def test_a_deeply_nested_rules_file_names_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "deep.toml"
    rules.write_text('schema = 1\nname = "x"\nx = ' + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    result = run("check", "文具", "-r", rules)
    assert result.exit_code == 2
    assert f"{rules}:3" in result.output and "巢狀太深" in result.output
    assert "RecursionError" not in result.output and "內部錯誤" not in result.output


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_share_that_is_not_a_number_is_explained_in_zh_tw(tmp_path: Path, value: str) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text(textwrap.dedent(f"""\
        schema = 1
        name = "x"

        [[category]]
        id = "training"
        name = "性別意識培力"
        official_class = 3
        share_percent = {value}
        any = ["性別意識"]
        """), encoding="utf-8")
    result = run("rules", "show", rules)
    assert result.exit_code == 2
    assert f"{rules}:8" in result.output and "必須是有限的數字" in result.output


def test_an_unknown_unit_is_one_code_everywhere(export: Path, tmp_path: Path) -> None:
    from budget.catalogue import CATALOGUE

    for args in (["classify", export, "--unit", "公斤", "-o", tmp_path / "o.xlsx"],
                 ["check", "文具", "--amount", "5", "--unit", "公斤"],
                 ["check", "--file", export, "--unit", "公斤"],
                 ["report", export, "--unit", "公斤"],
                 ["report", export, "--input-unit", "公斤"]):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "公斤" in result.output and "元、千元、萬元" in result.output, (args, result.output)
    assert "unit-unknown" in CATALOGUE and not (tmp_path / "o.xlsx").exists()


def test_a_folder_as_input_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("classify", ".")
    assert result.exit_code == 2
    assert "這是資料夾" in result.output and "內部錯誤" not in result.output
    assert list(tmp_path.iterdir()) == []
