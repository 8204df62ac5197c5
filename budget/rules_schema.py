"""The rules file's schema: pydantic models that validate it, and their zh-TW messages.

Imported only when a rules file is validated (pydantic costs ~0.15 s to import): the validated
rules are the plain dataclasses of :mod:`budget.rules`, which a cached copy (budget/rulecache.py)
restores without pydantic. The models here and the dataclasses there have the same fields and
defaults (tests/test_rules_cache.py checks).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from . import rules as runtime
from .problems import Problem
from .rules import DEFAULT_COST_TERMS, DEFAULT_SIGNATURES, REPORT_COLUMN_KEYS

Term = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Code = Annotated[StrictStr, Field(pattern=r"^[0-9A-Za-z]{1,12}$")]
Pattern = Annotated[StrictStr, Field(min_length=1, max_length=500)]
Percent = Annotated[Decimal, Field(ge=0, le=100, strict=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Conditions(_Strict):
    """Term conditions on one set of fields: OR (``any``), AND of OR-groups (``all``), NOT (``none``)."""

    any: list[Term] = []
    all: list[list[Term]] = []
    none: list[Term] = []
    regex: list[Pattern] = []


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


#: Each model's counterpart among the validated rules' dataclasses (budget/rules.py).
RUNTIME: dict[type[BaseModel], type] = {
    Conditions: runtime.Conditions, Example: runtime.Example, Category: runtime.Category,
    ReportColumn: runtime.ReportColumn, ReportSettings: runtime.ReportSettings,
}


def to_runtime(value: Any) -> Any:
    """A validated model (or a list of them) as the dataclasses of budget/rules.py, field for field."""
    if isinstance(value, BaseModel):
        cls = RUNTIME[type(value)]
        return cls(**{name: to_runtime(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, list):
        return [to_runtime(v) for v in value]
    return value


def validate(raw: dict[str, Any], label: str, lines: dict[tuple, int]) -> tuple[RuleFile | None, list[Problem]]:
    """``raw`` (the parsed TOML) validated: ``(the file, [])`` or ``(None, a problem per error)``."""
    try:
        return RuleFile.model_validate(raw), []
    except ValidationError as exc:
        return None, [_pydantic_problem(err, label, lines) for err in exc.errors()]


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
    return Problem("rules-invalid", zh, err["msg"], file=label, line=runtime._line_for(loc, lines),
                   key=runtime._dotted(loc))
