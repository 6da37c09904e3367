"""CPU time another process has used, for the parse time limit (workers.py): a budget of CPU seconds
holds whatever the machine's load, where a wall-clock one sends a file to the fallback on a busy
machine and not on a quiet one.

In: a process id. Out: its user + system CPU seconds so far, from Linux's `/proc/<pid>/stat`; None
where there is no such file (other systems, a process already reaped): the caller then counts wall time.
"""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") and "SC_CLK_TCK" in os.sysconf_names else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process `pid` has used (None when unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read(4096)
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat
    except (IndexError, ValueError):
        return None
