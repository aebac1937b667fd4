"""A parser for the CLI's grammar that does not recurse: the way in for a long flat expression
(``x+x+...+x`` with thousands of terms) that the running Python's own parser cannot build.

`parse_flat` reads numbers, names, ``+ - * / **``, unary signs, parentheses and calls with an
operator stack (shunting-yard), and builds the very `ast` nodes, positions included, that
``ast.parse(expr, mode="eval")`` builds, so every later check and message works the same on
them. Anything else is refused with an `ExpressionError` that points at it.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
import unicodedata
from collections.abc import Iterator

from .errors import ExpressionError

__all__ = ["parse_flat"]

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


def parse_flat(expr: str, lines: list[str]) -> ast.Expression:
    """``ast.parse(expr, mode="eval")`` for the CLI's grammar, without recursion. Raises
    `ExpressionError` on anything else; `lines` is ``expr.split("\\n")``."""

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
