"""What the article demos share: the command line, the optional matplotlib, small list maths.

Every article demo is ``python -m demos.<name> [--quick] [--out DIR]``; it prints its numbers
first and then, if matplotlib is installed, writes its PNG plots into ``--out`` (default
``out/<name>/``). Without matplotlib it prints the numbers, says which pip command installs it,
and writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

R = TypeVar("R")

DEMO_EXTRAS = "pip install -e '.[demo]'  (or: pip install matplotlib)"

Matrix = list[list[float]]
Vector = list[float]
Weights = list[list[list[float]]]  # W[layer][neuron][input]
Biases = list[list[float]]  # b[layer][neuron]


def parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    """The shared options: ``--quick`` (a run of seconds) and ``--out`` (the plot folder)."""
    first = (doc or name).strip().splitlines()[0]
    p = argparse.ArgumentParser(prog=f"python -m demos.{name}", description=first)
    p.add_argument("--quick", action="store_true", help="small sizes: a run of a few seconds")
    p.add_argument("--out", type=Path, default=Path("out") / name,
                   help=f"folder for the plots (default out/{name}/)")
    return p


def pyplot(name: str) -> Any | None:
    """matplotlib.pyplot with the file-only Agg backend, or None (after saying how to get it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"plots skipped: demos.{name} draws them with matplotlib, which is not installed: "
              f"{DEMO_EXTRAS}")
        return None
    return plt


def main(
    name: str,
    doc: str | None,
    argv: Sequence[str] | None,
    run: Callable[[bool], R],
    report: Callable[[R], None],
    plot: Callable[[R, Path, Any], None],
) -> R:
    """A demo's whole command: parse the options, compute, print, and plot if matplotlib is here."""
    args = parser(name, doc).parse_args(argv)
    r = run(args.quick)
    report(r)
    plt = pyplot(name)
    if plt is not None:
        plot(r, args.out, plt)
    return r


def save(fig: Any, path: Path, plt: Any) -> Path:
    """Write the figure as PNG (creating the folder), close it and say where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def matvec(W: Sequence[Sequence[float]], v: Sequence[float]) -> Vector:
    """W v for a matrix stored as a list of rows."""
    return [sum(w * x for w, x in zip(row, v)) for row in W]


def transpose(W: Sequence[Sequence[float]]) -> Matrix:
    return [list(col) for col in zip(*W)]


def solve(A: Sequence[Sequence[float]], b: Sequence[float]) -> Vector:
    """x with A x = b, by Gaussian elimination with partial pivoting (A square, nonsingular)."""
    n = len(A)
    M = [[*map(float, row), float(bi)] for row, bi in zip(A, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        if M[p][c] == 0.0:
            raise ValueError("solve: the matrix is singular")
        M[c], M[p] = M[p], M[c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            if f:
                for k in range(c, n + 1):
                    M[r][k] -= f * M[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (M[r][n] - sum(M[r][k] * x[k] for k in range(r + 1, n))) / M[r][r]
    return x


def max_abs_diff(a: Sequence[Any], b: Sequence[Any]) -> float:
    """The largest |a - b| over two equally nested lists of numbers."""
    if len(a) != len(b):
        raise ValueError(f"max_abs_diff: lengths differ ({len(a)} and {len(b)})")
    worst = 0.0
    for x, y in zip(a, b):
        if isinstance(x, (list, tuple)):
            worst = max(worst, max_abs_diff(x, y))
        else:
            worst = max(worst, abs(x - y))
    return worst


def eigenvalues(A: Sequence[Sequence[float]], sweeps: int = 100) -> Vector:
    """The eigenvalues of a symmetric matrix, ascending (cyclic Jacobi rotations)."""
    n = len(A)
    M = [list(map(float, row)) for row in A]
    for _ in range(sweeps):
        off = sum(M[i][j] ** 2 for i in range(n) for j in range(n) if i != j)
        if off < 1e-30 * max(1.0, sum(M[i][i] ** 2 for i in range(n))):
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if M[p][q] == 0.0:
                    continue
                theta = (M[q][q] - M[p][p]) / (2 * M[p][q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + (theta * theta + 1) ** 0.5)
                c = 1 / (t * t + 1) ** 0.5
                s = t * c
                for k in range(n):  # M <- M J (columns p, q)
                    mkp, mkq = M[k][p], M[k][q]
                    M[k][p], M[k][q] = c * mkp - s * mkq, s * mkp + c * mkq
                for k in range(n):  # M <- J^T M (rows p, q)
                    mpk, mqk = M[p][k], M[q][k]
                    M[p][k], M[q][k] = c * mpk - s * mqk, s * mpk + c * mqk
    return sorted(M[i][i] for i in range(n))


def weights(layers: Sequence[Any]) -> tuple[Weights, Biases]:
    """The numbers of an `nn` network's layers (each neuron's ``w`` and ``b``), as plain lists."""
    return ([[[w.data for w in n.w] for n in layer.neurons] for layer in layers],
            [[n.b.data for n in layer.neurons] for layer in layers])


def as_batch(rows: Sequence[Any]) -> Any:
    """Examples for ``Program.batch``: a numpy array when numpy is installed, else the list."""
    try:
        import numpy as np
    except ImportError:
        return [list(r) if isinstance(r, (list, tuple)) else r for r in rows]
    return np.array(rows, dtype=float)
