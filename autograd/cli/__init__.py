"""``python -m autograd``: evaluate an expression, differentiate it, print or draw its graph.

    python -m autograd "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432

prints the value and d value / d variable for every variable given, then (optionally) writes
the forward graph (``-o graph.svg``, ``.png``, ``.gv``), the adjoint graph (``--adjoint``), the
backprop stepper (``-o steps.html``) or prints the text tape (``--tape``).

The files, each building only on those before it:

- `errors`: `ExpressionError`, where in the expression a problem is, the caret under it, and
  "did you mean" by edit distance;
- `flat_parser`: a parser without recursion, for long flat sums Python's own parser gives up on;
- `grammar`: the allow-list (`FUNCTIONS`, `SIGNATURES`, the operators) and `parse_expression`,
  which checks the `ast` tree against it before anything is computed;
- `evaluation`: the checked tree walked with the engine's own operations (Python never runs any
  of the text), then backward, with domain errors, overflows and infinite gradients named;
- `output`: the value and gradients as text or strict JSON, the tape, the program, the files;
- `command`: the options and ``NAME=NUMBER`` values, and `main`.

Exit status: 0 success; 1 the maths failed (a domain error such as log of a negative number,
division by zero, an overflow to inf or nan) or the file could not be written; 2 the command
line or the expression is not acceptable (syntax, unknown names, missing values, disallowed
constructs). ``python -m autograd`` (`autograd.__main__`) exits with 3 before any of this if the
`autograd` package Python imported is not adjointgrad's (the unrelated HIPS autograd).
"""

from .command import main
from .errors import WINDOW, ExpressionError, format_error
from .evaluation import evaluate
from .flat_parser import parse_flat
from .grammar import FUNCTIONS, MAX_DEPTH, MAX_EXPR_CHARS, SIGNATURES, parse_expression

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPR_CHARS",
    "SIGNATURES",
    "WINDOW",
    "ExpressionError",
    "evaluate",
    "format_error",
    "main",
    "parse_expression",
    "parse_flat",
]
