"""The calamine child process: values and positions as in the sheet, and its failures as clear problems."""

from __future__ import annotations

import datetime as dt

import pytest

import exportfixtures as fx
from budget.problems import BudgetError
from budget.exports.read import read_exports
from budget.exports.sheet_worker import start_worker


def all_rows(handle, attribute: str = "width"):
    """Every sheet's rows, drained from a reader child: sheet name → (the sheet's ``attribute``, rows)."""
    out = {}
    handle.sheet_list()
    for sheet in handle.sheets():
        rows = []
        for chunk in sheet.more:
            rows.extend(chunk)
        out[sheet.name] = (getattr(sheet, attribute), rows)
    return out


def test_rows_and_columns_keep_their_sheet_positions(tmp_path):
    grids = all_rows(start_worker(fx.offset_xlsx(tmp_path), "offset.xlsx", sheets=None, max_rows=100))
    width, rows = grids["Sheet"]
    assert width == 4
    assert rows[2] == [None, None, "說明", "金額"]
    assert rows[3] == [None, None, "出席費", 5]
    assert rows[5] == [None, None, "鐘點費", 7]
    assert rows[4] == []


def test_integral_numbers_come_back_as_int_and_dates_as_dates(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["說明", "金額", "日期"])
    ws.append(["a", 12.0, dt.datetime(2027, 1, 15, 9, 30)])
    ws.append(["b", 0.5, None])
    path = tmp_path / "dates.xlsx"
    wb.save(path)
    (width, rows), = all_rows(start_worker(path, "dates.xlsx", sheets=None, max_rows=100)).values()
    assert rows[1][1] == 12 and type(rows[1][1]) is int
    assert rows[2][1] == 0.5
    assert rows[1][2] == dt.datetime(2027, 1, 15, 9, 30)
    line = read_exports([path]).lines[0]
    assert line.cells[2] == dt.datetime(2027, 1, 15, 9, 30)


def test_many_rows_arrive_in_several_frames_in_order(tmp_path):
    rows = [[f"第{i}筆", i] for i in range(12_345)]
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額"], rows=rows)
    result = read_exports([path])
    assert len(result.lines) == 12_345
    assert [line.row for line in result.lines[:3]] == [2, 3, 4]
    assert result.lines[-1].row == 12_346 and result.lines[-1].amount == 12_344


def test_timeout_becomes_a_too_complex_problem(tmp_path):
    handle = start_worker(fx.simple_xlsx(tmp_path), "simple.xlsx", sheets=None, max_rows=100, timeout=0.001)
    with pytest.raises(BudgetError) as exc:
        all_rows(handle)
    assert exc.value.problems[0].code == "file-too-complex"


def test_unknown_sheet_reported_by_the_child(tmp_path):
    handle = start_worker(fx.real_ods(tmp_path), "budget.ods", sheets=["不存在"], max_rows=100)
    with pytest.raises(BudgetError) as exc:
        all_rows(handle)
    (problem,) = exc.value.problems
    assert problem.code == "sheet-not-found" and "歲出" in problem.message
