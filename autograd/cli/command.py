"""The command line itself: its options, the ``NAME=NUMBER`` values, and `main`, which runs
grammar -> evaluation -> output and turns every `ExpressionError` into one message and an exit
status."""

from __future__ import annotations

import argparse
import keyword
import math
import sys
import unicodedata
from collections.abc import Sequence
from typing import NoReturn, TextIO

from ..engine import Value
from .errors import EXIT_OK, EXIT_USAGE, PROG, ExpressionError, did_you_mean, format_error
from .evaluation import differentiate, evaluate
from .grammar import FUNCTIONS, parse_expression, takes
from .output import check_output, print_json, print_result, write_output

__all__ = ["main"]

_MARK = "\x1e"  # never in an acceptable expression: control characters are refused
_LONG = ("--output", "--adjoint", "--tape", "--program", "--json", "--help")
_OPTIONS = "-o/--output FILE, --adjoint, --tape, --program, --json, -h/--help"


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
            f"functions: {', '.join(takes(n) for n in FUNCTIONS)}\n"
            "(slope, lo and hi are numbers)\n"
            "an expression may start with '-' ('-x*2'); one that starts with -h or -o goes "
            "after '--'\n"
            "exit status: 0 ok, 1 the maths failed or a file could not be written, "
            "2 bad command line or expression, 3 the installed autograd package is not adjointgrad's"
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
    p.add_argument("--program", action="store_true", help="print the adjoint program (autograd.compile)")
    p.add_argument("--json", action="store_true", help="print the value and gradients as JSON")
    return p


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
                hint = did_you_mean(item, _LONG)
                raise ExpressionError(
                    f"unknown option {item!r:.60}{': ' + hint if hint else ''} (the options are {_OPTIONS})"
                )
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


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 or 2) instead of exiting."""
    out_stream = stdout if stdout is not None else sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    want_json = "--json" in (argv[: argv.index("--")] if "--" in argv else argv)
    try:
        args = _parser().parse_intermixed_args(_protect_expressions(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code
        status = code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
        if status and want_json:
            print_json(None, None, out_stream, "bad command line (see the message on stderr)")
        return status

    expr: str = _unprotect(args.expression)
    try:
        output = check_output(args.output, args.adjoint)
        values = _parse_values([_unprotect(v) for v in args.values])
        tree = parse_expression(expr, list(values))
        variables = {name: Value(x, label=name) for name, x in values.items()}
        result, made = evaluate(tree, variables, expr)
        out, grads = differentiate(result, variables, made)
    except ExpressionError as err:
        text = format_error(expr, err)
        if err.message.startswith("unknown name") and expr.startswith("--"):
            text += f"\n(an expression starting with '--' is not an option; the options are {_OPTIONS})"
        print(f"{PROG}: error: {text}", file=sys.stderr)
        if args.json:  # stdout stays valid JSON
            print_json(None, None, out_stream, err.message)
        return err.status

    print_result(out, grads, out_stream, as_json=args.json, tape=args.tape, program=args.program)
    if output is not None:
        try:
            print(write_output(out, output, args.adjoint), file=sys.stderr)
        except ExpressionError as err:
            print(f"{PROG}: error: {err.message}", file=sys.stderr)
            return err.status
    return EXIT_OK
