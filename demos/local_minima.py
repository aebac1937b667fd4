"""Where gradient descent gets stuck: XOR from 100 seeds, the 8-3-8 encoder: ``python -m demos.local_minima``.

Reproduces the article's section "Limitations": gradient descent with backpropagation is not
guaranteed to find the global minimum of the error, and it has trouble crossing plateaus.

1. XOR on a 2-2-1 network of logistic neurons (with biases; 9 weights drawn from U(-1, 1) by
   ``random.Random(seed)``), E = sum over the four cases of 1/2 (t - y)^2, full-batch gradient
   descent with eta = 2 for 4000 steps, from seeds 0-99. A run counts as solved when E < 0.02 (E
   reaches 0 only as the weights go to infinity). For every run that is not, the demo prints
   its final E, the length of its gradient and the smallest eigenvalue of its Hessian
   (``autograd.hessian``): a stalled run with a tiny gradient and no negative curvature sits on
   a flat plateau or in a local minimum; a negative eigenvalue means a saddle. It then trains
   the stalled runs for 4 times as many steps again (``--quick``: as many) and counts how
   many escape. Plots: ``xor_final_errors.png`` (histogram of the final errors) and
   ``xor_curves.png``.
2. The 8-3-8 encoder of Rumelhart, Hinton and Williams (`demos.encoder`: 8 one-hot patterns
   through 3 logistic hidden units, Adam, 2000 steps) from seeds 0-9, with and without the
   noise on the hidden units that `demos.encoder` adds. Success criterion: all 8 patterns are
   reproduced (the largest output is the unit that was on) and the 8 hidden codes are distinct
   and binary (every hidden activation below 0.2 or above 0.8). Plot: ``encoder.png``.

The numbers are measured, not assumed: the counts printed are the ones of this run. The full
run takes about 2 minutes of CPU time (more on a busy machine); ``--quick`` uses seeds 0-9 and
fewer steps (XOR) and seeds 0-1 (encoder).
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

from . import _article, encoder
from ._article import eigenvalues, save

CASES = (((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0))
ETA = 2.0
SOLVED = 0.02  # E below this: every output within about 0.1 of its target


def xor_error(*p: Any) -> Any:
    """E of the 2-2-1 logistic net with weights p = (w11, w12, b1, w21, w22, b2, v1, v2, c):
    hidden h_j = phi(w_j1 x1 + w_j2 x2 + b_j), output y = phi(v1 h1 + v2 h2 + c)."""
    terms = []
    for (x1, x2), t in CASES:
        h1 = (p[0] * x1 + p[1] * x2 + p[2]).sigmoid()
        h2 = (p[3] * x1 + p[4] * x2 + p[5]).sigmoid()
        y = (p[6] * h1 + p[7] * h2 + p[8]).sigmoid()
        terms.append(0.5 * (t - y) ** 2)
    return autograd.sum(terms)


def outputs(w: Sequence[float]) -> list[float]:
    """The network's output y for each of the four cases."""
    ys = []
    with autograd.no_grad():
        for (x1, x2), _t in CASES:
            h1 = (Value(w[0]) * x1 + w[1] * x2 + w[2]).sigmoid()
            h2 = (Value(w[3]) * x1 + w[4] * x2 + w[5]).sigmoid()
            ys.append((w[6] * h1 + w[7] * h2 + w[8]).sigmoid().data)
    return ys


def initial_weights(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(9)]


@dataclass
class XorRun:
    seed: int
    weights: list[float]
    errors: list[float]  # E before each step, and at the end
    grad_norm: float = 0.0
    min_eigenvalue: float | None = None  # of the Hessian at the end, for runs not solved
    escaped_after: int | None = None  # extra steps after which a stalled run got below SOLVED
    extra_error: float | None = None  # E at the end of the extra training

    @property
    def solved(self) -> bool:
        return self.errors[-1] < SOLVED

    @property
    def plateau_steps(self) -> int | None:
        """Steps until E first fell below 0.4, leaving the plateau at E = 0.5 where all four
        outputs are near 1/2 (None if it never did)."""
        return next((k for k, e in enumerate(self.errors) if e < 0.4), None)


def descend(w: list[float], steps: int, eta: float = ETA,
            stop_below: float | None = None) -> tuple[list[float], list[float], float]:
    """Gradient descent on xor_error: the final weights, E before each step and at the end, and
    the final gradient's length."""
    w = list(w)
    errors = []
    g_norm = 0.0
    for k in range(steps + 1):
        p = [Value(v) for v in w]
        E = xor_error(*p)
        E.backward()
        errors.append(E.data)
        g_norm = math.sqrt(sum(v.grad ** 2 for v in p))
        if k == steps or (stop_below is not None and E.data < stop_below):
            break
        w = [v.data - eta * v.grad for v in p]
    return w, errors, g_norm


@dataclass
class EncoderRun:
    seed: int
    noise: float
    result: encoder.EncoderResult

    @property
    def success(self) -> bool:
        r = self.result
        return all(r.reconstructed) and r.binary and len(set(r.codes)) == len(r.patterns)


@dataclass
class Result:
    steps: int
    extra_steps: int
    xor: list[XorRun] = field(default_factory=list)
    encoder_steps: int = 0
    encoder: list[EncoderRun] = field(default_factory=list)

    @property
    def stalled(self) -> list[XorRun]:
        return [r for r in self.xor if not r.solved]


def run(quick: bool = False) -> Result:
    seeds = range(10) if quick else range(100)
    r = Result(steps=1000 if quick else 4000, extra_steps=0)
    r.extra_steps = r.steps if quick else 4 * r.steps
    for s in seeds:
        w0 = initial_weights(s)
        w, errors, g = descend(w0, r.steps)
        run_ = XorRun(s, w, errors, g)
        if not run_.solved:
            eig = eigenvalues(autograd.hessian(xor_error, w))
            run_.min_eigenvalue = eig[0]
            _, more, _ = descend(w, r.extra_steps, stop_below=SOLVED)
            run_.extra_error = more[-1]
            if more[-1] < SOLVED:
                run_.escaped_after = len(more) - 1
        r.xor.append(run_)
    r.encoder_steps = 300 if quick else 2000
    for noise in (1.0, 0.0):
        for s in (range(2) if quick else range(10)):
            res = encoder.train(steps=r.encoder_steps, seed=s, noise=noise)
            r.encoder.append(EncoderRun(s, noise, res))
    return r


def report(r: Result) -> None:
    seeds = [x.seed for x in r.xor]
    solved = sum(x.solved for x in r.xor)
    print(f"XOR, 2-2-1 logistic network, E = sum of 1/2 (t - y)^2, gradient descent eta = {ETA}, "
          f"{r.steps} steps, seeds {seeds[0]}-{seeds[-1]}:")
    print(f"  solved (E < {SOLVED}): {solved} of {len(r.xor)}")
    left = sorted(k for x in r.xor if x.solved and (k := x.plateau_steps) is not None)
    if left:
        print(f"    steps on the starting plateau E = 0.5 (until E < 0.4) before solving: fewest "
              f"{left[0]}, median {left[len(left) // 2]}, most {left[-1]}")
    print(f"  stalled: {len(r.stalled)} of {len(r.xor)}")
    if r.stalled:
        print("    seed | final E  | |grad E|  | smallest Hessian | y for (0,0) (0,1) (1,0) (1,1) | "
              f"after {r.extra_steps} more steps")
        print("         |          |           | eigenvalue       | targets 0     1     1     0   |")
        for x in r.stalled:
            later = (f"solved after {x.escaped_after} more steps" if x.escaped_after is not None
                     else f"still stalled, E = {x.extra_error:.4f}")
            ys = "  ".join(f"{y:.3f}" for y in outputs(x.weights))
            print(f"    {x.seed:4d} | {x.errors[-1]:.5f}  | {x.grad_norm:.2e}  | {x.min_eigenvalue:+.3e}"
                  f"       | {ys:<29} | {later}")
        escaped = sum(x.escaped_after is not None for x in r.stalled)
        print(f"  of the {len(r.stalled)} stalled runs, {escaped} got below E = {SOLVED} in "
              f"{r.extra_steps} more steps and {len(r.stalled) - escaped} did not")
    print(f"8-3-8 encoder (demos.encoder, Adam, {r.encoder_steps} steps); success = all 8 patterns "
          "reproduced and 8 distinct binary hidden codes:")
    for noise in (1.0, 0.0):
        runs = [e for e in r.encoder if e.noise == noise]
        ok = [e.seed for e in runs if e.success]
        print(f"  noise sd {noise} on the hidden units during training: {len(ok)} of {len(runs)} "
              f"seeds ({runs[0].seed}-{runs[-1].seed}) succeed; successful seeds {ok}")


def plot(r: Result, out: Path, plt: Any) -> None:
    finals = [max(x.errors[-1], 1e-6) for x in r.xor]
    lo = min(-4.0, math.floor(math.log10(min(finals))))
    bins = [10 ** (lo + k * (0.0 - lo) / 40) for k in range(41)]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist([e for e, x in zip(finals, r.xor) if x.solved], bins=bins, color="#2952a3",
            label=f"solved: {sum(x.solved for x in r.xor)}")
    ax.hist([e for e, x in zip(finals, r.xor) if not x.solved], bins=bins, color="#c0392b",
            label=f"stalled: {len(r.stalled)}")
    ax.axvline(SOLVED, color="k", ls=":", label=f"E = {SOLVED}")
    ax.set_xscale("log")
    ax.set_xlabel(f"error E after {r.steps} steps")
    ax.set_ylabel("number of seeds")
    ax.set_title(f"XOR 2-2-1, gradient descent from {len(r.xor)} seeds: final errors")
    ax.legend()
    save(fig, out / "xor_final_errors.png", plt)

    fig, ax = plt.subplots(figsize=(7, 4))
    for x in r.xor:
        ax.plot(x.errors, color="#c0392b" if not x.solved else "#2952a3",
                alpha=0.9 if not x.solved else 0.25, lw=1.2 if not x.solved else 0.8)
    ax.axhline(SOLVED, color="k", ls=":", lw=1, label=f"E = {SOLVED}")
    ax.plot([], [], color="#2952a3", label="solved")
    ax.plot([], [], color="#c0392b", label="stalled")
    ax.set_yscale("log")
    ax.set_xlabel("gradient descent step")
    ax.set_ylabel("error E")
    ax.set_title("XOR 2-2-1: error curves (plateaus are the flat stretches)")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out / "xor_curves.png", plt)

    fig, ax = plt.subplots(figsize=(7, 4))
    for noise, color, dx in ((1.0, "#2952a3", -0.12), (0.0, "#c0392b", 0.12)):
        runs = [e for e in r.encoder if e.noise == noise]
        for e in runs:
            ax.plot(e.seed + dx, e.result.losses[-1], "o", ms=9, color=color,
                    mfc=color if e.success else "white", mew=2)
        ax.plot([], [], "o", color=color, label=f"noise sd {noise}")
    ax.plot([], [], "o", color="grey", label="filled: success", mfc="grey")
    ax.plot([], [], "o", color="grey", label="open: failure", mfc="white", mew=2)
    ax.set_xticks(sorted({e.seed for e in r.encoder}))
    ax.set_xlabel("seed")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("loss of the last training step")
    ax.set_title(f"8-3-8 encoder, {r.encoder_steps} Adam steps: success (filled) per seed")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, out / "encoder.png", plt)


def main(argv: Sequence[str] | None = None) -> Result:
    return _article.main("local_minima", __doc__, argv, lambda quick: run(quick=quick), report, plot)


if __name__ == "__main__":
    main()
