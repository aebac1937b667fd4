"""Reverse accumulation: topological order, the chain-rule sweep, `backward`, `grad`, `gradcheck`.

For an output z, the adjoint of a node v is dz/dv. Walking the graph from z back to its inputs
in reverse topological order, every node's adjoint is complete when it is reached, and it is
passed to each parent p as ``adjoint(v) * dv/dp`` (the chain rule), summed over all consumers:

    for v in reversed(toposort(z)):           # z first
        for p, d in zip(v._prev, local derivatives of v):
            p.grad += v.grad * d

`chain_rule` is that loop, written once; the local derivatives come from the op table
(`autograd.ops`), evaluated by an interpreter (`autograd.interpreters`): on floats, or on Values
for ``create_graph=True``. ``backward()`` runs the same loop's text specialised to floats, with
the commonest ops' rules compiled inline (`KERNEL_SOURCE`; print it). Adjoints are accumulated in
the nodes' ``.grad`` slots; one lock keeps concurrent sweeps from mixing their partial sums, so
threads may differentiate graphs that share nodes.
"""

from __future__ import annotations

import inspect
import math
import textwrap
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import engine
from .codegen import float_functions, run_source
from .context import creation_site, enable_grad, is_anomaly_enabled
from .engine import Value, as_number, describe
from .interpreters import FLOAT, VALUE
from .ops import OPS, Op
from .symbolic import nonzero, rule_exprs, source, source_factor, var_counts

__all__ = [
    "toposort", "chain_rule", "backward", "grad", "sweep", "gradcheck", "GradcheckError",
    "KERNEL_SOURCE", "grad_lock",
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


def chain_rule(rev: Iterable[Value], m: Any = FLOAT, observe: Observer | None = None) -> None:
    """THE reverse sweep: pass each node's adjoint (in ``.grad``) on to its parents.

    `rev` is the graph in reverse topological order (root first, its ``.grad`` the seed, every
    other ``.grad`` 0). `m` is the interpreter the op table's rules run on: `FLOAT` (adjoints are
    numbers) or `VALUE` (adjoints are Values: ``create_graph=True``). ``observe(node, adjoint, k,
    parent, local, contribution, before, after)`` sees every contribution as it is made.
    ``backward()`` runs this very loop, specialised by op (`KERNEL_SOURCE`).
    """
    for v in rev:
        op = v._op
        if not op:
            continue  # a leaf passes nothing on
        g = v.grad  # d out/d v, complete: every consumer of v came before it
        # -- the chain rule at one node --
        local = m.local_derivatives(v)  # d v/d p for each parent p, from the op's rule
        for k, p in enumerate(v._prev):
            if local[k] is None:
                continue  # a structural zero: p receives nothing from v
            c = m.times(g, local[k])  # d out/d v * d v/d p
            before = p.grad
            p.grad = m.plus(before, c)  # summed over the consumers of p
            if observe is not None:
                observe(v, g, k, p, local[k], c, before, p.grad)


def _anomaly_check(then: Observer | None) -> Observer:
    """An observer raising FloatingPointError at the first contribution that is not finite."""

    def check(v: Value, g: Any, k: int, p: Value, d: Any, c: Any, before: Any, after: Any) -> None:
        if not math.isfinite(c._data if c.__class__ is Value else c):
            _backward_anomaly(v, k, g, d, c)
        if then is not None:
            then(v, g, k, p, d, c, before, after)

    return check


def _backward_anomaly(v: Value, i: int, g: Any, d: Any, c: Any) -> None:
    ins = ", ".join(describe(p) for p in v._prev)
    site = creation_site(v) or "unknown (the node was created outside detect_anomaly())"

    def num(x: Any) -> str:
        return repr(float(x._data if x.__class__ is Value else x))

    raise FloatingPointError(
        f"detect_anomaly: backward through op '{v._op}' produced {num(c)} for input #{i} "
        f"(adjoint {num(g)} * local derivative {num(d)}); inputs ({ins}); "
        f"node created at {site}"
    )


# ---------------------------------------------------------------------------------------------
# backward()'s fast path: chain_rule's own text, specialised. For the commonest ops the block
# "the chain rule at one node" is replaced by that op's rule compiled to Python (structural
# zeros become conditions, derivatives of 1 and -1 plain additions); every other op runs the
# block as written, on floats. Edit chain_rule and backward() changes with it.
# ---------------------------------------------------------------------------------------------

# ops written inline, commonest first (the order of the elif chain)
_INLINE = ("dot", "+", "*", "relu", "sum", "-", "tanh", "exp", "neg", "/", "log", "sigmoid")
_BLOCK = "        # -- the chain rule at one node --\n"


def _op_lines(op: Op) -> list[str]:
    """Statements adding ``g * d(v)/d(parent)`` to each parent's .grad, from op's rule."""
    k = op.arity
    names = tuple(f"x{i}" for i in range(k))
    exprs = rule_exprs(op, names, "z", None)
    used: dict[str, int] = {}
    for e in exprs:
        var_counts(e, used)
    # a value read once is read in place; one read more often gets a local name
    inline = {n: (f"p{n[1:]}._data" if n != "z" else "v._data") for n, c in used.items() if c == 1}
    head: list[str] = []
    body: list[str] = []
    for i in range(k):
        if used.get(f"x{i}", 0) > 1:
            body.append(f"x{i} = p{i}._data")
    if used.get("z", 0) > 1:
        body.append("z = v._data")
    for i, e in enumerate(exprs):
        nz = nonzero(e)
        if nz is None:
            continue  # a structural zero everywhere: this parent receives nothing
        when, d = nz
        if d.is_const(1.0):
            line = f"p{i}.grad += g"
        elif d.is_const(-1.0):
            line = f"p{i}.grad -= g"
        else:
            line = f"p{i}.grad += g * {source_factor(d, inline)}"
        if when is None:
            body.append(line)
        else:
            body += [f"if {source(when, inline)}:", "    " + line]
    parents = ", ".join(f"p{i}" for i in range(k))
    if op.nary:
        loop = "for p0 in v._x:" if k == 1 else f"for {parents} in zip(v._x, v._y):"
        return [loop, *("    " + b for b in body)]
    if k == 1:
        head = ["p0 = v._x"]
    elif k == 2:
        head = ["p0 = v._x", "p1 = v._y"]
    else:
        head = [f"{parents} = v._x"]
    return head + body


def kernel_source(plain: str) -> str:
    """`plain` (chain_rule's source) specialised for floats: its signature and docstring
    replaced, its observer lines dropped, and its per-node block preceded by one branch per op of
    `_INLINE`, so that the block itself runs for every other op."""
    head, block = plain.split(_BLOCK)
    doc = head.index('"""')
    loop = head[head.index('"""', doc + 3) + 4 :]
    out = ["def kernel(rev, m=FLOAT):\n", '    """chain_rule on floats, specialised by op."""\n']
    out.append(loop)
    for i, name in enumerate(_INLINE):
        out.append(f"        {'if' if i == 0 else 'elif'} op == {name!r}:  # {OPS[name].doc}\n")
        out.extend(f"            {ln}\n" for ln in _op_lines(OPS[name]))
    out.append("        else:  # every other op: the block as chain_rule writes it\n")
    out.extend("    " + ln for ln in block.splitlines(True) if "observe" not in ln)
    return "".join(out)


def _plain_source() -> str:
    try:
        return textwrap.dedent(inspect.getsource(chain_rule))
    except (OSError, TypeError):  # no source file (a frozen install): run the loop itself
        return ""


_PLAIN = _plain_source()
KERNEL_SOURCE = kernel_source(_PLAIN) if _PLAIN else ""
_kernel: Callable[[Iterable[Value]], None] = (
    run_source(KERNEL_SOURCE, "kernel", {**float_functions(), "FLOAT": FLOAT})["kernel"]
    if KERNEL_SOURCE
    else chain_rule
)


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
            if check:
                observe = _anomaly_check(observe)
            if create_graph:
                with enable_grad():
                    chain_rule(rev, VALUE, observe)
            elif observe is not None:
                chain_rule(rev, FLOAT, observe)
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


engine.install_backward(backward)
