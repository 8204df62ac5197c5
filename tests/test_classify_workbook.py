"""The annotated workbook of `classify`: sheets, columns, added values, totals, text safety, the CLI."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from budget.outputs.layout import (ADDED_COLUMNS, AMOUNT_TITLE, DATA_COLUMNS, DATA_HEADER, DATA_SHEET, DETAIL_SHEET, LOG_SHEET,
                           REVIEW_SHEET, RULES_SHEET, SUMMARY_SHEET)
from budget.models import TOTAL, LineItem
from budget.rules import parse_rules
from budget.pipeline import RunResult, classify_lines, compute_totals
from budget.outputs.atomic import atomic_write
from budget.outputs.annotated import write_annotated_workbook

RULES = """
schema = 1
name = "測試規則"
unit = "元"

[[category]]
id = "expert-fee"
name = "專家學者出席費"
official_class = 3
all = [["性別平等專案小組"], ["出席費"]]

[[category]]
id = "training"
name = "性別意識培力"
official_class = 3
any = ["性別意識培力"]

[[category]]
id = "lactation"
name = "哺集乳室"
official_class = 4
any = ["哺集乳室"]
share_percent = 40

[[category]]
id = "other"
name = "其他（待確認）"
official_class = 5
any = ["婦女"]
review = true
review_reason = "其他類需人工確認"
"""

COLUMNS = ("工作計畫", "科目代碼", "用途別科目", "說明", "金額")
SHEETS = [SUMMARY_SHEET, DETAIL_SHEET, REVIEW_SHEET, RULES_SHEET, LOG_SHEET, DATA_SHEET]


@pytest.fixture(scope="module")
def rules():
    return parse_rules(RULES.encode(), "test-rules.toml")


def line(row: int, plan: str, code: str, account: str, description: str, amount: Any, *, kind: str = "line",
         unit: str = "元", file: str = "116歲出.xlsx", columns: tuple[str, ...] = COLUMNS,
         cells: tuple[Any, ...] | None = None) -> LineItem:
    """A line as the reader gives it: fields plus the row's original cells."""
    value = None if amount is None else Decimal(str(amount))
    return LineItem(description=description, amount=value, unit=unit, plan=plan, account=account,
                    account_code=code, file=file, sheet="歲出", row=row, kind=kind,
                    cells=cells if cells is not None else (plan, code or None, account or None, description, amount),
                    columns=columns)


def golden_lines() -> list[LineItem]:
    return [
        line(2, "5301 一般行政", "2036", "按日按件計資酬金", "性別平等專案小組外聘委員出席費", 22500),
        line(3, "5301 一般行政", "2003", "教育訓練費", "性別意識培力課程講座鐘點費", 36000),
        line(4, "5302 總務", "2054", "一般事務費", "哺集乳室維護", 11111),
        line(5, "5302 總務", "2054", "一般事務費", "婦女權益講座", 5000),
        line(6, "5302 總務", "2072", "國內旅費", "國內出差旅費", 8000),
        line(7, "5302 總務", "", "", "小計", 24111, kind=TOTAL),
    ]


def make_run(lines: list[LineItem], rules, sources: list | None = None) -> RunResult:
    decisions = classify_lines(lines, rules)
    totals = compute_totals(lines, decisions, rules, sources=sources or [])
    return RunResult(lines=lines, decisions=decisions, totals=totals, problems=[], rules=rules,
                     sources=sources or [], timings={"read": 0.1, "classify": 0.2})


def write(tmp_path: Path, run: RunResult, name: str = "out.xlsx"):
    out = tmp_path / name
    report = atomic_write(out, lambda temp: write_annotated_workbook(temp, run))
    return out, report


def openpyxl_letter(index: int) -> str:
    """0 → A (a column's letter)."""
    import openpyxl

    return openpyxl.utils.get_column_letter(index + 1)


def sheet_xml(path: Path, sheet: str) -> str:
    """The XML of a worksheet, found by its name through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{re.escape(sheet)}" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"', workbook)
        assert rid, f"sheet {sheet} not in workbook.xml"
        target = re.search(rf'Id="{rid.group(1)}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
        return zf.read("xl/" + target.lstrip("/").removeprefix("xl/")).decode()


def rows_of(path: Path, sheet: str, data_only: bool = True) -> list[tuple]:
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=data_only)
    return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]


def data_records(path: Path) -> list[dict]:
    """The 資料 sheet's line records (JSON in column B, continued in the next cells when long)."""
    rows = rows_of(path, DATA_SHEET)
    assert rows[0][:2] == DATA_HEADER
    return [json.loads("".join(c for c in r[1:] if c)) for r in rows[1:]]


def by_label(rows: list[tuple], label: str) -> tuple:
    found = [r for r in rows if r and r[0] == label]
    assert len(found) == 1, f"{label!r} found {len(found)} times"
    return found[0]


# --- the golden sample -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def golden(tmp_path_factory, rules):
    tmp = tmp_path_factory.mktemp("golden")
    run = make_run(golden_lines(), rules)
    out, report = write(tmp, run)
    return out, report, run


def test_sheets_in_order_and_data_hidden(golden) -> None:
    import openpyxl

    out, _, _ = golden
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == SHEETS
    assert {ws.title: ws.sheet_state for ws in wb} == {name: "hidden" if name == DATA_SHEET else "visible"
                                                       for name in SHEETS}
    assert wb.active.title == SUMMARY_SHEET


def test_detail_columns_are_the_originals_then_the_added_ones(golden) -> None:
    out, _, _ = golden
    header = rows_of(out, DETAIL_SHEET)[0]
    assert list(header) == list(COLUMNS) + [AMOUNT_TITLE] + [title for _, title in ADDED_COLUMNS]


def test_every_added_column_on_the_golden_sample(golden) -> None:
    out, _, _ = golden
    rows = rows_of(out, DETAIL_SHEET)
    header = rows[0]
    got = [{h: v for h, v in zip(header[len(COLUMNS):], r[len(COLUMNS):])} for r in rows[1:]]
    # (計算金額, 判定, 建議類別, 建議數, 單位, 性別預算類別, 性別預算數, 規則, 來源 row): 性別預算類別 and
    # 性別預算數 are formulas of the tool's decision and the (empty) review columns, with their values.
    expected = [
        (22500, "符合", "專家學者出席費", 22500, "元", "專家學者出席費", 22500, "expert-fee", 2),
        (36000, "符合", "性別意識培力", 36000, "元", "性別意識培力", 36000, "training", 3),
        (11111, "符合", "哺集乳室", 4444, "元", "哺集乳室", 4444, "lactation", 4),
        (5000, "待覆核", "其他（待確認）", 5000, "元", None, 0, "other", 5),
        (8000, "不符合", None, None, "元", None, 0, None, 6),
        (None, "小計不計", None, None, None, None, None, "subtotal-row", 7),
    ]
    assert len(got) == len(expected)
    for row, (amount, status, suggested, suggested_amount, unit, name, gender, rule, src) in zip(got, expected):
        assert row[AMOUNT_TITLE] == amount
        assert (row["判定"], row["建議類別"], row["建議數"], row["單位"]) == (status, suggested, suggested_amount, unit)
        assert (row["性別預算類別"] or None) == name
        assert row["性別預算數"] == gender
        assert row["規則"] == rule
        assert row["來源"] == f"116歲出.xlsx / 歲出 / 第{src}列"
        assert [row[t] for t in ("覆核類別", "覆核計入數", "覆核比例", "覆核說明")] == [None] * 4
    assert "出席費" in got[0]["判定依據"]
    assert "其他類需人工確認" in got[3]["判定依據"]
    assert got[4]["判定依據"] is None


def test_original_cells_are_unchanged(golden) -> None:
    out, _, _ = golden
    rows = rows_of(out, DETAIL_SHEET)[1:]
    for got, item in zip(rows, golden_lines()):
        assert got[:len(COLUMNS)] == item.cells


def test_summary_totals_formulas_and_cached_values(golden) -> None:
    out, _, _ = golden
    values = rows_of(out, SUMMARY_SHEET)
    formulas = rows_of(out, SUMMARY_SHEET, data_only=False)
    budget = 22500 + 36000 + 11111 + 5000 + 8000
    gender = 22500 + 36000 + 4444
    assert by_label(values, "預算總額")[1] == budget
    assert by_label(values, "性別預算數")[1] == gender
    assert by_label(values, "性別預算占比")[1] == pytest.approx(gender / budget)
    assert by_label(values, "待覆核建議數")[1] == 5000
    assert by_label(values, "性別預算數（含待覆核建議）")[1] == gender + 5000
    assert by_label(formulas, "預算總額")[1].startswith("=SUMIFS(")
    assert by_label(formulas, "性別預算數")[1].startswith("=SUM('明細'!")
    assert by_label(values, "待覆核行數")[1] == 1 and by_label(values, "已覆核行數")[1] == 0
    assert by_label(formulas, "待覆核行數")[1].startswith("=SUMPRODUCT(")
    assert by_label(values, "符合")[1:3] == (3, gender - 4444 + 11111)
    assert by_label(values, "待覆核")[1:3] == (1, 5000)
    assert by_label(values, "不符合")[1:3] == (1, 8000)
    assert by_label(values, "小計不計")[1] == 1
    assert by_label(values, "哺集乳室")[1:6] == ("第4類 性平法令類", 1, 4444, 0, 0)
    assert by_label(values, "其他（待確認）")[2:6] == (0, 0, 1, 5000)
    assert by_label(values, "第3類 工具類")[1:3] == (2, 58500)
    assert by_label(values, "第1類 計畫類")[1:3] == (0, 0)  # every class and category is listed
    assert by_label(values, "5302 總務")[1:5] == (3, 24111, 4444, 1)
    assert by_label(formulas, "5302 總務")[1].startswith("=SUMPRODUCT(")


def test_pandas_sees_the_same_numbers(golden) -> None:
    import pandas as pd

    out, _, run = golden
    for engine in ("openpyxl", "calamine"):
        summary = pd.read_excel(out, sheet_name=SUMMARY_SHEET, header=None, engine=engine)
        assert summary[summary[0] == "預算總額"].iloc[0][1] == 82611
        assert summary[summary[0] == "性別預算數"].iloc[0][1] == 62944
    detail = pd.read_excel(out, sheet_name=DETAIL_SHEET, dtype=object, engine="openpyxl")
    assert list(detail.columns[-len(ADDED_COLUMNS) - 1:]) == [AMOUNT_TITLE] + [t for _, t in ADDED_COLUMNS]
    assert detail[AMOUNT_TITLE].dropna().sum() == 82611
    assert detail.loc[detail["判定"] == "符合", "性別預算數"].sum() == 62944
    data = pd.read_excel(out, sheet_name=DATA_SHEET, dtype=str, keep_default_na=False, engine="calamine")
    assert list(data.columns) == list(DATA_HEADER) + ["unit:元"]
    records = [json.loads(text) for text in data["line"]]
    assert set().union(*records) <= set(DATA_COLUMNS) | {"k"}
    assert list(data["plan"]) == [r.get("plan", "") for r in records]
    assert [r["amount"] for r in records] == ["22500", "36000", "11111", "5000", "8000", "24111"]
    assert [r["status"] for r in records] == ["matched", "matched", "matched", "review", "unmatched", "excluded"]
    assert [r["gender_amount"] for r in records] == ["22500", "36000", "4444", "5000", "0", "0"]
    assert [r.get("share_percent", "") for r in records] == ["100", "100", "40", "100", "", ""]


def test_review_sheet_lists_only_review_lines(golden) -> None:
    out, _, _ = golden
    rows = rows_of(out, REVIEW_SHEET)
    assert len(rows) == 2
    head, review = rows
    entry = dict(zip(head, review))
    assert entry["明細列"] == "5"  # one row number, a link to that 明細 row
    assert entry["說明"] == "婦女權益講座"
    assert entry["建議類別"] == "其他（待確認）"
    assert entry["建議數（元）"] == 5000
    import openpyxl

    link = openpyxl.load_workbook(out)[REVIEW_SHEET]["A2"].hyperlink
    assert link.location == "'明細'!A5" and not link.target
    assert "其他類需人工確認" in entry["待覆核原因與依據"]


def test_rules_sheet_and_review_drop_down(golden, rules) -> None:
    import openpyxl

    out, _, _ = golden
    wb = openpyxl.load_workbook(out)
    sheet = wb[RULES_SHEET]
    cells = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True) if r[0]}
    assert cells["SHA-256"][0] == rules.sha256
    assert cells["規則檔"][0] == "測試規則"
    assert cells["lactation"][:3] == ("哺集乳室", None, "第4類 性平法令類")
    assert cells["lactation"][6] == 0.4
    detail = wb[DETAIL_SHEET]
    header = [c.value for c in detail[1]]
    letter = {t: openpyxl.utils.get_column_letter(header.index(t) + 1) for t in ("覆核類別", "覆核計入數", "覆核比例")}
    validations = {str(dv.sqref): dv for dv in detail.data_validations.dataValidation}
    assert set(validations) == {f"{c}2:{c}7" for c in letter.values()}
    dv = validations[f"{letter['覆核類別']}2:{letter['覆核類別']}7"]
    assert dv.type == "list" and not dv.showErrorMessage and dv.showInputMessage  # typing an id still works
    ref = re.fullmatch(r"'規則'!\$B\$(\d+):\$B\$(\d+)", dv.formula1)
    assert ref, dv.formula1
    choices = [sheet.cell(r, 2).value for r in range(int(ref.group(1)), int(ref.group(2)) + 1)]
    assert choices == [c.name for c in rules.categories] + ["不列入"]
    amount = validations[f"{letter['覆核計入數']}2:{letter['覆核計入數']}7"]
    share = validations[f"{letter['覆核比例']}2:{letter['覆核比例']}7"]
    assert amount.type == share.type == "custom" and amount.showErrorMessage and share.showErrorMessage
    assert f"{letter['覆核比例']}2<=1" in share.formula1 and f'{letter["覆核計入數"]}2=""' in share.formula1
    assert "ABS(" in amount.formula1 and f'{letter["覆核比例"]}2=""' in amount.formula1


def test_detail_sheet_is_ready_for_people(golden) -> None:
    import openpyxl

    out, _, _ = golden
    ws = openpyxl.load_workbook(out)[DETAIL_SHEET]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}7"
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    status_col = openpyxl.utils.get_column_letter([c.value for c in ws[1]].index("判定") + 1)
    assert f'${status_col}2="符合"' in rules and f'${status_col}2="待覆核"' in rules
    assert ws["E2"].number_format == "#,##0"  # the amount column has thousands separators
    assert ws.column_dimensions["D"].width > ws.column_dimensions["B"].width  # CJK-aware widths


def test_log_sheet_records_the_run(golden) -> None:
    out, report, run = golden
    rows = rows_of(out, LOG_SHEET)
    assert by_label(rows, "輸入總額（元）")[1] == 82611
    assert by_label(rows, "活頁簿明細總額（元）")[1] == 82611
    assert by_label(rows, "兩者一致")[1] == "是"
    assert by_label(rows, "排除（小計不計）")[1] == 1
    assert by_label(rows, "規則檔 SHA-256")[1] == run.rules.sha256
    assert by_label(rows, "工具版本")[1].startswith("gender-budget ")
    assert report.workbook_total == Decimal(82611) and report.problems == []


def test_annotated_reader_reads_the_workbook_back(golden) -> None:
    from budget.outputs.readback import read_annotated

    out, _, run = golden
    back = read_annotated(out)
    assert back.problems == []
    assert [(r.line.file, r.line.sheet, r.line.row, r.line.amount, r.line.kind) for r in back.rows] == \
        [(x.file, x.sheet, x.row, x.amount, x.kind) for x in run.lines]
    assert [(r.decision.status, r.decision.category, r.decision.gender_amount) for r in back.rows] == \
        [(d.status, d.category, d.gender_amount) for d in run.decisions]
    assert [r.detail_row for r in back.rows] == list(range(2, 8))


def test_run_json_has_the_documented_shape(golden) -> None:
    _, _, run = golden
    data = json.loads(json.dumps(run.to_dict(), ensure_ascii=False))
    assert set(data) >= {"lines", "totals", "problems"}
    first = data["lines"][0]
    assert set(first) >= {"file", "sheet", "row", "status", "category", "share_percent", "amount", "gender_amount",
                          "unit", "rule", "evidence"}
    assert first["amount"] == "22500" and first["gender_amount"] == "22500" and first["status"] == "matched"
    assert data["lines"][2]["gender_amount"] == "4444" and data["lines"][2]["share_percent"] == "40"
    assert data["totals"]["budget_total"] == "82611" and data["totals"]["gender_total"] == "62944"


# --- units -------------------------------------------------------------------------------------

def test_mixed_units_are_totalled_exactly_in_yuan(tmp_path: Path, rules) -> None:
    lines = [
        line(2, "5301", "2036", "酬金", "性別平等專案小組出席費", "1.234", unit="千元", file="a.xlsx"),
        line(2, "5301", "2054", "一般事務費", "影印", "2500", unit="元", file="b.xlsx"),
        line(3, "5301", "2054", "一般事務費", "哺集乳室", "0.5", unit="萬元", file="b.xlsx"),
    ]
    run = make_run(lines, rules)
    out, report = write(tmp_path, run)
    assert run.totals.unit == "元"
    rows = rows_of(out, DETAIL_SHEET)
    amount_col = rows[0].index(AMOUNT_TITLE)
    assert [r[amount_col] for r in rows[1:]] == [1234, 2500, 5000]
    assert [r[rows[0].index("性別預算數")] for r in rows[1:]] == [1234, 0, 2000]
    assert by_label(rows_of(out, SUMMARY_SHEET), "預算總額")[1] == 8734
    assert "不一" in by_label(rows_of(out, LOG_SHEET), "金額單位")[1]
    assert report.workbook_total == Decimal(8734)


def test_one_unit_keeps_its_decimals(tmp_path: Path, rules) -> None:
    lines = [line(2, "5301", "2036", "酬金", "性別平等專案小組出席費", "1.234", unit="千元"),
             line(3, "5301", "2054", "事務費", "影印", "0.1", unit="千元"),
             line(4, "5301", "2054", "事務費", "紙張", "0.2", unit="千元")]
    run = make_run(lines, rules)
    out, _ = write(tmp_path, run)
    assert run.totals.unit == "千元"
    assert run.totals.budget_total == Decimal("1.534")
    values = rows_of(out, SUMMARY_SHEET)
    assert by_label(values, "預算總額")[1] == pytest.approx(1.534, abs=1e-12)
    assert by_label(rows_of(out, LOG_SHEET), "預算總額（精確值）")[1] == "1.534"
    import openpyxl

    ws = openpyxl.load_workbook(out)[DETAIL_SHEET]
    assert ws["F2"].number_format == "#,##0.000"


# --- text safety -------------------------------------------------------------------------------

PAYLOADS = [
    '=HYPERLINK("http://x","點我")', "=1+1", "+1+1", "-1+1", "@SUM(A1)", "#N/A", "#REF!", "http://x",
    "external:c:\\x", "=", "{=1+1}", "=cmd|' /C calc'!A0", "\t=1+1", "mailto:a@b.c", "_x0041_", "0271",
]


@pytest.fixture(scope="module", params=["shared-strings", "constant-memory"])
def injected(request, tmp_path_factory, rules):
    """The payloads written in both of xlsxwriter's modes (small runs share strings, large ones stream)."""
    import budget.outputs.annotated.book
    import budget.outputs.annotated.log

    lines = [line(i + 2, payload, payload, payload, payload, 1) for i, payload in enumerate(PAYLOADS)]
    mp = pytest.MonkeyPatch()
    if request.param == "constant-memory":
        mp.setattr(budget.outputs.annotated.book, "CONSTANT_MEMORY_ABOVE", 0)
    try:
        out, report = write(tmp_path_factory.mktemp("inject"), make_run(lines, rules))
    finally:
        mp.undo()
    return out, report, request.param


@pytest.mark.parametrize("sheet", [DETAIL_SHEET, DATA_SHEET, REVIEW_SHEET, LOG_SHEET, RULES_SHEET])
def test_no_formula_error_or_link_outside_the_summary(injected, sheet: str) -> None:
    out, _, _ = injected
    xml = sheet_xml(out, sheet)
    if sheet == DETAIL_SHEET:  # only the tool's own two columns of the final decision are formulas
        header = rows_of(out, DETAIL_SHEET)[0]
        own = {openpyxl_letter(header.index(t)) for t in ("性別預算類別", "性別預算數")}
        assert {m for m in re.findall(r'<c r="([A-Z]+)\d+"[^>]*><f>', xml)} == own
    else:
        assert "<f>" not in xml and "<f " not in xml
    assert 't="e"' not in xml
    if sheet == REVIEW_SHEET:  # links to 明細 rows, inside the workbook only
        assert all("location=" in h and "r:id" not in h for h in re.findall(r"<hyperlink [^>]*>", xml))
    else:
        assert "<hyperlink" not in xml
    with zipfile.ZipFile(out) as zf:
        for name in zf.namelist():
            if name.endswith(".rels"):
                assert "hyperlink" not in zf.read(name).decode()


def test_payloads_come_back_literally_with_openpyxl_and_calamine(injected) -> None:
    import openpyxl
    from python_calamine import CalamineWorkbook

    out, report, mode = injected
    ws = openpyxl.load_workbook(out)[DETAIL_SHEET]
    cal = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(DETAIL_SHEET).to_python()
    for i, payload in enumerate(PAYLOADS, start=2):
        for col in range(1, 5):
            cell = ws.cell(i, col)
            assert cell.data_type == "s", (payload, col)
            # openpyxl does not undo the _x005F_ escape in inline strings (constant-memory mode); the
            # file is right (calamine and LibreOffice read "_x0041_"), so only that reader is excused.
            if not (mode == "constant-memory" and payload.startswith("_x")):
                assert cell.value == payload, (payload, col)
            assert cell.quotePrefix == (payload[0] in "=+-@\t#{"), payload
            assert cal[i - 1][col - 1] == payload
    descriptions = [r["description"] for r in data_records(out)]
    assert [d for d, p in zip(descriptions, PAYLOADS) if d != p] in ([], ["_x005F_x0041_"])
    assert report.problems == []


def test_long_text_is_cut_visibly_never_silently(tmp_path: Path, rules) -> None:
    long_text = "性" * 40000
    wide = "\U00020000" * 20000  # 40,000 UTF-16 units
    lines = [line(2, "p", "", "", long_text, 1), line(3, "p", "", "", wide, 1)]
    out, report = write(tmp_path, make_run(lines, rules))
    ws_rows = rows_of(out, DETAIL_SHEET)
    assert ws_rows[1][3] == long_text[:32767]
    assert ws_rows[2][3] == wide[:16383]
    too_long = [p for p in report.problems if p.code == "text-too-long"]
    assert [(p.row, p.column, p.severity) for p in too_long] == [(2, "說明", "error"), (3, "說明", "error")]
    log = rows_of(out, LOG_SHEET)
    assert sum(1 for r in log if r[1] == "text-too-long") == 2
    # The machine-readable 資料 keeps the whole text (split over several cells).
    assert [r["description"] for r in data_records(out)] == [long_text, wide]


def test_control_characters_are_replaced_visibly_and_flagged(tmp_path: Path, rules) -> None:
    lines = [line(9, "p", "", "", "鈴\x07聲\x00結束\ttab\nline", 1)]
    out, report = write(tmp_path, make_run(lines, rules))
    assert rows_of(out, DETAIL_SHEET)[1][3] == "鈴␇聲␀結束\ttab\nline"
    flagged = [p for p in report.problems if p.code == "control-character-replaced"]
    assert [(p.file, p.sheet, p.row, p.column) for p in flagged] == [("116歲出.xlsx", "歲出", 9, "說明")]


def test_long_numbers_and_codes_keep_every_digit(tmp_path: Path, rules) -> None:
    cells = ("5301", "12345678901234567", "科目", "說明", 12345678901234567, datetime(2027, 1, 1), 0.1)
    columns = COLUMNS + ("日期", "比率")
    lines = [line(2, "5301", "12345678901234567", "科目", "說明", 12345678901234567, cells=cells, columns=columns)]
    out, report = write(tmp_path, make_run(lines, rules))
    row = rows_of(out, DETAIL_SHEET)[1]
    assert row[:7] == ("5301", "12345678901234567", "科目", "說明", "12345678901234567", datetime(2027, 1, 1), 0.1)
    assert [p.column for p in report.problems if p.code == "number-as-text"] == ["金額", AMOUNT_TITLE]
    # As text it cannot be summed by the 摘要 formulas, and the run says so.
    assert [p.severity for p in report.problems if p.code == "total-mismatch"] == ["error"]
    [data] = data_records(out)
    assert data["amount"] == "12345678901234567"
    assert data["account_code"] == "12345678901234567"


def test_rows_with_different_headers_share_one_detail_sheet(tmp_path: Path, rules) -> None:
    a = line(2, "5301", "2054", "事務費", "影印", 100, file="a.xlsx")
    b = line(2, "", "", "", "紙張", 200, file="b.csv", columns=("說明", "備註", "金額"), cells=("紙張", "=1+1", 200))
    out, _ = write(tmp_path, make_run([a, b], rules))
    rows = rows_of(out, DETAIL_SHEET)
    assert rows[0][:6] == ("工作計畫", "科目代碼", "用途別科目", "說明", "金額", "備註")
    assert rows[1][:6] == ("5301", "2054", "事務費", "影印", 100, None)
    assert rows[2][:6] == (None, None, None, "紙張", 200, "=1+1")


def test_input_header_named_like_an_added_column_is_marked(tmp_path: Path, rules) -> None:
    item = line(2, "", "", "", "影印", 100, columns=("說明", "判定", "金額"), cells=("影印", "舊判定", 100))
    out, report = write(tmp_path, make_run([item], rules))
    header = rows_of(out, DETAIL_SHEET)[0]
    assert header[:3] == ("說明", "原：判定", "金額") and header.count("判定") == 1
    assert any(p.code == "header-renamed" for p in report.problems)


def test_empty_run_still_writes_a_valid_workbook(tmp_path: Path, rules) -> None:
    out, report = write(tmp_path, make_run([], rules))
    assert by_label(rows_of(out, SUMMARY_SHEET), "預算總額")[1] == 0
    assert rows_of(out, DETAIL_SHEET)[0][0] == AMOUNT_TITLE
    assert report.rows == 0


# --- the command -------------------------------------------------------------------------------

def _export(path: Path, rows: list[list[Any]]) -> Path:
    """An agency export: a title row, a unit row, the header, lines and a subtotal, as xlsxwriter writes."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    ws = wb.add_worksheet("歲出")
    ws.write_string(0, 0, "臺北市某局 116 年度歲出預算明細")
    ws.write_string(1, 0, "單位：新臺幣元")
    for c, title in enumerate(COLUMNS):
        ws.write_string(2, c, title)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif value is not None:
                ws.write_number(r, c, value)
    wb.close()
    return path


EXPORT_ROWS = [
    ["5301 一般行政", "2036", "按日按件計資酬金", "性別平等專案小組外聘委員出席費", 22500],
    ["5301 一般行政", "2003", "教育訓練費", "性別意識培力課程講座鐘點費", 36000],
    ["5301 一般行政", "2054", "一般事務費", '=HYPERLINK("http://x","點我")', 1000],
    ["5301 一般行政", "", "", "小計", 59500],
]


@pytest.fixture
def cli_export(tmp_path: Path, rules) -> tuple[Path, Path]:
    pytest.importorskip("budget.exports.read", reason="the export reader (budget/read.py) is not in this checkout yet")
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(RULES, encoding="utf-8")
    return _export(tmp_path / "116年度歲出預算明細.xlsx", EXPORT_ROWS), rules_file


def _invoke(*args: str):
    from typer.testing import CliRunner

    from budget.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_writes_the_default_output_beside_the_input(cli_export) -> None:
    source, rules_file = cli_export
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    result = _invoke("classify", str(source), "-r", str(rules_file))
    assert result.exit_code == 0, result.output
    out = source.with_name("116年度歲出預算明細.性別預算.xlsx")
    assert out.exists()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == digest
    assert "已寫出" in result.stdout and str(out) in result.stdout
    values = rows_of(out, SUMMARY_SHEET)
    assert by_label(values, "預算總額")[1] == 59500
    assert by_label(values, "性別預算數")[1] == 58500
    detail = rows_of(out, DETAIL_SHEET)
    assert '=HYPERLINK("http://x","點我")' in [c for r in detail for c in r]
    assert not re.search(r"<f>[^<]*HYPERLINK", sheet_xml(out, DETAIL_SHEET))  # text, never a formula
    log = [c for r in rows_of(out, LOG_SHEET) for c in r]
    assert digest in log and out.name in log


def test_cli_json_equals_the_library_result(cli_export, tmp_path: Path) -> None:
    from budget.rules import load_rules
    from budget.pipeline import run_classify

    source, rules_file = cli_export
    result = _invoke("classify", str(source), "-r", str(rules_file), "-o", str(tmp_path / "a.xlsx"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    library = run_classify([source], load_rules(rules_file), output=tmp_path / "b.xlsx").to_dict()
    for key in ("lines", "totals"):
        assert data[key] == library[key]
    assert data["totals"]["gender_total"] == "58500"
    assert [line["status"] for line in data["lines"]] == ["matched", "matched", "unmatched", "excluded"]


def test_cli_refuses_to_overwrite_the_input(cli_export) -> None:
    source, rules_file = cli_export
    before = source.read_bytes()
    result = _invoke("classify", str(source), "-r", str(rules_file), "-o", str(source))
    assert result.exit_code == 2
    assert "output-is-input" in result.output or "輸出檔就是輸入檔" in result.output
    assert source.read_bytes() == before
    assert sorted(p.name for p in source.parent.iterdir()) == sorted([source.name, rules_file.name])


def test_cli_exit_1_when_lines_need_review(cli_export, tmp_path: Path) -> None:
    _, rules_file = cli_export
    source = _export(tmp_path / "review.xlsx", [["5302", "2054", "一般事務費", "婦女權益講座", 5000]])
    result = _invoke("classify", str(source), "-r", str(rules_file))
    assert result.exit_code == 1, result.output
    assert rows_of(source.with_name("review.性別預算.xlsx"), REVIEW_SHEET)[1][3] == "婦女權益講座"


def test_cli_bad_usage_exits_2_and_writes_nothing(cli_export, tmp_path: Path) -> None:
    source, rules_file = cli_export
    out = tmp_path / "x.xlsx"
    assert _invoke("classify", str(source), "-r", str(rules_file), "--map", "nonsense", "-o", str(out)).exit_code == 2
    assert _invoke("classify", str(source), "-r", str(rules_file), "--unit", "磅", "-o", str(out)).exit_code == 2
    assert _invoke("classify", str(tmp_path / "missing.xlsx"), "-r", str(rules_file), "-o", str(out)).exit_code == 2
    assert not out.exists()


def test_cli_unreadable_amount_still_writes_and_exits_1(cli_export, tmp_path: Path) -> None:
    _, rules_file = cli_export
    source = _export(tmp_path / "bad.xlsx", [["5301", "2054", "一般事務費", "影印", "一千元"],
                                             ["5301", "2054", "一般事務費", "紙張", 700]])
    result = _invoke("classify", str(source), "-r", str(rules_file))
    assert result.exit_code == 1, result.output
    out = source.with_name("bad.性別預算.xlsx")
    detail = rows_of(out, DETAIL_SHEET)
    amount = detail[0].index(AMOUNT_TITLE)
    assert [r[amount] for r in detail[1:]] == [None, 700]
    assert detail[1][4] == "一千元"  # the original cell, unchanged
    log = rows_of(out, LOG_SHEET)
    assert by_label(log, "金額空白或無法讀取的行數")[1] == 1
    assert any(r[0] == "錯誤" and r[6] == 4 for r in log)  # the problem, with its row in the export


def test_a_run_that_fails_while_writing_leaves_the_previous_workbook(cli_export, monkeypatch) -> None:
    import budget.outputs.annotated.book
    import budget.outputs.annotated.log
    from budget.rules import load_rules
    from budget.pipeline import run_classify

    source, rules_file = cli_export
    rules = load_rules(rules_file)
    out = source.with_name("out.xlsx")
    run_classify([source], rules, output=out)
    before = out.read_bytes()

    def crash(book, ws):
        raise RuntimeError("power cut while writing 紀錄")

    monkeypatch.setattr(budget.outputs.annotated.log, "write_log", crash)
    with pytest.raises(RuntimeError):
        run_classify([source], rules, output=out)
    assert out.read_bytes() == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_rerun_refuses_to_overwrite_a_workbook_with_reviews(cli_export) -> None:
    import openpyxl

    source, rules_file = cli_export
    assert _invoke("classify", str(source), "-r", str(rules_file)).exit_code == 0
    out = source.with_name("116年度歲出預算明細.性別預算.xlsx")
    assert _invoke("classify", str(source), "-r", str(rules_file)).exit_code == 0  # nothing reviewed yet
    wb = openpyxl.load_workbook(out)
    detail = wb[DETAIL_SHEET]
    review = [c.value for c in detail[1]].index("覆核比例") + 1
    detail.cell(4, review).value = 0.4
    wb.save(out)
    before = out.read_bytes()
    result = _invoke("classify", str(source), "-r", str(rules_file))
    assert result.exit_code == 2
    assert "覆核" in result.output and "--reviewed" in result.output
    assert out.read_bytes() == before


def test_rerun_protects_reviews_even_after_the_rows_were_sorted(cli_export) -> None:
    import openpyxl

    source, rules_file = cli_export
    assert _invoke("classify", str(source), "-r", str(rules_file)).exit_code == 0
    out = source.with_name("116年度歲出預算明細.性別預算.xlsx")
    wb = openpyxl.load_workbook(out)
    detail = wb[DETAIL_SHEET]
    header = [c.value for c in detail[1]]
    note = header.index("覆核說明") + 1
    # A reviewer sorts 明細 (rows no longer match 資料) and writes only a 覆核說明.
    rows = [[c.value for c in r] for r in detail.iter_rows(min_row=2)]
    for r, values in enumerate(reversed(rows), start=2):
        for c, value in enumerate(values, start=1):
            detail.cell(r, c).value = value
    detail.cell(3, note).value = "待下次會議討論"
    wb.save(out)
    before = out.read_bytes()
    result = _invoke("classify", str(source), "-r", str(rules_file))
    assert result.exit_code == 2
    assert "明細第 3 列" in result.output
    assert out.read_bytes() == before
