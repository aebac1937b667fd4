"""The op table's rules evaluated on numbers and on Values.

A rule ``rule(m, z, *args)`` (see `autograd.ops`) is arithmetic on an abstract namespace ``m``.
This file holds two interpreters of it, as in JAX's autodidax:

- `FLOAT`: ``m.exp`` is the op's IEEE forward function on floats, ``m.cond`` picks a branch. The
  local derivatives come out as numbers: what ``backward()`` multiplies each adjoint by, and
  what forward mode multiplies each tangent by.
- `VALUE`: ``m.exp`` makes a graph node, so the local derivatives come out as Values whose own
  graph can be differentiated again (``grad(..., create_graph=True)``: derivatives of any order).

A third, `autograd.symbolic.SYMBOLIC`, evaluates the rules on symbols for formulas and generated
code. On both interpreters here ``m.zero`` (a structural zero) is None: that argument receives
nothing. Each interpreter also says how the reverse sweep combines an adjoint ``g`` with a local
derivative ``d`` (`times`) and adds it to a parent's adjoint (`plus`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .engine import Value, _leaf, _node
from .ops import OPS, Namespace, Op, _pow

__all__ = ["FLOAT", "VALUE", "float_locals", "local_grads"]


def _d(x: Any) -> Any:
    """The number of a Value, or the number itself."""
    return x._data if x.__class__ is Value else x


class _Numbers(Namespace):
    """What the two interpreters share: branches are taken on the current numbers."""

    zero = None

    @staticmethod
    def cond(pred: bool, a: Any, b: Any) -> Any:
        return a if pred else b

    @staticmethod
    def gt(a: Any, b: Any) -> bool:
        return bool(_d(a) > _d(b))

    @staticmethod
    def ge(a: Any, b: Any) -> bool:
        return bool(_d(a) >= _d(b))

    @staticmethod
    def lt(a: Any, b: Any) -> bool:
        return bool(_d(a) < _d(b))

    @staticmethod
    def le(a: Any, b: Any) -> bool:
        return bool(_d(a) <= _d(b))

    @staticmethod
    def eq(a: Any, b: Any) -> bool:
        return bool(_d(a) == _d(b))


class _FloatNamespace(_Numbers):
    """Rules on floats: every op is its IEEE forward function."""

    def make(self, op: Op) -> Callable[..., Any]:
        return op.fwd

    pow = staticmethod(_pow)
    times = staticmethod(operator.mul)
    plus = staticmethod(operator.add)

    def local_derivatives(self, v: Value) -> tuple[Any, ...]:
        """d v / d p for each parent p of the node v, as numbers (None: a structural zero)."""
        return OPS[v._op].locals(self, v._data, tuple([p._data for p in v._prev]), v._arg)


class _ValueNamespace(_Numbers):
    """Rules on Values: every op makes a node with the table's IEEE forward (never a domain
    error: a derivative may be inf or nan where the user's op was fine). On plain numbers the
    ops are computed directly."""

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
            datas = [v._data for v in vs]
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
            return _node(_pow(xv._data, y._data), xv, y, "pow")
        if x.__class__ is Value:
            return _node(_pow(x._data, y), x, None, "**", float(y))
        return _pow(x, y)

    @staticmethod
    def times(g: Any, d: Any) -> Any:
        """g * d; a float 1 or -1 on either side adds no node (exact in IEEE)."""
        if d.__class__ is float:
            if d == 1.0:
                return g
            if d == -1.0:
                return -g
        elif g.__class__ is float and g == 1.0:
            return d
        return g * d

    @staticmethod
    def plus(cur: Any, c: Any) -> Any:
        """cur + c; the first nonzero contribution is taken as it is (0 + c = c)."""
        if cur.__class__ is float and cur == 0.0 and _d(c) != 0.0:
            return c
        return cur + c

    def local_derivatives(self, v: Value) -> tuple[Any, ...]:
        """d v / d p for each parent p of the node v, as Values (None: a structural zero)."""
        return OPS[v._op].locals(self, v, v._prev, v._arg)


FLOAT = _FloatNamespace()
VALUE = _ValueNamespace()


def float_locals(v: Value) -> tuple[Any, ...]:
    """The op table's rule applied to v's data: d v / d parent for each entry of ``v._prev``
    (None where the derivative is a structural zero)."""
    if not v._op:
        return ()
    return FLOAT.local_derivatives(v)


def local_grads(v: Value) -> tuple[float, ...]:
    """The local derivatives d v / d parent, one per entry of ``v._prev``, as floats (0.0 for a
    structural zero). Pictures of the adjoint graph show them."""
    return tuple(0.0 if d is None else float(d) for d in float_locals(v))
