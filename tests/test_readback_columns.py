"""Reading an annotated workbook back reads only what it needs (the 明細 columns it uses, 資料's records),
and still checks what it always checked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from budget.exports.sheet_worker import start_worker
from budget.money import AmountError, parse_amount
from budget.outputs.layout import DATA_SHEET, DETAIL_SHEET
from budget.outputs.readback import _PLAIN_AMOUNT, read_annotated, reviewed_detail_rows, start_reading
from budget.pipeline import make_report
from budget.problems import BudgetError
from budget.rules import parse_rules
from test_read_worker import all_rows
from test_review import RULES_TOML, _rows_for_review, write_annotated


def test_the_reader_sends_only_the_columns_titled_so_at_their_sheet_positions(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "明細"
    # Column A stays empty (calamine then reads from column B); 來源 twice, as an export's own column may be.
    ws.append([None, "來源", "說明", "性別預算數（元）", "來源", "覆核說明 "])
    ws.append([None, "原始來源", "出席費", 12.0, "a.xlsx / 第5列", "看過"])
    ws.append([None, None, "鐘點費", None, "a.xlsx / 第6列"])
    path = tmp_path / "cols.xlsx"
    wb.save(path)
    sheets = all_rows(start_worker(path, "cols.xlsx", sheets=["明細"], max_rows=100,
                                  columns={"明細": ["來源", "性別預算數", "覆核說明"]}), "columns")
    columns, rows = sheets["明細"]
    assert columns == [1, 3, 4, 5]
    assert rows[0] == ["來源", "性別預算數（元）", "來源", "覆核說明 "]
    assert rows[1] == ["原始來源", 12, "a.xlsx / 第5列", "看過"]
    assert rows[2] == [None, None, "a.xlsx / 第6列"]
    assert len(rows) == 3
    # Without ``columns`` every cell comes, as before.
    columns, rows = all_rows(start_worker(path, "cols.xlsx", sheets=["明細"], max_rows=100), "columns")["明細"]
    assert columns is None and rows[1] == [None, "原始來源", "出席費", 12, "a.xlsx / 第5列", "看過"]


def test_a_sheet_whose_titles_match_nothing_comes_with_no_cells(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["說明", "金額"])
    wb.active.append(["出席費", 5])
    path = tmp_path / "none.xlsx"
    wb.save(path)
    (columns, rows), = all_rows(start_worker(path, "none.xlsx", sheets=None, max_rows=100,
                                             columns={"Sheet": ["來源"]}), "columns").values()
    assert columns == [] and rows == [[], []]


def test_a_workbook_read_back_has_every_line_and_review(tmp_path: Path) -> None:
    book = read_annotated(write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review()))
    assert [r.detail_row for r in book.rows] == list(range(2, len(book.rows) + 2))
    assert [r.line.description for r in book.rows] == [r[0].description for r in _rows_for_review()]
    assert [bool(r.review) for r in book.rows] == [bool(r[2]) for r in _rows_for_review()]
    assert [r.review_note for r in book.rows] == [r[3] for r in _rows_for_review()]
    assert reviewed_detail_rows(book.path) == [r.detail_row for r in book.rows if r.review or r.review_note]


def test_plain_amounts_read_directly_are_what_parse_amount_reads() -> None:
    samples = ["0", "7", "40000", "-40000", "12.5", "-0.5", "0.0001", "999999999999999", "1000000000000000",
               "-0", "007", "1e3", "1_000", "１２", "1,234", " 12", "12.34567", "NaN", "0.50", "-12.30"]
    for text in samples:
        if _PLAIN_AMOUNT.fullmatch(text):
            direct = Decimal(text)
            assert (direct, str(direct)) == (parse_amount(text)[0], str(parse_amount(text)[0])), text
    assert not _PLAIN_AMOUNT.fullmatch("1000000000000000")  # too large: parse_amount says so
    with pytest.raises(AmountError):
        parse_amount("1000000000000000")
    assert not any(_PLAIN_AMOUNT.fullmatch(t) for t in ("-0", "007", "1e3", "1_000", "１２", " 12", "NaN"))


def test_a_record_with_spaces_around_its_json_still_reads_but_an_extra_value_is_damage(tmp_path: Path) -> None:
    import openpyxl

    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    expected = [r.line.amount for r in read_annotated(path).rows]
    wb = openpyxl.load_workbook(path)
    for row in range(2, wb[DATA_SHEET].max_row + 1):  # an older workbook's records carry no checks
        cell = wb[DATA_SHEET].cell(row, 2)
        if cell.value:
            cell.value = " " + cell.value.replace(',"k":"', ',"x":"') + " "
    wb["紀錄"].delete_rows(1, wb["紀錄"].max_row)
    wb.save(path)
    assert [r.line.amount for r in read_annotated(path).rows] == expected
    wb[DATA_SHEET]["B3"].value = wb[DATA_SHEET]["B3"].value + "{}"
    wb.save(path)
    with pytest.raises(BudgetError) as caught:
        read_annotated(path)
    assert [(p.code, p.sheet, p.row) for p in caught.value.problems] == [("annotated-bad-data", DATA_SHEET, 3)]


def _tampered(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb[DATA_SHEET]
    ws["B3"].value = ws["B3"].value.replace('"amount":"40000"', '"amount":"999999999"')
    wb.save(path)
    return path


@pytest.mark.parametrize("bad_first", [True, False])
def test_a_report_read_ahead_still_refuses_the_tampered_workbook_and_names_it(tmp_path: Path, bad_first) -> None:
    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    good = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    bad = _tampered(write_annotated(tmp_path / "116.性別預算.xlsx", _rows_for_review()))
    with pytest.raises(BudgetError) as caught:
        make_report([bad, good] if bad_first else [good, bad], rules, years=[116, 115] if bad_first else [115, 116])
    assert {p.file for p in caught.value.problems} == {str(bad)}
    assert ("annotated-data-edited", DATA_SHEET, 3) in [(p.code, p.sheet, p.row) for p in caught.value.problems]


def test_a_started_reading_can_be_cancelled_or_finished_once(tmp_path: Path) -> None:
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    reading = start_reading(path)
    reading.cancel()
    reading.cancel()  # twice is harmless
    with pytest.raises(ValueError):
        reading.finish()
    reading = start_reading(path)
    assert len(reading.finish().rows) == len(_rows_for_review())
    with pytest.raises(BudgetError) as caught:
        start_reading(tmp_path / "missing.xlsx")
    assert caught.value.problems[0].code in ("annotated-missing-sheet", "file-not-found")


def test_a_formula_without_a_value_is_found_by_its_review_column_only(tmp_path: Path) -> None:
    import openpyxl

    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    ws = wb[DETAIL_SHEET]
    titles = [c.value for c in ws[1]]
    amount_col = titles.index("覆核計入數") + 1
    ws.cell(4, amount_col).value = "=1+1"  # openpyxl saves no value
    ws.cell(5, 1).value = "=1+1"  # a formula in an export's column is none of the reviewer's
    wb.save(path)
    book = read_annotated(path)
    [row] = [r for r in book.rows if r.entry_problem is not None]
    assert (row.detail_row, row.entry_problem.code, row.entry_problem.column) == (4, "review-formula-no-value",
                                                                                  "覆核計入數")
