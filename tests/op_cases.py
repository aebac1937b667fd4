"""Every op of the engine as a function of Values, with the points where it is tried.

Shared by tests/test_ops.py (the engine against itself and central differences) and
tests/reference/test_ops_torch.py (against PyTorch in float64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import autograd
from autograd import Value

# 0, signed zero, tiny, huge, infinities, nan, kinks (0, ±1) and ordinary points
SPECIAL = [0.0, -0.0, 1e-300, 1e300, -1e300, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.5, -2.0, 2.0, 0.3]
ORDINARY = [-1.7, -0.6, -0.2, 0.1, 0.45, 0.8, 1.3, 2.2]

# name -> (function of Values, its arity)
UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda x: -x,
    "abs": lambda x: abs(x),
    "sign": lambda x: x.sign(),
    "exp": lambda x: x.exp(),
    "expm1": lambda x: x.expm1(),
    "log": lambda x: x.log(),
    "log1p": lambda x: x.log1p(),
    "sqrt": lambda x: x.sqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(0.1),
    "softplus": lambda x: x.softplus(),
    "gelu": lambda x: x.gelu(),
    "silu": lambda x: x.silu(),
    "clamp": lambda x: x.clamp(-1.0, 1.0),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "tan": lambda x: x.tan(),
    "sinh": lambda x: x.sinh(),
    "cosh": lambda x: x.cosh(),
    "asin": lambda x: x.asin(),
    "acos": lambda x: x.acos(),
    "atan": lambda x: x.atan(),
    "erf": lambda x: x.erf(),
    "x**2": lambda x: x**2,
    "x**3": lambda x: x**3,
    "x**0": lambda x: x**0,
    "x**-1": lambda x: x**-1,
    "x**0.5": lambda x: x**0.5,
    "x**2.5": lambda x: x**2.5,
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "pow": lambda x, y: x**y,
    "maximum": lambda x, y: autograd.maximum(x, y),
    "minimum": lambda x, y: autograd.minimum(x, y),
    "sum": lambda x, y: autograd.sum([x, y, x]),
    "dot": lambda x, y: autograd.dot([x, y], [y, x]),
    "where": lambda x, y: autograd.where(x - 0.25, x * y, y),
}
# ops whose derivatives are smooth near ordinary points (third order is checked for these)
SMOOTH = {
    "neg", "exp", "expm1", "log", "log1p", "sqrt", "tanh", "sigmoid", "softplus", "gelu", "silu", "sin",
    "cos", "tan", "sinh", "cosh", "asin", "acos", "atan", "erf", "x**2", "x**3", "x**0", "x**-1", "x**0.5",
    "x**2.5",
}
# the op table names these cases exercise (a test checks that every op of the table is here)
COVERS = {
    "x**2": "**", "x**3": "**", "x**0": "**", "x**-1": "**", "x**0.5": "**", "x**2.5": "**",
}


def domain(name: str, x: float) -> bool:
    """Whether x is inside the op's domain at ordinary points (for central differences)."""
    if name in ("log", "sqrt", "x**0.5", "x**2.5"):
        return x > 0.05
    if name == "log1p":
        return x > -0.95
    if name in ("asin", "acos"):
        return abs(x) < 0.95
    if name == "x**-1":
        return abs(x) > 0.05
    if name == "tan":
        return abs(x) < 1.4
    return True


def try_call(f: Callable[..., Any], *xs: float) -> tuple[list[Value], Any] | None:
    """Leaves for xs and f of them, or None where the engine refuses the point (domain error)."""
    vs = [Value(x) for x in xs]
    try:
        return vs, f(*vs)
    except (ValueError, ZeroDivisionError):
        return None
