"""Two processes writing one annotated workbook (budget.outputs.forked, annotated/detail.py) write
exactly the workbook one process writes; a second process that fails or dies costs time, never rows."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from budget.models import REVIEW
from budget.outputs import forked
from budget.outputs.annotated import detail, write_annotated_workbook
from budget.outputs.readback import read_annotated
from budget.pipeline import run_classify
from budget.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(forked.why_not() not in (None, f"{forked.WORKERS_ENV}=1"),
                                reason=f"no second process here: {forked.why_not()}")


def _synth():
    spec = importlib.util.spec_from_file_location("synth", ROOT / "benchmarks" / "synth.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["synth"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A classified export of 1,500 rows (reviews, matches, amounts in 元 shown in 千元), with odd text late in it."""
    synth = _synth()
    folder = tmp_path_factory.mktemp("export")
    export = synth.write_xlsx(synth.generate(1500, seed=31), folder / "116年度歲出.xlsx")
    result = run_classify([export], load_rules(None), write=False)
    # Text the writer must change or escape, in the second half: its problems must reach the report.
    i = len(result.lines) - 40
    line = result.lines[i]
    result.lines[i] = dataclasses.replace(line, description="控制字元\x07在此 & <b>", cells=(), columns=())
    return result


def processes(m: pytest.MonkeyPatch, *, parallel: bool) -> None:
    """Let the work fork a second process (``parallel``), or keep it in this one (GENDER_BUDGET_WORKERS=1)."""
    if parallel:
        m.delenv(forked.WORKERS_ENV, raising=False)
    else:
        m.setenv(forked.WORKERS_ENV, "1")


def _write(path: Path, run, monkeypatch, *, parallel: bool):
    with monkeypatch.context() as m:
        m.setattr(detail, "PARALLEL_MIN_LINES", 100)
        processes(m, parallel=parallel)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_annotated_workbook(path, run)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name != "docProps/core.xml"}  # creation time


def test_two_processes_write_the_same_workbook_as_one(run, tmp_path, monkeypatch) -> None:
    one = _write(tmp_path / "one" / "out.xlsx", run, monkeypatch, parallel=False)
    two = _write(tmp_path / "two" / "out.xlsx", run, monkeypatch, parallel=True)
    assert two.processes == "2" and one.processes == f"{forked.WORKERS_ENV}=1"
    half = int(len(run.lines) * detail.FIRST_SHARE)  # where the second process begins
    reviews = [i for i, d in enumerate(run.decisions) if d.status == REVIEW]
    assert min(reviews) < half <= max(reviews)  # the 待覆核 sheet is split too
    a, b = _parts(tmp_path / "one" / "out.xlsx"), _parts(tmp_path / "two" / "out.xlsx")
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []
    assert two.workbook_total == one.workbook_total == run.totals.input_total
    assert [p.code for p in two.problems] == [p.code for p in one.problems]
    assert any(p.row == run.lines[len(run.lines) - 40].row for p in two.problems)  # found by the second process
    # Read back by the tool itself: every line, the 資料 check over all records, the reviews sheet.
    back = read_annotated(tmp_path / "two" / "out.xlsx")
    assert len(back.lines) == len(run.lines)
    # Both halves' 明細 cells are in 紀錄's 明細檢查碼: carrying reviews over reads none of these unreviewed rows.
    assert read_annotated(tmp_path / "two" / "out.xlsx", carrying=True).rows == []


def test_a_second_process_that_fails_leaves_the_rows_to_this_one(run, tmp_path, monkeypatch) -> None:
    def fails(self, start, stop, folder):
        raise RuntimeError("broken on purpose")

    one = _write(tmp_path / "one" / "out.xlsx", run, monkeypatch, parallel=False)
    monkeypatch.setattr(detail._Rows, "detached", fails)
    two = _write(tmp_path / "two" / "out.xlsx", run, monkeypatch, parallel=True)
    assert "broken on purpose" in two.processes
    assert _parts(tmp_path / "one" / "out.xlsx") == _parts(tmp_path / "two" / "out.xlsx")
    assert two.workbook_total == one.workbook_total


def test_a_second_process_that_dies_leaves_the_rows_to_this_one(run, tmp_path, monkeypatch) -> None:
    def dies(self, start, stop, folder):
        (Path(folder) / "half-written.xml").write_text("<row")
        os._exit(3)

    one = _write(tmp_path / "one" / "out.xlsx", run, monkeypatch, parallel=False)
    monkeypatch.setattr(detail._Rows, "detached", dies)
    two = _write(tmp_path / "two" / "out.xlsx", run, monkeypatch, parallel=True)
    assert "child ended" in two.processes
    assert _parts(tmp_path / "one" / "out.xlsx") == _parts(tmp_path / "two" / "out.xlsx")
    assert not list(Path(tempfile.gettempdir()).glob("rows-*/half-written.xml"))  # its folder went with it
    assert two.workbook_total == one.workbook_total


def test_text_only_the_shared_table_holds_keeps_the_rows_in_one_process(run, tmp_path, monkeypatch) -> None:
    # A literal _x0041_ goes to the shared-string table, which the two processes cannot both extend.
    i = len(run.lines) - 10
    changed = dataclasses.replace(run, lines=list(run.lines))
    changed.lines[i] = dataclasses.replace(run.lines[i], description="代碼 _x0041_ 照寫", cells=(), columns=())
    one = _write(tmp_path / "one" / "out.xlsx", changed, monkeypatch, parallel=False)
    two = _write(tmp_path / "two" / "out.xlsx", changed, monkeypatch, parallel=True)
    assert "shared strings" in two.processes
    assert _parts(tmp_path / "one" / "out.xlsx") == _parts(tmp_path / "two" / "out.xlsx")
    back = read_annotated(tmp_path / "two" / "out.xlsx")
    assert back.lines[i].description == "代碼 _x0041_ 照寫"
    assert one.workbook_total == two.workbook_total == Decimal(one.workbook_total)


def test_few_lines_or_another_writer_use_one_process(run, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(forked.WORKERS_ENV, raising=False)
    monkeypatch.setattr(detail, "PARALLEL_MIN_LINES", 100)
    assert write_annotated_workbook(tmp_path / "a.ods", run).processes == "此寫出程式不分工 (this writer writes on one core)"
    monkeypatch.setattr(detail, "PARALLEL_MIN_LINES", 10 ** 6)
    assert write_annotated_workbook(tmp_path / "b.xlsx", run).processes == ""


def test_no_process_to_spare_writes_all_rows_here(run, tmp_path, monkeypatch) -> None:
    def refused(work):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    one = _write(tmp_path / "one" / "out.xlsx", run, monkeypatch, parallel=False)
    monkeypatch.setattr(forked, "start", refused)
    two = _write(tmp_path / "two" / "out.xlsx", run, monkeypatch, parallel=True)
    assert "could not fork" in two.processes
    assert _parts(tmp_path / "one" / "out.xlsx") == _parts(tmp_path / "two" / "out.xlsx")
