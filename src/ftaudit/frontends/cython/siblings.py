"""The cimports a `.pxi` sees: those of the module that includes it.

An included `.pxi` is analysed as a file of its own, but Cython compiles it as part of its
includer: `xslt.xsltSetGenericErrorFunc(...)` in lxml's `xmlerror.pxi` names the `xslt` module
that `xslt.pxi`, another include of `etree.pyx`, cimports. The includer is a `.pyx` in the same
directory that has an `include "<name>.pxi"` line; its cimport lines, and those of every `.pxi` it
includes from that directory, are the module's. Only regular files of that directory (after
resolving links) are read, each of at most MAX_BYTES.
"""

from __future__ import annotations

import os
import re

from ...safeio import read_regular

MAX_BYTES = 4 << 20
MAX_FILES = 256
_CIMPORT = re.compile(r"^(?:from[ \t]+[\w.]+[ \t]+)?cimport[ \t]+[^(\n#]+$", re.M)
_INCLUDE = re.compile(r'^[ \t]*include[ \t]+["\']([^"\'\n/\\]+\.pxi)["\']', re.M)


def _read(directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    if os.path.dirname(os.path.realpath(path)) != directory:
        return ""  # a link out of the directory
    try:
        return read_regular(path, MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def module_cimports(pxi_path: str) -> str:
    """The cimport lines (one per line) of the module `pxi_path` is included in, "" if no `.pyx` of
    its directory includes it."""
    directory = os.path.dirname(os.path.realpath(pxi_path))
    name = os.path.basename(pxi_path)
    try:
        entries = sorted(e for e in os.listdir(directory) if e.endswith(".pyx"))[:MAX_FILES]
    except OSError:
        return ""
    for entry in entries:
        text = _read(directory, entry)
        includes = _INCLUDE.findall(text)
        if name not in includes:
            continue
        parts = [text] + [_read(directory, inc) for inc in includes[:MAX_FILES] if inc != name]
        return "\n".join(m.group(0).strip() for part in parts for m in _CIMPORT.finditer(part))
    return ""
