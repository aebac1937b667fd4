"""The history: Linnainmaa's reverse mode, Amari's SGD, RHW 1986: ``python -m demos.history``.

Reproduces the article's section "History" with the engine:

(a) Linnainmaa (1970 master's thesis; 1976, BIT 16, "Taylor expansion of the accumulated
    rounding error"): the derivative of a program is obtained by running the program backward.
    ``autograd.compile`` writes that reverse sweep for y = x1 sin(x1 x2 + e^(x1/x2)) as
    readable Python: the forward statements, then one adjoint statement per forward statement,
    last first. It runs the program and checks it against ``backward()`` (bit for bit).
(b) Amari (1967, IEEE Trans. Electronic Computers 16, "A theory of adaptive pattern
    classifiers"): a multilayer perceptron trained by stochastic gradient descent, one example
    at a time, on classes that no line separates: two concentric rings
    (``nn.make_circles(200, 0.05, 0.5, seed=0)``), a 2-8-1 net (tanh hidden, logistic output,
    E = 1/2 (t - y)^2, eta 0.1, 60 epochs in shuffled order), beside the same training of a
    single logistic unit (no hidden layer), which cannot separate them.
(c) Rumelhart, Hinton & Williams (1986, Nature 323, "Learning representations by
    back-propagating errors", and the PDP chapter "Learning internal representations by error
    propagation"): logistic units, E = 1/2 sum (y - t)^2, the gradient accumulated over one
    sweep through all patterns, then dw = -eta dE/dw + alpha dw(previous sweep). XOR (2-2-1,
    eta 0.5, with alpha 0 and 0.9), 6-bit symmetry (6-2-1, all 64 patterns, eta 0.1,
    alpha 0.9), the 8-3-8 encoder (`demos.encoder`'s network with logistic outputs, eta 0.1,
    alpha 0.9; at eta 0.5 it stalls). Weights and biases start in U(-0.3, 0.3) (the encoder:
    `demos.encoder`'s Glorot weights, biases 0).
    For each seed: the sweeps until every output is within 0.4 of its target, and within
    0.1. Beside them the sweeps the papers report, where we know them.

Each sweep is one traced program run over all patterns (``Program.batch``), which also gives
every t - y (the gradient with respect to the target). ``--quick``: fewer seeds and sweeps.
Plots: ``rings.png`` (the learning curves and the learned regions), ``rhw_sweeps.png``.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
import nn
from autograd import Value

from . import _article, encoder
from ._article import Biases, Weights, as_batch, save, weights

TOLS = (0.4, 0.1)
INIT = 0.3


def nested(x1: Value, x2: Value) -> Value:
    """y = x1 sin(x1 x2 + e^(x1/x2)), with every intermediate named."""
    u = x1 * x2
    u.label = "u"
    v = (x1 / x2).exp()
    v.label = "v"
    w = (u + v).sin()
    w.label = "w"
    y = x1 * w
    y.label = "y"
    return y


@dataclass
class Reverse:
    point: tuple[float, float]
    source: str
    value: float
    program: list[float]  # dy/dx1, dy/dx2 from the adjoint program
    backward: list[float]  # the same from backward() on a fresh graph


def linnainmaa(point: tuple[float, float] = (1.5, 0.8)) -> Reverse:
    x1, x2 = Value(point[0], label="x1"), Value(point[1], label="x2")
    program = autograd.compile(nested(x1, x2))
    value = program.run()
    a1, a2 = Value(point[0]), Value(point[1])
    nested(a1, a2).backward()
    return Reverse(point, program.source, value, [x1.grad, x2.grad], [a1.grad, a2.grad])


# --- (b) Amari: one example at a time ------------------------------------------------------


@dataclass
class Rings:
    hidden: int  # 0: a single logistic unit
    X: list[list[float]]
    T: list[float]
    init: tuple[Weights, Biases]
    first_order: list[int]  # the order of the examples in the first epoch
    after_first: tuple[Weights, Biases]
    final: tuple[Weights, Biases]
    errors: list[float] = field(default_factory=list)  # mean E over the set, before and after each epoch
    accuracy: list[float] = field(default_factory=list)


def amari(hidden: int, epochs: int, seed: int = 0, eta: float = 0.1) -> Rings:
    X, labels = nn.make_circles(200, 0.05, 0.5, seed=0)
    T = [float(t) for t in labels]
    sizes = [hidden, 1] if hidden else [1]
    model = nn.MLP(2, sizes, activation="tanh", output_activation="sigmoid", seed=seed,
                   init="glorot_uniform")
    params = model.parameters()

    def error(x: Any, t: Value) -> Value:
        y = model(x)
        assert isinstance(y, Value)
        return 0.5 * (t - y) ** 2

    program = autograd.trace(error, X[0], T[0])
    Xb, Tb = as_batch(X), as_batch(T)
    r = Rings(hidden, X, T, weights(model.layers), [], ([], []), ([], []))

    def measure() -> None:
        model.zero_grad()
        values, (_, gt) = program.batch(Xb, Tb)
        r.errors.append(float(sum(values)) / len(X))
        r.accuracy.append(sum(abs(float(g)) < 0.5 for g in gt) / len(X))  # gt = t - y

    rng = random.Random(seed)
    measure()
    for epoch in range(epochs):
        order = list(range(len(X)))
        rng.shuffle(order)
        for i in order:
            model.zero_grad()
            program(X[i], T[i])  # adds dE/dw into each weight's .grad
            for p in params:
                p.data -= eta * p.grad
        if epoch == 0:
            r.first_order, r.after_first = order, weights(model.layers)
        measure()
    r.final = weights(model.layers)
    return r


# --- (c) Rumelhart, Hinton & Williams: the sweeps ------------------------------------------


@dataclass
class Problem:
    name: str
    sizes: list[int]
    patterns: list[list[float]]
    targets: list[list[float]]
    eta: float
    alpha: float
    reported: str  # what the papers report, as we read them
    reported_sweeps: tuple[int, ...] = ()


def symmetry_patterns() -> tuple[list[list[float]], list[list[float]]]:
    bits = [list(map(float, b)) for b in itertools.product((0, 1), repeat=6)]
    return bits, [[1.0 if b == b[::-1] else 0.0] for b in bits]


def problems() -> list[Problem]:
    X, labels = nn.xor()
    xor_t = [[float(t)] for t in labels]
    sym, sym_t = symmetry_patterns()
    enc = nn.encoder_patterns(8)
    return [
        Problem("XOR 2-2-1", [2, 2, 1], X, xor_t, 0.5, 0.0,
                "about 558 sweeps with eta 0.5 (PDP chapter)", (558,)),
        Problem("XOR 2-2-1", [2, 2, 1], X, xor_t, 0.5, 0.9, "not given for this setting"),
        Problem("symmetry 6-2-1", [6, 2, 1], sym, sym_t, 0.1, 0.9,
                "1,208 sweeps (PDP chapter); 1,425 sweeps (Nature, Fig. 1), eta 0.1, alpha 0.9",
                (1208, 1425)),
        Problem("encoder 8-3-8", [8, 3, 8], enc, enc, 0.1, 0.9, "not given"),
    ]


@dataclass
class Sweeps:
    problem: Problem
    seed: int
    init: tuple[Weights, Biases]
    final: tuple[Weights, Biases]
    errors: list[float]  # E before each sweep's update (and at the end)
    reached: dict[float, int | None]  # tolerance -> the first sweep with every |y - t| < it
    codes: list[str] = field(default_factory=list)  # the encoder's hidden codes


def network(p: Problem, seed: int) -> tuple[list[nn.Layer], Callable[[Any], list[Value]]]:
    """The layers of the problem's net and its forward function (logistic units)."""
    if p.name.startswith("encoder"):
        ae = encoder.Autoencoder(p.sizes[0], p.sizes[1], seed)
        return [ae.encoder, ae.decoder], lambda x: [z.sigmoid() for z in ae.decoder.forward(ae.code(x))]

    def uniform(fan_in: int, fan_out: int, rng: nn.init.RandomSource) -> float:
        return rng.uniform(-INIT, INIT)

    mlp = nn.MLP(p.sizes[0], p.sizes[1:], activation="sigmoid", output_activation="sigmoid",
                 init=uniform, seed=seed)
    biases = random.Random(1000 + seed)  # a bias is a weight from a unit that is always on
    for layer in mlp.layers:
        for neuron in layer.neurons:
            neuron.b.data = biases.uniform(-INIT, INIT)

    def forward(x: Any) -> list[Value]:
        y = mlp(x)
        return y if isinstance(y, list) else [y]

    return mlp.layers, forward


def sweeps(p: Problem, seed: int, max_sweeps: int) -> Sweeps:
    layers, forward = network(p, seed)
    params = [q for layer in layers for q in layer.parameters()]

    def error(x: Any, t: Any) -> Value:
        return 0.5 * autograd.sum([(y - tj) ** 2 for y, tj in zip(forward(x), t)])

    program = autograd.trace(error, p.patterns[0], p.targets[0])
    X, T = as_batch(p.patterns), as_batch(p.targets)
    s = Sweeps(p, seed, weights(layers), ([], []), [], {tol: None for tol in TOLS})
    step = [0.0] * len(params)
    for k in range(max_sweeps + 1):
        for q in params:
            q.grad = 0.0
        values, (_, gt) = program.batch(X, T)  # gt[i][j] = t_ij - y_ij
        s.errors.append(float(sum(values)))
        worst = max(abs(float(g)) for row in gt for g in row)
        for tol in TOLS:
            if s.reached[tol] is None and worst < tol:
                s.reached[tol] = k
        if s.reached[TOLS[-1]] is not None or k == max_sweeps:
            break
        for i, q in enumerate(params):
            step[i] = -p.eta * q.grad + p.alpha * step[i]
            q.data += step[i]
    s.final = weights(layers)
    if p.name.startswith("encoder"):
        with autograd.no_grad():
            s.codes = ["".join("1" if h.data > 0.5 else "0" for h in layers_code(layers, x))
                       for x in p.patterns]
    return s


def layers_code(layers: Sequence[nn.Layer], x: Sequence[float]) -> list[Value]:
    return [z.sigmoid() for z in layers[0].forward(x)]


@dataclass
class Result:
    quick: bool
    reverse: Reverse
    rings: list[Rings]
    max_sweeps: int
    runs: list[Sweeps] = field(default_factory=list)


def run(quick: bool = False) -> Result:
    epochs = 15 if quick else 60
    r = Result(quick, linnainmaa(), [amari(8, epochs), amari(0, epochs)], 3000 if quick else 5000)
    seeds = {"XOR": 4 if quick else 50, "symmetry": 2 if quick else 20, "encoder": 2 if quick else 20}
    for p in problems():
        for s in range(seeds[p.name.split()[0]]):
            r.runs.append(sweeps(p, s, r.max_sweeps))
    return r


def groups(r: Result) -> list[tuple[Problem, list[Sweeps]]]:
    out: list[tuple[Problem, list[Sweeps]]] = []
    for s in r.runs:
        if not out or out[-1][0] is not s.problem:
            out.append((s.problem, []))
        out[-1][1].append(s)
    return out


def _summary(runs: Sequence[Sweeps], tol: float, most: int) -> str:
    got = sorted(k for s in runs if (k := s.reached[tol]) is not None)
    if not got:
        return f"0 of {len(runs)} within {most}"
    return f"{len(got)} of {len(runs)}: {got[0]}-{got[-1]}, median {statistics.median(got):g}"


def report(r: Result) -> None:
    rv = r.reverse
    print("(a) Linnainmaa 1970: the derivative of a program by running it backward.")
    print(f"    y = x1 sin(x1 x2 + e^(x1/x2)) at x1 = {rv.point[0]}, x2 = {rv.point[1]}: the adjoint "
          "program autograd.compile writes:")
    for line in rv.source.splitlines():
        print("    | " + line)
    same = rv.program == rv.backward
    print(f"    y = {rv.value!r}; dy/dx1 = {rv.program[0]!r}, dy/dx2 = {rv.program[1]!r}; "
          f"backward() gives {'the same bits' if same else rv.backward}")
    print("(b) Amari 1967: stochastic gradient descent, one example at a time, on two concentric "
          "rings (200 points):")
    for g in r.rings:
        name = f"2-{g.hidden}-1 MLP (tanh, logistic)" if g.hidden else "single logistic unit  "
        best = max(g.accuracy)
        print(f"    {name}: mean E {g.errors[0]:.4f} at the start, {g.errors[-1]:.4f} after "
              f"{len(g.errors) - 1} epochs; accuracy {g.accuracy[-1]:.1%} (best {best:.1%})")
    print(f"(c) Rumelhart, Hinton & Williams 1986: sweeps (epochs) of batch gradient descent with "
          f"momentum, at most {r.max_sweeps}; 'a-b, median m' over the seeds that got there:")
    print(f"    {'problem':<15} {'eta':>4} {'alpha':>5}  {'every |y - t| < 0.4':<34} "
          f"{'every |y - t| < 0.1':<34} reported (our reading of the papers)")
    for p, runs in groups(r):
        print(f"    {p.name:<15} {p.eta:>4} {p.alpha:>5}  {_summary(runs, 0.4, r.max_sweeps):<34} "
              f"{_summary(runs, 0.1, r.max_sweeps):<34} {p.reported}")
        if p.name.startswith("encoder"):
            ok = sum(len(set(s.codes)) == len(p.patterns) for s in runs)
            print(f"    {'':<15} hidden codes: 8 distinct (rounded at 0.5) for {ok} of {len(runs)} seeds")
        stuck = [s.seed for s in runs if s.reached[0.4] is None]
        if stuck:
            es = [s.errors[-1] for s in runs if s.seed in stuck]
            print(f"    {'':<15} not within 0.4 after {r.max_sweeps} sweeps: seeds {stuck} "
                  f"(final E {min(es):.3f}" + (f" to {max(es):.3f})" if max(es) > min(es) else ")"))


def plot(r: Result, out: Path, plt: Any) -> None:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for g, colour in zip(r.rings, ("#2952a3", "#c0392b")):
        name = f"2-{g.hidden}-1 MLP" if g.hidden else "single logistic unit"
        ax.plot(g.errors, color=colour, label=f"{name}: mean E")
        ax.plot(g.accuracy, color=colour, ls="--", label=f"{name}: accuracy")
    ax.set_xlabel("epoch (200 updates, one example each)")
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_title("Amari's setting: SGD one example at a time")
    ax.legend(fontsize=8, ncol=2, loc="upper center")
    ax.grid(alpha=0.3)
    g = r.rings[0]
    W, b = g.final
    n = 60
    grid = [[-1.5 + 3 * i / (n - 1), -1.5 + 3 * j / (n - 1)] for j in range(n) for i in range(n)]
    import math

    def predict(x: Sequence[float]) -> float:
        h = list(x)
        for li, (Wl, bl) in enumerate(zip(W, b)):
            z = [sum(w * v for w, v in zip(row, h)) + bj for row, bj in zip(Wl, bl)]
            h = [math.tanh(v) for v in z] if li < len(W) - 1 else [1 / (1 + math.exp(-v)) for v in z]
        return h[0]

    zs = [[predict(grid[j * n + i]) for i in range(n)] for j in range(n)]
    ax2.contourf([-1.5 + 3 * i / (n - 1) for i in range(n)], [-1.5 + 3 * j / (n - 1) for j in range(n)],
                 zs, levels=[0, 0.5, 1], colors=["#f5d0c5", "#c9d8f0"], alpha=0.9)
    for cls, colour in ((0.0, "#c0392b"), (1.0, "#2952a3")):
        pts = [x for x, t in zip(g.X, g.T) if t == cls]
        ax2.scatter([p[0] for p in pts], [p[1] for p in pts], s=10, color=colour,
                    label=f"class {int(cls)}")
    ax2.set_aspect("equal")
    ax2.set_title(f"2-{g.hidden}-1 MLP after {len(g.errors) - 1} epochs: y > 1/2 shaded blue")
    ax2.legend(fontsize=8, loc="upper right")
    save(fig, out / "rings.png", plt)

    from matplotlib.ticker import FuncFormatter

    gs = groups(r)
    fig, axes = plt.subplots(1, len(gs), figsize=(2.6 * len(gs), 4), sharey=True)
    for ax, (p, runs) in zip(axes, gs):
        ticks = []
        for x, (tol, colour) in enumerate(((0.4, "#2952a3"), (0.1, "#2e7d32"))):
            ks = [k for s in runs if (k := s.reached[tol]) is not None]
            jitter = random.Random(x)
            ax.scatter([x + jitter.uniform(-0.15, 0.15) for _ in ks], ks, s=12, color=colour)
            ticks.append(f"< {tol}\n{len(ks)} of {len(runs)}")
        for k in p.reported_sweeps:
            ax.axhline(k, color="k", ls=":", lw=1)
        ax.axhline(r.max_sweeps, color="#999999", ls="--", lw=1)
        ax.set_xticks([0, 1])
        ax.set_xticklabels(ticks, fontsize=8)
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(f"{p.name}\neta {p.eta}, alpha {p.alpha}", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_yscale("log")
    axes[0].set_ylim(100, r.max_sweeps * 1.3)
    axes[0].set_yticks([100, 200, 500, 1000, 2000, 5000])
    axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[0].set_ylabel("sweeps until every |y - t| < tol")
    fig.suptitle("Rumelhart, Hinton & Williams' experiments, one dot per seed "
                 "(dotted: the papers' numbers; dashed: the limit)", fontsize=10)
    save(fig, out / "rhw_sweeps.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("history", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
