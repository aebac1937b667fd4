"""The delta rule of the article's Derivation, against the engine: ``python -m demos.delta_rule``.

Reproduces the article's section "Derivation" (Eq. 1-5 and the update that follows them). For a
network of logistic neurons, o_j = phi(net_j), net_j = sum_i w_ij o_i, phi(z) = 1 / (1 + e^-z),
with the error E = 1/2 (t - y)^2 summed over the training cases, the gradient is

    dE/dw_ij = o_i delta_j,
    delta_j = (o_j - t_j) o_j (1 - o_j)                 if j is an output neuron,
    delta_j = (sum_l w_jl delta_l) o_j (1 - o_j)       if j is an inner neuron,

and one step of gradient descent is Delta w_ij = -eta o_i delta_j. The demo computes these with
plain floats for a 2-3-1 network on the four XOR cases (each neuron's bias is a weight w_0j from a
unit whose output is always o_0 = 1, as the article's Overview says) and prints them beside the
engine's ``.grad`` after one ``backward()`` (equal to 1e-12), then the weights after one step of
each (`nn.SGD` for the engine). It then trains both copies side by side and plots the error of
each and the largest weight difference between them (``training.png``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
import nn
from autograd import Value

from . import _article
from ._article import save

SIZES = (2, 3, 1)
CASES: list[tuple[list[float], list[float]]] = [
    ([0.0, 0.0], [0.0]), ([0.0, 1.0], [1.0]), ([1.0, 0.0], [1.0]), ([1.0, 1.0], [0.0])
]
ETA = 0.5

# weights[m][j][i]: layer m (0: input -> hidden, 1: hidden -> output), from unit i of the layer
# below (i = 0 is the bias unit with o_0 = 1, inputs/neurons are i = 1..n) to neuron j.
Weights = list[list[list[float]]]


def initial_weights(seed: int = 0, sizes: Sequence[int] = SIZES) -> Weights:
    rng = random.Random(seed)
    return [[[rng.uniform(-1.0, 1.0) for _ in range(sizes[m] + 1)] for _ in range(sizes[m + 1])]
            for m in range(len(sizes) - 1)]


def phi(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@dataclass
class Deltas:
    outputs: list[list[float]]  # o of every layer, with o_0 = 1 in front (the last layer: no 1)
    delta: list[list[float]]  # delta_j of every layer of neurons
    grad: Weights  # dE/dw_ij = o_i delta_j for this case
    error: float


def by_the_formulas(w: Weights, x: Sequence[float], t: Sequence[float]) -> Deltas:
    """Eq. 1-5 for one training case, with plain floats."""
    o: list[list[float]] = [[1.0, *x]]
    for m, layer in enumerate(w):
        out = [phi(sum(wij * oi for wij, oi in zip(wj, o[-1]))) for wj in layer]
        o.append([1.0, *out] if m < len(w) - 1 else out)
    y = o[-1]
    delta: list[list[float]] = [[] for _ in w]
    delta[-1] = [(oj - tj) * oj * (1 - oj) for oj, tj in zip(y, t)]  # output neurons
    for m in range(len(w) - 2, -1, -1):  # inner neurons: j = 1..n of layer m + 1
        below = o[m + 1]
        delta[m] = [sum(w[m + 1][k][j] * dk for k, dk in enumerate(delta[m + 1]))
                    * below[j] * (1 - below[j]) for j in range(1, len(below))]
    grad = [[[o[m][i] * dj for i in range(len(o[m]))] for dj in delta[m]] for m in range(len(w))]
    E = 0.5 * sum((tj - yj) ** 2 for tj, yj in zip(t, y))
    return Deltas(o, delta, grad, E)


def formula_gradient(w: Weights) -> tuple[float, Weights]:
    """E and dE/dw summed over the training cases, by the formulas."""
    total = [[[0.0 for _ in wj] for wj in layer] for layer in w]
    E = 0.0
    for x, t in CASES:
        d = by_the_formulas(w, x, t)
        E += d.error
        for m, layer in enumerate(d.grad):
            for j, gj in enumerate(layer):
                for i, g in enumerate(gj):
                    total[m][j][i] += g
    return E, total


class Net:
    """The same network built from Values (one `autograd.dot` per neuron, then the logistic)."""

    def __init__(self, w: Weights) -> None:
        self.w = [[[Value(wij, label=f"w{m + 1}[{i}->{j + 1}]") for i, wij in enumerate(wj)]
                   for j, wj in enumerate(layer)] for m, layer in enumerate(w)]

    def params(self) -> list[Value]:
        return [p for layer in self.w for wj in layer for p in wj]

    def error(self) -> Value:
        terms = []
        for x, t in CASES:
            o: list[Value | float] = [1.0, *x]
            for m, layer in enumerate(self.w):
                out = [autograd.dot(wj, o).sigmoid() for wj in layer]
                o = [1.0, *out] if m < len(self.w) - 1 else list(out)
            terms += [0.5 * (tj - yj) ** 2 for tj, yj in zip(t, o)]
        return autograd.sum(terms)

    def values(self) -> Weights:
        return [[[p.data for p in wj] for wj in layer] for layer in self.w]

    def grads(self) -> Weights:
        return [[[p.grad for p in wj] for wj in layer] for layer in self.w]


def largest_difference(a: Weights, b: Weights) -> float:
    return max(abs(p - q) for la, lb in zip(a, b) for ra, rb in zip(la, lb) for p, q in zip(ra, rb))


@dataclass
class Result:
    w0: Weights
    first_case: Deltas
    formula_grad: Weights
    engine_grad: Weights
    grad_diff: float
    formula_step: Weights
    engine_step: Weights
    step_diff: float
    epochs: int
    formula_errors: list[float] = field(default_factory=list)
    engine_errors: list[float] = field(default_factory=list)
    weight_diffs: list[float] = field(default_factory=list)
    outputs: list[float] = field(default_factory=list)  # the engine net's y for each case, trained


def run(seed: int = 0, quick: bool = False) -> Result:
    w0 = initial_weights(seed)
    _, fgrad = formula_gradient(w0)
    net = Net(w0)
    opt = nn.SGD(net.params(), lr=ETA)
    E = net.error()
    E.backward()
    egrad = net.grads()
    opt.step()
    fstep = [[[wij - ETA * g for wij, g in zip(wj, gj)] for wj, gj in zip(lw, lg)]
             for lw, lg in zip(w0, fgrad)]
    r = Result(w0, by_the_formulas(w0, *CASES[0]), fgrad, egrad, largest_difference(fgrad, egrad),
               fstep, net.values(), largest_difference(fstep, net.values()),
               epochs=200 if quick else 3000)
    # train both copies side by side from w0
    w = w0
    net = Net(w0)
    opt = nn.SGD(net.params(), lr=ETA)
    for _ in range(r.epochs):
        Ef, g = formula_gradient(w)
        w = [[[wij - ETA * gij for wij, gij in zip(wj, gj)] for wj, gj in zip(lw, lg)]
             for lw, lg in zip(w, g)]
        opt.zero_grad()
        E = net.error()
        E.backward()
        opt.step()
        r.formula_errors.append(Ef)
        r.engine_errors.append(E.data)
        r.weight_diffs.append(largest_difference(w, net.values()))
    with autograd.no_grad():
        for x, _t in CASES:
            o: list[Value | float] = [1.0, *x]
            for m, layer in enumerate(net.w):
                out = [autograd.dot(wj, o).sigmoid() for wj in layer]
                o = [1.0, *out] if m < len(net.w) - 1 else list(out)
            r.outputs.append(o[0].data if isinstance(o[0], Value) else float(o[0]))
    return r


def report(r: Result) -> None:
    d = r.first_case
    x, t = CASES[0]
    print(f"network {'-'.join(map(str, SIZES))} of logistic neurons, E = 1/2 (t - y)^2 summed over "
          f"the {len(CASES)} XOR cases; bias = weight w_0j from o_0 = 1")
    print(f"training case x = {x}, t = {t}:")
    print("  hidden outputs o_j  = [" + ", ".join(f"{v:.6f}" for v in d.outputs[1][1:]) + "]")
    print(f"  output y = o_out    = {d.outputs[-1][0]:.6f}")
    print(f"  delta_out = (o - t) o (1 - o)            = {d.delta[-1][0]:+.8f}")
    for j, dj in enumerate(d.delta[0], start=1):
        print(f"  delta_{j} = (sum_l w_{j}l delta_l) o_{j}(1 - o_{j}) = {dj:+.8f}")
    print("summed over the four cases, dE/dw_ij = sum of o_i delta_j against the engine's .grad:")
    print("  weight      | o_i delta_j (formulas) | engine .grad        | difference")
    for m, (lf, le) in enumerate(zip(r.formula_grad, r.engine_grad)):
        for j, (rf, re_) in enumerate(zip(lf, le)):
            for i, (a, b) in enumerate(zip(rf, re_)):
                print(f"  w{m + 1}[{i}->{j + 1}]    | {a:+.15f}     | {b:+.15f} | {abs(a - b):.1e}")
    print(f"largest difference: {r.grad_diff:.1e}")
    print(f"one step, Delta w_ij = -eta o_i delta_j with eta = {ETA}, against nn.SGD on the engine's "
          f"gradient: largest weight difference {r.step_diff:.1e}")
    print(f"trained side by side for {r.epochs} epochs: E by the formulas {r.formula_errors[-1]:.6f}, "
          f"by the engine {r.engine_errors[-1]:.6f}; largest weight difference over the run "
          f"{max(r.weight_diffs):.1e}")
    print("  outputs y after training: " + ", ".join(
        f"{x} -> {y:.3f} (t = {t[0]:.0f})" for (x, t), y in zip(CASES, r.outputs)))


def plot(r: Result, out: Path, plt: Any) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, r.epochs + 1)
    ax1.plot(epochs, r.formula_errors, color="#2952a3", lw=4, alpha=0.4,
             label="delta rule by the formulas")
    ax1.plot(epochs, r.engine_errors, "--", color="#c0392b", lw=1.5, label="engine backward + nn.SGD")
    ax1.set_xlabel("epoch (one step on all four XOR cases)")
    ax1.set_ylabel("error E = sum of 1/2 (t - y)$^2$")
    ax1.set_title("2-3-1 logistic network on XOR: same error curve")
    ax1.legend()
    ax1.grid(alpha=0.3)
    ax2.plot(epochs, [max(d, 1e-18) for d in r.weight_diffs], color="#1e8449")
    ax2.set_yscale("log")
    ax2.set_ylim(1e-18, 1e-6)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("largest |w (formulas) - w (engine)|")
    ax2.set_title("Largest weight difference between the two copies")
    ax2.grid(alpha=0.3)
    save(fig, out / "training.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("delta_rule", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
