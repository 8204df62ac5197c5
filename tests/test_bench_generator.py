"""The benchmark's generator (benchmarks/synth.py) makes what it promises, and the bundled samples
in workbooks/ are what workbooks/make_sample.py writes."""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import python_calamine

from budget.engine.classifier import Classifier
from budget.rules import load_rules
from budget.engine.subitems import split_subitems

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


synth = _load("synth", ROOT / "benchmarks" / "synth.py")
make_sample = _load("make_sample", ROOT / "workbooks" / "make_sample.py")


@pytest.fixture(scope="module")
def export():
    return synth.generate(3000, seed=5)


@pytest.fixture(scope="module")
def default_ids():
    return [c.id for c in load_rules().categories]


def _read(path: Path) -> list[list]:
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sheet.to_python(skip_empty_area=False)


def _column(export, key: str) -> int:
    return [k for k, _ in synth.LAYOUTS[export.layout]].index(key)


# --- determinism and shape -------------------------------------------------------------------

def test_same_seed_gives_the_same_cells_and_another_seed_does_not():
    assert synth.generate(800, seed=1).table() == synth.generate(800, seed=1).table()
    assert synth.generate(800, seed=1).table() != synth.generate(800, seed=2).table()


@pytest.mark.parametrize("rows", [4, 5, 6, 37, 1000, 2001])
def test_exactly_the_requested_number_of_data_rows(rows):
    export = synth.generate(rows, seed=rows)
    assert len(export.rows()) == rows
    assert len(export.table()) == rows + 4  # 3 title rows and the header
    assert export.rows()[-1].kind == "grand-total"


def test_too_few_rows_is_refused():
    with pytest.raises(ValueError):
        synth.generate(3)


@pytest.mark.parametrize("unit", ["元", "千元"])
def test_title_rows_name_agency_roc_year_and_unit(unit):
    table = synth.generate(50, unit=unit, year=116).table()
    assert table[0][0] == "臺北市政府資訊局 116年度 歲出預算明細表"
    assert table[1][0] == f"單位：新臺幣{unit}"
    assert table[3] == ("年度", "工作計畫代碼", "工作計畫名稱", "分支計畫", "科目代碼", "科目名稱", "說明", "預算數")


def test_book_layout_has_code_and_name_in_one_cell():
    export = synth.generate(200, layout="book")
    assert export.header == ("工作計畫", "分支計畫", "用途別科目", "說明", "金額")
    line = next(r for r in export.rows() if r.kind == "line")
    plan, branch, account = line.cells[:3]
    assert plan.startswith("0571") and " " in plan
    assert branch[:2].isdigit() and branch[2] == " "
    assert account[:4].isdigit() and account[4] == " "


# --- codes are text, with their leading zeros --------------------------------------------------

def test_codes_keep_leading_zeros_as_text_in_xlsx_and_csv(tmp_path, export):
    xlsx = synth.write_xlsx(export, tmp_path / "e.xlsx")
    csv_path = synth.write_csv(export, tmp_path / "e.csv")
    plan_col, account_col = _column(export, "plan_code"), _column(export, "account_code")
    rows = [r for r in _read(xlsx)[4:] if r[account_col]]
    assert rows
    assert all(isinstance(r[plan_col], str) and r[plan_col].startswith("0") and len(r[plan_col]) == 11
               for r in rows)
    assert all(isinstance(r[account_col], str) and len(r[account_col]) == 4 for r in rows)
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        csv_rows = list(csv.reader(fh))
    assert csv_rows[4][plan_col] == "05710110100"
    amount_col = _column(export, "amount")
    assert [r[amount_col].replace(",", "") for r in csv_rows[4:]] == [str(r.amount) for r in export.rows()]


def test_xlsx_holds_the_same_cells_as_the_table(tmp_path, export):
    cells = _read(synth.write_xlsx(export, tmp_path / "e.xlsx"))
    expected = export.table()
    assert len(cells) == len(expected)
    for got, want in zip(cells, expected):
        assert [int(v) if isinstance(v, float) else v for v in got] == list(want)


# --- descriptions ------------------------------------------------------------------------------

def test_descriptions_are_10_to_120_characters_and_mostly_unique(export):
    descriptions = [line.description(export.unit) for line in export.lines()]
    assert all(10 <= len(d) <= 120 for d in descriptions), min(descriptions, key=len)
    assert len(set(descriptions)) / len(descriptions) > 0.7


def test_descriptions_have_sub_items_whose_amounts_add_up(export):
    with_items = 0
    for line in export.lines():
        text = line.description(export.unit)
        _, pieces = split_subitems(text, export.unit)
        if len(pieces) >= 2 and line.variant in ("ordinary", "subitem") and "，內容如下" in text:
            with_items += 1
            assert sum(p.amount for p in pieces) == Decimal(line.amount), text
    assert with_items > 50


def test_descriptions_are_traditional_chinese_encodable_in_big5(export):
    for line in export.lines():
        line.description(export.unit).encode("cp950")


# --- gender lines --------------------------------------------------------------------------------

def test_every_default_category_has_gender_lines(export, default_ids):
    lines = list(export.lines())
    per_category = Counter(line.category for line in lines if line.category)
    assert set(per_category) == set(default_ids)
    assert all(per_category[cid] > 0 for cid in default_ids)
    share = sum(per_category.values()) / len(lines)
    assert 0.02 < share < 0.08  # "a few percent"
    shared = [line for line in lines if line.variant == "shared"]
    assert shared and all(line.expect_status == "review" for line in shared)


def test_gender_lines_are_built_from_the_rules_file_given(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('''schema = 1
name = "test"
[[category]]
id = "alpha-care"
name = "甲類照顧"
official_class = 5
any = ["甲類照顧服務"]
shared_with = ["乙類"]
[[category.example]]
text = "辦理甲類照顧服務之講習課程"
expect = "alpha-care"
[[category]]
id = "beta-talks"
name = "乙類講座"
official_class = 3
all = [["丙類講座"], ["鐘點費"]]
''', encoding="utf-8")
    export = synth.generate(1500, seed=3, rules_path=rules)
    per_category = Counter(line.category for line in export.lines() if line.category)
    assert set(per_category) == {"alpha-care", "beta-talks"}
    texts = [line.description(export.unit) for line in export.lines() if line.category == "beta-talks"]
    assert all("丙類講座" in t and "鐘點費" in t for t in texts)


def test_lines_are_decided_as_they_were_built(export):
    """The generator's labels agree with the default rules (a check on both, with slack for rule edits)."""
    classifier = Classifier(load_rules())
    items = synth.to_line_items(export)
    agree = Counter()
    for row, item in zip(export.rows(), items):
        decision = classifier.classify(item)
        if row.line is None:
            assert decision.status == "excluded"
            continue
        line = row.line
        if line.category is None:
            agree["ordinary", decision.status == "unmatched"] += 1
        else:
            found = decision.category == line.category or line.category in decision.also_matched
            agree["gender", found and decision.status == line.expect_status] += 1
    assert agree["ordinary", True] / (agree["ordinary", True] + agree["ordinary", False]) > 0.99
    assert agree["gender", True] / (agree["gender", True] + agree["gender", False]) > 0.9


# --- totals ----------------------------------------------------------------------------------

def test_subtotal_rows_equal_the_sum_of_their_group(export):
    amount_col, desc_col = _column(export, "amount"), _column(export, "description")
    branch_sum = plan_sum = grand = 0
    seen = Counter()
    for row in export.table()[4:]:
        label, amount = row[desc_col], row[amount_col]
        if label == "小計":
            assert amount == branch_sum
            plan_sum += branch_sum
            branch_sum = 0
        elif label == "合計":
            assert branch_sum == 0 and amount == plan_sum
            grand += plan_sum
            plan_sum = 0
        elif label == "總計":
            assert amount == grand
        else:
            branch_sum += amount
            continue
        seen[label] += 1
    assert seen["總計"] == 1 and seen["合計"] >= 2 and seen["小計"] > seen["合計"]


# --- the year before -----------------------------------------------------------------------------

def test_previous_year_keeps_most_lines_and_changes_some_gender_lines(export):
    before = synth.previous_year(export)
    assert before.year == export.year - 1
    assert before.table()[0][0] == "臺北市政府資訊局 115年度 歲出預算明細表"
    assert all(row.cells[0] == 115 for row in before.rows())
    now = {line.key: line for line in export.lines()}
    then = {line.key: line for line in before.lines()}
    assert len(now.keys() & then.keys()) / len(now) > 0.9
    gender_now = {k for k, line in now.items() if line.category}
    gender_then = {k for k, line in then.items() if line.category}
    assert gender_now - gender_then, "gender lines new this year"
    assert gender_then - gender_now, "gender lines only the year before"
    assert any(now[k].amount != then[k].amount for k in gender_now & gender_then), "changed gender lines"


# --- the bundled samples -------------------------------------------------------------------------

def test_committed_samples_are_what_make_sample_writes(tmp_path):
    written = make_sample.write_samples(tmp_path)
    assert {p.name for p in written} == {"116年度歲出預算明細.xlsx", "116年度歲出預算明細.ods",
                                         "115年度歲出預算明細.xlsx"}
    for path in written:
        committed = ROOT / "workbooks" / path.name
        assert committed.exists(), f"{committed} is missing: run python workbooks/make_sample.py"
        assert _read(committed) == _read(path), (
            f"{committed.name} differs from what workbooks/make_sample.py writes "
            "(rules/default.toml or benchmarks/synth.py changed?): run python workbooks/make_sample.py")


def test_sample_is_an_agency_year_of_a_few_hundred_lines_in_yuan():
    export = make_sample.samples()["116年度歲出預算明細"]
    lines = list(export.lines())
    assert 200 <= len(lines) <= 600
    assert export.unit == "元" and export.year == 116
    assert {line.category for line in lines if line.category} == {c.id for c in load_rules().categories}
