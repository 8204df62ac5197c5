"""budget/lazyre.py: a module's pattern compiled on first use, then the module's name is the compiled pattern."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from budget.lazyre import LazyPattern

REPO = Path(__file__).resolve().parent.parent

LAZY = LazyPattern(r"(\d+)\s*(千元|元)")


def test_used_as_the_compiled_pattern_then_replaced_by_it():
    held = LAZY  # the object itself, as another module holding it would
    assert isinstance(LAZY, LazyPattern)
    assert held.search("計列 120 千元").groups() == ("120", "千元")
    assert isinstance(LAZY, re.Pattern)  # this module's name now refers to the compiled pattern
    assert LAZY.pattern == held.pattern and held.groups == 2 and held.flags == LAZY.flags
    assert held.sub("#", "5元與6千元") == LAZY.sub("#", "5元與6千元") == "#與#"
    assert [m.group(1) for m in held.finditer("1元2元")] == ["1", "2"]


def test_flags_and_errors_are_those_of_re():
    names = {"pattern": None}
    exec("from budget.lazyre import LazyPattern\npattern = LazyPattern('ict', re.I)", {"re": re}, names)
    assert names["pattern"].search("ICT 課程").group() == "ICT"
    broken = LazyPattern("(")
    try:
        broken.search("x")
    except re.error:
        pass
    else:  # pragma: no cover
        raise AssertionError("an invalid pattern raises re.error when used")


def test_the_engine_compiles_only_what_a_line_needs():
    """Importing the engine compiles none of its lazy patterns; checking a plain line, only some."""
    code = ("import budget.engine.phrasing as p, budget.engine.purposes as q\n"
            "from budget.lazyre import LazyPattern\n"
            "lazy = lambda: sorted(n for m in (p, q) for n, v in vars(m).items() if isinstance(v, LazyPattern))\n"
            "before = lazy()\n"
            "from budget.check import check_lines, lines_from_args\n"
            "from budget.rules import load_rules\n"
            "rules = load_rules()\n"
            "check_lines([lines_from_args('性別平等專案小組會議外聘委員出席費', account='2036', rules=rules)], rules)\n"
            "print(len(before), len(lazy()))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split())
    assert before >= 15 and 0 < after < before
