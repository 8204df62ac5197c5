"""Subtotal and heading rows: recognise them (a label, a sum of the lines above or below) and check labelled totals.

Sums run in a decimal context wide enough for any sheet (amounts have at most 15 significant digits,
a sheet at most 1,048,576 rows), so a total is never rounded by Python's default 28-digit context.
"""

from __future__ import annotations

import functools
import re
from decimal import Context, Decimal, localcontext
from typing import Callable

from ..models import LINE, TOTAL, LineItem
from ..money import convert, format_thousands
from ..normalize import fold
from .flags import (FLAG_AMOUNT_UNREADABLE, FLAG_FORMULA_NO_VALUE, FLAG_TOTAL_LABEL, FLAG_TOTAL_MISMATCH,
                    FLAG_TOTAL_SUM_ABOVE, FLAG_TOTAL_SUM_BELOW)
from ..problems import WARNING

#: Digits kept by every sum the reader makes: 15 per amount, 7 for the row count, room for 元 fractions.
SUM_CONTEXT = Context(prec=60)

_TOTAL_LABEL = re.compile(r"^.{0,12}?(合計|小計|總計|共計|合共|grandtotal|subtotal|total)(數|金額|數額)?$")
_LABEL_PUNCT = re.compile(r"[:：()（）\[\]【】〔〕<>＜＞「」『』.。、,，;；\-－—_=＝*＊#＃/／]")
_LABEL_HINT = re.compile(r"[合小總共][\s\u3000]*[計共]|[Tt][Oo][Tt][Aa][Ll]|ｔｏｔａｌ|ＴＯＴＡＬ")


@functools.lru_cache(maxsize=65536)
def is_total_label(text: str) -> bool:
    """True when a cell is only a subtotal/total label: 合計, 小 計, 總計：, 業務費小計, 以上共計, Total…"""
    if not text or len(text) > 30 or not _LABEL_HINT.search(text):
        return False
    return bool(_TOTAL_LABEL.match(_LABEL_PUNCT.sub("", fold(text))))


def mark_subtotals(lines: list[LineItem], *, has_account: bool, report, amount_title: str) -> None:
    """Mark the sheet's unlabelled subtotal and heading rows, then check its labelled totals."""
    with localcontext(SUM_CONTEXT):
        _mark_sum_totals(lines)
        if has_account:
            _mark_headings(lines)
        _check_totals(lines, report, amount_title)


def _group_key(line: LineItem) -> tuple[str, str]:
    return (line.plan.strip(), line.branch.strip())


def _in_yuan(line: LineItem) -> Decimal | None:
    if line.amount is None or line.unit == "元":
        return line.amount
    return convert(line.amount, line.unit, "元")


def _label_only(line: LineItem) -> bool:
    desc = line.description
    return not desc or not desc.strip() or (len(desc) <= 30 and is_total_label(desc))


def _sum_run(lines: list[LineItem], start: int, step: int, belongs: Callable[[LineItem], bool],
             stop_at: Decimal | None = None) -> tuple[Decimal, int, int]:
    """Sum (in 元) the consecutive lines from ``start``, going by ``step``, while ``belongs(line)``.

    Stops early once the sum reaches ``stop_at``. Returns (sum, lines summed, index of the last line
    looked at); the count is 0 when a line of the run has an unreadable amount, since then no sum
    can be trusted. Blank amounts are passed over.
    """
    total, count, j = Decimal(0), 0, start
    while 0 <= j < len(lines) and belongs(lines[j]):
        line = lines[j]
        if line.amount is None:
            if FLAG_AMOUNT_UNREADABLE in line.flags or FLAG_FORMULA_NO_VALUE in line.flags:
                return total, 0, j
        else:
            total += _in_yuan(line)
            count += 1
            if total == stop_at:
                return total, count, j
        j += step
    return total, count, j - step


def _mark_sum_totals(lines: list[LineItem]) -> None:
    """Mark unlabelled subtotal rows: a row with no description (or only a label) whose amount equals the
    sum of the lines directly above it (back to the previous total, the header or a change of 工作計畫/
    分支計畫), or directly below it (up to the next row without a description). At least two lines
    must add up, and the amount must not be 0; a genuine line always has a description, so it is not
    taken for a subtotal by accident.
    """
    for i, line in enumerate(lines):
        if (line.description and line.description.strip()) or line.kind != LINE or not line.amount:
            continue
        key = _group_key(line)
        target = _in_yuan(line)

        def above(prev: LineItem) -> bool:
            return (prev.kind != TOTAL and _group_key(prev) == key
                    and not (prev.amount is not None and _label_only(prev)))

        def below(nxt: LineItem) -> bool:
            return nxt.kind != TOTAL and _group_key(nxt) == key and not _label_only(nxt)

        for step, belongs, flag in ((-1, above, FLAG_TOTAL_SUM_ABOVE), (1, below, FLAG_TOTAL_SUM_BELOW)):
            total, count, _ = _sum_run(lines, i + step, step, belongs)
            if count >= 2 and total == target:
                line.kind = TOTAL
                line.flags += (flag,)
                break


def _mark_headings(lines: list[LineItem]) -> None:
    """Mark heading rows that carry their lines' total: a row with no 用途別科目 (a 案別 or 計畫 heading,
    whatever its description says) whose amount equals the sum of the lines right below it that do have
    one, up to the next row without a 用途別科目 or a change of 工作計畫/分支計畫. One line is enough here:
    in a budget book every real line sits under an account, so only a heading lacks one.
    The lines it covers keep the heading's text as their ``context`` (their own 說明 is often only
    本年度所需施工費). Called only for sheets with an account column.
    """
    n = len(lines)
    for i, line in enumerate(lines):
        if line.kind != LINE or not line.amount or line.account or line.account_code:
            continue
        key = _group_key(line)

        def under(nxt: LineItem) -> bool:
            return nxt.kind != TOTAL and bool(nxt.account or nxt.account_code) and _group_key(nxt) == key

        target = _in_yuan(line)
        total, count, j = _sum_run(lines, i + 1, 1, under, stop_at=target)
        if count >= 1 and total == target and (j + 1 >= n or not under(lines[j + 1])):
            line.kind = TOTAL
            line.flags += (FLAG_TOTAL_SUM_BELOW,)
            for covered in lines[i + 1:j + 1]:
                covered.context = line.description


def _check_totals(lines: list[LineItem], report, amount_title: str) -> None:
    """Check each labelled total against the sums it could mean; flag and warn when it equals none.

    A total may cover the lines since the previous total row, all lines so far in its 工作計畫/分支計畫
    (or the whole sheet), or the subtotal rows since the previous grand total.
    """
    if not any(FLAG_TOTAL_LABEL in line.flags for line in lines if line.kind == TOTAL):
        return
    since_total = Decimal(0)
    by_group: dict[tuple[str, str], Decimal] = {}
    all_lines = Decimal(0)
    subtotals = Decimal(0)
    unreliable = False
    for line in lines:
        value = _in_yuan(line)
        if line.kind == LINE:
            if value is None:
                if FLAG_AMOUNT_UNREADABLE in line.flags or FLAG_FORMULA_NO_VALUE in line.flags:
                    unreliable = True
                continue
            since_total += value
            all_lines += value
            key = _group_key(line)
            by_group[key] = by_group.get(key, Decimal(0)) + value
            continue
        if FLAG_TOTAL_LABEL in line.flags and value is not None and not unreliable:
            options = {since_total, all_lines, subtotals, by_group.get(_group_key(line), Decimal(0))}
            if value not in options:
                line.flags += (FLAG_TOTAL_MISMATCH,)
                report.add("total-mismatch",
                           f"小計列金額 {format_thousands(line.amount)}{line.unit} 與上方明細合計 "
                           f"{format_thousands(convert(since_total, '元', line.unit))}{line.unit} 不符；請確認是否漏列或重複。",
                           "a total row does not equal the sum of the lines above it", WARNING, line.row or 0,
                           amount_title)
        if value is not None:
            subtotals = Decimal(0) if _is_grand(line) else subtotals + value
        since_total = Decimal(0)
        unreliable = False


def _is_grand(line: LineItem) -> bool:
    texts = [line.description, line.account, line.plan] + [c for c in line.cells if type(c) is str]
    return any(("總計" in fold(t) or "合計" in fold(t)) and is_total_label(t) for t in texts if t)
