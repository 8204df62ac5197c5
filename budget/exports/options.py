"""The read options every command that reads an export offers (--sheet, --map, --encoding, --unit, --max-rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..limits import SHEET_ROWS


@dataclass(frozen=True)
class ReadOptions:
    """How to read exports: one sheet only, column overrides, CSV encoding, unit of bare amounts, row limit.

    ``mapping`` (field → header title, from ``--map``) wins over the rules file's ``[columns]``.
    """

    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    unit: str | None = None
    max_rows: int = SHEET_ROWS

    def reader_arguments(self, rules: Any) -> dict[str, Any]:
        """Keyword arguments for :func:`budget.exports.read_exports` under ``rules`` (its columns and unit)."""
        return {"sheet": self.sheet, "mapping": {**rules.columns, **self.mapping}, "encoding": self.encoding,
                "unit": self.unit, "default_unit": rules.unit, "max_rows": self.max_rows}
