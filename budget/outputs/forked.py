"""Work done in a forked process beside this one: the second core decides half of the lines
(:func:`budget.pipeline.classify_lines`) and writes half of the annotated workbook's rows.

:func:`start` forks; the child runs one function and sends back its result (pickled, over a pipe);
:meth:`Forked.join` waits for it. A child that fails, or dies, gives back nothing but the reason, and
the caller does the work itself: forking only ever saves time, it never changes what is written.

Forking is used only where it is safe and pays: Linux (``os.fork``; macOS's system libraries may not
survive a fork), a process with no other threads (the web server classifies in threads, so it writes
on one core), at least two CPUs this process may run on, and not switched off by
``GENDER_BUDGET_WORKERS=1``.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import traceback
from typing import Any, Callable

#: Environment variable: ``1`` writes on one core only (any other value, or none: as many as pay, at most 2).
WORKERS_ENV = "GENDER_BUDGET_WORKERS"


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def why_not() -> str | None:
    """Why work cannot be forked here (zh-TW / English), or None when it can."""
    if os.environ.get(WORKERS_ENV, "").strip() == "1":
        return f"{WORKERS_ENV}=1"
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        # macOS has fork, but system libraries may not survive it (Python's multiprocessing spawns there).
        return "此系統不分工 (fork is used on Linux only)"
    if threading.active_count() > 1:
        return "程序中另有執行緒 (other threads are running)"
    if usable_cpus() < 2:
        return "只有一顆 CPU (one CPU)"
    return None


class Forked:
    """A forked child running one function; :meth:`join` gives its result."""

    def __init__(self, work: Callable[[], Any]) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, send, leave without running the parent's exit handlers
            status = 0
            try:
                os.close(read_end)
                try:
                    payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:  # noqa: BLE001 - everything goes back to the parent as a reason
                    payload = pickle.dumps(("failed", traceback.format_exc(limit=8)))
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        os.close(write_end)
        self.pid, self._read_end = pid, read_end
        self._done = False

    def join(self) -> tuple[bool, Any]:
        """Wait for the child: ``(True, result)``, or ``(False, reason)`` if it failed or died."""
        if self._done:
            raise RuntimeError("joined twice")
        self._done = True
        try:
            with os.fdopen(self._read_end, "rb") as src:
                payload = src.read()
        finally:
            _, status = os.waitpid(self.pid, 0)
        if not payload:
            return False, f"子程序結束 (child ended, wait status {status})"
        kind, value = pickle.loads(payload)  # noqa: S301 - our own child's bytes, over our own pipe
        return kind == "ok", value

    def abandon(self) -> None:
        """Stop the child and reap it (the caller is failing)."""
        if self._done:
            return
        self._done = True
        import signal

        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:  # pragma: no cover - already gone
            pass
        try:
            os.close(self._read_end)
        finally:
            os.waitpid(self.pid, 0)


def start(work: Callable[[], Any]) -> Forked:
    """Run ``work`` in a forked child (check :func:`why_not` first)."""
    return Forked(work)
