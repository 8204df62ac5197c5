"""Money: strict parsing of amount text, units 元/千元/萬元, Decimal arithmetic rounded half up."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: How many 元 one unit is worth. Keys are the canonical unit names.
UNITS: dict[str, int] = {"元": 1, "千元": 1000, "萬元": 10000}

_UNIT_ALIASES = {
    "元": "元", "新臺幣元": "元", "新台幣元": "元", "ntd": "元", "twd": "元", "nt$": "元",
    "千元": "千元", "新臺幣千元": "千元", "新台幣千元": "千元", "仟元": "千元", "新臺幣仟元": "千元",
    "萬元": "萬元", "新臺幣萬元": "萬元", "新台幣萬元": "萬元",
}


def canonical_unit(text: str) -> str | None:
    """The canonical unit (元, 千元, 萬元) named by ``text``, or None when it names none."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    key = key.removeprefix("單位:").removeprefix("單位")
    return _UNIT_ALIASES.get(key)


def unit_in_text(text: str) -> str | None:
    """The unit declared in a title line such as ``單位：新臺幣千元`` (None if there is none)."""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    m = re.search(r"單位[:]?(?:新[臺台]幣)?(千元|仟元|萬元|元)", folded)
    if m:
        return canonical_unit(m.group(1))
    return None


def convert(amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``amount`` in ``from_unit`` expressed in ``to_unit``, exactly (no rounding)."""
    if from_unit == to_unit:
        return amount
    return amount * UNITS[from_unit] / UNITS[to_unit]


def unit_quantum(unit: str) -> Decimal:
    """The smallest step that is still a whole 元 in ``unit`` (1, 0.001 or 0.0001)."""
    return Decimal(1).scaleb(-len(str(UNITS[unit])) + 1)


def round_half_up(amount: Decimal, quantum: Decimal | str = "1") -> Decimal:
    """Round to ``quantum`` with 四捨五入 (half up, away from zero), never Python's half-even."""
    return amount.quantize(Decimal(quantum), rounding=ROUND_HALF_UP)


def share_of(amount: Decimal, percent: Decimal, unit: str) -> Decimal:
    """``percent`` % of ``amount``, rounded half up to the whole 元 in ``unit``."""
    if percent == 100:
        return amount
    return round_half_up(amount * percent / 100, unit_quantum(unit))


# --- strict parsing of amount cells -------------------------------------------------------------

_NEGATIVE_MARKS = "-−－–—△▲"
_AMOUNT_RE = re.compile(
    r"""^(?P<sign>[-])?
        (?P<int>\d{1,3}(?:,\d{3})+|\d+)
        (?:\.(?P<frac>\d+))?$""",
    re.VERBOSE | re.ASCII,
)


class AmountError(ValueError):
    """The text is not an amount of money this tool will read."""


#: No budget line holds this much (10^15 of any unit; a whole national budget is about 3×10^12 元), and
#: past it a spreadsheet's 15-digit numbers can no longer hold the amount exactly.
AMOUNT_LIMIT = Decimal(10) ** 15
#: Digits an amount's text may have (integer and fraction together): more is not a budget figure.
AMOUNT_DIGITS = 19


def _too_large(shown: object) -> AmountError:
    """The error for an amount no budget could hold (the text shortened: it may be thousands of digits)."""
    from .problems import clip

    return AmountError(f"「{clip(shown)}」超出預算金額可能的範圍（絕對值須小於 10^15）")


def _in_range(amount: Decimal, shown: object) -> Decimal:
    """``amount`` itself, or :class:`AmountError` when no budget could hold it (or a sheet could not store it)."""
    if abs(amount) >= AMOUNT_LIMIT:
        raise _too_large(shown)
    return amount


def parse_amount(value: object) -> tuple[Decimal | None, str | None]:
    """Parse one amount cell strictly.

    Returns ``(amount, unit)``: ``(None, None)`` for a blank cell, the unit when the text carries
    one (``1,234千元``). Accepts numbers, ``1,234``, full-width digits, ``(1,234)``, ``△1,234`` and
    ``-1,234`` negatives, a leading ``$``/``NT$``, trailing 元/千元/萬元. Rejects what ``Decimal`` or
    ``float`` would wrongly accept: ``1e3``, ``NaN``, ``Infinity``, ``1_234``, non-ASCII digits,
    bad thousands grouping such as ``12,34``. Raises :class:`AmountError` with a zh-TW message.
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        raise AmountError(f"「{value}」不是金額")
    if isinstance(value, int):
        return _in_range(Decimal(value), value), None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise AmountError(f"「{value}」不是金額")
        # repr gives the shortest text that round-trips: Decimal(repr(2.675)) == Decimal("2.675").
        d = _in_range(Decimal(repr(value)), value)
        return (d.quantize(Decimal(1)) if d == d.to_integral_value() else d), None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError(f"「{value}」不是金額")
        return _in_range(value, value), None
    text = str(value)
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = re.sub(r"[\s\u3000]+", "", folded)
    if folded in ("", "-", "－", "—"):
        return None, None
    unit = None
    m = re.search(r"(新[臺台]幣)?(千元|仟元|萬元|元)$", folded)
    if m:
        unit = canonical_unit(m.group(2))
        folded = folded[: m.start()]
    folded = re.sub(r"^(NT\$|NTD|\$)", "", folded, flags=re.IGNORECASE)
    negative = False
    if folded.startswith("(") and folded.endswith(")"):
        negative, folded = True, folded[1:-1]
    if folded and folded[0] in _NEGATIVE_MARKS:
        negative, folded = not negative, folded[1:]
    match = _AMOUNT_RE.match(folded)
    if not match or not folded.isascii():
        raise AmountError(f"「{text}」無法解讀為金額")
    digits = match.group("int").replace(",", "")
    frac = match.group("frac")
    if len(digits.lstrip("0")) + len(frac or "") > AMOUNT_DIGITS:
        raise _too_large(text)
    amount = _in_range(Decimal(digits + ("." + frac if frac else "")), text)
    return (-amount if negative else amount), unit


def format_amount(amount: Decimal | None) -> str:
    """An amount as plain decimal text for JSON (``"22500"``, ``"13.2"``), never in E-notation."""
    if amount is None:
        return ""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def format_thousands(amount: Decimal | None) -> str:
    """An amount with thousands separators for people (``1,234,567``)."""
    if amount is None:
        return ""
    plain = format_amount(amount)
    whole, _, frac = plain.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-') or 0):,}"
    return sign + whole + ("." + frac if frac else "")


def to_decimal(text: str) -> Decimal:
    """A plain decimal string (as written by this tool) back to Decimal."""
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - only on corrupted tool output
        raise AmountError(f"「{text}」無法解讀為金額") from exc
