"""Classes of phrasing (issue 11): context above the line, account splits, stated shares, figures that
are not this year's item, purposes joined in one item, false friends. Fixtures are our own wording."""

from __future__ import annotations

from decimal import Decimal

import pytest

from budget.engine.classifier import Classifier
from budget.engine.phrasing import change_text, is_removal, this_year_text, year_figure
from budget.engine.subitems import item_amount
from budget.models import LineItem
from budget.rules import parse_rules

RULES = """\
schema = 1
name = "措辭測試"
false_friends = ["財產檢"]

[[category]]
id = "violence"
name = "性別暴力防治"
official_class = 4
any = ["家庭暴力", "性侵害"]

[[category]]
id = "stats"
name = "性別統計"
official_class = 3
any = ["性別統計", "性別圖像"]

[[category]]
id = "training"
name = "性別培力"
official_class = 3
all = [["性別平等"], ["培力", "課程", "會議"]]

[[category]]
id = "maternal"
name = "生育支持"
official_class = 2
any = ["產檢", "產前檢查"]

[[category]]
id = "welfare"
name = "婦女福利"
official_class = 2
any = ["婦女福利"]

[[category]]
id = "fallback"
name = "其他（待確認）"
official_class = 5
priority = -10
review = true
any = ["性別"]
"""


@pytest.fixture(scope="module")
def engine() -> Classifier:
    return Classifier(parse_rules(RULES.encode()))


def line(text: str, amount: int | str | None = 1000, unit: str = "千元", **kw) -> LineItem:
    return LineItem(description=text, amount=None if amount is None else Decimal(str(amount)), unit=unit, **kw)


# --- 1. context above the line ----------------------------------------------------------------------

def test_branch_named_for_a_measure_decides_a_line_with_no_description(engine):
    d = engine.classify(line("", 640, branch="05 家庭暴力被害人保護"))
    assert (d.status, d.category, d.gender_amount) == ("matched", "violence", Decimal(640))
    assert d.evidence[0].field == "branch"


def test_plan_name_overrides_a_fallback_review_but_not_a_real_decision(engine):
    d = engine.classify(line("性別業務綜合規劃經費", 300, plan="4100 性侵害防治業務"))
    assert (d.status, d.category) == ("matched", "violence")
    own = engine.classify(line("編印性別圖像", 90, plan="4100 性侵害防治業務"))
    assert own.category == "stats"


def test_a_name_joining_other_work_is_no_context(engine):
    d = engine.classify(line("辦公室影印機租金", 50, branch="02 一般行政及婦女福利業務"))
    assert d.status == "unmatched"


# --- 2. one paragraph over many accounts ---------------------------------------------------------------

SHARED = ("1.辦理資訊系統維運，計列300千元（資訊服務費300千元）。2.召開性別平等推動會議及培力課程，"
          "計列90千元（按日按件計資酬金60千元、一般事務費30千元）。3.辦理檔案管理，計列70千元。")


def test_account_split_counts_the_part_of_this_lines_account(engine):
    d = engine.classify(line(SHARED, 30, account="2054 一般事務費"))
    assert (d.status, d.category, d.gender_amount) == ("matched", "training", Decimal(30))


def test_account_split_leaves_out_a_line_whose_account_is_not_named(engine):
    d = engine.classify(line(SHARED, 300, account="2018 資訊服務費"))
    assert d.status in ("unmatched", "review") and d.gender_amount == 0
    assert d.status == "unmatched"


# --- 3. a stated gender share ----------------------------------------------------------------------------

def test_stated_share_in_brackets_is_counted_not_the_whole(engine):
    d = engine.classify(line("出版年報及各類專刊經費800千元（含性別統計專刊120千元）", 800))
    assert (d.status, d.gender_amount) == ("matched", Decimal(120))


# --- 4. figures that are not this year's item --------------------------------------------------------------

def test_change_clause_is_not_part_of_the_item():
    text = "推展社區服務經費5,000千元，較上年度增列辦理家庭暴力宣導等經費200千元。"
    assert "家庭暴力" not in this_year_text(text)
    assert "家庭暴力" in change_text(text)


def test_purpose_named_only_in_a_change_clause_goes_to_review_with_no_amount(engine):
    d = engine.classify(line("推展社區服務經費5,000千元，較上年度增列辦理家庭暴力宣導等經費200千元。", 5000))
    assert (d.status, d.category, d.gender_amount) == ("review", "violence", Decimal(0))


def test_new_item_named_in_a_change_clause_is_this_years_share(engine):
    d = engine.classify(line("推動勞動條件檢查經費900千元，較上年度新增孕婦產前檢查假補助經費600千元。", 900))
    assert (d.status, d.category, d.gender_amount) == ("matched", "maternal", Decimal(600))


def test_multi_year_programme_counts_this_years_figure(engine):
    text = "建置性別統計平臺計畫總經費40,000千元，分4年辦理，以前年度已編列25,000千元，本年度續編第4年經費15,000千元"
    assert year_figure(text, "千元") == Decimal(15000)
    d = engine.classify(line(text, 40000))
    assert (d.status, d.gender_amount) == ("matched", Decimal(15000))


def test_account_part_of_a_programme():
    text = "辦公廳舍改建計畫總經費9,000千元，本年度續編第2年經費3,000千元，本科目編列1,200千元"
    assert year_figure(text, "千元") == Decimal(1200)


def test_removal_of_last_years_budget_funds_nothing(engine):
    text = "上年度家庭暴力防治研究預算業已編竣，所列800千元如數減列。"
    assert is_removal(text)
    d = engine.classify(line(text, 800))
    assert d.status == "unmatched" and d.rule == "removal"


def test_sub_items_use_this_years_figures_and_skip_removals(engine):
    text = ("推展福利服務經費1,500千元，包括：(1)辦理社區照顧經費1,000千元，較上年度減列200千元。"
            "(2)婦女福利服務計畫總經費2,000千元，分4年辦理，本年度續編第2年經費500千元。"
            "(3)上年度老人福利研究預算業已編竣，所列300千元如數減列。")
    assert item_amount("(2)婦女福利服務計畫總經費2,000千元，分4年辦理，本年度續編第2年經費500千元。", "千元") == 500
    d = engine.classify(line(text, 1500))
    assert (d.status, d.category, d.gender_amount) == ("matched", "welfare", Decimal(500))


# --- 5. a measure among other purposes -----------------------------------------------------------------------

def test_measure_joined_to_another_programme_is_partial(engine):
    d = engine.classify(line("推展婦女福利及推動社區治安業務經費2,000千元", 2000))
    assert d.status == "review" and d.category == "welfare"


def test_parts_of_one_measure_joined_by_and_are_not_other_purposes(engine):
    d = engine.classify(line("委託辦理家庭暴力被害人庇護及追蹤輔導", 2000))
    assert d.status == "matched"


# --- 6. false friends ------------------------------------------------------------------------------------------

def test_false_friend_hides_the_term_it_contains(engine):
    assert engine.classify(line("辦理財產檢查及盤點作業", 100)).status == "unmatched"
    assert engine.classify(line("補助孕婦產檢交通費", 100)).category == "maternal"


def test_a_price_per_unit_is_not_a_stated_share(engine):
    d = engine.classify(line("性別統計專題分析委託審查，每件審查費3千元", 60))
    assert (d.status, d.gender_amount) == ("matched", Decimal(60))


def test_this_year_alone_is_not_a_programme_figure(engine):
    assert year_figure("本年度編列性別圖像印製費80千元", "千元") is None


def test_cost_items_with_amounts_are_not_an_account_split(engine):
    d = engine.classify(line("性別平等培力課程（講座鐘點費8千元、場地費2千元）", 10, account="2036 按日按件計資酬金"))
    assert (d.status, d.gender_amount) == ("matched", Decimal(10))


def test_a_suggested_amount_never_exceeds_the_lines_amount(engine):
    d = engine.classify(line("推展福利業務，包括：(1)婦女福利服務經費900千元。(2)一般行政經費300千元。", 500))
    assert d.status == "review" and d.gender_amount == Decimal(500)


def test_a_line_under_a_gender_branch_with_no_amount_goes_to_review(engine):
    d = engine.classify(line("", None, branch="05 家庭暴力被害人保護"))
    assert (d.status, d.category) == ("review", "violence")
