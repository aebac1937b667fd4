"""Per-example gradients, averaged into the full-batch gradient; SGD against full-batch descent.

The article's assumption on the loss (section "Loss function", "Assumptions"): it is an average
E = 1/n sum_x E_x of per-example errors, so backpropagation computes the gradient of one example's
E_x and the gradients are averaged. Here E_x = 1/2 (s(x) - y)^2 (the article's example loss) for
an MLP(2 -> 8 tanh -> 8 tanh -> 1 linear) on 100 `nn.make_moons` points (noise 0.1, y = -1/+1).

1. One example's error is traced once (`autograd.trace`) as a function of the parameters, the
   point and its label, ``E_x(w, x, y)``: the parameters are an argument, not captured Values,
   because `program.batch` returns per-example gradients with respect to its arguments only
   (into captured leaves it adds the summed gradient). ``program.batch(W, X, Y)``, with the same
   parameter vector repeated for every example, gives all n per-example gradients at once.
2. They equal a loop of ``E_x.backward()`` on the `nn.MLP`, and their mean equals the gradient
   of E computed eagerly (``nn.half_squared_error(...).backward()``).
3. Their spread: components of a few weights, the cosine between each g_x and the full gradient
   g (how often a single-example step goes uphill on E), at the start and after training.
4. SGD on single examples (learning rate 0.1, shuffled each epoch, one compiled program call per
   step) against full-batch gradient descent (learning rate 0.5: it reaches E < 0.05 sooner than
   0.3 does, and 1.0 diverges; its curve has spikes from which it recovers), as loss against
   epochs and against gradient evaluations (one per example and step).

Writes into ``--out`` (default ``out/per_example/``): ``components.png``, ``cosines.png``,
``sgd.png`` and ``overview.png`` (a panel of each).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
from autograd import Value, dot
from demos import _article
from nn import MLP, half_squared_error, make_moons, signed
from nn.modules import activation_fn

NAME = "per_example"
HIDDEN = (8, 8)
SGD_LR = 0.1
FULL_LR = 0.5
TARGET = 0.05  # the loss level whose cost in gradient evaluations is reported

Vector = list[float]


def flat_forward(model: MLP) -> Callable[[Sequence[Value], Sequence[Any]], Value]:
    """The model's score as a function of a flat parameter list in ``model.parameters()`` order:
    the same nodes (``dot(w, x) + b``, then the activation) as the model's own call."""
    layout = [
        [(n.nin, activation_fn(n.activation)) for n in layer.neurons] for layer in model.layers
    ]

    def score(w: Sequence[Value], x: Sequence[Any]) -> Value:
        k, h = 0, list(x)
        for layer in layout:
            out = []
            for nin, f in layer:
                z = dot(w[k : k + nin], h) + w[k + nin]
                k += nin + 1
                out.append(z if f is None else f(z))
            h = out
        result: Value = h[0]
        return result

    return score


def example_error(model: MLP) -> Callable[[Sequence[Value], Sequence[Any], Any], Value]:
    """E_x(w, x, y) = 1/2 (s(x) - y)^2, the parameters w an argument."""
    score = flat_forward(model)

    def error(w: Sequence[Value], x: Sequence[Any], y: Any) -> Value:
        d = score(w, x) - y
        e: Value = 0.5 * d * d
        return e

    return error


def per_example_gradients(
    program: autograd.Program, w: Sequence[float], X: Sequence[Sequence[float]], Y: Sequence[int]
) -> tuple[Vector, list[Vector]]:
    """All n values E_x and gradients dE_x/dw by one ``program.batch`` (w repeated per example)."""
    values, (gw, _, _) = program.batch([list(w)] * len(X), [list(x) for x in X], list(Y))
    return [float(v) for v in values], [[float(g) for g in row] for row in gw]


def full_gradient(model: MLP, X: Sequence[Sequence[float]], Y: Sequence[int]) -> tuple[float, Vector]:
    """E = 1/n sum 1/2 (s(x) - y)^2 built eagerly on the model, and its gradient by backward()."""
    model.zero_grad()
    loss = half_squared_error([model(x) for x in X], list(Y))
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def loop_gradients(model: MLP, X: Sequence[Sequence[float]], Y: Sequence[int]) -> list[Vector]:
    """Each example's gradient by its own backward() on the model."""
    out = []
    for x, y in zip(X, Y):
        model.zero_grad()
        s = model(x)
        assert isinstance(s, Value)
        (0.5 * (s - y) * (s - y)).backward()
        out.append([p.grad for p in model.parameters()])
    return out


def mean_rows(rows: Sequence[Sequence[float]]) -> Vector:
    n = len(rows)
    return [math.fsum(col) / n for col in zip(*rows)]


def norm(v: Sequence[float]) -> float:
    return math.sqrt(math.fsum(a * a for a in v))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na, nb = norm(a), norm(b)
    return math.fsum(x * y for x, y in zip(a, b)) / (na * nb) if na and nb else 0.0


def max_rel_diff(a: Sequence[float], b: Sequence[float]) -> float:
    """max |a_i - b_i| / max(|a_i|, |b_i|) (0 where both are 0)."""
    return max((abs(x - y) / max(abs(x), abs(y)) for x, y in zip(a, b) if x or y), default=0.0)


@dataclass
class Spread:
    """Per-example gradients at one parameter vector: their cosines with the mean, norms."""

    when: str
    loss: float
    G: list[Vector]
    g: Vector
    cosines: Vector = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cosines = [cosine(gx, self.g) for gx in self.G]


@dataclass
class Result:
    n: int
    n_params: int
    weights: list[tuple[str, int]]  # (name, index) of the weights whose components are shown
    first_seconds: float  # the first batch call, which builds the batch program
    batch_seconds: float
    loop_seconds: float
    loop_diff: float  # max |batch - loop of backward()| over all per-example components
    mean_rel_diff: float  # max relative |mean of per-example grads - full-batch gradient|
    spreads: list[Spread]
    sgd: list[float]  # loss E after each epoch (index 0: before training)
    full: list[float]
    sgd_epochs: int
    full_epochs: int
    sgd_seconds: float
    full_seconds: float
    backend: str


def descend_full(
    program: autograd.Program, w: Vector, X: Any, Y: Any, epochs: int
) -> tuple[Vector, list[float]]:
    """Full-batch gradient descent: each step the mean of the n per-example gradients."""
    losses = []
    for _ in range(epochs):
        vals, G = per_example_gradients(program, w, X, Y)
        losses.append(math.fsum(vals) / len(vals))
        g = mean_rows(G)
        w = [a - FULL_LR * b for a, b in zip(w, g)]
    vals, _ = per_example_gradients(program, w, X, Y)
    return w, [*losses, math.fsum(vals) / len(vals)]


def descend_sgd(
    program: autograd.Program, w: Vector, X: Any, Y: Any, epochs: int, seed: int
) -> tuple[Vector, list[float]]:
    """SGD: one step per example (the compiled one-example program), shuffled every epoch."""
    rng = random.Random(seed)
    n = len(X)
    losses = []
    for _ in range(epochs):
        vals, _ = per_example_gradients(program, w, X, Y)
        losses.append(math.fsum(vals) / n)
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            _, (gw, _, _) = program.value_and_grad(w, X[i], Y[i])
            w = [a - SGD_LR * b for a, b in zip(w, gw)]
    vals, _ = per_example_gradients(program, w, X, Y)
    return w, [*losses, math.fsum(vals) / n]


def run(quick: bool, seed: int = 0) -> Result:
    n = 40 if quick else 100
    sgd_epochs, full_epochs = (5, 20) if quick else (100, 1000)
    Xi, labels = make_moons(n, 0.1, seed=seed)
    Y = signed(labels)
    X = [list(x) for x in Xi]
    model = MLP(2, [*HIDDEN, 1], activation="tanh", seed=seed)
    params = model.parameters()
    w0 = [p.data for p in params]
    program = autograd.trace(example_error(model), w0, X[0], Y[0])

    t = time.perf_counter()
    _, G = per_example_gradients(program, w0, X, Y)
    first_seconds = time.perf_counter() - t  # builds the batch program of the traced variant
    t = time.perf_counter()
    _, G = per_example_gradients(program, w0, X, Y)
    batch_seconds = time.perf_counter() - t
    t = time.perf_counter()
    L = loop_gradients(model, X, Y)
    loop_seconds = time.perf_counter() - t
    loop_diff = max(abs(a - b) for ra, rb in zip(G, L) for a, b in zip(ra, rb))
    loss0, g = full_gradient(model, X, Y)
    mean_diff = max_rel_diff(mean_rows(G), g)

    t = time.perf_counter()
    w_full, full = descend_full(program, w0, X, Y, full_epochs)
    full_seconds = time.perf_counter() - t
    t = time.perf_counter()
    _, sgd = descend_sgd(program, w0, X, Y, sgd_epochs, seed)
    sgd_seconds = time.perf_counter() - t

    spreads = [Spread("at the start", loss0, G, mean_rows(G))]
    vals, G_end = per_example_gradients(program, w_full, X, Y)
    spreads.append(Spread(f"after {full_epochs} full-batch epochs", math.fsum(vals) / n, G_end,
                          mean_rows(G_end)))
    names = [name for name, _ in model.named_parameters()]
    first = 3 * HIDDEN[0]  # layer 0: HIDDEN[0] neurons of 2 weights and a bias
    picks = [0, first, len(params) - HIDDEN[-1] - 1, len(params) - 1]
    weights = [(names[i], i) for i in picks]
    return Result(n, len(params), weights, first_seconds, batch_seconds, loop_seconds, loop_diff, mean_diff,
                  spreads, sgd, full, sgd_epochs, full_epochs, sgd_seconds, full_seconds,
                  autograd.programs.batch.default_backend())


def evaluations_to(losses: Sequence[float], per_epoch: int, target: float) -> int | None:
    """Gradient evaluations until the loss (after an epoch) is below target, or None."""
    return next((k * per_epoch for k, loss in enumerate(losses) if loss < target), None)


def report(r: Result) -> None:
    print(f"MLP(2 -> {HIDDEN[0]} tanh -> {HIDDEN[1]} tanh -> 1 linear): {r.n_params} parameters; "
          f"{r.n} moons points; E = 1/n sum_x E_x, E_x = 1/2 (s(x) - y)^2")
    print(f"per-example gradients by one program.batch ({r.backend} backend): {r.n} x {r.n_params} "
          f"in {1e3 * r.batch_seconds:.1f} ms (the first call, which builds the batch program: "
          f"{1e3 * r.first_seconds:.0f} ms); a loop of backward(): {1e3 * r.loop_seconds:.1f} ms")
    print(f"  largest |batch - loop of backward()| over all components: {r.loop_diff:.1e}")
    print(f"  mean of the per-example gradients against the full-batch gradient of E (backward()):"
          f" max relative difference {r.mean_rel_diff:.1e}")
    for s in r.spreads:
        cs = s.cosines
        neg = sum(c < 0 for c in cs)
        ratio = sum(norm(gx) for gx in s.G) / len(s.G) / norm(s.g)
        print(f"{s.when} (E = {s.loss:.4f}): cos(g_x, g) min {min(cs):+.2f}, median "
              f"{statistics.median(cs):+.2f}, max {max(cs):+.2f}; {neg} of {len(cs)} examples point uphill "
              f"(cos < 0); mean |g_x| / |g| = {ratio:.1f}")
        for name, i in r.weights:
            comp = [gx[i] for gx in s.G]
            m = s.g[i]
            sd = math.sqrt(math.fsum((c - m) ** 2 for c in comp) / len(comp))
            against = sum((c > 0) != (m > 0) for c in comp if c)
            print(f"  dE/d{name}: full {m:+.4f}, per-example sd {sd:.4f}, "
                  f"{against} of {len(comp)} of the other sign")
    print(f"SGD (lr {SGD_LR}, {r.sgd_epochs} epochs, {r.sgd_seconds:.1f} s) against full-batch "
          f"descent (lr {FULL_LR}, {r.full_epochs} epochs, {r.full_seconds:.1f} s); E after epoch:")
    for k in sorted({1, 10, r.sgd_epochs, r.full_epochs} & set(range(len(r.full)))):
        sgd = f"{r.sgd[k]:.4f}" if k < len(r.sgd) else "-"
        print(f"  epoch {k:>4}: SGD {sgd:>7}, full batch {r.full[k]:.4f}  "
              f"({k * r.n:,} gradient evaluations)")
    for what, losses in (("SGD", r.sgd), ("full batch", r.full)):
        evals = evaluations_to(losses, r.n, TARGET)
        got = f"{evals:,} gradient evaluations" if evals is not None else "not reached"
        print(f"  E < {TARGET} with {what}: {got}")


def plot(r: Result, out: Path, plt: Any) -> None:
    start = r.spreads[0]
    fig, axes = plt.subplots(2, 2, figsize=(8, 6))
    for ax, (name, i) in zip(axes.flat, r.weights):
        ax.hist([gx[i] for gx in start.G], bins=30, color="#7f9cc9")
        ax.axvline(start.g[i], color="#c0392b", label="mean = full-batch gradient")
        ax.set_title(f"dE_x/d{name}", fontsize=9)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"per-example gradient components over {r.n} examples (at the start)", fontsize=10)
    _article.save(fig, out / "components.png", plt)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    _cosines(ax, r)
    _article.save(fig, out / "cosines.png", plt)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, per in ((a1, False), (a2, True)):
        _curves(ax, r, per)
    _article.save(fig, out / "sgd.png", plt)

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(11, 3.3))
    (n1, i1), (n2, i2) = r.weights[0], r.weights[2]
    a1.scatter([gx[i1] for gx in start.G], [gx[i2] for gx in start.G], s=9, color="#7f9cc9",
               label="one example's g_x")
    a1.scatter([start.g[i1]], [start.g[i2]], s=60, marker="x", color="#c0392b",
               label="their mean: g")
    a1.axhline(0, color="0.7", lw=0.5)
    a1.axvline(0, color="0.7", lw=0.5)
    a1.set_xlabel(f"dE_x/d{n1}", fontsize=8)
    a1.set_ylabel(f"dE_x/d{n2}", fontsize=8)
    a1.legend(fontsize=7)
    a1.set_title("two components, at the start", fontsize=9)
    _cosines(a2, r)
    _curves(a3, r, True)
    _article.save(fig, out / "overview.png", plt)


def _cosines(ax: Any, r: Result) -> None:
    for s, color in zip(r.spreads, ("#7f9cc9", "#c0392b")):
        ax.hist(s.cosines, bins=20, range=(-1, 1), alpha=0.6, color=color,
                label=f"{s.when} (E = {s.loss:.3f})")
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("cos(g_x, g)", fontsize=8)
    ax.set_ylabel("examples", fontsize=8)
    ax.set_title("angle of each example's gradient to the full one", fontsize=9)
    ax.legend(fontsize=7)


def _curves(ax: Any, r: Result, per_evaluation: bool) -> None:
    scale = r.n if per_evaluation else 1
    ax.plot([k * scale for k in range(len(r.sgd))], r.sgd, color="#2952a3",
            label=f"SGD, one example a step (lr {SGD_LR})")
    ax.plot([k * scale for k in range(len(r.full))], r.full, color="#c0392b",
            label=f"full batch (lr {FULL_LR})")
    ax.set_yscale("log")
    ax.set_xscale("log" if per_evaluation else "linear")
    if not per_evaluation:
        ax.set_xlim(0, 2 * r.sgd_epochs)
    ax.set_xlabel("gradient evaluations (one per example)" if per_evaluation else "epoch", fontsize=8)
    ax.set_ylabel("E", fontsize=8)
    ax.set_title("loss E against " + ("gradient evaluations" if per_evaluation else "epochs"),
                 fontsize=9)
    ax.legend(fontsize=7)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main(NAME, __doc__, argv, run, report, plot)


if __name__ == "__main__":
    main()
