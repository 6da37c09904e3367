"""Function.pointer_flows from a libclang function body: where the locals holding an allocation go.

One walk over the body with the chain of parents: every reference to a pointer-typed local (or
parameter) is classified by climbing through casts, parentheses, pointer arithmetic, `?:` arms and
comma operands to the expression that consumes it (a call argument, a `return`, the right side of an
assignment, an initialiser, `&`); reads through it (`p[i]`, `*p`, `p->f`) and tests end the climb
without a flow. Assignments and initialisers of those locals are their origins. memory.pointer_flows
keeps the ones that matter. Only run for functions that call an allocator (walker.walk_function).
"""

from __future__ import annotations

import re

from clang import cindex as ci

from ...facts import Flow, FlowKind
from ..memory import Origin, pointer_flows, use_of_call_arg
from .cursors import children
from .walker import CASTS, K, callee_name, span_of, strip_casts

# Uses that read through the pointer or test it: the value goes nowhere.
_READS = {
    K.ARRAY_SUBSCRIPT_EXPR,
    K.MEMBER_REF_EXPR,
    K.IF_STMT,
    K.WHILE_STMT,
    K.DO_STMT,
    K.FOR_STMT,
    K.SWITCH_STMT,
    K.COMPOUND_STMT,
    K.CXX_UNARY_EXPR,  # sizeof, alignof
    K.CASE_STMT,
    K.DEFAULT_STMT,
    K.LABEL_STMT,
}
_ARITHMETIC = {ci.BinaryOperator.Add, ci.BinaryOperator.Sub}
_ADDR_OF, _DEREF = 5, 6
_NULL = {K.GNU_NULL_EXPR, K.CXX_NULL_PTR_LITERAL_EXPR}


def _local(d: ci.Cursor | None) -> bool:
    """A pointer-typed local variable or parameter (not a static, not a global)."""
    if d is None or d.kind not in (K.VAR_DECL, K.PARM_DECL):
        return False
    if d.kind == K.VAR_DECL and (
        d.storage_class in (ci.StorageClass.STATIC, ci.StorageClass.EXTERN) or d.linkage != ci.LinkageKind.NO_LINKAGE
    ):
        return False
    try:
        return d.type.get_canonical().kind == ci.TypeKind.POINTER
    except ValueError:  # a type kind this libclang binding does not know
        return False


def _text(c: ci.Cursor) -> str:
    """The expression as written, roughly: `o->data`, `*p`, `t[i]`."""
    text = " ".join(t.spelling for t in c.get_tokens())
    text = re.sub(r"\s*(->|\.|\[|\]|\(|\))\s*", r"\1", text)
    text = re.sub(r"^([*&])\s+", r"\1", text)
    return text[:60] or c.kind.name.lower()


def _origin(value: ci.Cursor) -> Origin:
    v = strip_casts(value)
    span = span_of(v)
    if v.kind == K.CALL_EXPR:
        return Origin(span, callee=callee_name(v))
    if v.kind in _NULL or (v.kind == K.INTEGER_LITERAL and " ".join(t.spelling for t in v.get_tokens()) == "0"):
        return Origin(span, null=True)
    if v.kind == K.DECL_REF_EXPR and _local(v.referenced):
        return Origin(span, source=v.referenced.spelling)
    return Origin(span)


class _Flows:
    def __init__(self) -> None:
        self.origins: dict[str, list[Origin]] = {}
        self.uses: dict[str, list[Flow]] = {}

    def walk(self, body: ci.Cursor) -> None:
        stack: list[tuple[ci.Cursor, tuple[ci.Cursor, ...], bool]] = [(body, (), False)]
        while stack:
            c, parents, in_lambda = stack.pop()
            k = c.kind
            if in_lambda and k == K.DECL_REF_EXPR and _local(c.referenced):
                # A lambda is a function of its own that may run anywhere: whatever it captures escapes.
                self.uses.setdefault(c.referenced.spelling, []).append(
                    Flow(FlowKind.OTHER, span_of(c), "captured by a lambda")
                )
            elif k == K.VAR_DECL and _local(c):
                inits = [ch for ch in children(c) if ch.kind.is_expression()]
                if inits:
                    self.origins.setdefault(c.spelling, []).append(_origin(inits[-1]))
            elif k == K.BINARY_OPERATOR and c.binary_operator == ci.BinaryOperator.Assign:
                kids = children(c)
                target = strip_casts(kids[0]) if len(kids) == 2 else None
                if target is not None and target.kind == K.DECL_REF_EXPR and _local(target.referenced):
                    self.origins.setdefault(target.referenced.spelling, []).append(_origin(kids[1]))
            elif k == K.DECL_REF_EXPR and _local(c.referenced):
                flow = self.use(c, parents)
                if flow is not None:
                    self.uses.setdefault(c.referenced.spelling, []).append(flow)
            here = (*parents, c)
            inner = in_lambda or k == K.LAMBDA_EXPR
            stack += [(ch, here, inner) for ch in children(c)]

    def use(self, ref: ci.Cursor, parents: tuple[ci.Cursor, ...]) -> Flow | None:
        """The flow of one reference, None for a read, a test or its own assignment."""
        node = ref
        for i in range(len(parents) - 1, -1, -1):
            p = parents[i]
            k = p.kind
            if k in CASTS:
                node = p
                continue
            if k == K.BINARY_OPERATOR:
                kids = children(p)
                op = p.binary_operator
                if op == ci.BinaryOperator.Assign:
                    if kids[0] == node:
                        return None  # the local is the target: an origin, recorded with the assignment
                    target = strip_casts(kids[0])
                    if target.kind == K.DECL_REF_EXPR and _local(target.referenced):
                        return Flow(FlowKind.COPIED, span_of(p), target.referenced.spelling)
                    return Flow(FlowKind.STORED, span_of(p), _text(kids[0]))
                if op in _ARITHMETIC or (op == ci.BinaryOperator.Comma and kids[-1] == node):
                    node = p
                    continue
                return None  # compared, tested, or a comma's discarded operand
            if k == K.COMPOUND_ASSIGNMENT_OPERATOR:
                kids = children(p)
                return None if kids and kids[0] == node else Flow(FlowKind.OTHER, span_of(p), "a compound assignment")
            if k == K.UNARY_OPERATOR:
                op = int(ci.conf.lib.clang_getCursorUnaryOperatorKind(p))
                if op == _ADDR_OF:
                    return Flow(FlowKind.ADDRESS, span_of(p))
                return None  # `*p`, `!p`, `p++`
            if k == K.CONDITIONAL_OPERATOR:
                if next(iter(children(p)), None) == node:
                    return None
                node = p
                continue
            if k == K.CALL_EXPR:
                args = list(p.get_arguments())
                at = ref.extent.start.offset  # implicit conversions make `node` a cursor unequal to the argument's
                index = next((j for j, a in enumerate(args) if a.extent.start.offset <= at < a.extent.end.offset), -1)
                if index < 0:
                    return Flow(FlowKind.OTHER, span_of(p), "a call through it")
                used = i > 0 and parents[i - 1].kind != K.COMPOUND_STMT
                return use_of_call_arg(callee_name(p), index, span_of(p), used)
            if k == K.RETURN_STMT:
                return Flow(FlowKind.RETURNED, span_of(p))
            if k == K.VAR_DECL:
                if _local(p):
                    return Flow(FlowKind.COPIED, span_of(p), p.spelling)
                return Flow(FlowKind.STORED, span_of(p), p.spelling)
            if k in _READS:
                return None
            return Flow(FlowKind.OTHER, span_of(p), k.name.lower().replace("_", " "))
        return None


def flows_of(fn: ci.Cursor, body: ci.Cursor) -> dict[str, list[Flow]]:
    """Function.pointer_flows of one function (its cursor and its body's)."""
    f = _Flows()
    f.walk(body)
    params = [p.spelling for p in fn.get_arguments() or [] if _local(p)]
    return pointer_flows(f.origins, f.uses, params, span_of(fn))
