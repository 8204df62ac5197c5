"""Plain command-line values (str, bool, int, Path, lists of them) are coerced without pydantic exactly
as typer's own coercion does it (budget/cli.py ``_coerce_without_pydantic``), errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from budget.cli import app

pytest.importorskip("typer._coercion")
from typer._click import Context  # noqa: E402
from typer._coercion import build_runtime_param  # noqa: E402

VALUES = {
    str: ["", "abc", " 前後有空白 ", "性別平等專案小組", "-", "1,234"],
    bool: [True, False],
    int: [0, 5, 116, "0", "1", "12", "116", "007", "-3", " 5", "5 ", "1_000", "+4", "abc", "", "1.5",
          "99999999999999999999", "１２"],
    Path: ["a.xlsx", "-", "中文/檔案.csv", ".", "", " x ", "~/y.toml", "{here}", "{here}/conftest.py"],
}


def outcome(runtime, value, param, ctx):
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # compared as type and words
        return ("error", type(exc).__name__, str(exc))
    return ("value", type(result).__name__, result)


def values_for(annotation):
    here = str(Path(__file__).parent)
    if getattr(annotation, "__origin__", None) is list:
        [item] = annotation.__args__
        leaf = [v.replace("{here}", here) if isinstance(v, str) else v for v in VALUES.get(item, [])]
        return [(), tuple(leaf[:3]), tuple(leaf), leaf[0] if leaf else None, None]
    return [v.replace("{here}", here) if isinstance(v, str) else v for v in VALUES.get(annotation, [])] + [None]


def parameters():
    group = typer.main.get_command(app)
    stack = [(name, command) for name, command in group.commands.items()]
    while stack:
        name, command = stack.pop()
        for sub, child in getattr(command, "commands", {}).items():
            stack.append((f"{name} {sub}", child))
        for param in command.params:
            if hasattr(param, "type_descriptor"):
                yield name, command, param


def test_every_plain_parameter_coerces_as_typer_does():
    compared = 0
    for name, command, param in parameters():
        ctx = Context(command, info_name=name)
        param._runtime_param = None
        plain = param.get_runtime_param()
        typers = build_runtime_param(param.type_descriptor)
        for value in values_for(param.type_descriptor.annotation):
            assert outcome(plain, value, param, ctx) == outcome(typers, value, param, ctx), (name, param.name, value)
            compared += 1
    assert compared > 200


def test_plain_parameters_do_not_build_pydantic_adapters():
    kinds = {type(p.get_runtime_param()).__name__ for _, _, p in parameters()}
    assert kinds == {"PlainRuntimeParam"}
