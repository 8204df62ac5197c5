"""The benchmark of issue 13: classify against the I/O floor and the naive pandas script, paired.

Run from the repository root (dependencies installed; pandas and openpyxl for the naive script)::

    python benchmarks/bench.py                      # 10k and 100k rows, 3 rounds each, report/--reviewed at 100k
    python benchmarks/bench.py --million            # add the 1M run
    python benchmarks/bench.py --rows 10000 --rounds 5 --writers xlsxwriter fast
    python benchmarks/bench.py --json               # JSON on stdout instead of Markdown
    python benchmarks/bench.py --rows 10000 --report-rows 0 --writer-rows 100000   # the writers alone

Every measured command is a whole process (interpreter start, imports, reading, writing), run under
a small launcher that reports the process's own wall time, CPU time (user + system, its waited-for
children included) and peak RSS from ``os.wait4``. Per size, in each round and in a rotating order:

- ``floor``: python-calamine reads every cell, xlsxwriter (constant_memory) writes the same cells plus
  the cells an unmatched line gets (benchmarks/floor.py); no classification;
- ``naive``: benchmarks/naive_pandas.py, ``pandas.read_excel`` + 25 ``str.contains`` + ``to_excel`` with
  openpyxl, what a user would do instead;
- ``classify[W]``: ``python -m budget classify EXPORT -o OUT --timings`` with the .xlsx writer W
  (``fast``: budget.outputs.xlsx_fast; ``xlsxwriter``: plain xlsxwriter, the writer before issue 13).

Ratios are taken per round (the commands of a round ran side by side on the same load) and
summarised as median and min–max. Then, at ``--report-rows`` (default 100k): ``report`` over two
annotated workbooks (this year's and last year's, both written by ``classify``) against their read
floor (calamine reads every cell of both), and ``classify --reviewed LAST_YEAR`` against a plain
run; and the start-up of ``check`` and ``--help``. Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # this checkout's budget package, not an installed one
sys.path.insert(0, str(HERE))

TARGETS = {  # issue 13
    "classify_over_floor": 1.0,  # classify at most 1.0x floor (100k and 1M)
    "naive_over_classify": 3.0,  # at least 3x faster than the naive pandas script
    "peak_rss_mb_1m": 1024,  # under 1 GB at 1M lines
    "report_over_read_floor": 1.5,  # report over two 100k workbooks
    "reviewed_over_plain": 1.2,  # classify --reviewed against a plain run
    "check_s": 0.3,  # `check` start-up, interpreter included
}
CHECK_ARGS = ["check", "性別平等專案小組會議外聘委員出席費", "--account", "2036 按日按件計資酬金", "--amount", "22500"]
XLSX_WRITER_ENV = "GENDER_BUDGET_XLSX_WRITER"  # budget.outputs.backends reads it


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


def run_measured(cmd: list[str], cwd: Path | None = REPO, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` (with ``env`` added to the environment); wall seconds, peak RSS (MB) of that process,
    exit code, stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, str(write_fd), *cmd],
                                    stdout=out, stderr=err, pass_fds=(write_fd,), cwd=cwd,
                                    env={**os.environ, **env} if env else None)
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



def tool_cmd(writer: str, *args: str) -> list[str]:
    """``gender-budget ARGS`` from this repository with the .xlsx writer ``writer`` (see :func:`run_tool`)."""
    return [sys.executable, str(Path(__file__).resolve()), "_tool", writer, *args]


def run_tool(writer: str, args: list[str]) -> int:
    """Run the command line with ``writer`` for every .xlsx it writes.

    ``budget.outputs.backends.open_book`` reads the environment variable; writers that still open
    ``xlsxwriter.Workbook`` themselves get the fast writer in its place (same API), so the writer
    is measured on the tool's real cells whichever way a writer opens its workbook.
    """
    os.environ[XLSX_WRITER_ENV] = writer
    sys.path.insert(0, str(REPO))
    if writer == "fast":
        import xlsxwriter

        from budget.outputs.xlsx_fast import FastBook

        xlsxwriter.Workbook = FastBook
    sys.argv = ["gender-budget", *args]
    from budget.cli import main

    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def python_cmd(script: str, *args: str) -> list[str]:
    return [sys.executable, str(HERE / script), *args]


# --- the inputs ----------------------------------------------------------------------------------

def _fingerprint(rows: int, seed: int) -> str:
    from budget.rules import default_rules_path

    h = hashlib.sha256()
    h.update((HERE / "synth.py").read_bytes())
    h.update(default_rules_path().read_bytes())
    h.update(f"{rows}:{seed}".encode())
    return h.hexdigest()[:10]


def prepare(rows: int, seed: int, workdir: Path, log) -> tuple[Path, Path, Any]:
    """This year's export of ``rows`` rows and last year's (synth.previous_year), cached in ``workdir``."""
    import synth

    stem = f"synth-{rows}-{seed}-{_fingerprint(rows, seed)}"
    this_year, last_year = workdir / f"{stem}.xlsx", workdir / f"{stem}-previous.xlsx"
    export = synth.generate(rows, seed)
    for path, make in ((this_year, lambda: export), (last_year, lambda: synth.previous_year(export))):
        if not path.exists():
            log(f"  generating {path.name} …")
            tmp = path.with_suffix(".tmp.xlsx")
            synth.write_xlsx(make(), tmp)
            tmp.replace(path)
    return this_year, last_year, export


# --- rounds and ratios ---------------------------------------------------------------------------

def _run(name: str, cmd: list[str], outputs: list[Path], log, ok=(0,)) -> dict[str, Any]:
    for out in outputs:  # classify looks at an existing output before replacing it: not measured here
        out.unlink(missing_ok=True)
    run = run_measured(cmd)
    if run["exit"] not in ok:
        raise SystemExit(f"{name} failed (exit {run['exit']}): {(run['stderr'] or run['stdout'])[-2000:]}")
    log(f"    {name:<22} {run['wall_s']:7.2f} s wall {run['cpu_s']:7.2f} s CPU {run['peak_rss_mb']:7.0f} MB")
    return {"wall_s": round(run["wall_s"], 3), "cpu_s": round(run["cpu_s"], 3),
            "peak_rss_mb": round(run["peak_rss_mb"], 1), "_out": run["stdout"] + "\n" + run["stderr"]}


def rounds(commands: dict[str, tuple[list[str], list[Path], tuple[int, ...]]], n: int, log) -> dict[str, list]:
    """Run every command ``n`` times, all commands once per round, the order rotating each round."""
    names = list(commands)
    runs: dict[str, list] = {name: [] for name in names}
    for i in range(n):
        log(f"  round {i + 1}/{n}")
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            cmd, outputs, ok = commands[name]
            runs[name].append(_run(name, cmd, outputs, log, ok))
    return runs


def spread(values: list[float]) -> dict[str, Any]:
    """Median and min–max of per-round values."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "values": [round(v, 3) for v in values]}


def ratios(runs: dict[str, list], num: str, den: str) -> dict[str, Any]:
    """``num``/``den`` per round, for CPU and wall time."""
    return {kind: spread([a[kind] / b[kind] for a, b in zip(runs[num], runs[den])]) for kind in ("cpu_s", "wall_s")}


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in ("wall_s", "cpu_s", "peak_rss_mb")}


# --- the benchmark -------------------------------------------------------------------------------

def bench_size(rows: int, args: argparse.Namespace, log) -> dict[str, Any]:
    """Floor, naive script and classify (per writer), interleaved over ``args.rounds`` rounds."""
    log(f"{rows:,} rows")
    work = args.workdir
    export_path, _, export = prepare(rows, args.seed, work, log)
    result: dict[str, Any] = {"rows": rows, "lines": sum(1 for _ in export.lines()),
                              "input_mb": round(export_path.stat().st_size / 1e6, 1)}
    max_rows = ["--max-rows", str(rows + 4)]  # title rows and header come on top of the data rows
    commands: dict[str, tuple[list[str], list[Path], tuple[int, ...]]] = {
        "floor": (python_cmd("floor.py", "write", str(export_path), str(work / f"floor-{rows}.xlsx")),
                  [work / f"floor-{rows}.xlsx"], (0,)),
    }
    if not args.no_naive and rows <= args.naive_max_rows:
        commands["naive"] = (python_cmd("naive_pandas.py", str(export_path), str(work / f"naive-{rows}.xlsx")),
                             [work / f"naive-{rows}.xlsx"], (0,))
    for writer in args.writers:
        out = work / f"classify-{writer}-{rows}.xlsx"
        commands[f"classify[{writer}]"] = (
            tool_cmd(writer, "classify", str(export_path), "-o", str(out), "--timings", *max_rows), [out], (0, 1))
    runs = rounds(commands, args.rounds, log)
    result["runs"] = {name: [{k: v for k, v in r.items() if k != "_out"} for r in rs] for name, rs in runs.items()}
    result["medians"] = {name: medians(rs) for name, rs in runs.items()}
    result["ratios"] = {}
    for writer in args.writers:
        name = f"classify[{writer}]"
        result["ratios"][f"{name}/floor"] = ratios(runs, name, "floor")
        if "naive" in runs:
            result["ratios"][f"naive/{name}"] = ratios(runs, "naive", name)
        result.setdefault("stages", {})[writer] = parse_timings(runs[name][-1]["_out"])
    if len(args.writers) > 1:
        a, b = (f"classify[{w}]" for w in args.writers[:2])
        result["ratios"][f"{b}/{a}"] = ratios(runs, b, a)
    return result


def bench_writers(rows: int, args: argparse.Namespace, log) -> dict[str, Any]:
    """The write floor with each writer on the same cells (calamine read, formats as 明細's), interleaved."""
    log(f"writers on the same cells at {rows:,} rows")
    export_path = prepare(rows, args.seed, args.workdir, log)[0]
    import floor

    commands = {}
    for writer in floor.WRITERS:
        out = args.workdir / f"writer-{writer}-{rows}.xlsx"
        commands[writer] = (python_cmd("floor.py", "write", str(export_path), str(out), "--writer", writer, "--formats"),
                            [out], (0,))
    runs = rounds(commands, args.rounds, log)
    result: dict[str, Any] = {"rows": rows, "medians": {name: medians(rs) for name, rs in runs.items()}}
    result["ratios"] = {f"{w}/xlsxwriter-cm": ratios(runs, w, "xlsxwriter-cm") for w in floor.WRITERS[1:]}
    return result


def bench_readback(rows: int, args: argparse.Namespace, log) -> dict[str, Any]:
    """``report`` over two annotated workbooks vs their read floor; ``classify --reviewed`` vs plain."""
    log(f"report and --reviewed at {rows:,} rows")
    work = args.workdir
    this_year, last_year, _ = prepare(rows, args.seed, work, log)
    writer = args.writers[-1]
    max_rows = ["--max-rows", str(rows + 4)]
    books = []
    for src in (this_year, last_year):  # the two annotated workbooks, written once by classify
        book = work / f"annotated-{writer}-{src.stem}.xlsx"
        _run(f"classify {src.stem[-8:]}", tool_cmd(writer, "classify", str(src), "-o", str(book), *max_rows),
             [book], log, (0, 1))
        books.append(book)
    report_out = work / f"report-{rows}.xlsx"
    plain_out, reviewed_out = work / f"plain-{rows}.xlsx", work / f"reviewed-{rows}.xlsx"
    commands = {
        "read floor": (python_cmd("floor.py", "read", *map(str, books)), [], (0,)),
        "report": (tool_cmd(writer, "report", *map(str, books), "-o", str(report_out)), [report_out], (0, 1)),
    }
    runs = rounds(commands, args.rounds, log)
    result: dict[str, Any] = {"rows": rows, "writer": writer,
                              "workbook_mb": [round(b.stat().st_size / 1e6, 1) for b in books]}
    result["report_medians"] = {name: medians(rs) for name, rs in runs.items()}
    result["report/read floor"] = ratios(runs, "report", "read floor")
    commands = {
        "classify": (tool_cmd(writer, "classify", str(this_year), "-o", str(plain_out), *max_rows), [plain_out], (0, 1)),
        "classify --reviewed": (tool_cmd(writer, "classify", str(this_year), "-o", str(reviewed_out),
                                         "--reviewed", str(books[1]), *max_rows), [reviewed_out], (0, 1)),
    }
    runs = rounds(commands, args.rounds, log)
    result["reviewed_medians"] = {name: medians(rs) for name, rs in runs.items()}
    result["reviewed/plain"] = ratios(runs, "classify --reviewed", "classify")
    return result


def bench_startup(repeat: int, writer: str) -> dict[str, Any]:
    """``check`` and ``--help`` start-up (interpreter included), and a bare interpreter.

    ``check`` is timed as a user runs it again and again (the validated rules taken from the user's
    cache folder after the first run, budget/rulecache.py), and with that cache turned off: the
    start-up of the first run after the rules file changed.
    """
    check = [sys.executable, "-m", "budget", *CHECK_ARGS]
    cases = {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "python -m budget --help": ([sys.executable, "-m", "budget", "--help"], None),
        "python -m budget check": (check, None),
        "python -m budget check (rules cache off)": (check, {"GENDER_BUDGET_CACHE": "0"}),
    }
    run_measured(check, cwd=REPO)  # the rules validated and cached, as after a user's first run
    out: dict[str, Any] = {}
    for name, (cmd, env) in cases.items():
        runs = []
        for _ in range(repeat):
            run = run_measured(cmd, cwd=REPO, env=env)
            runs.append(run)
        walls = [r["wall_s"] for r in runs]
        out[name] = {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
                     "max_s": round(max(walls), 3), "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
                     "cpu_median_s": round(statistics.median(r["cpu_s"] for r in runs), 3), "exit": runs[-1]["exit"]}
    imports = run_measured([sys.executable, "-X", "importtime", "-c", "import budget.cli"], cwd=REPO)
    heavy = []
    for line in imports["stderr"].splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(3)) <= 3:
            heavy.append((int(m.group(2)), m.group(4)))
    out["top_imports_ms"] = {name: round(us / 1000, 1) for us, name in sorted(heavy, reverse=True)[:8]}
    return out


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
                 "pydantic", "typer", "rich", "pandas"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info["versions"] = versions
    return info


# --- output --------------------------------------------------------------------------------------

def _r(s: dict[str, Any]) -> str:
    return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"


def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown tables (what RESULTS.md shows)."""
    m = report["machine"]
    out = [(f"Machine: {m.get('cpu')}, {m['nproc']} cores, {m.get('memory_gb')} GB, Python {m['python']}; "
           f"load average {m['loadavg_start']} at start, {m.get('loadavg_end')} at the end; "
           f"{report['rounds']} rounds per size."), ""]
    out += ["Medians per command (wall s, CPU s, peak RSS MB):", "",
            "| rows | lines | command | wall s | CPU s | peak RSS MB | stages (last round, s) |",
            "|---:|---:|---|---:|---:|---:|---|"]
    for s in report["sizes"]:
        for name, med in s["medians"].items():
            writer = name[len("classify["):-1] if name.startswith("classify[") else None
            stages = ", ".join(f"{k} {v:.2f}" for k, v in s.get("stages", {}).get(writer, {}).items()) if writer else ""
            out.append(f"| {s['rows']:,} | {s['lines']:,} | {name} | {med['wall_s']:.2f} | {med['cpu_s']:.2f} | "
                       f"{med['peak_rss_mb']:.0f} | {stages} |")
    out += ["", "Ratios per round, median (min–max):", "", "| rows | ratio | CPU | wall | per round (CPU) |",
            "|---:|---|---:|---:|---|"]
    for s in report["sizes"]:
        for name, r in s["ratios"].items():
            out.append(f"| {s['rows']:,} | {name} | {_r(r['cpu_s'])} | {_r(r['wall_s'])} | "
                       f"{', '.join(f'{v:.2f}' for v in r['cpu_s']['values'])} |")
    wr = report.get("writers")
    if wr:
        out += ["", f"Writers on the same cells at {wr['rows']:,} rows (calamine read + write, formats as 明細's):", "",
                "| writer | wall s | CPU s | peak RSS MB | CPU / xlsxwriter-cm, median (min–max) |",
                "|---|---:|---:|---:|---:|"]
        for name, med in wr["medians"].items():
            ratio = wr["ratios"].get(f"{name}/xlsxwriter-cm")
            out.append(f"| {name} | {med['wall_s']:.2f} | {med['cpu_s']:.2f} | {med['peak_rss_mb']:.0f} | "
                       f"{_r(ratio['cpu_s']) if ratio else '1'} |")
    rb = report.get("readback")
    if rb:
        out += ["", (f"`report` and `classify --reviewed` at {rb['rows']:,} rows (writer {rb['writer']}; annotated "
                f"workbooks {rb['workbook_mb']} MB):"), "",
                "| command | wall s | CPU s | peak RSS MB |", "|---|---:|---:|---:|"]
        for name, med in {**rb["report_medians"], **rb["reviewed_medians"]}.items():
            out.append(f"| {name} | {med['wall_s']:.2f} | {med['cpu_s']:.2f} | {med['peak_rss_mb']:.0f} |")
        out += ["", "| ratio | CPU | wall | target |", "|---|---:|---:|---:|",
                (f"| report / read floor | {_r(rb['report/read floor']['cpu_s'])} | {_r(rb['report/read floor']['wall_s'])} "
                f"| ≤ {TARGETS['report_over_read_floor']} |"),
                (f"| classify --reviewed / classify | {_r(rb['reviewed/plain']['cpu_s'])} | "
                f"{_r(rb['reviewed/plain']['wall_s'])} | ≤ {TARGETS['reviewed_over_plain']} |")]
    st = report.get("startup")
    if st:
        out += ["", "| start-up | median wall s | min–max wall s | median CPU s | peak RSS MB |", "|---|---:|---:|---:|---:|"]
        for name, r in st.items():
            if isinstance(r, dict) and "median_s" in r:
                out.append(f"| `{name}` | {r['median_s']:.3f} | {r['min_s']:.3f}–{r['max_s']:.3f} | "
                           f"{r.get('cpu_median_s', float('nan')):.3f} | {r['peak_rss_mb']:.0f} |")
        out += ["", "Slowest top-level imports of `budget.cli` (ms, cumulative): "
                + ", ".join(f"{k} {v}" for k, v in st.get("top_imports_ms", {}).items())]
    for s in report["sizes"]:
        if s.get("engine"):
            e = s["engine"]
            out.append(f"\nclassify stage alone at {s['rows']:,} rows: {e['lines_per_s']:,.0f} lines/s")
    return "\n".join(out)


def compile_sources() -> None:
    """Byte-compile the tool's modules first, as installing a wheel does: with ``PYTHONDONTWRITEBYTECODE``
    set (as on the machines measured here) or stale ``.pyc`` files, every run would parse them again."""
    import compileall

    compileall.compile_dir(str(REPO / "budget"), quiet=1)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_tool"]:
        return run_tool(argv[1], argv[2:])
    parser = argparse.ArgumentParser(description="Benchmark of issue 13: classify against the floor and the naive script.")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000], help="sizes in data rows (0: none)")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 rows")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (each runs every command once)")
    parser.add_argument("--writers", nargs="+", default=["fast"], choices=["fast", "xlsxwriter"],
                        help="the .xlsx writer(s) classify is run with (two: both in every round, ratio between)")
    parser.add_argument("--naive-max-rows", type=int, default=100_000, help="largest size the naive script runs at")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--report-rows", type=int, default=100_000, help="size of report/--reviewed (0: skip)")
    parser.add_argument("--writer-rows", type=int, default=0,
                        help="also compare the writers on the floor's cells at this size (e.g. 100000)")
    parser.add_argument("--startup-repeat", type=int, default=7)
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up of check and --help")
    parser.add_argument("--engine", action="store_true", help="also time the classify stage alone, in process")
    parser.add_argument("--seed", type=int, default=116)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gender-budget-bench")
    parser.add_argument("--json", action="store_true", help="JSON on stdout (progress on stderr)")
    parser.add_argument("--markdown-from", type=Path, help="print the Markdown of a saved --json result and stop")
    args = parser.parse_args(argv)
    if args.markdown_from:
        print(markdown(json.loads(args.markdown_from.read_text(encoding="utf-8"))))
        return 0
    if args.startup_only:
        args.rows, args.report_rows = [], 0
    if args.million and 1_000_000 not in args.rows:
        args.rows.append(1_000_000)
    args.workdir.mkdir(parents=True, exist_ok=True)
    compile_sources()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    report: dict[str, Any] = {"machine": machine(), "targets": TARGETS, "rounds": args.rounds, "sizes": []}
    for rows in (r for r in args.rows if r > 0):  # --rows 0: no classify sizes (e.g. only report/--reviewed)
        size = bench_size(rows, args, log)
        if args.engine:
            size["engine"] = bench_engine(prepare(rows, args.seed, args.workdir, log)[2])
        report["sizes"].append(size)
    if args.writer_rows:
        report["writers"] = bench_writers(args.writer_rows, args, log)
    if args.report_rows:
        report["readback"] = bench_readback(args.report_rows, args, log)
    if not args.no_startup:
        log("start-up …")
        report["startup"] = bench_startup(args.startup_repeat, args.writers[-1])
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
