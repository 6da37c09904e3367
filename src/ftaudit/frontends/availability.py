"""Which C/C++ frontend can run here: libclang when its Python binding and shared library load.

The libclang-ng wheel exists for a few platforms only (pyproject.toml's environment markers);
elsewhere ftaudit installs without it, and `auto` analyses C and C++ with tree-sitter.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

from ..facts import Problem

UNAVAILABLE = "frontend-unavailable"


@lru_cache(maxsize=1)
def libclang_missing() -> str | None:
    """None when libclang can parse here; else why not (the import or load error, one line).
    Loading the shared library is what can fail on a platform without the wheel; the wheel's own
    library file is taken as proof without loading it (0.1 s the main process need not spend)."""
    try:
        spec = importlib.util.find_spec("clang")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "ImportError: no module named 'clang' (the libclang-ng package is not installed)"
    for folder in spec.submodule_search_locations or ():
        native = os.path.join(folder, "native")
        if any(n.startswith("libclang") for n in _listdir(native)):
            return None
    try:
        from clang import cindex

        cindex.conf.lib  # noqa: B018 - the attribute loads the shared library
    except Exception as err:  # ImportError, cindex.LibclangError, OSError from dlopen
        return f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
    return None


def resolve(choice: str, where: str) -> tuple[str, Problem | None]:
    """The frontend to use for `choice` (auto | clang | treesitter) and a problem to report when
    libclang cannot run: auto falls back to tree-sitter with a note, clang is an error (exit 2).
    `where` names the scan (the problem's path)."""
    if choice == "treesitter":
        return choice, None
    why = libclang_missing()
    if why is None:
        return choice, None
    if choice == "clang":
        msg = f"--frontend clang, but libclang cannot be loaded ({why}); use --frontend treesitter or auto"
        return choice, Problem(where, "error", UNAVAILABLE, msg)
    msg = (
        f"libclang is not available ({why}): C and C++ are analysed with tree-sitter (no headers needed, "
        "types from each file only); install libclang-ng where a wheel exists for a typed parse"
    )
    return "treesitter", Problem(where, "note", UNAVAILABLE, msg)


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def describe(choice: str) -> str:
    """One line saying which C/C++ frontend a scan with `choice` in effect used (shown by `-v`)."""
    if choice == "treesitter":
        why = libclang_missing()
        return "frontend: tree-sitter" + (f" (libclang is not available: {why})" if why else "")
    if choice == "clang":
        return "frontend: libclang"
    return "frontend: auto: libclang, and tree-sitter for a file libclang cannot parse well"
