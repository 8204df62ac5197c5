"""The reading run's memory budget: an estimate charged as rows become lines, refused clearly past the limit.

The child process that parses workbooks has its own address-space cap; this budget guards the main
process, whose memory grows with the lines and cells it keeps. The estimate is deliberately generous
per cell (a line keeps every cell of its row), so a file refused here would really have needed that
much; an ordinary 1,048,576-row export stays far below the default.
"""

from __future__ import annotations

import os
from typing import Callable

from ..problems import BudgetError

#: Default budget of one run, in bytes (override with the environment variable below, in MB).
DEFAULT_BUDGET_BYTES = 6 << 30
BUDGET_ENV = "GENDER_BUDGET_MEMORY_MB"
#: Estimated bytes kept per line (the LineItem, its fields and flags) and per cell it carries.
LINE_BYTES = 1000
CELL_BYTES = 16


def budget_from_environment() -> int:
    """The budget in bytes: ``GENDER_BUDGET_MEMORY_MB`` when set to a positive number, else the default."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text) << 20
    return DEFAULT_BUDGET_BYTES


class ReadRun:
    """One call of ``read_exports``: the rows done so far (for the progress callback) and the memory budget."""

    def __init__(self, progress: Callable[[int], None] | None, budget: "MemoryBudget") -> None:
        self.callback = progress
        self.done = 0
        self.budget = budget

    def tick(self, rows: int) -> None:
        """``rows`` more rows were examined."""
        self.done += rows
        if self.callback is not None:
            self.callback(self.done)


class MemoryBudget:
    """Bytes a run may keep; :meth:`charge` refuses with file › sheet › row once the estimate passes it."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = budget_from_environment() if limit is None else limit
        self.used = 0

    @staticmethod
    def line_cost(width: int) -> int:
        """Estimated bytes of one line of a sheet ``width`` columns wide."""
        return LINE_BYTES + width * CELL_BYTES

    def charge(self, cost: int, *, file: str, sheet: str | None, row: int) -> None:
        """Account for ``cost`` more bytes; raise BudgetError (naming file › sheet › row) past the limit."""
        self.used += cost
        if self.used > self.limit:
            need, limit = self.used >> 20, self.limit >> 20
            raise BudgetError.one(
                "memory-budget-exceeded",
                f"讀到此列時，所需記憶體估計已超過上限（約 {need:,} MB > {limit:,} MB）；檔案過大或含有大量空白欄。"
                f"請刪除多餘的列與欄、分成數個檔案，或以環境變數 {BUDGET_ENV} 提高上限（單位 MB）。",
                f"the estimated memory passed the budget ({need} MB > {limit} MB) at this row; split the file "
                f"or raise {BUDGET_ENV}", file=file, sheet=sheet or None, row=row, hint=f"{BUDGET_ENV}=8192")
