"""Learn XOR, the function a single neuron cannot represent: ``python -m demos.xor``.

An MLP(2, [4, 1]) with tanh hidden units and a linear output (a logit) is trained with binary
cross-entropy on the four points (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0, full batch, with Adam.
It prints each point's output probability sigma(logit); every output ends on the right side
of 1/2. ``--out DIR`` also saves the trained model there as JSON.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograd import Value, no_grad
from nn import MLP, Adam, binary_cross_entropy_with_logits, xor


@dataclass
class XorResult:
    model: MLP
    X: list[list[float]]
    y: list[int]
    logits: list[float]  # of the trained model
    losses: list[float] = field(default_factory=list)

    @property
    def correct(self) -> list[bool]:
        """Is each output on the right side (logit > 0 exactly when the target is 1)?"""
        return [(z > 0) == (t == 1) for z, t in zip(self.logits, self.y)]


def as_list(out: Value | list[Value]) -> list[Value]:
    return out if isinstance(out, list) else [out]


def sigmoid(z: float) -> float:
    return Value(z).sigmoid().data


def train(steps: int = 300, seed: int = 0, hidden: int = 4, lr: float = 0.05) -> XorResult:
    """Full-batch Adam on binary cross-entropy: $-[t \\log \\sigma(z) + (1-t)\\log(1-\\sigma(z))]$."""
    X, y = xor()
    model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
    opt = Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        logits = [model(x) for x in X]
        loss = binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    with no_grad():
        final = [v.data for x in X for v in as_list(model(x))]
    return XorResult(model, X, y, final, losses)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m demos.xor", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--hidden", type=int, default=4, help="hidden tanh units (default 4)")
    p.add_argument("--lr", type=float, default=0.05, help="Adam learning rate (default 0.05)")
    p.add_argument("--out", type=Path, default=None, help="folder to save model.json in")
    args = p.parse_args(argv)
    if args.steps < 1 or args.hidden < 1:
        p.error("--steps and --hidden must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> XorResult:
    args = parse_args(argv)
    r = train(args.steps, args.seed, args.hidden, args.lr)
    print(f"{r.model.summary()}, {args.steps} Adam steps, final loss {r.losses[-1]:.4f}")
    print(" x1  x2 | target | output sigma(z) | right side?")
    for x, t, z, ok in zip(r.X, r.y, r.logits, r.correct):
        print(f" {x[0]:.0f}   {x[1]:.0f}  |   {t}    |     {sigmoid(z):.4f}      | {'yes' if ok else 'NO'}")
    print(f"{sum(r.correct)} of 4 outputs on the right side of 1/2")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"wrote trained model: {r.model.save(args.out / 'xor_model.json')}")
    return r


if __name__ == "__main__":
    main()
