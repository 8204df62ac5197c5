"""A classify run: read the exports, decide every line, total them, write the annotated workbook."""

from __future__ import annotations

import gc
import hashlib
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

from . import __version__
from .outputs.layout import OFFICIAL_CLASSES
from .models import LINE, MATCHED, REVIEW, STATUSES, Decision, LineItem
from .money import convert, format_amount, round_half_up
from .problems import ERROR, Problem
from .rules import RuleSet

#: ``progress(stage, done, total)``; stages are ``read``, ``classify``, ``write``. ``total`` may be None.
Progress = Callable[[str, int, "int | None"], None]

#: A step run after classification that may replace decisions (e.g. reviews carried over from last
#: year's annotated workbook): ``adjust(lines, decisions) -> (decisions, problems)``.
Adjust = Callable[[list[LineItem], list[Decision]], "tuple[list[Decision], list[Problem]]"]

#: What the default output is called: ``<input stem>.性別預算.xlsx`` beside the first input.
OUTPUT_SUFFIX = ".性別預算.xlsx"


def default_output(first_input: str | Path) -> Path:
    """The default output path for a run whose first input is ``first_input``."""
    path = Path(first_input)
    return path.with_name(path.stem + OUTPUT_SUFFIX)


@dataclass
class GroupTotal:
    """Lines and amounts of one group (a category, an official class, a 工作計畫), in the run's unit.

    ``lines``/``budget`` count every line of the group; ``gender_amount`` only matched lines;
    ``review_amount`` is what the engine proposes for the lines waiting for review.
    """

    key: str
    label: str
    official_class: int | None = None
    lines: int = 0
    budget: Decimal = Decimal(0)
    matched_lines: int = 0
    gender_amount: Decimal = Decimal(0)
    review_lines: int = 0
    review_amount: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as decimal strings)."""
        out = {k: (format_amount(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        if self.official_class is None:
            out.pop("official_class")
        return out


@dataclass
class Totals:
    """The run's totals, all in one ``unit`` (converted exactly with :func:`budget.money.convert`)."""

    unit: str
    unit_note: str
    rows_read: int = 0
    lines: int = 0  # rows of kind "line"
    counted: int = 0  # lines with an amount, i.e. counted in the budget total
    excluded: int = 0  # subtotal/total rows (小計不計)
    skipped: int = 0  # blank rows the reader skipped
    unreadable: int = 0  # lines whose amount was blank or unreadable
    status_lines: dict[str, int] = field(default_factory=dict)
    status_amounts: dict[str, Decimal] = field(default_factory=dict)
    budget_total: Decimal = Decimal(0)
    gender_total: Decimal = Decimal(0)
    review_total: Decimal = Decimal(0)
    by_category: list[GroupTotal] = field(default_factory=list)
    by_class: list[GroupTotal] = field(default_factory=list)
    by_plan: list[GroupTotal] = field(default_factory=list)
    input_total: Decimal = Decimal(0)
    workbook_total: Decimal | None = None  # the sum of the amounts written to 明細 (set by the writer)

    @property
    def share_percent(self) -> Decimal | None:
        """The gender total as a percentage of the budget total, 四捨五入 to 2 decimals."""
        if not self.budget_total:
            return None
        return round_half_up(self.gender_total * 100 / self.budget_total, "0.01")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as decimal strings)."""
        share = self.share_percent
        return {
            "unit": self.unit, "unit_note": self.unit_note, "rows_read": self.rows_read, "lines": self.lines,
            "counted": self.counted, "excluded": self.excluded, "skipped": self.skipped,
            "unreadable": self.unreadable,
            "status_lines": dict(self.status_lines),
            "status_amounts": {k: format_amount(v) for k, v in self.status_amounts.items()},
            "budget_total": format_amount(self.budget_total), "gender_total": format_amount(self.gender_total),
            "share_percent": format_amount(share) if share is not None else None,
            "review_total": format_amount(self.review_total),
            "by_category": [g.to_dict() for g in self.by_category],
            "by_class": [g.to_dict() for g in self.by_class],
            "by_plan": [g.to_dict() for g in self.by_plan],
            "input_total": format_amount(self.input_total),
            "workbook_total": format_amount(self.workbook_total) if self.workbook_total is not None else None,
        }


def choose_unit(lines: Sequence[LineItem], fallback: str = "元") -> tuple[str, str]:
    """The unit of the run's totals and why: the lines' unit when they share one, else 元."""
    units = list(dict.fromkeys(line.unit for line in lines if line.amount is not None or line.kind == LINE))
    if not units:
        return fallback, f"無金額，採規則檔單位 {fallback}"
    if len(units) == 1:
        return units[0], f"依輸入資料的單位 {units[0]}"
    return "元", f"輸入資料的單位不一（{'、'.join(units)}），全部精確換算為元後加總"


def compute_totals(lines: Sequence[LineItem], decisions: Sequence[Decision], rules: RuleSet, *,
                   unit: str | None = None, sources: Sequence[Any] = ()) -> Totals:
    """Totals of a run by status, category, official class and 工作計畫, exactly, in one unit."""
    chosen, note = choose_unit(lines, rules.unit)
    if unit is not None and unit != chosen:
        chosen, note = unit, f"指定單位 {unit}"
    totals = Totals(unit=chosen, unit_note=note)
    totals.status_lines = {s: 0 for s in STATUSES}
    totals.status_amounts = {s: Decimal(0) for s in STATUSES}
    categories = {c.id: GroupTotal(c.id, c.name, c.official_class) for c in rules.categories}
    classes = {k: GroupTotal(str(k), label, k) for k, label in OFFICIAL_CLASSES.items()}
    plans: dict[str, GroupTotal] = {}
    for line, decision in zip(lines, decisions, strict=True):
        totals.status_lines[decision.status] = totals.status_lines.get(decision.status, 0) + 1
        if line.kind != LINE:
            totals.excluded += 1
            continue
        totals.lines += 1
        amount = convert(line.amount, line.unit, chosen) if line.amount is not None else None
        gender = convert(decision.gender_amount, line.unit, chosen) if decision.category else Decimal(0)
        if amount is None:
            totals.unreadable += 1
        else:
            totals.counted += 1
            totals.budget_total += amount
            totals.status_amounts[decision.status] = totals.status_amounts.get(decision.status, Decimal(0)) + amount
        plan = plans.get(line.plan)
        if plan is None:
            plan = plans[line.plan] = GroupTotal(line.plan, line.plan or "（未列工作計畫）")
        plan.lines += 1
        plan.budget += amount or 0
        groups = [plan]
        category = rules.category(decision.category) if decision.category else None
        if category is not None:
            groups += [categories[category.id], classes[category.official_class]]
        if decision.status == MATCHED:
            totals.gender_total += gender
            for g in groups:
                g.matched_lines += 1
                g.gender_amount += gender
        elif decision.status == REVIEW:
            totals.review_total += gender
            for g in groups:
                g.review_lines += 1
                g.review_amount += gender
    totals.input_total = totals.budget_total
    totals.by_category = list(categories.values())
    totals.by_class = list(classes.values())
    totals.by_plan = list(plans.values()) if any(p for p in plans) else []
    sheets = [s for src in sources for s in getattr(src, "sheets", [])]
    totals.rows_read = sum(getattr(s, "rows_read", 0) for s in sheets) if sheets else len(lines)
    totals.skipped = sum(getattr(s, "skipped_blank", 0) for s in sheets)
    return totals


@dataclass
class RunResult:
    """Everything a classify run produced: lines, decisions, totals, problems and timings per stage."""

    lines: list[LineItem]
    decisions: list[Decision]
    totals: Totals
    problems: list[Problem]
    rules: RuleSet
    sources: list[Any] = field(default_factory=list)  # budget.read.SourceInfo of each input
    timings: dict[str, float] = field(default_factory=dict)
    output: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now().astimezone())
    tool_version: str = __version__

    @property
    def review_count(self) -> int:
        return sum(1 for d in self.decisions if d.status == REVIEW)

    @property
    def exit_code(self) -> int:
        """0 when nothing needs a person; 1 when lines need review or an error was found."""
        if self.review_count or any(p.severity == ERROR for p in self.problems):
            return 1
        return 0

    def line_dicts(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per line (amounts in the line's own unit, as decimal strings)."""
        out = []
        for line, d in zip(self.lines, self.decisions):
            out.append({
                "file": line.file, "sheet": line.sheet, "row": line.row, "kind": line.kind, "status": d.status,
                "category": d.category,
                "share_percent": format_amount(d.share_percent) if d.share_percent is not None else None,
                "amount": format_amount(line.amount) if line.amount is not None else None,
                "gender_amount": format_amount(d.gender_amount), "unit": line.unit, "rule": d.rule,
                "evidence": d.explain(), "also_matched": list(d.also_matched),
            })
        return out

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data: what ``classify --json`` prints."""
        return {
            "output": self.output,
            "rules": {"name": self.rules.name, "path": self.rules.path, "sha256": self.rules.sha256},
            "sources": [_plain(s) for s in self.sources],
            "lines": self.line_dicts(),
            "totals": self.totals.to_dict(),
            "problems": [p.to_dict() for p in self.problems],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "exit_code": self.exit_code,
        }


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def classify_lines(lines: Sequence[LineItem], rules: RuleSet, progress: Progress | None = None) -> list[Decision]:
    """Decide every line with one :class:`~budget.engine.Classifier`, reporting progress."""
    from .engine.classifier import Classifier

    classifier = Classifier(rules)
    total = len(lines)
    decisions = []
    for i, line in enumerate(lines, start=1):
        decisions.append(classifier.classify(line))
        if progress is not None and (i % 2000 == 0 or i == total):
            progress("classify", i, total)
    return decisions


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_classify(inputs: Sequence[str | Path], rules: RuleSet, *, output: str | Path | None = None,
                 sheet: str | None = None, mapping: dict[str, str] | None = None, encoding: str | None = None,
                 unit: str | None = None, max_rows: int = 1_048_576, adjust: Adjust | None = None,  # read.SHEET_ROW_LIMIT
                 write: bool = True, progress: Progress | None = None) -> RunResult:
    """Read ``inputs``, classify every line with ``rules``, total, and write the annotated workbook.

    ``mapping`` (field → header, from ``--map``) wins over the rules file's ``[columns]``. ``adjust``
    runs after classification and may replace decisions (reviews carried over…). The output
    (default :func:`default_output`) is checked before reading and written atomically; it is never
    one of the inputs. Raises :class:`~budget.problems.BudgetError` on unusable input or output.
    """
    from .outputs.atomic import check_output_path

    inputs = [Path(p) for p in inputs]
    target = Path(output) if output is not None else default_output(inputs[0])
    if write:
        check_output_path(target, inputs)
        refuse_to_overwrite_reviews(target)
    with _collector_paused():
        return _run(inputs, rules, target, sheet=sheet, mapping=mapping, encoding=encoding, unit=unit,
                    max_rows=max_rows, adjust=adjust, write=write, progress=progress)


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector for the run.

    Lines, decisions and cells form no reference cycles (reference counting frees them), but with
    hundreds of thousands of them alive every collection walks them all: measured, that was about
    40 % of the classify stage and much of the write stage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(inputs: list[Path], rules: RuleSet, target: Path, *, sheet: str | None, mapping: dict[str, str] | None,
         encoding: str | None, unit: str | None, max_rows: int, adjust: Adjust | None, write: bool,
         progress: Progress | None) -> RunResult:
    from .exports.read import read_exports
    from .outputs.atomic import atomic_write

    timings: dict[str, float] = {}
    started = datetime.now().astimezone()

    t0 = time.perf_counter()
    read = read_exports(inputs, sheet=sheet, mapping={**rules.columns, **(mapping or {})}, encoding=encoding,
                        unit=unit, default_unit=rules.unit, max_rows=max_rows,
                        progress=_reader_progress(progress))
    timings["read"] = time.perf_counter() - t0
    lines = list(read.lines)
    problems = list(read.problems)

    t0 = time.perf_counter()
    decisions = classify_lines(lines, rules, progress)
    timings["classify"] = time.perf_counter() - t0

    if adjust is not None:
        t0 = time.perf_counter()
        decisions, adjust_problems = adjust(lines, decisions)
        problems.extend(adjust_problems)
        timings["adjust"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    totals = compute_totals(lines, decisions, rules, sources=read.sources)
    timings["totals"] = time.perf_counter() - t0

    result = RunResult(lines=lines, decisions=decisions, totals=totals, problems=problems, rules=rules,
                       sources=list(read.sources), timings=timings, started=started)
    if write:
        from .outputs.annotated import write_annotated_workbook

        t0 = time.perf_counter()
        result.output = str(target)
        report = atomic_write(target, lambda temp: write_annotated_workbook(temp, result, progress=progress),
                              inputs=inputs)
        timings["write"] = time.perf_counter() - t0
        result.problems.extend(report.problems)
        totals.workbook_total = report.workbook_total
    result.problems.extend(_inputs_unchanged(read.sources))
    return result


def refuse_to_overwrite_reviews(target: str | Path) -> None:
    """Raise a :class:`BudgetError` when ``target`` is an annotated workbook with 覆核 entries filled in.

    Re-running ``classify`` onto last run's output would otherwise throw a reviewer's work away.
    """
    from .outputs.readback import is_annotated, reviewed_detail_rows
    from .problems import BudgetError

    target = Path(target)
    if not target.is_file() or not is_annotated(target):
        return
    try:
        reviewed = reviewed_detail_rows(target)
    except BudgetError:  # its cells cannot be read at all: nothing of a reviewer's to protect there
        return
    if reviewed:
        first = min(reviewed)
        raise BudgetError.one(
            "output-has-reviews", f"輸出檔已有 {len(reviewed)} 列填寫了覆核（明細第 {first} 列起），不會覆寫",
            "the output already holds reviewers' entries; it was not overwritten", file=str(target),
            hint="請以 -o 指定新檔名，並加 --reviewed 沿用該檔的覆核，例如 "
                 f"--reviewed \"{target.name}\" -o \"{target.stem}.新.xlsx\"")


def _reader_progress(progress: Progress | None) -> Callable[..., None] | None:
    """Adapt the run's progress callback to the reader's (which reports rows read so far)."""
    if progress is None:
        return None

    def report(done: int = 0, total: int | None = None, *_: Any, **__: Any) -> None:
        progress("read", done, total)

    return report


def _inputs_unchanged(sources: Sequence[Any]) -> list[Problem]:
    """A problem for each input whose SHA-256 changed during the run (it never should)."""
    problems = []
    for src in sources:
        path, before = getattr(src, "path", None), getattr(src, "sha256", None)
        if not path or not before or not Path(path).is_file():
            continue
        if sha256_of(path) != before:
            problems.append(Problem("input-changed", "輸入檔在執行期間被修改（SHA-256 不同），結果可能不一致",
                                    "an input file changed during the run", file=str(path)))
    return problems
