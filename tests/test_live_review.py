"""The annotated workbook is live: a review typed into 明細 (as a person would, with openpyxl) and recalculated
by LibreOffice gives the same 性別預算數, in 明細 and in every 摘要 figure, as `report --json` on that workbook."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from budget.outputs.layout import DETAIL_SHEET, SUMMARY_SHEET
from test_libreoffice_recalc import SOFFICE, recalculated
from test_review import type_reviews

from budget.review import ReviewEntry

pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

#: (plan, account code, account, description, amount in 元). The default rules decide them.
ROWS = [
    ["5301 一般行政", "2036", "按日按件計資酬金", "性別平等專案小組外聘委員出席費", 22500],            # matched
    ["5301 一般行政", "2036", "按日按件計資酬金",
     "按日按件計資酬金100,000元，內容如下：<1>性別平等專案小組委員、採購評選委員出席費60,000元。<2>專題演講鐘點費等40,000元。",
     100000],                                                                                          # review, suggests 60,000
    ["5301 一般行政", "2003", "教育訓練費", "性別意識培力課程講座鐘點費", 36000],                    # matched
    ["5302 資訊推廣", "2054", "一般事務費", "辦公用品及文具", 12345],                               # unmatched
    ["5302 資訊推廣", "2021", "國內旅費", "國內旅費", 2500],                                        # unmatched
    ["5302 資訊推廣", "", "", "小計", 14845],
]


def _export(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    ws = wb.add_worksheet("歲出")
    ws.write_string(0, 0, "臺北市某局 116 年度歲出預算明細")
    ws.write_string(1, 0, "單位：新臺幣元")
    for c, title in enumerate(["工作計畫", "科目代碼", "用途別科目", "說明", "本年度預算數"]):
        ws.write_string(2, c, title)
    for r, row in enumerate(ROWS, start=3):
        for c, value in enumerate(row):
            if isinstance(value, str):
                if value:
                    ws.write_string(r, c, value)
            else:
                ws.write_number(r, c, value)
    wb.close()
    return path


def _invoke(*args: str):
    from typer.testing import CliRunner

    from budget.cli import app

    return CliRunner().invoke(app, list(args))


def _report_total(workbook: Path, tmp: Path) -> Decimal:
    result = _invoke("report", str(workbook), "--unit", "元", "--json", "-o", str(tmp / f"{workbook.stem}.報告.xlsx"))
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.stdout)
    (year,) = payload["years"].values()
    return Decimal(year["gender_total"]), year


def _figures(path: Path) -> tuple[list, dict]:
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    detail = [[c.value for c in row] for row in wb[DETAIL_SHEET].iter_rows()]
    summary = [[c.value for c in row] for row in wb[SUMMARY_SHEET].iter_rows()]
    return detail, summary


def _column(detail: list, title: str) -> int:
    return max(i for i, h in enumerate(detail[0]) if h == title or str(h or "").startswith(title + "（"))


def _table(summary: list, head: str) -> dict[str, list]:
    """A 摘要 table by its first header cell: label → the row's values."""
    start = next(i for i, row in enumerate(summary) if row[0] == head)
    out = {}
    for row in summary[start + 1:]:
        if row[0] in (None, ""):
            break
        out[row[0]] = row
    return out


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """classify → type four reviews with openpyxl → LibreOffice recalculates."""
    import openpyxl

    tmp = tmp_path_factory.mktemp("live")
    out = tmp / "116.性別預算.xlsx"
    result = _invoke("classify", str(_export(tmp / "export.xlsx")), "-o", str(out))
    assert result.exit_code == 1, result.output  # a line awaits review
    wb = openpyxl.load_workbook(out)
    detail = wb[DETAIL_SHEET]
    status = [c.value for c in detail[1]].index("判定") + 1
    assert [detail.cell(r, status).value for r in range(2, 8)] == ["符合", "待覆核", "符合", "不符合", "不符合", "小計不計"]
    type_reviews(detail, {
        1: ReviewEntry("其他性別平等措施（待確認）"),  # a bare Chinese category on a line with a suggestion
        0: ReviewEntry("不列入", note="外聘委員非性平小組"),  # 不列入 on a matched line
        3: ReviewEntry("性別意識培力課程", amount=Decimal(2345)),  # an amount
        4: ReviewEntry("gender-training", percent=Decimal(40)),  # a percentage, the id typed
    })
    edited = tmp / "edited.xlsx"
    wb.save(edited)
    return out, edited, recalculated(edited, tmp), tmp


def test_review_columns_recalculate_to_the_reports_total(reviewed) -> None:
    original, edited, recalc, tmp = reviewed
    detail, summary = _figures(recalc)
    gender = _column(detail, "性別預算數")
    amounts = [row[gender] for row in detail[1:7]]
    # 不列入 → 0; the suggestion 60,000 (not the whole 100,000); 36,000 as matched; 2,345 typed; 40 % of 2,500.
    assert amounts == [0, 60000, 36000, 2345, 1000, None]
    total, year = _report_total(edited, tmp)
    assert total == Decimal(60000 + 36000 + 2345 + 1000)
    assert sum(a or 0 for a in amounts) == total
    again, _ = _report_total(recalc, tmp)  # the LibreOffice-saved workbook reads the same
    assert again == total
    top = {row[0]: row[1] for row in summary if row and row[0]}
    assert top["性別預算數"] == total
    assert top["待覆核行數"] == 0 and top["待覆核建議數"] == 0 and top["已覆核行數"] == 4
    categories = _table(summary, "性別預算類別")
    assert sum(row[3] for row in categories.values()) == total
    for cid, amount in year["by_category"].items():
        name = {"gender-training": "性別意識培力課程", "gender-other": "其他性別平等措施（待確認）"}.get(cid)
        if name:
            assert Decimal(str(categories[name][3])) == Decimal(amount), cid
    assert categories["性別意識培力課程"][2] == 3 and categories["性別意識培力課程"][3] == 36000 + 2345 + 1000
    classes = _table(summary, "官方分類")
    assert sum(row[2] for row in classes.values()) == total
    assert {k: str(v) for k, v in year["by_class"].items()} == {
        str(int(label[1])): str(row[2]) for label, row in classes.items() if row[2]}
    plans = _table(summary, "工作計畫")
    assert plans["5301 一般行政"][3] == 60000 + 36000 and plans["5302 資訊推廣"][3] == 2345 + 1000


def test_the_written_values_are_what_libreoffice_computes(reviewed) -> None:
    """Before any review the cached values equal LibreOffice's; after it too (the writer given the reviews)."""
    original, _, _, tmp = reviewed
    before, _ = _figures(original)
    again, _ = _figures(recalculated(original, tmp / "again"))
    assert before == again


def test_invalid_entries_are_refused_with_the_row_named(reviewed, tmp_path: Path) -> None:
    import openpyxl

    original = reviewed[0]
    wb = openpyxl.load_workbook(original)
    type_reviews(wb[DETAIL_SHEET], {3: ReviewEntry("性別意識培力課程", amount=Decimal(99999)),
                                    4: ReviewEntry("gender-training", amount=Decimal(1), percent=Decimal(10))})
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    result = _invoke("report", str(bad), "--json", "-o", str(tmp_path / "r.xlsx"))
    payload = json.loads(result.stdout)
    found = {(p["code"], p["row"], p["column"]) for p in payload["problems"]}
    assert ("review-amount-too-large", 5, "覆核計入數") in found
    assert ("review-amount-and-share", 6, "覆核計入數") in found


def test_the_ods_output_is_live_too(tmp_path: Path) -> None:
    """The same four reviews written into an .ods (as the web page writes them), recalculated by LibreOffice:
    明細, 摘要 and `report --json` on the .ods agree to the unit, as for the .xlsx."""
    from budget.outputs.atomic import atomic_write
    from budget.outputs.annotated import write_annotated_workbook
    from budget.pipeline import run_classify
    from budget.rules import load_rules

    run = run_classify([_export(tmp_path / "export.xlsx")], load_rules(), write=False)
    reviews = {1: ReviewEntry("其他性別平等措施（待確認）"), 0: ReviewEntry("不列入", note="外聘委員非性平小組"),
               3: ReviewEntry("性別意識培力課程", amount=Decimal(2345)), 4: ReviewEntry("gender-training", percent=Decimal(40))}
    ods = tmp_path / "116.性別預算.ods"
    atomic_write(ods, lambda temp: write_annotated_workbook(temp, run, reviews=reviews, fmt="ods"))
    assert ods.read_bytes()[:2] == b"PK" and b"opendocument.spreadsheet" in ods.read_bytes()[:200]
    recalc = recalculated(ods, tmp_path)
    detail, summary = _figures(recalc)
    gender = _column(detail, "性別預算數")
    amounts = [row[gender] for row in detail[1:7]]
    assert amounts == [0, 60000, 36000, 2345, 1000, None]
    total, _ = _report_total(ods, tmp_path)
    assert total == sum(a or 0 for a in amounts) == Decimal(99345)
    top = {row[0]: row[1] for row in summary if row and row[0]}
    assert top["性別預算數"] == total and top["已覆核行數"] == 4
