"""Terminal output prints input text literally (never as markup, escape sequences neutralised) and wraps, never cuts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from budget.cli import app
from budget.terminal import terminal_text

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

HOSTILE = ["[/]", "[link=https://evil.example]點我[/link]", "[bold red]紅字", "\x1b[31m紅\x1b]0;title\x07", "a\x9bb"]


def run(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def no_raw_escapes(text: str) -> bool:
    return not re.search("[\x1b\x07\x9b]", text)


def test_terminal_text_makes_controls_visible() -> None:
    assert terminal_text("\x1b[31m紅\x07") == "␛[31m紅␇"
    assert terminal_text("a\x9bb\u202ec") == "a<U+009B>b<U+202E>c"
    assert terminal_text("一般文字 [/] ok") == "一般文字 [/] ok"


@pytest.mark.parametrize("text", HOSTILE)
def test_check_prints_the_description_literally(text: str) -> None:
    result = run("check", text)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "MarkupError" not in result.output
    assert terminal_text(text) in result.output
    assert no_raw_escapes(result.output)


def test_check_file_and_against_print_descriptions_literally(tmp_path: Path) -> None:
    rows = "".join(f"{text.replace(chr(10), ' ')},100\n" for text in HOSTILE)
    csv_path = tmp_path / "lines.csv"
    csv_path.write_text("說明,金額\n" + rows, encoding="utf-8")
    result = run("check", "--file", csv_path)
    assert result.exit_code == 0, result.output
    flat = result.output.replace("\n", "")
    for text in HOSTILE[:3]:
        assert text in flat
    assert "[31m紅" in flat  # the reader itself turns control characters in fields into spaces (and says so)
    assert no_raw_escapes(result.output)
    annotated = tmp_path / "last.性別預算.xlsx"
    assert run("classify", csv_path, "-o", annotated).exit_code in (0, 1)
    new = tmp_path / "new.csv"
    new.write_text("說明,金額\n性別意識培力課程[/]講座鐘點費\x1b[2J,100\n" + rows, encoding="utf-8")
    result = run("check", "--against", annotated, new)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    assert "[/]" in result.output and no_raw_escapes(result.output)


def test_report_prints_the_agency_literally(tmp_path: Path) -> None:
    csv_path = tmp_path / "116.csv"
    csv_path.write_text("年度,機關,說明,金額\n116,[/]資訊局\x1b[31m,性別意識培力課程講座鐘點費,100\n"
                        "116,[/]資訊局\x1b[31m,文具,50\n", encoding="utf-8")
    result = run("report", csv_path, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 0, result.output
    assert "[/]資訊局" in result.output and no_raw_escapes(result.output)
    result = run("report", csv_path, "-o", tmp_path / "r2.xlsx", "--agency", "[bold]局[/bold]")
    assert result.exit_code == 0 and "[bold]局[/bold]" in result.output


def test_problems_on_stderr_are_neutralised(tmp_path: Path) -> None:
    result = run("classify", tmp_path / "no\x1b[2Jfile.xlsx")
    assert result.exit_code == 2
    assert "␛[2J" in result.output and no_raw_escapes(result.output)


def _at_80_columns(*args: str) -> str:
    env = {"COLUMNS": "80", "LINES": "40", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "budget", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    return done.stdout


def _joined(text: str) -> str:
    """The printed text with table borders, padding and line breaks taken out."""
    return re.sub(r"[\s│┃║|┏┓┗┛┡┩━─╇╋┳┻]+", "", text)


def test_check_wraps_the_reason_instead_of_cutting_it() -> None:
    description = "性別平等專案小組外聘委員出席費與性別意識培力課程講座鐘點費及性別影響評估研習場地費與文具印刷"
    out = _at_80_columns("check", description, "--account", "2036 按日按件計資酬金", "--amount", "22500")
    data = json.loads(_at_80_columns("check", description, "--json"))
    assert "…" not in out
    assert _joined(description) in _joined(out)
    assert _joined(data["explanation"]) in _joined(out)
    assert max(len(line) for line in out.splitlines()) <= 80


def test_rules_show_keeps_every_id_whole() -> None:
    out = _at_80_columns("rules", "show")
    ids = [c["id"] for c in json.loads(_at_80_columns("rules", "show", "--json"))["categories"]]
    for category_id in ids:
        assert re.search(rf"(^|\s){re.escape(category_id)}(\s|$)", out), category_id
    assert "…" not in out


def test_the_progress_bar_starts_no_thread_so_a_second_writer_may_fork() -> None:
    import threading

    from budget.cli import _progress_bar
    from budget.outputs import forked

    before = threading.active_count()
    with _progress_bar(enabled=True) as progress:
        for done in range(0, 10_001, 2000):
            progress("write", done, 10_000)
        assert threading.active_count() == before
        if before == 1 and forked.usable_cpus() >= 2:
            assert forked.why_not() in (None, f"{forked.WORKERS_ENV}=1")
