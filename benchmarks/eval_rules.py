"""Evaluate a rules file on real budget lines: what each category matches or sends to review, and why.

Usage:
    python benchmarks/eval_rules.py /work/shared/data [--rules rules/default.toml]
        [--category ID] [--near-misses] [--json]

Reads every ``*.csv`` in the folder (columns id, source, year, agency, plan, branch, account,
description, amount, unit, …, row_type), skips rows whose ``row_type`` is not ``line``, classifies
each line and prints, per category, the lines matched and sent to review with the evidence, then the
counts. The lines are unlabelled: the output is for a person to judge precision, line by line.
``--near-misses`` also lists unmatched lines that contain gender-related words, to look for misses.

Labelled lines (issue 11):
    python benchmarks/eval_rules.py ../shared/data --score [--rules FILE] [--keep DIR]

builds office-style exports with ``../shared/tools/score_decisions.py`` (next to the data folder),
runs ``python -m budget classify … --json`` from this tree, and prints the scorer's figures per book and
overall (silent errors, review, auto right), then the money counted against the labelled gender total
per book and overall, with and without the childcare lines (托育/托嬰/育兒/嬰幼兒).

    python benchmarks/eval_rules.py ../shared/data --history [--cut 108]

measures the suggestions from history (budget/engine/history.py): the labelled lines of years up to
``--cut`` play last years' reviewed lines (their labels as the reviewers' decisions), the later ones
are classified and given suggestions; prints what the suggestions catch on the rules' decisions and,
as if the rules knew nothing, on every later line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this tree's budget, not an installed one

from budget.check import make_line  # noqa: E402
from budget.engine.classifier import Classifier  # noqa: E402
from budget.models import LineItem, Decision  # noqa: E402
from budget.money import format_amount  # noqa: E402
from budget.problems import BudgetError  # noqa: E402
from budget.rules import RuleSet, load_rules  # noqa: E402

# Words worth a second look when a line matched nothing (possible false negatives).
NEAR_MISS_WORDS = ("性別", "婦", "女", "育嬰", "托", "哺", "乳", "孕", "產假", "生育", "家暴", "騷擾", "性侵",
                   "新住民", "新移民", "單親", "特殊境遇", "多元", "友善", "代理", "幼兒", "兒童", "親子")


def read_lines(folder: Path, rules: RuleSet) -> tuple[list[tuple[dict[str, str], LineItem]], list[str]]:
    """Every ``line`` row of every CSV in ``folder`` as (raw row, LineItem); plus problems met."""
    rows: list[tuple[dict[str, str], LineItem]] = []
    problems: list[str] = []
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else [folder]
    for path in paths:
        if path.name == "labels.csv":  # the hand labels, not budget lines
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=2):
                if (row.get("row_type") or "line") != "line":
                    continue
                try:
                    year = int(row["year"]) if (row.get("year") or "").strip().isdigit() else None
                    line = make_line(row.get("description") or "", account=row.get("account") or "",
                                     amount=row.get("amount") or None, unit=row.get("unit") or None,
                                     plan=row.get("plan") or "", branch=row.get("branch") or "", year=year,
                                     rules=rules, where={"file": path.name, "row": number})
                except BudgetError as exc:
                    problems.extend(str(p) for p in exc.problems)
                    continue
                line.agency = row.get("agency") or ""
                rows.append((row, line))
    return rows, problems


def describe(row: dict[str, str], line: LineItem, d: Decision) -> dict[str, object]:
    """One classified line as plain data."""
    return {
        "id": row.get("id", ""), "agency": line.agency, "plan": line.plan, "branch": line.branch,
        "account": f"{line.account_code} {line.account}".strip(), "description": line.description,
        "amount": format_amount(line.amount) if line.amount is not None else None, "unit": line.unit,
        "status": d.status, "category": d.category, "gender_amount": format_amount(d.gender_amount),
        "also_matched": d.also_matched, "explanation": d.explain(),
        "subitems": [f"{s.marker} {format_amount(s.amount) if s.amount is not None else '?'} → "
                     f"{'、'.join(s.categories) or '-'}" for s in d.subitems if s.categories],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder of CSV files (or one CSV file)")
    parser.add_argument("--rules", "-r", type=Path, default=None, help="rules file (default: bundled)")
    parser.add_argument("--category", "-c", action="append", default=[], help="only show these category ids")
    parser.add_argument("--near-misses", action="store_true",
                        help="also list unmatched lines containing gender-related words")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--width", type=int, default=160, help="cut descriptions to this many characters")
    parser.add_argument("--score", action="store_true", help="score on the labelled lines (labels.csv)")
    parser.add_argument("--keep", type=Path, default=None, help="with --score: build the exports here")
    parser.add_argument("--history", action="store_true", help="measure suggestions from history")
    parser.add_argument("--cut", type=int, default=108, help="with --history: last year of the 'past' lines")
    args = parser.parse_args(argv)
    if args.score:
        return score_labelled(args.data, args.rules, args.keep)
    if args.history:
        return score_history(args.data, load_rules(args.rules), args.cut)

    try:
        rules = load_rules(args.rules)
    except BudgetError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return 2
    if not args.data.exists():
        print(f"找不到資料：{args.data}", file=sys.stderr)
        return 2
    rows, problems = read_lines(args.data, rules)
    classifier = Classifier(rules)

    by_category: dict[str, list[dict[str, object]]] = defaultdict(list)
    near: list[dict[str, object]] = []
    status_counts: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    gender_sum: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row, line in rows:
        d = classifier.classify(line)
        status_counts[d.status] += 1
        item = describe(row, line, d)
        if d.status in ("matched", "review"):
            key = d.category or "(ambiguous)"
            by_category[key].append(item)
            counts[key][d.status] += 1
            gender_sum[(key, d.status, line.unit)] += d.gender_amount
        elif args.near_misses and any(w in line.description for w in NEAR_MISS_WORDS):
            near.append(item)

    order = [c.id for c in rules.categories] + ["(ambiguous)"]
    shown = [c for c in order if not args.category or c in args.category]
    if args.json:
        json.dump({
            "rules": rules.name, "lines": len(rows), "status": dict(status_counts),
            "categories": {c: {"matched": counts[c]["matched"], "review": counts[c]["review"],
                               "lines": by_category[c]} for c in shown},
            "near_misses": near, "problems": problems,
        }, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0

    def cut(text: str) -> str:
        return text if len(text) <= args.width else text[: args.width] + "…"

    print(f"規則檔 rules: {rules.name}")
    print(f"資料 data: {args.data}（{len(rows)} 筆明細 line items）")
    for cid in shown:
        items = by_category.get(cid, [])
        if not items:
            continue
        cat = rules.category(cid)
        title = f"{cid} {cat.name}" if cat else cid
        print(f"\n=== {title}：符合 {counts[cid]['matched']}，待覆核 {counts[cid]['review']} ===")
        for it in sorted(items, key=lambda i: (i["status"], i["id"])):
            mark = "✔ 符合 " if it["status"] == "matched" else "? 覆核 "
            print(f"{mark}{it['id']} {it['agency']} | {it['account']} | {it['amount']} {it['unit']}"
                  f" → 性別預算數 {it['gender_amount']}")
            print(f"    說明：{cut(str(it['description']))}")
            print(f"    依據：{cut(str(it['explanation']))}")
            if it["subitems"]:
                print(f"    子項：{'；'.join(it['subitems'])}")
            if it["also_matched"]:
                print(f"    也符合：{'、'.join(it['also_matched'])}")
    if args.near_misses:
        print(f"\n=== 未符合但含性別相關字詞（可能漏列）near misses：{len(near)} ===")
        for it in near:
            print(f"  {it['id']} | {it['account']} | {it['amount']} {it['unit']} | {cut(str(it['description']))}")

    print("\n=== 統計 counts ===")
    print(f"{'類別 category':40} {'符合':>6} {'覆核':>6}  建議性別預算數（依單位）")
    for cid in order:
        if not counts[cid]:
            continue
        sums = "；".join(f"{s}:{format_amount(v)}{u}" for (c, s, u), v in sorted(gender_sum.items()) if c == cid)
        print(f"{cid:40} {counts[cid]['matched']:>6} {counts[cid]['review']:>6}  {sums}")
    zero = [c.id for c in rules.categories if not counts[c.id]]
    if zero:
        print(f"無任何明細的類別 none found: {'、'.join(zero)}")
    print("判定 status: " + "，".join(f"{k} {v}" for k, v in sorted(status_counts.items())))
    for p in problems:
        print(f"讀取問題 problem: {p}", file=sys.stderr)
    return 0


CHILDCARE_WORDS = ("托育", "托嬰", "育兒", "嬰幼兒")


def score_labelled(data: Path, rules_path: Path | None, keep: Path | None) -> int:
    """The scorer's figures on the labelled lines, then money counted vs labelled, per book and overall."""
    import subprocess
    import tempfile

    scorer = data.resolve().parent / "tools" / "score_decisions.py"
    if not scorer.exists():
        print(f"找不到評分工具：{scorer}", file=sys.stderr)
        return 2
    out = keep or Path(tempfile.mkdtemp(prefix="gb-score-"))
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, str(scorer), "build", str(out)], check=True)
    command = [sys.executable, "-m", "budget", "classify", str(out / "千元.xlsx"), str(out / "元.xlsx"),
               "-o", str(out / "out.xlsx"), "--json"] + (["--rules", str(rules_path)] if rules_path else [])
    with open(out / "run.json", "w", encoding="utf-8") as fh:
        subprocess.run(command, cwd=root, stdout=fh, check=False)
    subprocess.run([sys.executable, str(scorer), "score", str(out), str(out / "run.json")], check=True)
    print_money(data, out)
    return 0


def print_money(data: Path, out: Path) -> None:
    """Money counted (matched only) against the labelled gender amounts, in 千元."""
    labels = {r["id"]: r for r in csv.DictReader(open(data / "labels.csv", encoding="utf-8"))}
    texts = {}
    for path in data.glob("*.csv"):
        if path.name != "labels.csv":
            texts.update({r["id"]: r for r in csv.DictReader(open(path, encoding="utf-8"))})
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    money: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for item in run["lines"]:
        lid = key.get(f"{Path(str(item.get('file', ''))).name}|{item.get('sheet')}|{item.get('row')}")
        if not lid or lid == "TOTAL" or labels[lid]["label"] == "unsure":
            continue
        factor = Decimal(1) if item.get("unit") == "千元" else Decimal("0.001")
        label = labels[lid]
        stated = Decimal(label["gender_amount"]) * factor if label["gender_amount"] else Decimal(0)
        counted = Decimal(str(item.get("gender_amount") or 0)) * factor if item["status"] == "matched" else Decimal(0)
        care = any(w in texts[lid]["description"] for w in CHILDCARE_WORDS)
        for book in (item.get("sheet"), "ALL"):
            row = money[book]
            row[0] += stated
            row[1] += counted
            if not care:
                row[2] += stated
                row[3] += counted
    for book, (stated, counted, stated_nc, counted_nc) in money.items():
        def gap(a: Decimal, b: Decimal) -> str:
            return f"{(b - a) / a:+.2%}" if a else "n/a"
        print(f"{book}: money labelled {format_amount(stated)} 千元, counted {format_amount(counted)} "
              f"({gap(stated, counted)}); without childcare labelled {format_amount(stated_nc)}, counted "
              f"{format_amount(counted_nc)} ({gap(stated_nc, counted_nc)})")


def score_history(data: Path, rules: RuleSet, cut: int) -> int:
    """Suggestions from the labelled lines of years ≤ ``cut`` for the later ones (see the module doc)."""
    from budget.engine.history import MIN_SIMILARITY, suggest_from_history
    from budget.models import MATCHED, REVIEW, UNMATCHED

    labels = {r["id"]: r for r in csv.DictReader(open(data / "labels.csv", encoding="utf-8"))}
    past, new = [], []
    for path in sorted(data.glob("*.csv")):
        for r in csv.DictReader(open(path, encoding="utf-8")) if path.name != "labels.csv" else []:
            label = labels.get(r["id"])
            if not label or label["label"] == "unsure" or not (r.get("amount") or "").strip():
                continue
            if (r.get("row_type") or "line") == "case_header":
                continue
            line = LineItem(description=r["description"], amount=Decimal(r["amount"].replace(",", "")),
                            unit=r.get("unit") or "千元", plan=r["plan"], branch=r.get("branch") or "",
                            account=r.get("account") or "", year=int(r["year"]))
            (past if line.year <= cut else new).append((line, label))

    def reviewed(line: LineItem, label: dict[str, str]) -> Decision:
        if label["label"] == "exclude":
            return Decision(UNMATCHED)
        stated = label["gender_amount"]
        amount = Decimal(stated) if stated else (line.amount if label["label"] == "include" else Decimal(0))
        return Decision(MATCHED, category="gender-other", gender_amount=amount)

    pairs = [(line, reviewed(line, label)) for line, label in past]
    lines = [line for line, _ in new]
    gender = [label["label"] != "exclude" for _, label in new]
    classifier = Classifier(rules)
    by_rules = [classifier.classify(line) for line in lines]
    print(f"past (≤{cut}) {len(pairs)} lines, later {len(lines)} lines ({sum(gender)} gender); "
          f"similarity ≥ {MIN_SIMILARITY:.0f}%")
    out = suggest_from_history(lines, by_rules, pairs, rules)
    caught = agree = disagree = false_alarm = 0
    for before, after, positive in zip(by_rules, out, gender):
        if after is before:
            continue
        if before.status == UNMATCHED:
            caught += positive
            false_alarm += not positive
        else:
            says_gender = "不屬性別預算" not in after.reasons[-1]
            agree += says_gender == positive
            disagree += says_gender != positive
    print(f"on the rules' decisions: unmatched lines suggested {caught} gender, {false_alarm} not gender; "
          f"reviews given an earlier decision {agree} agreeing with the label, {disagree} not")
    blind = suggest_from_history(lines, [Decision(UNMATCHED) for _ in lines], pairs, rules)
    hits = [positive for d, positive in zip(blind, gender) if d.status == REVIEW]
    print(f"history alone (every later line unmatched): {sum(hits)} of {sum(gender)} gender lines suggested, "
          f"{len(hits) - sum(hits)} false alarms")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        raise SystemExit(0)
