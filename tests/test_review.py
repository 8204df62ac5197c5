"""Reviewers' decisions: the 覆核 grammar and its errors, applying it, carrying it across runs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from budget.outputs.readback import read_annotated
from budget.outputs.layout import ADDED_COLUMNS, DETAIL_SHEET
from budget.models import EXCLUDED, MATCHED, REVIEW, TOTAL, UNMATCHED, Decision, LineItem
from budget.carry import carry_reviews, pair_lines
from budget.review import (
    FLAG_AMOUNT_CHANGED, ReviewEntry, ReviewEntryError, apply_review, apply_reviews, entry_from_text, parse_override,
)
from budget.rules import parse_rules

RULES_TOML = """
schema = 1
name = "測試規則"
unit = "元"

[[category]]
id = "gender-training"
name = "性別意識培力課程"
official_class = 3
goal = "提升同仁性別意識"
any = ["性別意識培力", "性別主流化課程"]

[[category]]
id = "expert-attendance-fee"
name = "性別平等專案小組專家學者出席費"
official_class = 3
goal = "落實性別平等專案小組運作"
all = [["性別平等專案小組"], ["出席費"]]

[[category]]
id = "parental-leave-substitute"
name = "育嬰留職停薪職務代理人費用"
official_class = 4
goal = "支持同仁育嬰留職停薪"
any = ["育嬰留職停薪職務代理人"]

[[category]]
id = "new-immigrant-course"
name = "新移民數位課程"
official_class = 2
goal = "縮短新移民數位落差"
share_percent = 60
any = ["新移民"]

[[category]]
id = "gender-statistics"
name = "性別統計"
official_class = 3
any = ["性別統計"]
"""


@pytest.fixture(scope="module")
def rules():
    return parse_rules(RULES_TOML.encode(), "test.toml")


def line(description: str, amount: str | None, *, unit: str = "元", plan: str = "資訊管理", branch: str = "01 一般行政",
         account: str = "業務費", code: str = "2003", row: int = 2, year: int | None = 116, kind: str = "line",
         file: str = "export.xlsx") -> LineItem:
    return LineItem(description=description, amount=None if amount is None else Decimal(amount), unit=unit,
                    plan=plan, branch=branch, account=account, account_code=code, year=year, file=file,
                    sheet="歲出", row=row, kind=kind)


# --- annotated workbooks: written by the real writer, then filled in as a reviewer would -------

def write_annotated(path: Path, rows: list[tuple[LineItem, Decision, str, str]], rules=None) -> Path:
    """An annotated workbook of ``rows`` (line, decision, 覆核, 覆核說明) written by
    budget.outputs.annotated.write_annotated_workbook; each 覆核 (one-cell grammar: ``gender-training 25%``)
    is then typed into 明細's review columns with openpyxl, found by their titles in row 1, as a reviewer
    does in Excel: the category into 覆核類別, 25% as 0.25 into 覆核比例, an amount into 覆核計入數."""
    import openpyxl

    from budget.pipeline import RunResult, compute_totals
    from budget.outputs.annotated import write_annotated_workbook

    rules = rules or parse_rules(RULES_TOML.encode(), "test.toml")
    lines = [r[0] for r in rows]
    decisions = [r[1] for r in rows]
    run = RunResult(lines=lines, decisions=decisions, totals=compute_totals(lines, decisions, rules), problems=[],
                    rules=rules)
    write_annotated_workbook(path, run)
    entries = [(i, review, note) for i, (_, _, review, note) in enumerate(rows) if review or note]
    if entries:
        wb = openpyxl.load_workbook(path)
        type_reviews(wb[DETAIL_SHEET], {i: entry_from_text(review, lines[i], note) for i, review, note in entries})
        wb.save(path)
    return path


def type_reviews(ws, entries: dict) -> None:
    """Type ReviewEntry values into the review columns of 明細 (``ws``, openpyxl), key = index of the line."""
    header = [str(c.value or "") for c in ws[1]]

    def column(title: str) -> int:
        return max(i for i, h in enumerate(header) if h == title or h.startswith(title + "（")) + 1

    cols = {k: column(t) for k, t in [("c", "覆核類別"), ("a", "覆核計入數"), ("p", "覆核比例"), ("n", "覆核說明")]}
    for i, e in entries.items():
        ws.cell(i + 2, cols["c"], e.category or None)
        ws.cell(i + 2, cols["a"], None if e.amount is None else float(e.amount))
        ws.cell(i + 2, cols["p"], None if e.percent is None else float(e.percent) / 100)
        ws.cell(i + 2, cols["n"], e.note or None)


# --- grammar -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, category, share, amount, unit", [
    ("gender-training", "gender-training", None, None, None),
    ("  Gender-Training  ", "gender-training", None, None, None),
    ("gender-training 40%", "gender-training", "40", None, None),
    ("gender-training　４０％", "gender-training", "40", None, None),  # full-width space, digits, percent sign
    ("gender-training 12.5 %", "gender-training", "12.5", None, None),
    ("gender-training 24000", "gender-training", None, "24000", None),
    ("gender-training 24,000", "gender-training", None, "24000", None),
    ("gender-training 24千元", "gender-training", None, "24", "千元"),
    ("性別意識培力課程 10%", "gender-training", "10", None, None),  # the category's name works too
    ("none", None, None, None, None),
    ("NONE", None, None, None, None),
    ("無", None, None, None, None),
    ("不計入", None, None, None, None),
])
def test_override_grammar(rules, text, category, share, amount, unit):
    override = parse_override(text, rules)
    assert override is not None
    assert override.category == category
    assert override.share_percent == (None if share is None else Decimal(share))
    assert override.amount == (None if amount is None else Decimal(amount))
    assert override.unit == unit
    assert override.text == text.strip()


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000"])
def test_blank_review_cell_is_no_override(rules, blank):
    assert parse_override(blank, rules) is None


@pytest.mark.parametrize("text, code", [
    ("gender-trainin", "review-unknown-category"),
    ("0.4", "review-unknown-category"),  # what Excel makes of a bare "40%"
    ("gender-training 140%", "review-share-out-of-range"),
    ("gender-training -5%", "review-share-out-of-range"),
    ("gender-training abc", "review-malformed"),
    ("gender-training 40% 24000", "review-malformed"),
    ("gender-training 1e3", "review-malformed"),
    ("gender-training -5", "review-amount-negative"),
])
def test_malformed_entries_raise_with_a_code(rules, text, code):
    with pytest.raises(ReviewEntryError) as err:
        parse_override(text, rules)
    assert err.value.code == code
    assert err.value.message  # zh-TW text for the user


def test_unknown_id_suggests_the_close_one(rules):
    with pytest.raises(ReviewEntryError) as err:
        parse_override("gender-trainng", rules)
    assert "gender-training" in err.value.hint
    assert "none" in err.value.hint


# --- applying ----------------------------------------------------------------------------------

def test_bare_id_counts_the_category_share(rules):
    item = line("新移民電腦課程", "50000")
    decision, problem = apply_review(item, Decision(REVIEW), "new-immigrant-course", "", rules)
    assert problem is None
    assert (decision.status, decision.category, decision.share_percent, decision.gender_amount) == (
        MATCHED, "new-immigrant-course", Decimal(60), Decimal(30000))
    assert decision.review == "new-immigrant-course"
    assert decision.counted == Decimal(30000)


def test_share_and_amount_entries_compute_the_gender_amount(rules):
    item = line("專題演講鐘點費", "60000")
    by_share, _ = apply_review(item, Decision(REVIEW), "gender-training 40%", "依課程時數比例", rules)
    assert by_share.gender_amount == Decimal(24000)
    assert by_share.review_note == "依課程時數比例"
    assert any("依課程時數比例" in r for r in by_share.reasons)
    by_amount, _ = apply_review(item, Decision(REVIEW), "gender-training 24000", "", rules)
    assert by_amount.gender_amount == Decimal(24000) and by_amount.share_percent == Decimal(40)
    in_thousands, _ = apply_review(line("講座", "60", unit="千元"), Decision(REVIEW), "gender-training 24000元", "", rules)
    assert in_thousands.gender_amount == Decimal(24)  # 24000 元 on a line in 千元


def test_share_is_rounded_half_up_to_the_yuan(rules):
    decision, _ = apply_review(line("講座", "25"), Decision(REVIEW), "gender-training 50%", "", rules)
    assert decision.gender_amount == Decimal(13)  # 12.5 → 13, not banker's 12


def test_none_overrides_a_match(rules):
    matched = Decision(MATCHED, category="gender-training", share_percent=Decimal(100), gender_amount=Decimal(5000))
    decision, problem = apply_review(line("性別意識培力課程", "5000"), matched, "none", "非同仁訓練", rules)
    assert problem is None
    assert decision.status == UNMATCHED and decision.counted == 0 and decision.category is None


@pytest.mark.parametrize("text, code", [
    ("gender-training 60001", "review-amount-too-large"),
    ("gender-training 61千元", "review-amount-too-large"),
    ("gender-training 101%", "review-share-out-of-range"),
    ("no-such-category", "review-unknown-category"),
])
def test_malformed_entry_is_a_problem_on_its_row_and_the_decision_stays(rules, text, code):
    original = Decision(REVIEW, category="gender-training", gender_amount=Decimal(60000))
    decision, problem = apply_review(line("講座", "60000"), original, text, "", rules,
                                     file="LAST.xlsx", sheet="明細", row=7, column="覆核")
    assert decision is original
    assert problem is not None and problem.code == code
    assert (problem.file, problem.sheet, problem.row, problem.column) == ("LAST.xlsx", "明細", 7, "覆核")
    assert problem.severity == "error"


def test_review_on_a_subtotal_row_or_a_blank_amount_is_a_problem(rules):
    total = line("合計", "100000", kind=TOTAL)
    _, problem = apply_review(total, Decision(EXCLUDED), "gender-training", "", rules)
    assert problem is not None and problem.code == "review-on-total-row"
    _, problem = apply_review(line("講座", None), Decision(REVIEW), "gender-training 40%", "", rules)
    assert problem is not None and problem.code == "review-no-amount"


# --- reading reviews back from an annotated workbook -------------------------------------------

def _rows_for_review():
    return [
        (line("性別意識培力課程講座", "13400", row=3), Decision(MATCHED, "gender-training", Decimal(100), Decimal(13400), "gender-training"), "", ""),
        (line("專題演講鐘點費", "40000", row=4), Decision(REVIEW, "gender-training", Decimal(100), Decimal(40000), "gender-training"),
         "gender-training 25%", "四場中一場為性別主題"),
        (line("講座鐘點費", "30000", row=5), Decision(REVIEW, None, None, Decimal(0), "ambiguous"), "gender-training 140%", ""),
        (line("性別統計分析委辦", "50000", row=6), Decision(MATCHED, "gender-statistics", Decimal(100), Decimal(50000), "gender-statistics"), "none", "非性別統計"),
        (line("合計", "133400", row=7, kind=TOTAL), Decision(EXCLUDED, rule="subtotal-row"), "", ""),
    ]


def test_reviews_are_read_from_the_workbook_and_applied(tmp_path, rules):
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    book = read_annotated(path)
    assert [r.detail_row for r in book.rows] == [2, 3, 4, 5, 6]
    assert [r.review for r in book.rows] == ["", "gender-training 25%", "gender-training 140%", "不列入", ""]
    assert book.rows[1].review_entry == ReviewEntry("gender-training", None, Decimal(25), "四場中一場為性別主題")
    assert book.rows[1].review_note == "四場中一場為性別主題"
    assert book.rows[0].line.amount == Decimal("13400") and book.rows[4].line.kind == TOTAL
    decisions, problems = apply_reviews(book.rows, rules)
    assert [d.status for d in decisions] == [MATCHED, MATCHED, REVIEW, UNMATCHED, EXCLUDED]
    assert [d.counted for d in decisions] == [Decimal(13400), Decimal(10000), 0, 0, 0]
    assert [(p.code, p.row, p.sheet, p.column) for p in problems] == [
        ("review-share-out-of-range", 4, "明細", "覆核比例")]
    assert problems[0].file == str(path)


def test_sorted_detail_rows_are_realigned_by_their_source(tmp_path, rules):
    import openpyxl

    path = write_annotated(tmp_path / "a.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    ws = wb[DETAIL_SHEET]
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    for r, values in enumerate(reversed(body), start=2):  # the reviewer sorted 明細 upside down
        for c, v in enumerate(values, start=1):
            ws.cell(r, c).value = v
    wb.save(path)
    book = read_annotated(path)
    assert [r.review for r in book.rows] == ["", "gender-training 25%", "gender-training 140%", "不列入", ""]
    assert [r.detail_row for r in book.rows] == [6, 5, 4, 3, 2]


def test_not_an_annotated_workbook_is_refused(tmp_path):
    from budget.problems import BudgetError
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["說明", "金額"])
    wb.save(tmp_path / "raw.xlsx")
    with pytest.raises(BudgetError) as err:
        read_annotated(tmp_path / "raw.xlsx")
    assert err.value.problems[0].code == "annotated-missing-sheet"
    (tmp_path / "x.xlsx").write_text("not a zip")
    with pytest.raises(BudgetError):
        read_annotated(tmp_path / "x.xlsx")


# --- carrying decisions over -------------------------------------------------------------------

def test_pair_lines_prefers_equal_amounts_then_order():
    old = [line("出席費", "100", row=2), line("出席費", "200", row=3), line("其他", "5", row=4)]
    new = [line("出席費", "200", row=10), line("出席費", "300", row=11), line("全新", "1", row=12),
           line("出席費", "100", row=13)]
    assert sorted(pair_lines(old, new)) == [(0, 3), (1, 0)]


def test_same_line_ignores_width_and_spacing_but_not_the_plan():
    old = [line("性別意識培力課程　講座", "10", plan="資訊管理")]
    assert pair_lines(old, [line("性別意識培力課程講座", "10", plan="資訊管理")]) == [(0, 0)]
    assert pair_lines(old, [line("性別意識培力課程講座", "10", plan="資訊推廣")]) == []
    assert pair_lines(old, [line("性別意識培力課程講座", "10", branch="02 其他")]) == []
    assert pair_lines(old, [line("性別意識培力課程講座", "10", code="2036")]) == []


def test_carry_over_places_reviews_flags_changed_amounts_and_reports_the_rest(tmp_path, rules):
    last = [
        (line("專題演講鐘點費", "40000", row=4, year=115), Decision(REVIEW, "gender-training", None, Decimal(40000)),
         "gender-training 25%", "四場中一場為性別主題"),
        (line("外聘講座鐘點費", "20000", row=5, year=115), Decision(REVIEW, None), "gender-training 5000", ""),
        (line("性別統計分析委辦", "50000", row=6, year=115), Decision(MATCHED, "gender-statistics", Decimal(100), Decimal(50000)),
         "none", "非性別統計"),
        (line("已停辦的性別講座", "9000", row=7, year=115), Decision(REVIEW, None), "gender-training", ""),
        (line("一般事務費", "70000", row=8, year=115), Decision(UNMATCHED), "", ""),
    ]
    book = read_annotated(write_annotated(tmp_path / "115.性別預算.xlsx", last))
    new_lines = [
        line("一般事務費", "80000", row=2),
        line("專題演講鐘點費", "48000", row=3),      # amount changed → carried, flagged
        line("性別統計分析委辦", "50000", row=4),    # same → carried
        line("外聘講座鐘點費", "4000", row=5),       # 5000 no longer fits → problem, rules' decision kept
        line("全新項目", "1000", row=6),
    ]
    rules_decisions = [Decision(UNMATCHED), Decision(REVIEW, "gender-training", None, Decimal(48000)),
                       Decision(MATCHED, "gender-statistics", Decimal(100), Decimal(50000)), Decision(REVIEW, None),
                       Decision(UNMATCHED)]
    result = carry_reviews(new_lines, rules_decisions, book.rows, rules, source="115.性別預算.xlsx")
    assert result.reviewed == 4
    assert sorted(j for j, _ in result.carried) == [1, 2]
    assert result.decisions[1].counted == Decimal(12000)  # 25 % of the new 48000
    assert result.decisions[1].review == "gender-training 25%"
    assert result.decisions[2].status == UNMATCHED and result.decisions[2].review == "不列入"
    assert result.decisions[3] is rules_decisions[3] and result.decisions[0] is rules_decisions[0]
    assert result.amount_changed == [1]
    assert FLAG_AMOUNT_CHANGED in new_lines[1].flags and not new_lines[2].flags
    assert any("48,000" in r and "40,000" in r for r in result.decisions[1].reasons)
    assert [r.line.description for r in result.unplaced] == ["已停辦的性別講座"]
    codes = sorted(p.code for p in result.problems)
    assert codes == ["review-amount-too-large", "review-carried-amount-changed", "review-not-placed"]
    log = "\n".join(result.log_lines())
    assert "共 4 筆已覆核，沿用 2 筆" in log and "無法對應 1 筆" in log and "已停辦的性別講座" in log


def test_carried_amount_review_converts_units(tmp_path, rules):
    last = [(line("講座鐘點費", "60", unit="千元", year=115), Decision(REVIEW), "gender-training 24", "")]
    book = read_annotated(write_annotated(tmp_path / "a.xlsx", last))
    result = carry_reviews([line("講座鐘點費", "60000")], [Decision(REVIEW)], book.rows, rules)
    # 24 was written on a line in 千元; the same 60000 元 line now gets 24 千元 = 24000 元, unflagged.
    assert result.decisions[0].gender_amount == Decimal(24000)
    assert result.decisions[0].review == "gender-training 24000"  # in the new line's unit (元)
    assert result.amount_changed == []


def test_carried_reviews_reach_the_new_workbook_its_log_and_the_year_after(tmp_path, rules):
    import openpyxl

    from budget.engine.classifier import Classifier
    from budget.pipeline import ReviewCarrier
    from budget.pipeline import RunResult, compute_totals
    from budget.outputs.annotated import write_annotated_workbook

    last = write_annotated(tmp_path / "115.性別預算.xlsx", [
        (line("專題演講鐘點費", "40000", row=2, year=115), Decision(UNMATCHED), "gender-training 25%", "四場中一場"),
        (line("已停辦的性別講座", "9000", row=3, year=115), Decision(REVIEW), "gender-training", ""),
    ])

    def classify_with(carrier, lines, path):
        decisions = [Classifier(rules).classify(x) for x in lines]
        decisions, problems = carrier(lines, decisions)
        run = RunResult(lines=lines, decisions=decisions, totals=compute_totals(lines, decisions, rules),
                        problems=problems, rules=rules)
        write_annotated_workbook(path, run)
        return decisions, problems

    new_lines = [line("專題演講鐘點費", "48000", row=2), line("一般事務費", "1000", row=3)]
    decisions, problems = classify_with(ReviewCarrier(str(last), rules), new_lines, tmp_path / "116.性別預算.xlsx")
    assert decisions[0].counted == Decimal(12000)
    assert problems[0].code == "review-carried" and "沿用 1 筆" in problems[0].message
    book = read_annotated(tmp_path / "116.性別預算.xlsx")
    # The carried review is written into the review columns, its category by its Chinese name.
    assert [(r.review, r.review_note) for r in book.rows] == [("性別意識培力課程 25%", "四場中一場"), ("", "")]
    log = [v for r in openpyxl.load_workbook(tmp_path / "116.性別預算.xlsx")["紀錄"].iter_rows(values_only=True)
           for v in r if isinstance(v, str)]
    assert any("沿用 1 筆" in v and "無法對應 1 筆" in v for v in log)
    assert any("已停辦的性別講座" in v for v in log)
    # The year after, the same decision carries again from the new workbook.
    again, _ = classify_with(ReviewCarrier(str(tmp_path / "116.性別預算.xlsx"), rules),
                             [line("專題演講鐘點費", "48000", row=5)], tmp_path / "117.性別預算.xlsx")
    assert again[0].counted == Decimal(12000) and again[0].review == "gender-training 25%"


def test_reviewed_must_be_an_annotated_workbook(tmp_path, rules):
    from budget.problems import BudgetError
    from budget.pipeline import ReviewCarrier

    (tmp_path / "a.csv").write_text("說明,金額\nx,1\n", encoding="utf-8")
    with pytest.raises(BudgetError) as err:
        ReviewCarrier(str(tmp_path / "a.csv"), rules)
    assert err.value.problems[0].code == "reviewed-not-annotated"


def test_same_line_when_only_the_amounts_or_year_in_its_text_changed():
    old = [line("辦理性別落差分析所需經費48,070元。", "48070"), line("115年度性別平等專案小組出席費", "18000", row=3)]
    new = [line("116年度性別平等專案小組出席費", "22500", row=7), line("辦理性別落差分析所需經費43,700元。", "43700", row=8)]
    assert sorted(pair_lines(old, new)) == [(0, 1), (1, 0)]
    # …but not when the words differ.
    assert pair_lines([line("辦理性別落差分析所需經費", "1")], [line("辦理性別影響評估所需經費", "1")]) == []


# --- classify --reviewed, end to end -----------------------------------------------------------

NEW_CSV = ("年度,工作計畫,分支計畫,用途別科目,說明,金額\n"
           "116,資訊管理,01 一般行政,2036 按日按件計資酬金,性別平等專案小組會議外聘委員出席費,22500\n"
           "116,資訊管理,01 一般行政,2003 教育訓練費,專題演講鐘點費,48000\n"
           "116,資訊管理,01 一般行政,2054 一般事務費,影印紙,100000\n")


def _last_reviewed(tmp_path):
    def last_line(description, amount, code, account, row):
        return line(description, amount, plan="資訊管理", code=code, account=account, row=row, year=115)

    return write_annotated(tmp_path / "115.性別預算.xlsx", [
        (last_line("專題演講鐘點費", "40000", "2003", "教育訓練費", 2), Decision(UNMATCHED), "gender-training 25%", "四場中一場"),
        (last_line("影印紙", "100000", "2054", "一般事務費", 3), Decision(UNMATCHED), "", ""),
        (last_line("已停辦的講座", "9000", "2003", "教育訓練費", 4), Decision(REVIEW), "gender-training", ""),
    ])


def test_cli_classify_reviewed(tmp_path):
    import openpyxl
    from typer.testing import CliRunner

    from budget.cli import app

    (tmp_path / "rules.toml").write_text(RULES_TOML, encoding="utf-8")
    (tmp_path / "116.csv").write_text(NEW_CSV, encoding="utf-8")
    last = _last_reviewed(tmp_path)
    out = tmp_path / "116.性別預算.xlsx"
    result = CliRunner().invoke(app, ["classify", str(tmp_path / "116.csv"), "--reviewed", str(last), "-o", str(out),
                                      "-r", str(tmp_path / "rules.toml"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    by_row = {x["row"]: x for x in payload["lines"]}
    assert (by_row[3]["status"], by_row[3]["category"], by_row[3]["gender_amount"]) == ("matched", "gender-training", "12000")
    codes = [p["code"] for p in payload["problems"]]
    assert codes.count("review-carried") == 1 and "review-not-placed" in codes
    assert "review-carried-amount-changed" in codes
    book = read_annotated(out)
    assert [r.review for r in book.rows] == ["", "性別意識培力課程 25%", ""]
    log = [v for r in openpyxl.load_workbook(out)["紀錄"].iter_rows(values_only=True) for v in r if isinstance(v, str)]
    assert any("共 2 筆已覆核，沿用 1 筆" in v for v in log)


def test_cli_classify_reviewed_never_overwrites_the_reviewed_workbook(tmp_path):
    from typer.testing import CliRunner

    from budget.cli import app

    (tmp_path / "rules.toml").write_text(RULES_TOML, encoding="utf-8")
    (tmp_path / "116.csv").write_text(NEW_CSV, encoding="utf-8")
    last = _last_reviewed(tmp_path)
    before = last.read_bytes()
    result = CliRunner().invoke(app, ["classify", str(tmp_path / "116.csv"), "--reviewed", str(last), "-o", str(last),
                                      "-r", str(tmp_path / "rules.toml")])
    assert result.exit_code == 2
    assert last.read_bytes() == before


@pytest.mark.skipif(__import__("shutil").which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_saved_as_ods_by_libreoffice_reads_the_same(tmp_path, rules):
    import subprocess

    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    done = subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
                           "--convert-to", "ods", "--outdir", str(tmp_path / "ods"), str(path)],
                          capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr
    ods = tmp_path / "ods" / "115.性別預算.ods"
    from budget.outputs.readback import is_annotated

    assert is_annotated(ods)
    book, original = read_annotated(ods), read_annotated(path)
    assert [(r.review, r.review_note, r.detail_row) for r in book.rows] == [
        (r.review, r.review_note, r.detail_row) for r in original.rows]
    assert [(r.line.description, r.line.amount, r.line.kind, r.line.year) for r in book.rows] == [
        (r.line.description, r.line.amount, r.line.kind, r.line.year) for r in original.rows]
    assert [d.counted for d in apply_reviews(book.rows, rules)[0]] == [d.counted for d in apply_reviews(original.rows, rules)[0]]


def test_a_decision_edited_in_place_is_reported_not_used(tmp_path, rules):
    import openpyxl

    path = write_annotated(tmp_path / "a.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    ws = wb[DETAIL_SHEET]
    header = [c.value for c in ws[1]]
    status_col = len(header) - header[::-1].index(dict(ADDED_COLUMNS)["status"])
    ws.cell(2, status_col, "不符合")  # row 2 was 符合 and has no 覆核 entry
    ws.cell(3, status_col, "符合")    # row 3 has a 覆核 entry: that one decides, no warning
    wb.save(path)
    book = read_annotated(path)
    assert [(p.code, p.row, p.severity) for p in book.problems] == [("annotated-decision-edited", 2, "warning")]
    assert apply_reviews(book.rows, rules)[0][0].counted == Decimal(13400)


def test_lines_under_different_headings_are_different_lines(tmp_path, rules):
    def under(heading, amount, row):
        item = line("本年度所需施工費。", amount, code="3015", account="房屋建築養護費", row=row)
        item.context = heading
        return item

    old = [under("02 哺集乳室新建工程", "480", 3), under("03 停車場整修工程", "480", 5)]
    new = [under("03 停車場整修工程", "480", 7), under("02 哺集乳室新建工程", "500", 9)]
    assert sorted(pair_lines(old, new)) == [(0, 1), (1, 0)]
    # The heading survives the round trip through an annotated workbook.
    path = write_annotated(tmp_path / "a.xlsx", [(old[0], Decision(MATCHED, "gender-training", Decimal(100),
                                                                  Decimal(480)), "", "")], rules)
    assert read_annotated(path).lines[0].context == "02 哺集乳室新建工程"
