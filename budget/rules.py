"""The rules file: TOML read with tomllib, validated with pydantic, every problem with its line.

The validated rules are the plain frozen dataclasses below; the pydantic models that validate a
file live in :mod:`budget.rules_schema`, imported only when a file is validated. :func:`load_rules`
keeps a validated copy in the user's cache folder (budget/rulecache.py), so that a command that
loads unchanged rules (``check``) imports neither pydantic nor tomllib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from .lazyre import LazyPattern
from .problems import BudgetError, Problem

SCHEMA_VERSION = 1
MAX_RULES_BYTES = 1 << 20
MATCH_FIELDS = ("description", "plan", "branch", "account")

_RE2_OPTIONS: Any = None


def compile_regex(pattern: str) -> Any:
    """Compile a rules-file regex with RE2 (linear time); raises ``re2.error`` if it is not valid."""
    global _RE2_OPTIONS
    import re2

    if _RE2_OPTIONS is None:
        options = re2.Options()
        options.log_errors = False
        _RE2_OPTIONS = options
    return re2.compile(pattern, options=_RE2_OPTIONS)


class LazyRegex:
    """A rules-file regex that RE2 compiles when it is first searched with.

    Most lines never reach a category's regex, and loading RE2 took ~6 ms of ``check``'s start-up.
    Validated rules (:func:`load_rules`) have had every regex compiled already, so this one compiles.
    """

    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: Any = None

    def search(self, text: str) -> Any:
        if self._compiled is None:
            self._compiled = compile_regex(self.pattern)
        return self._compiled.search(text)


# The validated rules. Each class has the fields and defaults of its pydantic model in
# budget/rules_schema.py (which checks the types and limits); tests/test_rules_cache.py compares them.

@dataclass(frozen=True, kw_only=True)
class Conditions:
    """Term conditions on one set of fields: OR (``any``), AND of OR-groups (``all``), NOT (``none``)."""

    any: list[str] = field(default_factory=list)
    all: list[list[str]] = field(default_factory=list)
    none: list[str] = field(default_factory=list)
    regex: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.any or self.all or self.none or self.regex)


@dataclass(frozen=True, kw_only=True)
class Example:
    """An inline example: a line and what the rules must decide about it."""

    text: str
    account: str = ""
    plan: str = ""
    branch: str = ""
    amount: Decimal | None = None
    unit: str | None = None
    year: int | None = None
    expect: str
    status: Literal["matched", "review", "unmatched"] | None = None
    gender_amount: Decimal | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as pydantic's ``model_dump(mode="json")`` gives it (decimals as strings)."""
        return {
            "text": self.text, "account": self.account, "plan": self.plan, "branch": self.branch,
            "amount": None if self.amount is None else str(self.amount), "unit": self.unit, "year": self.year,
            "expect": self.expect, "status": self.status,
            "gender_amount": None if self.gender_amount is None else str(self.gender_amount), "note": self.note,
        }


@dataclass(frozen=True, kw_only=True)
class Category(Conditions):
    """One eligible category of the gender budget and how to recognise it."""

    id: str
    name: str
    name_en: str = ""
    official_class: int
    goal: str = ""
    basis: str = ""
    share_percent: Decimal = Decimal(100)
    priority: int = 0
    years: list[int] = field(default_factory=list)
    fields: list[Literal["description", "plan", "branch", "account"]] | None = None
    codes: list[str] = field(default_factory=list)
    shared_with: list[str] = field(default_factory=list)
    review: bool = False
    review_reason: str = ""
    plan: Conditions | None = None
    branch: Conditions | None = None
    account: Conditions | None = None
    example: list[Example] = field(default_factory=list)

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


@dataclass(frozen=True, kw_only=True)
class ReportColumn:
    """One column of the annual report's 性別預算編列情形表: a key from REPORT_COLUMN_KEYS, a title."""

    key: str
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class ReportSettings:
    """The ``[report]`` table: how the annual report looks for this government's form."""

    unit: Literal["元", "千元", "萬元"] = "千元"
    agency: str = ""
    columns: list[ReportColumn] = field(default_factory=list)
    #: The signature row under 性別預算編列情形表 (empty list: no signature row).
    signatures: list[str] = field(default_factory=lambda: list(DEFAULT_SIGNATURES))


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
    packaged = Path(__file__).parent / "rules" / "default.toml"  # where importlib.resources finds it
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules" / "default.toml"


def load_rules(path: str | Path | None = None, *, cache: bool = True) -> RuleSet:
    """Read and validate a rules file; raise :class:`BudgetError` with every problem found.

    A file validated before (the same bytes, by this version of the tool and of Python) is taken
    from the user's cache folder instead (budget/rulecache.py; ``cache=False`` or the environment
    variable ``GENDER_BUDGET_CACHE=0`` turns it off). Any cached copy that does not check out is
    ignored and written again; a cache folder that cannot be written just means no cache.
    """
    path = Path(path) if path else default_rules_path()
    label = str(path)
    if not path.exists():
        raise BudgetError.one("rules-not-found", "找不到規則檔", "rules file not found", file=label)
    if path.is_dir():
        raise BudgetError.one("rules-not-found", "規則檔路徑是資料夾", "rules path is a directory", file=label)
    data = path.read_bytes()
    if len(data) > MAX_RULES_BYTES:
        raise BudgetError.one("rules-too-large", "規則檔超過 1 MiB", "rules file is larger than 1 MiB", file=label)
    if not cache:
        return parse_rules(data, label)
    from . import rulecache

    return rulecache.cached_rules(data, label, parse_rules)


def parse_rules(data: bytes, label: str = "<rules>") -> RuleSet:
    """Validate rules-file bytes (see :func:`load_rules`)."""
    import hashlib
    import tomllib

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
    from .rules_schema import to_runtime, validate

    lines = _key_lines(text)
    problems = _semantic_problems(raw, label, lines)
    parsed, invalid = validate(raw, label, lines)
    problems = invalid + problems
    if problems:
        raise BudgetError(sorted(problems, key=lambda p: (p.line or 0, p.key or "")))
    assert parsed is not None
    return RuleSet(
        name=parsed.name, path=label, sha256=hashlib.sha256(data).hexdigest(), unit=parsed.unit,
        match_fields=tuple(parsed.match_fields), columns=dict(parsed.columns), report=to_runtime(parsed.report),
        categories=tuple(to_runtime(parsed.category)), cost_terms=tuple(parsed.cost_terms),
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


def re2_error() -> type[Exception]:
    """RE2's exception class (RE2 is imported when first needed)."""
    import re2

    return re2.error


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
                except re2_error() as exc:
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


_TABLE_RE = LazyPattern(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = LazyPattern(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


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

