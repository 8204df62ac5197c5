"""Rules files: validation with line numbers, all problems at once, safe regexes."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from budget.problems import BudgetError
from budget.rules import default_rules_path, load_rules, parse_rules

GOOD = """\
schema = 1
name = "測試規則"
unit = "元"

[[category]]
id = "gender-training"
name = "性別意識培力課程"
official_class = 3
share_percent = 100
all = [["性別"], ["課程", "講座"]]

[[category.example]]
text = "性別意識培力課程講座鐘點費"
expect = "gender-training"
"""


def problems_of(text: str) -> list:
    with pytest.raises(BudgetError) as info:
        parse_rules(text.encode(), "r.toml")
    return info.value.problems


def test_good_file_loads_with_its_fields():
    rules = parse_rules(GOOD.encode(), "r.toml")
    assert rules.name == "測試規則"
    assert rules.ids == ["gender-training"]
    cat = rules.category("gender-training")
    assert cat.official_class == 3
    assert cat.share_percent == Decimal(100)
    assert cat.all == [["性別"], ["課程", "講座"]]
    assert len(rules.sha256) == 64


def test_misspelt_key_is_reported_with_its_line_and_path():
    text = GOOD.replace("share_percent = 100", "share_precent = 100")
    [p] = problems_of(text)
    assert p.code == "rules-invalid"
    assert p.line == 9
    assert p.key == "category[0].share_precent"
    assert p.file == "r.toml"
    assert "拼錯" in p.message


def test_all_problems_are_reported_at_once():
    text = GOOD.replace('id = "gender-training"', 'id = "Gender Training"').replace(
        "share_percent = 100", "share_percent = 140").replace("official_class = 3", "official_class = 9")
    text += '\n[[category]]\nid = "x"\nname = "甲"\nofficial_class = 1\ncodes = [2036]\nregex = [\'(a)\\1\']\n'
    problems = problems_of(text)
    keys = {p.key for p in problems}
    assert {"category[0].id", "category[0].share_percent", "category[0].official_class",
            "category[1].codes[0]", "category[1].regex[0]"} <= keys
    by_key = {p.key: p for p in problems}
    assert by_key["category[0].share_percent"].line == 9
    assert "0 到 100" in by_key["category[0].share_percent"].message
    assert by_key["category[1].codes[0]"].line == 20
    assert "加引號" in by_key["category[1].codes[0]"].message
    assert by_key["category[1].regex[0]"].code == "rules-bad-regex"
    assert by_key["category[1].regex[0]"].line == 21


def test_duplicate_category_id_names_both_places():
    text = GOOD + '\n[[category]]\nid = "gender-training"\nname = "重複"\nofficial_class = 3\nany = ["性別"]\n'
    [p] = problems_of(text)
    assert p.code == "rules-duplicate-id"
    assert p.line == 17
    assert "第 6 行" in p.message


def test_toml_syntax_error_has_line_and_hint():
    text = GOOD.replace('all = [["性別"], ["課程", "講座"]]', "codes = [0271]")
    [p] = problems_of(text)
    assert p.code == "rules-syntax"
    assert p.line == 10


def test_example_expecting_unknown_category():
    text = GOOD.replace('expect = "gender-training"', 'expect = "gender-trainng"')
    [p] = problems_of(text)
    assert p.code == "rules-bad-example"
    assert p.line == 14


def test_category_without_conditions_is_rejected():
    text = GOOD.replace('all = [["性別"], ["課程", "講座"]]\n', "")
    codes = {p.code for p in problems_of(text)}
    assert "rules-no-condition" in codes


def test_example_lines_inside_second_category_are_located():
    text = GOOD + ('\n[[category]]\nid = "b"\nname = "乙"\nofficial_class = 5\nany = ["乙"]\n'
                   '[[category.example]]\ntext = "乙"\nexpect = "b"\n[[category.example]]\ntext = "丙"\nexpect = "nope"\n')
    [p] = problems_of(text)
    assert p.key == "category[1].example[1].expect"
    assert p.line == 26


def test_catastrophic_regex_does_not_hang():
    text = GOOD.replace('all = [["性別"], ["課程", "講座"]]', "regex = ['(a+)+$']")
    rules = parse_rules(text.encode(), "r.toml")
    from budget.engine.classifier import Classifier
    from budget.models import LineItem

    start = time.perf_counter()
    decision = Classifier(rules).classify(LineItem(description="a" * 30000 + "!"))
    assert time.perf_counter() - start < 1.0
    assert decision.status == "unmatched"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(BudgetError) as info:
        load_rules(tmp_path / "none.toml")
    assert info.value.problems[0].code == "rules-not-found"
    with pytest.raises(BudgetError):
        load_rules(tmp_path)


def test_default_rules_file_is_valid_and_has_the_seed_categories():
    rules = load_rules(default_rules_path())
    assert {"gender-training", "parental-leave-substitute", "expert-attendance-fee"} <= set(rules.ids)
    assert len(rules.categories) >= 13
    for cat in rules.categories:
        assert cat.goal and cat.basis and cat.name_en, cat.id
        assert len(cat.example) >= 2, cat.id
