"""Every op's derivative against central differences, over each op's safe domain (hypothesis).

Also: analytic second derivatives of every smooth op through ``grad(..., create_graph=True)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd
from autograd import Value


def reals(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def central(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def agree(analytic: float, numeric: float) -> bool:
    return abs(analytic - numeric) <= 1e-5 + 1e-4 * abs(numeric)


# op name -> (how to apply it to a Value, safe domain strategy)
UNARY: dict[str, tuple[Callable[[Value], Value], st.SearchStrategy[float]]] = {
    "neg": (lambda v: -v, reals(-50, 50)),
    "abs": (abs, reals(-50, 50).filter(lambda x: abs(x) > 1e-3)),
    "exp": (Value.exp, reals(-20, 20)),
    "log": (Value.log, reals(1e-2, 1e3)),
    "sqrt": (Value.sqrt, reals(1e-2, 1e3)),
    "tanh": (Value.tanh, reals(-8, 8)),
    "sigmoid": (Value.sigmoid, reals(-20, 20)),
    "relu": (Value.relu, reals(-50, 50).filter(lambda x: abs(x) > 1e-3)),
    "leaky_relu": (lambda v: v.leaky_relu(0.1), reals(-50, 50).filter(lambda x: abs(x) > 1e-3)),
    "softplus": (Value.softplus, reals(-30, 30)),
    "sin": (Value.sin, reals(-20, 20)),
    "cos": (Value.cos, reals(-20, 20)),
    "**3": (lambda v: v**3, reals(-10, 10)),
    "**-2": (lambda v: v**-2, reals(0.1, 10)),
    "**0.5": (lambda v: v**0.5, reals(1e-2, 100)),
}


def numeric_of(fn: Callable[[Value], Value]) -> Callable[[float], float]:
    def f(x: float) -> float:
        with autograd.no_grad():
            return fn(Value(x)).data

    return f


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_against_central_differences(name: str) -> None:
    fn, domain = UNARY[name]

    @given(domain)
    def check(x0: float) -> None:
        x = Value(x0)
        y = fn(x)
        y.backward()
        assert agree(x.grad, central(numeric_of(fn), x0)), (x0, x.grad)

    check()


BINARY: dict[
    str, tuple[Callable[[Value, Value], Value], st.SearchStrategy[float], st.SearchStrategy[float]]
] = {
    "+": (lambda a, b: a + b, reals(-50, 50), reals(-50, 50)),
    "-": (lambda a, b: a - b, reals(-50, 50), reals(-50, 50)),
    "*": (lambda a, b: a * b, reals(-50, 50), reals(-50, 50)),
    "/": (lambda a, b: a / b, reals(-50, 50), reals(0.1, 50)),
    "**": (lambda a, b: a**b, reals(0.1, 5), reals(-3, 3)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_against_central_differences(name: str) -> None:
    fn, da, db = BINARY[name]

    @given(da, db)
    def check(a0: float, b0: float) -> None:
        a, b = Value(a0), Value(b0)
        fn(a, b).backward()
        with autograd.no_grad():
            na = central(lambda t: fn(Value(t), Value(b0)).data, a0)
            nb = central(lambda t: fn(Value(a0), Value(t)).data, b0)
        assert agree(a.grad, na) and agree(b.grad, nb), (a0, b0, a.grad, na, b.grad, nb)

    check()


@given(st.lists(st.tuples(reals(-5, 5), reals(-5, 5)), min_size=1, max_size=12))
def test_dot_and_sum_against_central_differences(pairs: list[tuple[float, float]]) -> None:
    ws = [Value(w) for w, _ in pairs]
    xs = [Value(x) for _, x in pairs]
    out = autograd.dot(ws, xs) * autograd.sum(xs)
    out.backward()
    flat = [p for pair in pairs for p in pair]

    def f(vals: list[float]) -> float:
        w = [Value(v) for v in vals[0::2]]
        x = [Value(v) for v in vals[1::2]]
        return (autograd.dot(w, x) * autograd.sum(x)).data

    for i, node in enumerate(p for pair in zip(ws, xs) for p in pair):
        up, down = list(flat), list(flat)
        up[i] += 1e-6
        down[i] -= 1e-6
        assert agree(node.grad, (f(up) - f(down)) / 2e-6)


@given(reals(-2, 2), reals(-2, 2), reals(0.5, 2))
def test_composite_expressions_with_gradcheck(a: float, b: float, c: float) -> None:
    f = lambda x, y, z: ((x * y).tanh() + (x - z).sigmoid() * z.log() + (y / z) ** 2).softplus()  # noqa: E731
    assert autograd.gradcheck(f, [a, b, c])


# second derivatives: (op, f'' as a function of x, domain)
SECOND: dict[str, tuple[Callable[[Value], Value], Callable[[float], float], st.SearchStrategy[float]]] = {
    "exp": (Value.exp, math.exp, reals(-5, 5)),
    "log": (Value.log, lambda x: -1 / x**2, reals(0.1, 10)),
    "sqrt": (Value.sqrt, lambda x: -0.25 * x**-1.5, reals(0.1, 10)),
    "tanh": (Value.tanh, lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), reals(-4, 4)),
    "sigmoid": (
        Value.sigmoid,
        lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s) * (1 - 2 * s),
        reals(-8, 8),
    ),
    "softplus": (Value.softplus, lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s), reals(-8, 8)),
    "sin": (Value.sin, lambda x: -math.sin(x), reals(-6, 6)),
    "cos": (Value.cos, lambda x: -math.cos(x), reals(-6, 6)),
    "**3": (lambda v: v**3, lambda x: 6 * x, reals(-5, 5)),
    "**-1": (lambda v: v**-1, lambda x: 2 / x**3, reals(0.2, 5)),
    "1/x": (lambda v: 1 / v, lambda x: 2 / x**3, reals(0.2, 5)),
    "x*x": (lambda v: v * v, lambda x: 2.0, reals(-5, 5)),
    "2**x": (lambda v: 2**v, lambda x: math.log(2) ** 2 * 2**x, reals(-3, 3)),
    "x**x": (lambda v: v**v, lambda x: x**x * ((math.log(x) + 1) ** 2 + 1 / x), reals(0.2, 3)),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_derivatives_of_smooth_ops(name: str) -> None:
    fn, d2, domain = SECOND[name]

    @given(domain)
    def check(x0: float) -> None:
        x = Value(x0)
        (g,) = autograd.grad(fn(x), [x], create_graph=True)
        (h,) = autograd.grad(g, [x])
        expected = d2(x0)
        assume(math.isfinite(expected))
        assert math.isclose(h.data, expected, rel_tol=1e-9, abs_tol=1e-9), (x0, h.data, expected)

    check()
