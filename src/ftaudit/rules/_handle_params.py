"""Which parameters a function uses as a library handle with no lock held: a per-scan function summary
for FT303, so that a method handing its object's handle to a helper (`compress_stream(self->enc, ...)`,
Brotli's binding) is judged like one calling the library itself.

Facts used (every frontend's): `Function.params` (their types as written), `Function.calls` (their
arguments and the locks held), the catalogue's libraries with handles and the call graph.

Parameter `i` of a function is a *handle use* when its declared type is a handle type of a catalogued
library (`BrotliEncoderState *`, `ZSTD_CCtx *`: spaces and `const` do not matter) and the function passes
the parameter itself to a call, with no mutex or critical section held there (lockscope.py has already
added the locks every caller holds), that is

- a call of that library (not one of its `readonly` calls), or
- a call of a function of the scan (`CallGraph.resolve_call`) whose parameter at that position is a
  handle use, the chain at most _MAX_DEPTH deep (a cycle uses nothing by itself).

The answer is the library call reached first (its name and the library), for the finding's message.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..callgraph import CallGraph, Key
from ..catalogue import Catalogue, Library
from ..facts import ArgKind
from ._libraries import handle_of, library_of, matches
from ._protection import holds_mutex

_MAX_DEPTH = 6


@dataclass(frozen=True)
class HandleUse:
    """A library call that uses a parameter as its handle: `call` (`BrotliEncoderCompressStream`), in `lib`."""

    call: str
    lib: Library


class HandleParams:
    """Answers `use(function, parameter index)` for the functions of one scan (memoised)."""

    def __init__(self, graph: CallGraph, catalogue: Catalogue, libraries: tuple[Library, ...]) -> None:
        self.graph = graph
        self.cat = catalogue
        self.libraries = libraries
        self._memo: dict[tuple[Key, int], HandleUse | None] = {}
        self._busy: set[tuple[Key, int]] = set()

    def use(self, key: Key, index: int, depth: int = 0) -> HandleUse | None:
        """The unguarded library call parameter `index` of `key` reaches as a handle, or None."""
        if (key, index) in self._memo:
            return self._memo[(key, index)]
        if depth > _MAX_DEPTH or (key, index) in self._busy or key not in self.graph.functions:
            return None
        unit, fn = self.graph.functions[key]
        if index >= len(fn.params):
            return None
        param = fn.params[index]
        if not any(handle_of(lib, param.type) for lib in self.libraries):
            self._memo[(key, index)] = None
            return None
        self._busy.add((key, index))
        found: HandleUse | None = None
        for call in fn.calls:
            if holds_mutex(call.locks) or any(lk.objects for lk in call.locks):
                continue  # the helper's own lock (or a critical section) covers the use
            positions = [j for j, a in enumerate(call.args) if a.kind == ArgKind.NAME and a.path == param.name]
            if not positions:
                continue
            lib = library_of(call, self.libraries)
            if lib is not None and handle_of(lib, param.type):
                if not matches(call.name, lib.readonly) and not matches(call.name, self.cat.safe_functions):
                    found = HandleUse(call.name, lib)
                    break
                continue
            for callee in self.graph.resolve_call(unit, call):
                deeper = next((u for j in positions if (u := self.use(callee, j, depth + 1)) is not None), None)
                if deeper is not None:
                    found = deeper
                    break
            if found is not None:
                break
        self._busy.discard((key, index))
        self._memo[(key, index)] = found
        return found
