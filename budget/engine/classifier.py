"""The classification engine: lines and rules in, decisions out. Pure: no file or network I/O.

All terms of all categories go into one Aho-Corasick automaton, so a line is scanned once
whatever the number of terms; only categories with a hit are then evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from decimal import Decimal
from typing import Iterable, Iterator

import ahocorasick

from ..models import (
    EXCLUDED, MATCHED, REVIEW, TOTAL, UNMATCHED, Decision, Evidence, LineItem, SubItem,
)
from ..money import share_of
from ..normalize import fold, nfkc
from ..rules import Category, Conditions, RuleSet, compile_regex
from .subitems import split_subitems

_CLAUSE_RE = re.compile(r"[。；;]")
_BRACKETS_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|「[^「」]*」")
# The last item of a list joined by 及/暨/與/和, unless the character is part of a word (普及, 參與…).
_LAST_JOIN_RE = re.compile(r"(?<![普涉以波危顧觸企])及|暨|(?<![參給])與(?!會)|(?<![平溫總緩調])和(?!平)")
# What is left of an element that names no purpose: amounts, counts, 等, punctuation.
_NOT_A_PURPOSE_RE = re.compile(r"[\d,.]+(?:千元|萬元|元|人|場|次|梯|期|班|名|式|批|件|個|月|年)?|等|各項|相關|所需|費用|[^\w]")


def _with_context(fields) -> tuple[str, ...]:
    """Where a category looks: its fields, plus the heading (案名) of a line wherever it looks at 說明."""
    fields = tuple(fields)
    return fields + ("context",) if "description" in fields else fields


def _enumerated(folded: str) -> list[str]:
    """The items of an enumeration ``甲、乙及丙`` in a folded clause."""
    parts = folded.split("、")
    last = _LAST_JOIN_RE.split(parts[-1], maxsplit=1)
    return [p for p in parts[:-1] + last if p]


@dataclass(frozen=True, slots=True)
class _Terms:
    """A condition table with its terms turned into automaton ids."""

    any: frozenset[int]
    all: tuple[frozenset[int], ...]
    none: frozenset[int]
    regex: tuple[tuple[str, object], ...]
    # Position of each term in its set's iteration order: evidence is listed in that order, while
    # only the few terms that hit a line are visited.
    any_pos: dict[int, int] = dc_field(default_factory=dict, compare=False)
    all_pos: tuple[dict[int, int], ...] = dc_field(default=(), compare=False)
    none_pos: dict[int, int] = dc_field(default_factory=dict, compare=False)

    @property
    def positive(self) -> frozenset[int]:
        return self.any.union(*self.all) if self.all else self.any


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A category prepared for matching."""

    index: int
    category: Category
    fields: tuple[str, ...]
    main: _Terms
    by_field: tuple[tuple[str, _Terms], ...]
    subject: frozenset[int]
    shared_with: frozenset[int]
    codes: tuple[str, ...]
    share: Decimal


@dataclass(slots=True)
class _Match:
    category: _Compiled
    evidence: list[Evidence]


class Classifier:
    """Decides lines against one :class:`RuleSet`. Build once, call :meth:`classify` per line."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._terms: list[str] = []  # term id -> original (folded) term
        self._term_ids: dict[str, int] = {}
        self._automaton = ahocorasick.Automaton()
        compiled = []
        for i, cat in enumerate(rules.categories):
            main = self._compile_terms(cat)
            by_field = tuple((f, self._compile_terms(c)) for f, c in cat.field_conditions().items())
            subject = main.any | (main.all[0] if main.all else frozenset())
            compiled.append(_Compiled(
                index=i, category=cat, fields=_with_context(cat.fields or rules.match_fields), main=main,
                by_field=by_field, subject=subject,
                shared_with=frozenset(self._term_id(t) for t in cat.shared_with),
                codes=tuple(cat.codes), share=Decimal(cat.share_percent),
            ))
        self._categories = tuple(compiled)
        if self._terms:
            self._automaton.make_automaton()
        # Which categories a term can make a candidate; categories with no terms are always checked.
        self._by_term: dict[int, set[int]] = {}
        self._always: list[int] = []
        for c in self._categories:
            terms = c.main.positive.union(*(t.positive for _, t in c.by_field))
            for t in terms:
                self._by_term.setdefault(t, set()).add(c.index)
            if not terms:
                self._always.append(c.index)
        # What a candidate needs before it is worth evaluating: a hit in each of these term sets
        # (its ``all`` groups, and ``any`` when it has no regex) — unless one of its ``none`` terms
        # hit, whose exclusion is reported as evidence. Skipping the others changes no decision.
        self._needs: list[tuple[tuple[frozenset[int], ...], frozenset[int]]] = []
        for c in self._categories:
            tables = (c.main, *(t for _, t in c.by_field))
            needs = [g for t in tables for g in t.all] + [t.any for t in tables if t.any and not t.regex]
            self._needs.append((tuple(needs), frozenset().union(*(t.none for t in tables))))
        self._field_cache: dict[str, tuple[str, dict[int, int]]] = {}
        self._todo: dict[frozenset[int], tuple[int, ...]] = {}
        self._viable: dict[frozenset[int], bool] = {}
        self._cost_terms = sorted({fold(t) for t in rules.cost_terms}, key=len, reverse=True)

    # --- compilation ---------------------------------------------------------------------------

    def _term_id(self, term: str) -> int:
        key = fold(term)
        if key not in self._term_ids:
            self._term_ids[key] = len(self._terms)
            self._terms.append(term)
            self._automaton.add_word(key, (self._term_ids[key], len(key)))
        return self._term_ids[key]

    def _compile_terms(self, cond: Conditions) -> _Terms:
        any_ = frozenset(self._term_id(t) for t in cond.any)
        all_ = tuple(frozenset(self._term_id(t) for t in group) for group in cond.all)
        none = frozenset(self._term_id(t) for t in cond.none)
        return _Terms(
            any=any_, all=all_, none=none, regex=tuple((p, compile_regex(p)) for p in cond.regex),
            any_pos=_positions(any_), all_pos=tuple(_positions(g) for g in all_), none_pos=_positions(none),
        )

    # --- matching ------------------------------------------------------------------------------

    def _hits(self, folded: str) -> dict[int, int]:
        """Term id -> position of its first hit in ``folded``."""
        if not folded or not self._terms:
            return {}
        found: dict[int, int] = {}
        for end, (tid, length) in self._automaton.iter(folded):
            if tid not in found:
                found[tid] = end - length + 1
        return found

    def _field(self, raw: str) -> tuple[str, dict[int, int]]:
        """Folded text and hits of a plan, branch or account text (cached: they repeat a lot)."""
        found = self._field_cache.get(raw)
        if found is None:
            if len(self._field_cache) > 50_000:
                self._field_cache.clear()
            folded = fold(raw)
            found = self._field_cache[raw] = (folded, self._hits(folded))
        return found

    def _evaluate(self, c: _Compiled, line: LineItem, texts: dict[str, str],
                  hits: dict[str, dict[int, int]]) -> tuple[bool, list[Evidence]]:
        """Does category ``c`` match? Returns (matched, evidence incl. any exclusion that fired)."""
        cat = c.category
        evidence: list[Evidence] = []
        if cat.years and line.year is not None and line.year not in cat.years:
            return False, evidence
        ok = self._check(c.category.id, c.main, c.fields, texts, hits, evidence)
        for field, terms in c.by_field:
            ok = self._check(cat.id, terms, (field,), texts, hits, evidence) and ok
        if c.codes:
            code = line.account_code
            prefix = next((p for p in c.codes if code.startswith(p)), None)
            if prefix is None:
                ok = False
            else:
                evidence.append(Evidence(cat.id, "code", "account_code", prefix))
        return ok, evidence

    def _check(self, cid: str, terms: _Terms, fields: tuple[str, ...], texts: dict[str, str],
               hits: dict[str, dict[int, int]], evidence: list[Evidence]) -> bool:
        def hit_field(tid: int) -> str | None:
            return next((f for f in fields if tid in hits[f]), None)

        # Term ids that hit in any of ``fields``; a condition's terms are intersected with these
        # (a few) instead of each of its (many) terms being looked up.
        present = hits[fields[0]] if len(fields) == 1 else set().union(*(hits[f] for f in fields))
        ok = True
        if terms.none:
            for tid in _in_order(terms.none.intersection(present), terms.none_pos):
                evidence.append(Evidence(cid, "none", hit_field(tid), self._terms[tid], excluded=True))
                ok = False
        positive = bool(terms.any or terms.regex)
        found_positive = False
        if terms.any:
            for tid in _in_order(terms.any.intersection(present), terms.any_pos):
                evidence.append(Evidence(cid, "any", hit_field(tid), self._terms[tid]))
                found_positive = True
        for pattern, regex in terms.regex:
            for field in fields:
                if texts[field] and regex.search(texts[field]):
                    evidence.append(Evidence(cid, "regex", field, pattern))
                    found_positive = True
                    break
        if positive and not found_positive:
            ok = False
        for group, pos in zip(terms.all, terms.all_pos):
            found = group.intersection(present)
            if found:
                tid = min(found, key=pos.__getitem__) if len(found) > 1 else next(iter(found))
                evidence.append(Evidence(cid, "all", hit_field(tid), self._terms[tid]))
            else:
                ok = False
        return ok

    def _match(self, line: LineItem, description: str) -> tuple[list[_Match], list[Evidence], bool]:
        """Categories matching ``line`` with ``description`` in place of its own; plus exclusions.

        The third value says whether any category could match part of the text: False when every
        candidate lacks a needed term (it was evaluated only for its exclusions). A part of the
        text (a sub-item) hits only some of the terms, so it cannot match either.
        """
        folded = fold(description)
        description_hits = self._hits(folded)
        plan, plan_hits = self._field(line.plan)
        branch, branch_hits = self._field(line.branch)
        account, account_hits = self._field(line.account)
        context, context_hits = self._field(line.context)
        if not (description_hits or plan_hits or branch_hits or account_hits or context_hits or self._always):
            return [], [], False
        present = frozenset(description_hits)
        if plan_hits or branch_hits or account_hits or context_hits:
            present = present.union(plan_hits, branch_hits, account_hits, context_hits)
        todo = self._todo.get(present)
        if todo is None:
            todo = self._candidates(present)
        if not todo:
            return [], [], False
        texts = {"description": folded, "plan": plan, "branch": branch, "account": account, "context": context}
        hits = {"description": description_hits, "plan": plan_hits, "branch": branch_hits,
                "account": account_hits, "context": context_hits}
        matches: list[_Match] = []
        exclusions: list[Evidence] = []
        for index in todo:
            c = self._categories[index]
            ok, evidence = self._evaluate(c, line, texts, hits)
            if ok:
                matches.append(_Match(c, evidence))
            else:
                exclusions.extend(e for e in evidence if e.excluded)
        return matches, exclusions, self._viable[present]

    def _candidates(self, present: frozenset[int]) -> tuple[int, ...]:
        """Indexes of the categories worth evaluating when the terms ``present`` hit (cached).

        A candidate is a category one of whose positive terms hit; it is skipped when it cannot
        match (a needed term set has no hit) and none of its ``none`` terms hit.
        """
        candidates = set(self._always)
        for tid in present:
            candidates.update(self._by_term.get(tid, ()))
        todo = []
        viable = False
        for index in sorted(candidates):
            needs, nones = self._needs[index]
            lacking = any(n.isdisjoint(present) for n in needs)
            if lacking and nones.isdisjoint(present):
                continue
            todo.append(index)
            viable = viable or not lacking
        if len(self._todo) > 100_000:
            self._todo.clear()
            self._viable.clear()
        self._viable[present] = viable
        self._todo[present] = result = tuple(todo)
        return result

    # --- decisions -----------------------------------------------------------------------------

    def classify(self, line: LineItem) -> Decision:
        """Decide one line: matched, review (with reasons) or unmatched; totals are excluded."""
        if line.kind == TOTAL:
            return Decision(EXCLUDED, rule="subtotal-row", reasons=["合計/小計列，不計入（subtotal row, not counted）"])
        matches, exclusions, viable = self._match(line, line.description)
        if not matches and not (exclusions and viable):
            # Nothing hit, or nothing could match even in part (see _match): no sub-item can match.
            return Decision(UNMATCHED, evidence=exclusions)
        preamble, pieces = split_subitems(line.description, line.unit)
        if pieces and not self._match(line, preamble)[0]:
            # Sub-items are decided one by one, unless the preamble names the purpose of them all
            # ("性別培力課程經費如下：(1)…(2)…"), in which case the whole line is decided.
            decision = self._decide_subitems(line, matches, pieces)
            if decision is not None:
                return decision
        if not matches:
            return Decision(UNMATCHED, evidence=exclusions)
        chosen, reasons = _choose(matches)
        return self._decide_whole(line, matches, chosen, reasons)

    def _decide_whole(self, line: LineItem, matches: list[_Match], chosen: _Match | None,
                      reasons: list[str]) -> Decision:
        evidence = [e for m in matches for e in m.evidence]
        if chosen is None:
            return Decision(REVIEW, rule="ambiguous", evidence=evidence,
                            also_matched=[m.category.category.id for m in matches], reasons=reasons)
        cat = chosen.category.category
        shared = self._shared_reason(line.description, chosen.category)
        if shared:
            reasons.append(shared)
        if cat.review:
            reasons.append(_own_review_reason(cat))
        amount = line.amount
        if amount is None:
            reasons.append("金額空白或無法讀取，無法計算性別預算數")
        gender = share_of(amount, chosen.category.share, line.unit) if amount is not None else Decimal(0)
        return Decision(
            REVIEW if reasons else MATCHED, category=cat.id, share_percent=chosen.category.share,
            gender_amount=gender, rule=cat.id, evidence=chosen.evidence,
            also_matched=[m.category.category.id for m in matches if m is not chosen], reasons=reasons,
        )

    def _decide_subitems(self, line: LineItem, matches: list[_Match], pieces: list) -> Decision | None:
        """Decide per sub-item; None when no sub-item alone matches any category."""
        subitems: list[SubItem] = []
        gender_pieces: list[tuple[object, _Match]] = []
        reasons: list[str] = []
        for piece in pieces:
            sub_matches = self._match(line, piece.text)[0]
            sub_chosen, _ = _choose(sub_matches) if sub_matches else (None, [])
            subitems.append(SubItem(piece.marker, piece.text, piece.amount,
                                    tuple(m.category.category.id for m in sub_matches)))
            if sub_matches:
                gender_pieces.append((piece, sub_chosen or sub_matches[0]))
                if sub_chosen is None:
                    reasons.append(f"子項 {piece.marker} 同時符合多個類別且無優先順序")
        if not gender_pieces:
            if not matches:
                return None
            return Decision(REVIEW, category=None, rule="subitems",
                            evidence=[e for m in matches for e in m.evidence], subitems=subitems,
                            also_matched=[m.category.category.id for m in matches],
                            reasons=["符合條件分散於不同子項，無法判定哪一子項屬性別預算"])
        categories = {m.category.category.id for _, m in gender_pieces}
        first = gender_pieces[0][1]
        if len(categories) > 1:
            reasons.append("不同子項屬不同類別：" + "、".join(sorted(categories)))
        gender = Decimal(0)
        for piece, match in gender_pieces:
            shared = self._shared_reason(piece.text, match.category)
            if shared:
                reasons.append(f"子項 {piece.marker}：{shared}")
            if match.category.category.review:
                reasons.append(_own_review_reason(match.category.category))
            if piece.amount is None:
                reasons.append(f"子項 {piece.marker} 未載明金額")
            else:
                gender += share_of(piece.amount, match.category.share, line.unit)
        stated = [p.amount for p in pieces]
        if line.amount is None:
            reasons.append("金額空白或無法讀取")
        elif None not in stated and (listed := sum(stated, Decimal(0))) != line.amount:
            reasons.append(f"各子項金額合計 {listed} 與本行金額 {line.amount} 不符，子項金額未採信")
        elif None in stated:
            reasons.append("部分子項未載明金額，無法核對子項合計")
        evidence = [e for _, m in gender_pieces for e in m.evidence]
        evidence.append(Evidence(first.category.category.id, "subitem", "description",
                                 "、".join(p.marker for p, _ in gender_pieces)))
        cat = first.category
        return Decision(
            REVIEW if reasons else MATCHED, category=cat.category.id,
            share_percent=cat.share,
            gender_amount=gender, rule=cat.category.id, evidence=_unique(evidence),
            also_matched=sorted({cid for sub in subitems for cid in sub.categories} - {cat.category.id}),
            reasons=_unique(reasons), subitems=subitems,
        )

    def _shared_reason(self, text: str, c: _Compiled) -> str | None:
        """Why the amount of ``text`` is shared with other purposes, or None when it is not.

        Shared means: the clause that names the category also names a ``shared_with`` purpose, or
        it enumerates items (A、B及C) of which some name neither the category's subject nor only
        cost items (薪資、勞健保費…: the rules file's ``cost_terms``). Lists in brackets are details
        of one item, not other purposes.
        """
        for clause in _CLAUSE_RE.split(nfkc(text)):
            folded = fold(clause)
            # A list in brackets details one item (設備(冰箱、洗手臺)) unless it names the subject
            # among other things (統計書刊(統計年報、性別圖像)): then that list is the one to check.
            for inner in _BRACKETS_RE.findall(folded):
                if "、" in inner and any(t in c.subject for t in self._hits(inner)):
                    reason = self._enumeration_reason(inner[1:-1], c)
                    if reason:
                        return reason
            folded = _BRACKETS_RE.sub("", folded)
            hits = self._hits(folded)
            if not any(t in c.subject for t in hits):
                continue
            others = [self._terms[t] for t in hits if t in c.shared_with]
            others = [t for t in others if not any(t != o and fold(t) in fold(o) for o in others)]
            if others:
                return f"同一項目另列「{'、'.join(others)}」等其他用途，性別部分金額未載明"
            if "、" in folded and (reason := self._enumeration_reason(folded, c)):
                return reason
        return None

    def _enumeration_reason(self, folded: str, c: _Compiled) -> str | None:
        """The items of the list ``甲、乙及丙`` that are other purposes than category ``c``, as a reason."""
        uncovered = [e for e in _enumerated(folded) if not self._covers(e, c)]
        if uncovered:
            return f"與其他用途（{'、'.join(uncovered[:3])}）合併編列，說明未載明性別部分金額"
        return None

    def _covers(self, element: str, c: _Compiled) -> bool:
        """Is an enumerated element about the category's subject, or only a cost item or activity of
        it (講座鐘點費、場地費 — the rules' ``cost_terms`` and the category's own terms)?"""
        hits = self._hits(element)
        if any(t in c.subject for t in hits):
            return True
        own = sorted((fold(self._terms[t]) for t in hits if t in c.main.positive), key=len, reverse=True)
        for term in own + self._cost_terms:
            element = element.replace(term, "")
        return len(_NOT_A_PURPOSE_RE.sub("", element)) < 2

    def classify_all(self, lines: Iterable[LineItem]) -> Iterator[Decision]:
        """Decide every line, in order."""
        for line in lines:
            yield self.classify(line)


def _choose(matches: list[_Match]) -> tuple[_Match | None, list[str]]:
    """The winning match by priority; None (and a reason) when the top priority is tied."""
    if len(matches) == 1:
        return matches[0], []
    top = max(m.category.category.priority for m in matches)
    best = [m for m in matches if m.category.category.priority == top]
    if len(best) == 1:
        return best[0], []
    names = "、".join(m.category.category.id for m in best)
    return None, [f"同時符合多個類別（{names}）且無優先順序，請人工判定"]


def _positions(terms: frozenset[int]) -> dict[int, int]:
    """Each term id's position in the iteration order of ``terms``."""
    return {tid: i for i, tid in enumerate(terms)}


def _in_order(found: set[int] | frozenset[int], positions: dict[int, int]) -> list[int] | set[int] | frozenset[int]:
    """``found`` in the order its terms have in the condition (see :func:`_positions`)."""
    return sorted(found, key=positions.__getitem__) if len(found) > 1 else found


def _own_review_reason(category: Category) -> str:
    """Why a category marked ``review = true`` needs a person (its own words, or a default)."""
    return category.review_reason or f"規則「{category.id}」標記為需人工覆核"


def _unique(items: list) -> list:
    return list(dict.fromkeys(items))


def classify(lines: Iterable[LineItem], rules: RuleSet) -> list[Decision]:
    """Decide every line with ``rules`` (convenience wrapper around :class:`Classifier`)."""
    return list(Classifier(rules).classify_all(lines))
