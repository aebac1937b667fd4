"""Adding an op to the engine: `defop`.

A new op is one more entry of the op table (`autograd.ops`): a forward function on floats and a
derivative rule written with the namespace ``m``. Once registered, every interpreter runs it:
backward, grad of any order, forward mode, detect_anomaly, pictures and programs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ops as _ops
from .engine import Number, Value, _apply
from .ops import Op
from .symbolic import rule_exprs

__all__ = ["defop"]


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
    _ops.check_definition(name, forward, derivative, arity)
    if check is not None and not callable(check):
        raise TypeError(f"defop {name!r}: check must be a function or None, got {type(check).__name__}")
    if not isinstance(doc, str):
        raise TypeError(f"defop {name!r}: doc must be a str, got {type(doc).__name__}")
    op = Op(name, arity, _ops.ieee(name, forward), derivative, doc or name, check=check, builtin=False)
    # evaluating the rule on symbols proves it is written with m (so every interpreter can run it)
    names = ("x",) if arity == 1 else tuple(f"x{i}" for i in range(arity))
    try:
        rule_exprs(op, names, "z", None)
    except (TypeError, AttributeError) as e:
        want = ", ".join(("m", "z", *names))
        raise TypeError(
            f"defop {name!r}: the derivative rule must be a function ({want}) returning {arity} "
            f"local derivative(s) written with m: {e}"
        ) from None
    _ops.register(op)

    def apply(*args: Value | Number) -> Value:
        if len(args) != arity:
            raise TypeError(f"{name} takes {arity} argument(s), got {len(args)}")
        return _apply(op, args)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc or f"The op {name!r} (added with autograd.defop)."
    apply.op = op  # type: ignore[attr-defined]
    return apply
