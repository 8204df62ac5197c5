"""Subtotal and total rows: recognised by label or by sum, kept as kind "total", checked, never taken from lines."""

from __future__ import annotations

import pytest

import exportfixtures as fx
from budget.models import LINE, TOTAL
from budget.exports.read import (FLAG_TOTAL_LABEL, FLAG_TOTAL_MISMATCH, FLAG_TOTAL_SUM_ABOVE, FLAG_TOTAL_SUM_BELOW,
                         is_total_label, read_exports)

HEADER = ["分支計畫", "用途別科目", "說明", "金額"]


def read(tmp_path, rows, header=HEADER):
    path = fx.csv_file(tmp_path, "t.csv", [header] + [[str(v) if v is not None else "" for v in r] for r in rows])
    result = read_exports([path])
    return result, [(line.kind, line.flags) for line in result.lines]


@pytest.mark.parametrize("text", ["合計", "小 計", "總計：", "共計", "合共", "　小　計　", "業務費小計", "以上合計",
                                  "2000 業務費 合計", "Total", "(小計)", "合計數"])
def test_total_labels(text):
    assert is_total_label(text)


@pytest.mark.parametrize("text", ["", "共計辦理性別平等研習3場", "合計畫", "計畫管理費", "小計畫補助", "總計畫經費說明",
                                  "性別平等專案小組委員出席費，全年共計12場次，合計60千元。", "統計", "設計費"])
def test_not_total_labels(text):
    assert not is_total_label(text)


def test_labelled_totals_that_add_up_are_not_flagged(tmp_path):
    result, kinds = read(tmp_path, [
        ["01 人員維持", "2036 按日按件計資酬金", "出席費", 60],
        ["01 人員維持", "2036 按日按件計資酬金", "鐘點費", 40],
        ["", "", "小計", 100],
        ["02 業務", "2054 一般事務費", "文具", 30],
        ["", "", "小計", 30],
        ["", "", "總計", 130],
    ])
    assert [k for k, _ in kinds] == [LINE, LINE, TOTAL, LINE, TOTAL, TOTAL]
    assert all(FLAG_TOTAL_LABEL in f for k, f in kinds if k == TOTAL)
    assert not any(FLAG_TOTAL_MISMATCH in f for _, f in kinds)
    assert not any(p.code == "total-mismatch" for p in result.problems)
    sheet = result.sources[0].sheets[0]
    assert (sheet.lines, sheet.totals) == (3, 3)


def test_labelled_total_that_does_not_add_up_is_flagged_and_kept(tmp_path):
    result, kinds = read(tmp_path, [
        ["01", "2036", "出席費", 60],
        ["01", "2036", "鐘點費", 40],
        ["", "", "合計", 120],
    ])
    assert kinds[2][0] == TOTAL and FLAG_TOTAL_MISMATCH in kinds[2][1]
    (problem,) = [p for p in result.problems if p.code == "total-mismatch"]
    assert problem.row == 4 and "120" in problem.message and "100" in problem.message


def test_unlabelled_row_equal_to_the_lines_above_is_a_total(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "2036", "出席費", 60],
        ["01", "2036", "鐘點費", 40],
        ["01", "2036", "", 100],
        ["01", "2054", "文具", 5],
    ])
    assert [k for k, _ in kinds] == [LINE, LINE, TOTAL, LINE]
    assert FLAG_TOTAL_SUM_ABOVE in kinds[2][1]


def test_heading_row_equal_to_the_lines_below_is_a_total(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "2000 業務費", "", 500],
        ["01", "2003 教育訓練費", "性別培力課程", 100],
        ["01", "2054 一般事務費", "文具", 400],
    ])
    assert [k for k, _ in kinds] == [TOTAL, LINE, LINE]
    assert FLAG_TOTAL_SUM_BELOW in kinds[0][1]


def test_a_line_with_a_description_is_never_taken_for_a_total(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "2036", "出席費", 60],
        ["01", "2036", "鐘點費", 40],
        ["01", "2036", "另一筆同額的出席費", 100],
    ])
    assert [k for k, _ in kinds] == [LINE, LINE, LINE]


def test_a_line_without_description_that_does_not_add_up_stays_a_line(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "2036", "出席費", 60],
        ["01", "2036", "鐘點費", 40],
        ["01", "2036", "", 99],
    ])
    assert [k for k, _ in kinds] == [LINE, LINE, LINE]


def test_one_equal_line_above_is_not_enough(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "2036", "出席費", 60],
        ["01", "2036", "", 60],
    ])
    assert [k for k, _ in kinds] == [LINE, LINE]


def test_sum_stops_at_a_change_of_branch_plan(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "2036", "出席費", 60],
        ["02", "2036", "鐘點費", 40],
        ["02", "2036", "講義費", 60],
        ["02", "", "", 160],
    ])
    assert kinds[3][0] == LINE  # 160 is the sum only if it crossed from 02 back into 01


def test_sum_uses_amounts_in_each_lines_unit(tmp_path):
    rows = [["說明", "金額", "單位別"], ["出席費", "1", "千元"], ["鐘點費", "500", "元"], ["", "1500", "元"]]
    path = fx.csv_file(tmp_path, "units.csv", rows)
    lines = read_exports([path]).lines
    assert [line.kind for line in lines] == [LINE, LINE, TOTAL]


def test_heading_without_account_equal_to_its_lines_is_a_total_even_with_a_description(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "", "01 市民活動中心整修工程：本工程分二年辦理", 1000],
        ["01", "3015 房屋建築養護費", "本年度所需施工費。", 1000],
        ["01", "", "02 性別友善廁所改善工程", 500],
        ["01", "3015 房屋建築養護費", "本年度所需施工費。", 480],
        ["01", "3015 房屋建築養護費", "按施工費提列工程管理費。", 20],
        ["01", "2054 一般事務費", "文具", 30],
    ])
    assert [k for k, _ in kinds] == [TOTAL, LINE, LINE, LINE, LINE, LINE]
    assert FLAG_TOTAL_SUM_BELOW in kinds[0][1]
    # the second heading's lines run on into 文具 (same plan, has an account): 500 covers only a prefix
    assert kinds[2][0] == LINE


def test_heading_that_covers_its_whole_run_is_a_total(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "", "02 性別友善廁所改善工程", 500],
        ["01", "3015 房屋建築養護費", "本年度所需施工費。", 480],
        ["01", "3015 房屋建築養護費", "按施工費提列工程管理費。", 20],
        ["01", "", "03 下一案", 7],
        ["01", "3015 房屋建築養護費", "施工費", 7],
    ])
    assert [k for k, _ in kinds] == [TOTAL, LINE, LINE, TOTAL, LINE]


def test_row_without_account_that_does_not_add_up_stays_a_line(tmp_path):
    _, kinds = read(tmp_path, [
        ["01", "", "未列科目的說明", 900],
        ["01", "3015 房屋建築養護費", "施工費", 1000],
    ])
    assert [k for k, _ in kinds] == [LINE, LINE]


def test_without_an_account_column_headings_are_not_guessed(tmp_path):
    _, kinds = read(tmp_path, [["01 案名", 100], ["施工費", 100]], header=["說明", "金額"])
    assert [k for k, _ in kinds] == [LINE, LINE]


def test_unreadable_amount_on_a_total_row_is_only_a_warning(tmp_path):
    result, kinds = read(tmp_path, [["01", "2036", "出席費", 60], ["", "", "合計", "六十"]])
    assert kinds[1][0] == TOTAL
    (problem,) = [p for p in result.problems if "unreadable" in p.code]
    assert problem.code == "total-amount-unreadable" and problem.severity == "warning"


def test_lines_under_a_heading_carry_its_name_as_context(tmp_path):
    result, _ = read(tmp_path, [
        ["01", "", "02 性別友善廁所改善工程", 500],
        ["01", "3015 房屋建築養護費", "本年度所需施工費。", 480],
        ["01", "3015 房屋建築養護費", "按施工費提列工程管理費。", 20],
        ["01", "", "03 停車場整修工程", 7],
        ["01", "3015 房屋建築養護費", "施工費", 7],
    ])
    assert [line.context for line in result.lines] == [
        "", "02 性別友善廁所改善工程", "02 性別友善廁所改善工程", "", "03 停車場整修工程"]
