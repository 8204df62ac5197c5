"""gender-budget: plan, classify and report a Taiwanese agency's gender budget (性別預算).

The library's face::

    import budget

    rules = budget.load_rules()                     # the built-in rules, or a path to a TOML file
    read = budget.read_exports(["116年度歲出預算明細.xlsx"])
    decisions = budget.classify(read.lines, rules)  # one Decision per line, each with its reasons
    result = budget.run_classify(["116年度歲出預算明細.xlsx"], rules, output="out.xlsx")
    report = budget.make_report(["out.xlsx"], rules)

Unusable input raises :class:`BudgetError`, whose ``problems`` are :class:`Problem` records (code,
zh-TW and English message, file › sheet › row › column). Names are imported on first use, so that
``import budget`` (and the command line's start-up) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name → module that defines it
_EXPORTS = {
    "load_rules": ".rules",
    "read_exports": ".exports",
    "classify": ".engine",
    "run_classify": ".pipeline",
    "make_report": ".pipeline",
    "Problem": ".problems",
    "BudgetError": ".problems",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from .engine import classify
    from .exports import read_exports
    from .pipeline import make_report, run_classify
    from .problems import BudgetError, Problem
    from .rules import load_rules


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'budget' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
