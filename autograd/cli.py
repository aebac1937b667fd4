"""``python -m autograd``: evaluate an expression, differentiate it, print or draw its graph.

    python -m autograd "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432

prints the value and d value / d variable for every variable given, then (optionally) writes
the forward graph (``-o graph.svg``, ``.png``, ``.gv``), the adjoint graph (``--adjoint``), the
backprop stepper (``-o steps.html``) or prints the text tape (``--tape``).

The expression is parsed with `ast` and checked against an allow-list before anything is
computed: numbers, the variable names given on the command line, ``+ - * / **``, unary minus
and plus, parentheses, and calls of the functions in `FUNCTIONS` (every named op of the
engine's op table, `autograd.ops.OPS`). The checked tree is
then walked node by node with the engine's own operations: Python never runs any of the text,
and there is no attribute access, subscript or other name. Every error is one clean message
that points at the offending column.

Exit status: 0 success; 1 the maths failed (a domain error such as log of a negative number,
division by zero, an overflow to inf or nan) or the file could not be written; 2 the command
line or the expression is not acceptable (syntax, unknown names, missing values, disallowed
constructs).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import keyword
import math
import sys
import tokenize
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from .backprop import toposort
from .engine import Value
from .ops import OPS

__all__ = ["FUNCTIONS", "ExpressionError", "evaluate", "main", "parse_expression"]

EXIT_OK = 0
EXIT_MATH = 1
EXIT_USAGE = 2

MAX_EXPR_CHARS = 10_000
# Nesting (parentheses, calls, unary signs, powers) is limited to the same depth on every Python
# version; a flat run of sums or products (x + y + z ..., a * b / c ...) is not nesting, and is
# accepted up to MAX_EXPR_CHARS whatever the Python version's parser can take.
MAX_DEPTH = 200
PROG = "python -m autograd"

# the constant arguments an op with a parameter takes after its Value arguments (name, ...), and
# how many of them are required; an op whose parameter is not listed here is not offered
_CONSTANTS: dict[str, tuple[tuple[str, ...], int]] = {
    "leaky_relu": (("slope",), 0),
    "clamp": (("lo", "hi"), 2),
}
_SPECIAL: dict[str, Callable[..., Value]] = {
    "abs": Value.__abs__,
    "neg": Value.__neg__,
    "pow": lambda x, y: x**y,
}


def _offered() -> tuple[dict[str, Callable[..., Value]], dict[str, tuple[int, tuple[str, ...], int]]]:
    """Every op of the engine's op table (`autograd.ops.OPS`) that has a name to call it by:
    the function that makes it, and its signature (Value arguments, constant names, required
    constants). Infix ops (+ - * / **) are written as operators; sum and dot take lists."""
    from . import engine

    functions: dict[str, Callable[..., Value]] = {}
    signatures: dict[str, tuple[int, tuple[str, ...], int]] = {}
    for name, op in OPS.items():
        if op.nary or not name.isidentifier():
            continue
        consts, required = _CONSTANTS.get(name, ((), 0))
        if op.param and not consts:
            continue
        fn = _SPECIAL.get(name) or getattr(Value, name, None) or getattr(engine, name, None)
        if fn is None or not callable(fn):
            continue
        functions[name] = fn
        signatures[name] = (op.arity, consts, required)
    return functions, signatures


FUNCTIONS, SIGNATURES = _offered()
"""FUNCTIONS: the functions an expression may call, name -> the engine's function; SIGNATURES:
name -> (Value arguments, names of the constant arguments after them, how many are required)."""


def _takes(name: str) -> str:
    """``tanh(x)``, ``leaky_relu(x[, slope])``, ``clamp(x, lo, hi)``, ``where(c, a, b)``."""
    nv, consts, required = SIGNATURES[name]
    args = list("xy" if nv == 2 and name == "pow" else ("x", "y", "z")[:nv])
    if name in ("maximum", "minimum"):
        args = ["a", "b"]
    if name == "where":
        args = ["c", "a", "b"]
    text = ", ".join(args + list(consts[:required]))
    optional = consts[required:]
    if optional:
        text += "".join(f"[, {c}]" for c in optional)
    return f"{name}({text})"


_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
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

Span = tuple[int, int, int]  # line (1-based), first column, end column (0-based, in characters)
Result = Value | float


class ExpressionError(Exception):
    """The expression is not acceptable (`status` 2) or cannot be computed (`status` 1)."""

    def __init__(self, message: str, span: Span | None = None, status: int = EXIT_USAGE):
        super().__init__(message)
        self.message = message
        self.span = span
        self.status = status


# -- positions ----------------------------------------------------------------------------------


def _char_col(line: str, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; turn one into a character index."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _span(node: ast.AST, lines: list[str]) -> Span:
    lineno = getattr(node, "lineno", 1)
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    start = _char_col(line, getattr(node, "col_offset", 0))
    end_lineno = getattr(node, "end_lineno", lineno)
    end_byte = getattr(node, "end_col_offset", None)
    if end_lineno != lineno or end_byte is None:
        end = len(line)
    else:
        end = _char_col(line, end_byte)
    return (lineno, start, max(end, start + 1))


def _operator_span(node: ast.BinOp, lines: list[str]) -> Span:
    """Where the operator of ``left OP right`` is written."""
    left = _span(node.left, lines)
    right = _span(node.right, lines)
    if left[0] == right[0]:
        line = lines[left[0] - 1]
        i = left[2]
        while i < right[1] and line[i] in " \t)":
            i += 1
        j = i
        while j < right[1] and line[j] not in " \t(":
            j += 1
        if j > i:
            return (left[0], i, j)
    return _span(node, lines)


WINDOW = 76  # an error shows at most this many characters of the expression's line


def format_error(expr: str, err: ExpressionError) -> str:
    """The message, then the expression's line with ``^^^`` under the offending part.

    A long line is cut to a window of `WINDOW` characters around the offending part, with
    ``...`` where text was left out."""
    if err.span is None:
        return err.message
    lines = expr.split("\n")
    lineno, start, end = err.span
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    where = f"column {start + 1}" if len(lines) == 1 else f"line {lineno}, column {start + 1}"
    shown = line.expandtabs(1)
    end = min(max(end, start + 1), max(len(shown), start + 1))
    left, right, before, after = 0, len(shown), "", ""
    if len(shown) > WINDOW:
        width = min(end - start, WINDOW // 2)  # a very long span is marked from its start
        left = max(0, min(start - (WINDOW - width) // 2, len(shown) - WINDOW))
        right = left + WINDOW
        before = "..." if left > 0 else ""
        after = "..." if right < len(shown) else ""
    text = before + shown[left:right] + after
    pad = len(before) + start - left
    marks = min(end, right) - start
    return f"{err.message} (at {where})\n  {text}\n  {' ' * pad}{'^' * max(marks, 1)}"


# -- parsing and checking ------------------------------------------------------------------------


def parse_expression(expr: str, names: Sequence[str]) -> ast.Expression:
    """Parse `expr` and check it against the allow-list. Raises `ExpressionError`."""
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
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" & co. must not leak to stderr
            warnings.simplefilter("ignore")
            tree = ast.parse(expr, mode="eval")  # parses one expression; runs nothing
    except RecursionError:
        # CPython 3.11/3.12 build the tree recursively and give up on a flat sum of ~3000 terms
        tree = _parse_flat(expr, lines)
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

    deep: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while deep:  # iterative: the depth check must not itself recurse
        node, depth = deep.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested more than {MAX_DEPTH} levels deep", _span(node, lines)
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

    known = set(names)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    problems: list[tuple[Span, str]] = []

    def bad(node: ast.AST, message: str, span: Span | None = None) -> None:
        problems.append((span or _span(node, lines), message))

    for node in ast.walk(tree):
        if isinstance(node, ast.Expression):
            continue
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                sym = _BAD_BINOPS.get(type(node.op), type(node.op).__name__)
                bad(node, f"operator '{sym}' is not allowed (use + - * / **)",
                    _operator_span(node, lines))
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
            elif node.id not in known:
                bad(node, "unknown name")
        elif isinstance(node, ast.Call):
            _check_call(node, lines, bad)
        elif isinstance(node, (ast.operator, ast.unaryop, ast.expr_context)):
            continue
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            # point after the object: at ".attr" or "[index]"
            whole = _span(node, lines)
            obj = _span(node.value, lines)
            span = (whole[0], obj[2], whole[2]) if obj[0] == whole[0] else whole
            what = "attribute access" if isinstance(node, ast.Attribute) else "subscripts"
            bad(node, f"{what} not allowed", span)
        else:
            name = type(node).__name__
            bad(node, f"{_WHAT.get(name, name)} not allowed")
    if problems:
        span, message = problems[0]  # the outermost (ast.walk goes breadth first)
        if message == "unknown name":  # name every missing variable, point at the first
            spans = sorted(sp for sp, m in problems if m == "unknown name")
            missing = list(dict.fromkeys(_text(lines, sp) for sp in spans))
            span, message = spans[0], _unknown_names(missing)
        raise ExpressionError(message, span)
    return tree


def _text(lines: list[str], span: Span) -> str:
    return lines[span[0] - 1][span[1] : span[2]]


def _unknown_names(names: list[str], shown: int = 4) -> str:
    """Name the missing variables (the first few of many), and say how to give them."""
    quoted = ", ".join(f"'{n:.30}'" for n in names[:shown])
    given = " ".join(f"{n:.30}=NUMBER" for n in names[:shown])
    if len(names) > shown:
        quoted += f" and {len(names) - shown} more"
        given += " ..."
    which = "name" if len(names) == 1 else "names"
    return (
        f"unknown {which} {quoted}: give values on the command line ({given}); "
        f"'{PROG} --help' lists the functions"
    )


def _did_you_mean(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def _check_call(
    node: ast.Call, lines: list[str], bad: Callable[[ast.AST, str, Span | None], None]
) -> None:
    func = node.func
    if not isinstance(func, ast.Name):
        if not isinstance(func, (ast.Attribute, ast.Subscript)):  # those report themselves
            bad(func, "only the functions " + ", ".join(FUNCTIONS) + " can be called", None)
        return
    if func.id not in FUNCTIONS:
        bad(
            func,
            f"unknown function '{func.id:.40}': {_did_you_mean(func.id)}the functions are "
            f"{', '.join(FUNCTIONS)}",
            None,
        )
        return
    if node.keywords:
        bad(node.keywords[0], f"{func.id}() takes no keyword arguments", None)
    nv, consts, required = SIGNATURES[func.id]
    least, most = nv + required, nv + len(consts)
    if not least <= len(node.args) <= most:
        count = f"{least}" if least == most else f"{least} or {most}"
        takes = f"{count} argument{'s' if most > 1 else ''}"
        bad(node, f"{func.id}() takes {takes} ({_takes(func.id)}), got {len(node.args)}", None)


# -- long flat expressions ------------------------------------------------------------------------

_FLAT: dict[type[ast.operator], int] = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}  # unary signs: 3 (bind less than **)
_OPNODE: dict[str, type[ast.operator]] = {
    "+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow
}
_ONLY = "only numbers, names, + - * / **, parentheses and function calls"


def _tokens(expr: str) -> Iterator[tokenize.TokenInfo]:
    """The tokens of `expr`; input that ends inside parentheses just ends (the parser then
    says which '(' was never closed)."""
    try:
        yield from tokenize.generate_tokens(io.StringIO(expr).readline)
    except tokenize.TokenError:
        return
    except SyntaxError as exc:  # Python 3.12+ tokenizes in C and raises SyntaxError
        row = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        raise ExpressionError(f"syntax error: {exc.msg}", (row, col, col + 1)) from None


def _parse_flat(expr: str, lines: list[str]) -> ast.Expression:
    """Parse the allowed grammar (numbers, names, + - * / **, unary signs, parentheses, calls)
    without recursion, into the same `ast` nodes `ast.parse` makes: the way in for a long flat
    sum that the running Python's own parser cannot build. Anything else is refused here."""

    def at(row: int, col: int) -> int:
        return len(lines[row - 1][:col].encode("utf-8"))  # ast counts UTF-8 bytes

    def syntax(msg: str, row: int, col: int, width: int = 1) -> ExpressionError:
        return ExpressionError(f"syntax error: {msg}", (row, col, col + max(width, 1)))

    # operands with their extent including any parentheses around them (row, byte, row, byte):
    # ast gives a node its own span, but spans its parent over the parentheses
    operands: list[tuple[ast.expr, tuple[int, int, int, int]]] = []
    # pending operators: ("bin", op, start), ("unary", "-" or "+", start), ("paren", "", start),
    # ("call", name, start); argc holds each open call's argument count
    ops: list[tuple[str, str, tuple[int, int]]] = []
    argc: list[int] = []
    expect_operand = True

    def place(node: ast.expr, span: tuple[int, int, int, int]) -> None:
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = span
        operands.append((node, span))

    def reduce_one() -> None:
        kind, op, (row, col) = ops.pop()
        x, xs = operands.pop()
        if kind == "unary":
            sign: ast.unaryop = ast.USub() if op == "-" else ast.UAdd()
            place(ast.UnaryOp(op=sign, operand=x), (row, at(row, col), xs[2], xs[3]))
        else:
            a, as_ = operands.pop()
            place(ast.BinOp(left=a, op=_OPNODE[op](), right=x), (as_[0], as_[1], xs[2], xs[3]))

    skip = (tokenize.NL, tokenize.ENDMARKER, tokenize.DEDENT)
    ended = False  # a NEWLINE outside parentheses ends the expression
    for tok in _tokens(expr):
        kind_t, text, (row, col), (erow, ecol) = tok.type, tok.string, tok.start, tok.end
        if kind_t in skip and not text.strip():
            continue
        if kind_t == tokenize.NEWLINE:
            ended = True
            continue
        if kind_t == tokenize.INDENT:
            raise syntax("unexpected indent", row, col)
        if ended:
            raise syntax("invalid syntax (the expression goes on after a line break)", row, col)
        if kind_t == tokenize.NAME and keyword.iskeyword(text):
            raise ExpressionError(f"'{text}' is not allowed here ({_ONLY})", (row, col, ecol))
        if kind_t in (tokenize.NUMBER, tokenize.NAME):
            if not expect_operand:
                raise syntax("an operator is missing before this", row, col, len(text))
            leaf: ast.expr
            if kind_t == tokenize.NUMBER:
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise ExpressionError("number too long", (row, col, ecol)) from None
                leaf = ast.Constant(value=value)
            else:
                name = unicodedata.normalize("NFKC", text)  # as Python's parser does
                leaf = ast.Name(id=name, ctx=ast.Load())
            place(leaf, (row, at(row, col), erow, at(erow, ecol)))
            expect_operand = False
            continue
        if kind_t != tokenize.OP:
            width = ecol - col if erow == row else 1
            raise ExpressionError(f"{text[:20]!r} is not allowed here ({_ONLY})", (row, col, col + width))
        if text == "(":
            if expect_operand:
                ops.append(("paren", "", (row, col)))
            else:  # a call: the operand just read is the function
                func = operands[-1][0]
                if not isinstance(func, ast.Name):
                    raise syntax("only a function name can be called", row, col)
                ops.append(("call", func.id, (row, col)))
                argc.append(0)
            expect_operand = True
            continue
        if text in (")", ","):
            if expect_operand:  # only f() may close with nothing before it
                if not (text == ")" and ops and ops[-1][0] == "call" and argc[-1] == 0):
                    raise syntax("an operand is missing before this", row, col)
            while ops and ops[-1][0] in ("bin", "unary"):
                reduce_one()
            if not ops:
                raise syntax(f"unmatched '{text}'", row, col)
            if ops[-1][0] == "paren":
                if text == ",":
                    raise ExpressionError(f"tuples not allowed ({_ONLY})", (row, col, col + 1))
                _, _, (prow, pcol) = ops.pop()
                inner, _ = operands.pop()
                operands.append((inner, (prow, at(prow, pcol), erow, at(erow, ecol))))
                expect_operand = False
                continue
            if not expect_operand:
                argc[-1] += 1
            if text == ",":
                expect_operand = True
                continue
            ops.pop()
            n = argc.pop()
            args = [node for node, _ in operands[len(operands) - n :]]
            del operands[len(operands) - n :]
            func, fs = operands.pop()
            place(ast.Call(func=func, args=args, keywords=[]), (fs[0], fs[1], erow, at(erow, ecol)))
            expect_operand = False
            continue
        if text in ("+", "-") and expect_operand:
            ops.append(("unary", text, (row, col)))
            continue
        if text in _PREC and not expect_operand:
            prec = _PREC[text]
            while ops and ops[-1][0] in ("bin", "unary"):
                top = 3 if ops[-1][0] == "unary" else _PREC[ops[-1][1]]
                if top > prec or (top == prec and text != "**"):  # ** is right-associative
                    reduce_one()
                else:
                    break
            ops.append(("bin", text, (row, col)))
            expect_operand = True
            continue
        width = ecol - col if erow == row else 1
        if expect_operand and text in _PREC:
            raise syntax("an operand is missing before this", row, col, width)
        raise ExpressionError(f"'{text}' is not allowed here ({_ONLY})", (row, col, col + width))
    if len(lines) > 1 and lines[-1] and not lines[-1].strip():  # as Python's parser says
        raise syntax("unexpected indent", len(lines), 0)
    if expect_operand:
        raise syntax(
            "invalid syntax (the expression ends too early)", len(lines), len(lines[-1].rstrip())
        )
    while ops:
        if ops[-1][0] in ("paren", "call"):
            _, _, (row, col) = ops[-1]
            raise syntax("'(' was never closed", row, col)
        reduce_one()
    if len(operands) != 1:  # pragma: no cover - every path above keeps one operand
        raise syntax("invalid syntax", 1, 0)
    return ast.Expression(body=operands[0][0])


# -- evaluation ---------------------------------------------------------------------------------


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


def _fmt(x: float) -> str:
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
            for child in reversed(_children(node)):
                stack.append((child, False))
            continue
        args = [results.pop(id(c)) for c in _children(node)]
        try:
            out = _apply(node, args, variables, lines)
        except ExpressionError:
            raise
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            span = _operator_span(node, lines) if isinstance(node, ast.BinOp) else None
            raise ExpressionError(
                _math_message(exc), span or _span(node, lines), EXIT_MATH
            ) from None
        if isinstance(out, Value) and out._op and out not in made:
            made[out] = (
                _operator_span(node, lines) if isinstance(node, ast.BinOp) else _span(node, lines)
            )
        if isinstance(out, float) and not math.isfinite(out):
            span = _operator_span(node, lines) if isinstance(node, ast.BinOp) else None
            raise ExpressionError(
                f"overflow: this part evaluates to {out}", span or _span(node, lines), EXIT_MATH
            )
        results[id(node)] = out
    return results[id(tree)], made


def _math_message(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, ZeroDivisionError) and "zero" not in text:
        return f"division by zero: {text}"
    if isinstance(exc, OverflowError):
        return f"overflow: {text}"
    return text


def _binop(op: str, x: Value, y: Result) -> Value:
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return x / y
    return x**y


def _apply(
    node: ast.AST, args: list[Result], variables: dict[str, Value], lines: list[str]
) -> Result:
    if isinstance(node, ast.Expression):
        return args[0]
    if isinstance(node, ast.Constant):
        try:
            num = float(node.value)  # type: ignore[arg-type]  # an int or a float: checked
        except OverflowError:
            num = math.inf
        if not math.isfinite(num):
            raise ExpressionError("number too large", _span(node, lines))
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
        left = a if isinstance(a, Value) else Value(a)
        r = _binop(_BINOPS[type(node.op)], left, b)
        return r if isinstance(a, Value) or isinstance(b, Value) else r.data
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        fn = FUNCTIONS[name]
        nv, const_names, _ = SIGNATURES[name]
        values, consts = args[:nv], args[nv:]
        for j, c in enumerate(consts):
            if isinstance(c, Value):
                raise ExpressionError(
                    f"{name}'s {const_names[j]} must be a number, not an expression of the "
                    "variables",
                    _span(node.args[nv + j], lines),
                )
        r = fn(*[a if isinstance(a, Value) else Value(a) for a in values], *consts)
        return r if any(isinstance(a, Value) for a in values) else r.data
    raise ExpressionError(f"{type(node).__name__} not allowed", _span(node, lines))


def _describe(v: Value) -> str:
    """``2 ** 1e+308 = inf``, ``exp(1000) = inf``: a node with its inputs' values."""
    ins = [_fmt(p.data) for p in v._prev]
    if v._arg is not None:
        ins.append(_fmt(float(v._arg)))
    if v._op in _BINOPS.values() and len(ins) == 2:
        call = f"{ins[0]} {v._op} {ins[1]}"
    else:
        call = f"{v._op}({', '.join(ins)})"
    return f"{call} = {v.data}"


def _first_non_finite(out: Value, made: dict[Value, Span]) -> tuple[Value, Span | None] | None:
    for v in toposort(out):
        if v._op and not math.isfinite(v.data):
            return v, made.get(v)
    return None


def _infinite_gradient(out: Value, name: str, g: float, made: dict[Value, Span]) -> ExpressionError:
    """Name the op where the gradient stops being finite on its way back to `name`."""
    from .interpreters import local_grads

    where = ""
    span: Span | None = None
    for v in reversed(toposort(out)):  # the walk backward() took
        if not v._op or not math.isfinite(v.grad):
            continue
        try:
            locals_ = local_grads(v)
        except (ArithmeticError, ValueError):
            locals_ = tuple(math.inf for _ in v._prev)
        carried = [v.grad * d for d in locals_]
        if not all(math.isfinite(c) for c in carried):
            bad = next(c for c in carried if not math.isfinite(c))
            where = f"; it becomes {bad} passing back through {_describe(v)}"
            span = made.get(v)
            break
    return ExpressionError(f"the gradient d/d{name} is {g}, not a finite number{where}", span, EXIT_MATH)


def _print_json(
    value: float | None, grads: dict[str, float] | None, stream: TextIO, error: str | None = None
) -> None:
    """Strict JSON (never NaN or Infinity): an error gives null values and the message."""
    data: dict[str, object] = {"value": value, "grad": grads}
    if error is not None:
        data["error"] = error
    print(json.dumps(data, allow_nan=False), file=stream)


# -- the command line -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message.replace(_MARK, '')}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description=(
            "Evaluate an expression with adjointgrad, run backward, and print the value\n"
            "and the gradient with respect to every variable."
        ),
        epilog=(
            "example: python -m autograd \"tanh(x1*w1 + x2*w2 + b)\" "
            "x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432 -o neuron.svg\n"
            f"functions: {', '.join(_takes(n) for n in FUNCTIONS)}\n"
            "(slope, lo and hi are numbers)\n"
            "an expression may start with '-' ('-x*2'); one that starts with -h or -o goes "
            "after '--'\n"
            "exit status: 0 ok, 1 the maths failed or a file could not be written, "
            "2 bad command line or expression"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expression", help="e.g. 'tanh(x1*w1 + x2*w2 + b)'")
    p.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="a value for each variable")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write a picture: .svg or .png (the forward graph, or with --adjoint the adjoint "
        "graph), .gv/.dot (its DOT source, needs nothing installed), .html (the backprop "
        "stepper page)",
    )
    p.add_argument("--adjoint", action="store_true", help="with -o: draw the adjoint graph")
    p.add_argument("--tape", action="store_true", help="print the graph as a text tape")
    p.add_argument(
        "--program", action="store_true", help="print the adjoint program (autograd.compile)"
    )
    p.add_argument(
        "--json", action="store_true", help="print the value and gradients as JSON"
    )
    return p


_MARK = "\x1e"  # never in an acceptable expression: control characters are refused
_LONG = ("--output", "--adjoint", "--tape", "--program", "--json", "--help")
_OPTIONS = "-o/--output FILE, --adjoint, --tape, --program, --json, -h/--help"


def _protect_expressions(argv: list[str]) -> list[str]:
    """Let an expression start with '-' (as in '-x*2'): argparse would take it for an option.

    A single-dash argument that is not -h or -o is marked so argparse sees a positional, and
    so is a double-dash one that is not one of the long options (``--x`` is minus minus x);
    `_unprotect` removes the mark. After '--' every argument is marked (and the '--' dropped:
    argparse's intermixed parsing mishandles it).
    """
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(_MARK + a if a.startswith("-") else a for a in argv[i + 1 :])
            break
        after_o = i > 0 and argv[i - 1] in ("-o", "--output")
        option = arg.split("=", 1)[0] in _LONG
        if len(arg) > 1 and arg[0] == "-" and arg[1] not in "-ho" and not after_o:
            out.append(_MARK + arg)
        elif arg.startswith("--") and not option and not after_o:
            out.append(_MARK + arg)
        else:
            out.append(arg)
    return out


def _unprotect(arg: str) -> str:
    return arg[1:] if arg.startswith(_MARK) else arg


def _parse_values(items: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, eq, text = item.partition("=")
        # Python's parser NFKC-normalises names in the expression ("ｘ" is "x"): so do we here
        name = unicodedata.normalize("NFKC", name.strip())
        if not eq:
            if item.startswith("--"):
                raise ExpressionError(f"unknown option {item!r:.60} (the options are {_OPTIONS})")
            raise ExpressionError(f"expected NAME=NUMBER, got {item!r:.80}")
        if not name.isidentifier() or name.startswith("__") or _is_keyword(name):
            raise ExpressionError(f"{name!r:.60} is not a usable variable name (in {item!r:.80})")
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function name; call the variable something else")
        if name in values:
            raise ExpressionError(f"{name!r} is given twice")
        try:
            x = float(text.strip())
        except ValueError:
            raise ExpressionError(f"{name}={text!r:.60}: not a number") from None
        if not math.isfinite(x):
            raise ExpressionError(f"{name}={text.strip()!r:.60}: the value must be finite")
        values[name] = x
    return values


def _is_keyword(name: str) -> bool:
    return keyword.iskeyword(name) or keyword.issoftkeyword(name)


_SUFFIXES = (".svg", ".png", ".gv", ".dot", ".html")


def _write_output(out: Value, path: Path, adjoint: bool) -> str:
    from . import viz
    from .viz._paths import write_file

    suffix = path.suffix.lower()
    if suffix == ".html":
        written = viz.animate_backward(out, path)
        return f"wrote the backprop stepper to {written}"
    source = viz.to_dot(out, adjoint=adjoint)
    what = "adjoint graph" if adjoint else "forward graph"
    if suffix in (".gv", ".dot"):
        write_file(path, source)  # missing folders are created for every kind of output
        return f"wrote the {what} (DOT source) to {path}"
    written = viz.render(source, path, suffix.lstrip("."))
    return f"wrote the {what} to {written}"


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 or 2) instead of exiting."""
    out_stream = stdout if stdout is not None else sys.stdout
    err_stream = sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    protected = _protect_expressions(argv)
    want_json = "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv
    try:
        args = _parser().parse_intermixed_args(protected)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code
        status = code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
        if status and want_json:
            _print_json(None, None, out_stream, "bad command line (see the message on stderr)")
        return status

    expr: str = _unprotect(args.expression)
    args.values = [_unprotect(v) for v in args.values]

    def fail(err: ExpressionError, with_expr: bool = True) -> int:
        text = format_error(expr, err) if with_expr else err.message
        if err.message.startswith("unknown name") and expr.startswith("--"):
            text += f"\n(an expression starting with '--' is not an option; the options are {_OPTIONS})"
        print(f"{PROG}: error: {text}", file=err_stream)
        if args.json:  # stdout stays valid JSON
            _print_json(None, None, out_stream, err.message)
        return err.status

    output: Path | None = None
    if args.output is not None:
        from .viz._paths import OutputPathError, output_path

        suffix = Path(args.output.replace("\x00", "")).suffix.lower()
        if suffix not in _SUFFIXES:
            return fail(
                ExpressionError(
                    f"-o {args.output!r:.80}: the file must end in .svg, .png, .gv, .dot or .html"
                ),
                False,
            )
        try:  # checked before any work: a folder, a NUL byte, a file where a folder should be
            output = output_path(args.output, _SUFFIXES, "the output")
        except OutputPathError as exc:
            return fail(ExpressionError(f"-o: {exc}", status=EXIT_MATH), False)
        if args.adjoint and output.suffix.lower() == ".html":
            return fail(
                ExpressionError("--adjoint draws a picture; the .html stepper has its own view"),
                False,
            )
    elif args.adjoint:
        return fail(ExpressionError("--adjoint needs -o FILE.svg (or .png, .gv)"), False)

    try:
        values = _parse_values(args.values)
    except ExpressionError as err:
        return fail(err, False)
    try:
        tree = parse_expression(expr, list(values))
        variables = {name: Value(x, label=name) for name, x in values.items()}
        result, made = evaluate(tree, variables, expr)
    except ExpressionError as err:
        if err.span is None and err.status == EXIT_USAGE:
            return fail(err, False)
        return fail(err)

    if isinstance(result, Value):
        out = result
        bad = _first_non_finite(out, made)
        if bad is not None:
            v, span = bad
            return fail(ExpressionError(f"overflow: {_describe(v)}", span, EXIT_MATH))
        if out._op and not out.label:
            out.label = "out"
        out.backward()
    else:
        out = Value(result, label="out")

    grads = {name: v.grad for name, v in variables.items()}
    for name, g in grads.items():
        if not math.isfinite(g):
            return fail(_infinite_gradient(out, name, g, made))
    if args.json:
        _print_json(out.data, grads, out_stream)
    else:
        width = max([len(n) for n in grads] + [0])
        print(f"value = {_fmt(out.data)}", file=out_stream)
        for name, g in grads.items():
            print(f"d/d{name.ljust(width)} = {_fmt(g)}", file=out_stream)
    if args.tape:
        from .viz import tape

        print(file=out_stream)
        print(tape(out, max_nodes=None), end="", file=out_stream)
    if args.program:
        from .program import compile as compile_program

        print(file=out_stream)
        print(compile_program(out).source, end="", file=out_stream)
    if output is not None:
        from .viz import GraphTooLargeError, RenderError

        try:
            message = _write_output(out, output, args.adjoint)
        except (RenderError, GraphTooLargeError, OSError, ValueError) as exc:
            print(f"{PROG}: error: {exc}", file=err_stream)
            return EXIT_MATH
        print(message, file=err_stream)
    return EXIT_OK
