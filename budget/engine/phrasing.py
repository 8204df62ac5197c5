"""Phrasings of budget text that change what a line's figures mean (pure; NFKC text in, facts out).

- A change clause (「較上年度增列…經費N千元」「減列」「淨增」) describes the difference from last year: its
  figures are not this year's item and the purposes it names are a part of the item, not its whole.
- A multi-year programme (「總經費N千元，分5年辦理，…已編列M千元，本年度續編第3年經費X千元」) gives the
  programme total; this year's item is X (or 「本科目編列Y千元」, the part of this account).
- A removal (「上年度…預算業已編竣，所列N千元如數減列」) funds nothing this year.
- A paragraph shared by several accounts may split an item's amount by account
  (「…計列120千元（按日按件計資酬金80千元、一般事務費40千元）」): the line's part is its own account's.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..lazyre import LazyPattern
from ..money import UNITS, convert

_MONEY = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(千元|仟元|萬元|元)"
_MONEY_RE = LazyPattern(_MONEY)
# 「較上年度(淨)增列/減列…」 up to the end of its sentence, a 「包括」 or the next sub-item marker.
# 「較上年度新增X經費N千元」 names a new item, funded this year: it is not a change clause.
_CHANGE_RE = LazyPattern(
    r"[,，]?\s*(?:較|比)上(?:年度|年(?!度))(?!新增|同)[^。;；]*?(?=[。;；]|[,，:：]?\s*包括|\(\d{1,2}\)|[<〈]\d{1,2}[>〉]|$)")
_NEW_ITEM_RE = LazyPattern(r"(?:較|比)上(?:年度|年)(?=新增)")
_REMOVAL_RE = LazyPattern(r"上(?:年度|年)[^。;；]{0,120}?(?:已編竣|編列完竣|已改由|改由)[^。;；]{0,80}?如數減列")
# 「本年度續編第3年經費X千元」「本年度編列第1年經費X千元」「本年度續編最後1年經費X千元」.
_YEAR_FIGURE_RE = LazyPattern(
    r"本年度(?:續編|編列|賡續編列|續列)?(?:第\s*\d+\s*年|最後\s*\d?\s*年)?(?:經費|預算)?(?:約)?\s*" + _MONEY)
_UNIT_PRICE_RE = LazyPattern(r"每[^\d,，。;；]{0,4}\d|\d\s*(?:千元|萬元|元)?\s*[×xX*＊/／]|單價")
_BRACKETED_RE = LazyPattern(r"\(([^()]*)\)")
_MULTI_YEAR_RE = LazyPattern(r"總經費|分\s*\d+\s*年|已編列|續編")
_ACCOUNT_PART_RE = LazyPattern(r"本科目(?:編列|列)\s*" + _MONEY)
# Figures that belong to a programme, not to this year's item.
_NOT_THIS_YEAR_RE = LazyPattern(
    r"(?:總經費|計畫總額|總額|(?:中央)?公務預算負擔|已編列|已編|以前年度)[^,，。;；]{0,12}?" + _MONEY)
# An account named with its amount inside an item: 「一般事務費40千元」「按日按件計資酬金80千元」.
_ACCOUNT_AMOUNT_RE = LazyPattern(r"([\u4e00-\u9fff]{2,10}(?:費|金|酬金|補助|津貼|捐助|設備))\s*" + _MONEY)


#: Names of 用途別科目 (expenditure accounts) common to central and local budgets.
STANDARD_ACCOUNTS: tuple[str, ...] = (
    "一般事務費", "按日按件計資酬金", "物品", "房屋建築養護費", "車輛及辦公器具養護費", "設施及機械設備養護費",
    "國內旅費", "國外旅費", "大陸地區旅費", "運費", "短程車資", "水電費", "通訊費", "資訊服務費", "其他業務租金",
    "稅捐及規費", "保險費", "兼職費", "委辦費", "專業服務費", "教育訓練費", "臨時人員酬金", "約聘僱人員待遇",
    "約用人員酬金", "加班值班費", "法定編制人員待遇", "技工及工友待遇", "聘用人員待遇", "約僱人員待遇",
    "分擔員工保險費", "退休離職儲金", "其他給與", "特別費", "對國內團體之捐助", "對地方政府之補助",
    "對個人之捐助", "獎勵及慰問", "機械及設備", "資訊軟硬體設備", "雜項設備", "交通及運輸設備", "營建工程",
    "設備及投資", "獎補助費", "會費", "業務費", "材料費", "旅運費", "設備費",
)


def _value(match: re.Match[str], unit: str, offset: int = 1) -> Decimal:
    whole, frac, src = match.group(offset), match.group(offset + 1), match.group(offset + 2)
    value = Decimal(whole.replace(",", "") + ("." + frac if frac else ""))
    src = "千元" if src == "仟元" else src
    return convert(value, src, unit) if unit in UNITS else value


def this_year_text(text: str) -> str:
    """``text`` without its change clauses (「較上年度增列…」), a 「較上年度新增X」 kept as 「新增X」."""
    if "上年" not in text:
        return text
    text = _CHANGE_RE.sub("", text)
    return _NEW_ITEM_RE.sub("", text)


def change_text(text: str) -> str:
    """The change clauses of ``text`` joined (empty when there are none)."""
    if "上年" not in text:
        return ""
    return "。".join(m.group(0) for m in _CHANGE_RE.finditer(text))


def is_removal(text: str) -> bool:
    """Does ``text`` only remove last year's budget (「上年度…業已編竣，所列N千元如數減列」)?"""
    return "如數減列" in text and bool(_REMOVAL_RE.search(text))


def year_figure(text: str, unit: str) -> Decimal | None:
    """This year's figure of a multi-year programme, or this account's part (「本科目編列」), else None."""
    if "本" not in text:
        return None
    m = _ACCOUNT_PART_RE.search(text)
    if m:
        return _value(m, unit)
    if not _MULTI_YEAR_RE.search(text):  # 「本年度編列8千元」 alone is just the item's amount
        return None
    m = _YEAR_FIGURE_RE.search(text)
    return _value(m, unit) if m else None


def without_programme_figures(text: str) -> str:
    """``text`` with the programme totals and the amounts of earlier years taken out."""
    if "總" not in text and "已編" not in text and "負擔" not in text:
        return text
    return _NOT_THIS_YEAR_RE.sub("", text)


def account_parts(text: str, unit: str) -> dict[str, Decimal]:
    """Accounts named with an amount inside ``text`` (「按日按件計資酬金80千元、一般事務費40千元」).

    Only a list of two or more is an account split; one 「…費N千元」 is just the item's amount.
    """
    parts: dict[str, Decimal] = {}
    if "元" not in text or "(" not in text:
        return parts
    for inner in _BRACKETED_RE.findall(text):
        found = list(_ACCOUNT_AMOUNT_RE.finditer(inner))
        if len(found) >= 2:
            for m in found:
                parts[m.group(1)] = parts.get(m.group(1), Decimal(0)) + _value(m, unit, 2)
    return parts


def account_share(text: str, account: str, unit: str) -> tuple[bool, Decimal | None]:
    """(does ``text`` split its amount by account, this ``account``'s part or None when it has none).

    A list naming this line's account is a split; a list that does not name it is one only when two of
    its names are 用途別科目 (「講座鐘點費8千元、場地費2千元」 lists cost items of one account, not accounts).
    """
    parts = account_parts(text, unit)
    if not parts or not account:
        return False, None
    for name, value in parts.items():
        if name.endswith(account) or account.endswith(name):
            return True, value
    accounts = sum(1 for name in parts if any(name.endswith(a) for a in STANDARD_ACCOUNTS))
    return (True, None) if accounts >= 2 else (False, None)


def amounts_in(text: str, unit: str) -> list[Decimal]:
    """Every amount stated in ``text``, in ``unit``."""
    return [_value(m, unit) for m in _MONEY_RE.finditer(text)]


def has_unit_price(text: str) -> bool:
    """Does ``text`` state a price per unit (「每場5千元」「2,000元×4小時」) rather than an amount?"""
    return bool(_UNIT_PRICE_RE.search(text))
