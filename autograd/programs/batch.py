"""Batches: one example's traced program run over N examples at once.

``program.batch(*args)`` takes, for each argument, a sequence of N examples shaped like the traced
example (a list, or a numpy array with the examples along its first axis) and returns ``(values,
grads)``: the N values and each example's gradient with respect to the arguments (shaped like
`args`). It adds the gradient of the sum of the values into the ``.grad`` of every captured leaf
(the parameters), as ``autograd.sum([fn(*a) for a in examples]).backward()`` would.

The shared part of the graph (`batch_numpy.Graph`: what does not depend on the example) runs once
per batch; the varying part runs on numpy (``adjointgrad[fast]``, `batch_numpy.NumpyProgram`: one
array operation per op and level, a layer as one matrix product) or, without numpy, as a
generated Python function called once per example (`PythonProgram`). Both give the same numbers
to rounding; `default_backend()` says which runs, ``backend=`` chooses.

Guards are evaluated for the whole batch; the examples a variant refuses go to the next variant of
the same shape, and what is left is traced again from its first example.
"""

from __future__ import annotations

import builtins
import itertools
import math
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..backprop import grad_lock
from ..codegen import float_functions, run_source
from ..engine import Value, domain_error
from ..ops import OPS
from ..symbolic import rule_exprs, source
from .batch_numpy import GRADIENT, Graph, NumpyProgram, contribution
from .tape import Guard, Tape, build, flatten

__all__ = ["run_batch", "default_backend", "BACKENDS", "PythonProgram"]

BACKENDS = ("numpy", "python")


class Variant(Protocol):
    """A traced variant (`autograd.programs.tracing.Variant`): the example's shape (None for a
    number, a list of shapes for a list), its input leaves (one per number), its tape and guards."""

    @property
    def shape(self) -> Any: ...
    @property
    def inputs(self) -> Sequence[Value]: ...
    @property
    def tape(self) -> Tape: ...
    @property
    def guards(self) -> Sequence[Guard]: ...


def default_backend() -> str:
    """``"numpy"`` when numpy can be imported (the ``fast`` extra), else ``"python"``."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "python"
    return "numpy"


# -- generated Python: the shared part once per batch, the varying part once per example --------


class _Domain(Exception):
    """Raised by generated Python: node k is outside its op's domain."""

    def __init__(self, k: int, msg: str) -> None:
        super().__init__(msg)
        self.k, self.msg = k, msg


def _forward_expr(g: Graph, k: int, name: dict[int, str], env: dict[str, Any]) -> str:
    op, ps = g.ops[k], [name[p] for p in g.parents[k]]
    if op == "sum":
        return f"_sum(({', '.join(ps)},))"
    if op == "dot":
        h = len(ps) // 2
        return f"_sum(map(_mul, ({', '.join(ps[:h])},), ({', '.join(ps[h:])},)))"
    if op in ("+", "-", "*"):
        return f"{ps[0]} {op} {ps[1]}"
    o = OPS[op]
    if o.param:
        env[f"_p{k}"] = g.params[k]
        ps.append(f"_p{k}")
    return f"{o.pyname}({', '.join(ps)})"


def _check_lines(g: Graph, k: int, name: dict[int, str], env: dict[str, Any]) -> list[str]:
    op = OPS[g.ops[k]]
    if op.check is None:
        return []
    env[f"_check{k}"] = op.check
    xs = [name[p] for p in g.parents[k]] + ([f"_p{k}"] if op.param else [])
    return [f"    _m = _check{k}({', '.join(xs)})", "    if _m:", f"        raise _Domain({k}, _m)"]


def _backward_lines(
    g: Graph, ks: list[int], name: dict[int, str], adj: dict[int, str], started: set[int]
) -> list[str]:
    """Adjoint statements for nodes ks, last first, printed from the op table's rules."""
    out: list[str] = []
    for k in reversed(ks):
        if k not in started:  # nothing reached it: its adjoint is 0, passed on as backward() does
            out.append(f"    {adj[k]} = 0.0")
            started.add(k)
        op, ps = OPS[g.ops[k]], g.parents[k]
        if op.nary:
            argn: tuple[str, ...] = ("x",) if op.arity == 1 else ("w", "x")
            h = len(ps) // op.arity
            groups = [tuple(ps[i + j * h] for j in range(op.arity)) for i in range(h)]
            exprs = rule_exprs(op, argn, "z", None)
        else:
            argn = tuple(f"x{j}" for j in range(len(ps)))
            groups = [ps]
            exprs = rule_exprs(op, argn, "z", g.params[k] if op.param else None)
        for grp in groups:
            names = {GRADIENT.args[0]: adj[k], "z": name[k], **{a: name[p] for a, p in zip(argn, grp)}}
            for p, d in zip(grp, exprs):
                c = contribution(GRADIENT, d)
                if c is None:
                    continue
                out.append(f"    {adj[p]} {'+=' if p in started else '='} {source(c, names)}")
                started.add(p)
    return out


class PythonProgram:
    """A `Graph` as generated Python (``source``), for the pure-Python path; the shared part
    (``shared_forward(S)``, ``shared_backward(S, AS)``) serves the numpy path too.

    ``example(I, S, AS, guarded)`` computes one example's nodes from its numbers I and the
    shared values S, returns None if a guard fails (when `guarded`), else adds the example's
    adjoints of the shared nodes into AS and returns its value and its inputs' adjoints. The
    statements are those of ``backward()``: the op table's forward functions and rules.
    """

    def __init__(self, g: Graph) -> None:
        self.g = g
        env = float_functions()
        env.update(_Domain=_Domain, _sum=builtins.sum, _mul=operator.mul)
        shared = [*g.shared_leaves, *g.shared_inner]
        name = {k: f"S[{g.slot[k]}]" for k in shared}
        adj = {k: f"AS[{g.slot[k]}]" for k in shared}
        name.update({k: f"v{k}" for k in [*g.input_row, *g.var_inner]})
        adj.update({k: f"g{k}" for k in [*g.input_row, *g.var_inner]})
        out = ["def shared_forward(S):"]
        for k in g.shared_inner:
            out += _check_lines(g, k, name, env)
            out.append(f"    {name[k]} = {_forward_expr(g, k, name, env)}")
        out += ["    pass", "", "def shared_backward(S, AS):"]
        out += _backward_lines(g, g.backward_nodes(g.shared_inner), name, adj, set(shared)) or ["    pass"]
        out += ["", "def example(I, S, AS, guarded):"]
        inputs = ["_"] * g.n_inputs
        for k, j in g.input_row.items():
            inputs[j] = name[k]
        if inputs:
            out.append(f"    {', '.join(inputs)}{',' if len(inputs) == 1 else ''} = I")
        guard_at: dict[int, list[str]] = {}
        for gi, (a, op, b, result) in enumerate(g.guards):
            at = max([k for k in (a, b) if isinstance(k, int) and g.var[k]], default=-1)
            rhs = name[b] if isinstance(b, int) else repr(b)
            test = f"{'not ' if result else ''}({name[a]} {op} {rhs})"
            lines = [f"    if guarded and {test}:  # guard {gi}", "        return None"]
            guard_at.setdefault(at, []).extend(lines)
        out += guard_at.get(-1, [])
        checks = []
        for k in [*g.input_row, *g.var_inner]:
            if g.ops[k]:
                out.append(f"    {name[k]} = {_forward_expr(g, k, name, env)}")
                checks += _check_lines(g, k, name, env)
            out += guard_at.get(k, [])
        out += checks  # after the guards: an example on another branch is not this variant's
        ins = [by for by in self._inputs()]
        if g.var[g.root]:
            started = {g.root, *shared}
            out.append(f"    {adj[g.root]} = 1.0")
            out += _backward_lines(g, g.backward_nodes(g.var_inner), name, adj, started)
        else:
            started = set()
            out.append(f"    {adj[g.root]} += 1.0")
        grads = ", ".join(adj[k] if k in started else "0.0" for k in ins)
        out.append(f"    return {name[g.root]}, ({grads}{',' if len(ins) == 1 else ''})")
        self.source = "\n".join(out) + "\n"
        ns = run_source(self.source, "batch", env)
        self.fn: Callable[..., Any] = ns["example"]
        self._shared_forward, self._shared_backward = ns["shared_forward"], ns["shared_backward"]

    def _inputs(self) -> list[int]:
        by_row = {j: k for k, j in self.g.input_row.items()}
        return [by_row.get(j, -1) for j in range(self.g.n_inputs)]

    def shared_forward(self) -> list[float]:
        """The value of every shared node, from the leaves' current ``.data``."""
        g = self.g
        S = [v.data for v in g.leaf_values] + [0.0] * len(g.shared_inner)
        try:
            self._shared_forward(S)
        except _Domain as e:
            op = OPS[g.ops[e.k]]
            where = f"{e.msg} (in the part shared by all examples)"
            raise domain_error(op.name, where, *g.nodes_named(g.parents[e.k])) from None
        return S

    def shared_backward(self, S: list[float], AS: list[float]) -> list[float]:
        """Backpropagate the summed adjoints AS through the shared nodes: the leaves' part."""
        self._shared_backward(S, AS)
        return AS[: len(self.g.shared_leaves)]


# -- arguments: validation, flattening, results shaped like them --------------------------------


def _what(x: Any) -> str:
    return f"{type(x).__name__} {x!r:.40}"


def _dims(shape: Any) -> tuple[int, ...] | None:
    """The array shape of a rectangular example (() for a number), else None."""
    if shape is None:
        return ()
    subs = [_dims(s) for s in shape]
    if any(s is None for s in subs) or len(set(subs)) > 1:
        return None
    return (len(shape), *(subs[0] or ()))


def _shape(dims: tuple[int, ...]) -> Any:
    return None if not dims else [_shape(dims[1:]) for _ in range(dims[0])]


def describe_shape(shape: Any) -> str:
    """``a number``, ``a list of 2 numbers``, ``a 3 x 2 nested list of numbers``, ..."""
    d = _dims(shape)
    if d == ():
        return "a number"
    if d is not None and len(d) == 1:
        return f"a list of {d[0]} number{'s' if d[0] != 1 else ''}"
    if d is not None:
        return f"a {' x '.join(map(str, d))} nested list of numbers"
    return f"a ragged nested list of {len(shape)} items"


class _Args:
    """The batch's arguments: N, the example's shape, each argument's kind and size."""

    def __init__(self, args: tuple[Any, ...], np: Any) -> None:
        self.np = np
        self.arrays = [type(a).__name__ == "ndarray" and type(a).__module__ == "numpy" for a in args]
        self.shape: list[Any] = []
        self.sizes: list[int] = []
        cols: list[Any] = []  # numpy: one (n_i, N) block per argument; python: per-example tuples
        self.N = -1
        for i, a in enumerate(args):
            n, sh, flat = self.one(i, a)
            if self.N >= 0 and n != self.N:
                raise ValueError(
                    f"batch: argument {i} has {n} examples, argument 0 has {self.N}; every argument "
                    "needs one entry per example"
                )
            self.N = n
            self.shape.append(sh)
            self.sizes.append(len(flat[0]) if np is None else flat.shape[0])
            cols.append(flat)
        if np is not None:
            self.X = np.concatenate(cols, axis=0) if cols else np.zeros((0, self.N))
        else:
            self.examples = [tuple(itertools.chain.from_iterable(c[t] for c in cols)) for t in range(self.N)]

    def one(self, i: int, a: Any) -> tuple[int, Any, Any]:
        np = self.np
        if self.arrays[i] and a.dtype.kind not in "iuf":
            raise TypeError(f"batch: argument {i} is a numpy array of {a.dtype}; expected numbers")
        if (self.arrays[i] and a.ndim == 0) or not (self.arrays[i] or isinstance(a, (list, tuple))):
            raise TypeError(
                f"batch: argument {i} must be a sequence of examples (a list, or a numpy array with "
                f"the examples along its first axis), got {_what(a)}"
            )
        if len(a) == 0:
            raise ValueError(f"batch: argument {i} holds no examples; a batch needs at least one")
        if np is not None:
            arr = a
            if not self.arrays[i]:
                try:
                    arr = np.asarray(a)
                except ValueError:  # ragged: found below, example by example
                    arr = None
            if arr is not None and arr.dtype.kind in "iuf":
                N = arr.shape[0]
                return N, _shape(arr.shape[1:]), arr.reshape(N, -1).T.astype(float)
        if self.arrays[i]:
            a = a.tolist()
        first: Any = 0
        flat: list[tuple[float, ...]] = []
        for t, e in enumerate(a):
            nums: list[float] = []
            sh = flatten(e, f"argument {i}, example {t}", nums, "batch")
            if t == 0:
                first = sh
            elif sh != first:
                raise ValueError(
                    f"batch: argument {i}, example {t} is {describe_shape(sh)}, but example 0 is "
                    f"{describe_shape(first)}; every example must have the same shape"
                )
            flat.append(tuple(nums))
        if np is not None:
            return len(a), first, np.array(flat, dtype=float).reshape(len(a), -1).T
        return len(a), first, flat

    def result(self, values: Any, grads: Any) -> tuple[Any, Any]:
        """values and grads (numpy: n_inputs x N; python: per-example tuples), shaped like args."""
        np, N = self.np, self.N
        out = []
        off = 0
        for i, sh in enumerate(self.shape):
            n = self.sizes[i]
            dims = _dims(sh)
            if np is not None:
                block = grads[off : off + n].T
                if dims is not None:
                    arr = block.reshape(N, *dims)
                    out.append(arr if self.arrays[i] else arr.tolist())
                else:
                    out.append([build(sh, iter(row)) for row in block.tolist()])
            elif self.arrays[i]:  # numpy arrays given, the python path chosen
                import numpy

                out.append(numpy.array([grads[t][off : off + n] for t in range(N)]).reshape(N, *(dims or ())))
            else:
                out.append([build(sh, iter(grads[t][off : off + n])) for t in range(N)])
            off += n
        if np is not None and not any(self.arrays):
            values = values.tolist()
        elif np is None and any(self.arrays):
            import numpy

            values = numpy.array(values)
        return values, (out[0] if len(out) == 1 else tuple(out))


# -- running ---------------------------------------------------------------------------------------

_CACHE: OrderedDict[int, tuple[Any, Graph, dict[str, Any]]] = OrderedDict()
_CACHE_MAX = 64
_cache_lock = threading.Lock()


def _program(v: Variant, backend: str) -> tuple[Graph, PythonProgram, Any]:
    """The variant's Graph, its Python program and (numpy backend) its numpy program; built once."""
    with _cache_lock:
        hit = _CACHE.get(id(v))
        if hit is None or hit[0] is not v:
            hit = _CACHE[id(v)] = (v, Graph(v.tape, v.inputs, v.guards), {})
            while len(_CACHE) > _CACHE_MAX:
                _CACHE.popitem(last=False)
        _CACHE.move_to_end(id(v))
        g, progs = hit[1], hit[2]
        if "python" not in progs:
            progs["python"] = PythonProgram(g)
        if backend == "numpy" and "numpy" not in progs:
            progs["numpy"] = NumpyProgram(g)
        return g, progs["python"], progs.get(backend)


def run_batch(
    args: tuple[Any, ...],
    variants: Sequence[Variant],
    retrace: Callable[[tuple[Any, ...]], Variant],
    backend: str | None = None,
) -> tuple[Any, Any]:
    """Run the traced variants over a batch (see the module docstring): ``(values, grads)``.

    `variants` are the traced program's variants (any shapes); `retrace(example_args)` traces
    the function again on one example (for examples no known variant's guards accept) and
    returns the new variant.
    """
    if backend is None:
        backend = default_backend()
    elif backend not in BACKENDS:
        names = ", ".join(map(repr, BACKENDS))
        raise ValueError(f"batch: backend must be one of {names} or None, got {backend!r}")
    elif backend == "numpy" and default_backend() != "numpy":
        raise ImportError("batch: backend='numpy' needs numpy: pip install 'adjointgrad[fast]'")
    known = list(variants)
    if not known:
        raise ValueError("batch: the program has no traced variant")
    np: Any = None
    if backend == "numpy":
        import numpy as np
    nargs = len(known[0].shape)
    if len(args) != nargs:
        raise TypeError(f"batch: the program takes {nargs} argument(s), as traced, got {len(args)}")
    data = _Args(args, np)
    queue = [v for v in known if v.shape == data.shape]
    if not queue:
        ref = known[0].shape
        i = next(j for j in range(nargs) if data.shape[j] != ref[j])
        raise ValueError(
            f"batch: argument {i}: each example is {describe_shape(data.shape[i])}, but the program "
            f"was traced on {describe_shape(ref[i])}; a batch holds examples shaped like the traced example"
        )
    N = data.N
    pending: list[tuple[list[Value], list[float]]] = []
    with grad_lock:
        if np is not None:
            values, grads = np.empty(N), np.empty((data.X.shape[0], N))
            remaining: Any = np.arange(N)
        else:
            values, grads = [math.nan] * N, [()] * N
            remaining = list(range(N))
        forced = -1
        while len(remaining):
            if not queue:
                t = int(remaining[0])
                flat = data.X[:, t].tolist() if np is not None else list(data.examples[t])
                it = iter(flat)
                v = retrace(tuple(build(sh, it) for sh in data.shape))
                if v.shape != data.shape:
                    raise ValueError("batch: the function traced again gave a program of another shape")
                queue, forced = [v], t
            g, py, npp = _program(queue.pop(0), backend)
            if np is not None:
                remaining = _numpy_step(np, g, py, npp, data, remaining, forced, values, grads, pending)
            else:
                remaining = _python_step(g, py, data, remaining, forced, values, grads, pending)
        for leaves, gs in pending:
            for leaf, x in zip(leaves, gs):
                leaf.grad += x
    return data.result(values, grads)


def _numpy_step(
    np: Any, g: Graph, py: PythonProgram, prog: NumpyProgram, data: _Args, rem: Any, forced: int,
    values: Any, grads: Any, pending: list[tuple[list[Value], list[float]]],
) -> Any:
    """Run one variant on the remaining examples; those its guards refuse are returned."""
    S = py.shared_forward()
    Sa = np.array(S, dtype=float)
    X = data.X if len(rem) == data.N else data.X[:, rem]
    V = prog.forward(X, Sa)
    ok = np.ones(len(rem), dtype=bool)
    if g.guards:
        ok = np.broadcast_to(prog.run("guards", V, Sa), ok.shape).copy()
        ok[rem == forced] = True
        if not ok.all() and ok.any():
            V = prog.forward(X[:, ok], Sa)
    take = rem[ok]
    if len(take):
        prog.run("checks", V, Sa, take)
        vals, G, AS = prog.run("backward", V, Sa, prog.buffers(len(take))[1])
        values[take] = vals
        grads[:, take] = G
        pending.append((g.leaf_values, py.shared_backward(S, AS.tolist())))
    return rem[~ok]


def _python_step(
    g: Graph, py: PythonProgram, data: _Args, rem: list[int], forced: int, values: Any, grads: Any,
    pending: list[tuple[list[Value], list[float]]],
) -> list[int]:
    S = py.shared_forward()
    AS = [0.0] * len(g.slot)
    fn, examples = py.fn, data.examples
    failed = []
    for t in rem:
        try:
            r = fn(examples[t], S, AS, t != forced)
        except _Domain as e:
            op = OPS[g.ops[e.k]]
            raise domain_error(op.name, f"{e.msg} in example {t}", *g.nodes_named(g.parents[e.k])) from None
        if r is None:
            failed.append(t)
        else:
            values[t], grads[t] = r
    pending.append((g.leaf_values, py.shared_backward(S, AS)))
    return failed
