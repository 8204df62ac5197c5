"""The 摘要 figures of a run with the browser reviews applied: the run's totals adjusted line by line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from ..models import LINE, MATCHED, OFFICIAL_CLASSES, REVIEW
from ..money import convert, format_thousands, round_half_up


def _d(text: Any) -> Decimal:
    return Decimal(str(text)) if text not in (None, "") else Decimal(0)


def current_figures(totals: Mapping[str, Any], lines: Mapping[int, Any], reviews: Mapping[int, Any],
                    class_of: Mapping[str, int]) -> dict[str, Any]:
    """Totals (as ``Totals.to_dict`` stored them) with each review applied.

    ``lines`` and ``reviews`` are stored rows by line index (reviews carry the final status, category
    and gender amount in the line's unit); ``class_of`` maps category id → official class.
    """
    unit = totals["unit"]
    gender = _d(totals["gender_total"])
    review_total = _d(totals["review_total"])
    status_lines = dict(totals["status_lines"])
    cats = {g["key"]: {"label": g["label"], "class": g.get("official_class"), "amount": _d(g["gender_amount"]),
                       "lines": g["matched_lines"], "review_lines": g["review_lines"]} for g in totals["by_category"]}
    classes = {int(g["key"]): {"label": g["label"], "amount": _d(g["gender_amount"]), "lines": g["matched_lines"]}
               for g in totals["by_class"]}

    def move(category: str | None, amount: Decimal, lines_delta: int) -> None:
        if category in cats:
            cats[category]["amount"] += amount
            cats[category]["lines"] += lines_delta
            number = class_of.get(category)
            if number in classes:
                classes[number]["amount"] += amount
                classes[number]["lines"] += lines_delta

    reviewed = 0
    for idx, review in reviews.items():
        line = lines.get(idx)
        if line is None or line["kind"] != LINE or not review["status"]:
            continue
        reviewed += 1
        base = convert(_d(line["gender"]), line["unit"], unit) if line["category"] else Decimal(0)
        status_lines[line["status"]] = status_lines.get(line["status"], 0) - 1
        status_lines[review["status"]] = status_lines.get(review["status"], 0) + 1
        if line["status"] == MATCHED:
            gender -= base
            move(line["category"], -base, -1)
        elif line["status"] == REVIEW:
            review_total -= base
            if line["category"] in cats:
                cats[line["category"]]["review_lines"] -= 1
        if review["status"] == MATCHED:
            final = convert(_d(review["final_gender"]), line["unit"], unit)
            gender += final
            move(review["final_category"], final, 1)
    budget = _d(totals["budget_total"])
    share = round_half_up(gender * 100 / budget, "0.01") if budget else None
    top = max([c["amount"] for c in classes.values()] + [Decimal(1)])
    return {
        "unit": unit, "budget_total": budget, "gender_total": gender, "share": share,
        "review_lines": status_lines.get(REVIEW, 0), "review_total": review_total,
        "matched_lines": status_lines.get(MATCHED, 0), "reviewed": reviewed, "lines": totals["lines"],
        "by_category": [dict(key=k, **v) for k, v in cats.items() if v["amount"] or v["lines"] or v["review_lines"]],
        "by_class": [{"number": n, "label": OFFICIAL_CLASSES.get(n, v["label"]), "amount": v["amount"],
                      "lines": v["lines"], "bar": float(v["amount"] / top) if top else 0.0}
                     for n, v in sorted(classes.items())],
    }


def figures_json(fig: Mapping[str, Any]) -> dict[str, Any]:
    """The figures as the page's script receives them (amounts as grouped text)."""
    return {
        "unit": fig["unit"], "budget_total": format_thousands(fig["budget_total"]),
        "gender_total": format_thousands(fig["gender_total"]),
        "share": "—" if fig["share"] is None else f"{fig['share']}%",
        "review_lines": fig["review_lines"], "review_total": format_thousands(fig["review_total"]),
        "matched_lines": fig["matched_lines"], "reviewed": fig["reviewed"],
        "by_class": [{"number": c["number"], "amount": format_thousands(c["amount"]), "lines": c["lines"],
                      "bar": round(c["bar"], 4)} for c in fig["by_class"]],
    }
