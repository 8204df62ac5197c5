"""The benchmark of issue 6: the I/O floor, `gender-budget classify` end to end, its stages, start-up.

Run from the repository root (the package installed, e.g. ``pip install -e .``)::

    python benchmarks/bench.py                      # 10k and 100k rows
    python benchmarks/bench.py --rows 1000000       # add sizes (or choose them): --rows 10000 100000 1000000
    python benchmarks/bench.py --json               # JSON on stdout instead of tables

For each size it generates a synthetic export (benchmarks/synth.py, deterministic seed; cached in
``--workdir``) and times, each as its own process so that start-up and memory count:

(a) the floor: python-calamine reads every cell, xlsxwriter writes the same cells plus the 11
    added columns of the annotated workbook (budget.outputs.layout.ADDED_COLUMNS), nothing else;
(b) ``gender-budget classify FILE -o OUT --timings`` end to end;
(c) the stages the tool reports with ``--timings``;

and reports wall time, peak RSS of the process (``os.wait4`` in a small launcher), lines per second and (b)/(a).
It also times the classify stage alone in this process (``budget.engine.classifier.Classifier`` over the
export's lines), and ``gender-budget --help`` / ``gender-budget check "…"`` including interpreter
start. Timings are never asserted by the test suite; the targets are issue 6's.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGETS = {
    "e2e_over_floor": 1.5,  # classify end to end within 1.5x the floor (100k and 1M rows)
    "peak_rss_mb_1m": 1536,  # peak memory at 1M rows under 1.5 GB
    "engine_lines_per_s": 200_000,  # the classify stage alone
    "check_s": 0.5,  # `gender-budget check "…"`, interpreter start included
    "help_s": 0.5,  # `gender-budget --help`
}
MAX_ROWS_DEFAULT = 1_000_000  # classify --max-rows default (rows read per sheet)
CHECK_ARGS = ["check", "性別平等專案小組會議外聘委員出席費", "--account", "2036 按日按件計資酬金", "--amount", "22500"]


# --- measuring a process -------------------------------------------------------------------------

# A tiny launcher: it forks and execs the command and reports that child's own resource use.
# Measuring through it, not directly from this (large) process, keeps the benchmark's own memory
# out of the child's peak RSS: on Linux a child started from a big process inherits its
# high-water mark at exec time.
_LAUNCHER = """
import json, os, sys, time
fd = int(sys.argv[1])
cmd = sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - start
os.write(fd, json.dumps({"wall_s": wall, "maxrss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime,
                         "exit": os.waitstatus_to_exitcode(status)}).encode())
"""


def run_measured(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; wall seconds, peak RSS (MB) of that process, exit code, stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, str(write_fd), *cmd],
                                    stdout=out, stderr=err, pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        proc.wait()
        if not data:
            raise RuntimeError(f"could not run {cmd!r}")
        usage = json.loads(data)
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": usage["wall_s"], "peak_rss_mb": usage["maxrss_kb"] / 1024, "cpu_s": usage["cpu_s"],
            "exit": usage["exit"], "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def gender_budget_cmd() -> list[str]:
    """How to start the console script (the installed one, as users do)."""
    script = shutil.which("gender-budget")
    if script:
        return [script]
    return [sys.executable, "-m", "budget"]


# --- (a) the floor -------------------------------------------------------------------------------

def floor(src: str, dst: str, constant_memory: bool = True) -> int:
    """Read every cell with python-calamine, write them plus the 11 added columns with xlsxwriter.

    The added cells are what an unmatched line gets (判定 and 性別預算數 and 來源); that is most
    lines. Returns the number of rows written. Nothing else: no parsing, no matching.
    """
    import python_calamine
    import xlsxwriter

    from budget.outputs.layout import ADDED_COLUMNS, DETAIL_SHEET

    book = python_calamine.CalamineWorkbook.from_path(src)
    sheet = book.get_sheet_by_index(0)
    out = xlsxwriter.Workbook(dst, {"constant_memory": constant_memory, "strings_to_numbers": False,
                                    "strings_to_formulas": False, "strings_to_urls": False})
    ws = out.add_worksheet(DETAIL_SHEET)
    name = Path(src).name
    keys = [k for k, _ in ADDED_COLUMNS]
    status_col, amount_col, source_col = keys.index("status"), keys.index("gender_amount"), keys.index("source")
    write_string, write_number = ws.write_string, ws.write_number
    width = 0
    r = -1
    for r, row in enumerate(sheet.iter_rows()):
        width = max(width, len(row))
        for c, value in enumerate(row):
            if isinstance(value, str):
                if value:
                    write_string(r, c, value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                write_number(r, c, value)
            elif value is not None:
                write_string(r, c, str(value))
        if r >= 4:  # past the title rows and the header: the added cells of a line
            write_string(r, width + status_col, "不符合")
            write_number(r, width + amount_col, 0)
            write_string(r, width + source_col, f"{name} / {sheet.name} / 第{r + 1}列")
    out.close()
    return r + 1


# --- (c) the tool's own stage timings ------------------------------------------------------------

_TIMING_RE = re.compile(r"(?P<stage>[A-Za-z][\w\- ]*?|[\u4e00-\u9fff]+(?:\s*[A-Za-z][\w\-]*)?)"
                        r"\s*[:：=]?\s*(?P<seconds>\d+(?:\.\d+)?)\s*(?:s|秒)\b")


def parse_timings(text: str) -> dict[str, float]:
    """Stage timings from ``--timings`` output: JSON if the tool prints it, else ``stage 1.23 s`` lines."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                data = json.loads(line)
            except ValueError:
                continue
            stages = data.get("timings", data)
            if isinstance(stages, dict) and all(isinstance(v, (int, float)) for v in stages.values()):
                return {str(k): float(v) for k, v in stages.items()}
    stages: dict[str, float] = {}
    for line in text.splitlines():
        for m in _TIMING_RE.finditer(line):
            stages[m.group("stage").strip()] = float(m.group("seconds"))
    return stages


# --- the benchmark -------------------------------------------------------------------------------

def _fingerprint(rows: int, seed: int) -> str:
    from budget.rules import default_rules_path

    h = hashlib.sha256()
    h.update((HERE / "synth.py").read_bytes())
    h.update(default_rules_path().read_bytes())
    h.update(f"{rows}:{seed}".encode())
    return h.hexdigest()[:10]


def prepare(rows: int, seed: int, workdir: Path, log) -> tuple[Path, Path, Any, float]:
    """The export of ``rows`` rows (xlsx and CSV), generated once and cached in ``workdir``."""
    import synth

    stem = f"synth-{rows}-{seed}-{_fingerprint(rows, seed)}"
    xlsx, csv_path = workdir / f"{stem}.xlsx", workdir / f"{stem}.csv"
    start = time.perf_counter()
    export = synth.generate(rows, seed)
    if not xlsx.exists() or not csv_path.exists():
        log(f"  generating {xlsx.name} …")
        synth.write_xlsx(export, xlsx.with_suffix(".tmp.xlsx"))
        xlsx.with_suffix(".tmp.xlsx").replace(xlsx)
        synth.write_csv(export, csv_path)
    return xlsx, csv_path, export, time.perf_counter() - start


def bench_engine(export: Any) -> dict[str, Any]:
    """The classify stage alone: Classifier over the export's lines, in this process."""
    import synth
    from budget.engine.classifier import Classifier
    from budget.rules import load_rules

    items = synth.to_line_items(export, file="bench.xlsx")
    start = time.perf_counter()
    classifier = Classifier(load_rules())
    build = time.perf_counter() - start
    # As in `classify` (budget/run.py), the cyclic garbage collector is paused while deciding: the
    # lines and decisions hold no cycles, and walking them all at each collection costs ~40 %.
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        decisions = [classifier.classify(item) for item in items]
        seconds = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    statuses: dict[str, int] = {}
    for decision in decisions:
        statuses[decision.status] = statuses.get(decision.status, 0) + 1
    descriptions = [i.description for i in items if i.kind == "line"]
    return {
        "lines": len(items), "seconds": seconds, "lines_per_s": len(items) / seconds, "build_s": build,
        "unique_descriptions": len(set(descriptions)) / max(1, len(descriptions)), "statuses": statuses,
    }


def bench_size(rows: int, args: argparse.Namespace, workdir: Path, log) -> dict[str, Any]:
    log(f"{rows:,} rows")
    xlsx, csv_path, export, gen_s = prepare(rows, args.seed, workdir, log)
    lines = sum(1 for _ in export.lines())
    result: dict[str, Any] = {"rows": rows, "lines": lines, "input_mb": xlsx.stat().st_size / 1e6,
                              "generate_s": gen_s}
    # Each command writes its own file, removed before every run: classify reads an existing output
    # before replacing it (to refuse overwriting reviews), which is not what is measured here.
    out = workdir / f"out-floor-{rows}.xlsx"
    classify_out = workdir / f"out-classify-{rows}.xlsx"

    def best(cmd: list[str]) -> dict[str, Any]:
        runs = []
        for _ in range(args.repeat):
            out.unlink(missing_ok=True)
            classify_out.unlink(missing_ok=True)
            runs.append(run_measured(cmd))
        return min(runs, key=lambda r: r["wall_s"])

    if args.no_e2e:
        if not args.no_engine:
            log("  (c') classify stage alone (in process) …")
            result["engine"] = bench_engine(export)
        return result
    log("  (a) floor: calamine read + xlsxwriter write …")
    floor_run = best([sys.executable, str(Path(__file__).resolve()), "_floor", str(xlsx), str(out)])
    if floor_run["exit"] != 0:
        raise SystemExit(f"floor failed: {floor_run['stderr'][-2000:]}")
    result["floor"] = _summary(floor_run, rows)
    if args.floor_in_memory:
        run = best([sys.executable, str(Path(__file__).resolve()), "_floor", str(xlsx), str(out), "--in-memory"])
        result["floor_in_memory"] = _summary(run, rows)

    log("  (b) gender-budget classify …")
    extra = []
    if rows + 4 > MAX_ROWS_DEFAULT:  # the sheet has 4 more rows (title rows, header) than data rows
        extra = ["--max-rows", str(rows + 4)]
        result["classify_args"] = extra
    cmd = gender_budget_cmd() + ["classify", str(xlsx), "-o", str(classify_out), "--timings", *extra]
    run = best(cmd)
    if run["exit"] in (0, 1):
        result["classify"] = _summary(run, rows)
        result["classify"]["exit"] = run["exit"]
        result["ratio"] = run["wall_s"] / floor_run["wall_s"]
        result["stages"] = parse_timings(run["stdout"] + "\n" + run["stderr"])
    else:
        result["classify"] = None
        result["classify_error"] = (run["stderr"] or run["stdout"]).strip()[-500:]
        log(f"  classify did not run (exit {run['exit']}): {result['classify_error'][-200:]}")
    if args.csv and result["classify"] is not None:
        log("  (b') gender-budget classify on the CSV …")
        run = best(gender_budget_cmd() + ["classify", str(csv_path), "-o", str(classify_out), "--timings", *extra])
        result["classify_csv"] = _summary(run, rows) if run["exit"] in (0, 1) else None

    if not args.no_engine:
        log("  (c') classify stage alone (in process) …")
        result["engine"] = bench_engine(export)
    out.unlink(missing_ok=True)
    classify_out.unlink(missing_ok=True)
    return result


def _summary(run: dict[str, Any], rows: int) -> dict[str, Any]:
    return {"wall_s": round(run["wall_s"], 3), "cpu_s": round(run["cpu_s"], 3),
            "peak_rss_mb": round(run["peak_rss_mb"], 1), "rows_per_s": round(rows / run["wall_s"])}


def bench_startup(repeat: int) -> dict[str, Any]:
    """`gender-budget --help`, `gender-budget check "…"` and a bare interpreter, wall incl. start-up."""
    base = gender_budget_cmd()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "gender-budget --help": base + ["--help"],
        "gender-budget check": base + CHECK_ARGS,
    }
    out = {}
    for name, cmd in cases.items():
        runs = [run_measured(cmd) for _ in range(repeat)]
        walls = [r["wall_s"] for r in runs]
        out[name] = {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
                     "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1), "exit": runs[-1]["exit"]}
    imports = run_measured([sys.executable, "-X", "importtime", "-c", "import budget.cli"])
    heavy = []
    for line in imports["stderr"].splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(3)) <= 3:
            heavy.append((int(m.group(2)), m.group(4)))
    out["top_imports_of_budget.cli_ms"] = {name: round(us / 1000, 1) for us, name in sorted(heavy, reverse=True)[:8]}
    return out


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    from importlib import metadata

    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(), "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", cpu)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
        mem = Path("/proc/meminfo").read_text()
        m = re.search(r"MemTotal:\s+(\d+) kB", mem)
        info["memory_gb"] = round(int(m.group(1)) / 1024 / 1024, 1) if m else None
    except OSError:
        info["cpu"] = platform.processor()
    versions = {}
    for dist in ("gender-budget", "python-calamine", "xlsxwriter", "openpyxl", "pyahocorasick", "google-re2",
                 "pydantic", "typer", "rich"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info["versions"] = versions
    return info


# --- output --------------------------------------------------------------------------------------

def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown tables (what RESULTS.md shows)."""
    lines = []
    m = report["machine"]
    lines.append(f"Machine: {m.get('cpu')}, {m['nproc']} cores, {m.get('memory_gb')} GB, Python {m['python']}, "
                 f"load average at start {m['loadavg_start']}")
    lines.append("")
    if any("floor" in s for s in report["sizes"]):
        lines.append("| rows | lines | floor (a) s (CPU s) | floor RSS MB | classify (b) s (CPU s) | classify RSS MB | "
                     "(b)/(a) wall | (b)/(a) CPU | rows/s (b) | stages (c), s |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in report["sizes"]:
        if "floor" not in s:
            continue
        f, c = s["floor"], s.get("classify")
        stages = ", ".join(f"{k} {v:.2f}" for k, v in (s.get("stages") or {}).items()) or "—"
        head = (f"| {s['rows']:,} | {s['lines']:,} | {f['wall_s']:.2f} ({f['cpu_s']:.2f}) | "
                f"{f['peak_rss_mb']:.0f} | ")
        if c:
            lines.append(head + f"{c['wall_s']:.2f} ({c['cpu_s']:.2f}) | {c['peak_rss_mb']:.0f} | {s['ratio']:.2f} | "
                         f"{c['cpu_s'] / f['cpu_s']:.2f} | {c['rows_per_s']:,} | {stages} |")
        else:
            lines.append(head + "n/a | n/a | n/a | n/a | n/a | classify not available |")
    extra = [s for s in report["sizes"] if "floor_in_memory" in s or s.get("classify_csv")]
    if extra:
        lines.append("")
        lines.append("| rows | floor, xlsxwriter in-memory mode s (RSS MB) | classify on the CSV export s (RSS MB) |")
        lines.append("|---:|---:|---:|")
        for s in extra:
            fi, cc = s.get("floor_in_memory"), s.get("classify_csv")
            lines.append(f"| {s['rows']:,} | " + (f"{fi['wall_s']:.2f} ({fi['peak_rss_mb']:.0f})" if fi else "—")
                         + " | " + (f"{cc['wall_s']:.2f} ({cc['peak_rss_mb']:.0f})" if cc else "—") + " |")
    engines = [s for s in report["sizes"] if s.get("engine")]
    if engines:
        lines.append("")
        lines.append("| rows | classify stage alone s | lines/s | target | unique descriptions | statuses |")
        lines.append("|---:|---:|---:|---:|---:|---|")
        for s in engines:
            e = s["engine"]
            st = ", ".join(f"{k} {v:,}" for k, v in sorted(e["statuses"].items()))
            lines.append(f"| {s['rows']:,} | {e['seconds']:.3f} | {e['lines_per_s']:,.0f} | "
                         f"{TARGETS['engine_lines_per_s']:,} | {e['unique_descriptions']:.0%} | {st} |")
    if report.get("startup"):
        lines.append("")
        lines.append("| command | median s | min s | peak RSS MB | target |")
        lines.append("|---|---:|---:|---:|---:|")
        for name, r in report["startup"].items():
            if name.startswith("top_imports"):
                continue
            target = TARGETS["help_s"] if "help" in name else TARGETS["check_s"] if "check" in name else None
            lines.append(f"| `{name}` | {r['median_s']:.3f} | {r['min_s']:.3f} | {r['peak_rss_mb']:.0f} | "
                         f"{f'< {target}' if target else '—'} |")
        top = report["startup"].get("top_imports_of_budget.cli_ms")
        if top:
            lines.append("")
            lines.append("Slowest top-level imports of `budget.cli` (ms, cumulative): "
                         + ", ".join(f"{k} {v}" for k, v in top.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_floor":
        floor(argv[1], argv[2], constant_memory="--in-memory" not in argv)
        return 0
    parser = argparse.ArgumentParser(description="Benchmark of gender-budget classify against the I/O floor (issue 6).")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000],
                        help="sizes in data rows (default: 10000 100000; add 1000000 for the 1M run)")
    parser.add_argument("--seed", type=int, default=116)
    parser.add_argument("--repeat", type=int, default=1, help="runs of (a) and (b) per size; the fastest is kept")
    parser.add_argument("--startup-repeat", type=int, default=7, help="runs of --help and check")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gender-budget-bench",
                        help="where generated exports are cached and outputs written")
    parser.add_argument("--floor-in-memory", action="store_true",
                        help="also time the floor with xlsxwriter's in-memory (not constant_memory) mode")
    parser.add_argument("--csv", action="store_true", help="also time classify on the CSV export")
    parser.add_argument("--no-engine", action="store_true", help="skip the in-process classify-stage timing")
    parser.add_argument("--no-e2e", action="store_true", help="skip (a) the floor and (b) classify end to end")
    parser.add_argument("--no-startup", action="store_true", help="skip the --help/check start-up timing")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout (progress goes to stderr)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    report: dict[str, Any] = {"machine": machine(), "targets": TARGETS, "sizes": []}
    for rows in args.rows:
        report["sizes"].append(bench_size(rows, args, args.workdir, log))
    if not args.no_startup:
        log("start-up: --help and check …")
        report["startup"] = bench_startup(args.startup_repeat)
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
