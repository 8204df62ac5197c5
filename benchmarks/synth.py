"""Synthetic budget exports (歲出預算明細) for the benchmark, the tests and the bundled sample.

Deterministic for a seed: the same arguments always give the same cells. An export has title rows
(機關 年度 歲出預算明細表, 單位：新臺幣元), a header, lines grouped by 工作計畫 > 分支計畫 with a 小計
row after every 分支計畫, a 合計 row after every 工作計畫 and a 總計 row at the end, whose amounts are
the sums of their group's lines.

Ordinary lines are made from a vocabulary of realistic accounts (用途別科目) and phrases, with
counts, amounts, places and systems filled in, so descriptions are mostly unique. A few percent are
gender lines built at generation time from the rules file's own categories — their inline examples
and their terms — so the generator stays in step with ``rules/default.toml``. Each line keeps the
category it was built for (``SynthLine.category``), its variant and the status it is meant to get.

Usage::

    python benchmarks/synth.py --rows 10000 -o /tmp/export.xlsx --csv /tmp/export.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import random
import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable

AMT = "\x00AMT\x00"  # where the line's own amount is spelled out in a description template
AGENCY = "臺北市政府資訊局"
SHEET_NAME = "歲出預算明細"
TOTAL_LABELS = ("小計", "合計", "總計")
UNIT_VALUE = {"元": 1, "千元": 1000, "萬元": 10000}

# --- layouts: which columns an export has, and their header text ------------------------------

#: Column keys and header titles. ``split``: 8 columns, codes in their own columns (what an
#: accounting system exports); ``book``: like a printed budget book, code and name in one cell.
LAYOUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "split": (
        ("year", "年度"), ("plan_code", "工作計畫代碼"), ("plan_name", "工作計畫名稱"),
        ("branch", "分支計畫"), ("account_code", "科目代碼"), ("account_name", "科目名稱"),
        ("description", "說明"), ("amount", "預算數"),
    ),
    "book": (
        ("plan", "工作計畫"), ("branch", "分支計畫"), ("account", "用途別科目"),
        ("description", "說明"), ("amount", "金額"),
    ),
}

# --- vocabulary ------------------------------------------------------------------------------

# 工作計畫 names of an information-technology department; each has the 分支計畫 it usually funds.
_PLANS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("一般行政-行政管理", ("人員維持", "基本行政工作維持", "資訊管理", "研考業務", "人事業務", "會計業務")),
    ("資訊業務-資訊推動", ("資訊推動與規劃", "資訊教育訓練", "數位服務推廣", "資訊綜合業務")),
    ("資訊業務-系統發展", ("共用系統發展", "公文系統維運", "市民服務系統", "地理資訊系統")),
    ("資訊業務-網路及機房管理", ("網路維運", "機房維運", "雲端服務", "視訊會議服務")),
    ("資訊安全-資安防護", ("資安監控", "資安稽核", "個人資料保護", "資安演練")),
    ("智慧城市-智慧城市推動", ("智慧城市推動", "創新實證", "智慧交通應用", "物聯網建置")),
    ("數位治理-資料開放與應用", ("資料開放", "資料治理", "統計資訊", "數位參與")),
    ("資訊業務-數位發展", ("數位轉型推動", "數位落差縮減", "行動應用服務")),
)
_PERSONNEL = (
    ("1015", "法定編制人員待遇"), ("1020", "約聘僱人員待遇"), ("1025", "技工及工友待遇"),
    ("1030", "獎金"), ("1035", "其他給與"), ("1040", "加班費"), ("1050", "退休離職儲金"), ("1055", "保險"),
)
#: account code -> (name, phrases). A phrase is a description without its amount; slots in {…}.
_ACCOUNTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "1015": ("法定編制人員待遇", ("職員{n}人薪津(詳人事費分析表)", "法定編制人員{n}人、駐衛警察{m}人之薪俸及各項加給")),
    "1020": ("約聘僱人員待遇", ("約聘人員{n}人薪津(詳人事費分析表)", "聘用人員{n}人、約僱人員{m}人之薪資")),
    "1025": ("技工及工友待遇", ("技工{n}人、工友{m}人之工資(詳人事費分析表)", "駕駛{m}人、工友{n}人之工資")),
    "1030": ("獎金", ("依考績法規定核發之考績獎金，計{n}人", "依規定核發之年終工作獎金，計{n}人")),
    "1035": ("其他給與", ("員工上下班交通費，計{n}人{mo}個月", "員工休假補助費，計{n}人", "員工待遇調整準備")),
    "1040": ("加班費", ("辦理{biz}等業務加班費", "值班人員值勤費，計{n}人次", "辦理{sys}上線作業加班費")),
    "1050": ("退休離職儲金", ("提撥編制人員{n}人之政府負擔退撫基金", "提撥約聘僱人員{m}人之離職儲金")),
    "1055": ("保險", ("職員{n}人之公教人員保險及全民健康保險費", "約僱人員{m}人之勞工保險及健康保險費")),
    "2003": ("教育訓練費", ("辦理{topic}教育訓練所需講座鐘點費及教材費", "補助同仁參加{topic}相關課程之訓練費用",
                        "同仁赴國內公私立學校修習{topic}學分之補助")),
    "2006": ("水電費", ("{place}之水費、電費", "{place}空調及資訊設備電費")),
    "2009": ("通訊費", ("一般公務所需電話及郵資等費用", "{sys}數據通訊線路費", "網際網路專線{m}條之租費")),
    "2018": ("資訊服務費", ("{sys}軟硬體維護費", "{sys}功能擴充及維運服務", "{sys}雲端主機租用及資安防護服務")),
    "2021": ("其他業務租金", ("{place}影印機{m}台之租金", "辦理{biz}所需場地租金")),
    "2027": ("保險費", ("公務車輛{m}輛之保險費", "{place}資訊設備火災保險費")),
    "2033": ("約用人員酬金", ("{biz}約用人員{m}人之酬金(含勞健保及勞工退休金)",)),
    "2036": ("按日按件計資酬金", ("{cmte}外聘委員出席費", "辦理{topic}講習外聘講座鐘點費", "{biz}案件外聘委員書面審查費",
                          "辦理{topic}研討會外聘講座鐘點費及稿費")),
    "2039": ("委辦費", ("委託辦理{biz}研究案", "委外辦理{sys}資料分析服務", "委託專業團隊辦理{biz}顧問服務")),
    "2051": ("物品", ("電腦耗材(碳粉匣、光碟片等)", "辦公所需{item}等消耗品", "{place}設備備品及耗材")),
    "2054": ("一般事務費", ("辦理{biz}所需印刷、文具及雜支", "{place}清潔及保全勞務委外費用", "文康活動費，計{n}人",
                        "辦理{biz}說明會所需餐點及場地布置")),
    "2063": ("房屋建築養護費", ("{place}房屋修繕及維護費用",)),
    "2066": ("器具養護費", ("辦公室事務機器及{item}維護費用",)),
    "2069": ("設施及機械設備養護費", ("{place}空調及不斷電系統維護費用", "{place}消防及監控設備保養費")),
    "2072": ("國內旅費", ("辦理{biz}等業務所需國內出差旅費", "赴各區公所訪視{biz}執行情形之差旅費")),
    "2078": ("國外旅費", ("赴{country}參加{conf}並考察智慧城市發展",)),
    "2081": ("運費", ("寄送公文及調查表件運費", "{place}設備搬運費用")),
    "2084": ("短程車資", ("洽公短程車資", "辦理{biz}洽公短程計程車資")),
    "3030": ("資訊軟硬體設備費", ("汰換{sys}伺服器及網路設備", "購置個人電腦{m}台及週邊設備", "購置{sys}所需軟體授權")),
    "3035": ("雜項設備費", ("購置{place}辦公桌椅等設備", "汰換{place}會議室視訊設備")),
    "4040": ("對國內團體之捐助", ("捐助民間團體辦理{biz}活動", "捐助學術團體辦理{topic}推廣計畫")),
    "4085": ("獎勵及慰問", ("績優{biz}人員獎勵金", "辦理{biz}競賽之獎金")),
}
_SLOTS: dict[str, tuple[str, ...]] = {
    "biz": ("資訊推動", "公文管理", "資料開放", "市民服務", "資安稽核", "智慧城市", "地理資訊", "網路維運", "研考",
            "採購", "檔案管理", "統計調查", "數位轉型", "雲端服務", "系統整合", "1999市民熱線", "臺北通推廣",
            "智慧路燈", "公共Wi-Fi", "開放資料競賽", "電子化政府評核", "數位學習"),
    "sys": ("公文管理系統", "差勤管理系統", "臺北通", "市府入口網站", "資料開放平臺", "地理資訊系統", "視訊會議系統",
            "電子郵件系統", "單一簽入系統", "市民服務系統", "會計資訊系統", "人事管理系統", "案件管理系統",
            "智慧停車系統", "雲端備份系統", "網路防火牆", "資安監控中心", "虛擬主機平臺"),
    "topic": ("資通安全", "個人資料保護", "公文寫作", "政府採購法規", "廉政倫理", "人工智慧應用", "資料分析",
              "雲端技術", "專案管理", "程式設計", "數位服務設計", "開放資料應用", "災害防救", "檔案管理"),
    "cmte": ("採購評選委員會", "法規委員會", "資訊諮詢委員會", "資訊安全稽核小組", "考績委員會", "甄審委員會",
             "檔案鑑定小組", "智慧城市委員會", "資料治理委員會", "訴願審議委員會"),
    "place": ("市政大樓", "市政大樓機房", "內湖資料中心", "信義機房", "南港辦公室", "備援機房", "北投倉庫",
              "市府大樓中央區", "資訊局辦公室"),
    "item": ("影印紙", "碳粉匣", "文具", "光碟片", "網路線材", "硬碟", "印表機耗材"),
    "country": ("日本", "新加坡", "韓國", "美國", "德國", "荷蘭", "西班牙"),
    "conf": ("智慧城市博覽會", "資訊安全研討會", "開放資料國際論壇", "電子化政府研討會"),
}
_SLOT_RE = re.compile(r"\{(\w+)\}")
_MONEY_RE = re.compile(r"\d[\d,]*(?:\.\d+)?\s*(?:千元|仟元|萬元|元)")
_MARKERS = {
    "paren": lambda i: f"({i})",
    "angle": lambda i: f"<{i}>",
    "dot": lambda i: f"{i}.",
    "han": lambda i: "一二三四五六七八九"[i - 1] + "、",
}
# Other purposes a shared line lists next to the gender one (activities, not cost items such as
# 文具 or 郵資, which the rules count as parts of the gender item: see budget.rules.DEFAULT_COST_TERMS).
_OTHER_PURPOSES = ("系統上線說明會", "網站改版", "檔案清查", "機房巡檢", "公務車輛保養", "年度業務檢討會", "辦公室搬遷")


# --- the data model --------------------------------------------------------------------------

@dataclass(slots=True)
class SynthLine:
    """One budget line of a synthetic export, with what it was built to be.

    ``category`` is the rules category the line was built from (None for ordinary lines);
    ``variant`` says how: ``ordinary``, ``example`` (an inline example of the rules file),
    ``terms`` (built from the category's terms), ``shared`` (the amount is shared with other
    purposes: should go to review) or ``subitem`` (one sub-item of several is the gender part).
    ``expect_status`` is the status it is meant to get (``unmatched``/``matched``/``review``).
    """

    account_code: str
    account_name: str
    template: str
    amount: int
    category: str | None = None
    variant: str = "ordinary"
    expect_status: str = "unmatched"
    key: int = 0  # stable identity across the years of a pair of exports

    def description(self, unit: str) -> str:
        """The 說明 text, with the line's amount spelled out in ``unit`` where the template says."""
        return self.template.replace(AMT, money_text(self.amount, unit))


@dataclass(slots=True)
class Branch:
    code: str
    name: str
    lines: list[SynthLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(slots=True)
class Plan:
    code: str
    name: str
    branches: list[Branch] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(slots=True)
class Row:
    """One data row as written below the header: a line, or a 小計/合計/總計 row."""

    kind: str  # line | subtotal | plan-total | grand-total
    cells: tuple[Any, ...]
    amount: int
    line: SynthLine | None = None
    plan: Plan | None = None
    branch: Branch | None = None


@dataclass(slots=True)
class Export:
    """A whole synthetic export: title rows, header, then the rows."""

    agency: str
    year: int
    unit: str
    layout: str
    plans: list[Plan]
    seed: int
    categories: tuple[str, ...] = ()

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(title for _, title in LAYOUTS[self.layout])

    @property
    def title_rows(self) -> list[tuple[Any, ...]]:
        width = len(LAYOUTS[self.layout])
        unit_text = "單位：新臺幣" + self.unit
        return [
            (f"{self.agency} {self.year}年度 歲出預算明細表",) + ("",) * (width - 1),
            (unit_text,) + ("",) * (width - 1),
            ("",) * width,
        ]

    def lines(self) -> Iterable[SynthLine]:
        for plan in self.plans:
            for branch in plan.branches:
                yield from branch.lines

    def rows(self) -> list[Row]:
        """Every data row in order, with 小計/合計/總計 rows whose amounts are their group's sums."""
        keys = [k for k, _ in LAYOUTS[self.layout]]
        out: list[Row] = []
        grand = 0
        for plan in self.plans:
            plan_total = 0
            for branch in plan.branches:
                sub = 0
                for line in branch.lines:
                    out.append(Row("line", self._cells(keys, plan, branch, line, line.amount), line.amount,
                                   line, plan, branch))
                    sub += line.amount
                out.append(Row("subtotal", self._cells(keys, plan, branch, None, sub, "小計"), sub, None,
                               plan, branch))
                plan_total += sub
            out.append(Row("plan-total", self._cells(keys, plan, None, None, plan_total, "合計"), plan_total,
                           None, plan))
            grand += plan_total
        out.append(Row("grand-total", self._cells(keys, None, None, None, grand, "總計"), grand))
        return out

    def _cells(self, keys: list[str], plan: Plan | None, branch: Branch | None, line: SynthLine | None,
               amount: int, label: str = "") -> tuple[Any, ...]:
        values = {
            "year": self.year,
            "plan_code": plan.code if plan else "",
            "plan_name": plan.name if plan else "",
            "plan": plan.label if plan else "",
            "branch": branch.label if branch else "",
            "account_code": line.account_code if line else "",
            "account_name": line.account_name if line else "",
            "account": f"{line.account_code} {line.account_name}" if line else "",
            "description": line.description(self.unit) if line else label,
            "amount": amount,
        }
        return tuple(values[k] for k in keys)

    def table(self) -> list[tuple[Any, ...]]:
        """Every row of the sheet as cell values: title rows, header, data rows."""
        return [*self.title_rows, self.header, *(r.cells for r in self.rows())]


# --- text helpers ----------------------------------------------------------------------------

def money_text(amount: int, unit: str) -> str:
    """``18,000元`` / ``7,552千元``: how descriptions spell an amount."""
    return f"{amount:,}{unit}"


def _fill(rng: random.Random, phrase: str) -> str:
    def slot(m: re.Match) -> str:
        name = m.group(1)
        if name == "n":
            return str(rng.randint(3, 480))
        if name == "m":
            return str(rng.randint(1, 40))
        if name == "mo":
            return "12"
        return rng.choice(_SLOTS[name])

    return _SLOT_RE.sub(slot, phrase)


def _round_amount(rng: random.Random, low: int, high: int) -> int:
    """A plausible amount in 元 between low and high, rounded like budgets are."""
    value = int(low * (high / low) ** rng.random())
    step = 1000 if value >= 100_000 else 100 if value >= 10_000 else 10
    return max(step, value // step * step)


def _in_unit(amount_yuan: int, unit: str) -> int:
    if unit == "元":
        return amount_yuan
    return max(1, int((Decimal(amount_yuan) / UNIT_VALUE[unit]).quantize(Decimal(1), ROUND_HALF_UP)))


_PERSONNEL_RANGE = (2_000_000, 300_000_000)
_OTHER_RANGE = (3_000, 6_000_000)


def _ordinary_amount(rng: random.Random, code: str, unit: str) -> int:
    low, high = _PERSONNEL_RANGE if code.startswith("1") else _OTHER_RANGE
    return _in_unit(_round_amount(rng, low, high), unit)


def _split_amount(rng: random.Random, parts: int, unit: str) -> list[int]:
    return [_ordinary_amount(rng, "2", unit) for _ in range(parts)]


# --- gender lines from the rules file --------------------------------------------------------

@dataclass(slots=True)
class _GenderSource:
    """What the generator knows about one category, taken from the rules file."""

    id: str
    share: Decimal
    status: str  # what a line of this category gets: matched, or review for review = true categories
    examples: list[dict[str, Any]]  # inline examples: text, account, amount (in 元) or None, status
    shared_examples: list[dict[str, Any]]  # examples the rules send to review (shared amounts)
    term_texts: list[str]  # descriptions built from the category's own terms
    shared_texts: list[str]  # the same, with another purpose enumerated next to it
    plain_texts: list[str]  # short texts with no amount and no marker (for sub-items)
    account: tuple[str, str]


def _fold(text: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _example_amount_yuan(ex: Any, rules_unit: str) -> int | None:
    if ex.amount is None:
        return None
    unit = ex.unit or rules_unit
    value = Decimal(ex.amount) * UNIT_VALUE.get(unit, 1)
    return int(value) if value == value.to_integral_value() else None


def _account_of(code: str, default: tuple[str, str]) -> tuple[str, str]:
    if code in _ACCOUNTS:
        return code, _ACCOUNTS[code][0]
    full = next((c for c in _ACCOUNTS if c.startswith(code)), None)
    return (full, _ACCOUNTS[full][0]) if full else default


def gender_sources(rules_path: str | Path | None = None) -> list[_GenderSource]:
    """Read the rules file (default: the bundled rules/default.toml) and prepare each category."""
    from budget.normalize import split_account
    from budget.rules import load_rules

    ruleset = load_rules(rules_path)
    sources = []
    for cat in ruleset.categories:
        fields = cat.fields or list(ruleset.match_fields)
        banned = [_fold(t) for t in (*cat.none, *cat.shared_with)]
        status = "review" if cat.review else "matched"
        account = _account_of(cat.codes[0], _DEFAULT_ACCOUNT) if cat.codes else None
        examples, shared_examples = [], []
        for ex in cat.example:
            if ex.expect != cat.id:
                continue
            code, name = split_account(ex.account)
            if code and not account_from_codes(cat.codes, code):
                continue
            item = {"text": ex.text, "account": (code, name or _ACCOUNTS.get(code, ("",))[0]) if code else None,
                    "amount": _example_amount_yuan(ex, ruleset.unit), "status": ex.status or status}
            (shared_examples if item["status"] == "review" and not cat.review else examples).append(item)
        if account is None:
            account = next((e["account"] for e in examples if e["account"]), _DEFAULT_ACCOUNT)
        for item in examples + shared_examples:
            item["account"] = item["account"] or account
        term_texts, shared_texts, plain = [], [], []
        needs_fields = cat.plan is not None or cat.branch is not None or cat.account is not None
        if "description" in fields and (cat.any or cat.all) and not needs_fields:
            for pick in range(6):
                chosen = []
                if cat.any:
                    chosen.append(cat.any[pick % len(cat.any)])
                for group in cat.all:
                    chosen.append(group[(pick + len(chosen)) % len(group)])
                body = "".join(dict.fromkeys(chosen))
                if any(b and b in _fold(body) for b in banned):
                    continue
                text = f"辦理{body}所需經費"
                if text not in term_texts:
                    term_texts.append(text)
                    other = _OTHER_PURPOSES[pick % len(_OTHER_PURPOSES)]
                    other2 = _OTHER_PURPOSES[(pick + 3) % len(_OTHER_PURPOSES)]
                    shared_texts.append(f"辦理{body}、{other}及{other2}等經費")
            if cat.shared_with:
                subject = cat.any[0] if cat.any else cat.all[0][0]
                rest = "".join(g[0] for g in (cat.all if cat.any else cat.all[1:]))
                for other in cat.shared_with[:3]:
                    shared_texts.append(f"{subject}、{other}等委員{rest}" if rest else f"{subject}、{other}等經費")
        for ex in examples:
            t = ex["text"].rstrip("。")
            if ex["status"] == status and not _MONEY_RE.search(t) and not _MARKER_RE.search(t) and len(t) <= 60:
                plain.append(t)
        plain.extend(t for t in term_texts if t not in plain)
        sources.append(_GenderSource(
            id=cat.id, share=Decimal(cat.share_percent), status=status, examples=examples,
            shared_examples=shared_examples, term_texts=term_texts, shared_texts=shared_texts,
            plain_texts=plain, account=account,
        ))
    return sources


_DEFAULT_ACCOUNT = ("2054", _ACCOUNTS["2054"][0])
_MARKER_RE = re.compile(r"[(<（〈]\d|[一二三四五六七八九]、|\d\.")


def account_from_codes(codes: list[str], code: str) -> bool:
    """True when ``code`` satisfies a category's ``codes`` (or it has none)."""
    return not codes or any(code.startswith(c) for c in codes)


# --- the generator ---------------------------------------------------------------------------

class _Builder:
    def __init__(self, rng: random.Random, unit: str, year: int, sources: list[_GenderSource],
                 gender_share: float, shared_share: float) -> None:
        self.rng = rng
        self.unit = unit
        self.year = year
        self.sources = sources
        self.gender_share = gender_share
        self.shared_share = shared_share
        self._gender_acc = 0.0
        self._shared_acc = 0.0
        self._next_cat = 0
        self._next_shared = 0
        self._key = 0

    def _new_key(self) -> int:
        self._key += 1
        return self._key

    # ordinary lines -------------------------------------------------------------------------
    def ordinary(self, code: str) -> SynthLine:
        rng = self.rng
        name, phrases = _ACCOUNTS[code]
        amount = _ordinary_amount(rng, code, self.unit)
        for _ in range(20):
            if not code.startswith("1") and rng.random() < 0.22:
                template, amount = self._subitems(code)
            else:
                phrase = _fill(rng, rng.choice(phrases))
                if phrase.startswith("辦理") and rng.random() < 0.3:
                    phrase = f"辦理{self.year}年度" + phrase.removeprefix("辦理")
                personnel = code.startswith("1")
                spelled = not personnel and rng.random() < 0.6
                template = phrase + (AMT if spelled else "") + "。"
                if not personnel and rng.random() < 0.2:  # a lone label, as central books number paragraphs
                    template = f"({rng.randint(1, 12)})" + template
            length = len(template.replace(AMT, money_text(amount, self.unit)))
            if 10 <= length <= 120:
                return SynthLine(code, name, template, amount, key=self._new_key())
        raise AssertionError("could not make a description of 10-120 characters")  # pragma: no cover

    def _subitems(self, code: str) -> tuple[str, int]:
        rng = self.rng
        name, phrases = _ACCOUNTS[code]
        parts = rng.randint(2, 4)
        amounts = _split_amount(rng, parts, self.unit)
        marker = _MARKERS[rng.choice(("paren", "paren", "angle", "dot", "han"))]
        body = "".join(f"{marker(i + 1)}{_fill(rng, rng.choice(phrases))}{money_text(a, self.unit)}。"
                       for i, a in enumerate(amounts))
        total = sum(amounts)
        lead = rng.choice((f"{name}{AMT}，內容如下：", f"{name}{AMT}：", ""))
        return lead + body, total

    # gender lines ---------------------------------------------------------------------------
    def _example_line(self, src: _GenderSource, ex: dict[str, Any], variant: str, status: str) -> SynthLine | None:
        code, name = ex["account"]
        if ex["amount"] is not None and _MONEY_RE.search(ex["text"]):
            value = Decimal(ex["amount"]) / UNIT_VALUE[self.unit]
            if value != value.to_integral_value():
                return None
            amount = int(value)
        else:
            amount = _ordinary_amount(self.rng, "2", self.unit)
        if not 10 <= len(ex["text"]) <= 120:
            return None
        return SynthLine(code, name, ex["text"], amount, src.id, variant, status, key=self._new_key())

    def gender(self, src: _GenderSource, shared: bool) -> SynthLine:
        """A line of category ``src``: shared (should go to review) or not; each way equally likely."""
        rng = self.rng
        if shared:
            pools = [("shared-example", src.shared_examples), ("shared", src.shared_texts)]
        else:
            pools = [("example", src.examples), ("terms", src.term_texts),
                     ("subitem", [None] if src.plain_texts else [])]
        pools = [(kind, list(values)) for kind, values in pools if values]
        rng.shuffle(pools)
        for kind, values in pools:
            rng.shuffle(values)
            for value in values:
                line = self._gender_variant(src, kind, value)
                if line is not None:
                    return line
        # A category with nothing usable for this kind: fall back to the other kind.
        if shared and (src.examples or src.term_texts):
            return self.gender(src, shared=False)
        return self._bare(src)

    def _bare(self, src: _GenderSource) -> SynthLine:
        """Last resort: the category's name would not match by itself, so say so in the label."""
        code, name = src.account
        amount = _ordinary_amount(self.rng, "2", self.unit)
        return SynthLine(code, name, f"辦理{src.id}相關業務所需經費。", amount, src.id, "bare", "unmatched",
                         key=self._new_key())

    def _gender_variant(self, src: _GenderSource, kind: str, value: Any) -> SynthLine | None:
        rng = self.rng
        code, name = src.account
        if kind == "example":
            return self._example_line(src, value, "example", value["status"])
        if kind == "shared-example":
            return self._example_line(src, value, "shared", "review")
        if kind in ("terms", "shared"):
            amount = _ordinary_amount(rng, "2", self.unit)
            spelled = rng.random() < 0.5
            template = value + (AMT if spelled else "") + "。"
            if len(template.replace(AMT, money_text(amount, self.unit))) > 120:
                template = value + "。"
            if not 10 <= len(template.replace(AMT, money_text(amount, self.unit))) <= 120:
                return None
            status = "review" if kind == "shared" else src.status
            return SynthLine(code, name, template, amount, src.id, kind, status, key=self._new_key())
        # subitem: one sub-item is the gender part, stated with its own amount
        plain = rng.choice(src.plain_texts)
        other_code = code if code in _ACCOUNTS else "2054"
        other = _fill(rng, rng.choice(_ACCOUNTS[other_code][1]))
        a, b = _split_amount(rng, 2, self.unit)
        pieces = [(other, a), (plain, b)]
        if rng.random() < 0.5:
            pieces.reverse()
        template = f"{name}{AMT}，內容如下：" + "".join(
            f"({i + 1}){t}{money_text(v, self.unit)}。" for i, (t, v) in enumerate(pieces))
        if len(template.replace(AMT, money_text(a + b, self.unit))) > 120:
            template = "".join(f"({i + 1}){t}{money_text(v, self.unit)}。" for i, (t, v) in enumerate(pieces))
        if len(template) > 120:
            return None
        return SynthLine(code, name, template, a + b, src.id, "subitem", src.status, key=self._new_key())

    def next_line(self, code: str) -> SynthLine:
        """An ordinary line of account ``code``, or, a few percent of the time, a gender line."""
        if self.sources:
            self._gender_acc += self.gender_share
            self._shared_acc += self.shared_share
            if self._gender_acc >= 1:
                self._gender_acc -= 1
                src = self.sources[self._next_cat % len(self.sources)]
                self._next_cat += 1
                return self.gender(src, shared=False)
            if self._shared_acc >= 1:
                self._shared_acc -= 1
                src = self.sources[self._next_shared % len(self.sources)]
                self._next_shared += 1
                return self.gender(src, shared=True)
        return self.ordinary(code)


def generate(rows: int, seed: int = 116, *, year: int = 116, unit: str = "元", layout: str = "split",
             agency: str = AGENCY, rules_path: str | Path | None = None, gender_share: float = 0.03,
             shared_share: float = 0.01) -> Export:
    """A synthetic export with exactly ``rows`` data rows (lines plus 小計/合計/總計 rows).

    ``gender_share`` of the lines are gender lines that should match (cycling through every
    category of the rules file), ``shared_share`` are gender lines whose amount is shared with
    other purposes (should go to review). Deterministic for equal arguments.
    """
    if rows < 4:
        raise ValueError("rows must be at least 4 (a line, its 小計, 合計 and 總計)")
    if unit not in UNIT_VALUE:
        raise ValueError(f"unit must be one of {', '.join(UNIT_VALUE)}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    rng = random.Random(f"gender-budget-synth:{seed}")
    sources = gender_sources(rules_path)
    builder = _Builder(rng, unit, year, sources, gender_share, shared_share)
    plans: list[Plan] = []
    remaining = rows - 1  # the 總計 row
    index = 0
    while remaining > 0:
        if remaining < 3:  # too few rows for another plan: lengthen the last branch
            last = plans[-1].branches[-1]
            for _ in range(remaining):
                last.lines.append(builder.next_line(_pick_account(rng, last.name)))
            last.lines.sort(key=lambda ln: ln.account_code)
            remaining = 0
            break
        name, branch_names = _PLANS[index % len(_PLANS)]
        plan = Plan(_plan_code(index), name)
        index += 1
        remaining -= 1  # its 合計 row
        branch_count = rng.randint(2, min(6, len(branch_names) + 1))
        names = [("人員維持" if name.startswith("一般行政") else branch_names[0])] + rng.sample(
            [b for b in branch_names if b != "人員維持"], k=min(branch_count - 1, len(branch_names) - 1))
        for number, branch_name in enumerate(names, start=1):
            if remaining < 2:
                break
            branch = Branch(f"{number:02d}", branch_name)
            if branch_name == "人員維持":
                codes = [c for c, _ in _PERSONNEL for _ in range(rng.randint(1, 2))]
            else:
                codes = [_pick_account(rng, branch_name) for _ in range(rng.randint(3, 30))]
            room = remaining - 1  # its 小計 row
            codes = codes[:room]
            lines = [builder.next_line(code) for code in codes]
            lines.sort(key=lambda ln: ln.account_code)
            branch.lines = lines
            plan.branches.append(branch)
            remaining -= len(lines) + 1
        if not plan.branches:  # pragma: no cover - remaining >= 3 always leaves room for one
            raise AssertionError("empty plan")
        plans.append(plan)
    export = Export(agency, year, unit, layout, plans, seed, tuple(s.id for s in sources))
    return export


def _plan_code(index: int) -> str:
    """11-digit 工作計畫 codes with a leading zero, as Taipei's books number them (05710110100…)."""
    return f"0571{index // 9 + 1:02d}{index % 9 + 1:01d}0100" if index < 9 * 99 else f"0571{index:07d}"


def _pick_account(rng: random.Random, branch: str) -> str:
    if branch == "人員維持":
        return rng.choice([c for c, _ in _PERSONNEL])
    weights = _ACCOUNT_WEIGHTS
    return rng.choices(_OTHER_CODES, weights=weights)[0]


_OTHER_CODES = [c for c in _ACCOUNTS if not c.startswith("1")]
_ACCOUNT_WEIGHTS = [
    {"2036": 6, "2054": 8, "2072": 6, "2051": 5, "2009": 4, "2018": 6, "2003": 4, "2039": 3, "3030": 3}.get(c, 2)
    for c in _OTHER_CODES
]


def previous_year(export: Export, seed: int | None = None, rules_path: str | Path | None = None) -> Export:
    """The same agency's export one year earlier: mostly the same lines, some amounts changed,
    and some gender lines changed, new (absent the year before) or vanished (only the year before).
    """
    rng = random.Random(f"gender-budget-previous:{export.seed if seed is None else seed}")
    year = export.year - 1
    sources = {s.id: s for s in gender_sources(rules_path)}
    builder = _Builder(rng, export.unit, year, list(sources.values()), 0, 0)
    builder._key = 10_000_000
    gender_keys = [ln.key for ln in export.lines() if ln.category]
    # Choose deterministically which gender lines change, are new this year, or stay the same.
    shuffled = gender_keys[:]
    rng.shuffle(shuffled)
    quarter = max(1, len(shuffled) // 4)
    new_this_year = set(shuffled[:quarter])
    changed = set(shuffled[quarter:2 * quarter])
    plans = []
    vanished_budget = max(1, len(export.categories) // 3)
    for plan in export.plans:
        new_plan = Plan(plan.code, plan.name)
        for branch in plan.branches:
            lines = []
            for line in branch.lines:
                if line.key in new_this_year:
                    continue
                template = line.template.replace(f"{export.year}年", f"{year}年")
                amount = line.amount
                spelled_only_once = AMT in template or not _MONEY_RE.search(template)
                if line.key in changed and spelled_only_once:
                    amount = max(1, int(amount * rng.choice((0.8, 0.9, 1.1, 1.25))))
                elif line.category is None and spelled_only_once and rng.random() < 0.4:
                    amount = max(1, int(amount * rng.uniform(0.9, 1.08)))
                lines.append(replace(line, template=template, amount=amount))
            if vanished_budget and lines and not branch.name == "人員維持" and rng.random() < 0.3:
                src = rng.choice(list(sources.values()))
                gone = builder.gender(src, shared=False)
                gone.template = gone.template.replace(f"{export.year}年", f"{year}年")
                lines.append(gone)
                vanished_budget -= 1
            lines.sort(key=lambda ln: ln.account_code)
            if lines:
                new_plan.branches.append(Branch(branch.code, branch.name, lines))
        if new_plan.branches:
            plans.append(new_plan)
    return Export(export.agency, year, export.unit, export.layout, plans, export.seed, export.categories)


# --- writers ---------------------------------------------------------------------------------

#: A fixed creation time, so that the same export gives the same file.
FIXED_TIME = _dt.datetime(2026, 1, 1, 0, 0, 0)


def write_xlsx(export: Export, path: str | Path, constant_memory: bool = True) -> Path:
    """Write the export with xlsxwriter: codes as text, amounts and the year as numbers."""
    import xlsxwriter

    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": constant_memory, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    workbook.set_properties({"created": FIXED_TIME, "title": f"{export.agency} {export.year}年度 歲出預算明細表",
                             "author": "gender-budget benchmarks/synth.py"})
    sheet = workbook.add_worksheet(SHEET_NAME)
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0"})
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    width = len(LAYOUTS[export.layout])
    sheet.merge_range(0, 0, 0, width - 1, export.title_rows[0][0], title)
    sheet.write_string(1, 0, export.title_rows[1][0])
    for col, text in enumerate(export.header):
        sheet.write_string(3, col, text, bold)
    keys = [k for k, _ in LAYOUTS[export.layout]]
    amount_col = keys.index("amount")
    year_col = keys.index("year") if "year" in keys else -1
    desc_col = keys.index("description")
    sheet.set_column(desc_col, desc_col, 60)
    sheet.set_column(amount_col, amount_col, 14)
    write_string, write_number = sheet.write_string, sheet.write_number
    r = 4
    for row in export.rows():
        for col, value in enumerate(row.cells):
            if col == amount_col:
                write_number(r, col, value, money)
            elif col == year_col:
                write_number(r, col, value)
            elif value != "":
                write_string(r, col, value)
        r += 1
    workbook.close()
    return path


def write_csv(export: Export, path: str | Path, encoding: str = "utf-8-sig") -> Path:
    """Write the export as CSV, title rows included, amounts with thousands separators."""
    path = Path(path)
    keys = [k for k, _ in LAYOUTS[export.layout]]
    amount_col = keys.index("amount")
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerows(export.title_rows)
        writer.writerow(export.header)
        for row in export.rows():
            cells = list(row.cells)
            cells[amount_col] = f"{cells[amount_col]:,}"
            writer.writerow(cells)
    return path


def write_ods(export: Export, path: str | Path) -> Path:
    """Write the export as OpenDocument (ODF, the government's document standard) with odfpy."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    path = Path(path)
    doc = OpenDocumentSpreadsheet()
    table = Table(name=SHEET_NAME)
    for values in export.table():
        tr = TableRow()
        for value in values:
            if isinstance(value, int):
                cell = TableCell(valuetype="float", value=str(value))
                cell.addElement(P(text=str(value)))
            elif value == "":
                cell = TableCell()
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def to_line_items(export: Export, file: str = "", first_row: int = 5) -> list[Any]:
    """The export's rows as ``budget.models.LineItem`` (totals as kind ``total``), for timing the engine."""
    from decimal import Decimal as D

    from budget.models import LINE, TOTAL, LineItem

    items = []
    cells_header = export.header
    for number, row in enumerate(export.rows(), start=first_row):
        line = row.line
        items.append(LineItem(
            description=line.description(export.unit) if line else row.cells[list(cells_header).index("說明")],
            amount=D(row.amount), unit=export.unit,
            plan=row.plan.label if row.plan else "", branch=row.branch.label if row.branch else "",
            account=line.account_name if line else "", account_code=line.account_code if line else "",
            agency=export.agency, year=export.year, file=file, sheet=SHEET_NAME, row=number,
            kind=LINE if line else TOTAL, cells=row.cells, columns=cells_header,
        ))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic 歲出預算明細 export (deterministic).")
    parser.add_argument("--rows", type=int, default=10_000, help="data rows incl. 小計/合計/總計 rows")
    parser.add_argument("--seed", type=int, default=116)
    parser.add_argument("--year", type=int, default=116, help="ROC year")
    parser.add_argument("--unit", default="元", choices=list(UNIT_VALUE))
    parser.add_argument("--layout", default="split", choices=list(LAYOUTS))
    parser.add_argument("--rules", default=None, help="rules file (default: rules/default.toml)")
    parser.add_argument("-o", "--output", help="xlsx to write")
    parser.add_argument("--csv", help="CSV to write")
    parser.add_argument("--ods", help="ODS to write")
    args = parser.parse_args(argv)
    export = generate(args.rows, args.seed, year=args.year, unit=args.unit, layout=args.layout,
                      rules_path=args.rules)
    if args.output:
        write_xlsx(export, args.output)
    if args.csv:
        write_csv(export, args.csv)
    if args.ods:
        write_ods(export, args.ods)
    lines = list(export.lines())
    gender = sum(1 for ln in lines if ln.category)
    print(f"{args.rows} rows, {len(lines)} lines, {gender} gender lines, categories: {', '.join(export.categories)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
