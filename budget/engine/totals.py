"""The run's totals: lines and amounts by status, category, official class and 工作計畫, in one unit. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Sequence

from ..models import LINE, MATCHED, OFFICIAL_CLASSES, REVIEW, STATUSES, Decision, LineItem
from ..money import convert, format_amount, round_half_up
from ..rules import RuleSet


@dataclass
class GroupTotal:
    """Lines and amounts of one group (a category, an official class, a 工作計畫), in the run's unit.

    ``lines``/``budget`` count every line of the group; ``gender_amount`` only matched lines;
    ``review_amount`` is what the engine proposes for the lines waiting for review.
    """

    key: str
    label: str
    official_class: int | None = None
    lines: int = 0
    budget: Decimal = Decimal(0)
    matched_lines: int = 0
    gender_amount: Decimal = Decimal(0)
    review_lines: int = 0
    review_amount: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as decimal strings)."""
        out = {k: (format_amount(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        if self.official_class is None:
            out.pop("official_class")
        return out


@dataclass
class Totals:
    """The run's totals, all in one ``unit`` (converted exactly with :func:`budget.money.convert`)."""

    unit: str
    unit_note: str
    rows_read: int = 0
    lines: int = 0  # rows of kind "line"
    counted: int = 0  # lines with an amount, i.e. counted in the budget total
    excluded: int = 0  # subtotal/total rows (小計不計)
    skipped: int = 0  # blank rows the reader skipped
    unreadable: int = 0  # lines whose amount was blank or unreadable
    status_lines: dict[str, int] = field(default_factory=dict)
    status_amounts: dict[str, Decimal] = field(default_factory=dict)
    budget_total: Decimal = Decimal(0)
    gender_total: Decimal = Decimal(0)
    review_total: Decimal = Decimal(0)
    by_category: list[GroupTotal] = field(default_factory=list)
    by_class: list[GroupTotal] = field(default_factory=list)
    by_plan: list[GroupTotal] = field(default_factory=list)
    input_total: Decimal = Decimal(0)
    workbook_total: Decimal | None = None  # the sum of the amounts written to 明細 (set by the writer)

    @property
    def share_percent(self) -> Decimal | None:
        """The gender total as a percentage of the budget total, 四捨五入 to 2 decimals."""
        if not self.budget_total:
            return None
        return round_half_up(self.gender_total * 100 / self.budget_total, "0.01")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as decimal strings)."""
        share = self.share_percent
        return {
            "unit": self.unit, "unit_note": self.unit_note, "rows_read": self.rows_read, "lines": self.lines,
            "counted": self.counted, "excluded": self.excluded, "skipped": self.skipped,
            "unreadable": self.unreadable,
            "status_lines": dict(self.status_lines),
            "status_amounts": {k: format_amount(v) for k, v in self.status_amounts.items()},
            "budget_total": format_amount(self.budget_total), "gender_total": format_amount(self.gender_total),
            "share_percent": format_amount(share) if share is not None else None,
            "review_total": format_amount(self.review_total),
            "by_category": [g.to_dict() for g in self.by_category],
            "by_class": [g.to_dict() for g in self.by_class],
            "by_plan": [g.to_dict() for g in self.by_plan],
            "input_total": format_amount(self.input_total),
            "workbook_total": format_amount(self.workbook_total) if self.workbook_total is not None else None,
        }


def choose_unit(lines: Sequence[LineItem], fallback: str = "元") -> tuple[str, str]:
    """The unit of the run's totals and why: the lines' unit when they share one, else 元."""
    units = list(dict.fromkeys(line.unit for line in lines if line.amount is not None or line.kind == LINE))
    if not units:
        return fallback, f"無金額，採規則檔單位 {fallback}"
    if len(units) == 1:
        return units[0], f"依輸入資料的單位 {units[0]}"
    return "元", f"輸入資料的單位不一（{'、'.join(units)}），全部精確換算為元後加總"


def compute_totals(lines: Sequence[LineItem], decisions: Sequence[Decision], rules: RuleSet, *,
                   unit: str | None = None, sources: Sequence[Any] = ()) -> Totals:
    """Totals of a run by status, category, official class and 工作計畫, exactly, in one unit."""
    chosen, note = choose_unit(lines, rules.unit)
    if unit is not None and unit != chosen:
        chosen, note = unit, f"指定單位 {unit}"
    totals = Totals(unit=chosen, unit_note=note)
    totals.status_lines = {s: 0 for s in STATUSES}
    totals.status_amounts = {s: Decimal(0) for s in STATUSES}
    categories = {c.id: GroupTotal(c.id, c.name, c.official_class) for c in rules.categories}
    classes = {k: GroupTotal(str(k), label, k) for k, label in OFFICIAL_CLASSES.items()}
    plans: dict[str, GroupTotal] = {}
    for line, decision in zip(lines, decisions, strict=True):
        totals.status_lines[decision.status] = totals.status_lines.get(decision.status, 0) + 1
        if line.kind != LINE:
            totals.excluded += 1
            continue
        totals.lines += 1
        amount = convert(line.amount, line.unit, chosen) if line.amount is not None else None
        gender = convert(decision.gender_amount, line.unit, chosen) if decision.category else Decimal(0)
        if amount is None:
            totals.unreadable += 1
        else:
            totals.counted += 1
            totals.budget_total += amount
            totals.status_amounts[decision.status] = totals.status_amounts.get(decision.status, Decimal(0)) + amount
        plan = plans.get(line.plan)
        if plan is None:
            plan = plans[line.plan] = GroupTotal(line.plan, line.plan or "（未列工作計畫）")
        plan.lines += 1
        plan.budget += amount or 0
        groups = [plan]
        category = rules.category(decision.category) if decision.category else None
        if category is not None:
            groups += [categories[category.id], classes[category.official_class]]
        if decision.status == MATCHED:
            totals.gender_total += gender
            for g in groups:
                g.matched_lines += 1
                g.gender_amount += gender
        elif decision.status == REVIEW:
            totals.review_total += gender
            for g in groups:
                g.review_lines += 1
                g.review_amount += gender
    totals.input_total = totals.budget_total
    totals.by_category = list(categories.values())
    totals.by_class = list(classes.values())
    totals.by_plan = list(plans.values()) if any(p for p in plans) else []
    sheets = [s for src in sources for s in getattr(src, "sheets", [])]
    totals.rows_read = sum(getattr(s, "rows_read", 0) for s in sheets) if sheets else len(lines)
    totals.skipped = sum(getattr(s, "skipped_blank", 0) for s in sheets)
    return totals
