"""The classification engine: lines and rules in, decisions out. Pure: no file or network I/O.

All terms of all categories go into one Aho-Corasick automaton, so a line is scanned once
whatever the number of terms; only categories with a hit are then evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field, replace
from decimal import Decimal
from typing import Iterable, Iterator

import ahocorasick

from ..models import (
    EXCLUDED, MATCHED, REVIEW, TOTAL, UNMATCHED, Decision, Evidence, LineItem, SubItem,
)
from ..money import share_of
from ..normalize import fold, nfkc
from ..rules import Category, Conditions, LazyRegex, RuleSet
from .phrasing import account_share, change_text, is_removal, this_year_text
from .purposes import PurposeChecks, _account_name, _choose, _own_review_reason, _unique
from .subitems import split_subitems


_UNSEEN = object()
#: The reason every subtotal row gets (one tuple shared by all of them).
_SUBTOTAL_REASONS = ("合計/小計列，不計入（subtotal row, not counted）",)


def _fields_with_context(fields) -> tuple[str, ...]:
    """Where a category looks: its fields, plus the heading (案名) of a line wherever it looks at 說明."""
    fields = tuple(fields)
    return fields + ("context",) if "description" in fields else fields


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


class Classifier(PurposeChecks):
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
                index=i, category=cat, fields=_fields_with_context(cat.fields or rules.match_fields), main=main,
                by_field=by_field, subject=subject,
                shared_with=frozenset(self._term_id(t) for t in cat.shared_with),
                codes=tuple(cat.codes), share=Decimal(cat.share_percent),
            ))
        self._categories = tuple(compiled)
        self._false_friends = tuple(dict.fromkeys(fold(t) for t in rules.false_friends))
        for friend in self._false_friends:
            if friend not in self._term_ids:  # a friend that is also a term stays a term
                self._automaton.add_word(friend, (-1, len(friend)))
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
        self._context_rules = tuple(rules.context_fields)
        self._context_cache: dict[str, _Match | None] = {}
        self._context_by_key: dict[tuple[str, str, str], tuple[str, _Match] | None] = {}

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
            any=any_, all=all_, none=none, regex=tuple((p, LazyRegex(p)) for p in cond.regex),
            any_pos=_positions(any_), all_pos=tuple(_positions(g) for g in all_), none_pos=_positions(none),
        )

    # --- matching ------------------------------------------------------------------------------

    def _hits(self, folded: str) -> dict[int, int]:
        """Term id -> position of its first hit in ``folded``."""
        if not folded or not self._terms:
            return {}
        found: dict[int, int] = {}
        for end, (tid, length) in self._automaton.iter(folded):
            if tid < 0:  # a false friend: rare, so the text is scanned again, more carefully
                return self._hits_beside_friends(folded)
            if tid not in found:
                found[tid] = end - length + 1
        return found

    def _hits_beside_friends(self, folded: str) -> dict[int, int]:
        """:meth:`_hits` for a text holding a false friend: terms inside one do not count."""
        found: dict[int, int] = {}
        occurrences = [(end - length + 1, end, tid) for end, (tid, length) in self._automaton.iter(folded)]
        friends = [(start, end) for start, end, tid in occurrences if tid < 0]
        for start, end, tid in occurrences:
            if tid < 0 or tid in found:
                continue
            if friends and any(a <= start and end <= b for a, b in friends):
                continue  # 產檢 inside 智慧財產檢察: the term is not meant
            found[tid] = start
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
            return Decision(EXCLUDED, rule="subtotal-row", reasons=_SUBTOTAL_REASONS)
        matches, exclusions, viable = self._match(line, line.description)
        if not matches and not (exclusions and viable):
            # Nothing hit, or nothing could match even in part (see _match): no sub-item can match.
            decision = Decision(UNMATCHED, evidence=exclusions or ())  # most lines: nothing kept per line
        else:
            decision = self._decide(line, matches, exclusions)
        if self._context_rules and decision.status != MATCHED:
            context = self._context_by_key.get((line.context, line.branch, line.plan), _UNSEEN)
            if context is _UNSEEN:
                context = self._line_context(line)
            if context is not None:
                return self._with_context(line, decision, context)
        return decision

    def _decide(self, line: LineItem, matches: list[_Match], exclusions: list[Evidence]) -> Decision:
        """Decide a line some category hit: sub-items, this year's item, change clauses, shares."""
        text = line.description
        current = this_year_text(nfkc(text))
        if current != nfkc(text):
            own, exclusions, _ = self._match(line, current)
        else:
            own = matches
        preamble, pieces = split_subitems(text, line.unit)
        if pieces and not self._names_all(line, this_year_text(preamble)):
            # Sub-items are decided one by one, unless the preamble names the purpose of them all
            # ("性別培力課程經費如下：(1)…(2)…"), in which case the whole line is decided.
            decision = self._decide_subitems(line, own, pieces)
            if decision is not None:
                return decision
        elif not pieces and is_removal(current):
            return Decision(UNMATCHED, rule="removal", evidence=exclusions,
                            reasons=["本項為上年度預算減列（如數減列），本年度未編列，不計入"])
        if not own:
            if matches and change_text(nfkc(text)):
                return self._change_only(line, matches)
            return Decision(UNMATCHED, evidence=exclusions)
        chosen, reasons = _choose(own)
        return self._decide_whole(line, own, chosen, reasons, current)

    def _decide_whole(self, line: LineItem, matches: list[_Match], chosen: _Match | None,
                      reasons: list[str], text: str | None = None) -> Decision:
        text = line.description if text is None else text
        evidence = [e for m in matches for e in m.evidence]
        if chosen is None:
            return Decision(REVIEW, rule="ambiguous", evidence=evidence,
                            also_matched=[m.category.category.id for m in matches], reasons=reasons)
        cat = chosen.category.category
        amount = line.amount
        if amount is None:
            reasons.append("金額空白或無法讀取，無法計算性別預算數")
        base, share, note = self._item_part(line, text, chosen.category)
        if note == "other-account":
            return Decision(UNMATCHED, rule="account-split", evidence=chosen.evidence,
                            reasons=[f"說明依用途別分列金額，性別項目未列本科目（{line.account}）"])
        if share is None:
            shared = self._shared_reason(text, chosen.category)
            if shared:
                reasons.append(shared)
        if cat.review:
            reasons.append(_own_review_reason(cat))
        if note:
            reasons.append(note)
        part = share if share is not None else base
        gender = share_of(part, chosen.category.share, line.unit) if part is not None else Decimal(0)
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
        account = _account_name(line)
        split_by_account = False
        for piece in pieces:
            removal = is_removal(piece.text)
            sub_matches = [] if removal else self._match(line, this_year_text(piece.text))[0]
            split, part = account_share(piece.text, account, line.unit)
            if split:
                split_by_account = True
                piece = replace(piece, amount=part)
                if part is None:  # the item is funded from other accounts: not this line's
                    sub_matches = []
            sub_chosen, _ = _choose(sub_matches) if sub_matches else (None, [])
            subitems.append(SubItem(piece.marker, piece.text, piece.amount,
                                    tuple(m.category.category.id for m in sub_matches)))
            if sub_matches:
                gender_pieces.append((piece, sub_chosen or sub_matches[0]))
                if sub_chosen is None:
                    reasons.append(f"子項 {piece.marker} 同時符合多個類別且無優先順序")
        if not gender_pieces:
            if split_by_account:
                return Decision(UNMATCHED, rule="account-split", subitems=subitems,
                                reasons=[f"說明依用途別分列金額，性別項目未列本科目（{line.account}）"])
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
        elif split_by_account:
            if gender > line.amount:
                reasons.append(f"說明所列本科目金額 {gender} 超過本行金額 {line.amount}，請核對")
        elif None not in stated and (listed := sum(stated, Decimal(0))) != line.amount:
            reasons.append(f"各子項金額合計 {listed} 與本行金額 {line.amount} 不符，子項金額未採信")
        elif None in stated:
            reasons.append("部分子項未載明金額，無法核對子項合計")
        if line.amount is not None and gender > line.amount:  # a suggestion never exceeds the line
            reasons.append(f"性別子項金額 {gender} 超過本行金額，建議數以本行金額為上限")
            gender = line.amount
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

    def classify_all(self, lines: Iterable[LineItem]) -> Iterator[Decision]:
        """Decide every line, in order."""
        for line in lines:
            yield self.classify(line)


def _positions(terms: frozenset[int]) -> dict[int, int]:
    """Each term id's position in the iteration order of ``terms``."""
    return {tid: i for i, tid in enumerate(terms)}


def _in_order(found: set[int] | frozenset[int], positions: dict[int, int]) -> list[int] | set[int] | frozenset[int]:
    """``found`` in the order its terms have in the condition (see :func:`_positions`)."""
    return sorted(found, key=positions.__getitem__) if len(found) > 1 else found


def classify(lines: Iterable[LineItem], rules: RuleSet) -> list[Decision]:
    """Decide every line with ``rules`` (convenience wrapper around :class:`Classifier`)."""
    return list(Classifier(rules).classify_all(lines))
