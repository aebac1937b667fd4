"""Every op against PyTorch in float64 under an infinite or nan upstream adjoint, at every special
value: the gradient ``op(x).backward(seed)`` gives for seeds inf, -inf and nan.

This is where structural zeros show (relu, clamp, where, maximum, minimum, sign, x ** 0 pass
nothing on, as PyTorch's selects do, instead of computing inf * 0 = nan). Where the engine
deliberately differs, `DIFFERENT` states our value and why (the README's table repeats it), and
the test checks that PyTorch really differs there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import pytest

from tests.op_cases import BINARY, SPECIAL, UNARY, try_call
from tests.reference.test_ops_torch import TORCH_BINARY, TORCH_UNARY

torch = pytest.importorskip("torch", reason="PyTorch reference tests need torch (pip install torch==2.13.0)")

INF, NAN = math.inf, math.nan
SEEDS = (INF, -INF, NAN)


def _abs_kink(point: tuple[float, ...], seed: float, i: int) -> bool:
    return point[0] == 0.0


def _pow_at_y0(point: tuple[float, ...], seed: float, i: int) -> bool:
    x, y = point
    return i == 0 and y == 0.0 and x != 0.0


def _sqrt_at_minus_zero(point: tuple[float, ...], seed: float, i: int) -> bool:
    return math.copysign(1.0, point[0]) < 0 and point[0] == 0.0 and not math.isnan(seed)


# case -> (which points, what we give, why)
DIFFERENT: dict[str, tuple[Callable[[tuple[float, ...], float, int], bool], str, str]] = {
    "abs": (_abs_kink, "0", "abs' at its kink 0 is a structural zero, like relu's (PyTorch: seed · 0 = nan)"),
    "pow": (
        _pow_at_y0,
        "seed · 0 (nan for an infinite seed)",
        "d/dx x**y at y = 0 is written y/x, a function of y, so the mixed partial stays exact "
        "(PyTorch masks d/dx to 0 wherever y = 0)",
    ),
    "x**0.5": (_sqrt_at_minus_zero, "seed · inf", "IEEE pow at -0.0 (PyTorch computes it as sqrt: -inf)"),
}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


CASES = [(n, f, TORCH_UNARY[n], 1) for n, f in UNARY.items()] + [
    (n, f, TORCH_BINARY[n], 2) for n, f in BINARY.items()
]


@pytest.mark.parametrize(("name", "f", "tf", "arity"), CASES, ids=[c[0] for c in CASES])
def test_gradient_under_infinite_and_nan_adjoints_matches_torch(
    name: str, f: Callable[..., Any], tf: Callable[..., Any], arity: int
) -> None:
    points = [(x,) for x in SPECIAL] if arity == 1 else list(itertools.product(SPECIAL, repeat=2))
    differ = DIFFERENT.get(name)
    for p, seed in itertools.product(points, SEEDS):
        made = try_call(f, *p)
        if made is None:
            continue
        xs, y = made
        y.backward(seed)
        ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in p]
        tf(*ts).backward(torch.tensor(seed, dtype=torch.float64))
        for i, (x, t) in enumerate(zip(xs, ts)):
            theirs = 0.0 if t.grad is None else t.grad.item()
            if differ is not None and differ[0](p, seed, i):
                assert not same(x.grad, theirs), f"{name} at {p}, seed {seed}: listed as different, yet equal"
                continue
            assert same(x.grad, theirs), f"{name} {p}, seed {seed}, input {i}: {x.grad!r}, torch {theirs!r}"
