"""Writes the bundled sample exports: an agency's 116年度 歲出預算明細 and the 115年度 one before it.

The samples are synthetic (benchmarks/synth.py, fixed seed) and built from the categories of
rules/default.toml, so re-run this script after changing that file::

    python workbooks/make_sample.py

It writes, next to itself:

- ``116年度歲出預算明細.xlsx`` (and ``.ods``): a few hundred lines of 臺北市政府資訊局, title rows,
  小計/合計/總計 rows, amounts in 元, a few lines of every gender-budget category, some whose
  amount is shared with other purposes (they go to review);
- ``115年度歲出預算明細.xlsx``: the year before, mostly the same lines, with some gender lines
  changed, some new in 116 and some that were only in 115 (for the year-over-year report).

``tests/test_bench_generator.py`` checks that the committed files are what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import synth  # noqa: E402

SEED = 116
ROWS = 420  # data rows: lines plus 小計/合計/總計
GENDER_SHARE = 0.08  # more than a real budget has, so that every category shows up
SHARED_SHARE = 0.03


def samples(rules_path: str | Path | None = None) -> dict[str, synth.Export]:
    """The sample exports by file stem, built in memory."""
    current = synth.generate(ROWS, SEED, year=116, unit="元", layout="split", rules_path=rules_path,
                             gender_share=GENDER_SHARE, shared_share=SHARED_SHARE)
    previous = synth.previous_year(current, rules_path=rules_path)
    return {"116年度歲出預算明細": current, "115年度歲出預算明細": previous}


#: Which formats each sample is written in.
FORMATS = {"116年度歲出預算明細": ("xlsx", "ods"), "115年度歲出預算明細": ("xlsx",)}


def write_samples(folder: str | Path = HERE, rules_path: str | Path | None = None) -> list[Path]:
    """Write every sample into ``folder``; returns the paths written."""
    folder = Path(folder)
    written = []
    for stem, export in samples(rules_path).items():
        for fmt in FORMATS[stem]:
            path = folder / f"{stem}.{fmt}"
            if fmt == "xlsx":
                synth.write_xlsx(export, path, constant_memory=False)
            else:
                synth.write_ods(export, path)
            written.append(path)
    return written


def main() -> int:
    for path in write_samples():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
