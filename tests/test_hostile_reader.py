"""Hostile and faulty exports (issue 14, the reader's classes): each built here in a few bytes, each refused
with file › sheet › row › column or read in memory proportional to the data it really holds.

Memory is measured with tracemalloc in this process (the calamine child has its own cap); the bounds are
generous, the old reader needed gigabytes for the same files. No timing is asserted: the 100k-row
formula sheet and the fuzzing live in ``benchmarks/fuzz_reader.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

import exportfixtures as fx
from budget.exports import read_exports
from budget.exports.fields import AMOUNT_DIGITS
from budget.exports.flags import FLAG_CONTROL_CHARS, FLAG_FORMULA, FLAG_HIDDEN_ROW, FLAG_TOTAL_MISMATCH
from budget.exports.spans import RowRuns, VerticalMerges
from budget.limits import SHEET_COLUMNS
from budget.problems import BudgetError

ROOT = Path(__file__).resolve().parent.parent
#: Peak bytes the main process may allocate for one of these tiny files (the old reader: 0.3–4.4 GB).
PEAK_BOUND = 60 << 20


def read_bounded(paths, **kw):
    """read_exports under tracemalloc; returns (result, peak bytes)."""
    tracemalloc.start()
    try:
        result = read_exports(paths, **kw)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refused(paths, **kw):
    with pytest.raises(BudgetError) as exc:
        read_exports(paths, **kw)
    problems = exc.value.problems
    assert len(problems) == 1, problems
    assert problems[0].message and problems[0].message_en
    return problems[0]


def run_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "budget", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=300)


# --- class 1: merges and hidden-row runs cost what the data costs --------------------------------

@pytest.mark.parametrize("count", [5, 40])
def test_xlsx_merges_a_million_rows_below_the_data(tmp_path, count):
    path = fx.xlsx_far_merges(fx.simple_xlsx(tmp_path), tmp_path, count)
    result, peak = read_bounded([path])
    assert [ln.row for ln in result.lines] == [2, 3, 4]
    assert peak < PEAK_BOUND


def test_ods_collapsed_rows_repeated_a_million_times(tmp_path):
    hidden = ('<table:table-row table:visibility="collapse" table:number-rows-repeated="1000000">'
              "<table:table-cell/></table:table-row>") * 60
    path = fx.minimal_ods(tmp_path, "hidden.ods", fx.ods_small_table() + hidden)
    result, peak = read_bounded([path])
    assert [ln.amount for ln in result.lines] == [100, 200, 300]
    assert peak < PEAK_BOUND


def test_ods_data_row_repeated_a_million_times_is_refused(tmp_path):
    rows = (fx.ods_row(["說明", "金額"]) + fx.ods_row(["項目1", 100])
            + fx.ods_row(["項目2", 200], attrs=' table:visibility="collapse" table:number-rows-repeated="1000000"'))
    p = refused([fx.minimal_ods(tmp_path, "repeated.ods", rows)])
    assert (p.code, p.file, p.sheet, p.row) == ("row-repeated", "repeated.ods", "S", 3)


def test_ods_collapsed_data_row_is_still_flagged(tmp_path):
    rows = (fx.ods_row(["說明", "金額"]) + fx.ods_row(["項目1", 100])
            + fx.ods_row(["項目2", 200], attrs=' table:visibility="collapse" table:number-rows-repeated="2"')
            + fx.ods_row(["項目3", 300]))
    result = read_exports([fx.minimal_ods(tmp_path, "collapsed.ods", rows)])
    assert [(ln.row, FLAG_HIDDEN_ROW in ln.flags) for ln in result.lines] == [
        (2, False), (3, True), (4, True), (5, False)]


def test_ods_cells_spanning_a_million_rows(tmp_path):
    spanned = "".join(fx.ods_cell("跨列", ' table:number-rows-spanned="1000000"') for _ in range(40))
    rows = fx.ods_row(["說明", "金額"] + [f"欄{i}" for i in range(38)]) + fx.ods_row([], spanned)
    rows += fx.ods_row(["講座鐘點費", 200])
    result, peak = read_bounded([fx.minimal_ods(tmp_path, "span.ods", rows)])
    assert [ln.row for ln in result.lines] == [2, 3]
    assert result.lines[1].amount == 200
    assert peak < PEAK_BOUND


def test_xls_with_150_overlapping_merges(tmp_path):
    path = fx.xls_many_merges(tmp_path)
    if path is None:
        pytest.skip("xlwt is not installed")
    result, peak = read_bounded([path])
    assert [(ln.row, ln.description, ln.amount) for ln in result.lines] == [(2, "出席費", 100)]
    assert peak < PEAK_BOUND


def test_vertical_merges_are_handed_out_by_range():
    merges = VerticalMerges([(3, 1, 1_000_000, 1), (3, 1, 1_000_000, 1), (5, 2, 6, 3)], header_row=2, cols=[0, 2])
    assert merges.at(2) == []  # the top-left cell keeps its own value
    assert merges.at(3) == [(0, 2, 0)]
    assert sorted(merges.at(4)) == [(0, 2, 0), (2, 4, 1)]
    assert merges.at(6) == [(0, 2, 0)]  # the second merge ended at row index 5


def test_row_runs():
    runs = RowRuns([4, 5, 6, 9])
    runs.add(1_000, 1_000_000_000)
    assert 5 in runs and 9 in runs and 999_999 in runs
    assert 7 not in runs and 3 not in runs and 1_000_000_001 not in runs
    assert RowRuns([1, 2]) == {1, 2}


def test_memory_budget_refuses_with_the_row(tmp_path):
    rows = [["說明", "金額"]] + [[f"項目{i}", str(i)] for i in range(3000)]
    path = fx.csv_file(tmp_path, "many.csv", rows)
    p = refused([path], memory_budget=1 << 20)
    assert (p.code, p.file) == ("memory-budget-exceeded", "many.csv")
    assert 2 < p.row < 3002
    assert len(read_exports([path]).lines) == 3000  # the default budget reads it


# --- class 2: trailing empty columns are not data; real data past XFD is refused --------------

def test_csv_row_of_100000_empty_fields(tmp_path):
    path = tmp_path / "commas.csv"
    path.write_text("說明,金額\n出席費,100" + "," * 100_000 + "\n講座鐘點費,200\n", encoding="utf-8")
    result, peak = read_bounded([path])
    assert [ln.amount for ln in result.lines] == [100, 200]
    assert {len(ln.cells) for ln in result.lines} == {2}
    assert result.sources[0].sheets[0].columns == ("說明", "金額")
    assert peak < PEAK_BOUND


def test_ods_cell_repeated_99999999_columns(tmp_path):
    empty = fx.ods_row(["出席費", 100], '<table:table-cell table:number-columns-repeated="99999999"/>')
    path = fx.minimal_ods(tmp_path, "wide.ods", fx.ods_small_table() + empty)
    result, peak = read_bounded([path])
    assert [ln.amount for ln in result.lines] == [100, 200, 300, 100]
    assert max(len(ln.cells) for ln in result.lines) <= 2
    assert peak < PEAK_BOUND


@pytest.mark.parametrize("repeat", [20_000, 99_999_999])
def test_ods_data_repeated_past_the_last_column_is_refused(tmp_path, repeat):
    wide = fx.ods_row(["出席費", 100], fx.ods_cell("y", f' table:number-columns-repeated="{repeat}"'))
    path = fx.minimal_ods(tmp_path, "wide.ods", fx.ods_small_table() + wide)
    p = refused([path])  # the cell reader cuts the row at XFD: refused rather than silently shortened
    assert (p.code, p.file, p.sheet, p.row) == ("too-many-columns", "wide.ods", "S", 5)


def test_csv_data_past_the_last_column_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("說明,金額\n出席費,100\n講座鐘點費,200" + "," * SHEET_COLUMNS + "x\n", encoding="utf-8")
    p = refused([path])
    assert (p.code, p.file, p.row) == ("too-many-columns", "wide.csv", 3)
    assert f"{SHEET_COLUMNS + 2:,}" in p.message  # the column of the "x"


# --- class 3: formula amounts are scanned in linear time ---------------------------------------

def test_twenty_thousand_formula_amounts(tmp_path):
    result = read_exports([fx.xlsx_formula_amounts(tmp_path, 20_000)])
    assert len(result.lines) == 20_000
    assert all(FLAG_FORMULA in ln.flags for ln in result.lines)
    assert result.lines[-1].amount == 2 * 20_001


# --- class 5: absurd numbers are refused naming the cell; totals stay exact --------------------

@pytest.mark.parametrize("amount", ["9" * 5000, "1" * (AMOUNT_DIGITS + 1), "1,000,000,000,000,000", "0." + "1" * 20])
def test_absurd_amount_in_csv(tmp_path, amount):
    path = fx.csv_file(tmp_path, "absurd.csv", [["說明", "金額"], ["出席費", "100"], ["講座", amount]])
    p = refused([path])
    assert (p.code, p.file, p.row, p.column) == ("amount-too-large", "absurd.csv", 3, "金額")
    assert len(p.message) < 400  # the 5,000 digits are not repeated back


@pytest.mark.parametrize("cell", ['<c r="B2"><v>1e300</v></c>', '<c r="B2"><v>1234567890123456789</v></c>',
                                  '<c r="B2" t="inlineStr"><is><t>' + "9" * 5000 + "</t></is></c>"])
def test_absurd_amount_in_xlsx(tmp_path, cell):
    p = refused([fx.xlsx_amount_cell(tmp_path, "absurd.xlsx", cell)])
    assert (p.code, p.sheet, p.row, p.column) == ("amount-too-large", "歲出", 2, "金額")


def test_fifteen_digits_are_read_exactly(tmp_path):
    path = fx.csv_file(tmp_path, "big.csv", [["說明", "金額"], ["出席費", "999,999,999,999,999"],
                                             ["講座", "12345678901.2345"]])
    assert [ln.amount for ln in read_exports([path]).lines] == [Decimal("999999999999999"),
                                                                Decimal("12345678901.2345")]


def test_subtotal_check_does_not_round():
    from budget.exports.rows import RowProblems
    from budget.exports.subtotals import mark_subtotals
    from budget.models import TOTAL, LineItem

    big = Decimal(10) ** 30 + 1  # past the default 28-digit context: only an exact sum equals the total
    lines = [LineItem(description="甲", amount=big, row=2), LineItem(description="乙", amount=big, row=3),
             LineItem(description="合計", amount=2 * big, row=4, kind=TOTAL, flags=["total-label"])]
    report = RowProblems("x.csv", "")
    mark_subtotals(lines, has_account=False, report=report, amount_title="金額")
    assert FLAG_TOTAL_MISMATCH not in lines[2].flags and not report.finish()


# --- class 8: everyday mistakes -----------------------------------------------------------------

def test_a_directory_is_named_and_refused(tmp_path):
    p = refused([Path(".")])
    assert (p.code, p.file) == ("file-is-directory", ".")
    run = run_cli("classify", ".", "-o", tmp_path / "out.xlsx", cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "資料夾" in run.stdout + run.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_the_same_file_twice_is_refused(tmp_path):
    path = fx.simple_xlsx(tmp_path)
    (tmp_path / "sub").mkdir()
    os.link(path, tmp_path / "sub" / "again.xlsx")
    for second in (path, tmp_path / "sub" / ".." / path.name, tmp_path / "sub" / "again.xlsx"):
        p = refused([path, second])
        assert p.code == "input-duplicate"
    run = run_cli("classify", path, path, "-o", tmp_path / "out.xlsx")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("before", [0, 9000])
def test_csv_with_a_nul_byte_names_the_row(tmp_path, before):
    filler = "".join(f"項目{i:05d},1\n" for i in range(before // 12))
    path = tmp_path / "nul.csv"
    path.write_text("說明,金額\n" + filler + "出\x00席費,100\n", encoding="utf-8")
    result = read_exports([path])
    row = 2 + before // 12
    line = next(ln for ln in result.lines if ln.row == row)
    assert FLAG_CONTROL_CHARS in line.flags and line.description == "出 席費"
    assert [(p.code, p.row) for p in result.problems] == [("control-chars", row)]


def test_binary_junk_is_still_not_a_spreadsheet(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 40)
    assert refused([path]).code == "file-not-spreadsheet"


@pytest.mark.parametrize("index", ["99", "-1", "4", "x"])
def test_corrupt_shared_string_index_names_the_cell(tmp_path, index):
    p = refused([fx.xlsx_shared_strings(tmp_path, "ss.xlsx", index)])
    assert (p.code, p.file, p.sheet, p.row, p.column) == ("shared-string-invalid", "ss.xlsx", "歲出", 3, "A")


def test_valid_shared_string_indexes_read(tmp_path):
    result = read_exports([fx.xlsx_shared_strings(tmp_path, "ss.xlsx", "3")])
    assert [ln.description for ln in result.lines] == ["出席費", "講座鐘點費"]


def test_cli_refuses_an_absurd_amount_with_exit_2(tmp_path):
    path = fx.csv_file(tmp_path, "absurd.csv", [["說明", "金額"], ["出席費", "9" * 5000]])
    run = run_cli("classify", path, "-o", tmp_path / "out.xlsx")
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "absurd.csv" in run.stdout + run.stderr
    assert not (tmp_path / "out.xlsx").exists()
