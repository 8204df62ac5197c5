"""Suggestions from the office's own history: a review with the similar line as evidence, never counted."""

from __future__ import annotations

from decimal import Decimal

from budget.engine.classifier import Classifier
from budget.engine.history import past_decisions, suggest_from_history
from budget.models import Decision, LineItem
from budget.rules import parse_rules

RULES = parse_rules("""\
schema = 1
name = "歷史測試"

[[category]]
id = "welfare"
name = "婦女福利"
official_class = 2
any = ["婦女福利"]
""".encode())


def item(text: str, amount: int, year: int = 115) -> LineItem:
    return LineItem(description=text, amount=Decimal(amount), unit="元", year=year)


PAST = [
    (item("補助單親媽媽職業訓練期間臨時托育費用", 40000, 114), Decision("matched", category="welfare",
                                                       gender_amount=Decimal(40000))),
    (item("辦公室影印機租賃及碳粉費用", 30000, 114), Decision("unmatched")),
]


def test_unmatched_line_like_a_past_gender_line_becomes_a_review_with_evidence():
    lines = [item("補助單親媽媽職業訓練期間臨時托育費", 50000)]
    decisions = Classifier(RULES).classify_all(lines)
    out = suggest_from_history(lines, list(decisions), PAST, RULES)
    d = out[0]
    assert d.status == "review" and d.category == "welfare" and d.rule == "history"
    assert d.gender_amount == Decimal(50000) and d.counted == 0
    assert "114年度" in d.reasons[0] and "單親媽媽" in d.reasons[0]


def test_agreement_on_not_gender_changes_nothing_and_dissimilar_lines_are_left_alone():
    lines = [item("辦公室影印機租賃及碳粉費", 28000), item("道路側溝清疏工程", 900000)]
    decisions = list(Classifier(RULES).classify_all(lines))
    assert suggest_from_history(lines, decisions, PAST, RULES) == decisions


def test_a_review_gets_the_past_decision_as_a_reason_and_stays_a_review():
    lines = [item("婦女福利及社區治安業務", 10000)]
    review = Decision("review", category="welfare", gender_amount=Decimal(10000), reasons=["合編"])
    past = past_decisions([(item("婦女福利及社區治安業務經費", 9000, 113),
                            Decision("matched", category="welfare", gender_amount=Decimal(4500)))])
    d = suggest_from_history(lines, [review], past, RULES)[0]
    assert d.status == "review" and d.reasons[0] == "合編" and "113年度" in d.reasons[1] and "50" in d.reasons[1]


def test_a_decision_a_reviewer_took_this_year_is_not_touched():
    lines = [item("補助單親媽媽職業訓練期間臨時托育費", 50000)]
    carried = Decision("unmatched", review="none")
    assert suggest_from_history(lines, [carried], PAST, RULES)[0] is carried


def test_classify_reviewed_suggests_from_last_years_reviews(tmp_path):
    """`classify --reviewed`: a line like one a reviewer decided last year, but not the same line, is suggested."""
    from budget.pipeline import ReviewCarrier
    from test_review import RULES_TOML, line, write_annotated

    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    last = write_annotated(tmp_path / "115.性別預算.xlsx", [
        (line("委託辦理單親家長親職成長團體", "60000", row=2, year=115), Decision("unmatched"),
         "gender-training 50%", "單親家長團體，一半屬性別"),
    ])
    lines = [line("委託辦理單親家長親職成長團體及講座", "80000", row=2), line("電腦設備汰換", "90000", row=3)]
    decisions = [Classifier(rules).classify(x) for x in lines]
    assert [d.status for d in decisions] == ["unmatched", "unmatched"]
    out, _problems = ReviewCarrier(str(last), rules)(lines, decisions)
    assert out[1].status == "unmatched"
    assert out[0].status == "review" and out[0].category == "gender-training" and out[0].counted == 0
    assert out[0].gender_amount == Decimal(40000) and "115年度" in out[0].reasons[0]
