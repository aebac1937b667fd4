"""The error surface of one linear neuron, and gradient descent on it: ``python -m demos.error_surface``.

Reproduces the article's section "Learning as an optimization problem": the neuron
y = x1 w1 + x2 w2 with the squared error E = (t - y)^2.

1. On the training case (x1, x2, t) = (1, 1, 0), E as a function of the output y is the
   parabola E = y^2 (plot ``parabola.png``), and as a function of the weights it is
   E(w1, w2) = (w1 + w2)^2: a parabolic cylinder whose valley floor is the line w1 = -w2, so
   every point of that line is a minimum.
2. Gradient descent, w <- w - eta grad E with the gradient from the engine's ``backward()``,
   from several starts: each path moves along (1, 1) (the gradient is 2 (w1 + w2) (1, 1)), so
   w1 - w2 never changes and the path ends on the valley floor at the point of w1 = -w2
   nearest its start; the starts reach different minima (``surface_one_case.png``).
3. Adding the training case (0, 1, 1) makes E = (w1 + w2)^2 + (1 - w2)^2, whose minimum
   (w1, w2) = (-1, 1) is unique: every path ends there (``surface_two_cases.png``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd import Value

from . import _article
from ._article import save

Case = tuple[float, float, float]  # (x1, x2, t)
ONE_CASE: list[Case] = [(1.0, 1.0, 0.0)]
TWO_CASES: list[Case] = [(1.0, 1.0, 0.0), (0.0, 1.0, 1.0)]
STARTS: list[tuple[float, float]] = [(-1.5, -1.0), (1.8, 1.2), (0.6, -1.8), (-1.8, 0.4), (1.2, 0.2)]
ETA = 0.1


def error(w1: Value, w2: Value, cases: Sequence[Case]) -> Value:
    """E = sum over the training cases of (t - y)^2, y = x1 w1 + x2 w2, built from Values."""
    total: Value = Value(0.0)
    for x1, x2, t in cases:
        y = x1 * w1 + x2 * w2
        total = total + (t - y) ** 2
    return total


def gradient(w: tuple[float, float], cases: Sequence[Case]) -> tuple[float, tuple[float, float]]:
    """E and (dE/dw1, dE/dw2) at w, by the engine's backward()."""
    w1, w2 = Value(w[0], label="w1"), Value(w[1], label="w2")
    E = error(w1, w2, cases)
    E.backward()
    return E.data, (w1.grad, w2.grad)


def descend(start: tuple[float, float], cases: Sequence[Case], steps: int,
            eta: float = ETA) -> list[tuple[float, float, float]]:
    """Gradient descent from `start`: the points (w1, w2, E) before each step and at the end."""
    w = start
    path = []
    for _ in range(steps):
        E, (g1, g2) = gradient(w, cases)
        path.append((w[0], w[1], E))
        w = (w[0] - eta * g1, w[1] - eta * g2)
    path.append((w[0], w[1], gradient(w, cases)[0]))
    return path


@dataclass
class Result:
    steps: int
    one_case: list[list[tuple[float, float, float]]] = field(default_factory=list)
    two_cases: list[list[tuple[float, float, float]]] = field(default_factory=list)


def run(quick: bool = False) -> Result:
    r = Result(steps=40 if quick else 100)
    r.one_case = [descend(s, ONE_CASE, r.steps) for s in STARTS]
    r.two_cases = [descend(s, TWO_CASES, r.steps) for s in STARTS]
    return r


def report(r: Result) -> None:
    print("training case (x1, x2, t) = (1, 1, 0): E = (t - y)^2 = y^2 = (w1 + w2)^2")
    for w in ((0.5, 0.25), (-1.0, 2.0)):
        E, g = gradient(w, ONE_CASE)
        print(f"  at (w1, w2) = {w}: E = {E:.4f}, engine grad E = ({g[0]:.4f}, {g[1]:.4f}) "
              f"= 2 (w1 + w2) (1, 1) = {2 * (w[0] + w[1]):.4f} (1, 1)")
    print(f"gradient descent, eta = {ETA}, {r.steps} steps:")
    print("  start (w1, w2)  ->  end (w1, w2)        w1 + w2 at the end  w1 - w2 start / end  E at the end")
    for path in r.one_case:
        (a1, a2, _), (b1, b2, E) = path[0], path[-1]
        print(f"  ({a1:+.2f}, {a2:+.2f})  ->  ({b1:+.6f}, {b2:+.6f})  {b1 + b2:+.2e}"
              f"           {a1 - a2:+.4f} / {b1 - b2:+.4f}    {E:.2e}")
    print("  every path ends on the valley floor w1 = -w2, each at a different point: no unique minimum")
    print("with the second training case (0, 1, 1): E = (w1 + w2)^2 + (1 - w2)^2, minimum at (-1, 1)")
    for path in r.two_cases:
        (a1, a2, _), (b1, b2, E) = path[0], path[-1]
        print(f"  ({a1:+.2f}, {a2:+.2f})  ->  ({b1:+.6f}, {b2:+.6f})  E = {E:.2e}")


def _paths(ax: Any, paths: list[list[tuple[float, float, float]]]) -> None:
    colors = ["#c0392b", "#2952a3", "#1e8449", "#8e44ad", "#d35400"]
    for k, (path, color) in enumerate(zip(paths, colors)):
        xs, ys = [p[0] for p in path], [p[1] for p in path]
        ax.plot(xs, ys, ".-", color=color, ms=4, lw=1.2, label="descent paths" if k == 0 else None)
        ax.plot(xs[0], ys[0], "o", color=color, ms=7, mfc="white", mew=2)
        ax.plot(xs[-1], ys[-1], "*", color=color, ms=13, mec="k", mew=0.6)


def plot(r: Result, out: Path, plt: Any) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ys = [-2 + 4 * i / 200 for i in range(201)]
    ax.plot(ys, [y * y for y in ys], color="#2952a3", label="E = (t - y)$^2$, t = 0")
    ax.plot([0], [0], "*", color="#c0392b", ms=14, label="minimum: y = t, E = 0")
    ax.set_xlabel("output of the neuron y")
    ax.set_ylabel("error E")
    ax.set_title("Error against output: one training case (1, 1, 0)")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out / "parabola.png", plt)

    grid = [-2.2 + 4.4 * i / 120 for i in range(121)]
    for name, cases, paths, title in (
        ("surface_one_case.png", ONE_CASE, r.one_case,
         "E(w1, w2) = (w1 + w2)$^2$: a valley of minima along w1 = -w2"),
        ("surface_two_cases.png", TWO_CASES, r.two_cases,
         "E = (w1 + w2)$^2$ + (1 - w2)$^2$: one minimum at (-1, 1)"),
    ):
        Z = [[sum((t - (x1 * a + x2 * b)) ** 2 for x1, x2, t in cases) for a in grid] for b in grid]
        fig, ax = plt.subplots(figsize=(6.4, 5.6))
        cs = ax.contourf(grid, grid, Z, levels=[0, 0.05, 0.25, 0.5, 1, 2, 4, 8, 12, 16, 25],
                         cmap="Blues", alpha=0.85)
        ax.contour(grid, grid, Z, levels=cs.levels, colors="k", linewidths=0.3, alpha=0.5)
        fig.colorbar(cs, ax=ax, label="error E", format="%g")
        if len(cases) == 1:
            ax.plot([-2.2, 2.2], [2.2, -2.2], "--", color="k", lw=1.5, label="w1 = -w2 (E = 0)")
        else:
            ax.plot([-1], [1], "X", color="#f1c40f", ms=12, mec="k", label="unique minimum (-1, 1)")
        _paths(ax, paths)
        ax.plot([], [], "o", color="grey", mfc="white", mew=2, label="start")
        ax.plot([], [], "*", color="grey", ms=12, mec="k", label=f"after {r.steps} steps")
        ax.set_xlim(-2.2, 2.2)
        ax.set_ylim(-2.2, 2.2)
        ax.set_aspect("equal")
        ax.set_xlabel("weight w1")
        ax.set_ylabel("weight w2")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
        save(fig, out / name, plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("error_surface", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
