"""The code generator of sandboxed templates: it writes the accounting calls the sandbox alone
has no hooks for (loop iterables, literal text, comparisons, ``~``) into compiled templates,
and refuses recursive loops.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, operators, optimizeconst


class _LimitedCodeGenerator(CodeGenerator):
    """Emits the accounting calls the sandbox alone has no hooks for."""

    _loop_iterables: set[int] | None = None

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        # Jinja forbids custom node types, so the iterable of each for loop is recognised by
        # identity and wrapped as it is written out.
        if self._loop_iterables and id(node) in self._loop_iterables:
            self.write("environment.guard_iter(")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            self.fail("recursive loops are not allowed in templates", node.lineno)
        if self._loop_iterables is None:
            self._loop_iterables = set()
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        # Literal template text is not finalized; charge it here so that a loop repeating a
        # large literal into a {% set %} block is stopped like any other big value.
        literal = sum(
            len(child.data) for child in node.nodes if isinstance(child, nodes.TemplateData)
        )
        if literal and not (frame.require_output_check and self.has_known_extends):
            self.writeline(f"environment.charge_literal({literal})")
        super().visit_Output(node, frame)

    @optimizeconst
    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        # ``x in xs``, ``xs == ys``: Python compares item by item (and list items deeply) in one
        # step the sandbox cannot interrupt, so each operand is counted first.
        self.write("(")
        self._compare_operand(node.expr, frame)
        for operand in node.ops:
            self.write(f" {operators[operand.op]} ")
            self._compare_operand(operand.expr, frame)
        self.write(")")

    def _compare_operand(self, expr: nodes.Expr, frame: Frame) -> None:
        if isinstance(expr, nodes.Const):
            self.visit(expr, frame)
            return
        self.write("environment.guard_operand(")
        self.visit(expr, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"environment.guard_concat({func_name}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")
