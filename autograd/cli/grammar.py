"""The grammar of an expression: what may be written, and which engine operation each part means.

An expression may contain numbers, the variables given on the command line, ``+ - * / **``,
unary minus and plus, parentheses, and calls of the functions in `FUNCTIONS` (every named op of
the engine's op table, `autograd.ops.OPS`). `parse_expression` parses it with `ast` (which runs
nothing) and checks the tree against that allow-list; every refusal is an `ExpressionError` that
points at the offending part.
"""

from __future__ import annotations

import ast
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .. import engine
from ..engine import Value
from ..ops import OPS
from .errors import PROG, ExpressionError, Span, did_you_mean, node_span, span
from .flat_parser import parse_flat

__all__ = ["BINOPS", "FUNCTIONS", "MAX_DEPTH", "MAX_EXPR_CHARS", "SIGNATURES", "parse_expression"]

MAX_EXPR_CHARS = 10_000
# Nesting (parentheses, calls, unary signs, powers) is limited to the same depth on every Python
# version; a flat run of sums or products (x + y + z ..., a * b / c ...) is not nesting, and is
# accepted up to MAX_EXPR_CHARS whatever the Python version's parser can take.
MAX_DEPTH = 200

# the constant arguments an op with a parameter takes after its Value arguments (name, ...), and
# how many of them are required; an op whose parameter is not listed here is not offered
_CONSTANTS: dict[str, tuple[tuple[str, ...], int]] = {
    "leaky_relu": (("slope",), 0),
    "clamp": (("lo", "hi"), 2),
}
_SPECIAL: dict[str, Callable[..., Value]] = {"abs": operator.abs, "neg": operator.neg, "pow": operator.pow}
_ARGS = {"maximum": "a, b", "minimum": "a, b", "where": "c, a, b"}  # else x, y, z


def _offered() -> tuple[dict[str, Callable[..., Value]], dict[str, tuple[int, tuple[str, ...], int]]]:
    """Every op of the engine's op table (`autograd.ops.OPS`) that has a name to call it by:
    the function that makes it, and its signature (Value arguments, constant names, required
    constants). Infix ops (+ - * / **) are written as operators; sum and dot take lists."""
    functions: dict[str, Callable[..., Value]] = {}
    signatures: dict[str, tuple[int, tuple[str, ...], int]] = {}
    for name, op in OPS.items():
        if op.nary or not name.isidentifier():
            continue
        consts, required = _CONSTANTS.get(name, ((), 0))
        if op.param and not consts:
            continue
        fn = _SPECIAL.get(name) or getattr(Value, name, None) or getattr(engine, name, None)
        if callable(fn):
            functions[name] = fn
            signatures[name] = (op.arity, consts, required)
    return functions, signatures


FUNCTIONS, SIGNATURES = _offered()
"""FUNCTIONS: the functions an expression may call, name -> the engine's function; SIGNATURES:
name -> (Value arguments, names of the constant arguments after them, how many are required)."""

BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_BAD_BINOPS = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_FLAT: dict[type[ast.operator], int] = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
_WHAT = {
    "Attribute": "attribute access",
    "Subscript": "subscripts",
    "Compare": "comparisons",
    "BoolOp": "'and' / 'or'",
    "IfExp": "'if ... else'",
    "Lambda": "lambda",
    "NamedExpr": "':=' assignments",
    "List": "lists",
    "Tuple": "tuples",
    "Set": "sets",
    "Dict": "dicts",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "generator expressions",
    "JoinedStr": "f-strings",
    "FormattedValue": "f-strings",
    "Starred": "'*' unpacking",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Slice": "slices",
}


def takes(name: str) -> str:
    """How a function is called: ``tanh(x)``, ``leaky_relu(x[, slope])``, ``clamp(x, lo, hi)``."""
    nv, consts, required = SIGNATURES[name]
    args = ", ".join([_ARGS.get(name) or ", ".join("xyz"[:nv]), *consts[:required]])
    return f"{name}({args}{''.join(f'[, {c}]' for c in consts[required:])})"


def parse_expression(expr: str, names: Sequence[str]) -> ast.Expression:
    """Parse `expr` and check it against the allow-list, with `names` the variables given.
    Raises `ExpressionError`."""
    if not isinstance(expr, str):
        raise ExpressionError(f"the expression must be a string, got {type(expr).__name__}")
    if not expr.strip():
        raise ExpressionError("the expression is empty")
    if len(expr) > MAX_EXPR_CHARS:
        raise ExpressionError(
            f"the expression is {len(expr)} characters long; the limit is {MAX_EXPR_CHARS}"
        )
    for i, ch in enumerate(expr):
        if ch == "\x00" or (not ch.isprintable() and ch not in " \t\n"):
            row = expr.count("\n", 0, i) + 1
            col = i - (expr.rfind("\n", 0, i) + 1)
            raise ExpressionError(f"unexpected control character {ch!r}", (row, col, col + 1))
    lines = expr.split("\n")
    tree = _parse(expr, lines)
    _check_depth(tree, lines)
    _check_allowed(tree, lines, names)
    return tree


def _parse(expr: str, lines: list[str]) -> ast.Expression:
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" & co. must not leak to stderr
            warnings.simplefilter("ignore")
            return ast.parse(expr, mode="eval")  # parses one expression; runs nothing
    except RecursionError:
        # CPython 3.11/3.12 build the tree recursively and give up on a flat sum of ~3000 terms
        return parse_flat(expr, lines)
    except SyntaxError as exc:
        lineno = min(max(exc.lineno or 1, 1), len(lines))
        line = lines[lineno - 1]
        msg = exc.msg or "invalid syntax"
        if not exc.offset or exc.offset > len(line):  # the parser ran off the end
            col = len(line.rstrip())
            msg += " (the expression ends too early)"
        else:
            col = exc.offset - 1
        end = exc.end_offset - 1 if exc.end_offset and exc.end_lineno == lineno else col + 1
        if msg.startswith("Exceeds the limit"):
            msg = "number too long"
        raise ExpressionError(f"syntax error: {msg}", (lineno, col, max(end, col + 1))) from None
    except MemoryError:
        raise ExpressionError("the expression is nested too deeply to parse") from None
    except ValueError as exc:  # e.g. null bytes on some Python versions
        raise ExpressionError(f"cannot parse the expression: {exc}") from None


def _check_depth(tree: ast.Expression, lines: list[str]) -> None:
    deep: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while deep:  # iterative: the depth check must not itself recurse
        node, depth = deep.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested more than {MAX_DEPTH} levels deep", span(node, lines)
            )
        for child in ast.iter_child_nodes(node):
            # the left operand of a sum in a flat run of sums (or products) is not nesting
            flat = (
                isinstance(node, ast.BinOp)
                and isinstance(child, ast.BinOp)
                and child is node.left
                and _FLAT.get(type(child.op), 0) == _FLAT.get(type(node.op), -1)
            )
            deep.append((child, depth if flat else depth + 1))


def _check_allowed(tree: ast.Expression, lines: list[str], names: Sequence[str]) -> None:
    """Refuse the outermost part that is not allowed (ast.walk goes breadth first); unknown
    names are all named at once."""
    known = set(names)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    problems: list[tuple[Span, str]] = []
    unknown: list[tuple[Span, str]] = []
    used: set[str] = set()

    def bad(node: ast.AST, message: str, where: Span | None = None) -> None:
        problems.append((where or span(node, lines), message))

    for node in ast.walk(tree.body):
        if isinstance(node, ast.BinOp):
            if type(node.op) not in BINOPS:
                sym = _BAD_BINOPS.get(type(node.op), type(node.op).__name__)
                bad(node, f"operator '{sym}' is not allowed (use + - * / **)", node_span(node, lines))
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                sym = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), "?")
                bad(node, f"unary '{sym}' is not allowed (only unary minus and plus)")
        elif isinstance(node, ast.Constant):
            val = node.value
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                what = "booleans" if isinstance(val, bool) else f"{type(val).__name__} constants"
                bad(node, f"{what} are not allowed: only numbers")
        elif isinstance(node, ast.Name):
            if id(node) in called:
                continue  # checked with its call
            if node.id in FUNCTIONS:
                bad(node, f"'{node.id}' is a function: call it, as in {node.id}(x)")
            elif node.id in known:
                used.add(node.id)
            else:
                where = span(node, lines)
                unknown.append((where, lines[where[0] - 1][where[1] : where[2]]))  # as written
                problems.append((where, ""))
        elif isinstance(node, ast.Call):
            _check_call(node, bad)
        elif isinstance(node, (ast.operator, ast.unaryop, ast.expr_context)):
            continue
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            # point after the object: at ".attr" or "[index]"
            whole, obj = span(node, lines), span(node.value, lines)
            where = (whole[0], obj[2], whole[2]) if obj[0] == whole[0] else whole
            bad(node, f"{_WHAT[type(node).__name__]} not allowed", where)
        else:
            name = type(node).__name__
            bad(node, f"{_WHAT.get(name, name)} not allowed")
    if not problems:
        return
    where, message = problems[0]
    if not message:  # an unknown name first: name every missing variable, point at the first
        unknown.sort()
        missing = list(dict.fromkeys(name for _, name in unknown))
        where, message = unknown[0][0], _unknown_names(missing, [n for n in names if n not in used])
    raise ExpressionError(message, where)


def _unknown_names(names: list[str], unused: list[str], shown: int = 4) -> str:
    """Name the missing variables (the first few of many), each with the given but unused name
    nearest to it, and say how to give them."""
    quoted = ", ".join(
        f"'{n:.30}'" + (f" ({hint})" if (hint := did_you_mean(n, unused)) else "") for n in names[:shown]
    )
    given = " ".join(f"{n:.30}=NUMBER" for n in names[:shown])
    if len(names) > shown:
        quoted += f" and {len(names) - shown} more"
        given += " ..."
    which = "name" if len(names) == 1 else "names"
    return (
        f"unknown {which} {quoted}: give values on the command line ({given}); "
        f"'{PROG} --help' lists the functions"
    )


def _check_call(node: ast.Call, bad: Callable[[ast.AST, str], None]) -> None:
    func = node.func
    if not isinstance(func, ast.Name):
        if not isinstance(func, (ast.Attribute, ast.Subscript)):  # those report themselves
            bad(func, "only the functions " + ", ".join(FUNCTIONS) + " can be called")
        return
    if func.id not in FUNCTIONS:
        hint = did_you_mean(func.id, FUNCTIONS)
        bad(func, f"unknown function '{func.id:.40}': {hint + ' ' if hint else ''}the functions are "
            f"{', '.join(FUNCTIONS)}")
        return
    if node.keywords:
        bad(node.keywords[0], f"{func.id}() takes no keyword arguments")
    nv, consts, required = SIGNATURES[func.id]
    least, most = nv + required, nv + len(consts)
    if not least <= len(node.args) <= most:
        count = f"{least}" if least == most else f"{least} or {most}"
        takes_ = f"{count} argument{'s' if most > 1 else ''}"
        bad(node, f"{func.id}() takes {takes_} ({takes(func.id)}), got {len(node.args)}")
