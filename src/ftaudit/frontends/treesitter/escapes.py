"""Function.pointer_flows from a tree-sitter function body: where the locals holding an allocation go.

The same judgement as frontends/clang/escapes.py, on syntax: `locals` are the names the function
declares as pointers (parameters included; statics are not locals), an identifier is one of them by
its name. Each use climbs its parents through casts, parentheses, pointer arithmetic, `?:` arms and
comma operands to the expression that consumes it; reads through it (`p[i]`, `*p`, `p->f`) and tests
end the climb without a flow. memory.pointer_flows keeps the locals that matter.
"""

from __future__ import annotations

from ...facts import Flow, FlowKind, Span
from ..memory import Origin, pointer_flows, use_of_call_arg
from .syntax import Node, Source, call_arguments, callee_name, declarator_name, named, span, strip

_THROUGH = {"parenthesized_expression", "cast_expression"}
_READS = {
    "subscript_expression",
    "field_expression",
    "if_statement",
    "while_statement",
    "do_statement",
    "for_statement",
    "switch_statement",
    "expression_statement",
    "condition_clause",
    "sizeof_expression",
    "update_expression",
    "case_statement",
}
_DECLARING = {
    "init_declarator",
    "pointer_declarator",
    "array_declarator",
    "parameter_declaration",
    "function_declarator",
    "declaration",
}
_NULL = {"null", "nullptr"}


class _Flows:
    def __init__(self, src: Source, local_names: set[str]) -> None:
        self.src = src
        self.local_names = local_names
        self.origins: dict[str, list[Origin]] = {}
        self.uses: dict[str, list[Flow]] = {}

    def local(self, n: Node | None) -> str:
        """The local a node names, "" when it is not a plain identifier of one."""
        if n is None or n.type != "identifier":
            return ""
        name = self.src.text(n)
        return name if name in self.local_names else ""

    def origin(self, value: Node) -> Origin:
        v = strip(value)
        where = span(v)
        if v.type == "call_expression":
            return Origin(where, callee=callee_name(v, self.src))
        if v.type in _NULL or (v.type == "number_literal" and self.src.text(v) == "0"):
            return Origin(where, null=True)
        name = self.local(v)
        return Origin(where, source=name)

    def walk(self, body: Node) -> None:
        stack = [body]
        while stack:
            n = stack.pop()
            t = n.type
            if t == "init_declarator":
                name = self.local(declarator_name(n))
                value = n.child_by_field_name("value")
                if name and value is not None:
                    self.origins.setdefault(name, []).append(self.origin(value))
            elif t == "assignment_expression" and self.src.text(n.child_by_field_name("operator") or n) == "=":
                name = self.local(n.child_by_field_name("left") and strip(n.child_by_field_name("left")))
                value = n.child_by_field_name("right")
                if name and value is not None:
                    self.origins.setdefault(name, []).append(self.origin(value))
            elif t == "identifier" and self.local(n):
                flow = self.use(n)
                if flow is not None:
                    self.uses.setdefault(self.src.text(n), []).append(flow)
            stack += n.children

    def use(self, ref: Node) -> Flow | None:
        """The flow of one use, None for a read, a test, a declaration or its own assignment."""
        up = ref.parent
        while up is not None:
            if up.type == "lambda_expression":  # a function of its own, run anywhere: what it captures escapes
                return Flow(FlowKind.OTHER, span(ref), "captured by a lambda")
            up = up.parent
        node = ref
        while True:
            p = node.parent
            if p is None:
                return None
            t = p.type
            if t in _THROUGH:
                node = p
                continue
            if t in _DECLARING:
                if t == "init_declarator" and p.child_by_field_name("value") == node:
                    name = self.local(declarator_name(p))
                    return Flow(FlowKind.COPIED, span(p), name) if name else Flow(FlowKind.STORED, span(p), "a static")
                return None
            if t == "assignment_expression":
                left = p.child_by_field_name("left")
                op = self.src.text(p.child_by_field_name("operator") or p)
                if left == node:
                    return None
                if op != "=":
                    return Flow(FlowKind.OTHER, span(p), "a compound assignment")
                target = strip(left) if left is not None else None
                name = self.local(target)
                if name:
                    return Flow(FlowKind.COPIED, span(p), name)
                return Flow(FlowKind.STORED, span(p), self.src.text(left)[:60] if left is not None else "")
            if t == "binary_expression":
                op = self.src.text(p.child_by_field_name("operator") or p)
                if op in ("+", "-"):
                    node = p
                    continue
                return None
            if t == "comma_expression":
                if named(p)[-1] == node:
                    node = p
                    continue
                return None
            if t in ("pointer_expression", "unary_expression"):
                op = self.src.text(p.child_by_field_name("operator") or p)
                return Flow(FlowKind.ADDRESS, span(p)) if op == "&" else None
            if t == "conditional_expression":
                if p.child_by_field_name("condition") == node:
                    return None
                node = p
                continue
            if t == "argument_list":
                call = p.parent
                if call is None or call.type != "call_expression":
                    return Flow(FlowKind.OTHER, span(p), "an argument list")
                args = call_arguments(call)
                index = next((i for i, a in enumerate(args) if a == node), -1)
                outer = call.parent
                used = outer is not None and outer.type != "expression_statement"
                return use_of_call_arg(callee_name(call, self.src), index, span(call), used)
            if t == "call_expression":
                return Flow(FlowKind.OTHER, span(p), "a call through it")
            if t == "return_statement":
                return Flow(FlowKind.RETURNED, span(p))
            if t in _READS:
                return None
            return Flow(FlowKind.OTHER, span(p), t.replace("_", " "))


def flows_of(body: Node, src: Source, local_names: set[str], params: list[str], entry: Span) -> dict[str, list[Flow]]:
    """Function.pointer_flows of one function body; `local_names`: its pointer locals and parameters,
    `params` the parameters' names, `entry` the function's position."""
    f = _Flows(src, local_names)
    f.walk(body)
    return pointer_flows(f.origins, f.uses, [p for p in params if p in local_names], entry)
