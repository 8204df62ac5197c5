"""How much of a line is the category's: shared purposes, stated shares, this year's part, context.

A mixin of :class:`budget.engine.classifier.Classifier` (it uses the classifier's term automaton through
``self._hits`` and ``self._match``); split out so that each module stays small. Pure.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..lazyre import LazyPattern
from ..models import MATCHED, REVIEW, UNMATCHED, Decision, LineItem
from ..money import share_of
from ..normalize import fold, nfkc
from ..rules import Category
from .phrasing import account_share, amounts_in, has_unit_price, without_programme_figures, year_figure

if TYPE_CHECKING:
    from .classifier import _Compiled, _Match

_CLAUSE_RE = LazyPattern(r"[。；;]")
_SEGMENT_RE = LazyPattern(r"[。；;，()（）:：]|,(?!\d{3})")
# Words that name an activity or a kind of spending, not a purpose of its own (追蹤輔導, 推動…業務).
_ACTIVITY_RE = LazyPattern(
    r"推動|推展|辦理|強化|加強|落實|促進|健全|建置|委託|補助|追蹤|輔導|諮詢|訪視|陪同|安置|營運|維護|管理|督導|考核|"
    r"評鑑|研究|調查|研習|訓練|培訓|宣導|推廣|業務|工作|服務|計畫|措施|相關|經費|其他|所需|各項")
# An element that is a programme of its own: starts with a verb of programmes or ends in one's name.
_PROGRAMME_RE = LazyPattern(r"^(?:推動|推展|辦理|強化|加強|促進|健全|落實)|(?:業務|工作|管理|事務|計畫|企劃)$")
# 「…經費66,319千元」: the amount closing an item's name.
_AMOUNT_TAIL_RE = LazyPattern(r"經費?[\d,.]*(?:千元|萬元|元)?$|[\d,.]+(?:千元|萬元|元)$")
_CODE_RE = LazyPattern(r"^[\s\d０-９.\-]+")
_BRACKETS_RE = LazyPattern(r"\([^()]*\)|\[[^\[\]]*\]|「[^「」]*」")
# The last item of a list joined by 及/暨/與/和, unless the character is part of a word (普及, 參與…).
_LAST_JOIN_RE = LazyPattern(r"(?<![普涉以波危顧觸企])及|暨|(?<![參給])與(?!會)|(?<![平溫總緩調])和(?!平)")
# What is left of an element that names no purpose: amounts, counts, 等, punctuation.
_NOT_A_PURPOSE_RE = LazyPattern(r"[\d,.]+(?:千元|萬元|元|人|場|次|梯|期|班|名|式|批|件|個|月|年)?|等|各項|相關|所需|費用|[^\w]")


def _enumerated(folded: str) -> list[str]:
    """The items of an enumeration ``甲、乙及丙`` in a folded clause."""
    parts = folded.split("、")
    last = _LAST_JOIN_RE.split(parts[-1], maxsplit=1)
    return [p for p in parts[:-1] + last if p]


class PurposeChecks:
    """The classifier's checks of what part of a line is the category's (see the module docstring)."""

    def _names_all(self, line: LineItem, preamble: str) -> bool:
        """Does a sub-item list's preamble name one purpose for all of them (性別培力課程經費如下：)?
        A preamble that names a purpose among others (「人口販運防制及居留管理經費…包括：」) does not."""
        matches = self._match(line, preamble)[0]
        if not matches:
            return False
        chosen, _ = _choose(matches)
        return chosen is None or self._shared_reason(preamble, chosen.category) is None

    def _change_only(self, line: LineItem, matches: list[_Match]) -> Decision:
        """A purpose named only in a change clause (「較上年度增列辦理性別平等…經費」): part of the item."""
        chosen, _ = _choose(matches)
        terms = _unique([e.term for m in matches for e in m.evidence if not e.excluded and e.kind != "code"])
        return Decision(
            REVIEW, category=chosen.category.category.id if chosen else None, gender_amount=Decimal(0),
            rule="change-clause", evidence=[e for m in matches for e in m.evidence],
            also_matched=[m.category.category.id for m in matches if m is not chosen],
            reasons=[f"「{'、'.join(terms[:3])}」只出現在較上年度增減說明：本年度項目有一部分屬此用途，"
                     "說明未載明其本年度金額，請認定是否計入及金額"])

    def _item_part(self, line: LineItem, text: str, c: _Compiled) -> tuple[Decimal | None, Decimal | None, str]:
        """(this year's amount of the item, its stated gender share or None, a note or "")."""
        amount = line.amount
        split, part = account_share(text, _account_name(line), line.unit)
        if split and part is None:
            return amount, None, "other-account"
        if split:
            if amount is not None and part > amount:
                return amount, None, f"說明列本科目 {part}，超過本行金額 {amount}，請核對"
            return part, None, ""
        figure = year_figure(text, line.unit)
        base = amount if figure is None or amount is None else min(figure, amount)
        share = self._stated_share(text, c, line.unit)
        if share is not None and base is not None and share >= base:
            share = None
        return base, share, ""

    def _stated_share(self, text: str, c: _Compiled, unit: str) -> Decimal | None:
        """The amount the text states for the category's own part (「…600千元(含性別統計專刊180千元)」).

        The text is cut at commas, full stops and brackets; when every piece that names the category
        states one amount and together they are one figure, that figure is the share. None otherwise.
        """
        figures: set[Decimal] = set()
        if "元" not in text:
            return None
        for segment in _SEGMENT_RE.split(without_programme_figures(nfkc(text))):
            hits = self._hits(fold(segment))
            if not any(t in c.main.positive or t in c.subject for t in hits):
                continue
            found = amounts_in(segment, unit)
            if len(found) != 1 or has_unit_price(segment):
                return None
            figures.add(found[0])
        return next(iter(figures)) if len(figures) == 1 else None

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
            if "、" not in folded and _LAST_JOIN_RE.search(folded):
                # 「強化婦幼安全及推動社區治安業務」: two purposes joined by 及 in the part naming the subject.
                for part in _SEGMENT_RE.split(folded):
                    if _LAST_JOIN_RE.search(part) and any(t in c.subject for t in self._hits(part)):
                        reason = self._joined_purposes_reason(_AMOUNT_TAIL_RE.sub("", part), c)
                        if reason:
                            return reason
        return None

    def _enumeration_reason(self, folded: str, c: _Compiled) -> str | None:
        """The items of the list ``甲、乙及丙`` that are other purposes than category ``c``, as a reason."""
        uncovered = [e for e in _enumerated(folded) if not self._covers(e, c)]
        if uncovered:
            return f"與其他用途（{'、'.join(uncovered[:3])}）合併編列，說明未載明性別部分金額"
        return None

    def _joined_purposes_reason(self, folded: str, c: _Compiled) -> str | None:
        """「強化婦幼安全及推動社區治安業務」: an item joined by 及 to another programme (one that starts
        with 推動/辦理… or ends in 業務/管理…), not to a part of the same thing (講座及展覽)."""
        others = [e for e in _enumerated(folded)
                  if _PROGRAMME_RE.search(e) and not self._covers(e, c, minimum=3)]
        if others:
            return f"與其他業務（{'、'.join(others[:3])}）合併編列，說明未載明性別部分金額"
        return None

    def _covers(self, element: str, c: _Compiled, minimum: int = 2) -> bool:
        """Is an enumerated element about the category's subject, or only a cost item or activity of
        it (講座鐘點費、場地費 — the rules' ``cost_terms`` and the category's own terms)?"""
        hits = self._hits(element)
        if any(t in c.subject for t in hits):
            return True
        own = sorted((fold(self._terms[t]) for t in hits if t in c.main.positive), key=len, reverse=True)
        for term in own + self._cost_terms:
            element = element.replace(term, "")
        element = _ACTIVITY_RE.sub("", element)
        return len(_NOT_A_PURPOSE_RE.sub("", element)) < minimum

    # --- context above the line ------------------------------------------------------------------

    def _context_match(self, name: str) -> _Match | None:
        """The category a plan, branch or 案名 is wholly about (matched cleanly on its own), else None."""
        if name in self._context_cache:
            return self._context_cache[name]
        found = None
        matches = self._match(_NAMELESS, name)[0]
        if matches:
            chosen, reasons = _choose(matches)
            folded = _BRACKETS_RE.sub("", fold(name))
            joined = "、" in folded or _LAST_JOIN_RE.search(folded)
            if (chosen is not None and not reasons and not chosen.category.category.review
                    and self._shared_reason(name, chosen.category) is None
                    and not (joined and self._enumeration_reason(folded, chosen.category))):
                found = chosen
        if len(self._context_cache) > 50_000:
            self._context_cache.clear()
        self._context_cache[name] = found
        return found

    def _line_context(self, line: LineItem) -> tuple[str, _Match] | None:
        """The first of the line's 案名, branch and plan (``context_fields``) that is a gender measure,
        with its match; cached on the three names, which repeat over many lines."""
        key = (line.context, line.branch, line.plan)
        if key in self._context_by_key:
            return self._context_by_key[key]
        found = None
        for field in self._context_rules:
            name = getattr(line, field)
            match = self._context_match(name) if name else None
            if match is not None:
                found = (field, match)
                break
        if len(self._context_by_key) > 50_000:
            self._context_by_key.clear()
        self._context_by_key[key] = found
        return found

    def _with_context(self, line: LineItem, decision: Decision, context: tuple[str, _Match]) -> Decision:
        """A line under a plan, branch or 案名 that is a gender measure (``context``: the field and its
        match) is that measure, unless its own text decides (a category, a shared amount, a removal or
        another account's item)."""
        if decision.status == REVIEW:
            own = self.rules.category(decision.rule) if decision.rule else None
            only_own_review = own is not None and own.review and decision.reasons == [_own_review_reason(own)]
            if not (only_own_review or decision.rule == "change-clause"):
                return decision
        elif decision.status != UNMATCHED or decision.rule in ("removal", "account-split"):
            return decision
        field, match = context
        c = match.category
        base, _, _ = self._item_part(line, nfkc(line.description), c)
        evidence = [replace(e, field=field) for e in match.evidence]
        if base is None:
            return Decision(REVIEW, category=c.category.id, share_percent=c.share, rule=c.category.id,
                            evidence=evidence, reasons=["金額空白或無法讀取，無法計算性別預算數"])
        return Decision(MATCHED, category=c.category.id, share_percent=c.share,
                        gender_amount=share_of(base, c.share, line.unit), rule=c.category.id, evidence=evidence)


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


def _own_review_reason(category: Category) -> str:
    """Why a category marked ``review = true`` needs a person (its own words, or a default)."""
    return category.review_reason or f"規則「{category.id}」標記為需人工覆核"


_NAMELESS = LineItem()


def _account_name(line: LineItem) -> str:
    """The account's name without its code (「2054 一般事務費」 → 「一般事務費」), folded."""
    return fold(_CODE_RE.sub("", line.account)) if line.account else ""


def _unique(items: list) -> list:
    return list(dict.fromkeys(items))
