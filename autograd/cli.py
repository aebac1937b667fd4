"""``python -m autograd``: evaluate an expression, differentiate it, print or draw its graph.

    python -m autograd "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432

prints the value and d value / d variable for every variable given, then (optionally) writes
the forward graph (``-o graph.svg``, ``.png``, ``.gv``), the adjoint graph (``--adjoint``), the
backprop stepper (``-o steps.html``) or prints the text tape (``--tape``).

The expression is parsed with `ast` and checked against an allow-list before anything is
computed: numbers, the variable names given on the command line, ``+ - * / **``, unary minus
and plus, parentheses, and calls of the Value functions in `FUNCTIONS`. The checked tree is
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
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from .backprop import toposort
from .engine import Value

__all__ = ["FUNCTIONS", "ExpressionError", "evaluate", "main", "parse_expression"]

EXIT_OK = 0
EXIT_MATH = 1
EXIT_USAGE = 2

MAX_EXPR_CHARS = 10_000
MAX_DEPTH = 200  # the same limit on every Python version (3.10's parser takes deeper nesting)
PROG = "python -m autograd"

FUNCTIONS: dict[str, Callable[..., Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,
    "softplus": Value.softplus,
    "sin": Value.sin,
    "cos": Value.cos,
    "abs": Value.__abs__,
}
"""The functions an expression may call (each takes one argument; leaky_relu an optional
constant slope as a second)."""

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


def format_error(expr: str, err: ExpressionError) -> str:
    """The message, then the expression's line with ``^^^`` under the offending part."""
    if err.span is None:
        return err.message
    lines = expr.split("\n")
    lineno, start, end = err.span
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    where = f"column {start + 1}" if len(lines) == 1 else f"line {lineno}, column {start + 1}"
    shown = line.expandtabs(1)
    end = min(max(end, start + 1), max(len(shown), start + 1))
    return f"{err.message} (at {where})\n  {shown}\n  {' ' * start}{'^' * (end - start)}"


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
        tree = ast.parse(expr, mode="eval")  # parses one expression; runs nothing
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
    except (RecursionError, MemoryError):
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
        deep.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

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


def _unknown_names(names: list[str]) -> str:
    quoted = ", ".join(f"'{n}'" for n in names)
    given = " ".join(f"{n}=NUMBER" for n in names)
    which = "name" if len(names) == 1 else "names"
    return (
        f"unknown {which} {quoted}: give values on the command line ({given}); "
        f"the functions are {', '.join(FUNCTIONS)}"
    )


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
            f"unknown function '{func.id}': the functions are {', '.join(FUNCTIONS)}",
            None,
        )
        return
    if node.keywords:
        bad(node.keywords[0], f"{func.id}() takes no keyword arguments", None)
    most = 2 if func.id == "leaky_relu" else 1
    if not 1 <= len(node.args) <= most:
        takes = "1 or 2 arguments" if most == 2 else "1 argument"
        bad(node, f"{func.id}() takes {takes}, got {len(node.args)}", None)


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
        x0 = args[0]
        if name == "leaky_relu" and len(args) == 2:
            slope = args[1]
            if isinstance(slope, Value):
                raise ExpressionError(
                    "leaky_relu's slope must be a number, not an expression of the variables",
                    _span(node.args[1], lines),
                )
            r = fn(Value(x0) if not isinstance(x0, Value) else x0, slope)
        else:
            r = fn(Value(x0) if not isinstance(x0, Value) else x0)
        return r.data if not isinstance(x0, Value) else r
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
            f"functions: {', '.join(FUNCTIONS)} (leaky_relu(x, slope) takes a constant slope)\n"
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
        "--json", action="store_true", help="print the value and gradients as JSON"
    )
    return p


_MARK = "\x1e"  # never in an acceptable expression: control characters are refused


def _protect_expressions(argv: list[str]) -> list[str]:
    """Let an expression start with '-' (as in '-x*2'): argparse would take it for an option.

    A single-dash argument that is not -h or -o is marked so argparse sees a positional;
    `_unprotect` removes the mark. Options are spelt --long. After '--' every argument is
    marked (and the '--' dropped: argparse's intermixed parsing mishandles it).
    """
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(_MARK + a if a.startswith("-") else a for a in argv[i + 1 :])
            break
        after_o = i > 0 and argv[i - 1] in ("-o", "--output")
        if len(arg) > 1 and arg[0] == "-" and arg[1] not in "-ho" and not after_o:
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
        name = name.strip()
        if not eq:
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
    import keyword

    return keyword.iskeyword(name) or keyword.issoftkeyword(name)


def _write_output(out: Value, path: Path, adjoint: bool) -> str:
    from . import viz

    suffix = path.suffix.lower()
    if suffix == ".html":
        written = viz.animate_backward(out, path)
        return f"wrote the backprop stepper to {written}"
    source = viz.to_dot(out, adjoint=adjoint)
    what = "adjoint graph" if adjoint else "forward graph"
    if suffix in (".gv", ".dot"):
        path.write_text(source, encoding="utf-8")
        return f"wrote the {what} (DOT source) to {path}"
    written = viz.render(source, path, suffix.lstrip("."))
    return f"wrote the {what} to {written}"


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 or 2) instead of exiting."""
    out_stream = stdout if stdout is not None else sys.stdout
    err_stream = sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    protected = _protect_expressions(argv)
    try:
        args = _parser().parse_intermixed_args(protected)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)

    expr: str = _unprotect(args.expression)
    args.values = [_unprotect(v) for v in args.values]

    def fail(err: ExpressionError, with_expr: bool = True) -> int:
        text = format_error(expr, err) if with_expr else err.message
        print(f"{PROG}: error: {text}", file=err_stream)
        return err.status

    output = Path(args.output) if args.output else None
    if output is not None:
        if output.suffix.lower() not in (".svg", ".png", ".gv", ".dot", ".html"):
            return fail(
                ExpressionError(
                    f"-o {args.output}: the file must end in .svg, .png, .gv, .dot or .html"
                ),
                False,
            )
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
    if args.json:
        print(json.dumps({"value": out.data, "grad": grads}), file=out_stream)
    else:
        width = max([len(n) for n in grads] + [0])
        print(f"value = {_fmt(out.data)}", file=out_stream)
        for name, g in grads.items():
            print(f"d/d{name.ljust(width)} = {_fmt(g)}", file=out_stream)
    if args.tape:
        from .viz import tape

        print(file=out_stream)
        print(tape(out, max_nodes=None), end="", file=out_stream)
    if output is not None:
        from .viz import GraphTooLargeError, RenderError

        try:
            message = _write_output(out, output, args.adjoint)
        except (RenderError, GraphTooLargeError, OSError) as exc:
            print(f"{PROG}: error: {exc}", file=err_stream)
            return EXIT_MATH
        print(message, file=err_stream)
    return EXIT_OK
