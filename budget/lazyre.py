"""Regular expressions compiled on first use.

Compiling a module's patterns with :mod:`re` at import took a good part of ``check "…"``'s start-up,
and most of them are needed only by some lines (change clauses, programme figures, amounts in a
text). ``_NAME_RE = LazyPattern(r"…")`` at a module's top level compiles when the pattern is first
used; then the module's name is bound to the compiled pattern itself, so that later calls cost
exactly what a compiled pattern's do.
"""

from __future__ import annotations

import re
import sys
from typing import Any

#: What a compiled pattern offers (``pattern`` itself is known before compiling).
_ATTRIBUTES = ("search", "match", "fullmatch", "split", "findall", "finditer", "sub", "subn", "scanner",
               "flags", "groups", "groupindex")


class LazyPattern:
    """``re.compile(pattern, flags)``, compiled when first used; use it as the compiled pattern."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._names = sys._getframe(1).f_globals  # the defining module's names, rebound once compiled

    def __getattr__(self, name: str) -> Any:
        # Only reached for what the instance does not hold yet: compile, and from now on be the pattern.
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        for key, value in list(self._names.items()):
            if value is self:
                self._names[key] = compiled
        for attribute in _ATTRIBUTES:  # for whoever holds this object itself
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"
