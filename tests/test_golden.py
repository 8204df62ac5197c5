"""Golden outputs: the annotated workbook and the report of the bundled sample, compared as cell values (JSON).

The goldens sit in tests/golden/ beside the names of their inputs (the samples in workbooks/). A change that
alters what a user sees fails here with the first differing cells; when the change is intended, regenerate
with ``GOLDEN_UPDATE=1 python -m pytest tests/test_golden.py`` and review the JSON diff like any other code.
Cells that differ on every run (the run's time, durations, the tool's version, file paths) are masked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from budget.cli import app
from budget.outputs.layout import LOG_SHEET

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "workbooks"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"

#: Text that changes from run to run: timestamps, durations, versions and the folders of a test run.
_VOLATILE = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2})?"), "<時間>"),
    (re.compile(r"\d+(\.\d+)?\s*(s|秒)\b"), "<秒>"),
    (re.compile(r"/[^\s'\"]*/(?=[^/\s]+\.(xlsx|ods|csv|xls|toml)\b)"), "<資料夾>/"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"\b\d+\.\d+\.\d+(\.dev\d+)?\b"), "<版本>"),
]


_DURATION = re.compile(r"^\d+\.\d{3}$")


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return "<時間>"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        for pattern, repl in _VOLATILE:
            value = pattern.sub(repl, value)
    return value


def cells_of(path: Path, *, formulas: bool) -> dict[str, list[list[Any]]]:
    """Every sheet's cells as rows of plain values (formulas as their text, or their cached values)."""
    book = load_workbook(path, data_only=not formulas, read_only=True)
    try:
        out = {}
        for ws in book.worksheets:
            ws.reset_dimensions()  # never trust the file's <dimension> (findings §3g)
            rows = [[_plain(v) for v in row] for row in ws.iter_rows(values_only=True)]
            if ws.title == LOG_SHEET:  # the run log's stage durations ("read", "0.218")
                rows = [[_DURATION.sub("<秒>", v) if isinstance(v, str) else v for v in row] for row in rows]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            out[ws.title] = [_trim(r) for r in rows]
        return out
    finally:
        book.close()


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row.pop()
    return row


def _compare(name: str, got: dict[str, Any]) -> None:
    target = GOLDEN / name
    if UPDATE or not target.exists():
        if not UPDATE:
            pytest.fail(f"no golden {target.name}: run with GOLDEN_UPDATE=1 to create it, then review it")
        target.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    want = json.loads(target.read_text(encoding="utf-8"))
    assert list(got) == list(want), "sheets differ"
    for sheet in want:
        for i, (g, w) in enumerate(zip(got[sheet], want[sheet]), start=1):
            assert g == w, f"{name} › {sheet} › row {i}"
        assert len(got[sheet]) == len(want[sheet]), f"{name} › {sheet}: row count"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("golden")
    for name in ("115年度歲出預算明細.xlsx", "116年度歲出預算明細.xlsx"):
        shutil.copy(SAMPLES / name, tmp / name)
    runner = CliRunner()
    made = {}
    for year in ("115", "116"):
        out = tmp / f"{year}.性別預算.xlsx"
        result = runner.invoke(app, ["classify", str(tmp / f"{year}年度歲出預算明細.xlsx"), "-o", str(out)])
        assert result.exit_code in (0, 1), result.output
        made[year] = out
    report = tmp / "116年度性別預算報告.xlsx"
    result = runner.invoke(app, ["report", str(made["116"]), str(made["115"]), "-o", str(report)])
    assert result.exit_code in (0, 1), result.output
    made["report"] = report
    return made


@pytest.mark.parametrize("formulas", [False, True], ids=["values", "formulas"])
def test_annotated_workbook_matches_its_golden(outputs, formulas):
    kind = "formulas" if formulas else "values"
    _compare(f"116年度歲出預算明細.annotated.{kind}.json", cells_of(outputs["116"], formulas=formulas))


def test_report_matches_its_golden(outputs):
    _compare("116年度性別預算報告.values.json", cells_of(outputs["report"], formulas=False))
