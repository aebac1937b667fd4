"""The engine against PyTorch in float64: values, gradients and second derivatives.

Skipped, with the reason shown, where torch is not installed (``pip install torch==2.13.0``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value

torch = pytest.importorskip("torch", reason="PyTorch reference tests need torch (pip install torch==2.13.0)")
F = torch.nn.functional


def t64(x: float) -> Any:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def approx(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def test_micrograd_expressions_match_torch() -> None:
    def more_ops(a: Any, b: Any, relu: Callable[[Any], Any]) -> Any:
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + relu(b + a)
        d = d + 3 * d + relu(b - a)
        e = c - d
        f = e**2
        g = f / 2.0
        return g + 10.0 / f

    a, b = Value(-4.0), Value(2.0)
    g = more_ops(a, b, lambda v: v.relu())
    g.backward()
    ta, tb = t64(-4.0), t64(2.0)
    tg = more_ops(ta, tb, torch.relu)
    tg.backward()
    assert approx(g.data, tg.item())
    assert approx(a.grad, ta.grad.item()) and approx(b.grad, tb.grad.item())


# name -> (ours, torch's, domain)
OPS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], st.SearchStrategy[float]]] = {
    "exp": (Value.exp, torch.exp, st.floats(-30, 30)),
    "log": (Value.log, torch.log, st.floats(1e-3, 1e3)),
    "sqrt": (Value.sqrt, torch.sqrt, st.floats(1e-3, 1e3)),
    "tanh": (Value.tanh, torch.tanh, st.floats(-1000, 1000)),
    "sigmoid": (Value.sigmoid, torch.sigmoid, st.floats(-1000, 1000)),
    # torch's F.softplus switches to x itself above x = 20; logaddexp(x, 0) is the exact form
    "softplus": (Value.softplus, lambda t: torch.logaddexp(t, torch.zeros_like(t)), st.floats(-1000, 1000)),
    "relu": (Value.relu, torch.relu, st.floats(-10, 10)),
    "leaky_relu": (lambda v: v.leaky_relu(0.05), lambda t: F.leaky_relu(t, 0.05), st.floats(-10, 10)),
    "sin": (Value.sin, torch.sin, st.floats(-100, 100)),
    "cos": (Value.cos, torch.cos, st.floats(-100, 100)),
    "abs": (abs, torch.abs, st.floats(-10, 10)),
    "pow": (lambda v: v**2.5, lambda t: t**2.5, st.floats(0, 10)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_unary_ops_match_torch(name: str) -> None:
    ours, theirs, domain = OPS[name]

    @given(domain)
    def check(x0: float) -> None:
        x = Value(x0)
        y = ours(x)
        y.backward()
        tx = t64(x0)
        ty = theirs(tx)
        ty.backward()
        assert approx(y.data, ty.item(), 1e-13), (x0, y.data, ty.item())
        assert approx(x.grad, tx.grad.item(), 1e-12), (x0, x.grad, tx.grad.item())

    check()


@given(st.floats(0.1, 3), st.floats(-2, 2), st.floats(-3, 3))
def test_binary_ops_match_torch(a0: float, b0: float, c0: float) -> None:
    def f(a: Any, b: Any, c: Any) -> Any:
        return a**b + (a - c) / (b * b + 1) + c * a + 2**b - 3 / a

    vals = [Value(v) for v in (a0, b0, c0)]
    out = f(*vals)
    out.backward()
    ts = [t64(v) for v in (a0, b0, c0)]
    tout = f(*ts)
    tout.backward()
    assert approx(out.data, tout.item())
    for v, t in zip(vals, ts):
        assert approx(v.grad, t.grad.item(), 1e-11)


def test_dot_and_sum_match_torch() -> None:
    ws, xs = [0.5, -1.5, 2.0, 0.25], [1.0, 3.0, -2.0, 4.0]
    vw, vx = [Value(w) for w in ws], [Value(x) for x in xs]
    out = autograd.dot(vw, vx).tanh() * autograd.sum(vx)
    out.backward()
    tw = torch.tensor(ws, dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tout = torch.tanh(tw @ tx) * tx.sum()
    tout.backward()
    assert approx(out.data, tout.item())
    assert all(approx(v.grad, g) for v, g in zip(vw, tw.grad.tolist()))
    assert all(approx(v.grad, g) for v, g in zip(vx, tx.grad.tolist()))


FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "poly-exp": lambda x, y: x * x * y + (x * y).exp(),
    "tanh-sigmoid": lambda x, y: (x * y).tanh() * y.sigmoid() + x.sin() * y.cos(),
    "log-sqrt-pow": lambda x, y: (x * x + y * y).sqrt().log() + x**y,
    "softplus-div": lambda x, y: (x / y).softplus() - (x - y) ** 3,
}
TORCH_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "poly-exp": lambda x, y: x * x * y + torch.exp(x * y),
    "tanh-sigmoid": lambda x, y: torch.tanh(x * y) * torch.sigmoid(y) + torch.sin(x) * torch.cos(y),
    "log-sqrt-pow": lambda x, y: torch.log(torch.sqrt(x * x + y * y)) + x**y,
    "softplus-div": lambda x, y: torch.logaddexp(x / y, torch.zeros_like(x)) - (x - y) ** 3,
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("point", [(0.7, 1.3), (1.9, 0.4)])
def test_hessians_match_torch_create_graph(name: str, point: tuple[float, float]) -> None:
    x, y = Value(point[0]), Value(point[1])
    grads = autograd.grad(FUNCTIONS[name](x, y), [x, y], create_graph=True)
    ours = [[h.data for h in autograd.grad(g, [x, y])] for g in grads]

    tx, ty = t64(point[0]), t64(point[1])
    tg = torch.autograd.grad(TORCH_FUNCTIONS[name](tx, ty), [tx, ty], create_graph=True)
    theirs = [[h.item() for h in torch.autograd.grad(g, [tx, ty], retain_graph=True)] for g in tg]
    for i in range(2):
        assert approx(grads[i].data, tg[i].item())
        for j in range(2):
            assert approx(ours[i][j], theirs[i][j], 1e-11), (name, i, j, ours, theirs)
