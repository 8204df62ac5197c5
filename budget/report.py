"""The annual gender budget report's figures: items, totals by class/category/account, year-over-year changes.

All sums are exact Decimal in 元; amounts are converted to the report's unit and rounded half up
only for display, with one note per year (:data:`ROUNDING_NOTE`) when rounded rows do not add up to a
rounded total; the note's ``differences`` say where, for machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence

from .models import EXCLUDED, MATCHED, OFFICIAL_CLASSES, REVIEW, TOTAL, Decision, LineItem
from .money import UNITS, convert, format_amount, format_thousands, round_half_up
from .normalize import Remembered, fold
from .problems import WARNING, BudgetError, Problem
from .rules import REPORT_COLUMN_KEYS, ReportSettings, RuleSet
from .wording import estimate_of, line_detail, review_wording  # noqa: F401  (part of the report's face)

#: The one rounding note a year gets, wherever its rounded rows and totals differ.
ROUNDING_NOTE = "因四捨五入，各項加總與合計或有差異"

#: Default zh-TW titles of the report columns; ``{unit}`` becomes the report's unit.
COLUMN_TITLES: dict[str, str] = {
    "class": "類別",
    "category": "類別代碼",
    "category_name": "性別預算項目",
    "plan": "工作計畫",
    "branch": "分支計畫",
    "plan_branch": "工作計畫／分支計畫",
    "item": "項目",
    "accounts": "預算科目",
    "amount": "性別預算數（{unit}）",
    "plan_budget": "工作計畫預算數（{unit}）",
    "plan_share": "占工作計畫預算比率（%）",
    "estimate": "計算方式",
    "goal": "性別目標",
    "basis": "依據",
    "evidence": "判定依據／說明",
    "descriptions": "預算說明",
    "explanation": "說明",
    "lines": "明細筆數",
    "review_note": "覆核說明",
}
assert set(COLUMN_TITLES) == set(REPORT_COLUMN_KEYS)

#: The columns of 性別預算編列情形表 when the rules file's ``[report]`` table names none.
DEFAULT_COLUMNS: tuple[str, ...] = ("class", "item", "goal", "accounts", "amount", "explanation")
#: Columns holding amounts in the report's unit, percentages, and counts (the rest are text).
AMOUNT_COLUMNS = frozenset({"amount", "plan_budget"})
PERCENT_COLUMNS = frozenset({"plan_share"})
COUNT_COLUMNS = frozenset({"lines"})

PERCENT_QUANTUM = Decimal("0.01")
UNCLASSIFIED = 0  # class of a category the rules file no longer knows and the workbook did not say


@dataclass(frozen=True)
class ReportColumn:
    """A column of 性別預算編列情形表 as it will be written."""

    key: str
    title: str


def report_columns(settings: ReportSettings, unit: str) -> list[ReportColumn]:
    """The report's columns: the rules file's ``[report] columns`` or :data:`DEFAULT_COLUMNS`."""
    chosen = [(c.key, c.title) for c in settings.columns] or [(k, "") for k in DEFAULT_COLUMNS]
    return [ReportColumn(key, (title or COLUMN_TITLES[key]).replace("{unit}", unit)) for key, title in chosen]


# --- inputs ------------------------------------------------------------------------------------

@dataclass
class YearInput:
    """One input of the report: all lines of one year, with their final decisions."""

    path: str
    kind: str  # "annotated" | "export"
    year: int
    lines: list[LineItem]
    decisions: list[Decision]
    explanations: list[str]
    class_hint: dict[str, int] = field(default_factory=dict)  # category -> class, from the workbook
    name_hint: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)  # an annotated workbook's rows (budget.outputs.readback)


def year_of(lines: Sequence[LineItem], label: str, title_years: Sequence[int], need_year: bool = True) -> int:
    """The one year ``lines`` (and their sheets' titles) state; 0 when none and ``need_year`` is false."""
    found = sorted({line.year for line in lines if line.year is not None} | set(title_years))
    if len(found) == 1:
        return found[0]
    if not found:
        if not need_year:
            return 0
        raise BudgetError.one("report-no-year", "找不到年度（年度欄或標題列），無法編入報告",
                              "no year found in the data", file=label, hint="請以 --year 指定民國年度，例如 --year 116")
    raise BudgetError.one("report-several-years", f"同一個輸入含多個年度：{'、'.join(map(str, found))}",
                          "one input holds several years", file=label,
                          hint="每個年度請分開成一個檔案，或以 --year 指定")


# --- figures -----------------------------------------------------------------------------------

@dataclass
class ReportItem:
    """One gender budget item: a category within one 工作計畫/分支計畫, in one year (amounts in 元)."""

    year: int
    official_class: int
    category: str
    category_name: str
    plan: str
    branch: str
    amount: Decimal = Decimal(0)
    plan_budget: Decimal = Decimal(0)
    accounts: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    estimates: list[str] = field(default_factory=list)
    review_notes: list[str] = field(default_factory=list)
    #: One entry per counted line: its description and, for a reviewed line, the decision in words.
    details: list[str] = field(default_factory=list)
    goal: str = ""
    basis: str = ""
    lines: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes it the same item in another year: category, plan, branch."""
        return (self.category, fold(self.plan), fold(self.branch))

    @property
    def title(self) -> str:
        """The item in words: 工作計畫／分支計畫／the category's name."""
        return "／".join(p for p in (self.plan, self.branch, self.category_name) if p)

    @property
    def plan_share(self) -> Decimal | None:
        """The item's share of its 工作計畫's budget in percent (2 decimals), None when the plan has none."""
        if not self.plan_budget:
            return None
        return round_half_up(self.amount * 100 / self.plan_budget, PERCENT_QUANTUM)


@dataclass
class YearFigures:
    """One year's figures, exact in 元."""

    year: int
    source: str
    lines: int = 0
    budget_total: Decimal = Decimal(0)
    gender_total: Decimal = Decimal(0)
    by_class: dict[int, Decimal] = field(default_factory=dict)
    by_category: dict[str, Decimal] = field(default_factory=dict)
    by_account: dict[str, Decimal] = field(default_factory=dict)
    pending_lines: int = 0
    pending_amount: Decimal = Decimal(0)
    items: list[ReportItem] = field(default_factory=list)

    @property
    def share(self) -> Decimal | None:
        """Gender budget as a percentage of the whole budget (2 decimals)."""
        if not self.budget_total:
            return None
        return round_half_up(self.gender_total * 100 / self.budget_total, PERCENT_QUANTUM)


@dataclass
class Note:
    """A note under a table: where rounded rows do not add up, lines still awaiting review…"""

    year: int | None
    scope: str
    message: str
    #: For the rounding note: each table (scope) whose rounded rows differ from its rounded total.
    differences: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)  # (scope, rows_sum, total)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"year": None if self.year is None else str(self.year), "scope": self.scope,
                               "message": self.message}
        if self.differences:
            out["differences"] = [{"scope": scope, "rows_sum": format_amount(rows), "total": format_amount(total),
                                   "difference": format_amount(total - rows)}
                                  for scope, rows, total in self.differences]
        return out


@dataclass
class Change:
    """A year-over-year change of a class, a category, the total, or an item that appeared/disappeared."""

    level: str  # total | class | category | item
    key: str
    name: str
    from_year: int
    to_year: int
    before: Decimal  # 元, exact
    after: Decimal

    @property
    def status(self) -> str:
        if not self.before and self.after:
            return "new"
        if self.before and not self.after:
            return "disappeared"
        return "increased" if self.after > self.before else "decreased" if self.after < self.before else "unchanged"

    @property
    def percent(self) -> Decimal | None:
        """The change in percent of the earlier year (from exact amounts, 2 decimals)."""
        if not self.before:
            return None
        return round_half_up((self.after - self.before) * 100 / abs(self.before), PERCENT_QUANTUM)


@dataclass
class Report:
    """The whole report: figures of every year, the report year's items, changes and notes."""

    unit: str
    agency: str
    report_year: int
    years: list[YearFigures]  # ascending by year
    columns: list[ReportColumn]
    categories: dict[str, tuple[str, int, str, str]]  # id -> (name, class, goal, basis)
    changes: list[Change] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)  # the signature row, left to right

    def in_unit(self, yuan: Decimal) -> Decimal:
        """An exact amount in 元 expressed in the report's unit, rounded half up to a whole unit."""
        return round_half_up(convert(yuan, "元", self.unit))

    def exact_in_unit(self, yuan: Decimal) -> Decimal:
        return convert(yuan, "元", self.unit)

    def year(self, year: int) -> YearFigures:
        return next(y for y in self.years if y.year == year)

    @property
    def main(self) -> YearFigures:
        """The report year's figures."""
        return self.year(self.report_year)

    def items_by_class(self) -> list[tuple[int, list[ReportItem]]]:
        """The report year's items grouped by official class (1..5), classes without items left out."""
        groups: dict[int, list[ReportItem]] = {}
        for item in self.main.items:
            groups.setdefault(item.official_class, []).append(item)
        return sorted(groups.items())

    def classes(self) -> list[tuple[int, list[ReportItem]]]:
        """All five official classes in order, each with the report year's items (empty where none);
        a class the rules no longer know (0) follows when it has items."""
        groups = dict(self.items_by_class())
        numbers = sorted(set(OFFICIAL_CLASSES) | set(groups))
        return [(k, groups.get(k, [])) for k in numbers if k in OFFICIAL_CLASSES or groups.get(k)]

    def rounding_note(self, year: int) -> Note | None:
        """The year's one rounding note, if its rounded rows and totals differ anywhere."""
        return next((n for n in self.notes if n.year == year and n.scope == "四捨五入"), None)

    def class_name(self, number: int) -> str:
        return OFFICIAL_CLASSES.get(number, "未分類")

    def category_name(self, category: str) -> str:
        return self.categories.get(category, (category, UNCLASSIFIED, "", ""))[0]

    def pending(self) -> int:
        """Lines of any year still awaiting review (not counted)."""
        return sum(y.pending_lines for y in self.years)

    def column_value(self, item: ReportItem, key: str) -> Any:
        """The value of one report column for ``item``: Decimal for amounts/percentages, int, or text."""
        if key == "class":
            return self.class_name(item.official_class)
        if key == "category":
            return item.category
        if key == "category_name":
            return item.category_name
        if key == "plan":
            return item.plan
        if key == "branch":
            return item.branch
        if key == "plan_branch":
            return "／".join(p for p in (item.plan, item.branch) if p)
        if key == "item":
            return item.title
        if key == "explanation":
            return "\n".join(item.details)
        if key == "accounts":
            return "、".join(item.accounts)
        if key == "amount":
            return self.in_unit(item.amount)
        if key == "plan_budget":
            return self.in_unit(item.plan_budget)
        if key == "plan_share":
            return item.plan_share
        if key == "estimate":
            return "；".join(item.estimates)
        if key == "goal":
            return item.goal
        if key == "basis":
            return item.basis
        if key == "evidence":
            return "；".join(item.evidence)
        if key == "descriptions":
            return "\n".join(item.descriptions)
        if key == "lines":
            return item.lines
        if key == "review_note":
            return "；".join(item.review_notes)
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The report's figures as JSON-ready data (amounts as decimal strings in the report's unit)."""
        fmt = lambda yuan: format_amount(self.in_unit(yuan))  # noqa: E731
        years = {}
        for y in self.years:
            years[str(y.year)] = {
                "source": y.source,
                "lines": y.lines,
                "budget_total": fmt(y.budget_total),
                "gender_total": fmt(y.gender_total),
                "gender_share_percent": None if y.share is None else format_amount(y.share),
                "by_category": {k: fmt(v) for k, v in y.by_category.items()},
                "by_class": {str(k): fmt(v) for k, v in sorted(y.by_class.items())},
                "by_account": {k: fmt(v) for k, v in y.by_account.items()},
                "pending_review": {"lines": y.pending_lines, "amount": fmt(y.pending_amount)},
            }
        items = []
        for item in self.main.items:
            items.append({
                "year": str(item.year), "class": item.official_class, "class_name": self.class_name(item.official_class),
                "category": item.category, "category_name": item.category_name, "plan": item.plan,
                "branch": item.branch, "accounts": list(item.accounts), "amount": fmt(item.amount),
                "amount_exact": format_amount(self.exact_in_unit(item.amount)),
                "plan_budget": fmt(item.plan_budget),
                "plan_share_percent": None if item.plan_share is None else format_amount(item.plan_share),
                "estimate": "；".join(item.estimates), "goal": item.goal, "basis": item.basis,
                "evidence": list(item.evidence), "descriptions": list(item.descriptions), "lines": item.lines,
                "review_notes": list(item.review_notes), "item": item.title, "details": list(item.details),
            })
        changes = []
        for c in self.changes:
            changes.append({
                "level": c.level, "key": c.key, "name": c.name, "from_year": str(c.from_year),
                "to_year": str(c.to_year), "from": fmt(c.before), "to": fmt(c.after),
                "change": format_amount(self.in_unit(c.after) - self.in_unit(c.before)),
                "change_percent": None if c.percent is None else format_amount(c.percent), "status": c.status,
            })
        return {
            "unit": self.unit, "agency": self.agency, "report_year": str(self.report_year),
            "years": years, "items": items, "changes": changes,
            "columns": [{"key": c.key, "title": c.title} for c in self.columns],
            "notes": [n.to_dict() for n in self.notes],
            "problems": [p.to_dict() for p in self.problems],
            "sources": self.sources,
            "signatures": list(self.signatures),
        }


def account_label(line: LineItem) -> str:
    """``2036 按日按件計資酬金`` (code and name as far as known)."""
    return " ".join(p for p in (line.account_code, line.account) if p) or "（未列科目）"


def build_report(inputs: Sequence[YearInput], rules: RuleSet, *, unit: str | None = None,
                 agency: str | None = None) -> Report:
    """Compute the report from inputs whose years differ; the first input's year is the report year."""
    if not inputs:
        raise BudgetError.one("usage", "請至少給一個輸入檔", "give at least one input")
    unit = unit or rules.report.unit
    if unit not in UNITS:
        raise BudgetError.one("unit-unknown", f"不認得的金額單位「{unit}」（可用：元、千元、萬元）", "unknown unit")
    categories = {c.id: (c.name, c.official_class, c.goal, c.basis) for c in rules.categories}
    problems: list[Problem] = []
    for inp in inputs:
        problems.extend(inp.problems)
        for cat in {d.category for d in inp.decisions if d.status == MATCHED and d.category} - set(categories):
            klass = inp.class_hint.get(cat, UNCLASSIFIED)
            categories[cat] = (inp.name_hint.get(cat, cat), klass, "", "")
            problems.append(Problem("report-unknown-category",
                                    f"類別代碼「{cat}」不在規則檔中，以工作簿所載名稱與分類列入",
                                    "category not in the rules file", WARNING, file=inp.path))
    figures = sorted((_figures(inp, categories, rules) for inp in inputs), key=lambda f: f.year)
    agencies = sorted({line.agency for inp in inputs for line in inp.lines if line.agency})
    report = Report(
        unit=unit,
        agency=agency or rules.report.agency or (agencies[0] if len(agencies) == 1 else ""),
        report_year=inputs[0].year, years=figures, columns=report_columns(rules.report, unit),
        categories=categories, problems=problems, signatures=list(rules.report.signatures),
        sources=[{"path": inp.path, "kind": inp.kind, "year": str(inp.year), "lines": len(inp.lines)}
                 for inp in inputs],
    )
    report.changes = _changes(report)
    report.notes = _notes(report)
    return report


def _figures(inp: YearInput, categories: dict[str, tuple[str, int, str, str]], rules: RuleSet) -> YearFigures:
    fig = YearFigures(inp.year, inp.path)
    order = {cid: i for i, cid in enumerate(categories)}
    plan_budget: dict[str, Decimal] = {}
    items: dict[tuple[str, str, str], ReportItem] = {}
    folded = Remembered(fold)  # each plan's and branch's fold, once (they repeat on every line of theirs)

    for line, decision, explanation in zip(inp.lines, inp.decisions, inp.explanations):
        if line.kind == TOTAL or decision.status == EXCLUDED or line.amount is None:
            continue
        fig.lines += 1
        amount = convert(line.amount, line.unit, "元")
        fig.budget_total += amount
        plan = folded[line.plan]
        plan_budget[plan] = plan_budget.get(plan, Decimal(0)) + amount
        if decision.status == REVIEW:
            fig.pending_lines += 1
            fig.pending_amount += convert(decision.gender_amount, line.unit, "元")
            continue
        if decision.status != MATCHED or not decision.category:
            continue
        gender = convert(decision.gender_amount, line.unit, "元")
        name, klass, goal, basis = categories[decision.category]
        fig.gender_total += gender
        fig.by_class[klass] = fig.by_class.get(klass, Decimal(0)) + gender
        fig.by_category[decision.category] = fig.by_category.get(decision.category, Decimal(0)) + gender
        label = account_label(line)
        fig.by_account[label] = fig.by_account.get(label, Decimal(0)) + gender
        key = (decision.category, plan, folded[line.branch])
        item = items.get(key)
        if item is None:
            item = items[key] = ReportItem(inp.year, klass, decision.category, name, line.plan, line.branch,
                                           goal=goal, basis=basis)
        item.amount += gender
        item.lines += 1
        _add(item.accounts, label)
        _add(item.descriptions, line.description)
        _add(item.evidence, explanation)
        _add(item.estimates, estimate_of(line, decision, rules))
        _add(item.details, line_detail(line, decision, rules))
        if decision.review_note:
            _add(item.review_notes, decision.review_note)
    for item in items.values():
        item.plan_budget = plan_budget.get(fold(item.plan), Decimal(0))
    fig.items = sorted(items.values(), key=lambda i: (i.official_class, order.get(i.category, len(order)),
                                                      fold(i.plan), fold(i.branch)))
    fig.by_category = dict(sorted(fig.by_category.items(), key=lambda kv: order.get(kv[0], len(order))))
    fig.by_account = dict(sorted(fig.by_account.items()))
    return fig


def _add(values: list[str], value: str) -> None:
    if value and value not in values:
        values.append(value)


def _changes(report: Report) -> list[Change]:
    changes: list[Change] = []
    for before, after in zip(report.years, report.years[1:]):
        a, b = before.year, after.year
        changes.append(Change("total", "gender_total", "性別預算合計", a, b, before.gender_total, after.gender_total))
        for klass in sorted(set(before.by_class) | set(after.by_class)):
            changes.append(Change("class", str(klass), report.class_name(klass), a, b,
                                  before.by_class.get(klass, Decimal(0)), after.by_class.get(klass, Decimal(0))))
        ids = list(dict.fromkeys([*report.categories, *before.by_category, *after.by_category]))
        for cid in ids:
            if cid in before.by_category or cid in after.by_category:
                changes.append(Change("category", cid, report.category_name(cid), a, b,
                                      before.by_category.get(cid, Decimal(0)), after.by_category.get(cid, Decimal(0))))
        old = {i.key: i for i in before.items}
        new = {i.key: i for i in after.items}
        for key, item in new.items():
            if key not in old:
                changes.append(Change("item", _item_key(item), _item_name(item), a, b, Decimal(0), item.amount))
        for key, item in old.items():
            if key not in new:
                changes.append(Change("item", _item_key(item), _item_name(item), a, b, item.amount, Decimal(0)))
    return changes


def _item_key(item: ReportItem) -> str:
    return " / ".join((item.category, item.plan, item.branch))


def _item_name(item: ReportItem) -> str:
    return "／".join(p for p in (item.category_name, item.plan, item.branch) if p)


def _difference(report: Report, scope: str, parts: Sequence[Decimal], total: Decimal) -> tuple[str, Decimal, Decimal] | None:
    rows = sum((report.in_unit(p) for p in parts), Decimal(0))
    rounded = report.in_unit(total)
    return None if rows == rounded else (scope, rows, rounded)


def _rounding_notes(report: Report) -> list[Note]:
    """One :data:`ROUNDING_NOTE` per year whose rounded rows and totals differ somewhere."""
    notes: list[Note] = []
    main = report.main
    for y in report.years:
        checks: list[tuple[str, Sequence[Decimal], Decimal]] = []
        if y is main:
            checks += [(f"編列情形表 {report.class_name(k)}", [i.amount for i in items], main.by_class.get(k, Decimal(0)))
                       for k, items in report.items_by_class()]
            checks.append(("編列情形表 總計", [i.amount for i in main.items], main.gender_total))
        checks += [("依類別統計", list(y.by_class.values()), y.gender_total),
                   ("依項目統計", list(y.by_category.values()), y.gender_total),
                   ("依用途別統計", list(y.by_account.values()), y.gender_total)]
        found = [d for d in (_difference(report, *c) for c in checks) if d]
        if found:
            notes.append(Note(y.year, "四捨五入", ROUNDING_NOTE, differences=found))
    return notes


def _notes(report: Report) -> list[Note]:
    notes = _rounding_notes(report)
    for y in report.years:
        if y.pending_lines:
            proposed = (f"，建議金額 {format_thousands(report.in_unit(y.pending_amount))} {report.unit}"
                        if y.pending_amount else "")
            notes.append(Note(y.year, "待覆核",
                              f"{y.year} 年度尚有 {y.pending_lines} 筆待覆核{proposed}，未計入性別預算；"
                              "請於附註工作簿的覆核欄填寫決定後重新產出報告。"))
    for p in report.problems:
        if p.code.startswith("review-") and p.severity == "error":
            year = next((y.year for y in report.years if y.source == p.file), None)
            notes.append(Note(year, "待覆核", f"覆核未採用：{p.location}：{p.message}"))
    return notes


def exit_code(report: Report) -> int:
    """0 when the report is complete; 1 when lines still await review or a 覆核 entry was not applied."""
    from .problems import ERROR

    if report.pending() or any(p.severity == ERROR for p in report.problems):
        return 1
    return 0
