"""Decisions as a pandas DataFrame, for notebook users (the optional ``pandas`` extra)."""

from __future__ import annotations

from typing import Any

#: The frame's columns, in order.
COLUMNS = ("file", "sheet", "row", "kind", "plan", "branch", "account_code", "account", "description",
           "amount", "unit", "status", "category", "share_percent", "gender_amount", "rule", "explanation",
           "review")


def decision_records(result: Any) -> list[dict[str, Any]]:
    """One dict per line of ``result`` (anything with ``lines`` and ``decisions``: a classify run, a year).

    Amounts stay :class:`~decimal.Decimal` (exact, in the line's own ``unit``); nothing is rounded.
    """
    return [{
        "file": line.file, "sheet": line.sheet, "row": line.row, "kind": line.kind, "plan": line.plan,
        "branch": line.branch, "account_code": line.account_code, "account": line.account,
        "description": line.description, "amount": line.amount, "unit": line.unit, "status": d.status,
        "category": d.category, "share_percent": d.share_percent, "gender_amount": d.gender_amount,
        "rule": d.rule, "explanation": d.explain(), "review": d.review,
    } for line, d in zip(result.lines, result.decisions)]


def decisions_frame(result: Any):
    """A ``pandas.DataFrame`` with one row per line of ``result`` and the columns :data:`COLUMNS`.

    Money columns hold ``Decimal`` objects (exact; convert with ``.astype(float)`` only for plots).
    Needs pandas: ``pip install "gender-budget[pandas]"``.
    """
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('decisions_frame needs pandas: pip install "gender-budget[pandas]"') from exc
    return pandas.DataFrame.from_records(decision_records(result), columns=list(COLUMNS))
