"""Gradients fading with depth; unnormalised inputs: ``python -m demos.vanishing_gradients``.

Reproduces the article's section "Limitations" with measured numbers: backpropagation multiplies
the adjoint by each layer's local derivatives on its way back, so in a deep network it can fade
before it reaches the first layers, and inputs far from zero saturate the first layer ("does not
require normalization of input vectors; however, normalization could improve performance").

The network: 2 inputs -> 8 hidden layers of 6 units -> 1 linear output (9 weight layers, 319
parameters), the same Glorot-uniform weights (``nn.init.glorot_uniform``, biases 0) for every
activation; the task: 100 two-moons points (``nn.make_moons(100, 0.1, seed=0)``), loss L = mean
binary cross-entropy of the output logit, ln(1 + e^z) - t z.

1. The gradient at the start of training: mean |dL/dW| over each weight layer, averaged over
   seeds 0-9 of the weights. With sigmoid it shrinks by about 4x per layer on the way back.
2. Steps to learn: full-batch gradient descent with learning rates 0.1 and 0.5 until L < 0.1, for
   seeds 0-4; "not within N" when it does not get there in N steps.
3. The picture of the adjoint graph (seed 0): every neuron coloured by the mean |dL/dnet| of its
   net input over the 100 points (its delta) and every weight by |dL/dw|, one panel per
   activation, on one logarithmic colour scale, so the fading is visible.
4. Normalised inputs: the same tanh and relu nets on the same points measured in other units,
   x' = 20 x + 100, against x' standardised (each coordinate to mean 0, sd 1): steps to L < 0.1
   and the loss after N steps.

Each training step is one traced program (``autograd.trace``) run over the 100 points with
``Program.batch``, which is numpy's when numpy is installed (pure Python otherwise, slower).
Numbers first, then the plots (``gradient_by_layer.png``, ``adjoint_by_layer.png``,
``learning_curves.png``, ``normalisation.png``). ``--quick``: 3 seeds for the gradients, 2 for
training (learning rate 0.5 only), 300 steps.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
import nn
from autograd import Value
from nn.modules import activation_fn

from . import _article
from ._article import Biases, Weights, as_batch, save, weights

ACTIVATIONS = ("sigmoid", "tanh", "relu")
WIDTH, HIDDEN = 6, 8
THRESHOLD = 0.1  # "learned": mean cross-entropy below this
LRS = (0.1, 0.5)
NORM_LR = 0.1
SCALE, OFFSET = 20.0, 100.0  # the unnormalised inputs: x' = SCALE x + OFFSET
COLOURS = {"sigmoid": "#c0392b", "tanh": "#2952a3", "relu": "#2e7d32"}



def data() -> tuple[list[list[float]], list[float]]:
    X, labels = nn.make_moons(100, 0.1, seed=0)
    return X, [float(t) for t in labels]


def standardise(X: Sequence[Sequence[float]]) -> list[list[float]]:
    """Each coordinate shifted and scaled to mean 0 and standard deviation 1."""
    cols = list(zip(*X))
    mu = [statistics.fmean(c) for c in cols]
    sd = [statistics.pstdev(c) for c in cols]
    return [[(v - m) / s for v, m, s in zip(x, mu, sd)] for x in X]


def rescale(X: Sequence[Sequence[float]]) -> list[list[float]]:
    return [[SCALE * v + OFFSET for v in x] for x in X]


def network(activation: str, seed: int) -> nn.MLP:
    return nn.MLP(2, [WIDTH] * HIDDEN + [1], activation=activation, init="glorot_uniform", seed=seed)


class Trainer:
    """One model and its traced loss: ``step()`` is a full-batch gradient-descent step."""

    def __init__(self, model: nn.MLP, X: Sequence[Sequence[float]], T: Sequence[float]) -> None:
        self.model, self.params, n = model, model.parameters(), len(X)

        def share(x: Any, t: Value) -> Value:  # one point's share of the mean cross-entropy
            z = model(x)
            assert isinstance(z, Value)
            return (z.softplus() - t * z) * (1.0 / n)

        self.program = autograd.trace(share, list(X[0]), T[0])
        self.X, self.T = as_batch(X), as_batch(T)

    def loss_and_grad(self) -> float:
        """L at the current weights; its gradient is left in each parameter's .grad."""
        self.model.zero_grad()
        values, _ = self.program.batch(self.X, self.T)
        return float(sum(values))

    def layer_grads(self) -> list[float]:
        """Mean |dL/dW| over each weight layer (biases left out), from the last loss_and_grad."""
        return [statistics.fmean(abs(w.grad) for n in layer.neurons for w in n.w)
                for layer in self.model.layers]

    def descend(self, lr: float, steps: int) -> tuple[list[float], int | None]:
        """Gradient descent: the loss before each step (and at the end), and the first step at
        which L < THRESHOLD (None if never; training stops there, or at a non-finite loss)."""
        losses: list[float] = []
        for k in range(steps + 1):
            L = self.loss_and_grad()
            losses.append(L)
            if L < THRESHOLD:
                return losses, k
            if k == steps or not math.isfinite(L):
                break
            for p in self.params:
                p.data -= lr * p.grad
        return losses, None


@dataclass
class Profile:
    activation: str
    seeds: list[int]
    per_seed: list[list[float]]  # mean |dL/dW| per layer, one list per seed
    weights: list[tuple[Weights, Biases]]  # the initial weights of each seed

    @property
    def mean(self) -> list[float]:
        return [statistics.fmean(col) for col in zip(*self.per_seed)]


@dataclass
class Run:
    activation: str
    seed: int
    lr: float
    inputs: str  # "moons", "raw" (20 x + 100) or "standardised"
    losses: list[float]
    reached: int | None  # the step at which L < THRESHOLD, or None
    final: tuple[Weights, Biases]
    first_layer_grad: float = 0.0  # mean |dL/dW| of the first layer at step 0

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


@dataclass
class Adjoints:
    """For seed 0, layer by layer: every neuron's |dL_p/dnet| and the inputs' |dL_p/dx|, each
    the mean over the points p of the adjoint in that point's own loss L_p (L is their mean),
    and |dL/dw| of every weight (the mean over the points of dL_p/dw)."""
    activation: str
    inputs: list[float]
    neurons: list[list[float]]
    weights: list[list[list[float]]]


@dataclass
class Result:
    quick: bool
    steps: int
    X: list[list[float]]
    T: list[float]
    profiles: list[Profile] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    adjoints: list[Adjoints] = field(default_factory=list)
    norm_runs: list[Run] = field(default_factory=list)


def profile(activation: str, seeds: Sequence[int], X: list[list[float]], T: list[float]) -> Profile:
    p = Profile(activation, list(seeds), [], [])
    for s in seeds:
        model = network(activation, s)
        p.weights.append(weights(model.layers))
        tr = Trainer(model, X, T)
        tr.loss_and_grad()
        p.per_seed.append(tr.layer_grads())
    return p


def train(activation: str, seed: int, lr: float, steps: int, X: list[list[float]],
          T: list[float], inputs: str) -> Run:
    tr = Trainer(network(activation, seed), X, T)
    tr.loss_and_grad()
    g1 = tr.layer_grads()[0]
    losses, reached = tr.descend(lr, steps)
    return Run(activation, seed, lr, inputs, losses, reached, weights(tr.model.layers), g1)


def adjoints(activation: str, X: list[list[float]], T: list[float]) -> Adjoints:
    """The eager engine on the whole batch: dL/dnet for every neuron and point, dL/dx, dL/dw."""
    model = network(activation, 0)
    n = len(X)
    f = activation_fn(activation)
    assert f is not None
    nets: list[list[list[Value]]] = []  # [point][layer][neuron]
    xs: list[list[Value]] = []
    terms = []
    for x, t in zip(X, T):
        h = [Value(v) for v in x]
        xs.append(h)
        per_layer = []
        for li, layer in enumerate(model.layers):
            net = [autograd.dot(nr.w, h) + nr.b for nr in layer.neurons]
            per_layer.append(net)
            last = li == len(model.layers) - 1
            h = net if last else [f(z) for z in net]
        nets.append(per_layer)
        z = h[0]
        terms.append((z.softplus() - t * z) * (1.0 / n))
    L = autograd.sum(terms)
    L.backward()
    flat = [v for per_layer in nets for net in per_layer for v in net]
    gs = iter(g.data for g in autograd.grad(L, flat))
    per_point = [[[n * abs(next(gs)) for _ in net] for net in per_layer] for per_layer in nets]
    neurons = [[statistics.fmean(pt[li][j] for pt in per_point) for j in range(len(layer.neurons))]
               for li, layer in enumerate(model.layers)]
    ins = [statistics.fmean(n * abs(x[i].grad) for x in xs) for i in range(2)]
    ws = [[[abs(w.grad) for w in nr.w] for nr in layer.neurons] for layer in model.layers]
    return Adjoints(activation, ins, neurons, ws)


def run(quick: bool = False) -> Result:
    X, T = data()
    r = Result(quick, 300 if quick else 3000, X, T)
    grad_seeds = range(3) if quick else range(10)
    train_seeds = range(2) if quick else range(5)
    lrs = LRS[1:] if quick else LRS
    for act in ACTIVATIONS:
        r.profiles.append(profile(act, grad_seeds, X, T))
        for lr in lrs:
            for s in train_seeds:
                r.runs.append(train(act, s, lr, r.steps, X, T, "moons"))
        r.adjoints.append(adjoints(act, X, T))
    raw = rescale(X)
    for act in ("tanh", "relu"):
        for inputs, Xi in (("raw", raw), ("standardised", standardise(raw))):
            for s in train_seeds:
                r.norm_runs.append(train(act, s, NORM_LR, r.steps, Xi, T, inputs))
    return r


def _steps(runs: Sequence[Run], steps: int) -> str:
    got = sorted(k for x in runs if (k := x.reached) is not None)
    if not got:
        return f"not within {steps} (0 of {len(runs)} seeds)"
    med = f"{statistics.median(got):g}"
    tail = "" if len(got) == len(runs) else f"; the other {len(runs) - len(got)} not within {steps}"
    return f"{len(got)} of {len(runs)} seeds, in {got[0]} to {got[-1]} steps (median {med}){tail}"


def report(r: Result) -> None:
    n_par = sum(len(w) + 1 for layer in r.profiles[0].weights[0][0] for w in layer)
    print(f"network: 2 -> {HIDDEN} hidden layers of {WIDTH} -> 1 linear output ({n_par} parameters), "
          "Glorot-uniform weights; 100 moons points, L = mean cross-entropy")
    seeds = r.profiles[0].seeds
    print(f"1. mean |dL/dW| per weight layer at the start (mean over seeds {seeds[0]}-{seeds[-1]}), "
          "layer 1 = next to the inputs:")
    print("   layer  " + "".join(f"{a:>11}" for a in ACTIVATIONS))
    for li in range(HIDDEN + 1):
        print(f"   {li + 1:5d}  " + "".join(f"{p.mean[li]:11.2e}" for p in r.profiles))
    for p in r.profiles:
        m = p.mean
        print(f"   {p.activation}: layer 1 gets {m[0] / m[-1]:.1e} of the last layer's gradient "
              f"(a factor {(m[0] / m[-1]) ** (1 / HIDDEN):.2f} per layer)")
    print(f"2. steps of full-batch gradient descent until L < {THRESHOLD} (at most {r.steps}):")
    for act in ACTIVATIONS:
        for lr in sorted({x.lr for x in r.runs}):
            runs = [x for x in r.runs if x.activation == act and x.lr == lr]
            lo = min(x.final_loss for x in runs)
            print(f"   {act:<7} lr {lr}: {_steps(runs, r.steps)}; lowest final L {lo:.4f}")
    print("3. mean |dL/dnet| per layer (seed 0, the adjoint graph's colours), first and last layer:")
    for a in r.adjoints:
        first, last = statistics.fmean(a.neurons[0]), statistics.fmean(a.neurons[-2])
        print(f"   {a.activation:<7} layer 1: {first:.2e}, layer {HIDDEN}: {last:.2e}, output: "
              f"{a.neurons[-1][0]:.2e}; |dL/dx| of the inputs {a.inputs[0]:.2e}, {a.inputs[1]:.2e}")
    print(f"4. inputs x' = {SCALE:g} x + {OFFSET:g} against x' standardised, lr {NORM_LR}, "
          f"at most {r.steps} steps:")
    for act in ("tanh", "relu"):
        for inputs in ("raw", "standardised"):
            runs = [x for x in r.norm_runs if x.activation == act and x.inputs == inputs]
            finals = ", ".join(f"{x.final_loss:.4f}" if math.isfinite(x.final_loss) else "diverged"
                               for x in runs)
            g1 = statistics.fmean(x.first_layer_grad for x in runs)
            name = f"{SCALE:g} x + {OFFSET:g}" if inputs == "raw" else "standardised"
            print(f"   {act:<4} {name:<13}: {_steps(runs, r.steps)}; L where it stopped, per seed: {finals}; "
                  f"first layer's mean |dL/dW| at the start {g1:.2e}")


def plot(r: Result, out: Path, plt: Any) -> None:
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), sharey=True)
    layers = list(range(1, HIDDEN + 2))
    for ax, p in zip(axes, r.profiles):
        lo = [min(c) for c in zip(*p.per_seed)]
        hi = [max(c) for c in zip(*p.per_seed)]
        ax.bar(layers, p.mean, color=COLOURS[p.activation], alpha=0.85)
        ax.vlines(layers, lo, hi, color="k", lw=1, label=f"range over {len(p.seeds)} seeds")
        ax.set_yscale("log")
        ax.set_title(p.activation)
        ax.set_xlabel("weight layer (1 = next to the inputs)")
        ax.set_xticks(layers)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("mean |dL/dW| at the start")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("The gradient reaching each layer of a 2-6x8-1 net before training")
    save(fig, out / "gradient_by_layer.png", plt)

    vals = [v for a in r.adjoints for layer in a.weights for row in layer for v in row if v > 0]
    vals += [v for a in r.adjoints for layer in a.neurons for v in layer if v > 0]
    norm = LogNorm(vmin=min(vals), vmax=max(vals))
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(3, 1, figsize=(9, 8.6))
    fig.subplots_adjust(left=0.03, right=0.84, top=0.9, bottom=0.07, hspace=0.45)
    zero = "#d4d4d4"  # exactly 0: a relu that is off for every point passes nothing back
    for ax, a in zip(axes, r.adjoints):
        cols: list[list[float]] = [a.inputs, *a.neurons]
        ys = [[(j - (len(c) - 1) / 2) for j in range(len(c))] for c in cols]
        for li, layer in enumerate(a.weights):  # edges first, weakest underneath
            edges = [(w, i, j) for j, row in enumerate(layer) for i, w in enumerate(row)]
            for w, i, j in sorted(edges):
                ax.plot([li, li + 1], [ys[li][i], ys[li + 1][j]], lw=1.3, zorder=1,
                        color=cmap(norm(w)) if w > 0 else zero)
        for li, c in enumerate(cols):
            ax.scatter([li] * len(c), ys[li], s=130, c=[cmap(norm(v)) if v > 0 else zero for v in c],
                       edgecolors="k", linewidths=0.6, zorder=2)
        dead = sum(v == 0 for layer in a.neurons for v in layer)
        note = f" ({dead} neurons receive exactly 0: grey)" if dead else ""
        ax.set_title(f"{a.activation}: the adjoint graph coloured by |adjoint|{note}", fontsize=10)
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(["x"] + [str(k) for k in range(1, HIDDEN + 1)] + ["out"])
        ax.set_yticks([])
        ax.set_xlim(-0.4, len(cols) - 0.6)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel("layer (x: inputs; nodes: mean |dL/dnet| over the points; lines: |dL/dw|)")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, cax=fig.add_axes((0.88, 0.2, 0.025, 0.6)), label="|adjoint| (log scale)")
    fig.suptitle("Gradients flowing back from the loss (seed 0, before training)")
    path = out / "adjoint_by_layer.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)  # no tight_layout: the colour bar has an axis of its own
    plt.close(fig)
    print(f"wrote {path}")

    fig, ax = plt.subplots(figsize=(7, 4))
    lr = min(x.lr for x in r.runs)
    for act in reversed(ACTIVATIONS):  # sigmoid last: on top of a relu run stuck at ln 2
        for x in (x for x in r.runs if x.activation == act and x.lr == lr):
            ax.plot(x.losses, color=COLOURS[act], lw=1.6 if act == "sigmoid" else 1, alpha=0.8,
                    label=act if x.seed == 0 else None)
    ax.axhline(THRESHOLD, color="k", ls=":", lw=1, label=f"L = {THRESHOLD}")
    ax.set_yscale("log")
    ax.set_xlabel("gradient descent step")
    ax.set_ylabel("mean cross-entropy L")
    ax.set_title(f"Learning the moons with 8 hidden layers (lr {lr}; one line per seed)")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out / "learning_curves.png", plt)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, act in zip(axes, ("tanh", "relu")):
        for inputs, style in (("raw", "--"), ("standardised", "-")):
            for x in (x for x in r.norm_runs if x.activation == act and x.inputs == inputs):
                label = (f"{SCALE:g} x + {OFFSET:g}" if inputs == "raw" else inputs) if x.seed == 0 else None
                ax.plot([v if math.isfinite(v) else float("nan") for v in x.losses], style,
                        color=COLOURS[act], lw=1, label=label)
        ax.axhline(THRESHOLD, color="k", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_title(f"{act}, lr {NORM_LR}")
        ax.set_xlabel("gradient descent step")
        ax.legend()
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean cross-entropy L")
    fig.suptitle("The same net on the same points: unnormalised against standardised inputs")
    save(fig, out / "normalisation.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("vanishing_gradients", __doc__, argv, lambda quick: run(quick=quick),
                         report, plot)


if __name__ == "__main__":
    main()
