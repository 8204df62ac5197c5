"""The problem catalogue lists every code the code base raises, once, and nothing it no longer raises."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from budget.catalogue import CATALOGUE, Entry
from budget.problems import ERROR, WARNING

PACKAGE = Path(__file__).resolve().parent.parent / "budget"
CATALOGUE_FILE = PACKAGE / "catalogue.py"
CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

#: Callables whose first code-like string argument (or ``code=``) is a problem code.
RAISERS = {"Problem", "one", "_fail", "add", "ReviewEntryError", "CellIssue", "problem", "refuse", "_problem"}


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments (flag constants passed as codes)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != CATALOGUE_FILE:
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def raised_codes() -> dict[str, list[str]]:
    """Code → places (file:line) where a raiser is called with it."""
    raised: dict[str, list[str]] = {}
    sources = list(_sources())
    imported = {name: value for _, tree in sources for name, value in _module_constants(tree).items()
                if name.startswith("FLAG_")}
    for path, tree in sources:
        constants = {**imported, **_module_constants(tree)}  # a flag constant may come from another module
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in RAISERS:
                continue
            values = [a.value if isinstance(a, ast.Constant) else constants.get(getattr(a, "id", ""))
                      for a in node.args]
            values += [k.value.value for k in node.keywords if k.arg == "code" and isinstance(k.value, ast.Constant)]
            code = next((v for v in values if isinstance(v, str) and CODE.match(v)), None)
            if code is not None:
                raised.setdefault(code, []).append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return raised


def string_constants() -> set[str]:
    """Every string constant written in budget/ outside the catalogue."""
    return {node.value for _, tree in _sources() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_every_raised_code_is_catalogued():
    missing = {code: places for code, places in raised_codes().items() if code not in CATALOGUE}
    assert not missing, f"add these codes to budget/catalogue.py: {missing}"


def test_every_catalogued_code_is_still_raised():
    written = string_constants()
    unused = sorted(code for code in CATALOGUE if code not in written)
    assert not unused, f"catalogue entries no code raises any more: {unused}"


def test_the_scan_finds_codes_in_every_stage():
    raised = raised_codes()
    for code in ("file-corrupt", "rules-invalid", "output-write-failed", "review-malformed", "unit-unknown",
                 "big5-private-char", "review-carried-amount-changed"):
        assert code in raised, code


def test_each_code_once_alphabetical_one_line_each():
    text = CATALOGUE_FILE.read_text(encoding="utf-8")
    written = re.findall(r'^    "([a-z0-9-]+)": Entry\(', text, flags=re.M)
    assert len(written) == len(set(written)) == len(CATALOGUE)
    assert written == sorted(written)


def test_entries_are_complete():
    for code, entry in CATALOGUE.items():
        assert isinstance(entry, Entry)
        assert CODE.match(code), code
        assert entry.severity in (ERROR, WARNING), code
        assert entry.message and entry.message_en, code
        assert re.search(r"[\u4e00-\u9fff]", entry.message), f"{code}: the message must be zh-TW"


def test_one_fault_one_code():
    # an unknown unit used to be `usage`, `bad-unit` or `unit-unknown` depending on where it was caught
    assert "bad-unit" not in CATALOGUE and "unit-unknown" in CATALOGUE
    assert "bad-unit" not in string_constants()
