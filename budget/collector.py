"""Python's cyclic garbage collector paused while many lines are alive."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the run.

    Lines, decisions and cells form no reference cycles (reference counting frees them), but with
    hundreds of thousands of them alive every collection walks them all: measured, that was about
    40 % of the classify stage and much of the write stage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
