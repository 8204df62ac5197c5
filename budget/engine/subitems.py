"""Sub-items of a budget description: ``(1)…15千元。(2)…50千元``, ``<1>…``, ``1.…``, ``一、…``."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from ..lazyre import LazyPattern
from ..money import UNITS, convert
from .phrasing import account_parts, is_removal, this_year_text, without_programme_figures, year_figure

# Marker kinds, each with the pattern of one marker on NFKC text; group 1 is its number.
_MARKERS: dict[str, re.Pattern[str]] = {  # compiled at import: every line is looked at for them
    "paren": re.compile(r"\((\d{1,2})\)"),
    "angle": re.compile(r"[<〈](\d{1,2})[>〉]"),
    "dot": re.compile(r"(?:(?<=^)|(?<=[。；;，,：:\s)）]))(\d{1,2})\.(?!\d)"),
    "han": re.compile(r"(?:(?<=^)|(?<=[。；;，,：:\s]))([一二三四五六七八九十]{1,3})、"),
}
_HAN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_MONEY_RE = LazyPattern(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(千元|仟元|萬元|元)")
_TOTAL_BEFORE = LazyPattern(r"(?:合計|共計|總計|小計|計|共)\s*(?:約)?\s*$")


@dataclass(frozen=True, slots=True)
class Piece:
    """A sub-item as found: its marker, its text (NFKC, marker included) and stated amount."""

    marker: str
    text: str
    amount: Decimal | None


def _han_number(text: str) -> int:
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _HAN_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _HAN_DIGITS.get(tens, 0) * 10 + _HAN_DIGITS.get(ones, 0)
    return _HAN_DIGITS.get(text, 0)


def _numbered(kind: str, text: str) -> list[tuple[int, int, str]]:
    """Markers of one kind that count 1, 2, 3… in order: (start, end, marker text)."""
    found = []
    expected = 1
    for m in _MARKERS[kind].finditer(text):
        number = _han_number(m.group(1)) if kind == "han" else int(m.group(1))
        if number == expected:
            found.append((m.start(), m.end(), m.group(0)))
            expected += 1
    return found if len(found) >= 2 else []


def stated_amount(text: str, unit: str) -> Decimal | None:
    """The amount a piece of description states, converted to ``unit``.

    The amount after 合計/共計/計 wins; a single amount is taken as is; several amounts are the
    last one when it is their total, else their sum.
    """
    amounts: list[tuple[Decimal, bool]] = []
    for m in _MONEY_RE.finditer(text):
        value = Decimal(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
        src_unit = "千元" if m.group(3) == "仟元" else m.group(3)
        value = convert(value, src_unit, unit) if unit in UNITS else value
        amounts.append((value, bool(_TOTAL_BEFORE.search(text[: m.start()]))))
    if not amounts:
        return None
    totals = [v for v, is_total in amounts if is_total]
    if totals:
        return totals[-1]
    values = [v for v, _ in amounts]
    if len(values) == 1:
        return values[0]
    if values[-1] == sum(values[:-1]):
        return values[-1]
    return sum(values, Decimal(0))


def split_subitems(description: str, unit: str) -> tuple[str, list[Piece]]:
    """Split a description into its preamble and numbered sub-items (outermost numbering).

    Returns ``(preamble, pieces)``; ``pieces`` is empty when the description has fewer than two
    numbered sub-items. A lone label such as ``(3)`` in front of the text is not a split.
    """
    text = unicodedata.normalize("NFKC", description)
    best: list[tuple[int, int, str]] = []
    for kind in _MARKERS:
        found = _numbered(kind, text)
        if found and (not best or found[0][0] < best[0][0]):
            best = found
    if not best:
        return text, []
    preamble = text[: best[0][0]]
    pieces = []
    for i, (start, _end, marker) in enumerate(best):
        stop = best[i + 1][0] if i + 1 < len(best) else len(text)
        chunk = text[start:stop].strip()
        pieces.append(Piece(marker, chunk, item_amount(chunk, unit)))
    return preamble, pieces


def item_amount(text: str, unit: str) -> Decimal | None:
    """This year's amount of one item: 0 for a removal of last year's budget, the year's figure of a
    multi-year programme, else the amount stated outside change clauses and programme totals."""
    if is_removal(text):
        return Decimal(0)
    figure = year_figure(text, unit)
    if figure is not None:
        return figure
    current = without_programme_figures(this_year_text(text))
    if account_parts(current, unit):  # 「計列120千元（按日按件計資酬金80千元、一般事務費40千元）」
        current = re.sub(r"\([^()]*\)", "", current)
    return stated_amount(current, unit)
