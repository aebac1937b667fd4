"""A Jacobian by n forward passes or by m reverse passes: ``python -m demos.forward_vs_reverse``.

Backpropagation is reverse accumulation (article: "Adjoint graph", and the Overview: "reverse
mode of automatic differentiation"). The m x n Jacobian of f: R^n -> R^m can be built column by
column with forward accumulation (one pass of dual numbers per input, ``autograd.jvp``) or row by
row with reverse accumulation (one reverse sweep per output, ``autograd.grad``);
``autograd.jacobian(f, x, mode="forward" | "reverse")`` does either. The function here is a body
of three layers of H = 16 tanh units shared by all outputs and a linear read-out,
f(x) = B tanh(A3 tanh(A2 tanh(A1 x))), with fixed random matrices (A1 is H x n, B is m x H).

The demo checks that both modes give the same Jacobian, and the same as the chain rule written
out with plain floats, then, as n and m vary, counts the chain-rule multiplications (one per
edge of the graph a pass walks: forward mode walks the whole graph once per input, reverse mode
walks one output's part of it once per output) and times both modes (best of 3; the machine's
load moves these times). Forward mode's cost grows with n and reverse mode's with m, and the
counts cross near n = m: with one output (a loss) and many inputs (the weights), reverse mode,
backpropagation, is the cheap one. Plot: ``crossover.png``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
from autograd import Value

from . import _article
from ._article import Matrix, Vector, max_abs_diff, save

HIDDEN = 16


DEPTH = 3


def problem(n: int, m: int, seed: int = 0) -> tuple[list[Matrix], Matrix, Vector]:
    """The body's matrices A1 (H x n), A2, A3 (H x H), the read-out B (m x H) and a point x."""
    rng = random.Random(seed)
    As = [[[rng.gauss(0.0, 1.0 / math.sqrt(k)) for _ in range(k)] for _ in range(HIDDEN)]
          for k in [n] + [HIDDEN] * (DEPTH - 1)]
    B = [[rng.gauss(0.0, 1.0 / math.sqrt(HIDDEN)) for _ in range(HIDDEN)] for _ in range(m)]
    x = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    return As, B, x


def make_f(As: list[Matrix], B: Matrix) -> Callable[..., list[Any]]:
    """f(x_1, ..., x_n) = B tanh(A3 tanh(A2 tanh(A1 x))), written once for Values and for
    forward mode's dual numbers."""
    def f(*x: Any) -> list[Any]:
        h: Sequence[Any] = x
        for A in As:
            h = [autograd.dot(row, h).tanh() for row in A]
        return [autograd.dot(row, h) for row in B]
    return f


def edges(nodes: Sequence[Value]) -> int:
    """Edges (argument slots) of the graph that reaches `nodes`: one multiplication each."""
    seen: set[int] = set()
    total = 0
    for root in nodes:
        for v in autograd.toposort(root):
            if id(v) not in seen:
                seen.add(id(v))
                total += len(v._prev)
    return total


def counts(A: list[Matrix], B: Matrix, x: Vector) -> tuple[int, int]:
    """Multiplications of forward mode (n passes over the whole graph) and of reverse mode (one
    sweep over each output's part of the graph, per output)."""
    outs = make_f(A, B)(*[Value(v) for v in x])
    return len(x) * edges(outs), sum(edges([o]) for o in outs)


def best_time(fn: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@dataclass
class Point:
    n: int
    m: int
    forward_mults: int
    reverse_mults: int
    forward_s: float
    reverse_s: float


@dataclass
class Result:
    check_n: int
    check_m: int
    max_diff_modes: float
    max_diff_formula: float
    vary_m: list[Point] = field(default_factory=list)  # n fixed
    vary_n: list[Point] = field(default_factory=list)  # m fixed
    fixed: int = 0


def chain_rule(As: list[Matrix], B: Matrix, x: Vector) -> Matrix:
    """B D3 A3 D2 A2 D1 A1 with D_l = diag(1 - tanh^2(z_l)), multiplied out with plain floats."""
    J = [[1.0 if i == j else 0.0 for j in range(len(x))] for i in range(len(x))]  # dh/dx, h = x
    h = list(x)
    for A in As:
        z = [sum(a * v for a, v in zip(row, h)) for row in A]
        h = [math.tanh(v) for v in z]
        J = [[(1.0 - hi * hi) * sum(row[k] * J[k][j] for k in range(len(row))) for j in range(len(x))]
             for row, hi in zip(A, h)]
    return [[sum(b[k] * J[k][j] for k in range(len(b))) for j in range(len(x))] for b in B]


def measure(n: int, m: int, repeats: int) -> Point:
    A, B, x = problem(n, m)
    f = make_f(A, B)
    fm, rm = counts(A, B, x)
    tf = best_time(lambda: autograd.jacobian(f, x, mode="forward"), repeats)
    tr = best_time(lambda: autograd.jacobian(f, x, mode="reverse"), repeats)
    return Point(n, m, fm, rm, tf, tr)


def run(quick: bool = False) -> Result:
    A, B, x = problem(5, 3)
    f = make_f(A, B)
    Jf = autograd.jacobian(f, x, mode="forward")
    Jr = autograd.jacobian(f, x, mode="reverse")
    r = Result(5, 3, max_abs_diff(Jf, Jr), max_abs_diff(Jr, chain_rule(A, B, x)))
    sizes = (1, 2, 4, 8, 16, 32) if quick else (1, 2, 4, 8, 16, 32, 64)
    r.fixed = 8 if quick else 16
    repeats = 1 if quick else 3
    r.vary_m = [measure(r.fixed, m, repeats) for m in sizes]
    r.vary_n = [measure(n, r.fixed, repeats) for n in sizes]
    return r


def report(r: Result) -> None:
    print(f"f(x) = B tanh(A3 tanh(A2 tanh(A1 x))), {DEPTH} x {HIDDEN} tanh units; at n = "
          f"{r.check_n}, m = {r.check_m}: |J(forward) - J(reverse)| <= {r.max_diff_modes:.1e}, "
          f"|J(reverse) - chain rule by hand| <= {r.max_diff_formula:.1e}")
    for title, pts in ((f"n = {r.fixed} inputs, m outputs varying", r.vary_m),
                       (f"m = {r.fixed} outputs, n inputs varying", r.vary_n)):
        print(f"{title}:")
        print("     n     m | multiplications: forward  reverse | time: forward    reverse   | faster")
        for p in pts:
            faster = "forward" if p.forward_s < p.reverse_s else "reverse"
            print(f"  {p.n:4d}  {p.m:4d} | {p.forward_mults:24d} {p.reverse_mults:8d} | "
                  f"{1e3 * p.forward_s:9.2f} ms {1e3 * p.reverse_s:8.2f} ms | {faster}")
        cross = next((p for p in pts if (p.forward_mults < p.reverse_mults) != (pts[0].forward_mults
                                                                          < pts[0].reverse_mults)), None)
        if cross is not None:
            print(f"  the multiplication counts cross between {'m' if pts is r.vary_m else 'n'} = "
                  f"{pts[pts.index(cross) - 1].m if pts is r.vary_m else pts[pts.index(cross) - 1].n}"
                  f" and {cross.m if pts is r.vary_m else cross.n} (n = m = {r.fixed})")
    print("forward mode costs about n passes and reverse mode about m: for a loss (m = 1) and many "
          "weights (large n), reverse mode, i.e. backpropagation")


def plot(r: Result, out: Path, plt: Any) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for col, (pts, var, fixed) in enumerate(((r.vary_m, "m", f"n = {r.fixed}"),
                                             (r.vary_n, "n", f"m = {r.fixed}"))):
        xs = [p.m if var == "m" else p.n for p in pts]
        for row, (fwd, rev, ylabel) in enumerate((
            ([p.forward_mults for p in pts], [p.reverse_mults for p in pts],
             "chain-rule multiplications"),
            ([1e3 * p.forward_s for p in pts], [1e3 * p.reverse_s for p in pts],
             "time for the whole Jacobian (ms)"),
        )):
            ax = axes[row][col]
            ax.plot(xs, fwd, "s-", color="#c0392b", label="forward mode: one pass per input")
            ax.plot(xs, rev, "o-", color="#2952a3", label="reverse mode: one sweep per output")
            ax.axvline(r.fixed, color="k", ls=":", lw=1, label=f"{var} = {r.fixed}: n = m")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(f"{'outputs m' if var == 'm' else 'inputs n'} ({fixed})")
            ax.set_ylabel(ylabel)
            ax.set_title(rf"Jacobian of $f: \mathbb{{R}}^n \to \mathbb{{R}}^m$, {fixed}, {var} varying",
                         fontsize=10)
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)
    save(fig, out / "crossover.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("forward_vs_reverse", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
