"""Second-order backpropagation, then Levenberg-Marquardt: ``python -m demos.second_order``.

Reproduces the article's section "Second-order gradient descent". In its notation, layer l has
pre-activations x^(l), activations a^(l) = f(x^(l)) and x^(l+1)_i = sum_j W_ij a^(l)_j. First-
and second-order backpropagation state

    dL/da^(l)_j = sum_i W_ij dL/dx^(l+1)_i,         dL/dx^(l)_j = f'(x^(l)_j) dL/da^(l)_j,
    d2L/da^(l)_j1 da^(l)_j2 = sum_(i1,i2) W_i1j1 W_i2j2 d2L/dx^(l+1)_i1 dx^(l+1)_i2,
    d2L/dx^(l)_j1 dx^(l)_j2 = f'(x_j1) f'(x_j2) d2L/da_j1 da_j2 + [j1 = j2] f''(x_j1) dL/da_j1.

(The article writes the sum in the third line over j1 j2; the free indices are j1, j2 and the sum
runs over i1, i2.) For a 3-4-3-2 tanh network with L = 1/2 ||a^(4) - y||^2 the demo runs this
recursion with plain floats from the output down and compares each d2L/dx^(l) dx^(l) with the
engine's Hessian (``autograd.hessian``: the gradient of the gradient, ``autograd.grad(...,
create_graph=True)`` twice) with x^(l) as the inputs: they agree to 1e-10.

Then it fits the curve y = c0 exp(-c1 t) + c2 to 20 noisy points by Levenberg-Marquardt (solve
(J^T J + lambda I) d = -J^T r in plain Python, J by ``autograd.jacobian``) and by
gradient descent (best of several learning rates), and counts the iterations each needs to reach
1.01 times the least loss found (plot ``fit_loss.png`` and ``fit_curve.png``).
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
from ._article import Matrix, Vector, max_abs_diff, save, solve

SIZES = (3, 4, 3, 2)  # the sizes of x^(1), ..., x^(4); the output is a^(4) = tanh(x^(4))
Ws = list[Matrix]


def network(seed: int = 0) -> tuple[Ws, Vector, Vector]:
    """W^(1), W^(2), W^(3) (W^(l) maps a^(l) to x^(l+1)), the point x^(1) and the target y."""
    rng = random.Random(seed)
    W = [[[rng.uniform(-1.2, 1.2) for _ in range(SIZES[m])] for _ in range(SIZES[m + 1])]
         for m in range(len(SIZES) - 1)]
    x1 = [rng.uniform(-1.0, 1.0) for _ in range(SIZES[0])]
    y = [rng.uniform(-0.5, 0.5) for _ in range(SIZES[-1])]
    return W, x1, y


def forward_floats(W: Ws, x1: Vector) -> list[Vector]:
    """x^(1), x^(2), ..., x^(L): the pre-activations of each layer (L = len(W) + 1)."""
    xs = [list(x1)]
    for Wm in W:
        a = [math.tanh(v) for v in xs[-1]]
        xs.append([sum(w * aj for w, aj in zip(row, a)) for row in Wm])
    return xs


def recursion(W: Ws, x1: Vector, y: Vector) -> list[Matrix]:
    """d2L/dx^(l) dx^(l) for l = 1..L by second-order backpropagation (index l - 1)."""
    xs = forward_floats(W, x1)
    L = len(xs)
    a_L = [math.tanh(v) for v in xs[-1]]
    dL_da = [p - t for p, t in zip(a_L, y)]  # L = 1/2 ||a^(L) - y||^2
    H_a = [[1.0 if i == j else 0.0 for j in range(len(y))] for i in range(len(y))]
    H_x: list[Matrix] = [[] for _ in range(L)]
    for li in range(L - 1, -1, -1):
        a = [math.tanh(v) for v in xs[li]]
        f1 = [1 - ai * ai for ai in a]  # tanh' = 1 - tanh^2
        f2 = [-2 * ai * (1 - ai * ai) for ai in a]  # tanh'' = -2 tanh (1 - tanh^2)
        n = len(a)
        H_x[li] = [[f1[j1] * f1[j2] * H_a[j1][j2] + (f2[j1] * dL_da[j1] if j1 == j2 else 0.0)
                   for j2 in range(n)] for j1 in range(n)]
        if li == 0:
            break
        dL_dx = [f1[j] * dL_da[j] for j in range(n)]
        Wm = W[li - 1]  # maps a^(l-1) to x^(l)
        m = len(Wm[0])
        dL_da = [sum(Wm[i][j] * dL_dx[i] for i in range(n)) for j in range(m)]
        H_a = [[sum(Wm[i1][j1] * Wm[i2][j2] * H_x[li][i1][i2] for i1 in range(n) for i2 in range(n))
                for j2 in range(m)] for j1 in range(m)]
    return H_x


def engine_hessian(W: Ws, x1: Vector, y: Vector, layer: int) -> Matrix:
    """d2L/dx^(layer) dx^(layer) by the engine: `autograd.hessian` (the gradient of the gradient,
    reverse mode over reverse mode) of L as a function of x^(layer)."""
    xs = forward_floats(W, x1)

    def loss(*x: Value) -> Value:
        h: list[Value] = list(x)
        for Wm in W[layer - 1:]:
            a = [v.tanh() for v in h]
            h = [autograd.dot(row, a) for row in Wm]
        return 0.5 * autograd.sum([(v.tanh() - t) ** 2 for v, t in zip(h, y)])

    return autograd.hessian(loss, xs[layer - 1])


# --- curve fitting: Levenberg-Marquardt against gradient descent ---------------------------

TRUE = (2.0, 1.3, 0.5)
START = (1.0, 0.3, 0.0)


def fit_data(seed: int = 0, n: int = 20) -> tuple[Vector, Vector]:
    rng = random.Random(seed)
    ts = [4.0 * k / (n - 1) for k in range(n)]
    ys = [TRUE[0] * math.exp(-TRUE[1] * t) + TRUE[2] + rng.gauss(0.0, 0.03) for t in ts]
    return ts, ys


def residuals(c: Sequence[Value], ts: Vector, ys: Vector) -> list[Value]:
    """r_k = c0 exp(-c1 t_k) + c2 - y_k."""
    return [c[0] * (-c[1] * t).exp() + c[2] - y for t, y in zip(ts, ys)]


def loss_and_jacobian(c: Vector, ts: Vector, ys: Vector) -> tuple[float, Vector, Matrix]:
    """1/2 sum r_k^2, the residuals r and their Jacobian J (`autograd.jacobian`, reverse mode:
    one reverse sweep per residual)."""
    J = autograd.jacobian(lambda *cv: residuals(cv, ts, ys), c, mode="reverse")
    with autograd.no_grad():
        rs = [rk.data for rk in residuals([Value(v) for v in c], ts, ys)]
    return 0.5 * sum(v * v for v in rs), rs, J


def loss_only(c: Vector, ts: Vector, ys: Vector) -> float:
    with autograd.no_grad():
        return 0.5 * sum(v.data ** 2 for v in residuals([Value(x) for x in c], ts, ys))


def levenberg_marquardt(ts: Vector, ys: Vector, iters: int,
                        lam: float = 1e-2) -> tuple[list[float], Vector, list[float]]:
    """Loss after each iteration (index 0: the start), the final c, and lambda per iteration."""
    c = list(START)
    loss, r, J = loss_and_jacobian(c, ts, ys)
    losses, lams = [loss], [lam]
    P = len(c)
    for _ in range(iters):
        JtJ = [[sum(J[k][i] * J[k][j] for k in range(len(J))) for j in range(P)] for i in range(P)]
        Jtr = [sum(J[k][i] * r[k] for k in range(len(J))) for i in range(P)]
        while True:  # raise lambda until the step lowers the loss
            A = [[JtJ[i][j] + (lam if i == j else 0.0) for j in range(P)] for i in range(P)]
            d = solve(A, [-g for g in Jtr])
            trial = [ci + di for ci, di in zip(c, d)]
            new = loss_only(trial, ts, ys)
            if new < loss or lam > 1e12:
                break
            lam *= 10.0
        if new < loss:
            c, lam = trial, lam / 10.0
            loss, r, J = loss_and_jacobian(c, ts, ys)
        losses.append(loss)
        lams.append(lam)
    return losses, c, lams


def gradient_descent(ts: Vector, ys: Vector, iters: int, eta: float) -> tuple[list[float], Vector]:
    c = list(START)
    losses = []
    for _ in range(iters + 1):
        cv = [Value(v) for v in c]
        loss = 0.5 * autograd.sum([rk * rk for rk in residuals(cv, ts, ys)])
        loss.backward()
        losses.append(loss.data)
        if not math.isfinite(loss.data) or loss.data > 1e6 * losses[0]:
            break  # diverged
        c = [v.data - eta * v.grad for v in cv]
    return losses, c


def first_reaching(losses: Sequence[float], target: float) -> int | None:
    return next((k for k, v in enumerate(losses) if v <= target), None)


@dataclass
class Result:
    H_recursion: list[Matrix]
    H_engine: list[Matrix]
    max_diff: float
    ts: Vector
    ys: Vector
    lm_losses: list[float]
    lm_c: Vector
    target: float
    gd: dict[float, list[float]] = field(default_factory=dict)  # eta -> losses
    gd_c: dict[float, Vector] = field(default_factory=dict)
    lm_iters: int | None = None
    gd_iters: dict[float, int | None] = field(default_factory=dict)

    @property
    def best_eta(self) -> float:
        def key(eta: float) -> tuple[float, float]:
            k = self.gd_iters[eta]
            return (math.inf if k is None else k, self.gd[eta][-1])
        return min(self.gd, key=key)


def run(seed: int = 0, quick: bool = False) -> Result:
    W, x1, y = network(seed)
    Hr = recursion(W, x1, y)
    He = [engine_hessian(W, x1, y, k) for k in range(1, len(SIZES) + 1)]
    ts, ys = fit_data(seed)
    lm_losses, lm_c, _ = levenberg_marquardt(ts, ys, 15 if quick else 30)
    target = 1.01 * lm_losses[-1]
    r = Result(Hr, He, max(max_abs_diff(a, b) for a, b in zip(Hr, He)), ts, ys, lm_losses, lm_c,
               target)
    r.lm_iters = first_reaching(lm_losses, target)
    gd_iters = 400 if quick else 5000
    for eta in ((0.02, 0.05) if quick else (0.01, 0.02, 0.05, 0.08, 0.1)):
        r.gd[eta], r.gd_c[eta] = gradient_descent(ts, ys, gd_iters, eta)
        r.gd_iters[eta] = first_reaching(r.gd[eta], target)
    return r


def _fmt_matrix(M: Matrix) -> str:
    return "\n".join("      [" + ", ".join(f"{v:+.8f}" for v in row) + "]" for row in M)


def report(r: Result) -> None:
    print(f"tanh network {'-'.join(map(str, SIZES))}, L = 1/2 ||a^(4) - y||^2; second-order "
          "backpropagation against the engine's grad of grad:")
    for k in range(len(r.H_recursion), 0, -1):
        d = max_abs_diff(r.H_recursion[k - 1], r.H_engine[k - 1])
        print(f"  d2L/dx^({k}) dx^({k}) ({len(r.H_engine[k - 1])}x{len(r.H_engine[k - 1])}): "
              f"largest difference {d:.1e}")
    print("  d2L/dx^(1) dx^(1) by the recursion:")
    print(_fmt_matrix(r.H_recursion[0]))
    print(f"largest difference over all layers: {r.max_diff:.1e}")
    print(f"curve fit y = c0 exp(-c1 t) + c2 to {len(r.ts)} points from c = {TRUE} plus noise, "
          f"start c = {START}:")
    print(f"  Levenberg-Marquardt: loss 1/2 sum r^2 = {r.lm_losses[-1]:.6g} at c = "
          f"({', '.join(f'{v:.4f}' for v in r.lm_c)}); target 1.01 x that = {r.target:.6g}")
    print(f"  Levenberg-Marquardt reaches the target after {r.lm_iters} iterations")
    for eta, losses in r.gd.items():
        reached = r.gd_iters[eta]
        if not math.isfinite(losses[-1]) or losses[-1] > losses[0]:
            print(f"  gradient descent, eta = {eta}: diverges (loss {losses[-1]:.3g} after "
                  f"{len(losses) - 1} iterations)")
            continue
        what = (f"after {reached} iterations" if reached is not None
                else f"not within {len(losses) - 1} iterations")
        print(f"  gradient descent, eta = {eta}: reaches the target {what} (loss then "
              f"{losses[reached if reached is not None else -1]:.6g})")


def plot(r: Result, out: Path, plt: Any) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(range(len(r.lm_losses)), r.lm_losses, "o-", ms=4, color="#c0392b",
            label="Levenberg-Marquardt")
    colors = ["#b4c6e7", "#7f9ed6", "#4a72c2", "#2952a3", "#0d2a66"]
    for (eta, losses), color in zip(r.gd.items(), colors):
        finite = [v for v in losses if math.isfinite(v)]
        ax.plot(range(len(finite)), finite, color=color, label=f"gradient descent, eta = {eta}")
    ax.axhline(r.target, color="k", ls=":", lw=1, label="target: 1.01 x least loss")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(0, max(len(v) for v in r.gd.values()))
    ax.set_yscale("log")
    ax.set_ylim(top=1e3)
    ax.set_xlabel("iteration (linear up to 1, then logarithmic)")
    ax.set_ylabel("loss 1/2 sum of r$_k^2$")
    ax.set_title("Fitting c0 exp(-c1 t) + c2: iterations to the same loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    save(fig, out / "fit_loss.png", plt)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(r.ts, r.ys, "o", color="k", ms=4, label="data")
    grid = [4.0 * k / 200 for k in range(201)]
    eta = r.best_eta
    for c, label, style in ((r.lm_c, f"Levenberg-Marquardt, {len(r.lm_losses) - 1} iterations", "-"),
                            (r.gd_c[eta], f"gradient descent, eta = {eta}, {len(r.gd[eta]) - 1} "
                             "iterations", "--"),
                            (list(START), "start", ":")):
        ax.plot(grid, [c[0] * math.exp(-c[1] * t) + c[2] for t in grid], style, label=label)
    ax.set_xlabel("t")
    ax.set_ylabel("y")
    ax.set_title("The fitted curves y = c0 exp(-c1 t) + c2")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, out / "fit_curve.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("second_order", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
