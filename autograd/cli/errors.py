"""What the command line says when something is wrong.

An `ExpressionError` carries its message, the exit status, and where in the expression the
problem is (a `Span`); `format_error` shows the expression's line with ``^^^`` under that part,
and `did_you_mean` offers the nearest known names by edit distance.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

EXIT_OK = 0
EXIT_MATH = 1  # the maths failed, or a file could not be written
EXIT_USAGE = 2  # the command line or the expression is not acceptable
PROG = "python -m autograd"
WINDOW = 76  # an error shows at most this many characters of the expression's line

Span = tuple[int, int, int]  # line (1-based), first column, end column (0-based, in characters)


class ExpressionError(Exception):
    """The expression is not acceptable (`status` 2) or cannot be computed (`status` 1)."""

    def __init__(self, message: str, span: Span | None = None, status: int = EXIT_USAGE):
        super().__init__(message)
        self.message = message
        self.span = span
        self.status = status


def _char_col(line: str, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; turn one into a character index."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def span(node: ast.AST, lines: list[str]) -> Span:
    """Where `node` is written in the expression's `lines`."""
    lineno = getattr(node, "lineno", 1)
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    start = _char_col(line, getattr(node, "col_offset", 0))
    end_byte = getattr(node, "end_col_offset", None)
    if getattr(node, "end_lineno", lineno) != lineno or end_byte is None:
        end = len(line)
    else:
        end = _char_col(line, end_byte)
    return (lineno, start, max(end, start + 1))


def node_span(node: ast.AST, lines: list[str]) -> Span:
    """Where a node is blamed: the operator of ``left OP right``, else the whole node."""
    if not isinstance(node, ast.BinOp):
        return span(node, lines)
    left, right = span(node.left, lines), span(node.right, lines)
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
    return span(node, lines)


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


def edit_distance(a: str, b: str) -> int:
    """The optimal string alignment distance: the fewest insertions, deletions, substitutions
    and swaps of two neighbouring characters that turn `a` into `b` (``tahn`` -> ``tanh`` is 1)."""
    row2: list[int] = []  # the row before the previous one, for swaps
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        new = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            new[j] = min(row[j] + 1, new[j - 1] + 1, row[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                new[j] = min(new[j], row2[j - 2] + 1)
        row2, row = row, new
    return row[-1]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``did you mean 'tanh'?``: the candidate nearest to `name` by `edit_distance`, or the two
    nearest when they tie (``did you mean 'tanh' or 'tan'?``); "" when none is near.

    Near means at most one edit in three characters, and fewer edits than `name` has characters
    (``q`` is not near ``x``); among equally near candidates, one of the same length comes first."""
    if len(name) > 40:
        return ""
    most = min(max(1, len(name) // 3), len(name) - 1)
    near = sorted(
        (d, abs(len(c) - len(name)), i, c)
        for i, c in enumerate(candidates)
        if abs(len(c) - len(name)) <= most and (d := edit_distance(name, c)) <= most
    )
    best = [c for d, *_, c in near if d == near[0][0]][:2] if near else []
    return f"did you mean {' or '.join(repr(c) for c in best)}?" if best else ""
