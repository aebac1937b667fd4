"""Weight initialization: seedable schemes, and a sensible default for each activation.

A scheme draws ONE weight of a neuron from its ``fan_in`` (the neuron's number of inputs) and
``fan_out`` (the number of neurons in its layer) with a random source::

    he_uniform       w ~ U(-b, b),  b = sqrt(6 / fan_in)              (He et al. 2015; ReLU)
    he_normal        w ~ N(0, s^2), s = sqrt(2 / fan_in)
    glorot_uniform   w ~ U(-b, b),  b = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)
    glorot_normal    w ~ N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
    lecun_uniform    w ~ U(-b, b),  b = sqrt(3 / fan_in)              (LeCun et al. 1998)
    uniform          w ~ U(-1, 1)                                      (micrograd's init)

He keeps the variance of ReLU pre-activations constant from layer to layer (Var(w) = 2/fan_in);
Glorot balances forward and backward variance for tanh/sigmoid (Var(w) = 2/(fan_in+fan_out)).
Biases start at 0, as in micrograd.

Randomness: pass ``seed=`` (a fresh ``random.Random(seed)``) or ``rng=`` (a ``random.Random``
shared across models) to a module; with neither, the global `random` module is used, so
``random.seed(1337); MLP(2, [16, 16, 1], init="uniform")`` draws exactly micrograd's weights.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Protocol, cast

__all__ = [
    "RandomSource",
    "Initializer",
    "INITIALIZERS",
    "DEFAULT_INIT",
    "he_uniform",
    "he_normal",
    "glorot_uniform",
    "glorot_normal",
    "lecun_uniform",
    "uniform",
    "get_initializer",
    "make_rng",
]


class RandomSource(Protocol):
    """What an initializer needs from a random source (`random.Random` or the `random` module)."""

    def uniform(self, a: float, b: float) -> float: ...

    def gauss(self, mu: float, sigma: float) -> float: ...


Initializer = Callable[[int, int, RandomSource], float]
"""``init(fan_in, fan_out, rng) -> one weight``."""


def he_uniform(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    """$w \\sim U(-b, b)$ with $b = \\sqrt{6 / n_{in}}$, so $Var(w) = 2 / n_{in}$."""
    b = math.sqrt(6.0 / fan_in)
    return rng.uniform(-b, b)


def he_normal(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    """$w \\sim N(0, 2 / n_{in})$."""
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


def glorot_uniform(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    """$w \\sim U(-b, b)$ with $b = \\sqrt{6 / (n_{in} + n_{out})}$."""
    b = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-b, b)


def glorot_normal(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    """$w \\sim N(0, 2 / (n_{in} + n_{out}))$."""
    return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def lecun_uniform(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    """$w \\sim U(-b, b)$ with $b = \\sqrt{3 / n_{in}}$, so $Var(w) = 1 / n_{in}$."""
    b = math.sqrt(3.0 / fan_in)
    return rng.uniform(-b, b)


def uniform(fan_in: int, fan_out: int, rng: RandomSource) -> float:
    """micrograd's initialization: $w \\sim U(-1, 1)$ whatever the fan-in."""
    return rng.uniform(-1.0, 1.0)


INITIALIZERS: dict[str, Initializer] = {
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "lecun_uniform": lecun_uniform,
    "uniform": uniform,
}

# activation -> the scheme used when init="auto"
DEFAULT_INIT: dict[str, str] = {
    "relu": "he_uniform",
    "leaky_relu": "he_uniform",
    "softplus": "he_uniform",
    "gelu": "he_uniform",
    "silu": "he_uniform",
    "tanh": "glorot_uniform",
    "sigmoid": "glorot_uniform",
    "linear": "glorot_uniform",
}


def get_initializer(init: str | Initializer, activation: str) -> Initializer:
    """The scheme named `init` ("auto" picks the default for `activation`), or `init` itself."""
    if callable(init):
        return init
    if not isinstance(init, str):
        raise TypeError(f"init must be a scheme name or a callable, got {type(init).__name__}")
    name = DEFAULT_INIT[activation] if init == "auto" else init
    try:
        return INITIALIZERS[name]
    except KeyError:
        known = ", ".join(["auto", *INITIALIZERS])
        raise ValueError(f"unknown init {init!r}; choose one of {known}") from None


def make_rng(seed: int | None, rng: RandomSource | None) -> RandomSource:
    """``random.Random(seed)`` for a seed, `rng` as given, else the global `random` module."""
    if seed is not None and rng is not None:
        raise ValueError("give either seed= or rng=, not both")
    if rng is not None:
        if not (hasattr(rng, "uniform") and hasattr(rng, "gauss")):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        return rng
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
        return random.Random(seed)
    return cast(RandomSource, random)
