"""The op table: every op's forward rule and local derivatives, written once.

An op ``z = f(x_1, ..., x_n)`` (with an optional constant parameter p, such as the exponent of
``x ** 2`` or the slope of ``leaky_relu``) is one `Op`:

    fwd(x_1, ..., x_n[, p]) -> float
        the forward value on plain floats, IEEE style: overflow gives inf, a point outside the
        domain gives nan; it never raises
    rule(m, z, x_1, ..., x_n[, p]) -> (dz/dx_1, ..., dz/dx_n)
        the local derivatives, written with + - * and the functions of a *math namespace* ``m``
    check(x_1, ..., x_n[, p]) -> str | None
        why the inputs are outside the domain (the user-facing ops raise with this text)

This file is only the table: it computes nothing about graphs. The rules are evaluated by
interpreters that pass a different ``m``, as in JAX's autodidax: `autograd.interpreters` gives
numbers (``m = FLOAT``: ``backward()``, forward mode) and graph nodes (``m = VALUE``:
``grad(..., create_graph=True)``, so derivatives can be differentiated again), and
`autograd.symbolic` gives expression trees, printed as math for pictures and as Python for
generated code (``backward()``'s fast path, programs).

What a rule may use of ``m`` (the `Namespace` contract): every op of this table by its ``pyname``
(``m.exp``, ``m.div``, ``m.sign``, ...), ``m.pow(x, y)``, ``m.cond(pred, a, b)`` (a where pred
holds, else b) with predicates ``m.gt``, ``m.ge``, ``m.lt``, ``m.le``, ``m.eq`` combined by ``&``
and ``|``, and ``m.zero``. Rules never branch with Python ``if`` on data.

**Structural zeros.** ``m.zero`` is a local derivative that is zero by the op's structure, not
by arithmetic: relu for x <= 0, clamp outside its range, the untaken branch of ``where``, the
losing side of ``maximum``, sign, ``x ** 0``, abs at 0. Such an argument receives *nothing*: no
``adjoint * 0`` is computed, so an infinite or nan adjoint upstream does not become nan there
(as PyTorch's relu, which selects rather than multiplies). ``m.zero`` may be a whole derivative
or a branch of ``m.cond``, nothing else. A plain ``0.0`` in a rule is a number like any other
(``inf * 0.0`` is nan).

n-ary ops (``sum``, ``dot``) apply their rule to one group of parents at a time: ``sum`` to each
parent, ``dot`` to each pair (w_i, x_i).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Op", "OPS", "Namespace", "by_pyname", "register", "check_definition", "ieee"]

_inf = math.inf
_nan = math.nan


@dataclass(eq=False)
class Op:
    """One scalar op: its forward rule, its local derivatives and its domain."""

    name: str  # the node's _op: "+", "tanh", ...
    arity: int  # Value arguments (for an n-ary op: the size of one group)
    fwd: Callable[..., float]
    rule: Callable[..., tuple[Any, ...]]
    doc: str = ""  # one line of math for the README's op table
    check: Callable[..., str | None] | None = None
    param: bool = False  # takes a constant parameter after its Value arguments
    nary: bool = False  # any number of groups of `arity` parents (sum, dot)
    pyname: str = ""  # identifier used in namespaces and generated source
    builtin: bool = True

    def __post_init__(self) -> None:
        if not self.pyname:
            self.pyname = self.name

    def locals(self, m: Any, z: Any, args: tuple[Any, ...], param: Any) -> tuple[Any, ...]:
        """The local derivatives d z / d args[i], evaluated by namespace `m` (structural zeros
        are ``m.zero``)."""
        rule = self.rule
        if self.nary:
            k = self.arity
            n = len(args) // k
            if k == 1:
                return tuple([rule(m, z, a)[0] for a in args])
            # pairs: args are w_1..w_n, x_1..x_n; the result is in the same order
            firsts: list[Any] = []
            seconds: list[Any] = []
            for i in range(n):
                d0, d1 = rule(m, z, args[i], args[n + i])
                firsts.append(d0)
                seconds.append(d1)
            return (*firsts, *seconds)
        if self.param:
            return rule(m, z, *args, param)  # type: ignore[no-any-return]
        return rule(m, z, *args)  # type: ignore[no-any-return]


OPS: dict[str, Op] = {}
_BY_PYNAME: dict[str, Op] = {}


def by_pyname(name: str) -> Op | None:
    """The op a namespace offers as ``m.<name>`` (None if there is none)."""
    return _BY_PYNAME.get(name)


class Namespace:
    """The ``m`` a rule is written with. A namespace says how to apply one op (`make`), how to
    evaluate ``pow``, ``cond`` and the predicates, and what ``zero`` is; ``m.<op>`` for every op
    of the table (including ops added later with `defop`) is looked up on first use."""

    zero: Any = None

    def __getattr__(self, name: str) -> Any:  # only for names not found the ordinary way
        op = _BY_PYNAME.get(name)
        if op is None:
            raise AttributeError(f"a rule's namespace m has no function {name!r} (not an op of the table)")
        fn = self.make(op)
        setattr(self, name, fn)
        return fn

    def make(self, op: Op) -> Callable[..., Any]:
        raise NotImplementedError


def register(op: Op) -> Op:
    """Add `op` to the table (a name may be taken once)."""
    if op.name in OPS or op.pyname in _BY_PYNAME:
        raise ValueError(f"defop: an op named {op.name!r} exists already")
    OPS[op.name] = op
    _BY_PYNAME[op.pyname] = op
    return op


# ---------------------------------------------------------------------------------------------
# IEEE forward functions: they return inf or nan where Python's math would raise
# ---------------------------------------------------------------------------------------------


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -_inf if x == 0 else _nan


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return _nan
        return math.copysign(_inf, a) * math.copysign(1.0, b)


def _pow(x: float, n: float) -> float:
    try:
        r = x**n
    except OverflowError:
        odd = float(n).is_integer() and int(n) % 2 == 1
        return -_inf if (x < 0 and odd) else _inf
    except ZeroDivisionError:  # 0.0 ** negative
        odd = float(n).is_integer() and int(n) % 2 == 1
        return math.copysign(_inf, x) if odd else _inf
    return _nan if r.__class__ is complex else float(r)


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else _nan


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    if x != x:
        return x
    return max(x, 0.0) + math.log1p(_exp(-abs(x)))


def _periodic(f: Callable[[float], float]) -> Callable[[float], float]:
    def g(x: float) -> float:
        return f(x) if math.isfinite(x) else _nan  # sin(inf) is nan, as in IEEE and PyTorch

    g.__name__ = f.__name__
    return g


def _domain_or_nan(f: Callable[[float], float]) -> Callable[[float], float]:
    def g(x: float) -> float:
        try:
            return f(x)
        except ValueError:
            return _nan
        except OverflowError:
            return math.copysign(_inf, x) if f in (math.sinh, math.expm1) else _inf

    g.__name__ = f.__name__
    return g


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else x)  # ±0 and nan give themselves


def _relu(x: float) -> float:
    return 0.0 if x <= 0 else x  # nan stays nan


def _leaky_relu(x: float, s: float) -> float:
    return s * x if x <= 0 else x


def _clamp(x: float, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    return lo if x < lo else (hi if x > hi else x)


def _maximum(a: float, b: float) -> float:
    if a != a or b != b:
        return _nan
    return a if a >= b else b


def _minimum(a: float, b: float) -> float:
    if a != a or b != b:
        return _nan
    return a if a <= b else b


def _where(c: float, a: float, b: float) -> float:
    return a if c > 0 else b


_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _gelu(x: float) -> float:
    return 0.5 * x * (1.0 + math.erf(x * _SQRT1_2))


def _silu(x: float) -> float:
    return x * _sigmoid(x)


# ---------------------------------------------------------------------------------------------
# The built-in ops. Each: forward, local derivatives (rule), domain, and one line of docs.
# In a rule, z is the op's output and m the namespace; "1.0 - z * z" is the whole of tanh'.
# ---------------------------------------------------------------------------------------------


def _op(
    name: str,
    arity: int,
    fwd: Callable[..., float],
    rule: Callable[..., tuple[Any, ...]],
    doc: str,
    **kw: Any,
) -> Op:
    return register(Op(name, arity, fwd, rule, doc, **kw))


# arithmetic
_op("+", 2, lambda x, y: x + y, lambda m, z, x, y: (1.0, 1.0), "x + y", pyname="add")
_op("-", 2, lambda x, y: x - y, lambda m, z, x, y: (1.0, -1.0), "x - y", pyname="sub")
_op("*", 2, lambda x, y: x * y, lambda m, z, x, y: (y, x), "x · y", pyname="mul")
_op(
    "/", 2, _div,
    lambda m, z, x, y: (m.div(1.0, y), -m.div(z, y)),  # d/dy (x/y) = -x/y² = -z/y
    "x / y, for y ≠ 0",
    check=lambda x, y: f"division by zero: {x!r} / {y!r}" if y == 0 else None,
    pyname="div",
)
_op("neg", 1, lambda x: -x, lambda m, z, x: (-1.0,), "-x")
_op("sign", 1, _sign, lambda m, z, x: (m.zero,), "sign(x) (0 at 0); derivative 0")
# abs' is sign(x), and a structural zero at the kink x = 0 (nan stays nan: sign(nan) is nan)
_op(
    "abs", 1, abs, lambda m, z, x: (m.cond(m.eq(x, 0.0), m.zero, m.sign(x)),),
    "|x|, with d/dx = 0 at 0 (as PyTorch)",
)


def _check_powc(x: float, n: float) -> str | None:
    if x == 0 and n < 0:
        return f"0.0 to a negative power {n!r}"
    if x < 0 and not float(n).is_integer():
        return f"negative base {x!r} to a fractional power {n!r}"
    return None


def _check_pow(x: float, y: float) -> str | None:
    if x < 0:
        return (
            f"negative base {x!r} to a Value power {y!r} "
            "(x ** y with a Value exponent is defined for x >= 0 only)"
        )
    if x == 0 and y < 0:
        return f"0.0 to a negative power {y!r}"
    return None


# x ** n for a number n: n x^(n-1), and a structural zero for n = 0 (n is a constant: a Python branch)
_op(
    "**", 1, _pow,
    lambda m, z, x, n: (m.zero,) if n == 0 else (n * m.pow(x, n - 1),),
    "x ** n for a number n (x ≠ 0 if n < 0; x ≥ 0 if n is fractional)",
    check=_check_powc, param=True, pyname="powc",
)
# x ** y for a Value y: d/dx = y x^(y-1), d/dy = z ln x (0 at x = 0 <= y), as PyTorch. At y = 0,
# d/dx is written y/x: exactly 0 at any base (y x^(y-1) would be 0 * inf at a tiny base), yet still a
# function of y, so the mixed partial there stays exact (1/x; PyTorch forces d/dx to 0 wherever y = 0)
_op(
    "pow", 2, _pow,
    lambda m, z, x, y: (
        m.cond(m.eq(x, 0.0) & m.eq(y, 0.0), m.zero, m.cond(m.eq(y, 0.0), m.div(y, x), y * m.pow(x, y - 1.0))),
        m.cond(m.eq(x, 0.0) & m.ge(y, 0.0), 0.0, z * m.log(x)),
    ),
    "x ** y for a Value y (x ≥ 0)",
    check=_check_pow,
)

# exponentials and logarithms
_op("exp", 1, _exp, lambda m, z, x: (z,), "e^x (overflows to inf)")
_op("expm1", 1, _domain_or_nan(math.expm1), lambda m, z, x: (m.exp(x),), "e^x - 1, exact near 0")
_op(
    "log", 1, _log, lambda m, z, x: (m.div(1.0, x),), "ln x, for x > 0",
    check=lambda x: None if x > 0 or x != x else f"input must be > 0, got {x!r}",
)
_op(
    "log1p", 1, _domain_or_nan(math.log1p), lambda m, z, x: (m.div(1.0, 1.0 + x),), "ln(1 + x), for x > -1",
    check=lambda x: None if x > -1 or x != x else f"input must be > -1, got {x!r}",
)
_op(
    "sqrt", 1, _sqrt, lambda m, z, x: (m.div(0.5, z),), "√x, for x ≥ 0",
    check=lambda x: f"input must be >= 0, got {x!r}" if x < 0 else None,
)

# activations
_op("tanh", 1, math.tanh, lambda m, z, x: (1.0 - z * z,), "tanh x")
_op("sigmoid", 1, _sigmoid, lambda m, z, x: (z * (1.0 - z),), "1 / (1 + e^-x), stable for large |x|")
# relu' is a structural 0 where x <= 0 and 1 elsewhere (nan included), as PyTorch's threshold_backward
_op("relu", 1, _relu, lambda m, z, x: (m.cond(m.le(x, 0.0), m.zero, 1.0),), "max(0, x) (nan stays nan)")
_op(
    "leaky_relu", 1, _leaky_relu,
    lambda m, z, x, s: (m.cond(m.gt(x, 0.0), 1.0, s),),
    "x if x > 0 else slope · x", param=True,
)
_op("softplus", 1, _softplus, lambda m, z, x: (m.sigmoid(x),), "ln(1 + e^x), stable for large |x|")
_op(
    "gelu", 1, _gelu,
    lambda m, z, x: (0.5 * (1.0 + m.erf(x * _SQRT1_2)) + x * (_INV_SQRT_2PI * m.exp(-0.5 * (x * x))),),
    "x Φ(x) (exact, with erf)",
)
_op(
    "silu", 1, _silu,
    lambda m, z, x: (m.sigmoid(x) * (1.0 + x * (1.0 - m.sigmoid(x))),),
    "x σ(x)",
)
# clamp passes the gradient where lo <= x <= hi, as PyTorch
_op(
    "clamp", 1, _clamp,
    lambda m, z, x, b: (m.cond(m.ge(x, b[0]) & m.le(x, b[1]), 1.0, m.zero),),
    "x limited to [lo, hi]", param=True,
)

# trigonometric and hyperbolic
_op("sin", 1, _periodic(math.sin), lambda m, z, x: (m.cos(x),), "sin x (nan at ±inf)")
_op("cos", 1, _periodic(math.cos), lambda m, z, x: (-m.sin(x),), "cos x (nan at ±inf)")
_op("tan", 1, _periodic(math.tan), lambda m, z, x: (1.0 + z * z,), "tan x")
_op("sinh", 1, _domain_or_nan(math.sinh), lambda m, z, x: (m.cosh(x),), "sinh x")
_op("cosh", 1, _domain_or_nan(math.cosh), lambda m, z, x: (m.sinh(x),), "cosh x")
_op(
    "asin", 1, _domain_or_nan(math.asin), lambda m, z, x: (m.div(1.0, m.sqrt(1.0 - x * x)),),
    "arcsin x, for -1 ≤ x ≤ 1",
    check=lambda x: f"input must be in [-1, 1], got {x!r}" if abs(x) > 1 else None,
)
_op(
    "acos", 1, _domain_or_nan(math.acos), lambda m, z, x: (-m.div(1.0, m.sqrt(1.0 - x * x)),),
    "arccos x, for -1 ≤ x ≤ 1",
    check=lambda x: f"input must be in [-1, 1], got {x!r}" if abs(x) > 1 else None,
)
_op("atan", 1, math.atan, lambda m, z, x: (m.div(1.0, 1.0 + x * x),), "arctan x")
_op("erf", 1, math.erf, lambda m, z, x: (_TWO_OVER_SQRT_PI * m.exp(-(x * x)),), "the error function")

# branches inside ops: they are evaluated when the node is, so a replayed graph stays right.
# As PyTorch: at a tie each argument gets half the gradient, and a nan passes it to both.
_op(
    "maximum", 2, _maximum,
    lambda m, z, a, b: (
        m.cond(m.lt(a, b), m.zero, m.cond(m.eq(a, b), 0.5, 1.0)),
        m.cond(m.gt(a, b), m.zero, m.cond(m.eq(a, b), 0.5, 1.0)),
    ),
    "the larger of x and y",
)
_op(
    "minimum", 2, _minimum,
    lambda m, z, a, b: (
        m.cond(m.gt(a, b), m.zero, m.cond(m.eq(a, b), 0.5, 1.0)),
        m.cond(m.lt(a, b), m.zero, m.cond(m.eq(a, b), 0.5, 1.0)),
    ),
    "the smaller of x and y",
)
_op(
    "where", 3, _where,
    lambda m, z, c, a, b: (m.zero, m.cond(m.gt(c, 0.0), 1.0, m.zero), m.cond(m.gt(c, 0.0), m.zero, 1.0)),
    "a where c > 0, else b (d/dc = 0)",
)

# n-ary nodes: one node for a whole sum or dot product
# (their forwards add left to right, as the engine's sum() and dot() do)
def _nary_sum(*xs: float) -> float:
    return sum(xs)


def _nary_dot(*a: float) -> float:
    n = len(a) // 2
    return float(sum(map(operator.mul, a[:n], a[n:])))


_op("sum", 1, _nary_sum, lambda m, z, x: (1.0,), "x_1 + ... + x_n as one node", nary=True)
_op("dot", 2, _nary_dot, lambda m, z, w, x: (x, w), "w_1 x_1 + ... + w_n x_n as one node", nary=True)


# ---------------------------------------------------------------------------------------------
# New ops (autograd.defop): what the table asks of them
# ---------------------------------------------------------------------------------------------


def check_definition(name: object, forward: object, derivative: object, arity: object) -> None:
    """Refuse a new op whose name, functions or arity are not what the table needs."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(
            f"defop: the op name must be a Python identifier not starting with '_', got {name!r:.60}"
        )
    if name in OPS or name in _BY_PYNAME:
        raise ValueError(f"defop: an op named {name!r} exists already")
    if not callable(forward) or not callable(derivative):
        raise TypeError("defop: forward and derivative must be functions")
    if isinstance(arity, bool) or not isinstance(arity, int) or not 1 <= arity <= 8:
        raise ValueError(f"defop: arity must be an int from 1 to 8, got {arity!r:.60}")


def ieee(name: str, forward: Callable[..., Any]) -> Callable[..., float]:
    """A user's forward function made IEEE: a domain error gives nan, an overflow inf; a result
    that is not a real number is refused, naming the op."""

    def fwd(*xs: float) -> float:
        try:
            r = forward(*xs)
        except (ValueError, ZeroDivisionError):
            return _nan
        except OverflowError:
            return _inf
        if r.__class__ is float:
            return r  # type: ignore[no-any-return]
        if not isinstance(r, numbers.Real):
            raise TypeError(
                f"defop {name!r}: forward{xs!r:.60} returned {type(r).__name__} {r!r:.40}; "
                "it must return a real number"
            )
        return float(r)

    return fwd
