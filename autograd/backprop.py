"""Reverse accumulation: topological order, `backward`, `grad` and `gradcheck`.

For an output z, the adjoint of a node v is dz/dv. Walking the graph from z back to its inputs
in reverse topological order, every node's adjoint is complete when it is reached, and it is
passed to each parent p as ``adjoint(v) * dv/dp`` (the chain rule), summed over all consumers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .engine import RULES, Value, _as_float, _describe, _fmt, _leaf, _state, creation_site, float_locals

__all__ = ["toposort", "backward", "grad", "gradcheck", "GradcheckError"]


def toposort(root: Value, leaves: bool = True) -> list[Value]:
    """Every node `root` depends on, each after all of its parents (so `root` comes last).

    Iterative depth-first search: a node is pushed, then a `None` marker, then its unvisited
    parents; when the marker comes back off the stack, all the parents are done. No recursion,
    so graphs of any depth work under the default recursion limit. With ``leaves=False`` the
    leaves (inputs, parameters, constants) are left out.
    """
    if root.__class__ is not Value:
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Any] = [root]
    push, pop, mark, emit = stack.append, stack.pop, seen.add, order.append
    while stack:
        v = pop()
        if v is None:  # all parents of the node below the marker are done
            emit(pop())
            continue
        if v in seen:
            continue
        mark(v)
        x = v._x
        if x is None:  # a leaf has no parents to wait for
            if leaves:
                emit(v)
            continue
        push(v)
        push(None)
        # Parents are pushed last-first, so they are visited (and numbered) in argument order.
        y = v._y
        if x.__class__ is tuple:  # "sum" and "dot"
            if y is not None:
                for p in reversed(y):
                    if p not in seen:
                        push(p)
            for p in reversed(x):
                if p not in seen:
                    push(p)
        else:
            if y is not None and y not in seen:
                push(y)
            if x not in seen:
                push(x)
    return order


def backward(root: Value, seed: float = 1.0) -> None:
    """Add ``seed * d root / d v`` to ``v.grad`` for every node v of root's graph."""
    seed = _as_float(seed, "backward(grad=)")
    if _state.anomaly:
        adj = _adjoints(root, seed, toposort(root), create_graph=False, check=True)
        for v, g in adj.items():
            v.grad += g
        return
    order = toposort(root, leaves=False)
    if not order:  # root is a leaf
        root.grad += seed
        return
    # This pass's adjoints are accumulated in the .grad of the inner nodes themselves (fast
    # attribute arithmetic). What an inner node held before is set aside and added back at the
    # end, so repeated calls accumulate; leaves only ever receive, so they accumulate directly.
    kept = [v for v in order if v.grad]
    old = [v.grad for v in kept]
    for v in kept:
        v.grad = 0.0
    root.grad = seed
    # The chain rule, with the rules of the commonest ops written out inline (the same
    # derivatives as RULES["+"], ["-"], ["*"], ["sum"], ["dot"], ["relu"], ["tanh"]; the test
    # suite checks both paths agree); every other op goes through the RULES table.
    for v in reversed(order):
        op = v._op
        g = v.grad
        if op == "dot":
            for w, x in zip(v._x, v._y):
                w.grad += g * x.data
                x.grad += g * w.data
        elif op == "+":
            v._x.grad += g
            v._y.grad += g
        elif op == "*":
            a, b = v._x, v._y
            a.grad += g * b.data
            b.grad += g * a.data
        elif op == "relu":
            if v.data > 0:
                v._x.grad += g
        elif op == "sum":
            for p in v._x:
                p.grad += g
        elif op == "-":
            v._x.grad += g
            v._y.grad -= g
        elif op == "tanh":
            z = v.data
            v._x.grad += g * (1.0 - z * z)
        else:
            for p, d in zip(v._prev, float_locals(v)):
                p.grad += g * d
    for v, g in zip(kept, old):
        v.grad += g


def _adjoints(
    root: Value, seed: Any, order: list[Value], create_graph: bool, check: bool
) -> dict[Value, Any]:
    """The adjoint d root / d v of every node, kept in a dict (no .grad is touched).

    With `create_graph` the adjoints are Values built by the same RULES applied to the graph's
    own nodes, so they can be differentiated again.
    """
    adj: dict[Value, Any] = {root: seed}
    for v in reversed(order):
        op = v._op
        if not op or v not in adj:
            continue
        g = adj[v]
        args = v._prev
        local = RULES[op](v, args, v._arg) if create_graph else float_locals(v)
        for i, (p, d) in enumerate(zip(args, local)):
            c = g if (create_graph and d.__class__ is float and d == 1.0) else g * d
            if check and not math.isfinite(c):
                _backward_anomaly(v, i, g, d, c)
            adj[p] = adj[p] + c if p in adj else c
    return adj


def _backward_anomaly(v: Value, i: int, g: float, d: float, c: float) -> None:
    ins = ", ".join(_describe(p) for p in v._prev)
    site = creation_site(v) or "unknown (the node was created outside detect_anomaly())"
    raise FloatingPointError(
        f"detect_anomaly: backward through op '{v._op}' produced {_fmt(c)} for input #{i} "
        f"(adjoint {_fmt(g)} * local derivative {_fmt(d)}); inputs ({ins}); "
        f"node created at {site}"
    )


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d output / d input for each input, as Values, leaving every ``.grad`` untouched.

    An input that `output` does not depend on gets 0. With ``create_graph=True`` the results
    are Values inside a graph of their own, so they can be differentiated again (second
    derivatives, Hessians); otherwise they are new leaves.
    """
    if output.__class__ is not Value:
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    if isinstance(inputs, Value):
        raise TypeError("grad: inputs must be a list of Values, got a single Value; use [x]")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if x.__class__ is not Value:
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    order = toposort(output)
    seed: Any = Value(1.0) if create_graph else 1.0
    adj = _adjoints(output, seed, order, create_graph, check=bool(_state.anomaly))
    out: list[Value] = []
    for x in inputs:
        g = adj.get(x)
        if g is None:
            out.append(_leaf(0.0))
        elif g.__class__ is Value:
            out.append(g)
        else:
            out.append(_leaf(float(g)))
    return out


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when reverse mode and central differences disagree."""


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare reverse-mode derivatives of ``f(*inputs)`` with central differences.

    Numeric: ``(f(x + eps) - f(x - eps)) / (2 eps)`` for each input in turn. They agree when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns True, or raises
    `GradcheckError` listing every input that disagrees, with both numbers.
    """
    point = [float(x.data) if isinstance(x, Value) else _as_float(x, "gradcheck") for x in inputs]
    xs = [Value(p) for p in point]
    out = f(*xs)
    if out.__class__ is not Value:
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    analytic = [g.data for g in grad(out, xs)]

    def at(k: int, h: float) -> float:
        moved = [Value(p + (h if j == k else 0.0)) for j, p in enumerate(point)]
        return float(f(*moved).data)

    bad = []
    for k, a in enumerate(analytic):
        numeric = (at(k, eps) - at(k, -eps)) / (2 * eps)
        if not abs(a - numeric) <= atol + rtol * abs(numeric):
            given = inputs[k]
            name = given.label if isinstance(given, Value) else ""
            which = f"input {k}" + (f" ({name})" if name else "")
            bad.append(
                f"  {which} at {_fmt(point[k])}: analytic {a!r}, numeric {numeric!r}, "
                f"difference {abs(a - numeric):.3g}"
            )
    if bad:
        raise GradcheckError(
            f"gradcheck: reverse mode and central differences (eps={eps}) disagree "
            f"(atol={atol}, rtol={rtol}):\n" + "\n".join(bad)
        )
    return True
