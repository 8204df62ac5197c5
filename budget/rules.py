"""The rules file: TOML read with tomllib, validated with pydantic, every problem with its line."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from .problems import BudgetError, Problem

SCHEMA_VERSION = 1
MAX_RULES_BYTES = 1 << 20
MATCH_FIELDS = ("description", "plan", "branch", "account")

Term = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Code = Annotated[StrictStr, Field(pattern=r"^[0-9A-Za-z]{1,12}$")]
Pattern = Annotated[StrictStr, Field(min_length=1, max_length=500)]
Percent = Annotated[Decimal, Field(ge=0, le=100, strict=False)]

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def compile_regex(pattern: str) -> Any:
    """Compile a rules-file regex with RE2 (linear time); raises ``re2.error`` if it is not valid."""
    return re2.compile(pattern, options=_RE2_OPTIONS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Conditions(_Strict):
    """Term conditions on one set of fields: OR (``any``), AND of OR-groups (``all``), NOT (``none``)."""

    any: list[Term] = []
    all: list[list[Term]] = []
    none: list[Term] = []
    regex: list[Pattern] = []

    def is_empty(self) -> bool:
        return not (self.any or self.all or self.none or self.regex)


class Example(_Strict):
    """An inline example: a line and what the rules must decide about it."""

    text: StrictStr
    account: StrictStr = ""
    plan: StrictStr = ""
    branch: StrictStr = ""
    amount: Decimal | None = None
    unit: StrictStr | None = None
    year: StrictInt | None = None
    expect: StrictStr
    status: Literal["matched", "review", "unmatched"] | None = None
    gender_amount: Decimal | None = None
    note: StrictStr = ""


class Category(Conditions):
    """One eligible category of the gender budget and how to recognise it."""

    id: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: Term
    name_en: StrictStr = ""
    official_class: Annotated[StrictInt, Field(ge=1, le=5)]
    goal: StrictStr = ""
    basis: StrictStr = ""
    share_percent: Percent = Decimal(100)
    priority: StrictInt = 0
    years: list[StrictInt] = []
    fields: list[Literal["description", "plan", "branch", "account"]] | None = None
    codes: list[Code] = []
    shared_with: list[Term] = []
    review: bool = False
    review_reason: StrictStr = ""
    plan: Conditions | None = None
    branch: Conditions | None = None
    account: Conditions | None = None
    example: list[Example] = []

    def field_conditions(self) -> dict[str, Conditions]:
        """Extra conditions bound to one field (``[category.plan]`` …)."""
        return {f: c for f in ("plan", "branch", "account") if (c := getattr(self, f)) is not None}


#: Keys a ``[[report.columns]]`` entry may name (their default titles live in budget/report.py).
REPORT_COLUMN_KEYS: tuple[str, ...] = (
    "class", "category", "category_name", "plan", "branch", "plan_branch", "item", "accounts", "amount",
    "plan_budget", "plan_share", "estimate", "goal", "basis", "evidence", "descriptions", "explanation",
    "lines", "review_note",
)
#: Who signs the report, left to right, when the rules file's ``[report] signatures`` names nobody else.
DEFAULT_SIGNATURES: tuple[str, ...] = ("承辦人", "單位主管", "主計主任", "機關首長")


class ReportColumn(_Strict):
    """One column of the annual report's 性別預算編列情形表: a key from REPORT_COLUMN_KEYS, a title."""

    key: Literal[REPORT_COLUMN_KEYS]  # type: ignore[valid-type]
    title: StrictStr = ""


class ReportSettings(_Strict):
    """The ``[report]`` table: how the annual report looks for this government's form."""

    unit: Literal["元", "千元", "萬元"] = "千元"
    agency: StrictStr = ""
    columns: list[ReportColumn] = []
    #: The signature row under 性別預算編列情形表 (empty list: no signature row).
    signatures: list[Annotated[StrictStr, Field(min_length=1, max_length=40)]] = list(DEFAULT_SIGNATURES)


#: Cost items that, listed beside a gender item (育嬰留職停薪職務代理人薪資、勞健保費及年終工作獎金),
#: are parts of the same item rather than other purposes. A rules file may replace the list.
DEFAULT_COST_TERMS: tuple[str, ...] = (
    "薪資", "薪津", "待遇", "酬金", "工資", "勞保費", "健保費", "勞健保費", "保險費", "勞退", "勞工退休金",
    "退休金", "離職儲金", "年終工作獎金", "考績獎金", "獎金", "加班費", "不休假加班費", "休假補助", "交通費",
    "鐘點費", "講座鐘點費", "講師費", "出席費", "審查費", "稿費", "諮詢費", "場地費", "場地租金", "租金",
    "餐費", "膳費", "茶水", "印刷費", "材料費", "教材費", "文具", "差旅費", "住宿費", "保險", "雜支",
    "設備", "維護費", "宣導品", "海報", "手冊", "布置費", "佈置費", "交通車", "郵資",
    "勞保", "健保", "提繳", "印製費", "印刷", "教材", "講義", "餐點", "便當", "點心", "誤餐費",
)


class RuleFile(_Strict):
    """The whole rules file as written."""

    schema_: Annotated[StrictInt, Field(alias="schema")]
    name: StrictStr
    description: StrictStr = ""
    unit: Literal["元", "千元", "萬元"] = "元"
    match_fields: list[Literal["description", "plan", "branch", "account"]] = ["description"]
    columns: dict[StrictStr, StrictStr] = {}
    cost_terms: list[Term] = list(DEFAULT_COST_TERMS)
    context_fields: list[Literal["context", "branch", "plan"]] = ["context", "branch", "plan"]
    false_friends: list[Term] = []
    report: ReportSettings = ReportSettings()
    category: list[Category] = []


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file, ready for the engine."""

    name: str
    path: str
    sha256: str
    unit: str
    match_fields: tuple[str, ...]
    columns: dict[str, str]
    report: ReportSettings
    categories: tuple[Category, ...]
    cost_terms: tuple[str, ...] = DEFAULT_COST_TERMS
    #: Where a line looks for a name that makes it a gender measure (案名, 分支計畫, 工作計畫), in order.
    context_fields: tuple[str, ...] = ("context", "branch", "plan")
    #: Longer words whose letters contain a term without meaning it (智慧財產檢察 holds 產檢).
    false_friends: tuple[str, ...] = ()

    def category(self, category_id: str) -> Category | None:
        """The category with this id, or None."""
        return next((c for c in self.categories if c.id == category_id), None)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.categories]


def default_rules_path() -> Path:
    """The bundled ``rules/default.toml`` (inside the installed package, or the source tree's)."""
    packaged = resources.files("budget") / "rules" / "default.toml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "rules" / "default.toml"


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules file; raise :class:`BudgetError` with every problem found."""
    path = Path(path) if path else default_rules_path()
    label = str(path)
    if not path.exists():
        raise BudgetError.one("rules-not-found", "找不到規則檔", "rules file not found", file=label)
    if path.is_dir():
        raise BudgetError.one("rules-not-found", "規則檔路徑是資料夾", "rules path is a directory", file=label)
    data = path.read_bytes()
    if len(data) > MAX_RULES_BYTES:
        raise BudgetError.one("rules-too-large", "規則檔超過 1 MiB", "rules file is larger than 1 MiB", file=label)
    return parse_rules(data, label)


def parse_rules(data: bytes, label: str = "<rules>") -> RuleSet:
    """Validate rules-file bytes (see :func:`load_rules`)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BudgetError.one("rules-encoding", "規則檔必須是 UTF-8 編碼", "rules file must be UTF-8",
                              file=label) from exc
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        raise BudgetError.one("rules-too-deep", "規則檔的陣列或表格巢狀太深，無法讀取", "arrays or tables nested too deep",
                              file=label, line=_deep_nesting_line(text),
                              hint="規則檔不需要巢狀超過數層；請檢查這一行的 [ 與 {") from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise BudgetError.one("rules-syntax", f"TOML 語法錯誤：{exc}", "TOML syntax error", file=label,
                              line=int(m.group(1)) if m else None,
                              hint="正規表示式請用單引號字串 '…'，代碼請加引號 \"2036\"") from exc
    lines = _key_lines(text)
    problems = _semantic_problems(raw, label, lines)
    try:
        parsed = RuleFile.model_validate(raw)
    except ValidationError as exc:
        problems = [_pydantic_problem(err, label, lines) for err in exc.errors()] + problems
        parsed = None
    if problems:
        raise BudgetError(sorted(problems, key=lambda p: (p.line or 0, p.key or "")))
    assert parsed is not None
    return RuleSet(
        name=parsed.name, path=label, sha256=hashlib.sha256(data).hexdigest(), unit=parsed.unit,
        match_fields=tuple(parsed.match_fields), columns=dict(parsed.columns), report=parsed.report,
        categories=tuple(parsed.category), cost_terms=tuple(parsed.cost_terms),
        context_fields=tuple(parsed.context_fields), false_friends=tuple(parsed.false_friends),
    )


def _deep_nesting_line(text: str, limit: int = 100) -> int:
    """The first line where brackets nest deeper than ``limit`` (strings are not told apart: a pointer, not a parser)."""
    depth, line = 0, 1
    for char in text:
        if char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char == "\n":
            line += 1
    return 1


def _semantic_problems(raw: dict[str, Any], label: str, lines: dict[tuple, int]) -> list[Problem]:
    """Checks pydantic cannot do field by field: schema version, duplicate ids, RE2 patterns."""
    problems: list[Problem] = []

    def add(code: str, msg: str, msg_en: str, loc: tuple) -> None:
        problems.append(Problem(code, msg, msg_en, file=label, line=_line_for(loc, lines),
                                key=_dotted(loc)))

    if raw.get("schema") not in (None, SCHEMA_VERSION) and isinstance(raw.get("schema"), int):
        add("rules-schema", f"不支援的 schema 版本 {raw['schema']}（本版支援 {SCHEMA_VERSION}）",
            "unsupported schema version", ("schema",))
    cats = raw.get("category")
    if not isinstance(cats, list):
        return problems
    seen: dict[str, int] = {}
    ids = {c.get("id") for c in cats if isinstance(c, dict)}
    for i, cat in enumerate(cats):
        if not isinstance(cat, dict):
            continue
        cid = cat.get("id")
        if isinstance(cid, str):
            if cid in seen:
                add("rules-duplicate-id", f"類別代碼「{cid}」重複（第一次在第 {_line_for(('category', seen[cid], 'id'), lines)} 行）",
                    "duplicate category id", ("category", i, "id"))
            else:
                seen[cid] = i
        for scope in (None, "plan", "branch", "account"):
            table = cat if scope is None else cat.get(scope)
            if not isinstance(table, dict):
                continue
            pats = table.get("regex", [])
            for j, pattern in enumerate(pats if isinstance(pats, list) else []):
                if not isinstance(pattern, str):
                    continue
                try:
                    compile_regex(pattern)
                except re2.error as exc:
                    reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
                    loc = ("category", i) + ((scope,) if scope else ()) + ("regex", j)
                    add("rules-bad-regex", f"正規表示式無效或不支援（僅支援 RE2 語法，不支援回溯參照與環視）：{reason}",
                        "invalid or unsupported regular expression (RE2 syntax)", loc)
        examples = cat.get("example", [])
        for j, ex in enumerate(examples if isinstance(examples, list) else []):
            if isinstance(ex, dict) and isinstance(ex.get("expect"), str) and ex["expect"] not in ids | {"none"}:
                add("rules-bad-example", f"範例預期的類別「{ex['expect']}」不存在（可用類別代碼或 none）",
                    "example expects an unknown category", ("category", i, "example", j, "expect"))
        if isinstance(cat, dict) and not any(cat.get(k) for k in ("any", "all", "regex", "codes", "plan", "branch", "account")):
            add("rules-no-condition", "類別沒有任何辨識條件（any、all、regex、codes 或欄位條件）",
                "category has no condition", ("category", i))
    return problems


_MESSAGES_ZH = {
    "extra_forbidden": "不認得的鍵（拼錯了嗎？）",
    "missing": "缺少必填的鍵",
    "string_type": "必須是字串（請加引號）",
    "int_type": "必須是整數",
    "list_type": "必須是陣列 [ … ]",
    "bool_type": "必須是 true 或 false",
    "string_pattern_mismatch": "格式不符",
    "less_than_equal": "數值太大",
    "greater_than_equal": "數值太小",
    "literal_error": "不是允許的值",
    "decimal_parsing": "必須是數字",
    "decimal_type": "必須是數字",
    "string_too_short": "不可為空字串",
    "string_too_long": "太長",
    "model_type": "必須是表格 [ … ]",
    "dict_type": "必須是表格 [ … ]",
    "finite_number": "必須是有限的數字（不可為 nan 或 inf）",
    "int_parsing": "必須是整數",
    "int_from_float": "必須是整數（不可有小數）",
    "float_type": "必須是數字",
    "float_parsing": "必須是數字",
    "decimal_max_digits": "數字的位數太多",
    "decimal_max_places": "小數位數太多",
    "decimal_whole_digits": "整數部分的位數太多",
    "too_short": "項目太少",
    "too_long": "項目太多",
    "bool_parsing": "必須是 true 或 false",
    "value_error": "值不符規定",
    "enum": "不是允許的值",
    "union_tag_invalid": "不是允許的種類",
    "less_than": "數值太大",
    "greater_than": "數值太小",
}


def _pydantic_problem(err: dict[str, Any], label: str, lines: dict[tuple, int]) -> Problem:
    loc = tuple("schema" if part == "schema_" else part for part in err["loc"])
    zh = _MESSAGES_ZH.get(err["type"], f"值不符規定（{err['type']}）")
    if err["type"] in ("less_than_equal", "greater_than_equal") and loc and loc[-1] == "share_percent":
        zh = "計入比例必須在 0 到 100 之間"
    elif err["type"] == "string_pattern_mismatch" and loc and loc[-1] == "id":
        zh = "類別代碼只能用小寫英數字與 -（例如 gender-training）"
    elif err["type"] == "literal_error" and loc[:2] == ("report", "columns") and loc[-1] == "key":
        zh = "報表欄位代碼不認得；可用：" + "、".join(REPORT_COLUMN_KEYS)
    elif err["type"] == "string_type" and "codes" in loc:
        zh = "科目代碼必須是加引號的字串，例如 \"2036\"（才能保留開頭的 0）"
    return Problem("rules-invalid", zh, err["msg"], file=label, line=_line_for(loc, lines), key=_dotted(loc))


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    """The line of the deepest known prefix of ``loc`` (a key path as pydantic reports it)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


_TABLE_RE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


def _key_lines(text: str) -> dict[tuple, int]:
    """Map key paths such as ``("category", 2, "share_percent")`` to their line numbers.

    tomllib gives no positions, so this scans table headers and ``key =`` lines; it is only used
    to point at lines in messages, never to read values.
    """
    lines: dict[tuple, int] = {}
    counters: dict[tuple, int] = {}
    current: tuple = ()
    for number, line in enumerate(text.splitlines(), start=1):
        m = _TABLE_RE.match(line)
        if m:
            names = [n.strip().strip("\"'") for n in m.group(2).split(".")]
            path: tuple = ()
            for k, name in enumerate(names):
                path += (name,)
                last = k == len(names) - 1
                if last and m.group(1) == "[[":
                    index = counters.get(path, -1) + 1
                    counters[path] = index
                    path += (index,)
                elif not last and path in counters:
                    path += (counters[path],)
            current = path
            lines.setdefault(current, number)
            continue
        m = _KEY_RE.match(line)
        if m:
            lines.setdefault(current + (m.group(1).strip('"'),), number)
    return lines

