"""Last year's reviews on this year's lines: pairing lines across years, carrying reviews over, and comparing
a new year with last year's reviewed workbook (`classify --reviewed`, `check --against`). Pure: no file I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .models import EXCLUDED, MATCHED, REVIEW, TOTAL, Decision, LineItem
from .money import convert, format_amount, format_thousands
from .normalize import Remembered, fold
from .problems import WARNING, Problem
from .review import FLAG_AMOUNT_CHANGED, ReviewEntryError, apply_reviews, review_decision, row_entry
from .rules import RuleSet

if TYPE_CHECKING:  # pragma: no cover
    from .outputs.readback import AnnotatedRow


# --- matching lines across years ---------------------------------------------------------------

_MONEY_IN_TEXT = re.compile(r"\d[\d,]*(?:\.\d+)?(?=(?:千元|仟元|萬元|元))")
_ROC_YEAR_IN_TEXT = re.compile(r"(?<!\d)1\d{2}(?=年)")


def description_key(text: str) -> str:
    """A description normalised for recognising the same line in another year.

    Folded (width, 台/臺, spaces), with the amounts and ROC years it mentions blanked out: budget
    books restate them every year (``辦理性別落差分析所需經費48,070元``, ``116年度…``), and a line
    whose amount changed is still the same line.
    """
    folded = fold(text)
    return _ROC_YEAR_IN_TEXT.sub("〈年〉", _MONEY_IN_TEXT.sub("〈金額〉", folded))


def line_key(line: LineItem, fold_text: Callable[[str], str] = fold,
             describe: Callable[[str], str] = description_key) -> tuple[str, str, str, str, str, str]:
    """What makes two lines "the same line" across runs: the same normalised plan, branch, account
    (code and name) and description (see :func:`description_key`), under the same heading (案名).

    ``fold_text`` and ``describe`` stand for :func:`fold` and :func:`description_key` (:func:`pair_lines`
    gives remembered ones: plans, branches, accounts and headings repeat on many lines).
    """
    return (fold_text(line.plan), fold_text(line.branch), fold_text(line.account_code), fold_text(line.account),
            describe(line.description), describe(line.context))


def _amount_in_yuan(line: LineItem) -> Decimal | None:
    return None if line.amount is None else convert(line.amount, line.unit, "元")


def pair_lines(old: Sequence[LineItem], new: Sequence[LineItem]) -> list[tuple[int, int]]:
    """Pairs ``(old index, new index)`` of the same line in two runs.

    Subtotal rows are never paired. Lines with the same key are paired first where the amount is
    also the same, then in order of appearance; what is left over has no counterpart.
    """
    if not any(line.kind != TOTAL for line in old):  # nothing to pair (e.g. no line was reviewed)
        return []
    folded, described = Remembered(fold).__getitem__, Remembered(description_key).__getitem__
    groups: dict[tuple, list[int]] = {}
    for j, line in enumerate(new):
        if line.kind != TOTAL:
            groups.setdefault(line_key(line, folded, described), []).append(j)
    old_groups: dict[tuple, list[int]] = {}
    for i, line in enumerate(old):
        if line.kind != TOTAL:
            old_groups.setdefault(line_key(line, folded, described), []).append(i)
    pairs: list[tuple[int, int]] = []
    for key, olds in old_groups.items():
        news = list(groups.get(key, ()))
        if not news:
            continue
        left: list[int] = []
        for i in olds:
            amount = _amount_in_yuan(old[i])
            same = next((j for j in news if _amount_in_yuan(new[j]) == amount), None)
            if same is not None:
                pairs.append((i, same))
                news.remove(same)
            else:
                left.append(i)
        pairs.extend(zip(left, news))
    return sorted(pairs, key=lambda p: p[1])


@dataclass
class CarryOver:
    """What carrying last run's reviewed decisions over to a new run did."""

    decisions: list[Decision]
    source: str = ""
    reviewed: int = 0
    carried: list[tuple[int, "AnnotatedRow"]] = field(default_factory=list)
    amount_changed: list[int] = field(default_factory=list)
    unplaced: list["AnnotatedRow"] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def log_lines(self) -> list[str]:
        """zh-TW sentences for the 紀錄 sheet: how many were carried, which could not be placed."""
        out = [f"沿用覆核決定：{self.source} 共 {self.reviewed} 筆已覆核，沿用 {len(self.carried)} 筆"
               f"（其中 {len(self.amount_changed)} 筆金額已變動，已標示），無法對應 {len(self.unplaced)} 筆。"]
        for row in self.unplaced:
            out.append(f"無法對應：{row.where()}「{row.line.description}」覆核「{row.review}」"
                       f"（今年無相同工作計畫、分支計畫、科目與說明的項目）")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "source": self.source, "reviewed": self.reviewed, "carried": len(self.carried),
            "amount_changed": len(self.amount_changed),
            "unplaced": [row.to_dict() for row in self.unplaced],
            "problems": [p.to_dict() for p in self.problems],
        }


def carry_reviews(lines: Sequence[LineItem], decisions: Sequence[Decision], reviewed: Iterable["AnnotatedRow"],
                  rules: RuleSet, source: str = "") -> CarryOver:
    """Carry every reviewed decision of a previous annotated workbook over to the same line now.

    ``lines``/``decisions`` are the new run (decisions by the rules). A reviewed row is carried to
    the line with the same :func:`line_key`; where its amount changed the decision is re-applied to
    the new amount and the line is flagged. Rows with no counterpart, and entries that are malformed
    or no longer apply, are reported; the line then keeps the rules' decision.
    """
    rows = [r for r in reviewed if str(r.review or "").strip()]
    result = CarryOver(decisions=list(decisions), source=source, reviewed=len(rows))
    pairs = pair_lines([r.line for r in rows], lines)
    placed = {i for i, _ in pairs}
    result.unplaced = [r for i, r in enumerate(rows) if i not in placed]
    for i, j in pairs:
        row, line = rows[i], lines[j]
        where = {"file": line.file or None, "sheet": line.sheet or None, "row": line.row}
        try:
            entry = row_entry(row, rules)
            if entry.amount is not None and row.line.unit != line.unit:
                # The amount was written in the unit of last run's line; this year's line has another.
                entry = replace(entry, amount=convert(entry.amount, row.line.unit, line.unit))
            decision = review_decision(entry, line, decisions[j], rules)
        except ReviewEntryError as exc:
            problem = exc.problem(**where)
            result.problems.append(replace(
                problem, message=f"沿用 {row.where()} 的覆核失敗：{problem.message}",
                message_en=f"carrying the review failed: {problem.message_en}"))
            continue
        before, after = _amount_in_yuan(row.line), _amount_in_yuan(line)
        carried_from = f"沿用 {row.where()} 的覆核決定「{row.review}」"
        decision.reasons = [carried_from, *decision.reasons]
        if before != after:
            decision.reasons.append(
                f"金額已變動：原 {format_thousands(row.line.amount)} {row.line.unit}，今 {format_thousands(line.amount)} {line.unit}，請確認覆核仍適用")
            if FLAG_AMOUNT_CHANGED not in line.flags:
                line.flags += (FLAG_AMOUNT_CHANGED,)
            result.amount_changed.append(j)
            result.problems.append(Problem(
                FLAG_AMOUNT_CHANGED,
                f"沿用覆核決定「{row.review}」，但金額由 {format_thousands(row.line.amount)} {row.line.unit} "
                f"變為 {format_thousands(line.amount)} {line.unit}，請確認",
                "a reviewed decision was carried over but the amount changed", WARNING, **where))
        result.decisions[j] = decision
        result.carried.append((j, row))
    for row in result.unplaced:
        result.problems.append(Problem(
            "review-not-placed",
            f"{row.where()} 的覆核決定「{row.review}」找不到今年相同的項目（{row.line.description}），未沿用",
            "a reviewed decision has no matching line this year", WARNING, file=row.workbook or None,
            sheet=row.detail_sheet, row=row.detail_row))
    return result


# --- checking a new year's lines against last year's reviewed workbook --------------------------

def _verdict(decision: Decision) -> tuple[str, str | None, Decimal | None]:
    """What a decision says, ignoring amounts: counted (with category and share), review, or not."""
    if decision.status == MATCHED:
        return ("counted", decision.category, decision.share_percent)
    if decision.status == REVIEW:
        return ("review", decision.category, None)
    return ("none", None, None)


def decision_fields(decision: Decision, line: LineItem) -> dict[str, Any]:
    """A decision as JSON-ready data for comparison lists (amounts as decimal strings, line's unit)."""
    return {
        "status": decision.status, "category": decision.category,
        "share_percent": None if decision.share_percent is None else format_amount(decision.share_percent),
        "gender_amount": format_amount(decision.gender_amount), "unit": line.unit, "rule": decision.rule,
        "explanation": decision.explain(), "review": decision.review, "review_note": decision.review_note,
    }


@dataclass
class Comparison:
    """New lines, lines decided differently from last year, and last year's gender lines now gone."""

    last: str
    new_input: str
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    disappeared: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        """True when any entry needs a person: a new gender/review line, a changed decision, a lost line."""
        return any(e["attention"] for e in self.new + self.changed + self.disappeared)

    def to_dict(self) -> dict[str, Any]:
        """``{"new": [...], "changed": [...], "disappeared": [...]}`` plus the inputs and problems."""
        return {"last": self.last, "new_input": self.new_input, "new": self.new, "changed": self.changed,
                "disappeared": self.disappeared, "problems": [p.to_dict() for p in self.problems]}


def compare_with_last(last_rows: Sequence["AnnotatedRow"], lines: Sequence[LineItem], decisions: Sequence[Decision],
                      rules: RuleSet, *, carry: bool = True, last_label: str = "", new_label: str = "") -> Comparison:
    """Compare this year's lines with last year's annotated workbook.

    Last year's decisions are final ones (覆核 applied). This year's are ``decisions``, with last
    year's reviews carried over first when ``carry`` (as ``classify --reviewed`` would). A paired line
    is *changed* when the two decisions differ in status, category or share (not just amount).
    """
    from .outputs.readback import line_fields

    comparison = Comparison(last_label, new_label)
    last_decisions, problems = apply_reviews(last_rows, rules)
    comparison.problems.extend(problems)
    current = list(decisions)
    if carry:
        carried = carry_reviews(lines, decisions, last_rows, rules, source=last_label)
        current = carried.decisions
        comparison.problems.extend(p for p in carried.problems if p.code != "review-not-placed")
    pairs = pair_lines([r.line for r in last_rows], lines)
    paired_old = {i for i, _ in pairs}
    paired_new = {j for _, j in pairs}

    def last_fields(i: int) -> dict[str, Any]:
        row = last_rows[i]
        return {**line_fields(row.line), "decision": decision_fields(last_decisions[i], row.line),
                "workbook": row.workbook, "detail_row": row.detail_row}

    for j, (line, decision) in enumerate(zip(lines, current)):
        if j in paired_new or line.kind == TOTAL or decision.status == EXCLUDED:
            continue
        comparison.new.append({**line_fields(line), "decision": decision_fields(decision, line),
                               "attention": decision.status in (MATCHED, REVIEW),
                               "reason": "今年新增的項目" + ("，規則判定與性別預算有關" if decision.status in (MATCHED, REVIEW) else "")})
    for i, j in pairs:
        before, after = last_decisions[i], current[j]
        if _verdict(before) == _verdict(after):
            continue
        comparison.changed.append({
            **line_fields(lines[j]), "decision": decision_fields(after, lines[j]),
            "rules_decision": decision_fields(decisions[j], lines[j]), "last": last_fields(i),
            "amount_changed": _amount_in_yuan(last_rows[i].line) != _amount_in_yuan(lines[j]),
            "attention": True,
            "reason": f"去年判定 {_verdict_text(before)}，今年 {_verdict_text(after)}",
        })
    for i, (row, decision) in enumerate(zip(last_rows, last_decisions)):
        if i in paired_old or decision.status != MATCHED or row.line.kind == TOTAL:
            continue
        comparison.disappeared.append({**last_fields(i), "attention": True,
                                       "reason": "去年計入性別預算的項目，今年找不到相同的項目"})
    return comparison


def _verdict_text(decision: Decision) -> str:
    kind, category, share = _verdict(decision)
    if kind == "counted":
        return f"計入 {category}" + (f" {format_amount(share)}%" if share is not None and share != 100 else "")
    if kind == "review":
        return "待覆核" + (f"（{category}）" if category else "")
    return "不計入"
