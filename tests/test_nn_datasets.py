"""nn.datasets: shapes, geometry (noise 0 puts points exactly on their curves), seeding."""

from __future__ import annotations

import math

import pytest

import nn


def test_moons_geometry_without_noise() -> None:
    X, y = nn.make_moons(101, noise=0.0, seed=0)
    assert len(X) == len(y) == 101
    assert y.count(0) == 50 and y.count(1) == 51
    for (a, b), label in zip(X, y):
        if label == 0:  # upper half circle around (0, 0)
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower half circle around (1, 0.5)
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_moons_are_shuffled_and_seeded() -> None:
    X, y = nn.make_moons(100, noise=0.1, seed=1)
    assert (X, y) == nn.make_moons(100, noise=0.1, seed=1)
    assert X != nn.make_moons(100, noise=0.1, seed=2)[0]
    assert y[:50] != [0] * 50  # not in generation order


def test_moons_noise_has_the_requested_spread() -> None:
    clean, _ = nn.make_moons(2000, noise=0.0, seed=4)
    noisy, _ = nn.make_moons(2000, noise=0.1, seed=4)
    # same seed: same shuffle, then Gaussian jitter of sd 0.1 on each coordinate
    d = [n[0] - c[0] for n, c in zip(noisy, clean)] + [n[1] - c[1] for n, c in zip(noisy, clean)]
    sd = math.sqrt(sum(x * x for x in d) / len(d))
    assert sd == pytest.approx(0.1, rel=0.05)


def test_circles_geometry() -> None:
    X, y = nn.make_circles(60, noise=0.0, factor=0.3, seed=0)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)
    assert y.count(0) == y.count(1) == 30


def test_spirals() -> None:
    X, y = nn.make_spirals(100, classes=3, noise=0.2, seed=0)
    assert len(X) == 100 and sorted(set(y)) == [0, 1, 2]
    assert [y.count(c) for c in range(3)] == [34, 33, 33]
    assert all(math.hypot(a, b) <= 1.0 + 1e-12 for a, b in X)  # noise moves the angle only
    assert (X, y) == nn.make_spirals(100, classes=3, noise=0.2, seed=0)


def test_xor_and_encoder_patterns() -> None:
    X, y = nn.xor()
    assert [int(a) ^ int(b) for a, b in X] == y
    P = nn.encoder_patterns(8)
    assert len(P) == 8 and all(sum(p) == 1.0 and p[i] == 1.0 for i, p in enumerate(P))


def test_signed_labels() -> None:
    assert nn.signed([0, 1, 1, 0]) == [-1, 1, 1, -1]
    with pytest.raises(ValueError, match="labels must be 0 or 1, got 2 at index 1"):
        nn.signed([0, 2])


def test_minibatches_cover_every_example_once() -> None:
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    batches = list(nn.minibatches(X, y, 4, seed=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = [t for _, yb in batches for t in yb]
    assert sorted(seen) == y and seen != y  # shuffled
    for xb, yb in batches:
        assert [x[0] for x in xb] == [float(t) for t in yb]  # pairs stay together
    assert [yb for _, yb in nn.minibatches(X, y, 4, seed=0)] == [yb for _, yb in batches]
    assert [len(yb) for _, yb in nn.minibatches(X, y, 4, seed=0, drop_last=True)] == [4, 4]
    assert [yb for _, yb in nn.minibatches(X, y, 5, shuffle=False)] == [y[:5], y[5:]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nn.make_moons(1), "n must be an int >= 2"),
        (lambda: nn.make_moons(10, noise=-0.1), "noise must be a number >= 0"),
        (lambda: nn.make_circles(10, factor=1.5), r"factor must be in \(0, 1\)"),
        (lambda: nn.make_spirals(2, classes=3), "needs n >= classes"),
        (lambda: nn.minibatches([1, 2], [1], 1), "X has 2 items but y has 1"),
        (lambda: nn.minibatches([1], [1], 0), "batch_size must be an int >= 1"),
    ],
)
def test_bad_arguments(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_seed_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="seed must be an int"):
        nn.make_moons(10, seed="0")  # type: ignore[arg-type]
