"""The annotated workbook is checked, not trusted (issue 14 class 7), and every sheet is set up for printing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from budget.outputs.layout import DATA_SHEET, DETAIL_SHEET, LOG_SHEET, REVIEW_SHEET, RULES_SHEET, SUMMARY_SHEET
from budget.outputs.readback import read_annotated
from budget.problems import BudgetError
from budget.review import apply_reviews
from test_review import RULES_TOML, _rows_for_review, write_annotated
from budget.rules import parse_rules

SHEETS = [SUMMARY_SHEET, DETAIL_SHEET, REVIEW_SHEET, RULES_SHEET, LOG_SHEET, DATA_SHEET]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())


def _edit(path: Path, edit) -> Path:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def _refusal(path: Path) -> list[tuple]:
    with pytest.raises(BudgetError) as caught:
        read_annotated(path)
    return [(p.code, p.sheet, p.row) for p in caught.value.problems]


def test_an_unedited_workbook_saved_again_reads_cleanly(book: Path) -> None:
    _edit(book, lambda wb: None)  # openpyxl drops every formula's value, keeps the data
    assert read_annotated(book).problems == []


def test_an_edited_data_record_is_refused_by_row(book: Path) -> None:
    def edit(wb):
        ws = wb[DATA_SHEET]
        ws["B3"].value = ws["B3"].value.replace('"amount":"40000"', '"amount":"999999999"')
    # The record's check fails, and 明細 (which still shows 40,000) disagrees with it: both said, by row.
    assert _refusal(_edit(book, edit)) == [("annotated-data-edited", DATA_SHEET, 3),
                                           ("annotated-amount-edited", DETAIL_SHEET, 3)]


def test_a_deleted_data_record_is_refused(book: Path) -> None:
    def edit(wb):
        wb[DATA_SHEET].delete_rows(6)
        wb[DETAIL_SHEET].delete_rows(6)
    assert _refusal(_edit(book, edit)) == [("annotated-data-edited", DATA_SHEET, None)]


def test_an_edited_detail_amount_is_refused_by_row(book: Path) -> None:
    def edit(wb):
        ws = wb[DETAIL_SHEET]
        col = [c.value for c in ws[1]].index("計算金額") + 1
        ws.cell(3, col).value = 999999999
    assert _refusal(_edit(book, edit)) == [("annotated-amount-edited", DETAIL_SHEET, 3)]


def test_copying_another_rows_source_onto_a_reviewed_row_is_refused(book: Path) -> None:
    def edit(wb):
        ws = wb[DETAIL_SHEET]
        col = [c.value for c in ws[1]].index("來源") + 1
        ws.cell(3, col).value = ws.cell(2, col).value  # row 3 carries a review
    with pytest.raises(BudgetError) as caught:
        read_annotated(_edit(book, edit))
    [problem] = caught.value.problems
    assert problem.code == "annotated-misaligned" and "第 2 列與第 3 列" in problem.message


def test_a_review_formula_without_a_value_is_reported(book: Path) -> None:
    def edit(wb):
        ws = wb[DETAIL_SHEET]
        header = [c.value for c in ws[1]]
        ws.cell(6, header.index("覆核類別") + 1).value = "gender-training"
        ws.cell(6, header.index("覆核計入數") + 1).value = "=1000*0.4"  # openpyxl stores no value
    back = read_annotated(_edit(book, edit))
    decisions, problems = apply_reviews(back.rows, parse_rules(RULES_TOML.encode(), "t.toml"))
    found = [(p.code, p.row, p.column) for p in problems]
    assert ("review-formula-no-value", 6, "覆核計入數") in found
    assert decisions[4].counted == Decimal(0)  # the line keeps the recorded decision; nothing is guessed


# --- printing ----------------------------------------------------------------------------------

def test_every_sheet_prints_a4_landscape_one_page_wide(book: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(book)
    for name in SHEETS:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        assert int(ws.page_setup.paperSize) == 9, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name  # 1 is the default
        footer = ws.oddFooter
        assert "&F" in footer.left.text and "&P" in footer.right.text and "&N" in footer.right.text, name
        assert name in ws.oddHeader.center.text
    assert wb[DETAIL_SHEET].print_title_rows == "$1:$1"
    assert wb[REVIEW_SHEET].print_title_rows == "$1:$1"
    assert wb[SUMMARY_SHEET].print_title_rows == "$1:$3"


def test_every_cell_names_the_cjk_font_and_long_text_wraps(tmp_path: Path) -> None:
    import openpyxl

    written = write_annotated(tmp_path / "a.xlsx", [(x, d, "", "") for x, d, _, _ in _rows_for_review()])
    wb = openpyxl.load_workbook(written)
    fonts = {c.font.name for ws in wb for row in ws.iter_rows() for c in row if c.value is not None}
    assert fonts == {"Microsoft JhengHei"}
    ws = wb[DETAIL_SHEET]
    header = [c.value for c in ws[1]]
    evidence = openpyxl.utils.get_column_letter(header.index("判定依據") + 1)
    assert ws.column_dimensions[evidence].alignment.wrap_text  # the column's format: typed text wraps too
    assert ws.cell(2, header.index("說明") + 1).alignment.wrap_text
