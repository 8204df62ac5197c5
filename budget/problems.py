"""Problems as data: what went wrong, where, and how bad — never a bare exception string."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input file, a rules file or a run.

    ``code`` is a stable slug (``amount-unreadable``, ``rules-invalid``…); ``message`` is zh-TW
    for the user, ``message_en`` the same in English. The location fields are filled where they
    apply: ``file``/``sheet``/``row``/``column`` for spreadsheets, ``line``/``key`` for rules files.
    """

    code: str
    message: str
    message_en: str = ""
    severity: str = ERROR
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    line: int | None = None
    key: str | None = None
    hint: str = ""

    @property
    def location(self) -> str:
        """Where the problem is, as ``file:line key`` or ``file › sheet › 第N列 › 欄 X``."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line else ""))
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第 {self.row} 列")
        if self.column:
            parts.append(f"欄「{self.column}」")
        if self.key:
            parts.append(self.key)
        return " › ".join(parts)

    def __str__(self) -> str:
        where = self.location
        text = f"{where}: {self.message}" if where else self.message
        if self.message_en:
            text += f" ({self.message_en})"
        if self.hint:
            text += f"\n  提示 hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The problem as a flat JSON-ready dict (``None`` fields left out)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


@dataclass
class BudgetError(Exception):
    """Raised when input or rules cannot be used at all; carries every problem found.

    The CLI turns it into messages and exit code 2; nothing is written.
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, code: str, message: str, message_en: str = "", **where: Any) -> "BudgetError":
        """A BudgetError holding a single problem."""
        return cls([Problem(code, message, message_en, **where)])


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """Only the problems of severity ``error``."""
    return [p for p in problems if p.severity == ERROR]


def clip(text: object, limit: int = 40) -> str:
    """Input text shortened for a message (a cell may hold thousands of characters): ``開頭…（共 N 字元）``."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit // 2]}…（共 {len(text):,} 字元）"
