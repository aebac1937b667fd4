"""Small seeded data sets in pure Python (no numpy, no scikit-learn), and a mini-batch iterator.

Every generator returns ``(X, y)``: X a list of points (lists of floats), y a list of int class
labels (0/1 for the two-class sets). With the same ``seed`` the result is the same on every
machine (Python's `random.Random` is the Mersenne Twister on every platform).
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence
from typing import TypeVar

__all__ = [
    "make_moons",
    "make_circles",
    "make_spirals",
    "xor",
    "encoder_patterns",
    "minibatches",
    "signed",
]

T = TypeVar("T")
U = TypeVar("U")


def _rng(seed: int | None, rng: random.Random | None) -> random.Random:
    if seed is not None and rng is not None:
        raise ValueError("give either seed= or rng=, not both")
    if rng is not None:
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
    return random.Random(seed)


def _size(n: object, what: str, low: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or int(n) < low:
        raise ValueError(f"{what} must be an int >= {low}, got {n!r}")
    return int(n)


def _noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not float(noise) >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _linspace(a: float, b: float, n: int, endpoint: bool = True) -> list[float]:
    if n == 1:
        return [a]
    step = (b - a) / (n - 1 if endpoint else n)
    return [a + i * step for i in range(n)]


def _shuffle_and_jitter(
    points: list[list[float]], labels: list[int], noise: float, r: random.Random
) -> tuple[list[list[float]], list[int]]:
    order = list(range(len(points)))
    r.shuffle(order)
    X = [[c + (r.gauss(0.0, noise) if noise else 0.0) for c in points[i]] for i in order]
    return X, [labels[i] for i in order]


def make_moons(
    n: int = 100,
    noise: float = 0.0,
    seed: int | None = None,
    *,
    rng: random.Random | None = None,
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles (as sklearn.datasets.make_moons), shuffled.

    Class 0: $(\\cos t, \\sin t)$; class 1: $(1 - \\cos t, 1/2 - \\sin t)$, $t \\in [0, \\pi]$
    evenly spaced, ``n // 2`` points in class 0 and the rest in class 1; then Gaussian noise
    of standard deviation `noise` on each coordinate.
    """
    n = _size(n, "make_moons n", 2)
    r = _rng(seed, rng)
    n_out = n // 2
    n_in = n - n_out
    pts = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_out)]
    pts += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, n_in)]
    return _shuffle_and_jitter(pts, [0] * n_out + [1] * n_in, _noise(noise), r)


def make_circles(
    n: int = 100,
    noise: float = 0.0,
    factor: float = 0.5,
    seed: int | None = None,
    *,
    rng: random.Random | None = None,
) -> tuple[list[list[float]], list[int]]:
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1), as sklearn's
    make_circles: angles evenly spaced on $[0, 2\\pi)$, then Gaussian noise."""
    n = _size(n, "make_circles n", 2)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"make_circles factor must be in (0, 1), got {factor!r}")
    r = _rng(seed, rng)
    n_out = n // 2
    n_in = n - n_out
    pts = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_out, False)]
    pts += [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in _linspace(0.0, 2 * math.pi, n_in, False)
    ]
    return _shuffle_and_jitter(pts, [0] * n_out + [1] * n_in, _noise(noise), r)


def make_spirals(
    n: int = 100,
    classes: int = 2,
    noise: float = 0.2,
    seed: int | None = None,
    *,
    rng: random.Random | None = None,
) -> tuple[list[list[float]], list[int]]:
    """`classes` interleaved spiral arms (the CS231n spiral data), labels 0..classes-1.

    Arm j: radius $\\rho \\in [0, 1]$ evenly spaced, angle $\\theta = 4(j + \\rho) + \\epsilon$
    with $\\epsilon \\sim N(0, \\mathrm{noise}^2)$; point $(\\rho \\sin\\theta, \\rho \\cos\\theta)$.
    The n points are shared out as evenly as possible, then shuffled.
    """
    n = _size(n, "make_spirals n", 1)
    classes = _size(classes, "make_spirals classes", 1)
    if n < classes:
        raise ValueError(f"make_spirals needs n >= classes, got n={n}, classes={classes}")
    sd = _noise(noise)
    r = _rng(seed, rng)
    pts: list[list[float]] = []
    labels: list[int] = []
    for j in range(classes):
        m = n // classes + (1 if j < n % classes else 0)
        for rho in _linspace(0.0, 1.0, m):
            theta = 4.0 * (j + rho) + (r.gauss(0.0, sd) if sd else 0.0)
            pts.append([rho * math.sin(theta), rho * math.cos(theta)])
            labels.append(j)
    return _shuffle_and_jitter(pts, labels, 0.0, r)


def xor() -> tuple[list[list[float]], list[int]]:
    """The four XOR points: y = x1 xor x2."""
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]


def encoder_patterns(n: int = 8) -> list[list[float]]:
    """The n one-hot patterns of the n-log2(n)-n encoder problem (Rumelhart, Hinton & Williams
    1986): pattern i has a 1 in position i and 0 elsewhere; each is its own target."""
    n = _size(n, "encoder_patterns n", 2)
    return [[1.0 if j == i else 0.0 for j in range(n)] for i in range(n)]


def signed(labels: Sequence[int]) -> list[int]:
    """Map 0/1 labels to -1/+1 (the targets of the hinge loss): $y \\mapsto 2y - 1$."""
    out = []
    for i, y in enumerate(labels):
        if y not in (0, 1):
            raise ValueError(f"signed: labels must be 0 or 1, got {y!r} at index {i}")
        out.append(2 * int(y) - 1)
    return out


def minibatches(
    X: Sequence[T],
    y: Sequence[U],
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
    *,
    rng: random.Random | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[list[T], list[U]]]:
    """One pass over (X, y) in batches of `batch_size` (the last one smaller unless
    `drop_last`), in a random order if `shuffle` (seeded by `seed`/`rng`)."""
    if len(X) != len(y):
        raise ValueError(f"minibatches: X has {len(X)} items but y has {len(y)}")
    size = _size(batch_size, "minibatches batch_size")
    order = list(range(len(X)))
    if shuffle:
        _rng(seed, rng).shuffle(order)
    stop = len(order) - (len(order) % size if drop_last else 0)

    def batches() -> Iterator[tuple[list[T], list[U]]]:
        for start in range(0, stop, size):
            idx = order[start : start + size]
            yield [X[i] for i in idx], [y[i] for i in idx]

    return batches()
