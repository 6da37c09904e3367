"""Progress on stderr while a scan runs: phases, then files completed, time and problems so far.

On a terminal, one status line rewritten in place (at most ten times a second, and every second
by a ticker thread so the clock moves while a big file is parsed), cleared at the end. In CI (no
terminal, and `CI`, `TF_BUILD` or `JENKINS_URL` set) plain lines: one per phase, the file counter
at most every `interval` seconds, a line after `interval` seconds without one (the ticker), and a
last one when the scan took that long. Elsewhere
(a pipe, a test runner) nothing. Findings are judged once every file is parsed (project rules see
all of them), so the file counter counts problems; the findings are on the last line. No rule is
per-file enough to count earlier: the FT1-FT3 rules judge only functions a Python thread can reach
(engine.REACHABLE_ONLY, from the call graph of every file) and read project memos (roles,
summaries, library sources); the FT4 rules need the modules and build files of the whole tree.
Counting findings per file would mean running the rules twice or counting candidates, not findings.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from .names import display

CI_VARIABLES = ("CI", "TF_BUILD", "JENKINS_URL")
INTERVAL = 5.0


def in_ci(environ: Mapping[str, str]) -> bool:
    """A CI service runs us: `CI` (GitHub Actions, GitLab, Travis, CircleCI, Buildkite...), Azure's
    `TF_BUILD`, Jenkins' `JENKINS_URL`; `CI=false` / `CI=0` say no."""
    return any(environ.get(v, "").lower() not in ("", "0", "false") for v in CI_VARIABLES)


def _tail(path: str, room: int) -> str:
    """`path` in at most `room` characters: its end (the file's name) is what tells files apart."""
    return path if len(path) <= room else "..." + path[len(path) - room + 3 :]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class Progress:
    """Callbacks a scan calls (scan.ScanOptions.phase and .progress); `stop()` when it ends."""

    def __init__(
        self,
        stream: TextIO,
        terminal: bool,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.terminal = terminal
        self.interval = interval
        self.clock = clock
        self._threads = clock is time.monotonic  # a test's fake clock gets no ticker thread
        self.start = clock()
        self.phase_name = ""
        self.done = self.total = self.problems = 0
        self.path = ""
        self._shown = False  # a status line is on the terminal
        self._last = -1e9  # when the last line was written
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def elapsed(self) -> float:
        return self.clock() - self.start

    def phase(self, name: str) -> None:
        """A new phase (`discovering files`, `analysing 1,834 files with 2 workers`, ...)."""
        with self._lock:
            self.phase_name = name
            if self.terminal:
                self._status(f"ftaudit: {name} ({self.elapsed():.1f} s)")
            else:
                self._line(f"ftaudit: {self.elapsed():5.1f} s  {name}")
        if self._ticker is None and self._threads:
            self._ticker = threading.Thread(target=self._tick, name="ftaudit-progress", daemon=True)
            self._ticker.start()

    def file_done(self, done: int, total: int, path: str, problems: int = 0) -> None:
        """One more file analysed (`done` of `total` so far); `problems`: how many it has."""
        with self._lock:
            self.done, self.total, self.path = done, total, path
            self.problems += problems
            now = self.clock()
            if self.terminal and now - self._last >= 0.1:
                self._status(self._counter())
            elif not self.terminal and now - self._last >= self.interval:
                self._line(self._counter(with_path=False))

    def finish(self, findings: int) -> None:
        """The scan's last line: in CI when it took more than `interval`; cleared on a terminal."""
        with self._lock:
            if not self.terminal and self.elapsed() >= self.interval:
                self._line(
                    f"ftaudit: {self.elapsed():5.1f} s  done: {_plural(self.done, 'file')} analysed, "
                    f"{_plural(findings, 'finding')}, {_plural(self.problems, 'problem')}"
                )
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._shown:
                width = shutil.get_terminal_size((80, 20)).columns
                self.stream.write("\r" + " " * (width - 1) + "\r")
                self.stream.flush()
                self._shown = False

    def _ci_tick(self) -> str:
        """A CI line when nothing was said for `interval`: the file counter while files are pending,
        else the phase still running."""
        if self.total and self.done < self.total:
            return self._counter(with_path=False)
        return f"ftaudit: {self.elapsed():5.1f} s  {self.phase_name} ..."

    def _counter(self, with_path: bool = True) -> str:
        width = len(f"{self.total:,}")
        text = (
            f"ftaudit: [{self.done:>{width},}/{self.total:,}] {self.elapsed():.1f} s, "
            f"{_plural(self.problems, 'problem')} so far"
        )
        if not with_path or not self.path:
            return text
        room = shutil.get_terminal_size((80, 20)).columns - 1 - len(text) - 2
        return f"{text}  {_tail(display(self.path), room)}" if room >= 12 else text

    def _tick(self) -> None:
        """Every second: the terminal's clock moves; in CI a line when `interval` passed without one
        (a big file can keep every worker busy for many seconds)."""
        while not self._stopped.wait(1.0):
            with self._lock:
                if self._stopped.is_set():
                    return
                if not self.terminal:
                    if self.clock() - self._last >= self.interval:
                        self._line(self._ci_tick())
                elif self.total:
                    self._status(self._counter())
                elif self.phase_name:
                    self._status(f"ftaudit: {self.phase_name} ({self.elapsed():.1f} s)")

    def _status(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r" + text[: width - 1].ljust(width - 1))
        self.stream.flush()
        self._shown = True
        self._last = self.clock()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last = self.clock()
