"""Backpropagation as matrix products, checked against the engine: ``python -m demos.matrix_form``.

Reproduces the article's section "Matrix multiplication" (notation of its "Overview"). For a
3-layer network without biases, g(x) = f^3(W^3 f^2(W^2 f^1(W^1 x))), with tanh in layers 1 and
2, the logistic function in layer 3 and the loss C = 1/2 ||a^3 - y||^2, it computes with plain
Python lists

    delta^L     = (f^L)'(z^L) o grad_{a^L} C,
    delta^(l-1) = (f^(l-1))'(z^(l-1)) o (W^l)^T delta^l,
    grad_{W^l} C = delta^l (a^(l-1))^T,          grad_x C = (W^1)^T delta^1,

and prints the largest difference from the engine's ``.grad`` of every weight and input (it is
below 1e-12).

Then it counts the multiplications of the two orders of evaluating the chain product for
grad_x C: the backward order of backpropagation (right to left: a vector times a matrix at each
layer) and the naive forward order (left to right: the Jacobian matrix of each layer times the
product so far, a matrix times a matrix), as the depth and the width grow; both orders give the
same grad_x C. Plot: ``multiplications.png``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
from autograd import Value

from . import _article
from ._article import Matrix, Vector, max_abs_diff, save

SIZES = (4, 5, 3, 2)  # n_0 (inputs), n_1, n_2, n_3 (outputs): three weight matrices
ACTIVATIONS = ("tanh", "tanh", "sigmoid")  # f^1, f^2, f^3


def f(name: str, z: float) -> float:
    return math.tanh(z) if name == "tanh" else 1.0 / (1.0 + math.exp(-z))


def f_prime_from_a(name: str, a: float) -> float:
    """(f^l)' at z^l, written with the cached activation a^l = f^l(z^l)."""
    return 1.0 - a * a if name == "tanh" else a * (1.0 - a)


def random_network(sizes: Sequence[int], seed: int) -> tuple[list[Matrix], Vector, Vector]:
    """Weights W^1..W^L (W^l has n_l rows and n_(l-1) columns), an input x and a target y."""
    rng = random.Random(seed)
    Ws = [[[rng.uniform(-1.0, 1.0) for _ in range(sizes[li - 1])] for _ in range(sizes[li])]
          for li in range(1, len(sizes))]
    x = [rng.uniform(-1.0, 1.0) for _ in range(sizes[0])]
    y = [rng.uniform(0.0, 1.0) for _ in range(sizes[-1])]
    return Ws, x, y


@dataclass
class Formulas:
    """The article's quantities, layer by layer (index l = 1..L; index 0 of z/delta unused)."""

    a: list[Vector]  # a^0 = x, a^1, ..., a^L
    delta: list[Vector]  # delta^1 .. delta^L at indices 1..L
    grad_W: list[Matrix]  # grad_{W^l} C at index l - 1
    grad_x: Vector
    loss: float


def by_the_formulas(Ws: Sequence[Matrix], x: Vector, y: Vector,
                    acts: Sequence[str] = ACTIVATIONS) -> Formulas:
    """Forward pass caching a^l, then the delta recursion, with plain floats."""
    a: list[Vector] = [list(x)]
    for W, name in zip(Ws, acts):
        z = [sum(w * ai for w, ai in zip(row, a[-1])) for row in W]
        a.append([f(name, zi) for zi in z])
    L = len(Ws)
    grad_aL = [ai - yi for ai, yi in zip(a[L], y)]  # C = 1/2 ||a^L - y||^2
    delta: list[Vector] = [[] for _ in range(L + 1)]
    delta[L] = [f_prime_from_a(acts[L - 1], ai) * g for ai, g in zip(a[L], grad_aL)]
    for li in range(L, 1, -1):  # delta^(l-1) = (f^(l-1))' o (W^l)^T delta^l
        back = [sum(Ws[li - 1][j][k] * delta[li][j] for j in range(len(delta[li])))
                for k in range(len(a[li - 1]))]
        delta[li - 1] = [f_prime_from_a(acts[li - 2], ak) * bk for ak, bk in zip(a[li - 1], back)]
    grad_W = [[[dj * ak for ak in a[li - 1]] for dj in delta[li]] for li in range(1, L + 1)]
    grad_x = [sum(Ws[0][j][k] * delta[1][j] for j in range(len(delta[1]))) for k in range(len(x))]
    loss = 0.5 * sum((ai - yi) ** 2 for ai, yi in zip(a[L], y))
    return Formulas(a, delta, grad_W, grad_x, loss)


@dataclass
class Engine:
    loss: float
    grad_W: list[Matrix]
    grad_x: Vector


def by_the_engine(Ws: Sequence[Matrix], x: Vector, y: Vector,
                  acts: Sequence[str] = ACTIVATIONS) -> Engine:
    """The same network built from Values; one ``backward()`` fills every ``.grad``."""
    Wv = [[[Value(w, label=f"W{li + 1}[{j}][{k}]") for k, w in enumerate(row)]
           for j, row in enumerate(W)] for li, W in enumerate(Ws)]
    xv = [Value(xi, label=f"x{k}") for k, xi in enumerate(x)]
    a: list[Value] = xv
    for W, name in zip(Wv, acts):
        z = [autograd.dot(row, a) for row in W]
        a = [zi.tanh() if name == "tanh" else zi.sigmoid() for zi in z]
    C = 0.5 * autograd.sum([(ai - yi) ** 2 for ai, yi in zip(a, y)])
    C.backward()
    return Engine(C.data, [[[w.grad for w in row] for row in W] for W in Wv], [v.grad for v in xv])


# --- the two orders of the chain product, with every multiplication counted --------------


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def mul(self, p: float, q: float) -> float:
        self.n += 1
        return p * q


def layer_derivatives(Ws: Sequence[Matrix], x: Vector, acts: Sequence[str]) -> list[Vector]:
    """(f^l)'(z^l) for l = 1..L (the forward pass caches these; not counted below)."""
    a, out = list(x), []
    for W, name in zip(Ws, acts):
        z = [sum(w * ai for w, ai in zip(row, a)) for row in W]
        a = [f(name, zi) for zi in z]
        out.append([f_prime_from_a(name, ai) for ai in a])
    return out


def backward_order(Ws: Sequence[Matrix], fp: Sequence[Vector], g: Vector) -> tuple[Vector, int]:
    """grad_x C = (W^1)^T (f^1)' o ... (W^L)^T (f^L)' o grad_{a^L}C, right to left."""
    c = Counter()
    v = list(g)
    for li in range(len(Ws) - 1, -1, -1):
        v = [c.mul(d, vi) for d, vi in zip(fp[li], v)]  # (f^l)' o v
        W = Ws[li]
        v = [sum(c.mul(W[j][k], v[j]) for j in range(len(W))) for k in range(len(W[0]))]
    return v, c.n


def forward_order(Ws: Sequence[Matrix], fp: Sequence[Vector], g: Vector) -> tuple[Vector, int]:
    """The same product left to right from the input: M = (f^l)' o W^l M, then M^T grad C."""
    c = Counter()
    M = [[c.mul(d, w) for w in row] for d, row in zip(fp[0], Ws[0])]  # (f^1)' o W^1
    for li in range(1, len(Ws)):
        W = Ws[li]
        WM = [[sum(c.mul(W[i][j], M[j][k]) for j in range(len(M))) for k in range(len(M[0]))]
              for i in range(len(W))]
        M = [[c.mul(d, e) for e in row] for d, row in zip(fp[li], WM)]
    n0 = len(M[0])
    return [sum(c.mul(M[i][k], g[i]) for i in range(len(g))) for k in range(n0)], c.n


def count_both(sizes: Sequence[int], seed: int = 0) -> tuple[int, int, float]:
    """Multiplications of each order for a network of these sizes, and how far apart the results are."""
    Ws, x, y = random_network(sizes, seed)
    acts = ["tanh"] * (len(sizes) - 2) + ["sigmoid"]
    fp = layer_derivatives(Ws, x, acts)
    g = [1.0 - yi for yi in y]  # any covector grad_{a^L} C will do for counting
    back, nb = backward_order(Ws, fp, g)
    fwd, nf = forward_order(Ws, fp, g)
    return nb, nf, max_abs_diff(back, fwd)


@dataclass
class Result:
    formulas: Formulas
    engine: Engine
    max_diff_W: float
    max_diff_x: float
    depth_sweep: list[tuple[int, int, int]] = field(default_factory=list)  # (L, backward, forward)
    width_sweep: list[tuple[int, int, int]] = field(default_factory=list)  # (n, backward, forward)
    width: int = 0
    depth: int = 0


def run(seed: int = 0, quick: bool = False) -> Result:
    Ws, x, y = random_network(SIZES, seed)
    fo = by_the_formulas(Ws, x, y)
    en = by_the_engine(Ws, x, y)
    r = Result(fo, en, max_abs_diff(fo.grad_W, en.grad_W), max_abs_diff(fo.grad_x, en.grad_x))
    r.width, r.depth = (8, 3) if quick else (16, 3)
    depths = range(1, 7) if quick else range(1, 13)
    widths = (2, 4, 8, 16) if quick else (2, 4, 8, 16, 32, 64)
    for L in depths:
        nb, nf, diff = count_both([r.width] * (L + 1), seed)
        assert diff < 1e-9, diff
        r.depth_sweep.append((L, nb, nf))
    for n in widths:
        nb, nf, diff = count_both([n] * (r.depth + 1), seed)
        assert diff < 1e-9, diff
        r.width_sweep.append((n, nb, nf))
    return r


def report(r: Result) -> None:
    L = len(SIZES) - 1
    print(f"network {'-'.join(map(str, SIZES))}: f^1 = f^2 = tanh, f^3 = logistic, "
          f"C = 1/2 ||a^3 - y||^2 = {r.formulas.loss:.12f} (engine {r.engine.loss:.12f})")
    for li in range(L, 0, -1):
        print(f"  delta^{li} = [" + ", ".join(f"{d:+.6f}" for d in r.formulas.delta[li]) + "]")
    print("  grad_x C = (W^1)^T delta^1 = [" + ", ".join(f"{g:+.6f}" for g in r.formulas.grad_x) + "]")
    print("  grad_{W^3} C = delta^3 (a^2)^T =")
    for row in r.formulas.grad_W[L - 1]:
        print("    [" + ", ".join(f"{g:+.6f}" for g in row) + "]")
    print(f"largest |formula - engine .grad| over all {sum(len(W) * len(W[0]) for W in r.engine.grad_W)} "
          f"weights: {r.max_diff_W:.1e}; over the {len(r.engine.grad_x)} inputs: {r.max_diff_x:.1e}")
    print(f"multiplications to evaluate grad_x C, width {r.width} (both orders give the same vector):")
    print("   depth L | backward order (vector x matrix) | forward order (matrix x matrix) | ratio")
    for L_, nb, nf in r.depth_sweep:
        print(f"   {L_:7d} | {nb:32d} | {nf:31d} | {nf / nb:5.1f}")
    print(f"and at depth {r.depth} as the width n grows:")
    print("   width n | backward order | forward order | ratio")
    for n, nb, nf in r.width_sweep:
        print(f"   {n:7d} | {nb:14d} | {nf:13d} | {nf / nb:5.1f}")


def plot(r: Result, out: Path, plt: Any) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, sweep, xlabel, fixed in (
        (ax1, r.depth_sweep, "depth L (number of weight matrices)", f"width n = {r.width}"),
        (ax2, r.width_sweep, "width n (units in every layer)", f"depth L = {r.depth}"),
    ):
        xs = [s[0] for s in sweep]
        ax.plot(xs, [s[1] for s in sweep], "o-", color="#2952a3",
                label="backward order: vector x matrix")
        ax.plot(xs, [s[2] for s in sweep], "s-", color="#c0392b",
                label="forward order: matrix x matrix")
        if ax is ax2:  # cubic against quadratic in n: log-log
            ax.set_yscale("log")
            ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(r"multiplications to evaluate $\nabla_x C$")
        ax.set_title(f"Cost of the chain product ({fixed})")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    save(fig, out / "multiplications.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("matrix_form", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
