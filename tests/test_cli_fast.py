"""The quick path of `check "…"` (budget/cli_fast.py): what it imports, and that it prints and exits
exactly as the typer command does — or leaves the arguments to the typer command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from budget.cli_fast import CHECK_FLAGS, parse_check

REPO = Path(__file__).resolve().parent.parent
TEXT = "性別平等專案小組會議外聘委員出席費"
BENCH = ["check", TEXT, "--account", "2036 按日按件計資酬金", "--amount", "22500"]  # benchmarks/bench.py

#: ``python -m budget`` as the user runs it; with ``typer`` as its first argument the quick path is
#: turned off, so that the same arguments are parsed and run by the typer app alone.
RUN = """\
import atexit, runpy, sys
if sys.argv[1] == "typer":
    del sys.argv[1]
    import budget.cli_fast
    budget.cli_fast.parse_check = lambda args: None
watched = ("typer", "click", "rich", "pydantic", "pydantic_core", "tomllib", "re2", "hashlib", "budget.cli",
           "budget.exports", "budget.pipeline")
atexit.register(lambda: print("modules:", sorted(m for m in watched if m in sys.modules), file=sys.stderr))
runpy.run_module("budget", run_name="__main__", alter_sys=True)
"""


def run(*args: str, typer: bool = False, **extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """``python -m budget ARGS``: the finished process (its stderr without the last line) and the modules it had."""
    env = {**{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "NO_COLOR")}, **extra}
    done = subprocess.run([sys.executable, "-c", RUN, *(["typer"] if typer else []), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, encoding="utf-8")
    stderr, _, last = done.stderr.rstrip("\n").rpartition("\n")
    if not last.startswith("modules:"):
        stderr, last = done.stderr, "modules: []"  # pragma: no cover - shown by the failing assertion
    done.stderr = stderr + "\n" if stderr else ""
    return done, json.loads(last.removeprefix("modules:").strip().replace("'", '"'))


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "rules.toml"
    path.write_bytes((REPO / "rules" / "default.toml").read_bytes())
    return path


def test_check_imports_neither_typer_nor_pydantic():
    run(*BENCH)  # the rules validated and cached, as after a user's first run
    done, modules = run(*BENCH)
    assert done.returncode == 0 and "expert-attendance-fee" in done.stdout
    assert modules == ["rich"]  # rich draws the table; no typer, no validation, no reader, no RE2 or OpenSSL


def test_check_json_imports_no_rich_either():
    done, modules = run(*BENCH, "--json")
    assert json.loads(done.stdout)["category"] == "expert-attendance-fee"
    assert modules == []


def test_other_commands_and_options_go_to_typer():
    done, modules = run("rules", "show", "--json")
    assert done.returncode == 0 and "typer" in modules
    done, modules = run(*BENCH, "--verbose")
    assert done.returncode == 0 and "typer" in modules


QUICK = [
    BENCH,
    [*BENCH, "--json"],
    ["check", "--json", "-a", "2036", TEXT, "--amount", "22500", "-u", "千元"],
    ["check", "辦理資安、性別主流化及公文寫作等講習外聘講座鐘點費", "--amount", "1,234"],  # 待覆核: exit 1
    ["check", "辦理資安、性別主流化及公文寫作等講習外聘講座鐘點費", "--json", "--year", "115"],
    ["check", "辦公室影印紙", "--account", "2003 物品", "--plan", "一般行政", "--branch", "行政管理"],  # 不符合
    ["check", "按日按件計資酬金100千元，內容如下：<1>性別平等專案小組委員出席費60千元。<2>專題演講鐘點費等40千元。",
     "--account", "2036"],
    ["check", "\x1b[31m性別意識培力\u202e課程\n講座鐘點費", "--amount", "3200"],  # shown, never acted on
    ["check", "婦女" * 60, "--amount", "100"],  # a long cell folds
]

#: Plain, but unusable: the quick path prints nothing and the typer command words the problem (exit 2).
FAILING = [
    ["check", "   "],
    ["check", TEXT, "--amount", "abc"],
    ["check", TEXT, "--unit", "斤"],
]

TYPER = [
    ["check"],
    ["check", TEXT, "--year", "一一五"],
    ["check", TEXT, "--amount", "-5"],
    ["check", TEXT, "--rules", "沒有這個檔.toml"],
    ["check", TEXT, "--account"],
    ["check", TEXT, "--json", "--json"],
    ["check", TEXT, "--amount=22500"],
    ["check", TEXT, "-v"],
    ["check", TEXT, "other"],
    ["check", TEXT, "--bogus", "x"],
    ["check", "--help"],
    ["check", TEXT, "--", "x"],
    ["check", "-"],
]


@pytest.mark.parametrize("args", QUICK + FAILING + TYPER, ids=lambda a: " ".join(a[1:4])[:40])
def test_prints_and_exits_as_the_typer_command(args):
    quick, _ = run(*args)
    typer, modules = run(*args, typer=True)
    assert "typer" in modules
    assert (quick.stdout, quick.stderr, quick.returncode) == (typer.stdout, typer.stderr, typer.returncode)


@pytest.mark.parametrize("args", FAILING, ids=lambda a: " ".join(a[1:4])[:40])
def test_a_problem_is_worded_by_the_typer_command(args):
    assert parse_check(args) is not None
    done, modules = run(*args)
    assert done.returncode == 2 and "錯誤 error" in done.stderr and not done.stdout
    assert "typer" in modules


def test_a_terminal_gets_the_same_styles_and_width():
    terminal = {"FORCE_COLOR": "1", "COLUMNS": "50"}
    quick, modules = run(*BENCH, **terminal)
    typer, _ = run(*BENCH, typer=True, **terminal)
    assert "typer" not in modules and "\x1b[1m" in quick.stdout
    assert max(len(line) for line in quick.stdout.splitlines()) < 80
    assert (quick.stdout, quick.stderr, quick.returncode) == (typer.stdout, typer.stderr, typer.returncode)


def test_a_rules_file_given(rules_file):
    args = [*BENCH, "--rules", str(rules_file)]
    quick, modules = run(*args)
    typer, _ = run(*args, typer=True)
    assert "typer" not in modules and quick.returncode == 0
    assert (quick.stdout, quick.stderr) == (typer.stdout, typer.stderr)


@pytest.mark.parametrize("args", QUICK, ids=lambda a: " ".join(a[1:4])[:40])
def test_plain_arguments_are_parsed_here(args):
    assert parse_check(args) is not None


@pytest.mark.parametrize("args", TYPER + [["rules", "show"], [], ["--version"], ["classify", "x.xlsx"]],
                         ids=lambda a: " ".join(a[:4])[:40])
def test_anything_else_is_left_to_typer(args):
    assert parse_check(args) is None


def test_parsed_values():
    assert parse_check(["check", "-u", "千元", "x", "--year", "115", "--json", "--plan", "計畫"]) == {
        "text": "x", "account": "", "amount": None, "unit": "千元", "plan": "計畫", "branch": "", "year": 115,
        "rules": None, "as_json": True}


def test_a_shell_completion_request_is_left_to_typer(monkeypatch):
    monkeypatch.setenv("_GENDER_BUDGET_COMPLETE", "bash_complete")
    assert parse_check(BENCH) is None


def test_windows_expansions_are_left_to_typer(monkeypatch):
    monkeypatch.setattr(os, "name", "nt")
    assert parse_check(BENCH) is not None
    for arg in ("*.toml", "~/r.toml", "%APPDATA%", "$HOME", "a?b", "[ab]"):
        assert parse_check([*BENCH, "--plan", arg]) is None


def test_the_flags_are_those_of_the_typer_command():
    """Every option the quick path reads is the typer command's, with the same flags, kind and default."""
    import typer.main

    from budget.cli import app

    group = typer.main.get_command(app)
    command = group.commands["check"]
    params = {p.name: p for p in command.params}
    defaults = parse_check(["check", "x"])
    assert params["text"].param_type_name == "argument" and params["text"].default is None
    for name, flags in CHECK_FLAGS.items():
        param = params[name]
        assert param.param_type_name == "option" and not param.multiple and param.nargs == 1
        assert set(param.opts) | set(param.secondary_opts) == set(flags)
        assert param.is_flag == (name == "as_json")
        assert param.default == defaults[name], name
    others = {flag for name, p in params.items() if name not in CHECK_FLAGS for flag in p.opts + p.secondary_opts}
    assert others.isdisjoint(flag for flags in CHECK_FLAGS.values() for flag in flags)


def test_only_the_command_line_imports_typer_or_rich():
    import ast

    importers: dict[str, set[str]] = {}
    for path in sorted((REPO / "budget").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top in ("typer", "rich", "click"):
                    importers.setdefault(top, set()).add(path.relative_to(REPO).as_posix())
    assert importers == {"typer": {"budget/cli.py"}, "rich": {"budget/cli.py", "budget/cli_fast.py"}}


def test_main_with_arguments_given(capsys):
    from budget.cli_fast import main

    for args in (BENCH, [*BENCH, "--verbose"]):  # the quick path, then typer
        try:
            main([*args, "--json"])
        except SystemExit as exc:
            assert exc.code == 0
        assert json.loads(capsys.readouterr().out)["category"] == "expert-attendance-fee"
