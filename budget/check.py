"""Checking single lines and rules-file examples: what `check` and `rules test` are built on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .engine.classifier import Classifier
from .models import Decision, LineItem
from .money import AmountError, canonical_unit, format_amount, format_thousands, parse_amount
from .normalize import split_account
from .problems import BudgetError, Problem
from .rules import Category, Example, RuleSet

if TYPE_CHECKING:  # the reader is imported only when a file is read (`check "…"` starts faster)
    from .exports.options import ReadOptions


@dataclass
class CheckResult:
    """A line and the decision about it."""

    line: LineItem
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `check --json`."""
        d = self.decision.to_dict(self.line)
        return {
            "status": d["status"], "category": d["category"], "share_percent": d["share_percent"],
            "amount": d["amount"], "gender_amount": d["gender_amount"], "unit": d["unit"],
            "rule": d["rule"], "evidence": d["evidence"], "explanation": self.decision.explain(),
            "also_matched": d["also_matched"], "reasons": d["reasons"], "subitems": d["subitems"],
            "description": self.line.description,
            "account": f"{self.line.account_code} {self.line.account}".strip(),
            **({"file": self.line.file} if self.line.file else {}),
            **({"sheet": self.line.sheet} if self.line.sheet else {}),
            **({"row": self.line.row} if self.line.row is not None else {}),
        }

    @staticmethod
    def fmt(value: Decimal) -> str:
        return format_amount(value)

    @staticmethod
    def fmt_money(value: Decimal) -> str:
        return format_thousands(value)


def _unit(unit: str | None, rules: RuleSet, where: dict[str, Any]) -> str:
    if not unit:
        return rules.unit
    canonical = canonical_unit(unit)
    if canonical is None:
        raise BudgetError.one("unit-unknown", f"不認得的金額單位「{unit}」（可用：元、千元、萬元）", "unknown unit", **where)
    return canonical


def make_line(text: str, *, account: str = "", amount: Any = None, unit: str | None = None,
              plan: str = "", branch: str = "", year: int | None = None, rules: RuleSet,
              where: dict[str, Any] | None = None) -> LineItem:
    """A LineItem from loose values (command-line options, a CSV row, a rules example)."""
    where = where or {}
    try:
        value, text_unit = parse_amount(amount)
    except AmountError as exc:
        raise BudgetError.one("amount-unreadable", str(exc), "amount cannot be read as money",
                              column="金額", **where) from exc
    code, name = split_account(account)
    return LineItem(description=text, amount=value, unit=text_unit or _unit(unit, rules, where), plan=plan,
                    branch=branch, account=name, account_code=code, year=year, row=where.get("row"),
                    file=where.get("file", ""))


def lines_from_args(text: str, **kwargs: Any) -> LineItem:
    """The line that `check "…" --account … --amount …` describes; a usage error when the text is blank."""
    if not text.strip():
        raise BudgetError.one("usage", "說明文字是空的", "the description is empty",
                              hint='例如 gender-budget check "性別意識培力課程講座鐘點費"')
    return make_line(text, **kwargs)


def lines_from_exports(paths: Sequence[str | Path], rules: RuleSet,
                       options: ReadOptions | None = None) -> tuple[list[LineItem], list[Problem]]:
    """The lines of budget exports (`check --file`), read like `classify` reads them: ``(lines, problems)``.

    Any export format works (CSV in UTF-8 or Big5, .xlsx, .xls, .ods); the header needs a description
    and an amount column (說明、金額… or ``--map``). Raises :class:`BudgetError` when a file cannot be used.
    """
    from .exports import read_exports
    from .exports.options import ReadOptions

    read = read_exports(paths, **(options or ReadOptions()).reader_arguments(rules))
    return list(read.lines), list(read.problems)


def check_lines(lines: list[LineItem], rules: RuleSet) -> list[CheckResult]:
    """Decide each line."""
    classifier = Classifier(rules)
    return [CheckResult(line, classifier.classify(line)) for line in lines]


# --- rules-file examples -----------------------------------------------------------------------

@dataclass
class ExampleOutcome:
    """The result of one inline example of a rules file."""

    category: str
    index: int
    text: str
    expect: str
    got: str
    status: str
    passed: bool
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def example_line(example: Example, rules: RuleSet) -> LineItem:
    """The LineItem an inline example describes."""
    return make_line(example.text, account=example.account, amount=example.amount, unit=example.unit,
                     plan=example.plan, branch=example.branch, year=example.year, rules=rules)


def judge_example(category: Category, index: int, example: Example, decision: Decision) -> ExampleOutcome:
    """Compare a decision with what the example expects."""
    got = decision.category or "none"
    if decision.status == "unmatched":
        got = "none"
    failures = []
    if got != example.expect:
        failures.append(f"預期類別 {example.expect}，實際 {got}（{decision.status}）")
    if example.status and decision.status != example.status:
        failures.append(f"預期判定 {example.status}，實際 {decision.status}")
    if example.gender_amount is not None and decision.gender_amount != example.gender_amount:
        failures.append(f"預期性別預算數 {format_amount(example.gender_amount)}，實際 {format_amount(decision.gender_amount)}")
    why = "；".join(failures)
    if failures and decision.explain():
        why += f"（依據：{decision.explain()}）"
    return ExampleOutcome(category.id, index, example.text, example.expect, got, decision.status,
                          not failures, why)


def run_examples(rules: RuleSet) -> list[ExampleOutcome]:
    """Run every inline example of every category."""
    classifier = Classifier(rules)
    outcomes = []
    for category in rules.categories:
        for i, example in enumerate(category.example):
            decision = classifier.classify(example_line(example, rules))
            outcomes.append(judge_example(category, i, example, decision))
    return outcomes


def describe_conditions(category: Category) -> str:
    """A category's conditions in one line, for tables."""
    parts = []
    if category.any:
        parts.append("任一：" + "、".join(category.any))
    for group in category.all:
        parts.append("且含：" + "/".join(group))
    if category.none:
        parts.append("排除：" + "、".join(category.none))
    if category.codes:
        parts.append("科目：" + "、".join(category.codes))
    if category.regex:
        parts.append("樣式：" + " ".join(category.regex))
    for field, cond in category.field_conditions().items():
        parts.append(f"{field}：" + "、".join(cond.any + [t for g in cond.all for t in g]))
    return "；".join(parts)


def rules_summary(rules: RuleSet) -> dict[str, Any]:
    """The rules file as JSON-ready data (`rules show --json`)."""
    return {
        "name": rules.name, "path": rules.path, "sha256": rules.sha256, "unit": rules.unit,
        "match_fields": list(rules.match_fields),
        "categories": [
            {"id": c.id, "name": c.name, "name_en": c.name_en, "official_class": c.official_class,
             "goal": c.goal, "basis": c.basis, "share_percent": format_amount(Decimal(c.share_percent)),
             "priority": c.priority, "years": c.years, "any": c.any, "all": c.all, "none": c.none,
             "codes": c.codes, "regex": c.regex, "shared_with": c.shared_with,
             "conditions": describe_conditions(c),
             "examples": [e.to_dict() for e in c.example]}
            for c in rules.categories
        ],
    }
