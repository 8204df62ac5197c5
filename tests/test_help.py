"""Every command and subcommand has help, is named in the README, and its help shows no Python types."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from budget.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def commands(group=None, path=()):
    """``(path, command)`` for every command and subcommand."""
    group = group or get_command(app)
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))


COMMANDS = list(commands())


def test_there_are_commands() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"classify", "report", "check", "rules", "rules show", "rules test"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(path) -> None:
    command = dict(COMMANDS)[path]
    assert command.help and command.help.strip(), f"{' '.join(path)} has no help text"
    assert f"gender-budget {' '.join(path)}" in README, f"the README does not name `gender-budget {' '.join(path)}`"
    for param in command.params:
        if param.name != "help":
            assert param.help, f"{' '.join(path)}: {param.name} has no help"


@pytest.mark.parametrize("path", [(), *[p for p, _ in COMMANDS]], ids=lambda p: " ".join(p) or "top")
def test_help_is_zh_tw_without_python_types(path) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    for leak in ("<list[", "<str>", "<int", "<path>", "<Path", "{inputs}", "{file}", "Optional["):
        assert leak not in text, f"{' '.join(path)} --help shows {leak!r}"
    assert "用法 Usage:" in text and "顯示本說明" in text
    usage = next(line for line in text.splitlines() if "用法 Usage:" in line)
    assert "{" not in usage and "..." not in usage.replace("[ARGS]...", ""), usage
    if path in (("classify",), ("report",)):
        assert "檔案…" in text and "選項 Options" in text and "引數 Arguments" in text


def test_every_export_reading_command_offers_the_read_options() -> None:
    for path in (("classify",), ("report",), ("check",)):
        text = runner.invoke(app, [*path, "--help"]).output
        for option in ("--sheet", "--map", "--encoding", "--max-rows"):
            assert option in text, (path, option)
    assert "--input-unit" in runner.invoke(app, ["report", "--help"]).output
    assert "--unit" in runner.invoke(app, ["classify", "--help"]).output


@pytest.mark.parametrize("args, zh", [
    (["classify"], "缺少引數"),
    (["classify", "--nope", "x.xlsx"], "沒有 --nope 這個選項"),
    (["classify", "--max-rows", "0", "x.xlsx"], "必須大於或等於 1"),
    (["report", "--year", "x", "a.xlsx"], "必須是整數"),
    (["nosuch"], "沒有 'nosuch' 這個指令"),
])
def test_usage_errors_speak_zh_tw(args, zh) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "錯誤 Error:" in result.output and zh in result.output, result.output
    assert "Traceback" not in result.output
