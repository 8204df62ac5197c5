"""The reader's fast path for plain amount text agrees with the strict parser (money.parse_amount)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from budget.money import AmountError, parse_amount
from budget.exports.fields import _PLAIN_AMOUNT

amount_like = st.from_regex(r"\A-?[0-9,]{1,12}(\.[0-9]{1,3})?\Z", fullmatch=True)


@settings(max_examples=400)
@given(st.one_of(amount_like, st.text(alphabet="0123456789,.-", min_size=1, max_size=12)))
def test_fast_path_accepts_only_what_parse_amount_accepts_and_gives_the_same_amount(text):
    if not _PLAIN_AMOUNT.fullmatch(text):
        return
    strict, unit = parse_amount(text)
    assert unit is None
    assert strict == Decimal(text.replace(",", ""))


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_grouped_integers_take_the_fast_path(n):
    text = f"{n:,}"
    assert _PLAIN_AMOUNT.fullmatch(text)
    assert Decimal(text.replace(",", "")) == n


def test_bad_grouping_is_left_to_the_strict_parser():
    for text in ("12,34", "1,2345", "1.234,5", "1_234", "1e3"):
        assert not _PLAIN_AMOUNT.fullmatch(text)
        try:
            parse_amount(text)
        except AmountError:
            pass
        else:  # pragma: no cover - the strict parser must refuse these
            raise AssertionError(text)
