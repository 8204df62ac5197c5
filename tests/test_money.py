"""Money: strict amount parsing, units and half-up rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from budget.money import (
    AmountError, canonical_unit, convert, format_amount, format_thousands, parse_amount, round_half_up,
    share_of, unit_in_text,
)


@pytest.mark.parametrize("text, expected", [
    ("1,234", Decimal(1234)),
    ("１２３", Decimal(123)),
    ("(1,234)", Decimal(-1234)),
    ("（1,234）", Decimal(-1234)),
    ("△1,234", Decimal(-1234)),
    ("▲500", Decimal(-500)),
    ("-1,234", Decimal(-1234)),
    ("－1,234", Decimal(-1234)),
    ("−1,234", Decimal(-1234)),
    ("1,234,567.50", Decimal("1234567.50")),
    (" 22500 ", Decimal(22500)),
    ("$1,234", Decimal(1234)),
    (1234, Decimal(1234)),
    (2.675, Decimal("2.675")),
    (1234.0, Decimal(1234)),
])
def test_amounts_that_are_read(text, expected):
    assert parse_amount(text)[0] == expected


@pytest.mark.parametrize("text, unit", [("1,234千元", "千元"), ("60 千元", "千元"), ("2,273,088元", "元"),
                                        ("5萬元", "萬元"), ("12仟元", "千元")])
def test_amount_text_carries_its_unit(text, unit):
    assert parse_amount(text)[1] == unit


@pytest.mark.parametrize("text", ["1e3", "NaN", "Infinity", "1_234", "١٢٣", "12,34", "1,2345", "1.234,5",
                                  "abc", "1 2 3x", float("nan"), True])
def test_amounts_that_are_refused(text):
    with pytest.raises(AmountError):
        parse_amount(text)


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", "-"])
def test_blank_is_none_not_zero(blank):
    assert parse_amount(blank) == (None, None)


def test_float_sum_is_exact_through_decimal():
    total = parse_amount(0.1)[0] + parse_amount(0.2)[0]
    assert total == Decimal("0.3")


def test_round_half_up_not_half_even():
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("1234.5")) == 1235
    assert round_half_up(Decimal("-2.5")) == -3
    assert round_half_up(Decimal("2.675"), "0.01") == Decimal("2.68")


def test_units_convert_exactly():
    assert convert(Decimal(22500), "元", "千元") == Decimal("22.5")
    assert convert(Decimal("1.5"), "萬元", "元") == Decimal(15000)
    assert canonical_unit("新臺幣千元") == "千元"
    assert canonical_unit("仟元") == "千元"
    assert canonical_unit("公斤") is None
    assert unit_in_text("單位：新臺幣千元") == "千元"
    assert unit_in_text("單位:元") == "元"
    assert unit_in_text("臺北市政府資訊局 116年度") is None


def test_share_of_rounds_at_the_whole_yuan():
    assert share_of(Decimal(1001), Decimal(40), "元") == Decimal(400)
    assert share_of(Decimal("0.0015"), Decimal(50), "千元") == Decimal("0.001")  # 0.75元 -> 1元
    assert share_of(Decimal(7), Decimal(100), "千元") == Decimal(7)


def test_formatting():
    assert format_amount(Decimal("1E+3")) == "1000"
    assert format_amount(Decimal("13.200")) == "13.2"
    assert format_thousands(Decimal("-1234567.5")) == "-1,234,567.5"


@pytest.mark.parametrize("value", [
    "9" * 5000, "1" + "0" * 15, 10**15, -(10**15), 1e15, 1e300, Decimal("1E+20"), "0." + "1" * 30,
    "1,000,000,000,000,000",
])
def test_amounts_no_budget_could_hold_are_refused_with_a_short_message(value):
    with pytest.raises(AmountError) as caught:
        parse_amount(value)
    assert "超出預算金額可能的範圍" in str(caught.value)
    assert len(str(caught.value)) < 120  # a 5,000-digit text is not echoed whole


@pytest.mark.parametrize("value, expected", [
    ("999,999,999,999,999", Decimal("999999999999999")), (10**15 - 1, Decimal(10**15 - 1)),
    ("0.0000000000000000001", Decimal("1E-19")), ("-123,456.78千元", Decimal("-123456.78")),
])
def test_amounts_up_to_the_limit_are_read_exactly(value, expected):
    assert parse_amount(value)[0] == expected
