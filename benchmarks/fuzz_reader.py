"""Fuzz the reader: mutate the bundled sample workbooks and check that ``classify`` refuses or reads each one cleanly.

Each case is a seeded mutation of ``workbooks/*.xlsx`` or ``*.ods``: byte flips, truncation, an edited or
dropped zip member, or an XML attribute or value set to something hostile (huge repeats and spans, far
cell references, out-of-range shared strings, absurd numbers). Each is run through
``python -m budget classify --json -o <tmp>`` with a timeout, and counted as:

- ``refused``: exit 2, a message, no traceback, nothing written;
- ``clean``: exit 0 or 1, the JSON's lines agree with its per-sheet counts and its totals with its lines;
- a failure: ``traceback`` (or 內部錯誤), ``signal``, ``timeout``, ``written-on-refusal``, ``truncation``
  (lines missing from the JSON), ``total-mismatch``, or ``other-exit``.

Usage::

    python3 benchmarks/fuzz_reader.py --cases 300 --seed 14 [--jobs 2] [--keep DIR]
    python3 benchmarks/fuzz_reader.py --cases 0 --formula-rows 100000   # time a sheet of formula amounts

Exits 1 when any case fails; ``--keep`` copies the failing inputs there.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = {"元": 1, "千元": 1000, "萬元": 10000}

#: Hostile replacements for attribute and element values, by what they edit.
HOSTILE_ATTRS = [
    (rb'number-rows-repeated="\d+"', [b'number-rows-repeated="1000000"', b'number-rows-repeated="0"',
                                     b'number-rows-repeated="-5"', b'number-rows-repeated="x"']),
    (rb'number-columns-repeated="\d+"', [b'number-columns-repeated="99999999"', b'number-columns-repeated="16385"']),
    (rb'<table:table-cell ', [b'<table:table-cell table:number-rows-spanned="1000000" ',
                              b'<table:table-cell table:number-columns-spanned="99999" ',
                              b'<table:table-cell table:number-columns-repeated="99999999" ']),
    (rb'<table:table-row', [b'<table:table-row table:visibility="collapse" table:number-rows-repeated="1000000"']),
    (rb'office:value="[^"]*"', [b'office:value="1e300"', b'office:value="' + b"9" * 5000 + b'"',
                                b'office:value="NaN"', b'office:value="-inf"', b'office:value="12345678901234567"']),
    (rb' r="[A-Z]+\d+"', [b' r="XFD1048576"', b' r="A0"', b' r="ZZZZ1"', b' r="A99999999"']),
    (rb"<v>[^<]*</v>", [b"<v>1e300</v>", b"<v>" + b"9" * 5000 + b"</v>", b"<v>-1</v>", b"<v>99999999</v>",
                        b"<v>NaN</v>", b"<v></v>", b"<v>1234567890123456789</v>"]),
    (rb't="[a-zA-Z]+"', [b't="s"', b't="e"', b't="b"', b't="str"', b't="inlineStr"', b't="d"']),
    (rb'<row ', [b'<row hidden="1" ', b'<row r="1048576" ']),
    (rb'</sheetData>', [b'</sheetData><mergeCells count="3"><mergeCell ref="A10:H1048576"/>'
                        b'<mergeCell ref="A5:XFD5"/><mergeCell ref="B3:B1000000"/></mergeCells>']),
    (rb'<f>', [b'<f>' + b"A1+" * 2000]),
    (rb'count="\d+"', [b'count="0"', b'count="999999999"']),
]


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One mutation of a workbook's bytes: (new bytes, a short description)."""
    kind = rng.choice(["flip", "truncate", "member", "member", "attr", "attr", "attr", "drop"])
    if kind == "flip":
        out = bytearray(data)
        n = rng.choice([1, 2, 8, 64])
        for _ in range(n):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        return bytes(out), f"flip {n} bytes"
    if kind == "truncate":
        cut = rng.randrange(1, len(data))
        return data[:cut], f"truncate at {cut}/{len(data)}"
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        infos = zin.infolist()
        parts = {i.filename: zin.read(i) for i in infos}
    xml_names = [n for n in parts if n.endswith((".xml", ".rels"))]
    target = rng.choice([n for n in xml_names if "sheet" in n or "content" in n or "shared" in n] or xml_names)
    what = ""
    if kind == "drop":
        target = rng.choice(list(parts))
        del parts[target]
        what = f"drop {target}"
    elif kind == "member":
        body = bytearray(parts[target])
        for _ in range(rng.choice([1, 4, 16])):
            i = rng.randrange(len(body))
            body[i] = rng.choice(b'<>"=/ 0123456789-:x&;')
        parts[target] = bytes(body)
        what = f"edit bytes of {target}"
    else:
        body = parts[target]
        choices = [(pat, reps) for pat, reps in HOSTILE_ATTRS if re.search(pat, body)]
        if not choices:
            return mutate(data, rng)
        pat, reps = rng.choice(choices)
        matches = list(re.finditer(pat, body))
        chosen = rng.sample(matches, min(len(matches), rng.choice([1, 1, 3, 40])))
        rep = rng.choice(reps)
        for m in sorted(chosen, key=lambda m: m.start(), reverse=True):
            body = body[:m.start()] + rep + body[m.end():]
        parts[target] = body
        what = f"{target}: {len(chosen)}× {rep[:50]!r}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, body in parts.items():
            if name == "mimetype":
                zout.writestr(zipfile.ZipInfo(name), body)  # stored, first: as ODF requires
            else:
                zout.writestr(name, body)
    return out.getvalue(), what


def check_clean(report: dict) -> str | None:
    """None when a clean run's JSON is consistent; otherwise the failure's name."""
    lines = report.get("lines", [])
    expected = sum(s["lines"] + s["totals"] for src in report.get("sources", []) for s in src["sheets"])
    if len(lines) != expected:
        return "truncation"
    totals = report.get("totals", {})
    unit = totals.get("unit", "元")
    counted = Decimal(0)
    for line in lines:
        if line["kind"] == "line" and line["amount"] not in ("", None):
            counted += Decimal(line["amount"]) * UNITS[line["unit"]] / UNITS[unit]
    shown = sum(Decimal(v) for k, v in totals.get("status_amounts", {}).items() if k != "excluded")
    if abs(counted - shown) > Decimal("0.5"):
        return "total-mismatch"
    return None


def run_case(index: int, source: Path, data: bytes, what: str, timeout: float, workdir: Path) -> dict:
    """Run classify on one mutated file; returns its outcome."""
    case = workdir / f"case{index:04d}"
    case.mkdir()
    path = case / f"fuzz{index:04d}{source.suffix}"
    path.write_bytes(data)
    out = case / "out.xlsx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    try:
        run = subprocess.run([sys.executable, "-m", "budget", "classify", str(path), "--json", "-o", str(out)],
                             capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {"index": index, "outcome": "timeout", "what": what, "path": path, "seconds": timeout}
    seconds = time.perf_counter() - started
    text = run.stdout + run.stderr
    outcome = "clean"
    if run.returncode < 0:
        outcome = "signal"
    elif "Traceback" in text or "內部錯誤" in text:
        outcome = "traceback"
    elif run.returncode == 2:
        outcome = "written-on-refusal" if out.exists() else "refused"
    elif run.returncode in (0, 1):
        try:
            outcome = check_clean(json.loads(run.stdout)) or "clean"
        except (ValueError, KeyError) as exc:
            outcome = f"bad-json ({type(exc).__name__})"
    else:
        outcome = "other-exit"
    return {"index": index, "outcome": outcome, "what": what, "path": path, "seconds": seconds,
            "code": run.returncode, "tail": text.strip().splitlines()[-3:] if outcome not in ("clean", "refused") else []}


def time_formula_sheet(rows: int) -> None:
    """Read an .xlsx whose ``rows`` amounts are formulas with cached values (as Excel saves them); print the time."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from exportfixtures import xlsx_formula_amounts  # the same file the tests build

    from budget.exports import read_exports

    with tempfile.TemporaryDirectory() as tmp:
        path = xlsx_formula_amounts(Path(tmp), rows)
        started, cpu = time.perf_counter(), time.process_time()
        result = read_exports([path])
        print(f"{rows:,} formula amounts: {len(result.lines):,} lines read in {time.perf_counter() - started:.1f} s "
              f"({time.process_time() - cpu:.1f} s CPU in this process)")


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz cases and print the counts (and each failure)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="copy failing inputs into this folder")
    ap.add_argument("--only", help="run only these case numbers (comma-separated) of the seeded plan")
    ap.add_argument("--formula-rows", type=int, default=0, help="first time a sheet of this many formula amounts")
    args = ap.parse_args(argv)
    if args.formula_rows:
        time_formula_sheet(args.formula_rows)
    if not args.cases:
        return 0
    sources = sorted(p for p in (ROOT / "workbooks").iterdir() if p.suffix in (".xlsx", ".ods"))
    rng = random.Random(args.seed)
    plans = []
    for i in range(args.cases):
        source = rng.choice(sources)
        data, what = mutate(source.read_bytes(), rng)
        plans.append((i, source, data, f"{source.name}: {what}"))
    if args.only:
        keep = {int(i) for i in args.only.split(",")}
        plans = [p for p in plans if p[0] in keep]
    counts: Counter[str] = Counter()
    failures = []
    times = []
    with tempfile.TemporaryDirectory(prefix="fuzz_reader_") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        results = pool.map(lambda p: run_case(*p, args.timeout, Path(tmp)), plans)
        for result in results:
            counts[result["outcome"]] += 1
            times.append((result["seconds"], result["index"], result["what"]))
            if result["outcome"] not in ("clean", "refused"):
                failures.append(result)
                print(f"FAIL #{result['index']} {result['outcome']}: {result['what']}", *result.get("tail", []),
                      sep="\n    ", flush=True)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    shutil.copy(result["path"], args.keep / result["path"].name)
    times.sort(reverse=True)
    print(f"{len(plans)} cases (seed {args.seed}): " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print("slowest: " + "; ".join(f"#{i} {t:.1f} s ({what[:80]})" for t, i, what in times[:3]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
