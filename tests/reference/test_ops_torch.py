"""Every op against PyTorch in float64: value, first and second derivatives, at ordinary points and
at every special value (0, -0, tiny, huge, ±inf, nan, kinks).

Where the engine deliberately differs from PyTorch, `DIFFERENT` states our value and why (the
README's op table repeats it). Skipped, with the reason shown, where torch is not installed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import pytest

import autograd
from autograd import Value
from tests.op_cases import BINARY, ORDINARY, SPECIAL, UNARY, try_call

torch = pytest.importorskip("torch", reason="PyTorch reference tests need torch (pip install torch==2.13.0)")
F = torch.nn.functional

TORCH_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": torch.neg,
    "abs": torch.abs,
    "sign": torch.sign,
    "exp": torch.exp,
    "expm1": torch.expm1,
    "log": torch.log,
    "log1p": torch.log1p,
    "sqrt": torch.sqrt,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    # torch's F.softplus switches to the identity above x = 20; logaddexp is the exact function
    "softplus": lambda x: torch.logaddexp(x, torch.zeros_like(x)),
    "gelu": F.gelu,
    "silu": F.silu,
    "clamp": lambda x: torch.clamp(x, -1.0, 1.0),
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "asin": torch.asin,
    "acos": torch.acos,
    "atan": torch.atan,
    "erf": torch.erf,
    "x**2": lambda x: x**2.0,
    "x**3": lambda x: x**3.0,
    "x**0": lambda x: x**0.0,
    "x**-1": lambda x: x**-1.0,
    "x**0.5": lambda x: x**0.5,
    "x**2.5": lambda x: x**2.5,
}
TORCH_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "pow": lambda x, y: x**y,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "sum": lambda x, y: x + y + x,
    "dot": lambda x, y: x * y + y * x,
    "where": lambda x, y: torch.where(x - 0.25 > 0, x * y, y),
}

# (case, what, point) -> (our value, why). what is "value", "d1" or "d2".
NAN = math.nan
DIFFERENT: dict[tuple[str, str, tuple[float, ...]], tuple[float, str]] = {
    ("sign", "value", (NAN,)): (NAN, "sign(nan) is nan (PyTorch: 0): a NaN is never hidden"),
    ("abs", "d1", (NAN,)): (NAN, "|x|' = sign(x), nan at nan (PyTorch: 0)"),
    ("softplus", "d2", (-1e300,)): (0.0, "σ'(x) = σ(1 - σ) = 0 far left (PyTorch: nan)"),
    ("softplus", "d2", (-math.inf,)): (0.0, "σ'(-inf) = 0 (PyTorch: nan)"),
    ("gelu", "d2", (1e300,)): (0.0, "the exact limit; PyTorch's formula makes inf · 0 = nan"),
    ("gelu", "d2", (-1e300,)): (0.0, "the exact limit; PyTorch's formula makes inf · 0 = nan"),
    ("pow", "d1", (NAN, 0.0)): (
        NAN,
        "d/dx x^y is y x^(y-1) for every x, so a nan base gives nan "
        "(PyTorch forces 0 wherever y = 0, which also zeroes the mixed partial)",
    ),
    ("pow", "d1", (NAN, -0.0)): (NAN, "as above"),
    ("x**0.5", "d1", (-0.0,)): (math.inf, "0.5 · (-0)^(-0.5) = +inf by IEEE pow (PyTorch computes x**0.5 as "
                                          "sqrt, whose derivative 1/(2·(-0)) is -inf)"),
}
# Regions where x ** y's second derivatives deliberately differ:
# - at base 0 they are those of the first-derivative convention there (d/dy = 0 at x = 0 <= y, a
#   constant), where PyTorch's masked formulas give nan;
# - at exponent 0 (or a nan base) the mixed partial d²/dy dx is exact (1/x), where PyTorch's mask
#   (d/dx forced to 0 wherever y = 0) gives 0 one way round and 1/x the other.
DIFFERENT_WHERE: list[tuple[str, str, Callable[[tuple[float, ...]], bool], str]] = [
    ("pow", "d2", lambda p: p[0] == 0.0, "base 0: derivative of the convention, PyTorch nan"),
    ("pow", "d2", lambda p: p[1] == 0.0 or math.isnan(p[0]), "exponent 0: exact mixed partial"),
]


def t64(x: float) -> Any:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def agree(a: float, b: float, tol: float = 1e-12) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


Derivatives = tuple[float, list[float], list[list[float]]]


def torch_derivatives(g: Callable[..., Any], point: tuple[float, ...]) -> Derivatives:
    """Value, gradient and Hessian of g at point, by torch.autograd (unused inputs: 0)."""
    ts = [t64(x) for x in point]
    y = g(*ts)
    d1 = torch.autograd.grad(y, ts, create_graph=True, allow_unused=True)
    grads = [0.0 if d is None else d.item() for d in d1]
    hess = []
    for d in d1:
        if d is None or not d.requires_grad:
            hess.append([0.0] * len(ts))
            continue
        row = torch.autograd.grad(d, ts, allow_unused=True)
        hess.append([0.0 if r is None else r.item() for r in row])
    return y.item(), grads, hess


def our_derivatives(f: Callable[..., Any], point: tuple[float, ...]) -> Derivatives | None:
    made = try_call(f, *point)
    if made is None:
        return None
    xs, y = made
    d1 = autograd.grad(y, xs, create_graph=True)
    hess = [[h.data for h in autograd.grad(d, xs)] for d in d1]
    return y.data, [d.data for d in d1], hess


def compare(name: str, f: Callable[..., Any], g: Callable[..., Any], point: tuple[float, ...]) -> list[str]:
    ours = our_derivatives(f, point)
    if ours is None:
        return []
    theirs = torch_derivatives(g, point)
    bad = []
    flat = lambda rows: [h for row in rows for h in row]  # noqa: E731
    for what, a, b in (("value", [ours[0]], [theirs[0]]), ("d1", ours[1], theirs[1]),
                       ("d2", flat(ours[2]), flat(theirs[2]))):
        if all(agree(x, y) for x, y in zip(a, b)):
            continue
        if any(n == name and w == what and where(point) for n, w, where, _ in DIFFERENT_WHERE):
            continue
        stated = DIFFERENT.get((name, what, point))
        if stated is not None and all(agree(x, stated[0]) for x in a[: len(point)] if what != "d2"):
            if what != "d2" or any(agree(x, stated[0]) for x in a):
                continue
        bad.append(f"{name} {what} at {point}: ours {a}, torch {b}")
    return bad


@pytest.mark.parametrize("name", list(UNARY), ids=list(UNARY))
def test_unary_ops_match_torch_to_second_order_everywhere(name: str) -> None:
    bad = []
    for x in SPECIAL + ORDINARY:
        bad += compare(name, UNARY[name], TORCH_UNARY[name], (x,))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", list(BINARY), ids=list(BINARY))
def test_binary_ops_match_torch_to_second_order_everywhere(name: str) -> None:
    bad = []
    for p in itertools.product(SPECIAL + ORDINARY[::2], repeat=2):
        bad += compare(name, BINARY[name], TORCH_BINARY[name], p)
    assert not bad, "\n".join(bad[:20])


def test_every_stated_difference_is_real() -> None:
    """Each entry of DIFFERENT is a point where torch really gives another number than ours."""
    x, y = Value(0.0), Value(1.0)
    _, gy = autograd.grad(x**y, [x, y], create_graph=True)
    assert [h.data for h in autograd.grad(gy, [x, y])] == [0.0, 0.0]  # torch: nan, nan
    _, _, hess = torch_derivatives(TORCH_BINARY["pow"], (2.0, 0.0))
    assert hess[0][1] == 0.0 and hess[1][0] == 0.5  # torch's Hessian is not even symmetric there
    for (name, what, point), (ours, _why) in DIFFERENT.items():
        f = UNARY.get(name) or BINARY[name]
        g = TORCH_UNARY.get(name) or TORCH_BINARY[name]
        mine = our_derivatives(f, point)
        assert mine is not None
        theirs = torch_derivatives(g, point)
        k = {"value": 0, "d1": 1, "d2": 2}[what]
        a, b = mine[k], theirs[k]
        if what == "value":
            a, b = [a], [b]
        elif what == "d2":
            a, b = [h for row in a for h in row], [h for row in b for h in row]
        assert any(agree(x, ours) for x in a), (name, what, point, a)
        assert not all(agree(x, y) for x, y in zip(a, b)), (name, what, point, a, b)


def test_third_derivatives_match_torch_for_smooth_ops() -> None:
    for name in ("tanh", "sigmoid", "exp", "log", "sin", "gelu", "silu", "erf", "atan", "x**2.5", "softplus"):
        f, g = UNARY[name], TORCH_UNARY[name]
        for x in (0.3, 1.1, 2.4):
            v = Value(x)
            d = f(v)
            for _ in range(3):
                (d,) = autograd.grad(d, [v], create_graph=True)
            tx = t64(x)
            td = g(tx)
            for _ in range(3):
                (td,) = torch.autograd.grad(td, tx, create_graph=True)
            assert agree(d.data, td.item(), 1e-10), (name, x, d.data, td.item())


def test_a_user_op_matches_torch() -> None:
    from tests.test_ops import softsign

    f = softsign()
    for x in (-2.3, -0.4, 0.9, 5.0):
        ours = our_derivatives(f, (x,))
        theirs = torch_derivatives(F.softsign, (x,))
        assert ours is not None
        assert agree(ours[0], theirs[0]) and agree(ours[1][0], theirs[1][0])
        assert agree(ours[2][0][0], theirs[2][0][0])
