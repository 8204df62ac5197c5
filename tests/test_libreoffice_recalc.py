"""LibreOffice opens the annotated workbook and, recalculating every formula, gets the totals the tool wrote.

LibreOffice trusts the cached values of an .xlsx by default, so each conversion uses a fresh profile
whose registrymodifications.xcu sets Calc/Formula/Load/OOXMLRecalcMode to 0 ("always recalculate");
the first test proves the profile works by letting LibreOffice correct a deliberately wrong value.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from budget.outputs.layout import DETAIL_SHEET, SUMMARY_SHEET
from budget.models import TOTAL, LineItem
from budget.rules import parse_rules
from budget.pipeline import RunResult, classify_lines, compute_totals
from budget.outputs.atomic import atomic_write
from budget.outputs.annotated import write_annotated_workbook

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; "
                                                         ".ci/run installs libreoffice-calc-nogui")

#: A LibreOffice profile that recalculates every formula on load, of .xlsx (OOXML) and .ods (ODF) files alike.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""

RULES = """
schema = 1
name = "LibreOffice 測試規則"
unit = "元"

[[category]]
id = "expert-fee"
name = "專家學者出席費"
official_class = 3
all = [["性別平等專案小組"], ["出席費"]]

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
"""


def recalculated(src: Path, work: Path) -> Path:
    """``src`` opened and saved again by headless LibreOffice with a fresh always-recalculate profile."""
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    outdir = work / "lo-out"
    outdir.mkdir(exist_ok=True)
    cmd = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(src)]
    done = subprocess.run(cmd, capture_output=True, timeout=240, env={**os.environ, "HOME": str(work)})
    out = outdir / (src.stem + ".xlsx")
    assert out.exists(), f"LibreOffice wrote nothing: {done.stdout!r} {done.stderr!r}"
    return out


def formula_cells(path: Path, sheet: str) -> dict[str, object]:
    """Coordinate → cached value of every formula cell of ``sheet`` (formulas found in a second pass)."""
    import openpyxl

    formulas = openpyxl.load_workbook(path)[sheet]
    values = openpyxl.load_workbook(path, data_only=True)[sheet]
    return {c.coordinate: values[c.coordinate].value for row in formulas.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")}


def test_the_profile_really_forces_recalculation(tmp_path: Path) -> None:
    import openpyxl
    import xlsxwriter

    src = tmp_path / "wrong.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet(DETAIL_SHEET)
    ws.write_number(0, 0, 5)
    ws.write_number(1, 0, 7)
    wb.add_worksheet(SUMMARY_SHEET).write_formula(0, 0, f"=SUM('{DETAIL_SHEET}'!A1:A2)", None, 99)
    wb.close()
    assert openpyxl.load_workbook(src, data_only=True)[SUMMARY_SHEET]["A1"].value == 99
    assert openpyxl.load_workbook(recalculated(src, tmp_path), data_only=True)[SUMMARY_SHEET]["A1"].value == 12


def _line(row: int, plan: str, description: str, amount: str, unit: str = "元", kind: str = "line") -> LineItem:
    cells = (plan, description, amount)
    return LineItem(description=description, amount=Decimal(amount), unit=unit, plan=plan, file="a.xlsx",
                    sheet="歲出", row=row, kind=kind, cells=cells, columns=("工作計畫", "說明", "金額"))


def _sample(tmp_path: Path) -> tuple[Path, RunResult]:
    rules = parse_rules(RULES.encode(), "lo.toml")
    lines = [
        _line(2, "5301 一般行政", "性別平等專案小組外聘委員出席費", "22500"),
        _line(3, "5301 一般行政", "哺集乳室維護", "11111"),
        _line(4, "5302 <總務>*?", "婦女權益講座", "5000"),
        _line(5, "5302 <總務>*?", "影印紙", "1.5", unit="千元"),
        _line(6, "", "國內旅費", "0.25", unit="萬元"),
        _line(7, "5302 <總務>*?", "小計", "6500", kind=TOTAL),
    ]
    decisions = classify_lines(lines, rules)
    run = RunResult(lines=lines, decisions=decisions, totals=compute_totals(lines, decisions, rules), problems=[],
                    rules=rules)
    out = tmp_path / "annotated.xlsx"
    atomic_write(out, lambda temp: write_annotated_workbook(temp, run))
    return out, run


def test_recalculated_summary_equals_what_the_tool_wrote(tmp_path: Path) -> None:
    out, run = _sample(tmp_path)
    written = formula_cells(out, SUMMARY_SHEET)
    assert len(written) > 20
    again = formula_cells(recalculated(out, tmp_path), SUMMARY_SHEET)
    assert set(again) == set(written)
    for cell, value in written.items():
        assert isinstance(again[cell], (int, float)), (cell, again[cell])
        assert math.isclose(again[cell], value, rel_tol=1e-12, abs_tol=1e-9), (cell, value, again[cell])
    assert run.totals.budget_total == Decimal("22500") + 11111 + 5000 + 1500 + 2500


def test_a_reviewers_entry_recalculates_the_summary(tmp_path: Path) -> None:
    import openpyxl

    out, run = _sample(tmp_path)
    before = openpyxl.load_workbook(out, data_only=True)[SUMMARY_SHEET]
    labels = {row[0].value: row[1].coordinate for row in before.iter_rows() if row[0].value}
    gender_cell = labels["性別預算數"]
    assert before[gender_cell].value == 22500 + 4444
    edited = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(out)
    detail = wb[DETAIL_SHEET]
    header = [c.value for c in detail[1]]
    assert detail.cell(4, header.index("判定") + 1).value == "待覆核"
    detail.cell(4, header.index("覆核類別") + 1).value = "其他（待確認）"  # the reviewer accepts the proposal
    wb.save(edited)
    after = openpyxl.load_workbook(recalculated(edited, tmp_path), data_only=True)[SUMMARY_SHEET]
    assert after[gender_cell].value == 22500 + 4444 + 5000
    assert after[labels["待覆核建議數"]].value == 0 and after[labels["待覆核行數"]].value == 0


def test_values_written_with_reviews_are_what_libreoffice_computes(tmp_path: Path) -> None:
    """The writer given reviews (as the web page downloads them) caches exactly what the formulas compute,
    in 明細 and 摘要, across units (千元, 萬元 lines in a 元 workbook) and with rounding."""
    from budget.review import ReviewEntry

    rules = parse_rules(RULES.encode(), "lo.toml")
    lines = [
        _line(2, "5301 一般行政", "性別平等專案小組外聘委員出席費", "22500"),
        _line(3, "5301 一般行政", "哺集乳室維護", "11111"),
        _line(4, "5302 <總務>*?", "婦女權益講座", "5000"),
        _line(5, "5302 <總務>*?", "影印紙", "1.5", unit="千元"),
        _line(6, "", "國內旅費", "0.25", unit="萬元"),
        _line(7, "5302 <總務>*?", "研習費", "3333"),
        _line(8, "5302 <總務>*?", "小計", "6500", kind=TOTAL),
    ]
    decisions = classify_lines(lines, rules)
    run = RunResult(lines=lines, decisions=decisions, totals=compute_totals(lines, decisions, rules), problems=[],
                    rules=rules)
    reviews = {0: ReviewEntry("不列入"), 2: ReviewEntry("other", percent=Decimal("33.3")),
               3: ReviewEntry("哺集乳室", amount=Decimal("0.75")), 4: ReviewEntry("lactation"),
               5: ReviewEntry("expert-fee", percent=Decimal(50), note="半數")}
    out = tmp_path / "reviewed.xlsx"
    atomic_write(out, lambda temp: write_annotated_workbook(temp, run, reviews=reviews))
    for sheet in (DETAIL_SHEET, SUMMARY_SHEET):
        written = formula_cells(out, sheet)
        again = formula_cells(recalculated(out, tmp_path), sheet)
        assert set(again) == set(written)
        for cell, value in written.items():
            if isinstance(value, (int, float)):
                assert math.isclose(again[cell], value, rel_tol=1e-12, abs_tol=1e-9), (sheet, cell, value, again[cell])
            else:
                assert (again[cell] or "") == (value or ""), (sheet, cell, value, again[cell])
    import openpyxl

    detail = openpyxl.load_workbook(out, data_only=True)[DETAIL_SHEET]
    header = [c.value for c in detail[1]]
    gender = [detail.cell(r, header.index("性別預算數") + 1).value for r in range(2, 9)]
    # 0; 4444 as matched; 33.3 % of 5000 = 1665; 0.75 千元 = 750 元; 40 % of 2500 元 (lactation's share); 1666.5 → 1667.
    assert gender == [0, 4444, 1665, 750, 1000, 1667, None]
