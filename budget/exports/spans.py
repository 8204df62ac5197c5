"""Merged cells and hidden-row runs kept as ranges: what they cost follows the data present, never their size.

A hostile file can declare a merge or a run of hidden rows a million rows long in a few bytes. Both are
kept as (first, last) ranges and looked up as the rows go by, so a range over rows that hold no data
costs nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Iterable


class RowRuns:
    """A set of 1-based row numbers stored as sorted, non-overlapping runs (``5 in runs``)."""

    __slots__ = ("_starts", "_ends", "_sorted")

    def __init__(self, rows: Iterable[int] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._sorted = True
        for r in rows:
            self.add(r, r)

    def add(self, first: int, last: int) -> None:
        """Add the rows ``first`` … ``last`` (inclusive)."""
        if last < first:
            return
        if self._starts and first <= self._ends[-1] + 1 and first >= self._starts[-1]:
            self._ends[-1] = max(self._ends[-1], last)
            return
        if self._starts and first < self._starts[-1]:
            self._sorted = False
        self._starts.append(first)
        self._ends.append(last)

    def _merge(self) -> None:
        pairs = sorted(zip(self._starts, self._ends))
        self._starts, self._ends = [], []
        self._sorted = True
        for first, last in pairs:
            self.add(first, last)

    def __contains__(self, row: object) -> bool:
        if not self._sorted:
            self._merge()
        i = bisect_right(self._starts, row) - 1  # type: ignore[arg-type]
        return i >= 0 and row <= self._ends[i]  # type: ignore[operator]

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in zip(self._starts, self._ends))

    def __iter__(self):
        if not self._sorted:
            self._merge()
        for first, last in zip(self._starts, self._ends):
            yield from range(first, last + 1)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (set, frozenset)):
            return len(self) == len(other) and all(r in self for r in other)
        if isinstance(other, RowRuns):
            return list(zip(self._starts, self._ends)) == list(zip(other._starts, other._ends))
        return NotImplemented

    def __repr__(self) -> str:
        return f"RowRuns({list(zip(self._starts, self._ends))})"


class VerticalMerges:
    """Cells of the data area inside a vertical merge, handed out row by row as the reader walks down.

    ``merges`` are 1-based inclusive (r0, c0, r1, c1). Only merges that start below the header and
    touch one of ``cols`` (0-based field columns) count. :meth:`at` must be called with increasing
    row indexes; each call costs the merges open at that row, never the merge's length.
    """

    def __init__(self, merges: Iterable[tuple[int, int, int, int]], header_row: int, cols: Iterable[int]) -> None:
        wanted = sorted(set(cols))
        spans = []
        for r0, c0, r1, c1 in merges:
            if r1 <= r0 or r0 <= header_row:
                continue
            covered = tuple(c for c in wanted if c0 - 1 <= c < c1)
            if covered:
                spans.append((r0 - 1, r1 - 1, c0 - 1, covered))
        spans = sorted(set(spans), key=lambda s: s[0])  # a merge declared twice counts once
        self._pending = spans
        self._next = 0
        self._open: list[tuple[int, int, int, tuple[int, ...]]] = []
        self._entries: list[tuple[int, int, int]] = []
        self._stale = True
        self._closes = 1 << 62  # the first row index after which an open merge ends

    def __bool__(self) -> bool:
        return bool(self._pending)

    def at(self, idx: int) -> list[tuple[int, int, int]]:
        """[(col, top row index, left col)] for row index ``idx``: its cells inside a vertical merge."""
        pending = self._pending
        changed = False
        while self._next < len(pending) and pending[self._next][0] <= idx:
            self._open.append(pending[self._next])
            self._next += 1
            changed = True
        if self._open and self._closes < idx:  # one comparison per row until a merge ends
            self._open = [s for s in self._open if s[1] >= idx]
            changed = True
        if changed:
            self._closes = min((s[1] for s in self._open), default=1 << 62)
        if changed or self._stale:
            seen: dict[int, tuple[int, int, int]] = {}
            starts_here = False
            for top, _, left, cols in self._open:
                starts_here = starts_here or top == idx
                for c in cols:
                    if (top, left) != (idx, c) and c not in seen:
                        seen[c] = (c, top, left)
            self._entries = list(seen.values())
            self._stale = starts_here  # the next row no longer excludes this row's top-left cells
        return self._entries


def filled(row: list[Any], entries: list[tuple[int, int, int]], rows: list[list[Any]]) -> list[Any]:
    """``row`` with its blank cells inside vertical merges given the merge's value (for the fields only)."""
    out = list(row)
    for c, r0, c0 in entries:
        if c >= len(out) or out[c] is None or out[c] == "":
            while len(out) <= c:
                out.append(None)
            src = rows[r0]
            out[c] = src[c0] if c0 < len(src) else None
    return out
