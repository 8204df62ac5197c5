"""Workbooks of the previous layout (one free-text 覆核 column) are still read by report, --reviewed and check --against.

The fixture is the cells of a workbook the previous writer produced (fixtures/legacy_annotated.json),
rebuilt here as an .xlsx with openpyxl.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from budget.outputs.readback import read_annotated
from budget.review import ReviewEntry, apply_reviews
from budget.rules import parse_rules
from test_review import RULES_TOML

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_annotated.json"


def legacy_workbook(path: Path) -> Path:
    """The previous writer's workbook, rebuilt from its cells."""
    import openpyxl

    cells = json.loads(FIXTURE.read_text(encoding="utf-8"))
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, sheet in cells.items():
        if name.startswith("_"):
            continue
        ws = wb.create_sheet(name)
        ws.sheet_state = sheet["state"]
        for r, row in enumerate(sheet["rows"], start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c).value = value
    wb.save(path)
    return path


@pytest.fixture
def rules():
    return parse_rules(RULES_TOML.encode(), "test.toml")


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    return legacy_workbook(tmp_path / "115.性別預算.xlsx")


def test_the_fixture_is_the_previous_layout() -> None:
    header = json.loads(FIXTURE.read_text(encoding="utf-8"))["明細"]["rows"][0]
    assert header[-2:] == ["覆核", "覆核說明"] and "覆核類別" not in header


def test_legacy_reviews_are_read_and_applied(legacy: Path, rules) -> None:
    book = read_annotated(legacy)
    assert book.problems == []
    assert [r.review for r in book.rows] == ["", "gender-training 25%", "expert-attendance-fee 12000", "none", "", ""]
    assert book.rows[1].review_entry == ReviewEntry("gender-training", None, Decimal(25), "四場中一場為性別主題")
    assert book.rows[3].review_entry == ReviewEntry("不列入")
    decisions, problems = apply_reviews(book.rows, rules)
    assert problems == []
    assert [d.counted for d in decisions] == [Decimal(13400), Decimal(10000), Decimal(12000), 0, 0, 0]


def _invoke(*args: str):
    from typer.testing import CliRunner

    from budget.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES_TOML, encoding="utf-8")
    return path


def test_report_reads_a_legacy_workbook(legacy: Path, rules_file: Path, tmp_path: Path) -> None:
    result = _invoke("report", str(legacy), "-r", str(rules_file), "--unit", "元", "--json", "-o", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 0, result.output
    (year,) = json.loads(result.stdout)["years"].values()
    assert year["gender_total"] == "35400"


def test_reviewed_and_against_read_a_legacy_workbook(legacy: Path, rules_file: Path, tmp_path: Path) -> None:
    import xlsxwriter

    export = tmp_path / "116.xlsx"
    wb = xlsxwriter.Workbook(str(export))
    ws = wb.add_worksheet("歲出")
    for c, title in enumerate(["工作計畫", "分支計畫", "科目代碼", "用途別科目", "說明", "預算數"]):
        ws.write_string(0, c, title)
    for r, (desc, amount) in enumerate([("專題演講鐘點費", 48000), ("一般事務費", 5000)], start=1):
        for c, value in enumerate(["資訊管理", "01 一般行政", "2003", "業務費", desc]):
            ws.write_string(r, c, value)
        ws.write_number(r, 5, amount)
    wb.close()
    out = tmp_path / "116.性別預算.xlsx"
    result = _invoke("classify", str(export), "-r", str(rules_file), "--reviewed", str(legacy), "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    book = read_annotated(out)
    assert book.rows[0].review_entry.category == "性別意識培力課程" and book.rows[0].review_entry.percent == 25
    result = _invoke("check", "--against", str(legacy), str(export), "-r", str(rules_file), "--json")
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.stdout)
    assert {"new", "changed", "disappeared"} <= set(payload)
