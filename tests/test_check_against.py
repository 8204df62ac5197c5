"""`check --against LAST NEW`: new lines, decisions that differ from last year's, gender lines that vanished."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from budget.outputs.readback import read_annotated
from budget.cli import app
from budget.engine.classifier import Classifier
from budget.models import MATCHED, REVIEW, UNMATCHED, Decision
from budget.carry import compare_with_last
from budget.rules import parse_rules
from test_review import RULES_TOML, line, write_annotated

D = Decimal


@pytest.fixture(scope="module")
def rules():
    return parse_rules(RULES_TOML.encode(), "test.toml")


def last_year():
    """115, as reviewed: decisions as `classify` recorded them plus the reviewer's 覆核 entries."""
    return [
        (line("性別平等專案小組會議外聘委員出席費", "18000", code="2036", row=2, year=115),
         Decision(MATCHED, "expert-attendance-fee", D(100), D(18000), "expert-attendance-fee"), "", ""),
        (line("專題演講鐘點費", "40000", row=3, year=115), Decision(UNMATCHED), "gender-training 25%", "四場中一場"),
        (line("性別統計分析委辦", "50000", row=4, year=115),
         Decision(MATCHED, "gender-statistics", D(100), D(50000), "gender-statistics"), "", ""),
        (line("一般事務費", "70000", row=5, year=115), Decision(UNMATCHED), "", ""),
        (line("性別意識培力宣導品", "9000", row=6, year=115),
         Decision(MATCHED, "gender-training", D(100), D(9000), "gender-training"), "none", "宣導品不是培力"),
        (line("育嬰代理人薪資", "300000", row=7, year=115),
         Decision(MATCHED, "parental-leave-substitute", D(100), D(300000), "parental-leave-substitute"), "", ""),
        (line("員工性別意識培力與資安課程", "20000", row=8, year=115), Decision(REVIEW, "gender-training", D(100), D(20000)), "", ""),
    ]


def this_year():
    return [
        line("性別平等專案小組會議外聘委員出席費", "22500", code="2036", row=2),  # same decision, new amount: not listed
        line("專題演講鐘點費", "48000", row=3),          # reviewed last year: carried, not listed
        line("一般事務費", "80000", row=4),              # unmatched both years
        line("性別意識培力宣導品", "9000", row=5),        # reviewed `none`: carried
        line("育嬰代理人薪資", "320000", row=6),         # the rules no longer count it → changed
        line("員工性別意識培力與資安課程", "20000", row=7),  # pending last year, counted now → changed
        line("新移民數位課程委辦", "200000", row=8),      # new, counted → attention
        line("電腦設備汰換", "3000000", row=9),          # new, not counted → listed, no attention
    ]


@pytest.fixture()
def last_book(tmp_path):
    return write_annotated(tmp_path / "115.性別預算.xlsx", last_year())


def compare(last_book, rules, carry=True):
    lines = this_year()
    decisions = [Classifier(rules).classify(x) for x in lines]
    return compare_with_last(read_annotated(last_book).rows, lines, decisions, rules, carry=carry)


def test_the_three_lists(last_book, rules):
    result = compare(last_book, rules)
    assert [(e["description"], e["decision"]["status"], e["attention"]) for e in result.new] == [
        ("新移民數位課程委辦", MATCHED, True), ("電腦設備汰換", UNMATCHED, False)]
    assert result.new[0]["decision"]["category"] == "new-immigrant-course"
    assert result.new[0]["decision"]["gender_amount"] == "120000"
    changed = {e["description"]: e for e in result.changed}
    assert sorted(changed) == ["員工性別意識培力與資安課程", "育嬰代理人薪資"]
    substitute = changed["育嬰代理人薪資"]
    assert substitute["last"]["decision"]["status"] == MATCHED and substitute["decision"]["status"] == UNMATCHED
    assert substitute["amount_changed"] is True and substitute["amount"] == "320000"
    assert substitute["last"]["amount"] == "300000" and substitute["last"]["detail_row"] == 7
    assert changed["員工性別意識培力與資安課程"]["last"]["decision"]["status"] == REVIEW
    assert [e["description"] for e in result.disappeared] == ["性別統計分析委辦"]
    assert result.disappeared[0]["decision"]["gender_amount"] == "50000"
    assert result.needs_attention


def test_reviewed_decisions_are_what_last_year_decided(last_book, rules):
    # Without carrying reviews, this year's rules disagree with both reviewed lines of last year.
    result = compare(last_book, rules, carry=False)
    changed = {e["description"]: e for e in result.changed}
    assert {"專題演講鐘點費", "性別意識培力宣導品"} <= set(changed)
    assert changed["專題演講鐘點費"]["last"]["decision"]["review"] == "gender-training 25%"
    assert changed["專題演講鐘點費"]["last"]["decision"]["gender_amount"] == "10000"
    assert changed["性別意識培力宣導品"]["last"]["decision"]["status"] == UNMATCHED  # `none` won over the rules


def test_a_vanished_line_that_was_reviewed_out_is_not_reported(rules, tmp_path):
    book = write_annotated(tmp_path / "a.xlsx", [
        (line("性別意識培力宣導品", "9000", year=115), Decision(MATCHED, "gender-training", D(100), D(9000)), "none", ""),
        (line("性別意識培力課程", "9000", year=115, row=3), Decision(MATCHED, "gender-training", D(100), D(9000)), "", "")])
    result = compare_with_last(read_annotated(book).rows, [], [], rules)
    assert [e["description"] for e in result.disappeared] == ["性別意識培力課程"]


def test_nothing_to_report_when_the_year_is_the_same(rules, tmp_path):
    rows = [(line("性別意識培力課程", "9000", year=115), Decision(MATCHED, "gender-training", D(100), D(9000)), "", "")]
    book = read_annotated(write_annotated(tmp_path / "a.xlsx", rows))
    result = compare_with_last(book.rows, [r.line for r in book.rows], [r.decision for r in book.rows], rules)
    assert (result.new, result.changed, result.disappeared) == ([], [], [])
    assert not result.needs_attention


# --- CLI ---------------------------------------------------------------------------------------

@pytest.fixture()
def rules_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES_TOML, encoding="utf-8")
    return path


def test_cli_json_with_an_annotated_new_workbook(last_book, rules, rules_file, tmp_path):
    lines = this_year()
    decisions = [Classifier(rules).classify(x) for x in lines]
    new_book = write_annotated(tmp_path / "116.性別預算.xlsx", [(x, d, "", "") for x, d in zip(lines, decisions)])
    result = CliRunner().invoke(app, ["check", "--against", str(last_book), str(new_book), "-r", str(rules_file), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert {"new", "changed", "disappeared"} <= set(payload)
    assert [e["description"] for e in payload["new"]] == ["新移民數位課程委辦", "電腦設備汰換"]
    assert [e["description"] for e in payload["disappeared"]] == ["性別統計分析委辦"]
    # An annotated NEW keeps its own decisions: the reviews of last year were not carried into it.
    assert "專題演講鐘點費" in [e["description"] for e in payload["changed"]]
    for entry in payload["new"] + payload["changed"] + payload["disappeared"]:
        assert {"file", "sheet", "row", "plan", "branch", "account", "description", "amount", "unit",
                "decision"} <= set(entry)


def test_cli_table_and_exit_0_when_nothing_needs_attention(rules_file, tmp_path):
    rows = [(line("性別意識培力課程", "9000", year=115), Decision(MATCHED, "gender-training", D(100), D(9000)), "", "")]
    book = write_annotated(tmp_path / "a.xlsx", rows)
    result = CliRunner().invoke(app, ["check", "--against", str(book), str(book), "-r", str(rules_file)])
    assert result.exit_code == 0, result.output
    assert "沒有需要注意的項目" in result.stdout


def test_cli_table_lists_the_entries(last_book, rules, rules_file, tmp_path):
    lines = this_year()
    decisions = [Classifier(rules).classify(x) for x in lines]
    new_book = write_annotated(tmp_path / "116.xlsx", [(x, d, "", "") for x, d in zip(lines, decisions)])
    result = CliRunner().invoke(app, ["check", "--against", str(last_book), str(new_book), "-r", str(rules_file)],
                                env={"COLUMNS": "250"})
    assert result.exit_code == 1
    for text in ("新移民數位課程委辦", "育嬰代理人薪資", "性別統計分析委辦", "另有 1 筆新增項目"):
        assert text in result.stdout


def test_cli_against_needs_an_annotated_workbook_and_a_new_file(rules_file, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["說明", "金額"])
    wb.save(tmp_path / "raw.xlsx")
    result = CliRunner().invoke(app, ["check", "--against", str(tmp_path / "raw.xlsx"), str(tmp_path / "raw.xlsx"),
                                      "-r", str(rules_file)])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["check", "--against", str(tmp_path / "raw.xlsx"), "-r", str(rules_file)])
    assert result.exit_code == 2


def test_cli_with_a_raw_export_carries_last_years_reviews(last_book, rules_file, tmp_path):
    export = tmp_path / "116.csv"
    export.write_text("年度,工作計畫,分支計畫,用途別科目,說明,金額\n"
                      "116,資訊管理,01 一般行政,2003 業務費,專題演講鐘點費,48000\n"
                      "116,資訊管理,01 一般行政,2003 業務費,新移民數位課程委辦,200000\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--against", str(last_book), str(export), "-r", str(rules_file), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert [e["description"] for e in payload["new"]] == ["新移民數位課程委辦"]
    assert payload["changed"] == []  # the reviewed 專題演講鐘點費 carries over: 25 % of 48,000
    gone = sorted(e["description"] for e in payload["disappeared"])
    assert gone == ["性別平等專案小組會議外聘委員出席費", "性別統計分析委辦", "育嬰代理人薪資"]
