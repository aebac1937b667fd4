"""Computing a checked expression with the engine, and differentiating it.

`evaluate` walks the tree `autograd.cli.grammar.parse_expression` checked, node by node, with
the engine's own operations (Python never runs any of the text); parts without a variable are
folded into numbers. `differentiate` runs backward. A domain error, an overflow to inf or a
gradient that is not finite is an `ExpressionError` (status 1) that names the op and points at it.
"""

from __future__ import annotations

import ast
import math

from ..backprop import toposort
from ..engine import Value
from ..interpreters import local_grads
from .errors import EXIT_MATH, ExpressionError, Span, node_span, span
from .grammar import BINOPS, FUNCTIONS, SIGNATURES

__all__ = ["differentiate", "evaluate", "fmt"]

Result = Value | float


def fmt(x: float) -> str:
    """A number as the command line prints it (10 significant digits)."""
    return f"{x:.10g}"


def evaluate(
    tree: ast.Expression, variables: dict[str, Value], expr: str
) -> tuple[Result, dict[Value, Span]]:
    """Compute a checked expression with the engine. Returns the result (a Value, or a float
    if no variable is involved) and, for error messages, where each new node came from.

    Iterative (no recursion), so nesting depth is bounded only by the parser.
    """
    lines = expr.split("\n")
    made: dict[Value, Span] = {}
    results: dict[int, Result] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_children(node)))
            continue
        args = [results.pop(id(c)) for c in _children(node)]
        where = node_span(node, lines)
        try:
            out = _apply(node, args, variables, lines)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise ExpressionError(_math_message(exc), where, EXIT_MATH) from None
        if isinstance(out, Value):
            if out._op and out not in made:
                made[out] = where
            if not math.isfinite(out.data):
                raise ExpressionError(f"overflow: {_describe(out)}", made.get(out, where), EXIT_MATH)
        elif not math.isfinite(out):
            raise ExpressionError(f"overflow: this part evaluates to {out}", where, EXIT_MATH)
        results[id(node)] = out
    return results[id(tree)], made


def differentiate(
    result: Result, variables: dict[str, Value], made: dict[Value, Span]
) -> tuple[Value, dict[str, float]]:
    """Run backward from `result`: the output node and d output / d variable for every variable,
    each checked to be a finite number."""
    if isinstance(result, Value):
        out = result
        if out._op and not out.label:
            out.label = "out"
        try:
            out.backward()
        except (ArithmeticError, ValueError) as exc:
            raise ExpressionError(f"backward failed: {_math_message(exc)}", status=EXIT_MATH) from None
    else:
        out = Value(result, label="out")
    grads = {name: v.grad for name, v in variables.items()}
    for name, g in grads.items():
        if not math.isfinite(g):
            raise _infinite_gradient(out, name, g, made)
    return out, grads


def _children(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Expression):
        return [node.body]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _math_message(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, ZeroDivisionError) and "zero" not in text:
        return f"division by zero: {text}"
    if isinstance(exc, OverflowError):
        return f"overflow: {text}"
    return text


def _apply(node: ast.AST, args: list[Result], variables: dict[str, Value], lines: list[str]) -> Result:
    if isinstance(node, ast.Expression):
        return args[0]
    if isinstance(node, ast.Constant):
        try:
            num = float(node.value)  # type: ignore[arg-type]  # an int or a float: checked
        except OverflowError:
            num = math.inf
        if not math.isfinite(num):
            raise ExpressionError("number too large", span(node, lines))
        return num
    if isinstance(node, ast.Name):
        return variables[node.id]
    if isinstance(node, ast.UnaryOp):
        (a,) = args
        return -a if isinstance(node.op, ast.USub) else a
    if isinstance(node, ast.BinOp):
        a, b = args
        # a number on the left becomes a leaf, as the engine does for 2 * x; numbers on both
        # sides are folded, with the engine's own checks (division by zero, overflow)
        r: Value = BINOPS[type(node.op)](a if isinstance(a, Value) else Value(a), b)
        return r if isinstance(a, Value) or isinstance(b, Value) else r.data
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # nothing else is allowed
    name = node.func.id
    nv, const_names, _ = SIGNATURES[name]
    values, consts = args[:nv], args[nv:]
    for j, c in enumerate(consts):
        if isinstance(c, Value):
            raise ExpressionError(
                f"{name}'s {const_names[j]} must be a number, not an expression of the variables",
                span(node.args[nv + j], lines),
            )
    r = FUNCTIONS[name](*[a if isinstance(a, Value) else Value(a) for a in values], *consts)
    return r if any(isinstance(a, Value) for a in values) else r.data


def _describe(v: Value) -> str:
    """``2 ** 1e+308 = inf``, ``exp(1000) = inf``: a node with its inputs' values."""
    ins = [fmt(p.data) for p in v._prev]
    if v._arg is not None:
        ins.append(fmt(float(v._arg)))
    if not v._op.isidentifier() and len(ins) == 2:  # + - * / **
        return f"{ins[0]} {v._op} {ins[1]} = {v.data}"
    return f"{v._op}({', '.join(ins)}) = {v.data}"


def _infinite_gradient(out: Value, name: str, g: float, made: dict[Value, Span]) -> ExpressionError:
    """Name the op where the gradient stops being finite on its way back to `name`."""
    for v in reversed(toposort(out)):  # the walk backward() took
        if not v._op or not math.isfinite(v.grad):
            continue
        try:
            carried = [v.grad * d for d in local_grads(v)]
        except (ArithmeticError, ValueError):
            carried = [math.inf]
        bad = next((c for c in carried if not math.isfinite(c)), None)
        if bad is not None:
            return ExpressionError(
                f"the gradient d/d{name} is {g}, not a finite number; it becomes {bad} passing "
                f"back through {_describe(v)}",
                made.get(v),
                EXIT_MATH,
            )
    return ExpressionError(f"the gradient d/d{name} is {g}, not a finite number", None, EXIT_MATH)
