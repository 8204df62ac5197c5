"""pair_lines normalises each repeated text once, and pairs exactly as line_key says."""

from __future__ import annotations

from decimal import Decimal

from budget.carry import description_key, line_key, pair_lines
from budget.models import TOTAL, LineItem
from budget.normalize import Remembered, fold


def _line(description: str, amount: int, plan: str = "一般行政", kind: str = "line", context: str = "") -> LineItem:
    return LineItem(description=description, amount=Decimal(amount), plan=plan, branch="01 人員維持",
                    account="業務費", account_code="0200", kind=kind, context=context)


def test_remembered_normalisations_give_the_keys_line_key_gives() -> None:
    lines = [_line("辦理性別落差分析所需經費48,070元", 48070, plan="一般行政　"), _line("１１６年度 研習", 5, plan="一般行政"),
             _line("臺灣 研習", 7, context="案名：台灣")]
    folded, described = Remembered(fold), Remembered(description_key)
    assert [line_key(line, folded.__getitem__, described.__getitem__) for line in lines] == \
        [line_key(line) for line in lines]
    assert "一般行政" in folded.values() and len(folded) < 4 * len(lines)


def test_pairs_are_the_same_lines_and_nothing_to_pair_gives_none() -> None:
    old = [_line("研習", 5), _line("研習", 7), _line("出席費", 9), _line("小計", 21, kind=TOTAL)]
    new = [_line("出席費", 10), _line("研習", 7), _line("研習", 6), _line("新項目", 1), _line("小計", 24, kind=TOTAL)]
    assert pair_lines(old, new) == [(2, 0), (1, 1), (0, 2)]
    assert pair_lines([], new) == []
    assert pair_lines([old[-1]], new) == []  # a subtotal is never paired
