"""read_exports on exports as offices produce them: layout, provenance, amounts, units, years, codes, formats."""

from __future__ import annotations

from decimal import Decimal

import pytest

import exportfixtures as fx
from budget.models import LINE, TOTAL
from budget.exports.read import (FLAG_AMOUNT_UNREADABLE, FLAG_CODE_NUMBER, FLAG_FORMULA_NO_VALUE, FLAG_FORMULA_ZERO,
                         FLAG_HIDDEN_ROW, FLAG_TOTAL_LABEL, read_exports)
from budget.problems import ERROR, WARNING, BudgetError


def by_row(result):
    return {line.row: line for line in result.lines}


def codes(problems):
    return [p.code for p in problems]


# --- the office layout ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    path = fx.layout_xlsx(tmp_path_factory.mktemp("layout"))
    return path, read_exports([path])


def test_layout_finds_the_two_row_header_below_the_title_rows(layout):
    _, result = layout
    (source,) = result.sources
    (sheet,) = source.sheets
    assert sheet.name == "預算"
    assert (sheet.header_first_row, sheet.header_row) == (4, 5)
    assert sheet.columns == ("科目/代碼", "科目/名稱", "說明", "金額")
    assert sheet.mapping["account_code"] == "科目/代碼"
    assert sheet.mapping["account"] == "科目/名稱"
    assert sheet.mapping["description"] == "說明"
    assert sheet.mapping["amount"] == "金額"


def test_layout_unit_and_year_come_from_the_title_rows(layout):
    _, result = layout
    sheet = result.sources[0].sheets[0]
    assert sheet.unit == "千元"
    assert sheet.year == 116
    assert {line.unit for line in result.lines} == {"千元"}
    assert {line.year for line in result.lines} == {116}


def test_layout_amounts_in_every_accepted_form(layout):
    _, result = layout
    rows = by_row(result)
    assert rows[6].amount == Decimal(60)
    assert rows[7].amount == Decimal(1234)      # "1,234"
    assert rows[8].amount == Decimal(123)       # full-width "１２３"
    assert rows[10].amount == Decimal(-1234)    # "(1,234)"
    assert rows[11].amount == Decimal(-500)     # "△500"
    assert all(isinstance(line.amount, Decimal) for line in result.lines if line.amount is not None)


def test_layout_blank_row_is_skipped_but_row_numbers_are_the_sheets(layout):
    _, result = layout
    sheet = result.sources[0].sheets[0]
    assert sheet.skipped_blank == 1
    assert 9 not in by_row(result)
    assert [line.row for line in result.lines] == [6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17]


def test_layout_hidden_row_is_read_and_flagged(layout):
    _, result = layout
    rows = by_row(result)
    assert FLAG_HIDDEN_ROW in rows[11].flags
    assert FLAG_HIDDEN_ROW not in rows[10].flags


def test_layout_hidden_sheet_is_skipped_and_reported(layout):
    _, result = layout
    assert result.sources[0].skipped_sheets == ["代碼表"]
    hidden = [p for p in result.problems if p.code == "sheet-hidden"]
    assert len(hidden) == 1 and hidden[0].sheet == "代碼表" and hidden[0].severity == WARNING
    assert {line.sheet for line in result.lines} == {"預算"}


def test_layout_hidden_sheet_is_read_when_named(layout):
    path, _ = layout
    result = read_exports([path], sheet="代碼表")
    assert [s.name for s in result.sources[0].sheets] == ["代碼表"]
    assert [(line.sheet, line.description) for line in result.lines] == [("代碼表", "隱藏工作表的資料")]
    assert result.sources[0].sheets[0].hidden is True
    assert "sheet-hidden" not in codes(result.problems)


def test_layout_total_rows_are_kept_as_totals(layout):
    _, result = layout
    rows = by_row(result)
    assert rows[12].kind == TOTAL and FLAG_TOTAL_LABEL in rows[12].flags  # "小 計"
    assert rows[17].kind == TOTAL                                        # "合計"
    assert sum(1 for line in result.lines if line.kind == TOTAL) == result.sources[0].sheets[0].totals == 2
    assert sum(1 for line in result.lines if line.kind == LINE) == result.sources[0].sheets[0].lines == 9


def test_layout_formula_without_cached_value_is_flagged_not_zero(layout):
    _, result = layout
    rows = by_row(result)
    assert rows[15].amount is None and FLAG_FORMULA_NO_VALUE in rows[15].flags
    problem = next(p for p in result.problems if p.code == "formula-no-value")
    assert (problem.row, problem.severity, problem.column) == (15, ERROR, "金額")
    # the 小計 formula is flagged too, as a warning (a total is never counted anyway)
    assert rows[12].amount is None and FLAG_FORMULA_NO_VALUE in rows[12].flags


def test_layout_unreadable_amount_is_an_error_and_the_rest_is_read(layout):
    _, result = layout
    rows = by_row(result)
    assert rows[16].amount is None and FLAG_AMOUNT_UNREADABLE in rows[16].flags
    problem = next(p for p in result.problems if p.code == "amount-unreadable")
    assert problem.severity == ERROR and problem.row == 16 and "12,34" in problem.message
    assert problem.file == "layout.xlsx" and problem.sheet == "預算"
    assert 17 in rows  # reading went on


def test_layout_codes_keep_leading_zeros(layout):
    _, result = layout
    rows = by_row(result)
    assert rows[13].account_code == "0271" and FLAG_CODE_NUMBER not in rows[13].flags
    assert rows[14].account_code == "0271" and FLAG_CODE_NUMBER in rows[14].flags  # number 271, format 0000
    assert any(p.code == "code-stored-as-number" and p.row == 14 for p in result.problems)


def test_layout_every_cell_is_kept_in_column_order(layout):
    _, result = layout
    rows = by_row(result)
    assert rows[7].cells == ("2003", "教育訓練費", "性別意識培力課程", "1,234")
    assert rows[11].cells[3] == "△500"
    columns = {id(line.columns) for line in result.lines}
    assert len(columns) == 1  # one shared tuple per sheet
    assert all(len(line.cells) == len(line.columns) for line in result.lines)


def test_provenance_file_sheet_row(layout):
    _, result = layout
    line = by_row(result)[6]
    assert (line.file, line.sheet, line.row) == ("layout.xlsx", "預算", 6)
    source = result.sources[0]
    assert source.format == "xlsx" and source.name == "layout.xlsx" and len(source.sha256) == 64


# --- smaller layouts ------------------------------------------------------------------------------

def test_data_not_at_a1_reports_sheet_rows(tmp_path):
    result = read_exports([fx.offset_xlsx(tmp_path)])
    assert [line.row for line in result.lines] == [4, 6]
    assert [line.description for line in result.lines] == ["出席費", "鐘點費"]
    assert result.lines[0].cells == (None, None, "出席費", 5)


def test_all_data_sheets_are_read_and_non_data_sheets_skipped(tmp_path):
    result = read_exports([fx.two_sheets_xlsx(tmp_path)])
    assert [(line.sheet, line.description) for line in result.lines] == [
        ("資訊局", "出席費"), ("秘書室", "鐘點費"), ("秘書室", "代理人")]
    assert [s.name for s in result.sources[0].sheets] == ["資訊局", "秘書室"]
    assert set(result.sources[0].skipped_sheets) == {"說明頁", "空白"}
    assert {"sheet-no-header", "sheet-empty"} <= set(codes(result.problems))


def test_sheet_option_narrows_to_one_sheet(tmp_path):
    result = read_exports([fx.two_sheets_xlsx(tmp_path)], sheet="秘書室")
    assert [line.description for line in result.lines] == ["鐘點費", "代理人"]


def test_unknown_sheet_is_fatal_and_lists_the_sheets(tmp_path):
    with pytest.raises(BudgetError) as exc:
        read_exports([fx.two_sheets_xlsx(tmp_path)], sheet="人事室")
    (problem,) = exc.value.problems
    assert problem.code == "sheet-not-found" and "資訊局" in problem.message


def test_xlsxwriter_formula_cached_zero_is_flagged(tmp_path):
    result = read_exports([fx.xlsxwriter_formulas(tmp_path)])
    line = result.lines[1]
    assert line.amount == 0 and FLAG_FORMULA_ZERO in line.flags
    assert any(p.code == "formula-cached-zero" and p.row == 3 for p in result.problems)
    assert FLAG_FORMULA_ZERO not in result.lines[0].flags


def test_codes_as_text_as_padded_number_and_as_plain_number(tmp_path):
    result = read_exports([fx.codes_xlsx(tmp_path)])
    assert [line.account_code for line in result.lines] == ["0271", "0271", "1234"]
    assert [FLAG_CODE_NUMBER in line.flags for line in result.lines] == [False, True, True]


def test_account_column_with_code_and_name_is_split(tmp_path):
    path = fx.simple_xlsx(tmp_path)
    result = read_exports([path])
    first = result.lines[0]
    assert (first.account_code, first.account) == ("2036", "按日按件計資酬金")
    assert first.plan == "3203100100 一般行政"
    assert first.cells[1] == "2036 按日按件計資酬金"  # the cell keeps the original text


def test_several_files_keep_their_own_provenance(tmp_path):
    a = fx.simple_xlsx(tmp_path, "a.xlsx")
    b = fx.csv_file(tmp_path, "b.csv", [["說明", "金額"], ["出席費", "7"]])
    c = fx.real_ods(tmp_path)
    result = read_exports([a, b, c])
    assert [s.name for s in result.sources] == ["a.xlsx", "b.csv", "budget.ods"]
    assert [s.format for s in result.sources] == ["xlsx", "csv", "ods"]
    assert [line.file for line in result.lines] == ["a.xlsx"] * 3 + ["b.csv"] + ["budget.ods"] * 2


def test_progress_is_called_with_a_growing_count(tmp_path):
    seen = []
    read_exports([fx.simple_xlsx(tmp_path)], progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] >= 3


# --- units and years ------------------------------------------------------------------------------

def test_unit_from_the_amount_header(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額(千元)"], rows=[["出席費", 5]])
    result = read_exports([path])
    assert result.lines[0].unit == "千元" and result.sources[0].sheets[0].unit_source == "header"


def test_default_unit_when_nothing_says(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額"], rows=[["出席費", 5]])
    assert read_exports([path]).lines[0].unit == "元"
    assert read_exports([path], default_unit="萬元").lines[0].unit == "萬元"


def test_forced_unit_wins_over_the_title(tmp_path):
    path = fx.simple_xlsx(tmp_path, title_rows=["單位：新臺幣千元"], header=["說明", "金額"], rows=[["出席費", 5]])
    assert read_exports([path]).lines[0].unit == "千元"
    assert read_exports([path], unit="元").lines[0].unit == "元"


def test_amount_text_with_its_own_unit(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額"], rows=[["出席費", "60千元"], ["鐘點費", "1,500元"]])
    lines = read_exports([path]).lines
    assert [(line.amount, line.unit) for line in lines] == [(Decimal(60), "千元"), (Decimal(1500), "元")]


def test_per_row_unit_column_is_honoured(tmp_path):
    path = fx.csv_file(tmp_path, "units.csv", [["說明", "金額", "unit"], ["a", "5", "千元"], ["b", "7", "元"],
                                               ["c", "9", ""]])
    lines = read_exports([path], default_unit="萬元").lines
    assert [line.unit for line in lines] == ["千元", "元", "萬元"]


def test_unknown_unit_option_is_rejected():
    with pytest.raises(BudgetError) as exc:
        read_exports([], unit="美元")
    assert exc.value.problems[0].code == "unit-unknown"


def test_year_from_a_year_column(tmp_path):
    path = fx.csv_file(tmp_path, "years.csv", [["年度", "說明", "金額"], ["115", "a", "1"], ["116年度", "b", "2"],
                                               ["2027", "c", "3"]])
    result = read_exports([path])
    assert [line.year for line in result.lines] == [115, 116, 116]
    assert result.sources[0].sheets[0].year is None  # not uniform


# --- header mapping -------------------------------------------------------------------------------

def test_map_option_overrides_the_aliases(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["項目", "備註", "本年度數"], rows=[["出席費", "說明文字", 5]])
    with pytest.raises(BudgetError):
        read_exports([path])
    result = read_exports([path], mapping={"description": "項目", "amount": "本年度數"})
    line = result.lines[0]
    assert (line.description, line.amount) == ("出席費", Decimal(5))
    assert result.sources[0].sheets[0].mapping["description"] == "項目"


def test_map_option_picks_a_column_over_an_alias(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "摘要", "金額"], rows=[["甲", "乙", 5]])
    assert read_exports([path]).lines[0].description == "甲"
    assert read_exports([path], mapping={"description": "摘要"}).lines[0].description == "乙"


def test_map_unknown_field_is_rejected(tmp_path):
    with pytest.raises(BudgetError) as exc:
        read_exports([fx.simple_xlsx(tmp_path)], mapping={"descr": "摘要"})
    assert exc.value.problems[0].code == "map-field-unknown"


def test_unused_map_is_reported(tmp_path):
    result = read_exports([fx.simple_xlsx(tmp_path)], mapping={"agency": "機關別名稱"})
    assert "map-header-unused" in codes(result.problems)


def test_this_year_column_wins_over_last_year(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["說明", "預算數", None])
    ws.append([None, "上年度", "本年度"])
    ws.merge_cells("B1:C1")
    ws.merge_cells("A1:A2")
    ws.append(["出席費", 10, 20])
    path = tmp_path / "years.xlsx"
    wb.save(path)
    result = read_exports([path])
    assert result.sources[0].sheets[0].mapping["amount"] == "預算數/本年度"
    assert result.lines[0].amount == Decimal(20)


def test_repeated_header_rows_are_skipped(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額"],
                          rows=[["a", 1], ["說明", "金額"], ["b", 2]])
    result = read_exports([path])
    assert [line.description for line in result.lines] == ["a", "b"]
    assert result.sources[0].sheets[0].skipped_headers == 1


def test_vertically_merged_plan_fills_the_lines_below(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工作計畫", "說明", "金額"])
    ws.append(["3203100100 一般行政", "a", 1])
    ws.append([None, "b", 2])
    ws.merge_cells("A2:A3")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    lines = read_exports([path]).lines
    assert [line.plan for line in lines] == ["3203100100 一般行政"] * 2
    assert lines[1].cells[0] is None  # the cell itself stays as read


def test_control_characters_are_reported_and_replaced_in_fields(tmp_path):
    # openpyxl refuses a raw control character; Excel stores it escaped as _x0007_, which is what we write
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額"], rows=[["性別_x0007_講座", 1], ["正常", 2]])
    result = read_exports([path])
    assert result.lines[0].description == "性別 講座"
    assert result.lines[0].cells[0] == "性別\x07講座"
    assert "control-chars" in codes(result.problems)
    assert "control-chars" not in result.lines[1].flags


# --- other formats --------------------------------------------------------------------------------

def test_ods_is_read_with_codes_as_text_and_hidden_sheet_skipped(tmp_path):
    result = read_exports([fx.real_ods(tmp_path)])
    sheet = result.sources[0].sheets[0]
    assert sheet.name == "歲出" and sheet.header_row == 2 and sheet.unit == "元" and sheet.year == 116
    assert [(line.account_code, line.amount, line.row) for line in result.lines] == [
        ("0271", Decimal(2500), 3), ("2003", Decimal(12000), 4)]
    assert result.sources[0].skipped_sheets == ["隱藏表"]


def test_xls_is_read_with_hidden_rows_and_padded_codes(tmp_path):
    path = fx.real_xls(tmp_path)
    if path is None:
        path = fx.soffice_convert(fx.simple_xlsx(tmp_path), tmp_path, "xls")
        if path is None:
            pytest.skip("neither xlwt nor LibreOffice is available to write an .xls")
        result = read_exports([path])
        assert [line.description for line in result.lines] == [r[2] for r in fx.ROWS]
        return
    result = read_exports([path])
    source = result.sources[0]
    assert source.format == "xls" and source.skipped_sheets == ["隱藏"]
    sheet = source.sheets[0]
    assert (sheet.header_row, sheet.unit, sheet.year) == (4, "千元", 116)
    rows = by_row(result)
    assert [rows[r].amount for r in (5, 6, 7)] == [Decimal(60), Decimal(40), Decimal(1234)]
    assert FLAG_HIDDEN_ROW in rows[7].flags
    assert rows[8].account_code == "0271" and FLAG_CODE_NUMBER in rows[8].flags
    assert rows[9].kind == TOTAL


def test_ods_two_row_header_hidden_row_and_formula_without_value(tmp_path):
    result = read_exports([fx.layout_ods(tmp_path)])
    sheet = result.sources[0].sheets[0]
    assert sheet.columns == ("科目/代碼", "科目/名稱", "說明", "金額(千元)")
    assert (sheet.header_first_row, sheet.header_row, sheet.unit) == (1, 2, "千元")
    rows = by_row(result)
    assert [(rows[r].account_code, rows[r].account, rows[r].amount) for r in (3, 4, 5)] == [
        ("2036", "按日按件計資酬金", Decimal(60)), ("2003", "教育訓練費", Decimal(40)), ("2054", "一般事務費", Decimal(5))]
    assert FLAG_HIDDEN_ROW in rows[5].flags and FLAG_HIDDEN_ROW not in rows[4].flags
    assert rows[6].kind == TOTAL and rows[6].amount is None and FLAG_FORMULA_NO_VALUE in rows[6].flags


def test_xls_saved_by_libreoffice_keeps_the_layout(tmp_path):
    path = fx.soffice_convert(fx.layout_xlsx(tmp_path), tmp_path, "xls")
    if path is None:
        pytest.skip("LibreOffice is not installed")
    result = read_exports([path])
    sheet = result.sources[0].sheets[0]
    assert (sheet.header_first_row, sheet.header_row, sheet.unit, sheet.year) == (4, 5, "千元", 116)
    assert sheet.columns == ("科目/代碼", "科目/名稱", "說明", "金額")
    rows = by_row(result)
    assert rows[7].amount == Decimal(1234) and rows[11].amount == Decimal(-500)
    assert FLAG_HIDDEN_ROW in rows[11].flags
    assert rows[14].account_code == "0271"
    assert result.sources[0].skipped_sheets == ["代碼表"]
    # LibreOffice computed the 小 計 formula (=SUM ignores the text amounts): it does not match the lines
    assert rows[12].kind == TOTAL and "total-mismatch" in rows[12].flags
