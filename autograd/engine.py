"""The `Value` node: one float, the op that made it, and its parents.

Each op's forward rule and local derivatives live once, in the op table `autograd.ops.OPS`;
the methods here check the domain, compute the forward value with the table's function and
record one node. `VALUE` is the math namespace that evaluates a rule on Values, so that
``grad(..., create_graph=True)`` builds the graph of the derivative itself.

Layout of a node (``__slots__``, no per-node dict, set or closure)::

    data    the float
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
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import ops as _ops
from .ops import FLOAT, OPS, Namespace, Op

__all__ = [
    "Value",
    "Scope",
    "Number",
    "sum",
    "dot",
    "maximum",
    "minimum",
    "where",
    "defop",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "is_anomaly_enabled",
    "as_number",
    "describe",
    "domain_error",
    "name_scope",
    "detect_anomaly",
    "local_grads",
    "float_locals",
    "creation_site",
    "VALUE",
]

Number = int | float

_builtin_sum = builtins.sum
_mul = operator.mul


# ---------------------------------------------------------------------------------------------
# Per-thread state: no_grad, detect_anomaly and name_scope. Ops only look at it while at least
# one of those contexts is open somewhere (`_special` > 0), so the common path costs one global.
# ---------------------------------------------------------------------------------------------


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.grad_saved: list[bool] = []  # no_grad's saved states, per thread
        self.anomaly = 0
        self.scope: Scope | None = None
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


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` (in the current thread)."""
    return bool(_state.anomaly)


class no_grad:
    """Context manager and decorator: ops inside it record no graph (results are leaves).

    Thread-local: another thread building a graph at the same time is not affected, and one
    instance may be entered by several threads (and inside itself) at once.
    """

    def __enter__(self) -> no_grad:
        st = _state
        st.grad_saved.append(st.grad_enabled)
        st.grad_enabled = False
        _special_add(1)
        return self

    def __exit__(self, *exc: object) -> None:
        st = _state
        st.grad_enabled = st.grad_saved.pop()
        _special_add(-1)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record graphs inside it even within `no_grad()` (grad(..., create_graph=True) does so)."""
    st = _state
    if st.grad_enabled:
        yield
        return
    st.grad_enabled = True
    try:
        yield
    finally:
        st.grad_enabled = False


# ---------------------------------------------------------------------------------------------
# Scopes: which module made a node
# ---------------------------------------------------------------------------------------------


class Scope(str):
    """The dotted name of the module that made a node, with its kind and its enclosing scope.

    A `Scope` is a `str` (its dotted path, ``"layers.0.neurons.3"``), so it prints and compares
    as one; ``kind`` says what sort of part it is (``"neuron"``, ``"layer"``, or any word a module
    chooses), ``parent`` is the enclosing scope and ``enclosing(kind)`` the innermost scope of a
    kind. Pictures group nodes by ``node.scope.enclosing(kind)``.
    """

    name: str
    kind: str | None
    parent: Scope | None
    _under: tuple[Scope, Scope] | None  # the last (outer, self nested in outer)

    def __new__(cls, name: str, kind: str | None = None, parent: Scope | None = None) -> Scope:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a scope name must be a non-empty str, got {name!r:.60}")
        if kind is not None and not isinstance(kind, str):
            raise TypeError(f"a scope kind must be a str or None, got {kind!r:.60}")
        if parent is not None and not isinstance(parent, Scope):
            raise TypeError(f"a scope's parent must be a Scope or None, got {type(parent).__name__}")
        self = super().__new__(cls, name if parent is None else f"{parent}.{name}")
        self.name, self.kind, self.parent = name, kind, parent
        self._under = None
        return self

    @property
    def path(self) -> str:
        return str.__str__(self)

    def enclosing(self, kind: str) -> Scope | None:
        """The innermost scope of `kind`: this one or an enclosing one (None if there is none)."""
        s: Scope | None = self
        while s is not None:
            if s.kind == kind:
                return s
            s = s.parent
        return None

    def nested_in(self, outer: Scope) -> Scope:
        """This scope (and its ancestors) placed inside `outer`."""
        hit = self._under  # one entry: a forward pass tags many nodes inside one outer scope
        if hit is not None and hit[0] is outer:
            return hit[1]
        parent = outer if self.parent is None else self.parent.nested_in(outer)
        s = Scope(self.name, self.kind, parent)
        self._under = (outer, s)
        return s

    def tag(self, *nodes: Value) -> None:
        """Mark nodes as made by this scope (nested inside the scope they were made in, if any).

        Modules call it on the few nodes they make, which is cheaper than a `name_scope`.
        """
        for v in nodes:
            cur = v._scope
            v._scope = self if cur is None else self.nested_in(cur)

    def __repr__(self) -> str:
        return f"Scope({self.path!r}, kind={self.kind!r})"

    def __reduce__(self) -> Any:
        return (Scope, (self.name, self.kind, self.parent))


@contextmanager
def name_scope(name: str, kind: str | None = None) -> Iterator[Scope]:
    """Tag every node created inside with a `Scope` named `name` (nested scopes join with '.').

    ``kind`` is an optional word for what the scope is (``"layer"``, ``"head"``, ...); pictures
    can collapse a graph to one box per scope of a kind.
    """
    outer = _state.scope
    scope = Scope(name, kind, outer)
    _state.scope = scope
    _special_add(1)
    try:
        yield scope
    finally:
        _state.scope = outer
        _special_add(-1)


# ---------------------------------------------------------------------------------------------
# detect_anomaly
# ---------------------------------------------------------------------------------------------


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


_PKG = os.path.dirname(os.path.abspath(__file__))


def _user_site() -> str:
    """file:line of the innermost frame outside this package (where the user made the node)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PKG:
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


def describe(v: Value) -> str:
    """``label=value`` (or the value) of a node, for error messages."""
    return f"{v.label}={_fmt(v.data)}" if v.label else _fmt(v.data)


# ---------------------------------------------------------------------------------------------
# Making nodes
# ---------------------------------------------------------------------------------------------


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
            ins = ", ".join(describe(p) for p in v._prev)
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
    v._label = ""
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
    datas = [v.data for v in vs]
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

    __slots__ = ("data", "grad", "_label", "_op", "_x", "_y", "_arg", "_scope")

    data: float
    grad: float
    _label: str
    _op: str
    _x: Any
    _y: Any
    _arg: Any
    _scope: Scope | None

    def __init__(self, data: object, label: str = "") -> None:
        self.data = as_number(data, "Value()")
        self.grad = 0.0
        self.label = label
        self._op = ""
        self._x = self._y = self._arg = self._scope = None

    # -- structure ----------------------------------------------------------------------------

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
        return f"Value(data={self.data!r}, grad={self.grad!r}{lab})"

    def __float__(self) -> float:
        raise TypeError(_FLOAT_ERR)

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

    # -- arithmetic: forward rules and derivatives are in autograd/ops.py ----------------------
    # (+, - and * write the table's one-line forward inline: they are the hot path)

    def __add__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        return _node(self.data + other.data, self, other, "+")  # type: ignore[union-attr]

    def __sub__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        return _node(self.data - other.data, self, other, "-")  # type: ignore[union-attr]

    def __mul__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        return _node(self.data * other.data, self, other, "*")  # type: ignore[union-attr]

    def __truediv__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            o = _lift(other)
            if o is None:
                return NotImplemented
            other = o
        if other.data == 0.0:  # type: ignore[union-attr]
            return _apply(_DIV, (self, other))  # raises the domain error
        return _node(self.data / other.data, self, other, "/")  # type: ignore[union-attr]

    def __neg__(self) -> Value:
        return _node(-self.data, self, None, "neg")

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(abs(self.data), self, None, "abs")

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
        return _node(_tanh(self.data), self, None, "tanh")

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), stable for large |x|."""
        return _node(_sigmoid(self.data), self, None, "sigmoid")

    def relu(self) -> Value:
        """max(0, x); nan stays nan."""
        return _node(_relu(self.data), self, None, "relu")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        s = as_number(slope, "leaky_relu(slope=)")
        if not math.isfinite(s):
            raise ValueError(f"leaky_relu: slope must be a finite number, got {s!r}")
        return _node(_leaky_relu(self.data, s), self, None, "leaky_relu", s)

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
        with ``model.zero_grad()``), as in PyTorch and micrograd.
        """
        from .backprop import backward

        backward(self, grad)


_tanh = OPS["tanh"].fwd
_sigmoid = OPS["sigmoid"].fwd
_relu = OPS["relu"].fwd
_leaky_relu = OPS["leaky_relu"].fwd


def _data_of(other: object, op: str) -> float:
    if other.__class__ is Value:
        return other.data  # type: ignore[union-attr,no-any-return]
    if isinstance(other, numbers.Real):
        return float(other)
    raise TypeError(f"'{op}' not supported between Value and {type(other).__name__}")


# ---------------------------------------------------------------------------------------------
# n-ary nodes and ops of several arguments
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


def defop(
    name: str,
    forward: Callable[..., float],
    derivative: Callable[..., tuple[Any, ...]],
    *,
    arity: int = 1,
    check: Callable[..., str | None] | None = None,
    doc: str = "",
) -> Callable[..., Value]:
    """Add a scalar op to the engine; returns the function that applies it.

    ``forward(*xs) -> float`` computes the value from floats. ``derivative(m, z, *xs)`` returns
    one local derivative per argument, written with ``+ - *`` and the namespace ``m``: every op
    of the engine by name (``m.exp``, ``m.log``, ``m.abs``, ``m.sigmoid``, ...), ``m.div(a, b)``,
    ``m.pow(x, y)``, and ``m.cond(pred, a, b)`` with ``m.gt/ge/lt/le/eq`` for branches. ``z`` is
    the op's output. ``check(*xs)`` may return a message when inputs are outside the domain.

        >>> softsign = defop("softsign", lambda x: x / (1 + abs(x)),
        ...                  lambda m, z, x: (m.div(1.0, (1.0 + m.abs(x)) * (1.0 + m.abs(x))),))

    The op then works everywhere: backward, grad of any order, detect_anomaly, pictures (with
    its formula), forward mode and programs.
    """
    op = _ops.defop(name, forward, derivative, arity=arity, check=check, doc=doc)

    def apply(*args: Value | Number) -> Value:
        if len(args) != arity:
            raise TypeError(f"{name} takes {arity} argument(s), got {len(args)}")
        return _apply(op, args)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc or f"The op {name!r} (added with autograd.defop)."
    apply.op = op  # type: ignore[attr-defined]
    return apply


# ---------------------------------------------------------------------------------------------
# Rules evaluated on Values: the derivative as a graph (create_graph=True)
# ---------------------------------------------------------------------------------------------


def _d(x: Any) -> float:
    return x.data if x.__class__ is Value else x  # type: ignore[no-any-return]


class _ValueNamespace(Namespace):
    """Rules on Values: every op makes a node with the table's IEEE forward (never a domain
    error: a derivative may be inf or nan where the user's op was fine). On plain numbers the
    ops are computed directly. Branches (`cond`) are taken on the current data."""

    def make(self, op: Op) -> Callable[..., Any]:
        fwd = op.fwd
        name = op.name
        n = op.arity

        def call(*args: Any) -> Any:
            param = None
            if op.param:
                *args, param = args  # type: ignore[assignment]
            if not any(a.__class__ is Value for a in args):
                return fwd(*args) if param is None else fwd(*args, param)
            vs = [a if a.__class__ is Value else _leaf(float(a)) for a in args]
            datas = [v.data for v in vs]
            z = fwd(*datas) if param is None else fwd(*datas, param)
            if n == 1:
                return _node(z, vs[0], None, name, param)
            if n == 2:
                return _node(z, vs[0], vs[1], name, param)
            return _node(z, tuple(vs), None, name, param)

        return call

    @staticmethod
    def pow(x: Any, y: Any) -> Any:
        if y.__class__ is Value:
            xv = x if x.__class__ is Value else _leaf(float(x))
            return _node(_fwd_pow(xv.data, y.data), xv, y, "pow")
        if x.__class__ is Value:
            return _node(_fwd_pow(x.data, y), x, None, "**", float(y))
        return _fwd_pow(x, y)

    @staticmethod
    def cond(pred: bool, a: Any, b: Any) -> Any:
        return a if pred else b

    @staticmethod
    def gt(a: Any, b: Any) -> bool:
        return _d(a) > _d(b)

    @staticmethod
    def ge(a: Any, b: Any) -> bool:
        return _d(a) >= _d(b)

    @staticmethod
    def lt(a: Any, b: Any) -> bool:
        return _d(a) < _d(b)

    @staticmethod
    def le(a: Any, b: Any) -> bool:
        return _d(a) <= _d(b)

    @staticmethod
    def eq(a: Any, b: Any) -> bool:
        return _d(a) == _d(b)


VALUE = _ValueNamespace()


def float_locals(v: Value) -> tuple[Any, ...]:
    """The op table's rule applied to v's data: d v / d parent for each entry of ``v._prev``."""
    if not v._op:
        return ()
    return OPS[v._op].locals(FLOAT, v.data, tuple([p.data for p in v._prev]), v._arg)


def local_grads(v: Value) -> tuple[float, ...]:
    """The local derivatives d v / d parent, one per entry of ``v._prev``, as floats.

    Used by pictures of the adjoint graph; backward multiplies each by v's adjoint.
    """
    return tuple(map(float, float_locals(v)))
