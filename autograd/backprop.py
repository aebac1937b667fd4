"""Reverse accumulation: topological order, the chain-rule sweep, `backward`, `grad`, `gradcheck`.

For an output z, the adjoint of a node v is dz/dv. Walking the graph from z back to its inputs
in reverse topological order, every node's adjoint is complete when it is reached, and it is
passed to each parent p as ``adjoint(v) * dv/dp`` (the chain rule), summed over all consumers.

`_chain_rule` is that loop, written once; the local derivatives come from the op table
(`autograd.ops`), evaluated on floats or, for ``create_graph=True``, on Values. For plain
``backward()`` the same loop runs as `KERNEL_SOURCE`: Python generated from the op table's rules,
with the commonest ops' derivatives written inline (print it to see the chain rule spelled out).
Adjoints are accumulated in the nodes' ``.grad`` slots; one lock keeps concurrent sweeps from
mixing their partial sums, so threads may differentiate graphs that share nodes.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .codegen import float_functions, run_source
from .engine import (
    VALUE,
    Value,
    as_number,
    creation_site,
    describe,
    enable_grad,
    is_anomaly_enabled,
)
from .ops import FLOAT, OPS, Op
from .symbolic import rule_exprs, source_factor, var_counts

__all__ = [
    "toposort", "backward", "grad", "sweep", "gradcheck", "GradcheckError", "KERNEL_SOURCE", "grad_lock",
]

#: held while a sweep uses the nodes' .grad slots for its running sums (compiled programs too)
grad_lock = threading.RLock()


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
        if x.__class__ is tuple:  # "sum", "dot", and ops of three or more arguments
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


# ---------------------------------------------------------------------------------------------
# The chain rule
# ---------------------------------------------------------------------------------------------

Observer = Callable[[Value, Any, int, Value, Any, Any, Any, Any], None]


def _times(g: Any, d: Any) -> Any:
    """g * d for create_graph: a float 1 or -1 on either side adds no node (exact in IEEE)."""
    if d.__class__ is float:
        if d == 1.0:
            return g
        if d == -1.0:
            return -g
    elif g.__class__ is float and g == 1.0:
        return d
    return g * d


def _plus(cur: Any, c: Any) -> Any:
    """cur + c for create_graph; the first nonzero contribution is taken as it is (0 + c = c)."""
    if cur.__class__ is float and cur == 0.0:
        cd = c.data if c.__class__ is Value else c
        if cd != 0.0:
            return c
    return cur + c


def _chain_rule(rev: Iterable[Value], create_graph: bool, check: bool, observe: Observer | None) -> None:
    """THE reverse sweep: pass each node's adjoint (in ``.grad``) to its parents.

    `rev` is the graph in reverse topological order (root first). Local derivatives come from
    the op table, evaluated on floats or (create_graph) on Values.
    """
    for v in rev:
        op = v._op
        if not op:
            continue
        g = v.grad
        args = v._prev
        if create_graph:
            local = OPS[op].locals(VALUE, v, args, v._arg)
        else:
            local = OPS[op].locals(FLOAT, v.data, tuple([p.data for p in args]), v._arg)
        for k, (p, d) in enumerate(zip(args, local)):
            before = p.grad
            if create_graph:
                c = _times(g, d)
                p.grad = _plus(before, c)
            else:
                c = g * d
                p.grad = before + c
            if check and not math.isfinite(c.data if c.__class__ is Value else c):
                _backward_anomaly(v, k, g, d, c)
            if observe is not None:
                observe(v, g, k, p, d, c, before, p.grad)


def _backward_anomaly(v: Value, i: int, g: Any, d: Any, c: Any) -> None:
    ins = ", ".join(describe(p) for p in v._prev)
    site = creation_site(v) or "unknown (the node was created outside detect_anomaly())"

    def num(x: Any) -> str:
        return repr(float(x.data if x.__class__ is Value else x))

    raise FloatingPointError(
        f"detect_anomaly: backward through op '{v._op}' produced {num(c)} for input #{i} "
        f"(adjoint {num(g)} * local derivative {num(d)}); inputs ({ins}); "
        f"node created at {site}"
    )


# ---------------------------------------------------------------------------------------------
# The generated fast path: _chain_rule for floats, with each op's rule compiled to Python
# ---------------------------------------------------------------------------------------------

# ops written inline in the kernel's loop, commonest first; every other op is one call away
_INLINE = ("dot", "+", "*", "relu", "sum", "-", "tanh")





def _op_lines(op: Op) -> list[str] | None:
    """Statements adding ``_g * d(_v)/d(parent)`` to each parent's .grad (None: use the table).

    Rules with a constant parameter may branch on it in Python, so those ops run the rule
    through the float namespace instead of being compiled.
    """
    if op.param:
        return None
    k = op.arity
    names = tuple(f"_x{i}" for i in range(k))
    exprs = rule_exprs(op, names, "_z", None)
    used: dict[str, int] = {}
    for e in exprs:
        var_counts(e, used)
    # a value read once is read in place; one read more often gets a local name
    inline = {n: f"_p{n[2:]}.data" if n != "_z" else "_v.data" for n, c in used.items() if c == 1}
    lines: list[str] = []
    body: list[str] = []
    for i in range(k):
        if used.get(f"_x{i}", 0) > 1:
            body.append(f"_x{i} = _p{i}.data")
    if used.get("_z", 0) > 1:
        lines.append("_z = _v.data")
    for i, e in enumerate(exprs):
        if e.is_const(1.0):
            body.append(f"_p{i}.grad += _g")
        elif e.is_const(-1.0):
            body.append(f"_p{i}.grad -= _g")
        else:
            body.append(f"_p{i}.grad += _g * {source_factor(e, inline)}")
    parents = ", ".join(f"_p{i}" for i in range(k))
    if op.nary:
        loop = "for _p0 in _v._x:" if k == 1 else f"for {parents} in zip(_v._x, _v._y):"
        return [*lines, loop, *("    " + b for b in body)]
    if k == 1:
        head = ["_p0 = _v._x"]
    elif k == 2:
        head = ["_p0 = _v._x", "_p1 = _v._y"]
    else:
        head = [f"{parents} = _v._x"]
    return [*head, *lines, *body]


def _kernel_source() -> str:
    out = [
        "def kernel(_rev):",
        '    """Reverse sweep on floats: for each node, root first, add _g * (local derivative)',
        '    to the .grad of each parent. Generated from the rules in autograd/ops.py."""',
        "    for _v in _rev:",
        "        _op = _v._op",
        "        _g = _v.grad",
    ]
    first = True
    for name in _INLINE:
        lines = _op_lines(OPS[name])
        assert lines is not None
        out.append(f"        {'if' if first else 'elif'} _op == {name!r}:  # {OPS[name].doc}")
        out.extend("            " + ln for ln in lines)
        first = False
    out += ["        elif _op:", "            OTHER[_op](_v, _g)", ""]
    return "\n".join(out)


def _one_op_source(op: Op) -> str:
    lines = _op_lines(op)
    fn = f"_k_{op.pyname}"
    if lines is None:
        body = [
            "_args = _v._prev",
            "_local = OPS[_v._op].locals(FLOAT, _v.data, tuple([_p.data for _p in _args]), _v._arg)",
            "for _p, _d in zip(_args, _local):",
            "    _p.grad += _g * _d",
        ]
    else:
        body = lines
    return "\n".join([f"def {fn}(_v, _g):  # {op.pyname}: {op.doc}"[:110], *("    " + b for b in body), ""])


class _PerOp(dict):  # type: ignore[type-arg]
    """op name -> compiled function for the ops not inline in the kernel (built when first met)."""

    def __missing__(self, name: str) -> Callable[[Value, float], None]:
        op = OPS[name]
        env = {**float_functions(), "OPS": OPS, "FLOAT": FLOAT}
        fn = run_source(_one_op_source(op), f"rule {op.pyname}", env)[f"_k_{op.pyname}"]
        self[name] = fn
        return fn  # type: ignore[no-any-return]


_OTHER = _PerOp()
KERNEL_SOURCE = _kernel_source()
_kernel: Callable[[Iterable[Value]], None] = run_source(
    KERNEL_SOURCE, "kernel", {**float_functions(), "OTHER": _OTHER}
)["kernel"]


# ---------------------------------------------------------------------------------------------
# backward, sweep, grad
# ---------------------------------------------------------------------------------------------


def backward(root: Value, seed: float = 1.0) -> None:
    """Add ``seed * d root / d v`` to ``v.grad`` for every node v of root's graph."""
    seed = as_number(seed, "backward(grad=)")
    if is_anomaly_enabled():
        order = toposort(root)
        for v, a in zip(order, sweep(order, seed, check=True)):
            v.grad += a
        return
    order = toposort(root, leaves=False)
    if not order:  # root is a leaf
        root.grad += seed
        return
    # This pass's adjoints are accumulated in the .grad of the inner nodes themselves (fast
    # attribute arithmetic). What an inner node held before is set aside and added back at the
    # end, so repeated calls accumulate; leaves only ever receive, so they accumulate directly.
    with grad_lock:
        kept = [v for v in order if v.grad]
        old = [v.grad for v in kept]
        for v in kept:
            v.grad = 0.0
        root.grad = seed
        order.reverse()
        try:
            _kernel(order)
        finally:
            for v, g in zip(kept, old):
                v.grad += g


def sweep(
    order: Sequence[Value],
    seed: Any = 1.0,
    *,
    create_graph: bool = False,
    check: bool = False,
    observe: Observer | None = None,
) -> list[Any]:
    """Run reverse accumulation over `order` (``toposort(root)``, root last) and return the
    adjoint d root / d v (times `seed`) of every node, in the same order. No ``.grad`` changes.

    ``create_graph``: adjoints are Values whose graph can be differentiated again.
    ``check``: raise FloatingPointError at the first non-finite contribution (detect_anomaly).
    ``observe(node, adjoint, k, parent, local, contribution, before, after)`` is called for every
    contribution, in the order the sweep makes them (pictures replay backward with it).
    """
    if not order:
        return []
    with grad_lock:
        saved = [v.grad for v in order]
        try:
            for v in order:
                v.grad = 0.0
            order[-1].grad = seed
            rev = reversed(order)
            if create_graph:
                with enable_grad():
                    _chain_rule(rev, True, check, observe)
            elif check or observe is not None:
                _chain_rule(rev, False, check, observe)
            else:
                _kernel(rev)
            return [v.grad for v in order]
        finally:
            for v, g in zip(order, saved):
                v.grad = g


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d output / d input for each input, as Values, leaving every ``.grad`` untouched.

    An input that `output` does not depend on gets 0. With ``create_graph=True`` the results
    are Values inside a graph of their own, so they can be differentiated again (second
    derivatives, Hessians), even inside ``no_grad()`` (as in PyTorch); otherwise they are new
    leaves.
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
    adj = sweep(order, 1.0, create_graph=create_graph, check=is_anomaly_enabled())
    at = {v: i for i, v in enumerate(order)}
    out: list[Value] = []
    for x in inputs:
        pos = at.get(x)
        g = 0.0 if pos is None else adj[pos]
        out.append(g if g.__class__ is Value else Value(g))
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
    point = [float(x.data) if isinstance(x, Value) else as_number(x, "gradcheck") for x in inputs]
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
                f"  {which} at {point[k]!r}: analytic {a!r}, numeric {numeric!r}, "
                f"difference {abs(a - numeric):.3g}"
            )
    if bad:
        raise GradcheckError(
            f"gradcheck: reverse mode and central differences (eps={eps}) disagree "
            f"(atol={atol}, rtol={rtol}):\n" + "\n".join(bad)
        )
    return True
