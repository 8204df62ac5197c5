"""Finding the header row under title rows and mapping its columns to line fields."""

from __future__ import annotations

from budget.exports.header import Header, HeaderMiss, find_header, map_columns, year_in_text, year_of_cell


def test_header_below_title_rows():
    rows = [["臺北市政府資訊局 116年度 歲出預算明細表"], ["單位：新臺幣千元"], [],
            ["工作計畫", "用途別科目", "說明", "本年度預算數"], ["一般行政", "2036 按日按件計資酬金", "出席費", 60]]
    header = find_header(rows, [])
    assert isinstance(header, Header)
    assert (header.first_row, header.row) == (4, 4)
    assert header.fields == {"plan": 0, "account": 1, "description": 2, "amount": 3}


def test_two_row_header_in_a_csv_is_recognised_from_blank_upper_cells():
    rows = [["科目", "", "說明", "金額"], ["代碼", "名稱", "", ""], ["2036", "按日按件計資酬金", "出席費", "60"]]
    header = find_header(rows, [], merges_known=False)
    assert header.titles == ("科目/代碼", "科目/名稱", "說明", "金額")
    assert header.fields == {"account_code": 0, "account": 1, "description": 2, "amount": 3}
    assert header.row == 2


def test_without_merges_a_workbook_header_is_one_row():
    rows = [["科目", "", "說明", "金額"], ["代碼", "名稱", "", ""], ["2036", "按日按件計資酬金", "出席費", 60]]
    header = find_header(rows, [], merges_known=True)
    assert header.row == 1


def test_merged_group_makes_a_two_row_header():
    rows = [["科目", None, "說明", "金額"], ["代碼", "名稱", None, None], ["2036", "酬金", "出席費", 60]]
    header = find_header(rows, [(1, 1, 1, 2), (1, 3, 2, 3), (1, 4, 2, 4)])
    assert header.titles == ("科目/代碼", "科目/名稱", "說明", "金額") and header.row == 2


def test_a_data_row_is_never_a_second_header_row():
    rows = [["科目", "", "說明", "金額"], ["2036", "酬金", "出席費", "60"]]
    header = find_header(rows, [], merges_known=False)
    assert header.row == 1


def test_no_header_reports_the_most_header_like_row():
    rows = [["本表僅供參考"], ["說明", "備註"], ["a", "b"]]
    miss = find_header(rows, [])
    assert isinstance(miss, HeaderMiss)
    assert miss.row == 2 and miss.titles == ["說明", "備註"] and miss.fields == {"description": 0}


def test_no_header_at_all_reports_the_first_texts():
    miss = find_header([["第一行"], ["第二行"]], [])
    assert isinstance(miss, HeaderMiss) and miss.row is None and miss.titles == ["第一行", "第二行"]


def test_overrides_win_and_ties_are_reported():
    fields, ambiguous = map_columns(["說明", "摘要", "金額"], None, {})
    assert fields["description"] == 0 and ambiguous == {"description": [0, 1]}
    fields, ambiguous = map_columns(["說明", "摘要", "金額"], None, {"description": "摘要"})
    assert fields["description"] == 1 and not ambiguous


def test_alias_with_a_note_in_brackets():
    fields, _ = map_columns(["說明", "本年度預算數(單位:千元)"], None, {})
    assert fields == {"description": 0, "amount": 1}


def test_years():
    assert year_in_text("臺北市政府資訊局 116年度 歲出預算明細表") == 116
    assert year_in_text("１１５年度") == 115
    assert year_in_text("單位：千元") is None
    assert [year_of_cell(v) for v in (115, "116", "116年度", "民國117年", 2026, "abc", None, 115.0)] == [
        115, 116, 116, 117, 115, None, None, 115]
