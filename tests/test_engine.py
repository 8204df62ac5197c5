"""The classification engine: every condition kind, review triggers, sub-items, units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from budget.engine.classifier import Classifier
from budget.models import LineItem
from budget.rules import parse_rules

RULES = """\
schema = 1
name = "引擎測試"
unit = "元"
match_fields = ["description"]

[[category]]
id = "expert-attendance-fee"
name = "性別平等專案小組專家學者出席費"
official_class = 3
all = [["性別平等專案小組", "性平小組"], ["出席費"]]
shared_with = ["採購評選", "查核委員"]

[[category]]
id = "gender-training"
name = "性別意識培力課程"
official_class = 3
all = [["性別"], ["課程", "講座", "訓練"]]
none = ["資安"]

[[category]]
id = "lactation-room"
name = "哺集乳室"
official_class = 4
any = ["哺集乳室", "哺乳室"]
share_percent = 40

[[category]]
id = "parental-substitute"
name = "育嬰留職停薪職務代理人"
official_class = 4
all = [["育嬰留職停薪", "育嬰留停"], ["代理"]]
codes = ["1020", "2033"]

[[category]]
id = "women-stem"
name = "女性資訊人才培育"
official_class = 2
regex = ['女性.{0,6}(程式|資訊)']
priority = 1

[[category]]
id = "women-it-camp"
name = "女性資訊營隊"
official_class = 2
any = ["女性資訊營"]
priority = 1

[[category]]
id = "plan-scoped"
name = "計畫層級"
official_class = 1
any = ["宣導"]
years = [116]
[category.plan]
any = ["性別平等"]

[[category]]
id = "always-review"
name = "其他性別平等措施"
official_class = 5
any = ["性別主流化"]
review = true
review_reason = "請確認性別主流化經費占比"
priority = -1
"""


@pytest.fixture(scope="module")
def classifier():
    return Classifier(parse_rules(RULES.encode(), "engine.toml"))


def line(text, amount="1000", unit="元", **kw):
    return LineItem(description=text, amount=Decimal(amount) if amount is not None else None, unit=unit, **kw)


def test_all_groups_match_and_evidence_names_terms(classifier):
    d = classifier.classify(line("性別平等專案小組外聘委員出席費"))
    assert (d.status, d.category, d.gender_amount) == ("matched", "expert-attendance-fee", Decimal(1000))
    assert {(e.kind, e.field, e.term) for e in d.evidence} == {
        ("all", "description", "性別平等專案小組"), ("all", "description", "出席費")}
    assert d.rule == "expert-attendance-fee"
    assert "說明含「性別平等專案小組」" in d.explain()


def test_all_group_missing_means_no_match(classifier):
    d = classifier.classify(line("採購評選委員會出席費"))
    assert d.status == "unmatched" and d.category is None and d.gender_amount == 0


def test_none_term_excludes_and_is_shown(classifier):
    d = classifier.classify(line("資安與性別議題講座鐘點費"))
    assert d.status == "unmatched"
    assert any(e.excluded and e.term == "資安" for e in d.evidence)
    assert "排除" in d.explain()


def test_any_term_with_share_percent_rounds_half_up(classifier):
    d = classifier.classify(line("哺集乳室設備維護", amount="1001"))
    assert d.status == "matched"
    assert d.share_percent == Decimal(40)
    # 40% of 1001 = 400.4 元 -> 400
    assert d.gender_amount == Decimal(400)
    d = classifier.classify(line("哺乳室冰箱", amount="1.5", unit="千元"))
    # 40% of 1.5千元 = 0.6千元 = 600元: exact at the 元.
    assert d.gender_amount == Decimal("0.6")
    d = classifier.classify(line("哺乳室清潔", amount="1.00125", unit="千元"))
    # 40% = 0.4005千元 = 400.5元 -> 401元 half up = 0.401千元
    assert d.gender_amount == Decimal("0.401")


def test_full_width_and_variant_text_matches(classifier):
    d = classifier.classify(line("哺集乳室　設備（臺北）"))
    assert d.category == "lactation-room"
    d = classifier.classify(line("性別平等專案小組 外聘委員 出席費"))
    assert d.category == "expert-attendance-fee"


def test_account_code_prefix_condition(classifier):
    ok = classifier.classify(line("育嬰留職停薪職務代理人薪資", account_code="1020", account="約聘僱人員待遇"))
    assert ok.category == "parental-substitute"
    assert any(e.kind == "code" and e.term == "1020" for e in ok.evidence)
    wrong_account = classifier.classify(line("育嬰留職停薪職務代理人薪資", account_code="2054"))
    assert wrong_account.status == "unmatched"


def test_regex_condition_uses_folded_text(classifier):
    d = classifier.classify(line("女性 程式 設計培力"))
    assert d.category == "women-stem"
    assert any(e.kind == "regex" for e in d.evidence)


def test_field_condition_and_years(classifier):
    assert classifier.classify(line("宣導活動", plan="性別平等推動計畫", year=116)).category == "plan-scoped"
    assert classifier.classify(line("宣導活動", plan="資訊推動計畫", year=116)).status == "unmatched"
    assert classifier.classify(line("宣導活動", plan="性別平等推動計畫", year=115)).status == "unmatched"
    d = classifier.classify(line("宣導活動", plan="性別平等推動計畫", year=116))
    assert any(e.field == "plan" for e in d.evidence)


def test_tie_between_categories_goes_to_review(classifier):
    d = classifier.classify(line("女性資訊營隊 女性程式課"))
    assert d.status == "review"
    assert d.category is None
    assert set(d.also_matched) == {"women-stem", "women-it-camp"}
    assert "無優先順序" in d.explain()


def test_priority_settles_overlap(classifier):
    d = classifier.classify(line("性別主流化與女性程式設計課"))
    assert d.status == "matched" and d.category == "women-stem"
    assert "always-review" in d.also_matched


def test_rule_marked_review(classifier):
    d = classifier.classify(line("推動性別主流化"))
    assert d.status == "review" and d.category == "always-review"
    assert "請確認性別主流化經費占比" in d.reasons


def test_shared_subitem_goes_to_review_with_offered_amount(classifier):
    text = ("按日按件計資酬金100千元，內容如下：<1>本總處法規會、性別平等專案小組委員、採購評選委員及查核委員出席費60千元。"
            "<2>專題演講鐘點費等40千元。")
    d = classifier.classify(line(text, amount="100", unit="千元"))
    assert d.status == "review"
    assert d.category == "expert-attendance-fee"
    assert d.gender_amount == Decimal(60)
    assert d.counted == 0
    assert [s.amount for s in d.subitems] == [Decimal(60), Decimal(40)]
    assert any("採購評選" in r for r in d.reasons)
    assert not d.also_matched


def test_enumeration_without_shared_terms_is_also_shared(classifier):
    d = classifier.classify(line("性平小組、法制小組及考核小組委員出席費"))
    assert d.status == "review" and d.category == "expert-attendance-fee"
    assert any("法制小組" in r for r in d.reasons)


def test_cost_items_of_one_purpose_are_not_other_purposes(classifier):
    d = classifier.classify(line("育嬰留職停薪職務代理人2人薪資、勞健保費及年終工作獎金", account_code="1020"))
    assert d.status == "matched" and d.category == "parental-substitute"
    d = classifier.classify(line("性別意識培力課程講座鐘點費、場地費及教材費"))
    assert d.status == "matched"


def test_list_in_brackets_is_detail_not_other_purposes(classifier):
    d = classifier.classify(line("哺集乳室設備更新（冰箱、洗手台、隱私簾）"))
    assert d.status == "matched" and d.category == "lactation-room"


def test_subject_inside_a_bracketed_list_with_other_items_is_shared(classifier):
    d = classifier.classify(line("印製各項書刊（統計年報、哺集乳室使用手冊、市政簡介）及其他印刷費"))
    assert d.status == "review" and d.category == "lactation-room"
    assert any("統計年報" in r for r in d.reasons)
    d = classifier.classify(line("設備更新（哺集乳室冰箱、哺乳室沙發）"))
    assert d.status == "matched"


def test_words_containing_conjunctions_are_not_split(classifier):
    d = classifier.classify(line("性別意識培力課程、性別平等普及講座"))
    assert d.status == "matched"
    d = classifier.classify(line("性別意識培力課程、性別議題講座及資訊系統訓練"))
    assert d.status == "review"
    assert any("資訊系統訓練" in r for r in d.reasons)


def test_wholly_gender_subitem_is_matched_with_its_amount(classifier):
    text = "(1)性別意識培力課程講座鐘點費15千元。(2)資訊系統維護費50千元。"
    d = classifier.classify(line(text, amount="65", unit="千元"))
    assert (d.status, d.category, d.gender_amount) == ("matched", "gender-training", Decimal(15))
    assert [s.categories for s in d.subitems] == [("gender-training",), ()]


def test_subitem_amounts_not_adding_up_are_reported(classifier):
    text = "(1)性別意識培力課程講座鐘點費15千元。(2)資訊系統維護費50千元。"
    d = classifier.classify(line(text, amount="70", unit="千元"))
    assert d.status == "review"
    assert d.gender_amount == Decimal(15)
    assert any("不符" in r for r in d.reasons)


def test_subitem_units_convert_to_the_line_unit(classifier):
    text = "一、性別意識培力課程講座費用2,273,088元。二、其他業務費用1,000,000元。"
    d = classifier.classify(line(text, amount="3273.088", unit="千元"))
    assert d.status == "matched" and d.gender_amount == Decimal("2273.088")


def test_preamble_naming_the_purpose_decides_the_whole_line(classifier):
    text = "辦理性別意識培力課程經費，內容如下：(1)講座鐘點費10千元。(2)場地費5千元。"
    d = classifier.classify(line(text, amount="15", unit="千元"))
    assert d.status == "matched" and d.gender_amount == Decimal(15)


def test_lone_label_is_not_a_split(classifier):
    d = classifier.classify(line("(1)辦理性別平等專案小組委員出席費等90千元。", amount="90", unit="千元"))
    assert d.status == "matched" and d.gender_amount == Decimal(90) and not d.subitems


def test_total_rows_are_excluded(classifier):
    d = classifier.classify(LineItem(description="性別意識培力課程小計", amount=Decimal(5), kind="total"))
    assert d.status == "excluded" and d.counted == 0


def test_missing_amount_needs_review(classifier):
    d = classifier.classify(line("哺集乳室設備", amount=None))
    assert d.status == "review" and any("金額" in r for r in d.reasons)


def test_negative_amount_is_kept_exact(classifier):
    d = classifier.classify(line("哺集乳室設備減列", amount="-2500"))
    assert d.gender_amount == Decimal(-1000)


def test_classify_all_keeps_order_and_count(classifier):
    lines = [line("性平小組出席費"), line("文具"), LineItem(description="合計", kind="total")]
    decisions = list(classifier.classify_all(lines))
    assert [d.status for d in decisions] == ["matched", "unmatched", "excluded"]


def test_heading_context_counts_as_description(classifier):
    d = classifier.classify(line("本年度所需施工費。", context="02 哺集乳室新建工程"))
    assert d.status == "matched" and d.category == "lactation-room"
    assert [e.field for e in d.evidence] == ["context"]
    assert "所屬案名含「哺集乳室」" in d.explain()
    assert classifier.classify(line("本年度所需施工費。", context="03 停車場整修工程")).status == "unmatched"
