"""CSV exports: UTF-8 with or without BOM, Big5/cp950 with 造字 reported per row, forced encodings, text cells."""

from __future__ import annotations

from decimal import Decimal

import pytest

import exportfixtures as fx
from budget.exports.csv_read import FLAG_BIG5_PRIVATE, PRIVATE_CHAR_MARK
from budget.exports.read import read_exports
from budget.problems import WARNING, BudgetError

ROWS = [["科目代碼", "說明", "金額"], ["0271", "性別平等專案小組出席費", "1,234"], ["2036", "講座鐘點費", "(50)"]]


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp950", "cp950"),
                                               ("utf-16", "utf-16")])
def test_encodings_are_detected(tmp_path, encoding, expected):
    path = fx.csv_file(tmp_path, f"{encoding}.csv", ROWS, encoding)
    result = read_exports([path])
    assert result.sources[0].encoding == expected
    assert [line.description for line in result.lines] == ["性別平等專案小組出席費", "講座鐘點費"]
    assert [line.amount for line in result.lines] == [Decimal(1234), Decimal(-50)]


def test_fields_stay_text_and_codes_keep_leading_zeros(tmp_path):
    result = read_exports([fx.csv_file(tmp_path, "codes.csv", ROWS)])
    line = result.lines[0]
    assert line.account_code == "0271"
    assert line.cells == ("0271", "性別平等專案小組出席費", "1,234")
    assert all(type(c) is str for ln in result.lines for c in ln.cells)


def test_big5_private_character_is_reported_per_row_and_the_file_is_read(tmp_path):
    result = read_exports([fx.big5_csv_with_private_char(tmp_path)])
    assert result.sources[0].encoding == "cp950"
    assert len(result.lines) == 3
    line = result.lines[1]
    assert line.row == 3 and PRIVATE_CHAR_MARK in line.description and line.description.startswith("林")
    assert FLAG_BIG5_PRIVATE in line.flags
    assert FLAG_BIG5_PRIVATE not in result.lines[0].flags
    (problem,) = [p for p in result.problems if p.code == "big5-private-char"]
    assert (problem.row, problem.column, problem.severity) == (3, "說明", WARNING)
    assert "FA40" in problem.message


def test_forced_big5_encoding_also_reports_private_characters(tmp_path):
    result = read_exports([fx.big5_csv_with_private_char(tmp_path)], encoding="big5")
    assert any(p.code == "big5-private-char" for p in result.problems)


def test_undecodable_bytes_are_fatal_with_an_encoding_hint(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes("說明,金額\n".encode("utf-8") + bytes([0x80, 0x81, 0xFF, 0x80, 0x41, 0xFF]) * 20 + b"\n")
    with pytest.raises(BudgetError) as exc:
        read_exports([path])
    (problem,) = exc.value.problems
    assert problem.code == "encoding-unknown" and "--encoding" in problem.message


def test_forced_wrong_encoding_names_the_line(tmp_path):
    path = fx.csv_file(tmp_path, "big5.csv", ROWS, "cp950")
    with pytest.raises(BudgetError) as exc:
        read_exports([path], encoding="utf-8")
    (problem,) = exc.value.problems
    assert problem.code == "encoding-failed" and problem.row == 1


def test_unknown_encoding_name(tmp_path):
    with pytest.raises(BudgetError) as exc:
        read_exports([fx.csv_file(tmp_path, "a.csv", ROWS)], encoding="klingon")
    assert exc.value.problems[0].code == "encoding-invalid"


def test_title_rows_and_unit_line_in_a_csv(tmp_path):
    rows = [["臺北市政府資訊局 116年度 歲出預算明細表", "", ""], ["單位：新臺幣千元", "", ""], ["", "", ""]] + ROWS
    result = read_exports([fx.csv_file(tmp_path, "titled.csv", rows)])
    sheet = result.sources[0].sheets[0]
    assert (sheet.header_row, sheet.unit, sheet.year) == (4, "千元", 116)
    assert [line.row for line in result.lines] == [5, 6]


def test_tab_separated_text_is_read(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("說明\t金額\n出席費\t1,000\n", encoding="utf-8")
    result = read_exports([path])
    assert (result.lines[0].description, result.lines[0].amount) == ("出席費", Decimal(1000))


def test_quoted_newlines_keep_record_numbers(tmp_path):
    rows = [["說明", "金額"], ["第一行\n第二行", "5"], ["下一筆", "6"]]
    result = read_exports([fx.csv_file(tmp_path, "multi.csv", rows)])
    assert [(line.row, line.description) for line in result.lines] == [(2, "第一行\n第二行"), (3, "下一筆")]


def test_blank_csv_rows_are_skipped(tmp_path):
    rows = [["說明", "金額"], ["a", "1"], ["", ""], ["b", "2"]]
    result = read_exports([fx.csv_file(tmp_path, "blank.csv", rows)])
    assert [line.row for line in result.lines] == [2, 4]
    assert result.sources[0].sheets[0].skipped_blank == 1


def test_control_character_in_csv(tmp_path):
    rows = [["說明", "金額"], ["性別\x07講座", "1"]]
    result = read_exports([fx.csv_file(tmp_path, "ctrl.csv", rows)])
    assert result.lines[0].description == "性別 講座"
    assert any(p.code == "control-chars" and p.row == 2 for p in result.problems)


def test_wrongly_guessed_encoding_shows_up_as_a_header_problem_with_a_hint(tmp_path):
    # Shift-JIS text is not valid UTF-8 and mostly decodes as Big5 without errors: only the header tells
    path = tmp_path / "sjis.csv"
    path.write_bytes("説明,金額\n研修費,1\n".encode("shift_jis"))
    with pytest.raises(BudgetError) as exc:
        read_exports([path])
    (problem,) = exc.value.problems
    assert problem.code in ("header-not-found", "encoding-unknown")
    assert "--encoding" in problem.message
