"""A training run as one self-contained HTML page to play: ``python -m demos.live``.

Trains micrograd's demo network (an MLP(2, [16, 16, 1]) on 100 moons points, hinge loss plus
1e-4 L2, full-batch SGD with learning rate 1.0 - 0.9 k / steps, as `demos.moons` does) for 200
steps, or a smaller one chosen by the flags, and records every step: the loss, the accuracy,
every weight and its gradient, and for one input point (``--point I``) every neuron's value and
adjoint (d loss / d node, read from the engine's ``.grad`` after ``loss.backward()``) with its
local derivative (`autograd.local_grads`). The default point is the one nearest to a point of
the other class, so its hinge term, and its adjoints, stay nonzero for many steps.

Writes ``DIR/live.html`` (default ``out/live/``): one file, no network access, that draws the
network (edges coloured and sized by weight or, by a toggle, by gradient), the decision
boundary (recomputed in the page from the stored weights), the loss curve, a play button and a
step slider; hovering a neuron or an edge shows its value, adjoint and local derivative for the
chosen point at that step. ``--quick`` trains a small MLP(2, [8, 8, 1]) on 40 points for 60
steps.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd import OPS, Value, local_grads, no_grad
from autograd.symbolic import formula
from demos._article import parser
from demos._live_page import render
from demos.moons import accuracy
from nn import MLP, SGD, LinearDecay, hinge, l2, make_moons, signed

NODE_FIELDS = ("dot", "z", "y", "adj_z", "adj_y", "local")
"""What is recorded for each neuron and step, for the chosen point: the dot product w·h, the
pre-activation z = w·h + b, the output y = f(z), the adjoints d loss / d z and d loss / d y, and
the local derivative d y / d z (from the engine's rule; 1 for a linear neuron)."""

DIGITS = 4  # significant digits of the weights, gradients and node numbers stored in the page
MAX_BYTES = 5_000_000  # the page must stay under this


@dataclass
class Recording:
    """A training run, step by step. Step k's numbers are those of the forward and backward pass
    of step k, before its update: ``weights[k]`` gave ``losses[k]``, ``grads[k]`` is its
    gradient, and ``weights[k + 1] = weights[k] - lrs[k] * grads[k]``."""

    sizes: list[int]  # [2, 16, 16, 1]: the inputs, then each layer's width
    activations: list[str]  # one per layer: relu ... linear
    X: list[list[float]]
    y: list[int]  # -1 / +1
    point: int  # the index of the point whose nodes are recorded
    alpha: float  # the L2 factor
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    weights: list[list[float]] = field(default_factory=list)  # model.parameters() order
    grads: list[list[float]] = field(default_factory=list)
    nodes: list[list[list[float]]] = field(default_factory=list)  # [step][neuron][NODE_FIELDS]
    input_grads: list[list[float]] = field(default_factory=list)  # d loss / d x of the point
    final_weights: list[float] = field(default_factory=list)
    final_accuracy: float = 0.0
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.losses)


def _neuron_nodes(out: Value, activation: str) -> tuple[Value, Value]:
    """A neuron's dot node and pre-activation node, from its output node (nn.Neuron builds
    y = f(dot(w, h) + b), or y = dot(w, h) + b when linear)."""
    z = out if activation == "linear" else out._prev[0]
    return z._prev[0], z


def hard_point(X: Sequence[Sequence[float]], y: Sequence[int]) -> int:
    """The index of the point nearest to a point of the other class (the first if tied): one
    near the boundary, whose hinge term stays active for many steps, so its adjoints are not 0."""
    def gap(i: int) -> float:
        return min(math.dist(X[i], X[j]) for j in range(len(X)) if y[j] != y[i])

    return min(range(len(X)), key=gap)


def train(
    steps: int = 200,
    hidden: Sequence[int] = (16, 16),
    n: int = 100,
    seed: int = 0,
    point: int | None = None,
    noise: float = 0.1,
    alpha: float = 1e-4,
    lr: float = 1.0,
) -> Recording:
    """micrograd's demo training (full-batch SGD, lr decayed linearly to 10%), recorded."""
    X, labels = make_moons(n, noise, seed=seed)
    y = signed(labels)
    if point is None:
        point = hard_point(X, y)
    if not 0 <= point < len(X):
        raise ValueError(f"point {point} is out of range: there are {len(X)} points (0-{len(X) - 1})")
    model = MLP(2, [*hidden, 1], seed=seed)
    params = model.parameters()
    opt = SGD(params, lr=LinearDecay(lr, 0.1 * lr, steps))
    acts = [layer.activation for layer in model.layers]
    rec = Recording([2, *hidden, 1], acts, X, y, point, alpha)
    start = time.perf_counter()
    for _ in range(steps):
        # the chosen point goes through the layers one by one, so its neurons can be read
        h = [Value(v, label=f"x[{i}]") for i, v in enumerate(X[point])]
        inputs, outs = h, []
        for layer in model.layers:
            h = layer.forward(h)
            outs.append(h)
        scores: list[Any] = [h[0] if i == point else model(x) for i, x in enumerate(X)]
        loss = hinge(scores, y) + l2(params, alpha)
        rec.accuracies.append(accuracy(scores, y))
        rec.lrs.append(opt.current_lr)
        opt.zero_grad()
        loss.backward()
        rec.losses.append(loss.data)
        rec.weights.append([p.data for p in params])
        rec.grads.append([p.grad for p in params])
        row = []
        for layer_out, act in zip(outs, acts):
            for o in layer_out:
                d, z = _neuron_nodes(o, act)
                local = 1.0 if act == "linear" else local_grads(o)[0]
                row.append([d.data, z.data, o.data, z.grad, o.grad, local])
        rec.nodes.append(row)
        rec.input_grads.append([v.grad for v in inputs])
        opt.step()
    rec.seconds = time.perf_counter() - start
    rec.final_weights = [p.data for p in params]
    with no_grad():
        rec.final_accuracy = accuracy([model(x) for x in X], y)
    return rec


def _r(x: float, digits: int = DIGITS) -> float:
    return float(f"{x:.{digits}g}")


def _rows(rows: Sequence[Sequence[float]], digits: int = DIGITS) -> list[list[float]]:
    return [[_r(x, digits) for x in row] for row in rows]


def page_data(rec: Recording) -> dict[str, Any]:
    """What the page stores: the run's numbers, rounded (`DIGITS` significant digits; the loss
    and accuracy to 7), as arrays of numbers per step."""
    return {
        "sizes": rec.sizes,
        "activations": rec.activations,
        "X": _rows(rec.X, 6),
        "y": rec.y,
        "point": rec.point,
        "alpha": rec.alpha,
        "seconds": round(rec.seconds, 2),
        "fields": list(NODE_FIELDS),
        "lr": [_r(x, 7) for x in rec.lrs],
        "loss": [_r(x, 7) for x in rec.losses],
        "acc": [_r(x, 7) for x in rec.accuracies],
        "final": {"w": [_r(x) for x in rec.final_weights], "acc": rec.final_accuracy},
        "w": _rows(rec.weights),
        "g": _rows(rec.grads),
        "nodes": [[_r(x) for nd in row for x in nd] for row in rec.nodes],
        "xg": _rows(rec.input_grads),
        "rules": {  # the engine's local-derivative rules as text
            "relu": formula(OPS["relu"], ("z",), "y")[0],
            "add": formula(OPS["+"], ("s", "b"), "z")[0],
            "dot": list(formula(OPS["dot"], ("w", "h"), "s")),
        },
    }


def estimated_bytes(steps: int, hidden: Sequence[int]) -> int:
    """A bound on the page's size: at most 10 characters per stored number (a rounded float and
    its comma), per step 2 per parameter (weight, gradient) and 6 per neuron, plus 60 kB."""
    sizes = [2, *hidden, 1]
    params = sum(b * (a + 1) for a, b in zip(sizes, sizes[1:]))
    return 60_000 + 10 * steps * (2 * params + len(NODE_FIELDS) * sum(sizes[1:]) + 5)


def write_page(rec: Recording, out: Path) -> Path:
    """Write ``out/live.html`` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "live.html"
    data = json.dumps(page_data(rec), separators=(",", ":"), allow_nan=False)
    path.write_text(render(data), encoding="utf-8")
    return path


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 16,16, got {text!r}") from None
    if not 1 <= len(sizes) <= 4 or any(not 1 <= s <= 32 for s in sizes):
        raise argparse.ArgumentTypeError(
            f"expected 1 to 4 hidden layer sizes from 1 to 32 like 16,16, got {text!r}"
        )
    return sizes


def _count(low: int, high: int) -> Any:
    def check(text: str) -> int:
        try:
            k = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= k <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {k}")
        return k

    return check


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = parser("live", __doc__)
    p.add_argument("--steps", type=_count(1, 2000), default=None,
                   help="training steps (default 200; --quick: 60)")
    p.add_argument("--hidden", type=_sizes, default=None,
                   help="hidden layer sizes (default 16,16; --quick: 8,8)")
    p.add_argument("--n", type=_count(4, 500), default=None,
                   help="number of moons points (default 100; --quick: 40)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    p.add_argument("--point", type=int, default=None,
                   help="index of the input point whose nodes are recorded (default: the point "
                        "nearest to one of the other class)")
    p.add_argument("--lr", type=float, default=1.0,
                   help="starting learning rate, decayed linearly to 10%% (default 1.0)")
    args = p.parse_args(argv)
    quick = args.quick
    args.steps = args.steps or (60 if quick else 200)
    args.hidden = args.hidden or ([8, 8] if quick else [16, 16])
    args.n = args.n or (40 if quick else 100)
    if args.point is not None and not 0 <= args.point < args.n:
        p.error(f"--point {args.point} is out of range: there are {args.n} points (0-{args.n - 1})")
    size = estimated_bytes(args.steps, args.hidden)
    if size > MAX_BYTES:
        p.error(f"--steps {args.steps} with --hidden {','.join(map(str, args.hidden))} would make a "
                f"page of up to {size / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit: "
                "use fewer steps or smaller layers")
    if not 0 < args.lr <= 10:
        p.error(f"--lr must be > 0 and <= 10, got {args.lr}")
    return args


def main(argv: Sequence[str] | None = None) -> Recording:
    args = parse_args(argv)
    rec = train(args.steps, args.hidden, args.n, args.seed, args.point, lr=args.lr)
    path = write_page(rec, args.out)
    print(f"MLP(2, {[*args.hidden, 1]}), {len(rec.final_weights)} parameters, {args.n} points, "
          f"nodes recorded for point #{rec.point}")
    print(f"trained {rec.steps} steps in {rec.seconds:.1f} s: loss {rec.losses[0]:.4f} -> "
          f"{rec.losses[-1]:.4f}, training accuracy {rec.final_accuracy:.0%}")
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1e6:.2f} MB)")
    if size > MAX_BYTES:
        print(f"warning: the page is over {MAX_BYTES / 1e6:.0f} MB")
    return rec


if __name__ == "__main__":
    main()
