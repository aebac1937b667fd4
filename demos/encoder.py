"""The 8-3-8 encoder of Rumelhart, Hinton & Williams (1986): ``python -m demos.encoder``.

Eight one-hot input patterns must be reproduced at eight outputs through only three hidden
units, so the network has to invent a 3-bit code for the 8 patterns. The net: 8 inputs ->
3 sigmoid hidden units -> 8 logistic outputs (the outputs are logits trained with binary
cross-entropy), full-batch Adam. At the end it prints, for each pattern, the three hidden
activations and the bits they round to.

Backpropagation alone reproduces the patterns, but a hidden unit often settles at an
intermediate value such as 0.4 (with ``--noise 0``, 19 of seeds 0-19 end without 8 distinct
binary codes). To make the units commit to 0 or 1, Gaussian noise (sd ``--noise``, default 1.0)
is added to each hidden unit's input during training only, so only saturated, far-apart codes
survive it (17 of seeds 0-19 then end with 8 distinct binary codes).
The model is a small custom `nn.Module` built from two `nn.Layer` s, ``encoder`` and
``decoder``; ``--out DIR`` saves it there as JSON.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograd import Value, no_grad
from nn import Adam, Layer, Module, binary_cross_entropy_with_logits, encoder_patterns


class Autoencoder(Module):
    """$h = \\sigma(W_1 x + b_1 + \\epsilon)$, $z = W_2 h + b_2$ (logits of the reconstruction),
    with $\\epsilon \\sim N(0, s^2)$ during training and $\\epsilon = 0$ otherwise."""

    def __init__(self, n: int = 8, hidden: int = 3, seed: int = 0) -> None:
        rng = random.Random(seed)
        self.encoder = Layer(n, hidden, "linear", init="glorot_uniform", rng=rng)
        self.decoder = Layer(hidden, n, "linear", init="glorot_uniform", rng=rng)

    def code(self, x: Sequence[float], noise: float = 0.0,
             rng: random.Random | None = None) -> list[Value]:
        """The hidden units' activations for input x (with input noise if `noise` > 0)."""
        z = self.encoder.forward(x)
        if noise > 0.0 and rng is not None:
            return [(zi + rng.gauss(0.0, noise)).sigmoid() for zi in z]
        return [zi.sigmoid() for zi in z]

    def __call__(self, x: Sequence[float], noise: float = 0.0,
                 rng: random.Random | None = None) -> list[Value]:
        return self.decoder.forward(self.code(x, noise, rng))


@dataclass
class EncoderResult:
    model: Autoencoder
    patterns: list[list[float]]
    hidden: list[list[float]]  # the hidden activations for each pattern (no noise)
    outputs: list[list[float]]  # the output logits for each pattern (no noise)
    losses: list[float] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """Each pattern's hidden activations rounded to bits, e.g. "101"."""
        return ["".join("1" if h > 0.5 else "0" for h in hs) for hs in self.hidden]

    @property
    def binary(self) -> bool:
        """Are all hidden activations near 0 or 1 (below 0.2 or above 0.8)?"""
        return all(h < 0.2 or h > 0.8 for hs in self.hidden for h in hs)

    @property
    def reconstructed(self) -> list[bool]:
        """For each pattern: is the largest output the unit that was on in the input?"""
        return [
            max(range(len(o)), key=o.__getitem__) == p.index(1.0)
            for o, p in zip(self.outputs, self.patterns)
        ]


def train(steps: int = 2000, seed: int = 0, n: int = 8, hidden: int = 3, lr: float = 0.1,
          noise: float = 1.0) -> EncoderResult:
    """Each pattern is its own target; loss: mean binary cross-entropy of the n outputs."""
    patterns = encoder_patterns(n)
    model = Autoencoder(n, hidden, seed)
    opt = Adam(model.parameters(), lr=lr)
    rng = random.Random(seed)
    losses = []
    for _ in range(steps):
        outs = [model(p, noise, rng) for p in patterns]
        loss = binary_cross_entropy_with_logits(outs, patterns)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    with no_grad():
        hid = [[h.data for h in model.code(p)] for p in patterns]
        out = [[o.data for o in model(p)] for p in patterns]
    return EncoderResult(model, patterns, hid, out, losses)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m demos.encoder",
        description="The 8-3-8 encoder (Rumelhart, Hinton & Williams 1986)",
    )
    p.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the noise")
    p.add_argument("--n", type=int, default=8, help="number of patterns (default 8)")
    p.add_argument("--hidden", type=int, default=3, help="hidden units (default 3)")
    p.add_argument("--lr", type=float, default=0.1, help="Adam learning rate (default 0.1)")
    p.add_argument("--noise", type=float, default=1.0,
                   help="sd of the training noise on the hidden units (default 1.0; 0: none)")
    p.add_argument("--out", type=Path, default=None, help="folder to save the model in")
    args = p.parse_args(argv)
    if args.steps < 1 or args.hidden < 1 or args.n < 2 or args.noise < 0:
        p.error("--steps and --hidden must be >= 1, --n >= 2, --noise >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> EncoderResult:
    args = parse_args(argv)
    r = train(args.steps, args.seed, args.n, args.hidden, args.lr, args.noise)
    print(
        f"{args.n}-{args.hidden}-{args.n} encoder, {len(r.model.parameters())} parameters, "
        f"{args.steps} Adam steps, final loss {r.losses[-1]:.4f}"
    )
    print(f"{'input':<{args.n}} | hidden activations | code | top output unit")
    for p, hs, code, ok in zip(r.patterns, r.hidden, r.codes, r.reconstructed):
        bits = "".join(f"{x:.0f}" for x in p)
        acts = " ".join(f"{h:.2f}" for h in hs)
        top = f"unit {p.index(1.0)}" if ok else "WRONG"
        print(f"{bits:<{args.n}} | {acts:<18} | {code:<4} | {top}")
    print(
        f"{len(set(r.codes))} distinct codes for {len(r.patterns)} patterns"
        f"{' (all units near 0 or 1)' if r.binary else ''}; "
        f"{sum(r.reconstructed)} of {len(r.patterns)} patterns reconstructed"
    )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"wrote trained model: {r.model.save(args.out / 'encoder_model.json')}")
    return r


if __name__ == "__main__":
    main()
