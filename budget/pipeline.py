"""The pipeline: the only place that runs read → classify → carry reviews → write, and loads a year's decisions."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, localcontext
from pathlib import Path
from typing import Any, Callable, Sequence

from . import __version__
from .models import REVIEW, UNMATCHED, Decision, LineItem
from .money import format_amount
from .problems import ERROR, WARNING, BudgetError, Problem
from .exports import sha256_of
from .exports.options import ReadOptions
from .report import Report, YearInput, build_report, year_of
from .carry import CarryOver, Comparison, carry_reviews, compare_with_last
from .collector import collector_paused
from .rules import RuleSet
from .engine.totals import GroupTotal, Totals, choose_unit, compute_totals  # noqa: F401  (part of the pipeline's face)

#: ``progress(stage, done, total)``; stages are ``read``, ``classify``, ``write``. ``total`` may be None.
Progress = Callable[[str, int, "int | None"], None]

#: A step run after classification that may replace decisions (e.g. reviews carried over from last
#: year's annotated workbook): ``adjust(lines, decisions) -> (decisions, problems)``.
Adjust = Callable[[list[LineItem], list[Decision]], "tuple[list[Decision], list[Problem]]"]

#: Decimal arithmetic for totals: amounts are capped at 15 significant digits (budget.money), so 60 digits
#: keep every sum of a million lines exact, where the default 28-digit context could round.
EXACT = Context(prec=60, rounding=ROUND_HALF_UP)

#: What the default output is called: ``<input stem>.性別預算.xlsx`` beside the first input.
OUTPUT_SUFFIX = ".性別預算.xlsx"


def default_output(first_input: str | Path) -> Path:
    """The default output path for a run whose first input is ``first_input``."""
    path = Path(first_input)
    return path.with_name(path.stem + OUTPUT_SUFFIX)


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
    write_processes: str = ""  # how the workbook's rows were written (budget.outputs.annotated.WorkbookReport.processes)

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


#: From this many lines on, a forked process decides the second half of them (where forking is possible).
PARALLEL_CLASSIFY_MIN = 20_000


def classify_lines(lines: Sequence[LineItem], rules: RuleSet, progress: Progress | None = None) -> list[Decision]:
    """Decide every line with one :class:`~budget.engine.Classifier`, reporting progress.

    Each line is decided on its own, so with many lines and a second CPU (see
    :mod:`budget.outputs.forked`) a forked process decides the second half while this one decides the
    first; the decisions are the same either way (if it fails, this process decides its lines too).
    """
    from .engine.classifier import Classifier
    from .outputs import forked

    classifier = Classifier(rules)
    total = len(lines)
    half = total // 2
    if total < PARALLEL_CLASSIFY_MIN or forked.why_not() is not None:
        return _decide(classifier, lines, 0, total, progress)
    try:
        child = forked.start(lambda: _packed(_decide(classifier, lines, half, total, None)))
    except OSError:  # no process to spare: decide them all here
        return _decide(classifier, lines, 0, total, progress)
    try:
        decisions = _decide(classifier, lines, 0, half, progress, scale=2)
    except BaseException:
        child.abandon()
        raise
    ok, packed = child.join()
    decisions += _unpacked(packed) if ok else _decide(classifier, lines, half, total, None)
    if progress is not None:
        progress("classify", total, total)
    return decisions


def _decide(classifier: Any, lines: Sequence[LineItem], start: int, stop: int, progress: Progress | None,
            scale: int = 1) -> list[Decision]:
    """The decisions of ``lines[start:stop]`` (progress reported as ``scale`` times the lines done)."""
    classify = classifier.classify
    if progress is None:
        return [classify(lines[i]) for i in range(start, stop)]
    total = len(lines)
    decisions = []
    for i in range(start, stop):
        decisions.append(classify(lines[i]))
        if (i + 1) % 2000 == 0 or i + 1 == total:
            progress("classify", min((i + 1) * scale, total), total)
    return decisions


_NOTHING_FOUND = Decision(UNMATCHED)


def _packed(decisions: list[Decision]) -> list[Decision | None]:
    """Decisions to send from a forked process: the common "nothing hit" one as None (cheaper to send)."""
    return [None if d == _NOTHING_FOUND else d for d in decisions]


def _unpacked(packed: list[Decision | None]) -> list[Decision]:
    return [Decision(UNMATCHED) if d is None else d for d in packed]


def run_classify(inputs: Sequence[str | Path], rules: RuleSet, *, output: str | Path | None = None,
                 options: ReadOptions | None = None, adjust: Adjust | None = None, write: bool = True,
                 progress: Progress | None = None) -> RunResult:
    """Read ``inputs``, classify every line with ``rules``, total, and write the annotated workbook.

    ``options`` are the read options (:class:`~budget.exports.options.ReadOptions`). ``adjust``
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
    with collector_paused(), localcontext(EXACT):
        return _run(inputs, rules, target, options=options, adjust=adjust, write=write, progress=progress)


def _run(inputs: list[Path], rules: RuleSet, target: Path, *, options: ReadOptions | None, adjust: Adjust | None,
         write: bool, progress: Progress | None) -> RunResult:
    from .outputs.atomic import atomic_write
    from .outputs.backends import book_format

    timings: dict[str, float] = {}
    started = datetime.now().astimezone()

    read, decisions = read_and_classify(inputs, rules, options, progress, timings)
    lines = list(read.lines)
    problems = list(read.problems)

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
        fmt = book_format(target)
        report = atomic_write(target, lambda temp: write_annotated_workbook(temp, result, progress=progress, fmt=fmt),
                              inputs=inputs)
        timings["write"] = time.perf_counter() - t0
        result.problems.extend(report.problems)
        result.write_processes = report.processes
        if report.row_seconds:  # the rows' share of the write, per process
            timings["rows1"], timings["rows2"] = report.row_seconds
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


def read_and_classify(paths: Sequence[str | Path], rules: RuleSet, options: ReadOptions | None = None,
                      progress: Progress | None = None, timings: dict[str, float] | None = None):
    """Read exports with ``options`` and decide every line: ``(ReadResult, decisions)``.

    ``timings`` (when given) receives the seconds spent in ``read`` and ``classify``.
    """
    from .exports import read_exports

    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    read = read_exports(paths, **(options or ReadOptions()).reader_arguments(rules),
                        progress=_reader_progress(progress))
    t1 = time.perf_counter()
    decisions = classify_lines(read.lines, rules, progress)
    timings.update(read=t1 - t0, classify=time.perf_counter() - t1)
    return read, decisions


def load_inputs(paths: Sequence[str | Path], rules: RuleSet, years: Sequence[int] = (),
                options: ReadOptions | None = None) -> list[YearInput]:
    """Each report input as its year's final decisions (:func:`load_year`), in order.

    ``years`` given on the command line apply to the inputs in order and win over the data. Two
    inputs of the same year, or an input whose year cannot be found, raise :class:`BudgetError`.
    """
    from .outputs.readback import is_annotated, start_reading

    paths = list(paths)
    readings: dict[int, Any] = {}

    def read_ahead(i: int) -> None:  # an annotated workbook's reader child starts while the one before is read
        if i < len(paths) and i not in readings and is_annotated(paths[i]):
            try:
                readings[i] = start_reading(paths[i])
            except BudgetError:  # load_year says so, in the inputs' order
                readings[i] = None

    def load(i: int) -> YearInput:
        return load_year(paths[i], rules, years[i] if i < len(years) else None, options, reading=readings.pop(i, None))

    inputs = []
    try:
        read_ahead(0)
        for i in range(len(paths)):
            read_ahead(i + 1)
            if readings.get(i) is not None:  # this one's 資料 while the child of the one before parses its 明細
                readings[i].read_data()
            if i:
                inputs.append(load(i - 1))
        if paths:
            inputs.append(load(len(paths) - 1))
    finally:
        for reading in readings.values():
            if reading is not None:
                reading.cancel()
    seen: dict[int, str] = {}
    problems = []
    for item in inputs:
        if item.year in seen:
            problems.append(Problem("report-duplicate-year",
                                    f"兩個輸入都是 {item.year} 年度：{seen[item.year]} 與 {item.path}",
                                    "two inputs claim the same year", file=item.path,
                                    hint="每個年度只給一個檔案；年度判斷錯誤時以 --year 指定（依輸入順序）"))
        seen.setdefault(item.year, item.path)
    if problems:
        raise BudgetError(problems)
    return inputs


def load_year(path: str | Path, rules: RuleSet, year: int | None = None, options: ReadOptions | None = None, *,
              need_year: bool = True, reading: Any = None) -> YearInput:
    """One year's final decisions: an annotated workbook (its reviews applied) or a raw export (classified now).

    The year is ``year`` when given, else the one the data states (``need_year=False`` leaves it 0
    when the data states none). ``reading``: the workbook's reading already started
    (:func:`budget.outputs.readback.start_reading`).
    """
    from .outputs.readback import is_annotated, read_annotated
    from .review import apply_reviews

    if reading is not None or is_annotated(path):
        book = read_annotated(path, reading=reading)
        decisions, problems = apply_reviews(book.rows, rules)
        found = year if year is not None else year_of(book.lines, str(path), [], need_year)
        return YearInput(str(path), "annotated", found, book.lines, decisions, _explanations(book.rows, decisions),
                         *_category_hints(book.rows), book.problems + problems, rows=book.rows)
    read, decisions = read_and_classify([path], rules, options)
    title_years = [s.year for src in read.sources for s in src.sheets if getattr(s, "year", None)]
    found = year if year is not None else year_of(read.lines, str(path), title_years, need_year)
    return YearInput(str(path), "export", found, list(read.lines), decisions,
                     [d.explain() for d in decisions], problems=list(read.problems))


def _explanations(rows, decisions: Sequence[Decision]) -> list[str]:
    """What each line's decision rests on: the reviewer's note, or the tool's explanation."""
    return [(d.review_note or f"覆核決定：{d.review}") if d.review else row.explanation
            for row, d in zip(rows, decisions)]


def _category_hints(rows) -> tuple[dict[str, int], dict[str, str]]:
    """Category → official class and category → name, as the workbook recorded them."""
    class_hint: dict[str, int] = {}
    name_hint: dict[str, str] = {}
    for row in rows:
        category = row.decision.category
        if category and row.official_class:
            class_hint.setdefault(category, row.official_class)
        if category and row.category_name:
            name_hint.setdefault(category, row.category_name)
    return class_hint, name_hint


def make_report(paths: Sequence[str | Path], rules: RuleSet, *, years: Sequence[int] = (), unit: str | None = None,
                agency: str | None = None, options: ReadOptions | None = None) -> Report:
    """Read the inputs (annotated workbooks or raw exports) and compute the report (what `report` runs).

    ``unit`` may be any spelling :func:`budget.money.canonical_unit` knows (千元, 仟元, 元…).
    """
    from .money import canonical_unit

    if unit is not None:
        canonical = canonical_unit(unit)
        if canonical is None:
            raise BudgetError.one("unit-unknown", f"不認得的金額單位「{unit}」（可用：元、千元、萬元）", "unknown unit")
        unit = canonical
    with collector_paused(), localcontext(EXACT):
        return build_report(load_inputs(paths, rules, years, options), rules, unit=unit, agency=agency)


def check_against(last_path: str | Path, new_path: str | Path, rules: RuleSet,
                  options: ReadOptions | None = None) -> Comparison:
    """`check --against LAST NEW`: read both (NEW may be a raw export or an annotated workbook) and compare.

    A raw NEW is classified with ``rules`` and last year's reviews are carried over; an annotated NEW
    keeps its own decisions (its 覆核 applied).
    """
    from .outputs.readback import is_annotated, read_annotated

    if not is_annotated(last_path):
        raise BudgetError.one("against-not-annotated", "--against 需指定去年由 classify 產出的附註工作簿（含明細與資料工作表）",
                              "--against needs last year's annotated workbook", file=str(last_path))
    last = read_annotated(last_path)
    new = load_year(new_path, rules, options=options, need_year=False)
    if new.kind == "export":  # suggestions from last year's reviews, for lines no review is carried to
        from .engine.history import suggest_from_history
        new.decisions = suggest_from_history(new.lines, new.decisions, last.rows, rules)
    comparison = compare_with_last(last.rows, new.lines, new.decisions, rules, carry=new.kind == "export",
                                   last_label=str(last_path), new_label=str(new_path))
    comparison.problems[:0] = list(last.problems) + new.problems
    return comparison


class ReviewCarrier:
    """The `classify --reviewed LAST.性別預算.xlsx` step, for :func:`budget.run.run_classify`'s ``adjust``.

    Making the carrier checks that the file is an annotated workbook (a wrong file stops the run before
    any export is read) and starts reading it, beside the run: where work can be forked
    (:mod:`budget.outputs.forked`), a forked process reads it back whole while this one reads and
    classifies the export, and sends back its problems and the rows a reviewer decided (the only
    ones carried); elsewhere its reader child reads meanwhile and this process reads it back when the
    carrier is called. Calling it (a damaged workbook stops the run there, before anything is written)
    carries the reviews over and returns ``(decisions, problems)``, the first problem being the
    summary the 紀錄 sheet shows (how many were carried, how many not). :meth:`cancel` stops the
    reading when the run ends without calling it.
    """

    def __init__(self, path: str, rules: RuleSet) -> None:
        from .outputs import forked
        from .outputs.readback import check_annotated, is_annotated, start_reading
        if not is_annotated(path):
            raise BudgetError.one("reviewed-not-annotated",
                                  "--reviewed 需指定由 classify 產出並已填寫覆核欄的附註工作簿（含明細與資料工作表）",
                                  "--reviewed needs an annotated workbook written by classify", file=str(path))
        self.path = path
        self.book: Any = None
        self.rules = rules
        self.result: CarryOver | None = None
        self.reading: Any = None
        self.forked: Any = None
        if forked.why_not() is None:
            check_annotated(path)
            self.forked = forked.start(lambda: _read_reviewed(path))
        else:
            self.reading = start_reading(path, carrying=True)

    def cancel(self) -> None:
        """Stop reading the reviewed workbook (nothing to do once it was read)."""
        if self.forked is not None:
            self.forked.abandon()
        if self.reading is not None:
            self.reading.cancel()

    def _read(self) -> Any:
        from .outputs.readback import read_annotated

        if self.forked is not None:
            done, value = self.forked.join()
            if done and value[0] == "refused":
                raise BudgetError(value[1])
            if done:
                return value[1]
            return read_annotated(self.path, carrying=True)  # the forked process failed: read it here
        return self.reading.finish()

    def __call__(self, lines: list[LineItem], decisions: list[Decision]) -> tuple[list[Decision], list[Problem]]:
        from pathlib import Path

        from .engine.history import suggest_from_history

        if self.book is None:
            self.book = self._read()
        result = carry_reviews(lines, decisions, self.book.rows, self.rules, source=Path(self.book.path).name)
        result.decisions = suggest_from_history(lines, result.decisions, self.book.rows, self.rules)
        self.result = result
        summary = Problem(
            "review-carried", result.log_lines()[0],
            f"{len(result.carried)} of {result.reviewed} reviewed decisions carried over "
            f"({len(result.amount_changed)} with a changed amount), {len(result.unplaced)} could not be placed",
            WARNING, file=self.book.path)
        return result.decisions, [summary, *self.book.problems, *result.problems]


def _read_reviewed(path: str) -> tuple[str, Any]:
    """A reviewed workbook read back, in a forked process: ``("read", book)`` with only the rows a reviewer
    decided (the only ones carried over; sent back to the run), or ``("refused", problems)``."""
    from .outputs.readback import read_annotated

    try:
        with collector_paused():
            book = read_annotated(path, carrying=True)
    except BudgetError as exc:
        return "refused", exc.problems
    book.rows = [row for row in book.rows if str(row.review or "").strip()]
    return "read", book

