"""Two processes deciding the lines of one run (budget.pipeline.classify_lines with budget.outputs.forked)
decide exactly what one process decides; a second process that fails costs time, never decisions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from budget import pipeline
from budget.models import EXCLUDED, MATCHED, REVIEW, UNMATCHED, Decision
from budget.outputs import forked
from budget.rules import load_rules
from test_parallel_write import processes

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(forked.why_not() not in (None, f"{forked.WORKERS_ENV}=1"),
                                reason=f"no second process here: {forked.why_not()}")


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    """The lines of a generated export of 1,200 rows: matches, reviews, sub-items, subtotals, nothing found."""
    spec = importlib.util.spec_from_file_location("synth", ROOT / "benchmarks" / "synth.py")
    synth = importlib.util.module_from_spec(spec)
    sys.modules["synth"] = synth
    spec.loader.exec_module(synth)
    export = synth.write_xlsx(synth.generate(1200, seed=7), tmp_path_factory.mktemp("export") / "116年度歲出.xlsx")
    return pipeline.run_classify([export], load_rules(None), write=False).lines


def _decide(lines, monkeypatch, *, parallel: bool, progress=None):
    with monkeypatch.context() as m:
        m.setattr(pipeline, "PARALLEL_CLASSIFY_MIN", 100)
        processes(m, parallel=parallel)
        return pipeline.classify_lines(lines, load_rules(None), progress)


def _forks(monkeypatch) -> list[int]:
    started: list[int] = []
    real = forked.start

    def spy(work):
        child = real(work)
        started.append(child.pid)
        return child

    monkeypatch.setattr(forked, "start", spy)
    return started


def test_two_processes_decide_what_one_does(lines, monkeypatch):
    one = _decide(lines, monkeypatch, parallel=False)
    started = _forks(monkeypatch)
    two = _decide(lines, monkeypatch, parallel=True)
    assert started, "a second process was expected to decide half of the lines"
    assert len(two) == len(one) == len(lines)
    assert [d.to_dict(line) for d, line in zip(two, lines)] == [d.to_dict(line) for d, line in zip(one, lines)]
    statuses = {d.status for d in two[len(two) // 2:]}
    assert {MATCHED, REVIEW, UNMATCHED, EXCLUDED} <= statuses  # the sent half holds every kind of decision
    # Decisions are separate objects (a reviewer's override replaces one line's, never another's).
    assert len({id(d) for d in two}) == len(two)


def test_progress_reaches_the_end_once_in_order(lines, monkeypatch):
    seen: list[int] = []
    _decide(lines, monkeypatch, parallel=True, progress=lambda stage, done, total: seen.append(done))
    assert seen == sorted(seen) and seen[-1] == len(lines)


def test_a_failing_second_process_leaves_its_lines_to_this_one(lines, monkeypatch):
    one = _decide(lines, monkeypatch, parallel=False)

    def broken(decisions):
        raise RuntimeError("the second process fails")

    monkeypatch.setattr(pipeline, "_packed", broken)  # runs only in the forked process
    started = _forks(monkeypatch)
    two = _decide(lines, monkeypatch, parallel=True)
    assert started
    assert [d.to_dict() for d in two] == [d.to_dict() for d in one]


def test_no_fork_when_forking_is_off(lines, monkeypatch):
    started = _forks(monkeypatch)
    _decide(lines, monkeypatch, parallel=False)
    assert started == []


def test_plain_unmatched_decisions_travel_as_none():
    plain, other = Decision(UNMATCHED), Decision(UNMATCHED, rule="removal")
    packed = pipeline._packed([plain, other, Decision(MATCHED, category="x")])
    assert packed[0] is None and packed[1] is other
    back = pipeline._unpacked(packed)
    assert back[0] == plain and back[0] is not plain and back[1] is other



def test_reading_leaves_no_thread_behind(monkeypatch):
    """The reader child's timeout thread has ended when reading returns: a thread left running would keep
    classify (and the write) from forking, on one CPU."""
    import threading
    import time

    from budget.exports import read_exports, sheet_worker

    class SlowToEnd(threading.Timer):  # a timer thread that takes a while to end once cancelled
        def run(self):
            super().run()
            time.sleep(0.3)

    monkeypatch.setattr(sheet_worker.threading, "Timer", SlowToEnd)
    before = threading.active_count()
    read = read_exports([ROOT / "workbooks" / "116年度歲出預算明細.xlsx"])
    assert read.lines
    assert threading.active_count() == before
