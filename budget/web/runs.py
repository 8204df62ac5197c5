"""Classification runs for the pages: started in a background thread, progress kept for polling, results cached.

A run reads its stored uploads with its stored rules file, so the same run can be computed again after
a restart (for a download) and gives the same lines. Problems and lines name the files by the clerk's
labels, never by the generated names they are stored under.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ..exports.options import ReadOptions
from ..models import Decision, LineItem
from ..money import format_amount
from ..normalize import fold
from ..problems import BudgetError, Problem
from ..rules import RuleSet, parse_rules
from .store import Store

#: How many finished runs are kept in memory for downloads and reviews.
CACHED_RUNS = 2
STAGE_LABELS = {"queued": "排隊中", "read": "讀取中", "classify": "分類中", "write": "寫出中", "store": "儲存結果"}


class Labels:
    """Generated storage names → the clerk's file names, applied to problems, lines and sources."""

    def __init__(self, pairs: Iterable[tuple[Path, str]]) -> None:
        self.names: dict[str, str] = {}
        for path, name in pairs:
            self.names[str(path)] = name
            self.names[path.name] = name

    def problem(self, p: Problem) -> Problem:
        """``p`` with storage names replaced in its location and message."""
        message = p.message
        for stored, name in self.names.items():
            if stored in message:
                message = message.replace(stored, name)
        return replace(p, file=self.names.get(p.file, p.file) if p.file else p.file, message=message)

    def problems(self, problems: Iterable[Problem]) -> list[Problem]:
        """Every problem relabelled."""
        return [self.problem(p) for p in problems]

    def run(self, result: Any) -> None:
        """Relabel a RunResult in place: its lines' file, its sources and its problems."""
        for line in result.lines:
            line.file = self.names.get(line.file, line.file)
        for source in result.sources:
            label = self.names.get(getattr(source, "path", ""), None)
            if label:
                source.path = label
                source.name = label
        result.problems = self.problems(result.problems)


def line_row(line: LineItem, d: Decision, rules: RuleSet) -> tuple:
    """One line as stored (see :data:`budget.web.store.LINE_FIELDS`)."""
    category = rules.category(d.category) if d.category else None
    search = fold(" ".join((line.description, line.plan, line.branch, line.account_code, line.account, line.context,
                            d.category or "", category.name if category else "")))
    return (line.file, line.sheet, line.row, line.kind, line.plan, line.branch, line.account_code, line.account,
            line.description, line.context, format_amount(line.amount) if line.amount is not None else None,
            line.unit, d.status, d.category, format_amount(d.share_percent) if d.share_percent is not None else None,
            format_amount(d.gender_amount), d.rule, d.explain(), "、".join(d.also_matched), search)


def stored_line(row: Any) -> tuple[LineItem, Decision]:
    """A stored line back as the LineItem and rules' Decision a review is applied to."""
    line = LineItem(description=row["description"] or "", amount=_dec(row["amount"]), unit=row["unit"] or "元",
                    plan=row["plan"] or "", branch=row["branch"] or "", account=row["account"] or "",
                    account_code=row["account_code"] or "", file=row["file"] or "", sheet=row["sheet"] or "",
                    row=row["row"], kind=row["kind"] or "line", context=row["context"] or "")
    decision = Decision(row["status"], category=row["category"] or None, share_percent=_dec(row["share"]),
                        gender_amount=_dec(row["gender"]) or Decimal(0), rule=row["rule"] or "",
                        also_matched=[c for c in (row["also"] or "").split("、") if c])
    return line, decision


def _dec(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(text)


class Runner:
    """Runs classifications one at a time in a background thread and keeps the last results in memory."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classify")
        self.progress: dict[str, tuple[str, int, int | None]] = {}
        self.cache: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.rules_cache: dict[str, RuleSet] = {}

    def start(self, rid: str) -> None:
        """Queue run ``rid``."""
        self.progress[rid] = ("queued", 0, None)
        self.pool.submit(self._execute, rid)

    def state(self, rid: str) -> dict[str, Any]:
        """What a progress poll shows: status, stage (zh-TW), done, total."""
        run = self.store.run(rid)
        if run is None:
            return {"status": "missing"}
        stage, done, total = self.progress.get(rid, (run["stage"] or run["status"], run["done"] or 0, run["total"]))
        return {"status": run["status"], "stage": stage, "stage_label": STAGE_LABELS.get(stage, stage),
                "done": done, "total": total}

    def rules_of(self, run: Any) -> RuleSet:
        """The rules file a run was made with (stored with it)."""
        if run["rules"] in self.rules_cache:
            return self.rules_cache[run["rules"]]
        upload = self.store.upload(run["rules"])
        if upload is None:
            raise BudgetError.one("web-run-missing", "找不到此次分類使用的規則檔", "the run's rules file is missing")
        rules = parse_rules(self.store.path_of(upload).read_bytes(), upload.name)
        self.rules_cache[run["rules"]] = rules
        return rules

    def _inputs(self, run: Any) -> tuple[list[Path], Labels]:
        uploads = [self.store.upload(uid) for uid in json.loads(run["inputs"])]
        if any(u is None or not self.store.path_of(u).is_file() for u in uploads):
            raise BudgetError.one("web-run-missing", "找不到此次分類的上傳檔", "the run's uploads are missing")
        paths = [self.store.path_of(u) for u in uploads]  # type: ignore[arg-type]
        return paths, Labels(zip(paths, (u.name for u in uploads)))  # type: ignore[union-attr]

    def compute(self, run: Any, progress: Any = None) -> Any:
        """Classify a run's stored uploads with its stored rules (nothing written); relabelled RunResult."""
        from ..pipeline import run_classify

        rules = self.rules_of(run)
        paths, labels = self._inputs(run)
        options = json.loads(run["options"])
        try:
            result = run_classify(paths, rules, options=ReadOptions(**options), write=False, progress=progress)
        except BudgetError as exc:
            raise BudgetError(labels.problems(exc.problems)) from None
        labels.run(result)
        return result

    def _execute(self, rid: str) -> None:
        run = self.store.run(rid)
        if run is None:
            return
        self.store.set_state(rid, "running", "read")
        self.progress[rid] = ("read", 0, None)

        def progress(stage: str, done: int, total: int | None) -> None:
            self.progress[rid] = (stage, done, total)

        try:
            result = self.compute(run, progress)
            self.progress[rid] = ("store", len(result.lines), len(result.lines))
            rows = (line_row(line, d, result.rules) for line, d in zip(result.lines, result.decisions))
            self.store.finish(rid, "done", [p.to_dict() for p in result.problems], result.totals.to_dict(), rows)
            self._remember(rid, result)
        except BudgetError as exc:
            self.store.finish(rid, "failed", [p.to_dict() for p in exc.problems])
        except Exception as exc:  # noqa: BLE001 - an unexpected failure is shown, never a half-stored run
            self.store.finish(rid, "failed", [Problem(
                "internal-error", f"內部錯誤：{exc.__class__.__name__}: {exc}；請回報。",
                "internal error").to_dict()])
        finally:
            self.progress.pop(rid, None)

    def _remember(self, rid: str, result: Any) -> None:
        with self.lock:
            self.cache[rid] = result
            self.cache.move_to_end(rid)
            while len(self.cache) > CACHED_RUNS:
                self.cache.popitem(last=False)

    def result(self, rid: str) -> Any:
        """The finished run's RunResult: cached, or computed again from its stored files."""
        with self.lock:
            if rid in self.cache:
                self.cache.move_to_end(rid)
                return self.cache[rid]
        run = self.store.run(rid)
        if run is None or run["status"] != "done":
            raise BudgetError.one("web-run-missing", "此次分類尚未完成", "the run has not finished")
        result = self.compute(run)
        self._remember(rid, result)
        return result

    def cached(self, rid: str) -> Any | None:
        """The RunResult when it is in memory, else None."""
        with self.lock:
            return self.cache.get(rid)

    def shutdown(self) -> None:
        """Stop accepting runs (a run under way finishes)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
