"""read_exports refuses what it cannot read: one clear problem per file, naming the file, and nothing returned."""

from __future__ import annotations

import tracemalloc

import pytest

import exportfixtures as fx
from budget.exports.read import read_exports
from budget.problems import BudgetError


@pytest.fixture
def base(tmp_path):
    return fx.simple_xlsx(tmp_path)


def fatal(paths, **kw):
    with pytest.raises(BudgetError) as exc:
        read_exports(paths, **kw)
    return exc.value.problems


def only(paths, **kw):
    problems = fatal(paths, **kw)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.message and problem.message_en and problem.file
    return problem


def test_missing_file(tmp_path):
    p = only([tmp_path / "沒有這個檔.xlsx"])
    assert (p.code, p.file) == ("file-not-found", "沒有這個檔.xlsx")


def test_directory(tmp_path):
    assert only([tmp_path]).code == "file-is-directory"


def test_empty_file(tmp_path):
    assert only([fx.text_file(tmp_path, "empty.xlsx", "")]).code == "file-empty"
    assert only([fx.text_file(tmp_path, "empty.csv", "")]).code == "file-empty"


def test_xls_renamed_to_xlsx(tmp_path):
    xls = fx.real_xls(tmp_path)
    if xls is None:
        pytest.skip("xlwt is not installed")
    p = only([fx.renamed(xls, tmp_path, "改名.xlsx")])
    assert p.code == "file-extension-mismatch" and ".xls" in p.message


def test_text_file_named_xlsx(tmp_path):
    p = only([fx.text_file(tmp_path, "data.xlsx", "說明,金額\n出席費,1\n")])
    assert p.code == "file-is-text" and ".csv" in p.message


@pytest.mark.parametrize("name", ["web.xls", "web.xlsx"])
def test_html_saved_as_a_workbook(tmp_path, name):
    p = only([fx.html_as_xls(tmp_path, name)])
    assert p.code == "file-is-html" and "HTML" in p.message


def test_xlsx_named_csv(tmp_path, base):
    assert only([fx.renamed(base, tmp_path, "data.csv")]).code == "file-extension-mismatch"


def test_truncated_zip(tmp_path, base):
    assert only([fx.truncated(base, tmp_path)]).code == "file-corrupt"


def test_corrupt_member(tmp_path, base):
    assert only([fx.corrupt_member(base, tmp_path)]).code == "file-corrupt"


def test_password_protected_workbook(tmp_path, base):
    p = only([fx.encrypted_xlsx(base, tmp_path)])
    assert p.code == "file-encrypted" and "密碼" in p.message


def test_sheet_without_recognisable_header_lists_what_it_saw(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["甲欄", "乙欄"], rows=[["a", 1]])
    p = only([path])
    assert p.code == "header-not-found"
    assert "甲欄" in p.message and "乙欄" in p.message and "--map" in p.message
    assert p.sheet == "歲出明細"


def test_header_without_amount_column(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "備註"], rows=[["a", "b"]])
    p = only([path])
    assert p.code == "header-missing-column" and "金額" in p.message and p.row == 1


def test_header_without_description_column(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["科目", "金額"], rows=[["2036", 1]])
    p = only([path])
    assert p.code == "header-missing-column" and "說明" in p.message


def test_header_but_no_data(tmp_path):
    path = fx.simple_xlsx(tmp_path, header=["說明", "金額"], rows=[])
    assert only([path]).code == "no-data"


def test_only_hidden_sheets(tmp_path, base):
    # Excel and openpyxl refuse to save a workbook without a visible sheet; other programs write one
    def hide(name, data):
        return data.replace(b'state="visible"', b'state="hidden"') if name == "xl/workbook.xml" else data

    path = fx.rewrite_members(base, tmp_path, "all_hidden.xlsx", hide)
    p = only([path])
    assert p.code == "no-data-sheet" and "--sheet" in p.message
    assert read_exports([path], sheet="歲出明細").lines


def peak_bytes(action):
    """The peak memory this process allocates while ``action()`` runs (no timing: the machine is shared)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_zip_bomb_by_compression_ratio(tmp_path, base):
    bomb = fx.ratio_bomb(base, tmp_path)
    found = []
    assert peak_bytes(lambda: found.append(only([bomb]))) < 8 << 20  # refused before anything is inflated
    assert found[0].code == "file-too-large"


def test_zip_bomb_by_declared_size(tmp_path, base):
    assert only([fx.declared_size_bomb(base, tmp_path)]).code == "file-too-large"


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_entity_expansion_is_refused(tmp_path, member):
    base = fx.simple_xlsxwriter(tmp_path)
    bomb = fx.billion_laughs(base, tmp_path, member)
    found = []
    assert peak_bytes(lambda: found.append(only([bomb]))) < 8 << 20  # refused before any expansion
    p = found[0]
    assert p.code == "file-unsafe-xml" and member in p.message


def test_external_entity_is_refused(tmp_path, base):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    p = only([fx.xxe(base, tmp_path, secret)])
    assert p.code == "file-unsafe-xml" and "TOP-SECRET" not in p.message


def test_far_sparse_cell_does_not_kill_the_process(tmp_path, base):
    p = only([fx.sparse_far_cell(base, tmp_path)])  # the child aborts; this process reports it
    assert p.code == "file-too-complex" and "過大或過於複雜" in p.message


def test_more_rows_than_the_limit(tmp_path, base):
    p = only([base], max_rows=2)
    assert p.code == "too-many-rows" and "--max-rows" in p.message
    assert read_exports([base], max_rows=4).lines


def test_more_csv_rows_than_the_limit(tmp_path):
    path = fx.csv_file(tmp_path, "big.csv", [["說明", "金額"]] + [["a", "1"]] * 5)
    assert only([path], max_rows=3).code == "too-many-rows"


def test_every_fatal_problem_of_every_file_is_reported(tmp_path, base):
    problems = fatal([tmp_path / "nope.xlsx", fx.text_file(tmp_path, "empty.xlsx", ""), base,
                      fx.html_as_xls(tmp_path)])
    assert [(p.code, p.file) for p in problems] == [
        ("file-not-found", "nope.xlsx"), ("file-empty", "empty.xlsx"), ("file-is-html", "web.xls")]


def test_not_a_spreadsheet(tmp_path):
    path = tmp_path / "image.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert only([path]).code in ("file-not-spreadsheet", "file-is-text")


def test_plain_zip_is_not_a_workbook(tmp_path):
    import zipfile

    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert only([path]).code == "file-not-spreadsheet"
