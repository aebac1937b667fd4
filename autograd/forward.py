"""Forward accumulation (dual numbers) and the derived operators: jvp, jacobian, hessian, hvp.

Forward mode carries, beside each value x, its tangent dx = d x / d t along one direction of the
inputs. An op z = f(x_1, ..., x_n) passes on dz = sum_i (df/dx_i) dx_i, with the local
derivatives df/dx_i taken from the same op table as reverse mode (`autograd.ops`). No graph is
recorded: memory stays constant however long the computation. One forward pass gives one
directional derivative (one column of the Jacobian); reverse mode gives one row per pass, which is
why backpropagation, with one output and many weights, is reverse mode.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from .backprop import grad
from .engine import Value, as_number, domain_error, dot
from .interpreters import FLOAT
from .ops import OPS, Op

__all__ = ["Dual", "jvp", "jacobian", "hessian", "hvp"]


def _parts(a: Any) -> tuple[float, float]:
    """(value, tangent) of an argument: a Dual, a Value (a constant here) or a number."""
    cls = a.__class__
    if cls is Dual:
        return a.primal, a.tangent
    if cls is float:
        return a, 0.0
    if cls is Value:
        return a._data, 0.0
    if isinstance(a, numbers.Real):
        return float(a), 0.0
    raise TypeError(f"forward mode: expected a number, a Value or a Dual, got {type(a).__name__}")


class Dual:
    """A value and its tangent. Supports the same ops as `Value`, so a function written for
    Values runs on Duals unchanged (``autograd.sum``, ``dot``, ``maximum``, ``where`` too)."""

    __slots__ = ("primal", "tangent")

    def __init__(self, primal: float, tangent: float = 0.0) -> None:
        self.primal = primal
        self.tangent = tangent

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"

    @property
    def data(self) -> float:
        """The value (so code that reads ``.data`` works on Duals as on Values)."""
        return self.primal

    @staticmethod
    def __autograd_apply__(op: Op, args: Sequence[Any], param: Any = None) -> Dual:
        """Apply a table op: value by the op's forward, tangent by its local derivatives."""
        parts = [_parts(a) for a in args]
        xs = [p for p, _ in parts]
        if op.param:
            xs.append(param)
        check = op.check
        if check is not None:
            msg = check(*xs)
            if msg:
                raise domain_error(op.name, msg)
        z = op.fwd(*xs)
        prim = tuple(p for p, _ in parts)
        local = op.locals(FLOAT, z, prim, param)
        t = 0.0
        for d, (_, dt) in zip(local, parts):
            if dt:  # a zero tangent adds nothing (even against an infinite derivative)
                # a structural zero (None) multiplies the tangent as a 0 would: reverse mode
                # likewise multiplies the 0 adjoint of a node it never reached by what is below
                t += (0.0 if d is None else d) * dt
        return Dual(z, t)

    # arithmetic
    def __add__(self, o: Any) -> Dual:
        p, t = _parts(o)
        return Dual(self.primal + p, self.tangent + t)

    def __radd__(self, o: Any) -> Dual:
        p, t = _parts(o)
        return Dual(p + self.primal, t + self.tangent)

    def __sub__(self, o: Any) -> Dual:
        p, t = _parts(o)
        return Dual(self.primal - p, self.tangent - t)

    def __rsub__(self, o: Any) -> Dual:
        p, t = _parts(o)
        return Dual(p - self.primal, t - self.tangent)

    # a zero tangent contributes nothing, even where the other factor is inf (0 · inf is not
    # taken): forward mode then gives exactly what reverse mode gives
    def __mul__(self, o: Any) -> Dual:
        p, t = _parts(o)
        st = self.tangent
        return Dual(self.primal * p, (p * st if st else 0.0) + (self.primal * t if t else 0.0))

    def __rmul__(self, o: Any) -> Dual:
        p, t = _parts(o)
        st = self.tangent
        return Dual(p * self.primal, (self.primal * t if t else 0.0) + (p * st if st else 0.0))

    def __truediv__(self, o: Any) -> Dual:
        return Dual.__autograd_apply__(OPS["/"], (self, o))

    def __rtruediv__(self, o: Any) -> Dual:
        return Dual.__autograd_apply__(OPS["/"], (o, self))

    def __pow__(self, o: Any) -> Dual:
        if o.__class__ is Dual:
            return Dual.__autograd_apply__(OPS["pow"], (self, o))
        return Dual.__autograd_apply__(OPS["**"], (self,), as_number(o, "**"))

    def __rpow__(self, o: Any) -> Dual:
        return Dual.__autograd_apply__(OPS["pow"], (o, self))

    def __neg__(self) -> Dual:
        return Dual(-self.primal, -self.tangent)

    def __pos__(self) -> Dual:
        return self

    def __abs__(self) -> Dual:
        return Dual.__autograd_apply__(OPS["abs"], (self,))

    # comparisons look at the value, as Value's do
    def __lt__(self, o: Any) -> bool:
        return self.primal < _parts(o)[0]

    def __le__(self, o: Any) -> bool:
        return self.primal <= _parts(o)[0]

    def __gt__(self, o: Any) -> bool:
        return self.primal > _parts(o)[0]

    def __ge__(self, o: Any) -> bool:
        return self.primal >= _parts(o)[0]

    def leaky_relu(self, slope: float = 0.01) -> Dual:
        return Dual.__autograd_apply__(OPS["leaky_relu"], (self,), as_number(slope, "leaky_relu(slope=)"))

    def clamp(self, lo: float | None = None, hi: float | None = None) -> Dual:
        a = -math.inf if lo is None else as_number(lo, "clamp(lo=)")
        b = math.inf if hi is None else as_number(hi, "clamp(hi=)")
        return Dual.__autograd_apply__(OPS["clamp"], (self,), (a, b))


def _method(op: Op) -> Callable[[Dual], Dual]:
    def method(self: Dual) -> Dual:
        return Dual.__autograd_apply__(op, (self,))

    method.__name__ = op.name
    return method


# every one-argument method of Value without a parameter (exp, log, tanh, ...), from the table
for _name, _op in OPS.items():
    if _op.arity == 1 and not _op.param and not _op.nary and _name.isidentifier() and hasattr(Value, _name):
        setattr(Dual, _name, _method(_op))


def _numbers(xs: Sequence[Any], what: str) -> list[float]:
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"{what} must be a sequence of numbers, got {type(xs).__name__}")
    return [as_number(x, f"{what}[{i}]") for i, x in enumerate(xs)]


def _outputs(out: Any, what: str) -> tuple[list[Any], bool]:
    """f's result as a list, and whether it was a single output."""
    if isinstance(out, (list, tuple)):
        return list(out), False
    return [out], True


def jvp(f: Callable[..., Any], primals: Sequence[float], tangents: Sequence[float]) -> tuple[Any, Any]:
    """Forward accumulation: f's value at `primals` and its directional derivative along `tangents`.

    ``f`` takes one argument per primal (written for Values; it receives dual numbers) and returns
    one value or a list of values. Returns ``(value, tangent)``, floats (or lists of floats).
    No graph is recorded, so memory does not grow with the length of the computation.
    """
    ps = _numbers(primals, "jvp: primals")
    ts = _numbers(tangents, "jvp: tangents")
    if len(ps) != len(ts):
        raise ValueError(f"jvp: {len(ps)} primals but {len(ts)} tangents; they must match")
    outs, single = _outputs(f(*[Dual(p, t) for p, t in zip(ps, ts)]), "jvp")
    vals, tans = [], []
    for o in outs:
        p, t = _parts(o)
        vals.append(p)
        tans.append(t)
    return (vals[0], tans[0]) if single else (vals, tans)


def jacobian(f: Callable[..., Any], primals: Sequence[float], mode: str = "reverse") -> list[list[float]]:
    """The m x n Jacobian of f at `primals` (one row per output), by reverse or forward mode.

    ``mode="reverse"``: one reverse sweep per output (m sweeps); ``mode="forward"``: one forward
    pass per input (n passes). Both give the same numbers.
    """
    ps = _numbers(primals, "jacobian: primals")
    if mode == "forward":
        cols = []
        for j in range(len(ps)):
            e = [1.0 if i == j else 0.0 for i in range(len(ps))]
            _, t = jvp(f, ps, e)
            cols.append(t if isinstance(t, list) else [t])
        m = len(cols[0]) if cols else len(_outputs(f(*ps), "jacobian")[0])
        return [[cols[j][i] for j in range(len(ps))] for i in range(m)]
    if mode != "reverse":
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")
    xs = [Value(p) for p in ps]
    outs, _ = _outputs(f(*xs), "jacobian")
    rows = []
    for o in outs:
        if o.__class__ is not Value:
            rows.append([0.0] * len(xs))  # a constant output
            continue
        rows.append([g.data for g in grad(o, xs)])
    return rows


def _scalar_out(f: Callable[..., Any], xs: list[Value], fn: str) -> Value:
    out = f(*xs)
    if out.__class__ is not Value:
        raise TypeError(f"{fn}: f must return one Value (a scalar), got {type(out).__name__}")
    return out  # type: ignore[no-any-return]


def hessian(f: Callable[..., Any], primals: Sequence[float]) -> list[list[float]]:
    """The n x n matrix of second derivatives of a scalar f at `primals` (reverse over reverse)."""
    ps = _numbers(primals, "hessian: primals")
    xs = [Value(p) for p in ps]
    gs = grad(_scalar_out(f, xs, "hessian"), xs, create_graph=True)
    return [[h.data for h in grad(g, xs)] for g in gs]


def hvp(f: Callable[..., Any], primals: Sequence[float], v: Sequence[float]) -> list[float]:
    """The Hessian of a scalar f at `primals` times the vector `v`, without forming the Hessian:
    the gradient of (grad f) · v."""
    ps = _numbers(primals, "hvp: primals")
    vs = _numbers(v, "hvp: v")
    if len(ps) != len(vs):
        raise ValueError(f"hvp: {len(ps)} primals but v has {len(vs)} entries; they must match")
    xs = [Value(p) for p in ps]
    gs = grad(_scalar_out(f, xs, "hvp"), xs, create_graph=True)
    return [h.data for h in grad(dot(gs, vs), xs)]
