"""Analyse files in worker processes, so that no file can take the scan down with it.

A scanned tree is untrusted (docs/security.md): 100,000 nested parentheses
overflow libclang's stack, a 1 KB macro bomb asks it for 60 GB, a crafted file
may parse for an hour. Every file is therefore parsed in a worker process, never
in the main one, under two limits:

- memory: `RLIMIT_AS` (address space) set in each worker, so an allocation
  past it fails inside the worker (a Python `MemoryError`, or an abort inside
  libclang) instead of exhausting the machine;
- time: the main process kills a worker whose current file has used more
  than the per-file limit: CPU seconds of the worker where the system says
  (cputime.py), so that a loaded machine (a CI runner with other jobs) does not
  turn a slow file into an error, and never more than WALL_FACTOR times the
  limit in wall seconds (a worker blocked without using CPU is stopped too).

A C/C++ file has a smaller budget first when libclang may parse it (frontend
`auto`): the parse time limit (`--parse-timeout`), in CPU seconds of its worker
where the system says (cputime.py; wall seconds elsewhere), so that the machine's
load does not decide which files fall back. A file past it is not an error: its
worker is killed and the file is queued again, alone, to be analysed with
tree-sitter (a `parse-time-limit` problem says so; the pybind11 header whose
Eigen includes are missing, which libclang parses for more than 12 minutes).
The per-file limit bounds both passes.

Workers report each file as it is done, so when one dies (a signal, an abort,
the kill for time) the main process knows the file it was on: that file becomes
a `crash` or `limit` problem (an error: exit code 2), the files queued behind it
go to a fresh worker, and the rest of the scan is reported as usual.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from .cputime import cpu_seconds

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from .analyse import FileResult, Settings
    from .discover import SourceFile

DEFAULT_TIME_LIMIT = 120.0  # seconds per file; numpy's largest file takes under 10 s
DEFAULT_MEMORY_LIMIT = 3072  # MiB of address space per worker; a numpy-sized scan peaks near 450 MB resident
DEFAULT_PARSE_LIMIT = 60.0  # CPU seconds per C/C++ file libclang may parse before tree-sitter; docs/architecture.md
WALL_FACTOR = 3.0  # the per-file limit in wall seconds, as a multiple of its CPU seconds


@dataclass(frozen=True)
class Limits:
    """Per-file time limit (CPU seconds of the worker where known, else wall seconds; WALL_FACTOR times
    it in wall seconds at most), per-worker address-space limit (MiB), and the time a file libclang may
    parse has before it goes to tree-sitter instead (CPU seconds); 0 = none."""

    time: float = DEFAULT_TIME_LIMIT
    memory: int = DEFAULT_MEMORY_LIMIT
    parse: float = DEFAULT_PARSE_LIMIT


def _context() -> Any:
    # fork where it exists: a worker starts in milliseconds and inherits the parent's modules. The
    # main process loads no parser and starts no thread, so there is nothing a fork could break.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _apply_memory_limit(mib: int) -> None:
    if mib <= 0:
        return
    try:
        import resource
    except ImportError:  # not on Windows: the time limit still holds
        return
    limit = mib * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(conn: Connection, settings: Settings, limits: Limits, analyse: Callable[..., FileResult]) -> None:
    """Receive chunks of `(index, SourceFile, seconds)`, send `(index, FileResult)` for each file as it
    is done. `seconds` > 0: the file ran past the parse time limit before; analyse it with tree-sitter
    (`FrontendChooser.after_parse_limit`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _apply_memory_limit(limits.memory)
    from .analyse import FrontendChooser

    chooser = FrontendChooser(settings)
    while True:
        try:
            chunk = conn.recv()
        except EOFError:
            return
        if chunk is None:
            return
        for i, sf, stopped_after in chunk:
            use = chooser.after_parse_limit(stopped_after) if stopped_after else chooser
            conn.send((i, analyse(sf, use, settings.max_bytes)))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    pending: deque[int] = field(default_factory=deque)  # file indices sent, not yet answered, in order
    chunk_ends: deque[int] = field(default_factory=deque)  # the last index of each chunk sent
    since: float = 0.0  # when its current file started (monotonic seconds)
    parse_limited: bool = False  # its current file has the parse time limit (WorkerPool._parse_limited)
    cpu_since: float | None = None  # the worker's CPU seconds when its current file started (None: unknown)


def died_problem(path: str, exitcode: int | None, limits: Limits, timed_out: bool) -> tuple[str, str]:
    """The code (`crash` or `limit`) and message for a file whose worker died on it."""
    if timed_out:
        return "limit", f"analysis took longer than the {limits.time:g}-second limit per file: stopped, not analysed"
    how = f"exit code {exitcode}"
    if exitcode is not None and exitcode < 0:
        try:
            how = signal.Signals(-exitcode).name
        except ValueError:
            how = f"signal {-exitcode}"
    memory = f" or the {limits.memory} MiB memory limit" if limits.memory > 0 else ""
    return "crash", f"the analysis process died ({how}) on this file: a parser crash{memory}; not analysed"


class WorkerPool:
    """`jobs` worker processes analysing files under `limits`; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        jobs: int,
        limits: Limits,
        analyse: Callable[..., FileResult],
        on_death: Callable[[SourceFile, str, str], FileResult],
    ) -> None:
        """`on_death(file, code, message)`: the result of a file whose worker died on it or was stopped."""
        self.settings = settings
        self.jobs = max(1, jobs)
        self.limits = limits
        self.analyse = analyse
        self.on_death = on_death
        self.ctx = _context()
        self.workers: list[_Worker] = []
        self.reparse: set[int] = set()  # files past the parse time limit: queued again for tree-sitter

    def _parse_limited(self, files: list[SourceFile], i: int) -> bool:
        """Whether the parse time limit, not the per-file one, is what bounds file `i` now: a C/C++ file
        libclang may parse (frontend auto), not already sent to tree-sitter, with the smaller limit."""
        lim = self.limits
        smaller = lim.parse > 0 and (lim.time <= 0 or lim.parse < lim.time)
        libclang = self.settings.frontend == "auto" and files[i].language in ("c", "cpp")
        return smaller and libclang and i not in self.reparse

    def _started(self, w: _Worker, files: list[SourceFile]) -> None:
        """`w` has begun its next file (the first of `pending`): start its clocks."""
        w.since = time.monotonic()
        w.parse_limited = bool(w.pending) and self._parse_limited(files, w.pending[0])
        w.cpu_since = cpu_seconds(w.process.pid) if w.process.pid else None

    def _used(self, w: _Worker, now: float) -> float:
        """The seconds of `w`'s current file counted against the limits: CPU where known, else wall."""
        if w.cpu_since is not None and w.process.pid and (cpu := cpu_seconds(w.process.pid)) is not None:
            return cpu - w.cpu_since
        return now - w.since

    def _wake_in(self, busy: list[_Worker]) -> float | None:
        """Seconds until a limit may be reached (None: no limit). A worker parses on one thread, so its CPU
        time grows no faster than wall time: the parse budget left is a time before which it cannot run out
        (and a late wake-up, were it to use more threads, only stops the file later)."""
        now = time.monotonic()
        due: list[float] = []
        for w in busy:
            used = self._used(w, now)
            if self.limits.time > 0:
                due.append(min(self.limits.time - used, w.since + self.limits.time * WALL_FACTOR - now))
            if w.parse_limited:
                due.append(self.limits.parse - used)
        return max(0.0, min(due)) if due else None

    def run(self, files: list[SourceFile], chunks: list[list[int]]) -> Iterator[tuple[int, FileResult]]:
        """`(index, result)` for every file of `chunks`, in the order they finish."""
        queue: deque[list[int]] = deque(chunk for chunk in chunks if chunk)
        remaining = sum(len(chunk) for chunk in queue)
        try:
            while remaining:
                self._feed(files, queue)
                for i, result in self._collect(files, queue):
                    remaining -= 1
                    yield i, result
        finally:
            self._close()

    def _feed(self, files: list[SourceFile], queue: deque[list[int]]) -> None:
        """Start workers as needed and keep each one a chunk ahead (at most one unread chunk in its pipe)."""
        for w in [w for w in self.workers if not w.pending and not w.process.is_alive()]:
            self._drop(w)  # died while idle (killed from outside): it was on no file
        while queue and len(self.workers) < self.jobs:
            self.workers.append(self._start())
        for w in list(self.workers):
            while queue and len(w.chunk_ends) < 2:
                chunk = queue.popleft()
                try:
                    w.conn.send([(i, files[i], self.limits.parse if i in self.reparse else 0.0) for i in chunk])
                except OSError:  # gone between the check and the send: the chunk waits for another worker
                    queue.appendleft(chunk)
                    if not w.pending:
                        self._drop(w)
                    break
                idle = not w.pending
                w.pending.extend(chunk)
                if idle:
                    self._started(w, files)
                w.chunk_ends.append(chunk[-1])

    def _drop(self, w: _Worker) -> None:
        w.process.join()
        w.conn.close()
        self.workers.remove(w)

    def _collect(self, files: list[SourceFile], queue: deque[list[int]]) -> Iterator[tuple[int, FileResult]]:
        """Wait for results (or deaths, or the time limit) and yield what arrived."""
        busy = [w for w in self.workers if w.pending]
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], self._wake_in(busy))
        now = time.monotonic()
        for w in busy:
            if w.conn in ready or w.process.sentinel in ready:
                try:
                    while w.pending and w.conn.poll():
                        i, result = w.conn.recv()
                        w.pending.popleft()
                        if w.chunk_ends and w.chunk_ends[0] == i:
                            w.chunk_ends.popleft()
                        self._started(w, files)
                        yield i, result
                    if w.process.sentinel not in ready or w.conn.poll():
                        continue
                except (EOFError, OSError):
                    pass
                yield from self._died(w, files, queue, timed_out=False)
            elif w.parse_limited and self._used(w, now) >= self.limits.parse:
                w.process.kill()
                yield from self._died(w, files, queue, timed_out=True, parse=True)
            elif self.limits.time > 0 and (
                self._used(w, now) >= self.limits.time or now - w.since >= self.limits.time * WALL_FACTOR
            ):
                w.process.kill()
                yield from self._died(w, files, queue, timed_out=True)

    def _died(
        self, w: _Worker, files: list[SourceFile], queue: deque[list[int]], timed_out: bool, parse: bool = False
    ) -> Iterator[tuple[int, FileResult]]:
        """`w` died or was killed (`timed_out`; `parse`: at the parse time limit) on its current file."""
        self._drop(w)
        if not w.pending:
            return
        culprit = w.pending.popleft()
        if w.pending:  # the files queued behind it go to a fresh worker
            queue.appendleft(list(w.pending))
        if parse:  # past the parse time limit, not the file's own: tree-sitter analyses it, first in line
            self.reparse.add(culprit)
            queue.appendleft([culprit])
            return
        code, message = died_problem(str(files[culprit].path), w.process.exitcode, self.limits, timed_out)
        yield culprit, self.on_death(files[culprit], code, message)

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(
            target=_worker_main, args=(child, self.settings, self.limits, self.analyse), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self.workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        self.workers = []
