"""The `Value` node: one float, the op that made it, and its parents.

Each op's forward rule and local derivatives live once, in the op table `autograd.ops.OPS`;
the methods here check the domain, compute the forward value with the table's function and
record one node. Nothing here differentiates: the reverse sweep is `autograd.backprop`, and
the rules are evaluated on floats or Values by `autograd.interpreters`.

Layout of a node (``__slots__``, no per-node dict, set or closure)::

    _data   the float (read and set as ``v.data``, which refuses anything but a real number)
    grad    d(output)/d(this node), filled in by backward(); starts at 0.0
    label   a name for pictures and error messages ("" if unset; always a str)
    _op     "" for a leaf, else the op's name in `OPS`: "+", "*", "**", "tanh", "dot", ...
    _x, _y  the parents: a unary op uses _x; a binary op _x and _y (in argument order);
            "sum" keeps a tuple in _x; "dot" keeps the tuple of weights in _x, inputs in _y;
            an op of three or more arguments ("where") keeps their tuple in _x
    _arg    the op's constant parameter (the number exponent of x ** 2, the slope of leaky_relu)
    _scope  the `Scope` (module) that created the node, or None

Parents are held in two slots instead of a tuple so that a node is ONE object for the garbage
collector to track; `_prev` builds the tuple on demand. Nodes never refer back to their
consumers, so a graph has no reference cycles and is freed by reference counting.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from collections.abc import Callable, Iterable
from typing import Any

from . import context as _ctx
from .context import Scope, user_site
from .ops import OPS, Op

__all__ = [
    "Value",
    "Number",
    "sum",
    "dot",
    "maximum",
    "minimum",
    "where",
    "as_number",
    "describe",
    "domain_error",
    "install_backward",
]

Number = int | float

_builtin_sum = builtins.sum
_mul = operator.mul


def _fmt(x: float) -> str:
    return repr(float(x))


def describe(v: Value) -> str:
    """``label=value`` (or the value) of a node, for error messages."""
    return f"{v.label}={_fmt(v._data)}" if v.label else _fmt(v._data)


# ---------------------------------------------------------------------------------------------
# Making nodes
# ---------------------------------------------------------------------------------------------


def _hooked(v: Value) -> Value:
    """Slow path of node creation, taken only while some context of `autograd.context` is open."""
    st = _ctx._state
    if not st.grad_enabled:
        v._x = v._y = v._arg = None
        v._op = ""
        return v
    if st.scope is not None:
        v._scope = st.scope
    if st.anomaly:
        site = user_site()
        st.sites[id(v)] = (v, site)
        if not math.isfinite(v._data):
            ins = ", ".join(describe(p) for p in v._prev)
            raise FloatingPointError(
                f"detect_anomaly: forward op '{v._op}' produced {_fmt(v._data)} "
                f"from inputs ({ins}), node created at {site}"
            )
    return v


_new = object.__new__


def _node(data: float, x: Any, y: Any, op: str, arg: Any = None) -> Value:
    """Make a graph node (the hot path: no checks, no keyword handling)."""
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v._label = ""
    v._op = op
    v._x = x
    v._y = y
    v._arg = arg
    v._scope = None
    if _ctx._special:
        return _hooked(v)
    return v


def _leaf(data: float) -> Value:
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v._label = ""
    v._op = ""
    v._x = v._y = v._arg = v._scope = None
    return v


def as_number(data: object, what: str) -> float:
    """`data` as a float, or a TypeError naming `what` and the type (Values are refused)."""
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


def domain_error(op: str, msg: str, *nodes: Value) -> Exception:
    """The error for inputs outside an op's domain: ZeroDivisionError for a division by zero,
    else ValueError, naming the op, the problem and the nodes' labels."""
    named = [f"'{n.label}'" for n in nodes if n.label]
    where = f" (node {', '.join(named)})" if named else ""
    zero = msg.startswith(("division by zero", "0.0 to a negative"))
    return (ZeroDivisionError if zero else ValueError)(f"{op}: {msg}{where}")


def _foreign(args: tuple[Any, ...]) -> Any:
    """The first argument that applies ops its own way (forward mode's dual numbers), or None."""
    for a in args:
        if hasattr(a.__class__, "__autograd_apply__"):
            return a
    return None


def _apply(op: Op, args: tuple[Any, ...], param: Any = None) -> Value:
    """Apply a table op to Values and numbers: check the domain, compute, record one node."""
    vs = []
    for i, a in enumerate(args):
        if a.__class__ is not Value:
            lifted = _lift(a)
            if lifted is None:
                f = _foreign(args)
                if f is not None:
                    return f.__autograd_apply__(op, args, param)  # type: ignore[no-any-return]
                raise TypeError(
                    f"{op.name}: argument {i} must be a Value or a real number, got {type(a).__name__}"
                )
            a = lifted
        vs.append(a)
    datas = [v._data for v in vs]
    if op.param:
        datas.append(param)
    check = op.check
    if check is not None:
        msg = check(*datas)
        if msg:
            raise domain_error(op.name, msg, *vs)
    z = op.fwd(*datas)
    n = len(vs)
    if n == 1:
        return _node(z, vs[0], None, op.name, param)
    if n == 2:
        return _node(z, vs[0], vs[1], op.name, param)
    return _node(z, tuple(vs), None, op.name, param)


_FLOAT_ERR = (
    "a Value cannot become a float: math.exp(v), math.log(v), float(v), ... would turn it into a "
    "constant and silently drop its gradient. Use the Value's own methods (v.exp(), v.log(), "
    "v.sin(), ...) to stay differentiable, or v.data for the number"
)

_DIV, _POWC, _POW = OPS["/"], OPS["**"], OPS["pow"]
_fwd_div = _DIV.fwd
_fwd_pow = _POWC.fwd


class Value:
    """A scalar in a computation graph: ``Value(data, label="")``.

    >>> a = Value(2.0, label="a"); b = a * a + 1
    >>> b.backward(); a.grad
    4.0
    """

    __slots__ = ("_data", "grad", "_label", "_op", "_x", "_y", "_arg", "_scope")

    _data: float
    grad: float
    _label: str
    _op: str
    _x: Any
    _y: Any
    _arg: Any
    _scope: Scope | None

    def __init__(self, data: object, label: str = "") -> None:
        self._data = as_number(data, "Value()")
        self.grad = 0.0
        self.label = label
        self._op = ""
        self._x = self._y = self._arg = self._scope = None

    # -- structure ----------------------------------------------------------------------------

    @property
    def data(self) -> float:
        """The number this node holds (a float). Setting it accepts a real number only (ints,
        bools and numpy scalars become floats) and refuses anything else, naming it."""
        return self._data

    @data.setter
    def data(self, x: float) -> None:
        self._data = x if x.__class__ is float else as_number(x, "Value.data =")

    @property
    def label(self) -> str:
        """A name for pictures and error messages (a str; "" if unset)."""
        return self._label

    @label.setter
    def label(self, text: str) -> None:
        if text.__class__ is not str and not isinstance(text, str):
            raise TypeError(f"a Value's label must be a str, got {type(text).__name__}: {text!r:.60}")
        self._label = text

    @property
    def scope(self) -> Scope | None:
        """The `Scope` (module) that made this node, or None."""
        return self._scope

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
        lab = f", label={self._label!r}" if self._label else ""
        return f"Value(data={self._data!r}, grad={self.grad!r}{lab})"

    def __float__(self) -> float:
        raise TypeError(_FLOAT_ERR)

    # Comparisons look at data. == and hash stay identity, so nodes can live in sets and dicts.
    def __lt__(self, other: object) -> bool:
        return self._data < _data_of(other, "<")

    def __le__(self, other: object) -> bool:
        return self._data <= _data_of(other, "<=")

    def __gt__(self, other: object) -> bool:
        return self._data > _data_of(other, ">")

    def __ge__(self, other: object) -> bool:
        return self._data >= _data_of(other, ">=")

    __hash__ = object.__hash__

    # -- arithmetic: forward rules and derivatives are in autograd/ops.py ----------------------
    # (+, - and * write the table's one-line forward inline: they are the hot path)

    def __add__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        return _node(self._data + other._data, self, other, "+")  # type: ignore[union-attr]

    def __sub__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        return _node(self._data - other._data, self, other, "-")  # type: ignore[union-attr]

    def __mul__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        return _node(self._data * other._data, self, other, "*")  # type: ignore[union-attr]

    def __truediv__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        if other._data == 0.0:  # type: ignore[union-attr]
            return _apply(_DIV, (self, other))  # raises the domain error
        return _node(self._data / other._data, self, other, "/")  # type: ignore[union-attr]

    def __neg__(self) -> Value:
        return _node(-self._data, self, None, "neg")

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(abs(self._data), self, None, "abs")

    def __pow__(self, other: Value | Number) -> Value:
        """x ** n for a number n (op "**"); x ** y for a Value y (op "pow", x >= 0)."""
        if other.__class__ is Value:
            return _apply(_POW, (self, other))
        if not isinstance(other, numbers.Real):
            if _foreign((other,)) is not None:
                return _apply(_POW, (self, other))
            return NotImplemented
        return _apply(_POWC, (self,), float(other))

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

    # -- functions (one line each: the op table holds forward, derivative and domain) ----------

    def exp(self) -> Value:
        """e^x (overflows to inf)."""
        return _apply(OPS["exp"], (self,))

    def expm1(self) -> Value:
        """e^x - 1, exact near 0."""
        return _apply(OPS["expm1"], (self,))

    def log(self) -> Value:
        """ln x, for x > 0."""
        return _apply(OPS["log"], (self,))

    def log1p(self) -> Value:
        """ln(1 + x), for x > -1, exact near 0."""
        return _apply(OPS["log1p"], (self,))

    def sqrt(self) -> Value:
        """√x, for x >= 0."""
        return _apply(OPS["sqrt"], (self,))

    def tanh(self) -> Value:
        """tanh x."""
        return _node(_tanh(self._data), self, None, "tanh")

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), stable for large |x|."""
        return _node(_sigmoid(self._data), self, None, "sigmoid")

    def relu(self) -> Value:
        """max(0, x); nan stays nan."""
        return _node(_relu(self._data), self, None, "relu")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        s = as_number(slope, "leaky_relu(slope=)")
        if not math.isfinite(s):
            raise ValueError(f"leaky_relu: slope must be a finite number, got {s!r}")
        return _node(_leaky_relu(self._data, s), self, None, "leaky_relu", s)

    def softplus(self) -> Value:
        """ln(1 + e^x), stable for large |x|."""
        return _apply(OPS["softplus"], (self,))

    def gelu(self) -> Value:
        """x Φ(x), the exact (erf) form."""
        return _apply(OPS["gelu"], (self,))

    def silu(self) -> Value:
        """x σ(x) (also called swish)."""
        return _apply(OPS["silu"], (self,))

    def clamp(self, lo: float | None = None, hi: float | None = None) -> Value:
        """x limited to [lo, hi] (either may be None); the gradient passes where lo <= x <= hi."""
        a = -math.inf if lo is None else as_number(lo, "clamp(lo=)")
        b = math.inf if hi is None else as_number(hi, "clamp(hi=)")
        if not a <= b:
            raise ValueError(f"clamp: lo must be <= hi, got lo={a!r}, hi={b!r}")
        return _apply(OPS["clamp"], (self,), (a, b))

    def sign(self) -> Value:
        """-1, 0 or 1 (its derivative is 0)."""
        return _apply(OPS["sign"], (self,))

    def sin(self) -> Value:
        """sin x."""
        return _apply(OPS["sin"], (self,))

    def cos(self) -> Value:
        """cos x."""
        return _apply(OPS["cos"], (self,))

    def tan(self) -> Value:
        """tan x."""
        return _apply(OPS["tan"], (self,))

    def sinh(self) -> Value:
        """sinh x."""
        return _apply(OPS["sinh"], (self,))

    def cosh(self) -> Value:
        """cosh x."""
        return _apply(OPS["cosh"], (self,))

    def asin(self) -> Value:
        """arcsin x, for -1 <= x <= 1."""
        return _apply(OPS["asin"], (self,))

    def acos(self) -> Value:
        """arccos x, for -1 <= x <= 1."""
        return _apply(OPS["acos"], (self,))

    def atan(self) -> Value:
        """arctan x."""
        return _apply(OPS["atan"], (self,))

    def erf(self) -> Value:
        """The error function."""
        return _apply(OPS["erf"], (self,))

    # -- reverse accumulation -----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Add d(self)/d(node) * grad to ``node.grad`` for every node of the graph.

        Gradients accumulate: calling backward twice adds twice (zero them in between, e.g.
        with ``model.zero_grad()``), as in PyTorch and micrograd. The sweep is
        `autograd.backprop.backward`.
        """
        _reverse_sweep(self, grad)


def _no_sweep(v: Value, grad: float) -> None:
    raise RuntimeError("backward: autograd.backprop has not been imported (import autograd)")


# The reverse sweep lives in autograd/backprop.py, which builds on this file; it installs itself
# here when it is imported (importing the package does that), so this file need not import it.
_reverse_sweep: Callable[[Value, float], None] = _no_sweep


def install_backward(sweep: Callable[[Value, float], None]) -> None:
    """Make `sweep` what ``Value.backward`` runs (called once, by autograd.backprop)."""
    global _reverse_sweep
    _reverse_sweep = sweep


_tanh = OPS["tanh"].fwd
_sigmoid = OPS["sigmoid"].fwd
_relu = OPS["relu"].fwd
_leaky_relu = OPS["leaky_relu"].fwd


def _data_of(other: object, op: str) -> float:
    if other.__class__ is Value:
        return other._data  # type: ignore[union-attr,no-any-return]
    if isinstance(other, numbers.Real):
        return float(other)
    raise TypeError(f"'{op}' not supported between Value and {type(other).__name__}")


# ---------------------------------------------------------------------------------------------
# n-ary nodes and ops of several arguments
# ---------------------------------------------------------------------------------------------


# Value's own `data` slot reader: C speed, and a TypeError for anything that is not a Value.
_data_of_value = Value.__dict__["_data"].__get__


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
    """x_1 + ... + x_n as ONE node with n parents; each local derivative is 1."""
    xs = values if values.__class__ is tuple else tuple(values)
    try:  # all Values: the common case, at C speed
        data = _builtin_sum(map(_data_of_value, xs))
    except TypeError:
        f = _foreign(xs)
        if f is not None:
            return f.__autograd_apply__(OPS["sum"], xs, None)  # type: ignore[no-any-return]
        xs = _lift_all(xs, "sum", "values")
        data = _builtin_sum(map(_data_of_value, xs))
    if not xs:
        return _leaf(0.0)
    return _node(data, xs, None, "sum")


def dot(ws: Iterable[Value | Number], xs: Iterable[Value | Number]) -> Value:
    """w_1 x_1 + ... + w_n x_n as ONE node; d/dw_i = x_i, d/dx_i = w_i. Parents: w's then x's."""
    wt = ws if ws.__class__ is tuple else tuple(ws)
    xt = xs if xs.__class__ is tuple else tuple(xs)
    if len(wt) != len(xt):
        raise ValueError(f"dot: ws has {len(wt)} items but xs has {len(xt)}; they must match")
    try:  # all Values: the common case, at C speed
        data = _builtin_sum(map(_mul, map(_data_of_value, wt), map(_data_of_value, xt)))
    except TypeError:
        f = _foreign(wt + xt)
        if f is not None:
            return f.__autograd_apply__(OPS["dot"], wt + xt, None)  # type: ignore[no-any-return]
        wt = _lift_all(wt, "dot", "ws")
        xt = _lift_all(xt, "dot", "xs")
        data = _builtin_sum(map(_mul, map(_data_of_value, wt), map(_data_of_value, xt)))
    if not wt:
        return _leaf(0.0)
    return _node(data, wt, xt, "dot")


def maximum(a: Value | Number, b: Value | Number) -> Value:
    """The larger of a and b, differentiably (at a tie each gets half the gradient)."""
    return _apply(OPS["maximum"], (a, b))


def minimum(a: Value | Number, b: Value | Number) -> Value:
    """The smaller of a and b, differentiably (at a tie each gets half the gradient)."""
    return _apply(OPS["minimum"], (a, b))


def where(c: Value | Number, a: Value | Number, b: Value | Number) -> Value:
    """`a` where ``c > 0``, else `b`, as one node.

    The sign of `c` is read when the node is evaluated (so a replayed graph branches on new
    data); the derivative with respect to `c` is 0.
    """
    return _apply(OPS["where"], (c, a, b))
