# Names, numbers and the environment that generated programs run in (see the package docstring).

from __future__ import annotations

import builtins
import functools
import keyword
import math
import operator
import re
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, filterfalse, repeat
from typing import Any

from ..codegen import float_functions
from ..ops import OPS, Op
from ..symbolic import _num_src as num  # a float as source that gives it back exactly

__all__ = [
    "ProgramError",
    "GuardFailed",
    "Names",
    "num",
    "param_src",
    "fwd_name",
    "program_env",
    "PLAIN_SUM",
    "INLINE_FWD",
]


class ProgramError(ValueError):
    """A graph or a traced function that cannot be written as a program (with the reason)."""


class GuardFailed(Exception):
    """Raised inside a traced program when a comparison made while tracing comes out otherwise."""


#: Python's sum() of floats adds left to right from 0.0 up to 3.11; from 3.12 on it compensates
#: rounding errors (Neumaier), so a chain of binary additions is then replayed with reduce(add)
PLAIN_SUM = builtins.sum([0.1] * 10) == 0.0 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1

#: ops written as Python operators
INLINE_FWD = {"+": "+", "-": "-", "*": "*", "/": "/"}

_NAME_OK = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}\Z")
_RESERVED_NAME = re.compile(r"(v\d+|vec\d+|.*_bar)\Z")


def fwd_name(op: Op) -> str:
    """The name a program calls op's forward by: ``tanh``; ``log_checked`` for an op with a
    domain (it raises as the eager op does; rules call the IEEE ``log``)."""
    return op.pyname if op.check is None else f"{op.pyname}_checked"


def _checked(op: Op) -> Callable[..., float]:
    """The op's forward, raising (as the eager op does) when the inputs are outside its domain."""
    fwd, check, name = op.fwd, op.check, op.name
    assert check is not None

    def f(*args: Any) -> float:
        msg = check(*args)
        if msg:
            zero = msg.startswith(("division by zero", "0.0 to a negative"))
            raise (ZeroDivisionError if zero else ValueError)(f"{name}: {msg} (in a compiled program)")
        return fwd(*args)

    f.__name__ = fwd_name(op)
    return f


_DATA = operator.attrgetter("_data")  # the float of a Value (its .data, unchecked)
_GRAD = operator.attrgetter("grad")


def _fin(xs: list[float]) -> bool:
    """True if every number is finite (their sum is finite; an overflow answers False)."""
    t = builtins.sum(xs)
    return t - t == 0.0


def _negzero(*lists: list[float]) -> bool:
    """True if some number is -0.0 (the zeros' signs, at C speed: a program asks this of every
    leaf's .grad on each run)."""
    zeros = filterfalse(None, chain.from_iterable(lists))
    return min(map(math.copysign, repeat(1.0), zeros), default=1.0) < 0


def _calm(*groups: Sequence[Any]) -> bool:
    """Every leaf's .data is finite and no leaf's .grad is -0.0 (then a block of a loop whose
    adjoints are all 0 adds only zeros that change nothing: see `loops`)."""
    for leaves in groups:
        if not _fin(list(map(_DATA, leaves))):
            return False
        zeros = filterfalse(None, map(_GRAD, leaves))
        if min(map(math.copysign, repeat(1.0), zeros), default=1.0) < 0:
            return False
    return True


def _flat(entry: Sequence[Any]) -> bool:
    """Every number saved for one block of a loop (floats, and lists of them) is finite."""
    t = 0.0
    for x in entry:
        t += x if x.__class__ is float else builtins.sum(x)
    return t - t == 0.0


def _call(f: Callable[[Any], Any], x: Any) -> Any:
    return f(x)


def _prod_back(g: float, ts: list[float], pre: list[float]) -> tuple[float, list[float]]:
    """The backward pass of a product chain ``s_k = s_(k-1) * t_k`` (s_0 the start, ``pre`` the
    values s_0..s_n) with adjoint g, exactly as backward() makes it: the contribution to the
    start and to each term. backward() gives ``s_(k-1)`` the adjoint ``0.0 + a_k * t_k``; that is
    ``a_k * t_k`` unless the product is -0.0, so the running products (at C speed) are taken
    when none of them is a zero, and the additions are made one by one otherwise."""
    adj = list(accumulate(ts[:0:-1], operator.mul, initial=g))  # a_n, ..., a_1
    if 0.0 not in adj:
        return adj[-1] * ts[0], list(map(operator.mul, reversed(adj), pre))
    out = [0.0] * len(ts)
    a = g
    for k in range(len(ts) - 1, 0, -1):
        out[k] = a * pre[k]
        a = 0.0 + a * ts[k]
    out[0] = a * pre[0]
    return a * ts[0], out


_HELPERS: dict[str, Any] = {
    "sub_": operator.sub,
    "truediv": operator.truediv,
    "neg": operator.neg,
    "sum": builtins.sum,
    "map": map,
    "mul": operator.mul,
    "add": operator.add,
    "repeat": repeat,
    "zip": zip,
    "list": list,
    "reduce": functools.reduce,
    "accumulate": accumulate,
    "prod": math.prod,
    "_data": _DATA,
    "_grad": _GRAD,
    "_call": _call,
    "_calm": _calm,
    "_flat": _flat,
    "_fin": _fin,
    "_negzero": _negzero,
    "_prod_back": _prod_back,
    "_GuardFailed": GuardFailed,
}


_BASE: list[Any] = [-1, {}, set()]  # for how many ops: the globals, the names they take


def _base() -> tuple[dict[str, Any], set[str]]:
    if _BASE[0] != len(OPS):  # (ops are only ever added, by defop)
        env = float_functions()
        for op in OPS.values():
            if op.check is not None and op.name not in INLINE_FWD:
                env[fwd_name(op)] = _checked(op)
        env.update(_HELPERS)
        taken = set(env) | {"r", "program"} | {fwd_name(op) for op in OPS.values()}
        _BASE[:] = [len(OPS), env, taken | set(keyword.kwlist) | set(dir(builtins))]
    return _BASE[1], _BASE[2]


def program_env() -> dict[str, Any]:
    """The globals of a generated program (a new dict): each op's forward (a checked one for
    ops with a domain), and the few helpers programs call (map, mul, add, sum, reduce, ...)."""
    return dict(_base()[0])


class Names:
    """Readable, unique Python names: a node's label if it is a plain identifier, else v<k>."""

    def __init__(self) -> None:
        self.base = _base()[1]
        self.taken: set[str] = set()

    def pick(self, label: str, k: int) -> str:
        if (
            label
            and label not in self.taken
            and label not in self.base
            and _NAME_OK.match(label)
            and not _RESERVED_NAME.match(label)
        ):
            self.taken.add(label)
            return label
        return f"v{k}"


def param_src(p: Any) -> str:
    """An op's constant parameter (a number or a tuple of numbers) as source."""
    if isinstance(p, tuple):
        return "(" + ", ".join(num(float(x)) for x in p) + ("," if len(p) == 1 else "") + ")"
    return num(float(p))
