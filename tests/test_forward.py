"""Forward accumulation (jvp) and the operators built on it and on grad: jacobian, hessian, hvp."""

from __future__ import annotations

import math
import random
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

import autograd
from autograd import Value
from tests.op_cases import BINARY, UNARY, domain


def random_function(seed: int) -> tuple[Callable[..., Any], int]:
    """A random function R^3 -> R^2 that uses every op of the table at least once in some seed."""
    rng = random.Random(seed)
    unary = [n for n in UNARY if domain(n, 0.1) and domain(n, 0.9)]
    picks = [rng.choice(unary) for _ in range(4)]
    binops = [rng.choice(list(BINARY)) for _ in range(3)]

    def f(a: Any, b: Any, c: Any) -> list[Any]:
        # inputs stay inside every op's domain: squash into (0.1, 0.9) first
        xs = [0.1 + 0.8 * v.sigmoid() for v in (a, b, c)]
        u = UNARY[picks[0]](xs[0])
        v = BINARY[binops[0]](xs[1], xs[2])
        w = UNARY[picks[1]](0.1 + 0.8 * (u * v).sigmoid())
        y1 = BINARY[binops[1]](0.1 + 0.8 * w.sigmoid(), xs[0]) + UNARY[picks[2]](xs[2])
        y2 = BINARY[binops[2]](xs[0], 0.1 + 0.8 * UNARY[picks[3]](xs[1]).sigmoid()) * c
        return [y1, y2]

    return f, 3


@pytest.mark.parametrize("seed", range(25))
def test_forward_and_reverse_jacobians_are_equal(seed: int) -> None:
    f, n = random_function(seed)
    point = [random.Random(seed).uniform(-2, 2) for _ in range(n)]
    rev = autograd.jacobian(f, point)
    fwd = autograd.jacobian(f, point, mode="forward")
    assert len(rev) == 2 and all(len(r) == 3 for r in rev)
    for r, q in zip(rev, fwd):
        assert r == pytest.approx(q, rel=1e-12, abs=1e-14)


def test_jvp_matches_central_differences_and_returns_the_value() -> None:
    f, _ = random_function(3)
    p, t = [0.3, -0.7, 1.1], [0.2, 1.0, -0.5]
    value, tangent = autograd.jvp(f, p, t)
    h = 1e-6
    up = [v.data for v in f(*[Value(a + h * b) for a, b in zip(p, t)])]
    down = [v.data for v in f(*[Value(a - h * b) for a, b in zip(p, t)])]
    assert value == [v.data for v in f(*map(Value, p))]
    for got, hi, lo in zip(tangent, up, down):
        assert got == pytest.approx((hi - lo) / (2 * h), rel=1e-6, abs=1e-8)


def test_jvp_keeps_memory_constant_along_a_million_steps() -> None:
    def chain(x: Any) -> Any:
        for _ in range(1_000_000):
            x = x * 0.999999 + 0.000001
        return x

    tracemalloc.start()
    try:
        _, tangent = autograd.jvp(chain, [2.0], [1.0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert tangent == pytest.approx(0.999999**1_000_000, rel=1e-9)
    assert peak < 100_000  # a recorded graph would take over 100 MB


def test_hessian_and_hvp_agree_with_the_analytic_second_derivatives() -> None:
    def g(x: Any, y: Any) -> Any:
        return x * x * y + (x * y).exp()

    x, y = 0.5, -1.2
    e = math.exp(x * y)
    exact = [[2 * y + y * y * e, 2 * x + e + x * y * e], [2 * x + e + x * y * e, x * x * e]]
    h = autograd.hessian(g, [x, y])
    for row, erow in zip(h, exact):
        assert row == pytest.approx(erow, rel=1e-13)
    v = [0.3, -2.0]
    hv = autograd.hvp(g, [x, y], v)
    assert hv == pytest.approx([sum(a * b for a, b in zip(row, v)) for row in exact], rel=1e-13)


def test_forward_mode_handles_ops_of_several_arguments_and_user_ops() -> None:
    from tests.test_ops import softsign

    s = softsign()

    def f(a: Any, b: Any) -> Any:
        return autograd.where(a - b, autograd.maximum(a, b), autograd.dot([a, b], [b, a])) + s(a) + a**b

    for p in ([0.8, 0.3], [0.3, 0.8]):
        forward = autograd.jacobian(f, p, mode="forward")[0]
        assert forward == pytest.approx(autograd.jacobian(f, p)[0], rel=1e-14)


def test_bad_arguments_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        autograd.jvp(lambda a, b: a * b, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="primals must be a sequence"):
        autograd.jvp(lambda a: a, 1.0, [1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward'"):
        autograd.jacobian(lambda a: a, [1.0], mode="sideways")
    with pytest.raises(TypeError, match="must return one Value"):
        autograd.hessian(lambda a: [a, a], [1.0])
    with pytest.raises(ValueError, match="log: input must be > 0"):
        autograd.jvp(lambda a: a.log(), [-1.0], [1.0])
