"""Structural zeros: a local derivative that is zero by the op's structure (relu for x <= 0, clamp
outside its range, where's untaken branch, the losing side of maximum/minimum, sign, x ** 0, abs
at 0) passes nothing on, so an infinite or nan adjoint upstream does not become nan there. The
rule is written once, in the op table (``m.zero``); every sweep must agree with it, bit for bit,
whatever the upstream adjoint. PyTorch comparisons: tests/reference/test_upstream_torch.py.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

import autograd
from autograd import Value
from autograd.symbolic import SYMBOLIC, nonzero, rule_exprs, source, text
from tests.op_cases import BINARY, SPECIAL, UNARY, try_call
from tests.test_ops import same_bits

INF, NAN = math.inf, math.nan
SEEDS = (1.0, -2.5, INF, -INF, NAN)


def test_an_inactive_relu_under_an_infinite_adjoint_passes_nothing() -> None:
    # the issue's example: relu'(-1) = 0 is structural, so inf upstream gives 0, not inf * 0 = nan
    x = Value(-1.0)
    (x.relu() * Value(INF)).backward()
    assert x.grad == 0.0
    x = Value(-1.0)
    y = x.relu() * Value(INF)
    assert autograd.grad(y, [x])[0].data == 0.0
    assert autograd.grad(y, [x], create_graph=True)[0].data == 0.0
    order = autograd.toposort(y)
    assert autograd.sweep(order, observe=lambda *a: None)[order.index(x)] == 0.0
    assert autograd.jvp(lambda a: a.relu() * INF, [-1.0], [1.0])[1] == 0.0
    # an active relu passes the adjoint on: inf stays inf
    x = Value(2.0)
    (x.relu() * Value(INF)).backward()
    assert x.grad == INF


def test_x_to_a_value_zero_at_a_subnormal_base_has_derivative_zero() -> None:
    # d/dx x**y at y = 0 is exactly 0; y * x**(y - 1) would be 0 * inf at x = 5e-324
    x, y = Value(5e-324), Value(0.0)
    dx, dy = autograd.grad(x**y, [x, y])
    assert dx.data == 0.0 and dy.data == math.log(5e-324)
    x, y = Value(5e-324), Value(0.0)
    (x**y).backward()
    assert x.grad == 0.0
    # the mixed partial there stays exact: d/dy (d/dx x**y) = 1/x at y = 0
    x, y = Value(0.5), Value(0.0)
    dx, _ = autograd.grad(x**y, [x, y], create_graph=True)
    assert dx.data == 0.0
    assert autograd.grad(dx, [y])[0].data == 2.0


CASES = [(name, f, 1) for name, f in UNARY.items()] + [(name, f, 2) for name, f in BINARY.items()]


@pytest.mark.parametrize(("name", "f", "arity"), CASES, ids=[c[0] for c in CASES])
def test_every_sweep_agrees_under_any_upstream_adjoint(name: str, f: Any, arity: int) -> None:
    """backward(seed), the generic loop and create_graph give the same bits for seeds 1, -2.5,
    inf, -inf and nan at every special value."""
    points = [(x,) for x in SPECIAL] if arity == 1 else list(itertools.product(SPECIAL, repeat=2))
    for p, seed in itertools.product(points, SEEDS):
        made = try_call(f, *p)
        if made is None:
            continue
        xs, y = made
        order = autograd.toposort(y)
        at = {v: i for i, v in enumerate(order)}
        generic = autograd.sweep(order, seed, observe=lambda *a: None)
        graph = autograd.sweep(order, seed, create_graph=True)
        y.backward(seed)
        for x in xs:
            ways = {
                "generic": generic[at[x]],
                "create_graph": graph[at[x]].data if isinstance(graph[at[x]], Value) else graph[at[x]],
            }
            for way, got in ways.items():
                assert same_bits(got, x.grad), f"{name} at {p}, seed {seed}: {way} {got!r}, not {x.grad!r}"


# op, arguments, which argument's derivative is a structural zero there
STRUCTURAL = [
    ("relu", lambda x: x.relu(), (-1.0,), 0),
    ("relu at 0", lambda x: x.relu(), (0.0,), 0),
    ("clamp below", lambda x: x.clamp(-1.0, 1.0), (-3.0,), 0),
    ("clamp above", lambda x: x.clamp(-1.0, 1.0), (3.0,), 0),
    ("sign", lambda x: x.sign(), (0.7,), 0),
    ("x ** 0", lambda x: x**0, (0.7,), 0),
    ("abs at 0", lambda x: abs(x), (0.0,), 0),
    ("where, untaken a", lambda c, a, b: autograd.where(c, a, b), (-1.0, 2.0, 3.0), 1),
    ("where, untaken b", lambda c, a, b: autograd.where(c, a, b), (1.0, 2.0, 3.0), 2),
    ("where, condition", lambda c, a, b: autograd.where(c, a, b), (1.0, 2.0, 3.0), 0),
    ("maximum, losing side", lambda a, b: autograd.maximum(a, b), (1.0, 2.0), 0),
    ("minimum, losing side", lambda a, b: autograd.minimum(a, b), (1.0, 2.0), 1),
    ("x ** y at 0 ** 0", lambda x, y: x**y, (0.0, 0.0), 0),
]


@pytest.mark.parametrize(("what", "f", "point", "k"), STRUCTURAL, ids=[s[0] for s in STRUCTURAL])
@pytest.mark.parametrize("seed", [INF, -INF, NAN])
def test_structural_zeros_pass_nothing_whatever_comes_from_above(
    what: str, f: Any, point: tuple[float, ...], k: int, seed: float
) -> None:
    xs = [Value(p) for p in point]
    f(*xs).backward(seed)
    assert xs[k].grad == 0.0 and math.copysign(1.0, xs[k].grad) == 1.0, (what, xs[k].grad)


def test_a_plain_zero_in_a_rule_stays_a_number() -> None:
    # x * y at y = 0: d/dx = y is a number, so an infinite adjoint gives inf * 0 = nan (as PyTorch)
    x, y = Value(1.0), Value(0.0)
    (x * y).backward(INF)
    assert math.isnan(x.grad)


def test_generated_code_adds_under_the_condition_only() -> None:
    relu = autograd.OPS["relu"]
    (d,) = rule_exprs(relu, ("x",), "z", None)
    assert text(d) == "0 if x ≤ 0 else 1"
    when, dz = nonzero(d)  # type: ignore[misc]
    assert when is not None and source(when) == "not (x <= 0.0)" and dz.is_const(1.0)
    (d_where_c, d_a, _) = rule_exprs(autograd.OPS["where"], ("c", "a", "b"), "z", None)
    assert nonzero(d_where_c) is None  # d/dc is zero everywhere: no line at all
    assert source(nonzero(d_a)[0]) == "c > 0.0"  # type: ignore[index,arg-type]
    assert "if not (p0._data <= 0.0):\n                p0.grad += g" in autograd.backprop.KERNEL_SOURCE


def test_m_zero_may_only_be_a_whole_derivative_or_a_branch() -> None:
    with pytest.raises(TypeError, match=r"m\.zero"):
        autograd.defop("bad_zero", lambda x: x, lambda m, z, x: (2.0 * m.zero,))
    with pytest.raises(TypeError, match=r"m\.zero"):
        autograd.defop("bad_zero2", lambda x: x, lambda m, z, x: (m.exp(m.zero),))
    assert "bad_zero" not in autograd.OPS and "bad_zero2" not in autograd.OPS
    assert SYMBOLIC.zero.kind == "zero"
    # a user op with a structural zero works in every sweep
    step = autograd.defop(
        "hard_step", lambda x: 1.0 if x > 0 else 0.0, lambda m, z, x: (m.zero,), doc="step"
    )
    x = Value(0.3)
    (step(x) * Value(INF)).backward()
    assert x.grad == 0.0
    assert autograd.grad(step(Value(0.3)) * INF, [Value(0.3)])[0].data == 0.0
