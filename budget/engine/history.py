"""Suggestions from the office's own history: what reviewers decided on the most similar earlier lines.

Pure: lines and decisions in, decisions out. A suggestion is always a review (status 待覆核, with the
similar line, its year and its decision as the reason), never counted on its own. Similarity is the
normalised Indel similarity of the folded texts (rapidfuzz ``fuzz.ratio``: characters in common, in
order), chosen over ``token_set_ratio`` and ``partial_ratio`` on the labelled lines (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterable, Sequence

from rapidfuzz import fuzz, process

from ..models import MATCHED, REVIEW, UNMATCHED, Decision, LineItem
from ..money import UNITS, format_amount, round_half_up, unit_quantum
from ..normalize import fold
from ..rules import RuleSet

#: Below this similarity (0–100) a past line is not shown as evidence.
MIN_SIMILARITY = 75.0
#: Texts shorter than this (folded) are too short to compare (「人事費」 is under every plan).
MIN_CHARS = 6


@dataclass(frozen=True, slots=True)
class PastDecision:
    """A decision a reviewer took on an earlier line: its text, year and what it was decided to be."""

    text: str
    year: int | None
    category: str | None  # None: a reviewer decided it is not gender budget
    share: Decimal | None  # gender amount ÷ amount of that line; None when unknown
    where: str = ""


def line_text(line: LineItem) -> str:
    """What is compared: the 說明, or the 案名/分支計畫/工作計畫 name when the 說明 is empty."""
    return fold(line.description or line.context or line.branch or line.plan)


def past_decisions(pairs: Iterable[tuple[LineItem, Decision]]) -> list[PastDecision]:
    """Earlier lines with the decision finally taken on them (matched or not; reviews still open are skipped)."""
    out = []
    for line, decision in pairs:
        if decision.status not in (MATCHED, UNMATCHED):
            continue
        text = line_text(line)
        if len(text) < MIN_CHARS:
            continue
        share = None
        if decision.status == MATCHED and line.amount:
            share = decision.gender_amount / line.amount
        out.append(PastDecision(text, line.year, decision.category if decision.status == MATCHED else None,
                                share, line.source))
    return out


def past_from_annotated(rows: Iterable, rules: RuleSet) -> list[PastDecision]:
    """The reviewed rows of an annotated workbook (``AnnotatedRow`` with a 覆核 entry) as past decisions."""
    from ..review import ReviewEntryError, decide, parse_override

    pairs = []
    for row in rows:
        if not str(row.review or "").strip():
            continue
        try:
            override = parse_override(row.review, rules)
            if override is None:
                continue
            pairs.append((row.line, decide(row.line, row.decision, override, rules, row.review_note)))
        except ReviewEntryError:
            continue
    return past_decisions(pairs)


def suggest_from_history(lines: Sequence[LineItem], decisions: Sequence[Decision],
                         past: Sequence[PastDecision] | Iterable[tuple[LineItem, Decision]] | Iterable,
                         rules: RuleSet, *, min_similarity: float = MIN_SIMILARITY) -> list[Decision]:
    """The decisions with suggestions from history added; the others returned unchanged.

    ``past`` is the rows of earlier annotated workbooks (``AnnotatedRow``, only those with a 覆核 entry
    are used), a list of :class:`PastDecision`, or ``(line, decision)`` pairs of earlier years. A line gets a suggestion when the rules left it
    unmatched or sent it to review (and no reviewer entry decided it this year), and an earlier line
    at least ``min_similarity`` % similar was decided by a person:

    - unmatched, the similar line was gender budget → review, category and amount proposed
      (the earlier share applied to this amount), the similar line, its year and decision as reason;
    - review → stays review, the earlier decision added to its reasons (and proposed when the rules
      proposed no category).

    Nothing is ever counted by a suggestion (status review). Pure; ``rules`` names the categories.
    """
    past = list(past)
    if past and hasattr(past[0], "review") and hasattr(past[0], "line"):  # rows of an annotated workbook
        past = past_from_annotated(past, rules)
    elif past and not isinstance(past[0], PastDecision):
        past = past_decisions(past)  # type: ignore[arg-type]
    if not past:
        return list(decisions)
    choices = [p.text for p in past]
    out = list(decisions)
    for i, (line, decision) in enumerate(zip(lines, decisions)):
        if decision.review or decision.status not in (UNMATCHED, REVIEW):
            continue
        text = line_text(line)
        if len(text) < MIN_CHARS:
            continue
        found = process.extractOne(text, choices, scorer=fuzz.ratio, score_cutoff=min_similarity)
        if found is None:
            continue
        similar = past[found[2]]
        if decision.status == UNMATCHED and similar.category is None:
            continue  # the rules and the reviewers agree: not gender
        out[i] = _suggested(line, decision, similar, found[1], rules)
    return out


def _suggested(line: LineItem, decision: Decision, similar: PastDecision, score: float,
               rules: RuleSet) -> Decision:
    """``decision`` as a review carrying the earlier decision on ``similar`` as its reason."""
    category = rules.category(similar.category) if similar.category else None
    if similar.category is None:
        verdict = "不屬性別預算"
    else:
        name = category.name if category else similar.category
        share = f"，計入 {format_amount(round_half_up(similar.share * 100, '0.1'))}%" if similar.share is not None else ""
        verdict = f"屬「{name}」{share}"
    year = f"{similar.year}年度" if similar.year else "以前年度"
    reason = (f"歷年覆核參考：{year}相似明細（相似度 {score:.0f}%）「{similar.text[:60]}」經覆核{verdict}；"
              "請比照判定（建議不自動計入）")
    if decision.status == REVIEW:
        if decision.category is None and similar.category is not None:
            return replace(decision, category=similar.category, reasons=[*decision.reasons, reason],
                           gender_amount=_proposed(line, similar))
        return replace(decision, reasons=[*decision.reasons, reason])
    return Decision(REVIEW, category=similar.category, gender_amount=_proposed(line, similar),
                    share_percent=None, rule="history", evidence=list(decision.evidence), reasons=[reason])


def _proposed(line: LineItem, similar: PastDecision) -> Decimal:
    """The earlier share applied to this line's amount (never more than the amount)."""
    if line.amount is None or similar.share is None:
        return Decimal(0)
    quantum = unit_quantum(line.unit) if line.unit in UNITS else Decimal(1)
    return min(line.amount, round_half_up(line.amount * similar.share, quantum))
