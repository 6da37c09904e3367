"""What every frontend's function walker does the same way: record accesses, pair a
static's check with the writes it guards, and drop a released lock.

The frontends differ in syntax only; keeping these judgements in one place
keeps the facts they produce comparable (the fixture test runs them all).
"""

from __future__ import annotations

from ..facts import Access, Function, LazyInit, Lock, LockKind, Span

State = tuple[Lock, ...]


class Recorder:
    """Mixed into a walker that has `fn`, `state` and `pending`."""

    fn: Function
    state: State
    pending: list[tuple[str, Span, State]]  # `if (x) return x;` seen: a later write to x is lazy init

    def record(self, a: Access) -> None:
        self.fn.accesses.append(a)
        if a.kind.writes and self.pending:
            for i, (key, check, locks) in enumerate(self.pending):
                if key == a.var:
                    self.fn.lazy_inits.append(LazyInit(key, check, locks, (a,)))
                    del self.pending[i]
                    break

    def lazy_init(self, key: str, check: Span, locks: State, branch: list[Access]) -> None:
        """A check of `key` whose guarded branch writes it (and maybe other statics)."""
        writes = [a for a in branch if a.kind.writes]
        own = [a for a in writes if a.var == key]
        if own:
            others = [a for a in writes if a.var != key]
            self.fn.lazy_inits.append(LazyInit(key, check, locks, (*own, *others)))

    def release(self, kind: LockKind, key: str) -> None:
        """Drop the innermost held lock of this kind and key (unlocking an unheld lock is a no-op)."""
        for i in range(len(self.state) - 1, -1, -1):
            lk = self.state[i]
            if lk.kind == kind and lk.key == key:
                self.state = self.state[:i] + self.state[i + 1 :]
                return
