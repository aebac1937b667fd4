"""Train micrograd's demo network on the two moons: ``python -m demos.moons``.

The setup of micrograd's demo.ipynb: an MLP(2, [16, 16, 1]) (ReLU hidden layers, linear
output), 100 moons points with noise 0.1 and labels -1/+1, the max-margin (hinge) loss plus
1e-4 L2 regularization, and 100 full-batch SGD steps with learning rate 1.0 - 0.9 k / 100.
The data come from `nn.datasets.make_moons` (no scikit-learn).

By default one point's share of the loss is traced once (`autograd.trace`) and each step runs
it over the 100 points with ``program.batch``, which adds the gradient of the whole loss into
the weights' ``.grad``: the losses are the eager run's up to rounding (about 1e-14 relative),
several times faster. ``--eager`` builds the graph and calls ``backward()`` every step, as
micrograd does.

Writes into ``--out`` (default ``out/``): ``decision_boundary.png``, ``loss.png`` and
``model.json`` (reload it with ``nn.load_model``). Needs the demo extras for the pictures and
the progress bar: ``pip install -e '.[demo]'`` (matplotlib, tqdm).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd
from autograd import Value, no_grad
from autograd.programs import ProgramError
from nn import MLP, SGD, Adam, LinearDecay, hinge, l2, make_moons, signed
from nn.optim import Optimizer

DEMO_EXTRAS = "pip install -e '.[demo]'  (or: pip install matplotlib tqdm)"


@dataclass
class TrainResult:
    """What `train` returns: the model, the data, and the loss/accuracy of every step."""

    model: MLP
    X: list[list[float]]
    y: list[int]  # -1 / +1
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)  # before each step's update
    final_accuracy: float = 0.0  # of the trained model, after the last update
    seconds: float = 0.0
    compiled: bool = False  # trained by a compiled program (else eagerly, backward() each step)
    compile_seconds: float = 0.0  # of `seconds`, the time spent tracing the loss


def accuracy(scores: Sequence[Any], y: Sequence[int]) -> float:
    """Fraction of points on the right side: sign(score) == label (labels -1/+1)."""
    right: int = sum((s.data > 0) == (t > 0) for s, t in zip(scores, y))
    return right / len(y)


def score(model: MLP, x: Sequence[float]) -> float:
    """The model's score for one point (its single output)."""
    out = model(x)
    if not isinstance(out, Value):
        raise TypeError(f"expected a model with one output, got {len(out)}")
    return out.data


def make_optimizer(name: str, params: list[Value], lr: float | None, steps: int) -> Optimizer:
    """micrograd's SGD with linear decay (lr 1.0 -> 0.1), or Adam with the same decay."""
    if name == "sgd":
        start = 1.0 if lr is None else lr
        return SGD(params, lr=LinearDecay(start, 0.1 * start, steps))
    if name == "adam":
        start = 0.05 if lr is None else lr
        return Adam(params, lr=LinearDecay(start, 0.1 * start, steps))
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


class BatchedLoss:
    """The loss as one point's share, traced once and run over all the points each step.

    ``share(x, t, d) = max(0, 1 - (s(x) + d) t) / n + (alpha / n) sum_p p^2`` is traced
    (`autograd.trace`) on the first point; each `step()` runs it over the n points by one
    ``program.batch`` at the current weights, which adds the gradient of the sum of the shares
    (hinge + L2, micrograd's loss) into the parameters' ``.grad``, and returns (loss, accuracy).
    The L2 term does not depend on the point, so the batch computes it once.

    The accuracy comes out of the per-example gradients that batch returns with respect to the
    arguments: d = 0 changes no number, and d share / d d = -t r / n, d share / d t = -(s + d) r / n
    with r = 1 where the hinge is active (t s < 1), else 0. So where d share / d d is nonzero,
    s > 0 exactly when d share / d t < 0; where it is zero the hinge is inactive, t s >= 1, and
    the point is right.
    """

    def __init__(self, model: MLP, X: Sequence[Sequence[float]], y: Sequence[int], alpha: float) -> None:
        self.X = [list(x) for x in X]
        self.y = [float(t) for t in y]
        self.zeros = [0.0] * len(self.X)
        n = len(self.X)
        params = model.parameters()

        def share(x: list[Value], t: Value, d: Value) -> Value:
            s = model(x)
            if not isinstance(s, Value):
                raise TypeError(f"expected a model with one output, got {len(s)}")
            out: Value = (1.0 - (s + d) * t).relu() * (1.0 / n) + l2(params, alpha / n)
            return out

        self.program = autograd.trace(share, self.X[0], self.y[0], 0.0)

    def step(self) -> tuple[float, float]:
        values, (_, gt, gd) = self.program.batch(self.X, self.y, self.zeros)
        right = 0
        for a, b, t in zip(gt, gd, self.y):
            right += b == 0.0 or (a < 0) == (t > 0)
        return math.fsum(values), right / len(self.y)


def train(
    steps: int = 100,
    seed: int = 0,
    hidden: Sequence[int] = (16, 16),
    optimizer: str = "sgd",
    lr: float | None = None,
    n: int = 100,
    noise: float = 0.1,
    alpha: float = 1e-4,
    on_step: Callable[[int, float, float], None] | None = None,
    compiled: bool = True,
) -> TrainResult:
    """Full-batch training as in micrograd's demo; `on_step(k, loss, accuracy)` after each step.

    ``compiled``: run one point's traced program over the batch each step (`BatchedLoss`: the
    eager run's losses and gradients up to rounding, about 1e-14), else build the graph and call
    ``backward()`` each step. A model whose graph cannot be traced is trained eagerly, with a note."""
    X, labels = make_moons(n, noise, seed=seed)
    y = signed(labels)
    model = MLP(2, [*hidden, 1], seed=seed)
    params = model.parameters()
    opt = make_optimizer(optimizer, params, lr, steps)
    result = TrainResult(model, X, y)
    start = time.perf_counter()
    program: BatchedLoss | None = None
    if compiled:
        try:
            program = BatchedLoss(model, X, y, alpha)
        except ProgramError as e:
            print(f"moons: training eagerly, the loss cannot be traced: {e}", file=sys.stderr)
        result.compiled = program is not None
        result.compile_seconds = time.perf_counter() - start
    for k in range(steps):
        if program is not None:
            opt.zero_grad()
            value, acc = program.step()
        else:
            scores = [model(x) for x in X]
            loss = hinge(scores, y) + l2(params, alpha)
            acc = accuracy(scores, y)
            opt.zero_grad()
            loss.backward()
            value = loss.data
        opt.step()
        result.losses.append(value)
        result.accuracies.append(acc)
        if on_step is not None:
            on_step(k, value, acc)
    with no_grad():
        result.final_accuracy = accuracy([model(x) for x in X], y)
    result.seconds = time.perf_counter() - start
    return result


def grid_scores(model: MLP, points: Sequence[Sequence[float]]) -> list[float]:
    """The model's score at every point, by its traced program over the points at once (equal to
    ``score`` up to rounding). The model's ``.grad`` is left as it was."""
    keep = [p.grad for p in model.parameters()]
    program = autograd.trace(lambda x: model(x), list(points[0]))
    values, _ = program.batch([list(p) for p in points])
    for p, g in zip(model.parameters(), keep):  # batch added the scores' gradient: put back
        p.grad = g
    return [float(v) for v in values]


def _grid(lo: float, hi: float, k: int) -> list[float]:
    return [lo + (hi - lo) * i / (k - 1) for i in range(k)]


def plot_decision_boundary(result: TrainResult, path: Path, plt: Any, resolution: int = 70) -> None:
    """The model's score over a grid (sign = predicted class) and the training points."""
    xs0 = [p[0] for p in result.X]
    xs1 = [p[1] for p in result.X]
    gx = _grid(min(xs0) - 0.5, max(xs0) + 0.5, resolution)
    gy = _grid(min(xs1) - 0.5, max(xs1) + 0.5, resolution)
    model = result.model
    if result.compiled:
        flat = grid_scores(model, [[a, b] for b in gy for a in gx])
        z = [flat[i : i + len(gx)] for i in range(0, len(flat), len(gx))]
    else:
        with no_grad():
            z = [[score(model, [a, b]) for a in gx] for b in gy]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(gx, gy, z, levels=[-1e9, 0.0, 1e9], colors=["#f4b6b6", "#b6cdf4"], alpha=0.8)
    ax.contour(gx, gy, z, levels=[0.0], colors="k", linewidths=1.0)
    for label, color in ((-1, "#c0392b"), (1, "#2952a3")):
        pts = [p for p, t in zip(result.X, result.y) if t == label]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=color, s=22, edgecolors="k",
                   linewidths=0.5, label=f"y = {label:+d}")
    ax.set_title(f"{model.summary()}\ntraining accuracy {result.final_accuracy:.0%}")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_loss(result: TrainResult, path: Path, plt: Any) -> None:
    """Loss (hinge + L2) and training accuracy against the step."""
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = range(len(result.losses))
    ax.plot(steps, result.losses, color="#2952a3", label="loss (hinge + L2)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax2 = ax.twinx()
    ax2.plot(steps, [100 * a for a in result.accuracies], color="#c0392b", label="accuracy")
    ax2.set_ylabel("training accuracy (%)")
    ax2.set_ylim(0, 105)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"expected positive sizes like 16,16, got {text!r}")
    return sizes


def _positive(text: str) -> int:
    k = int(text)
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {k}")
    return k


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m demos.moons",
        description="Train micrograd's demo MLP on the two moons; save plots and the model.",
    )
    p.add_argument("--steps", type=_positive, default=100, help="training steps (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed for the data and the weights")
    p.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden sizes (default 16,16)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=None,
                   help="starting learning rate, decayed linearly to 10%% (sgd 1.0, adam 0.05)")
    p.add_argument("--n", type=_positive, default=100, help="number of points (default 100)")
    p.add_argument("--noise", type=float, default=0.1, help="noise of the moons (default 0.1)")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default out/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--compiled", dest="compiled", action="store_true", default=True,
                      help="train by one point's traced program run over the batch (the default)")
    mode.add_argument("--eager", dest="compiled", action="store_false",
                      help="build the graph and call backward() every step, as micrograd does")
    return p.parse_args(argv)


def _import_extras() -> tuple[Any, Any]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:
        raise SystemExit(
            f"demos.moons needs matplotlib and tqdm ({e.name or e} is missing): {DEMO_EXTRAS}"
        ) from None
    return plt, tqdm


def main(argv: Sequence[str] | None = None) -> TrainResult:
    args = parse_args(argv)
    plt, tqdm = _import_extras()
    args.out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=args.steps, desc="moons", unit="step", disable=args.quiet, file=sys.stderr)

    def progress(k: int, loss: float, acc: float) -> None:
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.0%}", refresh=False)
        bar.update(1)

    try:
        result = train(args.steps, args.seed, args.hidden, args.optimizer, args.lr, args.n,
                       args.noise, on_step=progress, compiled=args.compiled)
    finally:
        bar.close()
    files = {
        "decision boundary": args.out / "decision_boundary.png",
        "loss curve": args.out / "loss.png",
        "trained model": args.out / "model.json",
    }
    plot_decision_boundary(result, files["decision boundary"], plt)
    plot_loss(result, files["loss curve"], plt)
    result.model.save(files["trained model"])
    print(result.model.summary())
    how = (f"traced program over the batch, traced in {result.compile_seconds:.2f} s"
           if result.compiled else "eager, backward() each step")
    print(
        f"trained {args.steps} steps in {result.seconds:.2f} s ({how}): final loss "
        f"{result.losses[-1]:.4f}, training accuracy {result.final_accuracy:.0%}"
    )
    for what, path in files.items():
        print(f"wrote {what}: {path}")
    return result


if __name__ == "__main__":
    main()
