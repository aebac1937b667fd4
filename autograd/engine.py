"""The `Value` node: one float, the op that made it, and its parents.

Every op below computes its forward value on plain floats and records one node. Right beside
each op, its *local derivatives* are registered in `RULES`: ``RULES[op](z, args, arg)`` returns
``(dz/dx_1, ..., dz/dx_n)`` for a node ``z = op(x_1, ..., x_n)``. The rules are written with
arithmetic and the helpers `_exp`, `_log`, `_sigmoid`, `_sin`, `_cos`, so the same rule runs on
floats (the ordinary backward pass) and on Values (``grad(..., create_graph=True)``, which builds
the graph of the derivative itself and so gives second derivatives). `FORMULAS` holds the same
derivatives as text, for pictures.

Layout of a node (``__slots__``, no per-node dict, set or closure)::

    data    the float
    grad    d(output)/d(this node), filled in by backward(); starts at 0.0
    label   a name for pictures and error messages ("" if unset)
    _op     "" for a leaf, else the op's short name: "+", "*", "**", "tanh", "dot", ...
    _x, _y  the parents: a unary op uses _x; a binary op _x and _y (in argument order);
            "sum" keeps a tuple in _x; "dot" keeps the tuple of weights in _x, inputs in _y
    _arg    the op's constant parameter (the number exponent of x ** 2, the slope of leaky_relu)
    _scope  the name of the module (see `name_scope`) that created the node, or None

Parents are held in two slots instead of a tuple so that a node is ONE object for the garbage
collector to track; `_prev` builds the tuple on demand. Nodes never refer back to their
consumers, so a graph has no reference cycles and is freed by reference counting.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "Value",
    "RULES",
    "FORMULAS",
    "Number",
    "sum",
    "dot",
    "no_grad",
    "is_grad_enabled",
    "name_scope",
    "detect_anomaly",
    "local_grads",
    "float_locals",
    "creation_site",
]

Number = int | float
Rule = Callable[[Any, tuple[Any, ...], Any], tuple[Any, ...]]

# op name -> local derivative rule: rule(z, args, arg) -> (dz/dargs[0], dz/dargs[1], ...)
RULES: dict[str, Rule] = {}
# op name -> the same derivatives as text, for pictures: one entry per argument (the last entry
# serves every further argument), in the names {x} and {y} (the arguments; {y} is the op's
# number for x ** 2 and leaky_relu), {z} (the output) and {other} (dot: the paired argument).
FORMULAS: dict[str, tuple[str, ...]] = {}

_builtin_sum = builtins.sum
_mul = operator.mul
_inf = math.inf
_nan = math.nan


# ---------------------------------------------------------------------------------------------
# Per-thread state: no_grad, detect_anomaly and name_scope. Ops only look at it while at least
# one of those contexts is open somewhere (`_special` > 0), so the common path costs one global.
# ---------------------------------------------------------------------------------------------


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = 0
        self.scope: str | None = None
        self.sites: dict[int, tuple[Value, str]] = {}


_state = _State()
_special = 0
_special_lock = threading.Lock()


def _special_add(k: int) -> None:
    global _special
    with _special_lock:
        _special += k


def is_grad_enabled() -> bool:
    """True unless the current thread is inside `no_grad()`."""
    return bool(_state.grad_enabled)


class no_grad:
    """Context manager and decorator: ops inside it record no graph (results are leaves).

    Thread-local: another thread building a graph at the same time is not affected.
    """

    def __init__(self) -> None:
        self._outer: list[bool] = []  # a stack, so one instance can be entered again inside itself

    def __enter__(self) -> no_grad:
        self._outer.append(_state.grad_enabled)
        _state.grad_enabled = False
        _special_add(1)
        return self

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._outer.pop()
        _special_add(-1)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


@contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Tag every node created inside with `name` (nested scopes are joined with '.').

    `nn` modules use it so pictures can group a neuron's or a layer's nodes.
    """
    outer = _state.scope
    _state.scope = name if not outer else f"{outer}.{name}"
    _special_add(1)
    try:
        yield
    finally:
        _state.scope = outer
        _special_add(-1)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `FloatingPointError` at the first NaN or infinity made in forward or backward.

    The error names the op, its input values and the file:line where the node was created.
    Nodes created inside the context remember where they were made; wrap both the forward and
    the backward pass in it.
    """
    _state.anomaly += 1
    _special_add(1)
    try:
        yield
    finally:
        _state.anomaly -= 1
        _special_add(-1)
        if not _state.anomaly:
            _state.sites.clear()


def _user_site() -> str:
    """file:line of the innermost frame outside this package (where the user made the node)."""
    pkg = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == pkg:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def creation_site(v: Value) -> str | None:
    """Where `v` was created, if it was created inside `detect_anomaly()`."""
    hit = _state.sites.get(id(v))
    return hit[1] if hit is not None and hit[0] is v else None


def _fmt(x: float) -> str:
    return repr(float(x))


def _describe(v: Value) -> str:
    return f"{v.label}={_fmt(v.data)}" if v.label else _fmt(v.data)


def _hooked(v: Value) -> Value:
    """Slow path of node creation, taken only while some special context is open."""
    st = _state
    if not st.grad_enabled:
        v._x = v._y = v._arg = None
        v._op = ""
        return v
    if st.scope is not None:
        v._scope = st.scope
    if st.anomaly:
        site = _user_site()
        st.sites[id(v)] = (v, site)
        if not math.isfinite(v.data):
            ins = ", ".join(_describe(p) for p in v._prev)
            raise FloatingPointError(
                f"detect_anomaly: forward op '{v._op}' produced {_fmt(v.data)} "
                f"from inputs ({ins}), node created at {site}"
            )
    return v


_new = object.__new__


def _node(data: float, x: Any, y: Any, op: str, arg: Any = None) -> Value:
    """Make a graph node (the hot path: no checks, no keyword handling)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._op = op
    v._x = x
    v._y = y
    v._arg = arg
    v._scope = None
    if _special:
        return _hooked(v)
    return v


def _leaf(data: float) -> Value:
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._op = ""
    v._x = v._y = v._arg = v._scope = None
    return v


def _as_float(data: object, what: str) -> float:
    cls = data.__class__
    if cls is float or cls is int or cls is bool or isinstance(data, numbers.Real):
        return float(data)  # type: ignore[arg-type]
    if type(data).__module__ == "numpy" and type(data).__name__ in ("bool_", "bool"):
        return float(bool(data))
    if isinstance(data, Value):
        raise TypeError(f"{what} got a Value ({data!r}); use the Value itself, or its .data")
    raise TypeError(
        f"{what} expects a real number (int, float, bool or numpy scalar), "
        f"got {type(data).__name__}: {data!r:.60}"
    )


def _lift(other: object) -> Value | None:
    """A plain number operand becomes a leaf; anything else gives None (-> NotImplemented)."""
    cls = other.__class__
    if cls is float:
        return _leaf(other)  # type: ignore[arg-type]
    if cls is int or cls is bool or isinstance(other, numbers.Real):
        return _leaf(float(other))  # type: ignore[arg-type]
    return None


def _domain(op: str, msg: str, *nodes: Value, exc: type[Exception] = ValueError) -> Exception:
    named = [f"'{n.label}'" for n in nodes if n.label]
    where = f" (node {', '.join(named)})" if named else ""
    return exc(f"{op}: {msg}{where}")


# Helpers that work on floats and on Values alike, for the rules.
def _exp(x: Any) -> Any:
    return x.exp() if x.__class__ is Value else _float_exp(x)


def _log(x: Any) -> Any:
    return x.log() if x.__class__ is Value else math.log(x)


def _sigmoid(x: Any) -> Any:
    return x.sigmoid() if x.__class__ is Value else _float_sigmoid(x)


def _sin(x: Any) -> Any:
    return x.sin() if x.__class__ is Value else math.sin(x)


def _cos(x: Any) -> Any:
    return x.cos() if x.__class__ is Value else math.cos(x)


def _float_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def _float_sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + _float_exp(-x))
    e = _float_exp(x)
    return e / (1.0 + e)


def _float_pow(x: float, n: float) -> float:
    try:
        return float(x**n)
    except OverflowError:
        odd = float(n).is_integer() and int(n) % 2 == 1
        return -_inf if (x < 0 and odd) else _inf
    except ZeroDivisionError:  # 0.0 ** negative, only reached from derivative rules
        return _inf


def _safe_div(a: Any, b: Any) -> Any:
    """a / b, with IEEE inf/nan instead of ZeroDivisionError for floats (derivative rules)."""
    if b.__class__ is float and b == 0.0:
        return _nan if a == 0 else math.copysign(_inf, a)
    return a / b


def _finite_or_nan(f: Callable[[float], float], x: float) -> float:
    try:
        return f(x)
    except ValueError:  # sin(inf), cos(inf)
        return _nan


class Value:
    """A scalar in a computation graph: ``Value(data, label="")``.

    >>> a = Value(2.0, label="a"); b = a * a + 1
    >>> b.backward(); a.grad
    4.0
    """

    __slots__ = ("data", "grad", "label", "_op", "_x", "_y", "_arg", "_scope")

    data: float
    grad: float
    label: str
    _op: str
    _x: Any
    _y: Any
    _arg: Any
    _scope: str | None

    def __init__(self, data: object, label: str = "") -> None:
        self.data = _as_float(data, "Value()")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {type(label).__name__}")
        self.label = label
        self._op = ""
        self._x = self._y = self._arg = self._scope = None

    # -- structure ----------------------------------------------------------------------------

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The parents in argument order (``a + a`` has two entries)."""
        x = self._x
        if x is None:
            return ()
        if x.__class__ is tuple:
            y = self._y
            return x if y is None else x + y
        y = self._y
        return (x,) if y is None else (x, y)

    def __repr__(self) -> str:
        lab = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{lab})"

    def __float__(self) -> float:
        return self.data

    # Comparisons look at data. == and hash stay identity, so nodes can live in sets and dicts.
    def __lt__(self, other: object) -> bool:
        return self.data < _data_of(other, "<")

    def __le__(self, other: object) -> bool:
        return self.data <= _data_of(other, "<=")

    def __gt__(self, other: object) -> bool:
        return self.data > _data_of(other, ">")

    def __ge__(self, other: object) -> bool:
        return self.data >= _data_of(other, ">=")

    __hash__ = object.__hash__

    # -- arithmetic ---------------------------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        """$f(x, y) = x + y$"""
        if other.__class__ is not Value:
            other = _lift(other)  # type: ignore[assignment]
            if other is None:
                return NotImplemented
        return _node(self.data + other.data, self, other, "+")  # type: ignore[union-attr]

    RULES["+"] = lambda z, a, _: (1.0, 1.0)
    FORMULAS["+"] = ("1", "1")

    def __sub__(self, other: Value | Number) -> Value:
        """$f(x, y) = x - y$"""
        if other.__class__ is not Value:
            other = _lift(other)  # type: ignore[assignment]
            if other is None:
                return NotImplemented
        return _node(self.data - other.data, self, other, "-")  # type: ignore[union-attr]

    RULES["-"] = lambda z, a, _: (1.0, -1.0)
    FORMULAS["-"] = ("1", "-1")

    def __mul__(self, other: Value | Number) -> Value:
        """$f(x, y) = x y$"""
        if other.__class__ is not Value:
            other = _lift(other)  # type: ignore[assignment]
            if other is None:
                return NotImplemented
        return _node(self.data * other.data, self, other, "*")  # type: ignore[union-attr]

    RULES["*"] = lambda z, a, _: (a[1], a[0])
    FORMULAS["*"] = ("{y}", "{x}")

    def __truediv__(self, other: Value | Number) -> Value:
        """$f(x, y) = x / y$, defined for $y \\ne 0$"""
        if other.__class__ is not Value:
            other = _lift(other)  # type: ignore[assignment]
            if other is None:
                return NotImplemented
        if other.data == 0.0:  # type: ignore[union-attr]
            raise _domain(
                "/",
                f"division by zero: {_fmt(self.data)} / {_fmt(other.data)}",  # type: ignore[union-attr]
                self,
                other,  # type: ignore[arg-type]
                exc=ZeroDivisionError,
            )
        return _node(self.data / other.data, self, other, "/")  # type: ignore[union-attr]

    # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2 = -z/y
    RULES["/"] = lambda z, a, _: (1.0 / a[1], -z / a[1])
    FORMULAS["/"] = ("1/{y}", "-{x}/{y}²")

    def __neg__(self) -> Value:
        """$f(x) = -x$"""
        return _node(-self.data, self, None, "neg")

    RULES["neg"] = lambda z, a, _: (-1.0,)
    FORMULAS["neg"] = ("-1",)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        """$f(x) = |x|$, with $f'(0) = 0$ (as in PyTorch)"""
        return _node(abs(self.data), self, None, "abs")

    RULES["abs"] = lambda z, a, _: (0.0 if a[0] == 0 else (1.0 if a[0] > 0 else -1.0),)
    FORMULAS["abs"] = ("sign({x})",)

    def __pow__(self, other: Value | Number) -> Value:
        """$f(x) = x^n$ for a number n; $f(x, y) = x^y$ for a Value y (then x must be >= 0)"""
        x = self.data
        if other.__class__ is Value:
            y = other.data  # type: ignore[union-attr]
            if x < 0:
                raise _domain(
                    "**",
                    f"negative base {_fmt(x)} to a Value power {_fmt(y)} "
                    "(x ** y with a Value exponent is defined for x >= 0 only)",
                    self,
                    other,  # type: ignore[arg-type]
                )
            if x == 0 and y < 0:
                raise _domain(
                    "**",
                    f"0.0 to a negative power {_fmt(y)}",
                    self,
                    other,  # type: ignore[arg-type]
                    exc=ZeroDivisionError,
                )
            return _node(_float_pow(x, y), self, other, "**")
        if not isinstance(other, numbers.Real):
            return NotImplemented
        n = float(other)
        if x == 0 and n < 0:
            raise _domain("**", f"0.0 to a negative power {_fmt(n)}", self, exc=ZeroDivisionError)
        if x < 0 and not n.is_integer():
            raise _domain("**", f"negative base {_fmt(x)} to a fractional power {_fmt(n)}", self)
        return _node(_float_pow(x, n), self, None, "**", n)

    RULES["**"] = lambda z, a, n: _d_pow(z, a, n)
    FORMULAS["**"] = ("{y}·{x}^({y}-1)", "{x}^{y}·ln {x}")

    def __radd__(self, other: Number) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o.__add__(self)

    def __rsub__(self, other: Number) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o.__sub__(self)

    def __rmul__(self, other: Number) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o.__mul__(self)

    def __rtruediv__(self, other: Number) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o.__truediv__(self)

    def __rpow__(self, other: Number) -> Value:
        o = _lift(other)
        return NotImplemented if o is None else o.__pow__(self)

    # -- functions ----------------------------------------------------------------------------

    def exp(self) -> Value:
        """$f(x) = e^x$ (overflows to inf, as IEEE floats do)"""
        return _node(_float_exp(self.data), self, None, "exp")

    RULES["exp"] = lambda z, a, _: (z,)
    FORMULAS["exp"] = ("exp({x}) = {z}",)

    def log(self) -> Value:
        """$f(x) = \\ln x$, defined for $x > 0$"""
        x = self.data
        if not x > 0 and not math.isnan(x):
            raise _domain("log", f"input must be > 0, got {_fmt(x)}", self)
        return _node(math.log(x), self, None, "log")

    RULES["log"] = lambda z, a, _: (_safe_div(1.0, a[0]),)
    FORMULAS["log"] = ("1/{x}",)

    def sqrt(self) -> Value:
        """$f(x) = \\sqrt{x}$, defined for $x \\ge 0$"""
        x = self.data
        if x < 0:
            raise _domain("sqrt", f"input must be >= 0, got {_fmt(x)}", self)
        return _node(math.sqrt(x), self, None, "sqrt")

    RULES["sqrt"] = lambda z, a, _: (_safe_div(0.5, z),)
    FORMULAS["sqrt"] = ("1/(2·{z})",)

    def tanh(self) -> Value:
        """$f(x) = \\tanh x$, $f'(x) = 1 - f(x)^2$"""
        return _node(math.tanh(self.data), self, None, "tanh")

    RULES["tanh"] = lambda z, a, _: (1.0 - z * z,)
    FORMULAS["tanh"] = ("1 - {z}²",)

    def sigmoid(self) -> Value:
        """$f(x) = 1 / (1 + e^{-x})$, $f'(x) = f(x)(1 - f(x))$ (stable for large |x|)"""
        return _node(_float_sigmoid(self.data), self, None, "sigmoid")

    RULES["sigmoid"] = lambda z, a, _: (z * (1.0 - z),)
    FORMULAS["sigmoid"] = ("{z}·(1 - {z})",)

    def relu(self) -> Value:
        """$f(x) = \\max(0, x)$, $f'(x) = [x > 0]$"""
        x = self.data
        return _node(x if x > 0 else 0.0, self, None, "relu")

    RULES["relu"] = lambda z, a, _: (1.0 if a[0] > 0 else 0.0,)
    FORMULAS["relu"] = ("[{x} > 0]",)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """$f(x) = x$ for $x > 0$, else $s x$"""
        x = self.data
        s = _as_float(slope, "leaky_relu(slope=)")
        return _node(x if x > 0 else s * x, self, None, "leaky_relu", s)

    RULES["leaky_relu"] = lambda z, a, s: (1.0 if a[0] > 0 else s,)
    FORMULAS["leaky_relu"] = ("1 if {x} > 0 else {y}",)

    def softplus(self) -> Value:
        """$f(x) = \\ln(1 + e^x)$, $f'(x) = \\sigma(x)$ (stable for large |x|)"""
        x = self.data
        return _node(max(x, 0.0) + math.log1p(_float_exp(-abs(x))), self, None, "softplus")

    RULES["softplus"] = lambda z, a, _: (_sigmoid(a[0]),)
    FORMULAS["softplus"] = ("sigmoid({x})",)

    def sin(self) -> Value:
        """$f(x) = \\sin x$, $f'(x) = \\cos x$"""
        return _node(_finite_or_nan(math.sin, self.data), self, None, "sin")

    RULES["sin"] = lambda z, a, _: (_cos(a[0]),)
    FORMULAS["sin"] = ("cos({x})",)

    def cos(self) -> Value:
        """$f(x) = \\cos x$, $f'(x) = -\\sin x$"""
        return _node(_finite_or_nan(math.cos, self.data), self, None, "cos")

    RULES["cos"] = lambda z, a, _: (-_sin(a[0]),)
    FORMULAS["cos"] = ("-sin({x})",)

    # -- reverse accumulation -----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Add d(self)/d(node) * grad to ``node.grad`` for every node of the graph.

        Gradients accumulate: calling backward twice adds twice (zero them in between, e.g.
        with ``model.zero_grad()``), as in PyTorch and micrograd.
        """
        from .backprop import backward

        backward(self, grad)

    def draw_dot(self, **options: Any) -> Any:
        """Shortcut for `autograd.viz.draw_dot(self, **options)` (needs the graphviz package)."""
        from .viz import draw_dot

        return draw_dot(self, **options)


def _data_of(other: object, op: str) -> float:
    if other.__class__ is Value:
        return other.data  # type: ignore[union-attr,no-any-return]
    if isinstance(other, numbers.Real):
        return float(other)
    raise TypeError(f"'{op}' not supported between Value and {type(other).__name__}")


def _d_pow(z: Any, a: tuple[Any, ...], n: Any) -> tuple[Any, ...]:
    """Local derivatives of x ** n (number n) and of x ** y (Value y)."""
    x = a[0]
    if len(a) == 1:  # d/dx x^n = n x^(n-1)
        if n == 0:
            return (0.0,)
        if x.__class__ is Value:
            return (n * x ** (n - 1),)
        return (n * _float_pow(x, n - 1),)
    y = a[1]  # d/dx x^y = y x^(y-1);  d/dy x^y = x^y ln x  (taken as 0 at x = 0)
    if x == 0:
        return (y * x ** (y - 1) if x.__class__ is Value else y * _float_pow(x, y - 1), 0.0)
    if x.__class__ is Value:
        return (y * x ** (y - 1), z * x.log())
    return (y * _float_pow(x, y - 1), z * math.log(x))


# ---------------------------------------------------------------------------------------------
# n-ary nodes: one node with n parents instead of a chain of n - 1 binary nodes
# ---------------------------------------------------------------------------------------------


# Value's own `data` slot reader: C speed, and a TypeError for anything that is not a Value.
_data_of_value = Value.__dict__["data"].__get__


def _lift_all(items: tuple[Any, ...], fn: str, arg: str) -> tuple[Value, ...]:
    """The items as Values: plain numbers become leaves, anything else is refused by name."""
    out = []
    for i, v in enumerate(items):
        if v.__class__ is not Value:
            lv = _lift(v)
            if lv is None:
                raise TypeError(f"{fn}: {arg}[{i}] must be a Value or a real number, got {type(v).__name__}")
            v = lv
        out.append(v)
    return tuple(out)


def sum(values: Iterable[Value | Number]) -> Value:  # shadows builtins.sum on purpose
    """$f(x_1..x_n) = \\sum_i x_i$ as ONE node with n parents; $\\partial f/\\partial x_i = 1$."""
    xs = values if values.__class__ is tuple else tuple(values)
    try:  # all Values: the common case, at C speed
        data = _builtin_sum(map(_data_of_value, xs))
    except TypeError:
        xs = _lift_all(xs, "sum", "values")
        data = _builtin_sum(map(_data_of_value, xs))
    if not xs:
        return _leaf(0.0)
    return _node(data, xs, None, "sum")


RULES["sum"] = lambda z, a, _: (1.0,) * len(a)
FORMULAS["sum"] = ("1",)


def dot(ws: Iterable[Value | Number], xs: Iterable[Value | Number]) -> Value:
    """$f(w, x) = \\sum_i w_i x_i$ as ONE node; $\\partial f/\\partial w_i = x_i$,
    $\\partial f/\\partial x_i = w_i$. Parents are w_1..w_n then x_1..x_n."""
    wt = ws if ws.__class__ is tuple else tuple(ws)
    xt = xs if xs.__class__ is tuple else tuple(xs)
    if len(wt) != len(xt):
        raise ValueError(f"dot: ws has {len(wt)} items but xs has {len(xt)}; they must match")
    try:  # all Values: the common case, at C speed
        data = _builtin_sum(map(_mul, map(_data_of_value, wt), map(_data_of_value, xt)))
    except TypeError:
        wt = _lift_all(wt, "dot", "ws")
        xt = _lift_all(xt, "dot", "xs")
        data = _builtin_sum(map(_mul, map(_data_of_value, wt), map(_data_of_value, xt)))
    if not wt:
        return _leaf(0.0)
    return _node(data, wt, xt, "dot")


def _d_dot(z: Any, a: tuple[Any, ...], _: Any) -> tuple[Any, ...]:
    n = len(a) // 2
    return a[n:] + a[:n]


RULES["dot"] = _d_dot
FORMULAS["dot"] = ("{other}",)


def float_locals(v: Value) -> tuple[Any, ...]:
    """RULES applied to v's data: d v / d parent for each entry of ``v._prev`` (() for a leaf)."""
    if not v._op:
        return ()
    return RULES[v._op](v.data, tuple([p.data for p in v._prev]), v._arg)


def local_grads(v: Value) -> tuple[float, ...]:
    """The local derivatives d v / d parent, one per entry of ``v._prev``, as floats.

    Used by pictures of the adjoint graph; backward multiplies each by v's adjoint.
    """
    return tuple(map(float, float_locals(v)))
