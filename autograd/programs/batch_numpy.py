"""A traced graph as a numpy program over a whole batch: one array operation per line.

`Graph` reads a graph once and splits it: *varying* nodes depend on the example (the inputs and
what is computed from them), *shared* nodes do not (parameters, constants, what is computed from
them alone). Both batch paths use it; numpy is imported only when a `NumpyProgram` is built.

`NumpyProgram` writes the varying part as numpy source: every varying node is a row of ``V``
(rows x examples); the nodes of one op and level are one line over a block of rows (a layer's
``+ b``, its ``relu``), a layer's dot products (one varying vector, shared weight rows) one
matrix product. Backward lines are printed from the op table's rules (`contribution`: a branch is
a select, ``where``; a structural zero adds nothing); adjoints reaching a shared node are summed
over the examples into ``AS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..codegen import run_source
from ..engine import Value, domain_error
from ..ops import OPS, Op
from ..symbolic import Expr, rule_exprs, var, var_counts
from .tape import Guard as TapeGuard
from .tape import Tape

__all__ = ["Graph", "NumpyProgram", "contribution", "GRADIENT"]

GRADIENT = var("_g")  # the adjoint of the node being differentiated, in printed contributions


class Graph:
    """One example's graph, read from a traced variant's tape (`autograd.programs.tape`): ops,
    parents, parameters, labels by tape position; ``var[k]`` (node k varies with the example);
    inputs are rows ``0..n_inputs-1``; shared leaves then shared inner nodes have ``slot[k]``;
    guards ``(node, op, node or number, result)``; ``grad[k]`` False for a node only guards read
    (computed forward, passing nothing back). Keeps the shared leaves, not the graph."""

    def __init__(self, tape: Tape, inputs: Sequence[Value], guards: Sequence[TapeGuard] = ()) -> None:
        n = len(tape)
        self.ops, self.parents = list(tape.ops), list(tape.parents)
        self.params, self.labels, self.grad = list(tape.args), list(tape.labels), list(tape.grad)
        at = {id(v): k for k, v in tape.leaves.items()}
        self.n_inputs = len(inputs)
        self.input_row = {at[id(v)]: j for j, v in enumerate(inputs) if id(v) in at}
        var = [False] * n
        for k in range(n):
            var[k] = any(var[p] for p in self.parents[k]) if self.ops[k] else k in self.input_row
        self.var = var
        self.shared_leaves = [k for k in range(n) if not self.ops[k] and not var[k]]
        self.shared_inner = [k for k in range(n) if self.ops[k] and not var[k]]
        self.slot = {k: s for s, k in enumerate(self.shared_leaves + self.shared_inner)}
        self.var_inner = [k for k in range(n) if self.ops[k] and var[k]]
        self.leaf_values = [tape.leaves[k] for k in self.shared_leaves]
        self.root = next(k for k in range(n - 1, -1, -1) if tape.origin[k][0] == tape.nodes - 1)
        self.guards = [(gd.a, gd.op, int(gd.b) if gd.b_node else float(gd.b), gd.result) for gd in guards]

    def backward_nodes(self, ks: Sequence[int]) -> list[int]:
        """The nodes of ks that pass adjoints back (not those only guards read)."""
        return [k for k in ks if self.grad[k]]

    def nodes_named(self, ks: Sequence[int]) -> list[Value]:
        """Values carrying the labels of nodes `ks` (for `domain_error`'s message)."""
        return [Value(0.0, label=self.labels[k]) for k in ks if self.labels[k]]


def contribution(g: Expr, d: Expr) -> Expr | None:
    """``g * d`` with g moved into d's branches (``cond(p, g a, g b)``: a select); a structural zero
    adds nothing (None if nothing at all, 0.0 in a branch); 1 and -1 fold."""
    if d.kind == "zero":
        return None
    if d.kind == "cond":
        a, b = contribution(g, d.args[1]), contribution(g, d.args[2])
        if a is None and b is None:
            return None
        zero = Expr("const", 0.0)
        return Expr("cond", d.args[0], zero if a is None else a, zero if b is None else b)
    if d.is_const(1.0):
        return g
    if d.is_const(-1.0):
        return -g
    return g * d


def _num(x: float) -> str:
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INF" if x > 0 else "(-INF)"
    return repr(float(x)) if math.copysign(1.0, x) > 0 else f"({float(x)!r})"


_CMP = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=="}


def np_source(e: Expr, names: dict[str, str]) -> str:
    """Numpy source for a rule's expression: ops are ``np_<pyname>`` (elementwise functions),
    branches ``where``, ``&``/``|`` combine predicates."""
    k, a = e.kind, e.args
    if k == "var":
        return names[a[0]]
    if k == "const":
        return _num(a[0])
    if k == "zero":
        return "0.0"
    if k == "neg":
        return f"(-{np_source(a[0], names)})"
    if k == "bin":
        return f"({np_source(a[1], names)} {a[0]} {np_source(a[2], names)})"
    if k == "call":
        f = "np_pow" if a[0] == "pow" else f"np_{a[0].pyname}"
        return f"{f}({', '.join(np_source(x, names) for x in a[1:])})"
    if k == "cond":
        return f"where({', '.join(np_source(x, names) for x in a)})"
    if k == "cmp":
        return f"({np_source(a[1], names)} {_CMP[a[0]]} {np_source(a[2], names)})"
    if k == "not":
        return f"(~{np_source(a[0], names)})"
    if k in ("and", "or"):
        return f"({np_source(a[0], names)} {'&' if k == 'and' else '|'} {np_source(a[1], names)})"
    raise AssertionError(k)


def numpy_forwards(np: Any) -> dict[str, Callable[..., Any]]:
    """The built-in ops' forwards on arrays, IEEE as in `autograd.ops`. Ops missing here (erf, gelu:
    numpy has no erf; `defop` ops) run their float forward element by element."""
    where, absolute, exp = np.where, np.absolute, np.exp

    def sigmoid(x: Any) -> Any:
        e = exp(-absolute(x))
        return where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    return {
        "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "neg": np.negative,
        "sign": lambda x: where(x == 0.0, x, np.sign(x)),  # ±0 give themselves
        "abs": absolute, "**": np.power, "pow": np.power,
        "exp": exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
        "tanh": np.tanh, "sigmoid": sigmoid,
        "relu": lambda x: where(x <= 0.0, 0.0, x),
        "leaky_relu": lambda x, s: where(x <= 0.0, s * x, x),
        "softplus": lambda x: np.maximum(x, 0.0) + np.log1p(exp(-absolute(x))),
        "silu": lambda x: x * sigmoid(x),
        "clamp": lambda x, b: where(x < b[0], b[0], where(x > b[1], b[1], x)),
        "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh,
        "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
        "maximum": lambda a, b: where(a >= b, a, np.maximum(a, b)),  # nan wins; a tie gives a
        "minimum": lambda a, b: where(a <= b, a, np.minimum(a, b)),
        "where": lambda c, a, b: where(c > 0.0, a, b),
    }


def _each(np: Any, f: Callable[..., float], arity: int) -> Callable[..., Any]:
    ufunc = np.frompyfunc(f, arity, 1)
    return lambda *xs: np.asarray(ufunc(*xs), dtype=float)


def numpy_env(np: Any) -> dict[str, Any]:
    """Names the generated numpy source uses: ``np_<pyname>`` for every op of the table."""
    fwd = numpy_forwards(np)
    env: dict[str, Any] = {
        f"np_{op.pyname}": fwd.get(op.name) or _each(np, op.fwd, op.arity) for op in OPS.values()
    }
    env.update(
        np_pow=np.power, where=np.where, matmul=np.matmul, einsum=np.einsum, add_at=np.add.at,
        broadcast_to=np.broadcast_to,
        INF=math.inf, NAN=math.nan, _dom=lambda *a: _domain(np, *a),
    )
    return env


def _domain(
    np: Any, op: Op, z: Any, args: tuple[Any, ...], param: Any, nodes: list[list[Value]], ex: Any
) -> None:
    """Raise as the eager op would, naming the example, if one is outside op's domain. Checked one
    by one: non-finite results (a built-in op's domain error gives inf or nan), pow's bases <= 0."""
    check = op.check
    assert check is not None
    bad = ~np.isfinite(z)
    if op.name == "pow":
        bad |= np.broadcast_to(args[0] <= 0.0, z.shape)
    elif not op.builtin:
        bad = np.ones(z.shape, dtype=bool)
    if not bad.any():
        return
    rows, cols = np.nonzero(bad)
    full = [np.broadcast_to(a, z.shape) for a in args]
    for i in np.lexsort((rows, cols)):  # example by example, node by node
        r, c = rows[i], cols[i]
        xs = [float(a[r, c]) for a in full]
        msg = check(*xs, param) if op.param else check(*xs)
        if msg:
            raise domain_error(op.name, f"{msg} in example {int(ex[c])}", *nodes[r])


class NumpyProgram:
    """The varying part of a `Graph` as numpy source (``source``), built once, run on any N.

    ``forward(X, S)``: every row from the inputs X (n_inputs x N) and the shared values S; then
    ``run(part, ...)``: ``"guards"`` (V, S): which examples take the traced branches; ``"checks"``
    (V, S, ex): raise for an example outside an op's domain (ex: the examples' indices);
    ``"backward"`` (V, S, A): the values, the inputs' adjoints, the shared nodes' summed adjoints."""

    def __init__(self, g: Graph) -> None:
        import numpy as np

        self.np, self.g = np, g
        self._buffers: tuple[Any, Any] | None = None
        self.env = numpy_env(np)
        self.consts = 0
        self.row: dict[int, int] = dict(g.input_row)
        self.nrows = g.n_inputs
        self.started: set[int] = set()
        self.promoted: dict[int, int] = {}  # shared node -> its row, for n-ary sides mixing kinds
        lines = self.plan()
        pre: list[str] = []
        if self.promoted:
            rows = sorted(self.promoted.items(), key=lambda kv: kv[1])
            a = rows[0][1]
            slots = self.const([self.g.slot[k] for k, _ in rows])
            pre.append(f"    V[{a}:{a + len(rows)}] = S[{slots}][:, None]  # shared nodes, as rows")
        fwd = [line.forward(self) for line in lines]
        checks = [line.check(self) for line in lines if line.op.check is not None and line.kind == "op"]
        back = self.backward_source(lines)
        out = ["def forward(V, S):", *pre, *(fwd or ["    pass"]), ""]
        out += ["def guards(V, S):", "    ok = np.ones(V.shape[1], dtype=bool)"]
        def val(k: int | float) -> str:  # a node's row or shared number, or a number
            if not isinstance(k, int):
                return _num(k)
            return f"V[{self.row[k]}]" if g.var[k] else f"S[{g.slot[k]}]"

        for a, op, b, result in g.guards:
            test = f"{val(a)} {op} {val(b)}"
            out.append(f"    ok &= {test}" if result else f"    ok &= ~({test})")
        out += ["    return ok", "", "def checks(V, S, ex):", *(checks or ["    pass"]), ""]
        self.source = "\n".join(out + back)
        self.env["np"] = np
        ns = run_source(self.source, "batch", self.env)
        self.fns = {part: ns[part] for part in ("forward", "guards", "checks", "backward")}

    def const(self, x: Any) -> str:
        name = f"_c{self.consts}"
        self.consts += 1
        self.env[name] = self.np.asarray(x, dtype=self.np.intp) if isinstance(x, list) else x
        return name

    def rows(self, rs: list[int], array: str = "V", bcast: bool = True) -> str:
        """A block of rows: a slice when contiguous, a broadcast row when all the same."""
        if bcast and all(r == rs[0] for r in rs):
            return f"{array}[{rs[0]}:{rs[0] + 1}]"
        if rs == list(range(rs[0], rs[0] + len(rs))):
            return f"{array}[{rs[0]}:{rs[0] + len(rs)}]"
        return f"{array}[{self.const(rs)}]"

    def source_of(self, ks: list[int]) -> str:
        """The value of nodes ks (all of one kind), one per row of a block."""
        g = self.g
        if g.var[ks[0]]:
            return self.rows([self.row[k] for k in ks])
        slots = [g.slot[k] for k in ks]
        if all(s == slots[0] for s in slots):
            return f"S[{slots[0]}]"
        return f"S[{self.const(slots)}][:, None]"

    def side_row(self, k: int) -> int:
        return self.row[k] if self.g.var[k] else self.promoted[k]

    # -- scatter: add a contribution to the adjoints of rows, or of shared nodes -------------

    def add_rows(self, rs: list[int], c: str, out: list[str]) -> None:
        """``A[rs] += c`` (c: one row per entry of rs), writing rows not yet started."""
        fresh = [r for r in dict.fromkeys(rs) if r not in self.started]
        if len(set(rs)) == len(rs):
            tgt = self.rows(rs, "A")
            if len(fresh) == len(rs):
                out.append(f"    {tgt} = {c}")
            else:
                if fresh:
                    out.append(f"    A[{self.const(fresh)}] = 0.0")
                out.append(f"    {tgt} += {c}")
        elif len(set(rs)) == 1:
            out.append(f"    A[{rs[0]}] {'=' if fresh else '+='} ({c}).sum(axis=0)")
        else:
            if fresh:
                out.append(f"    A[{self.const(fresh)}] = 0.0")
            out.append(f"    add_at(A, {self.const(rs)}, {c})")
        self.started.update(rs)

    def add_shared(self, ks: list[int], c: str, out: list[str]) -> None:
        """``AS[slots of ks] += c`` (c: one number per entry of ks)."""
        slots = [self.g.slot[k] for k in ks]
        if len(set(slots)) == len(slots):
            out.append(f"    AS[{self.const(slots)}] += {c}")
        else:
            out.append(f"    add_at(AS, {self.const(slots)}, {c})")

    def add_to(self, ks: list[int], c: str, out: list[str]) -> None:
        """Contribution c (one row per node of ks; for shared nodes summed over the examples)."""
        if self.g.var[ks[0]] or ks[0] in self.promoted:
            self.add_rows([self.side_row(k) for k in ks], c, out)
        else:
            self.add_shared(ks, f"({c}).sum(axis=1)", out)

    # -- the plan: lines of nodes ---------------------------------------------------------------

    def plan(self) -> list[_Line]:
        g = self.g
        level: dict[int, int] = {}
        groups: dict[tuple[Any, ...], list[int]] = {}
        for k in g.var_inner:
            ps = g.parents[k]
            level[k] = 1 + max([level.get(p, 0) for p in ps if g.var[p]], default=0)
            op = g.ops[k]
            if op in ("sum", "dot"):
                h = len(ps) // (1 if op == "sum" else 2)
                sides = [ps] if op == "sum" else [ps[:h], ps[h:]]
                kinds = []
                for side in sides:  # a side mixing kinds reads its shared nodes as rows
                    kinds.append("V" if any(g.var[p] for p in side) else "S")
                    if kinds[-1] == "V":
                        self.promoted.update({p: -1 for p in side if not g.var[p]})
                sig: tuple[Any, ...] = (h, *kinds)
            else:
                sig = tuple(g.var[p] for p in ps)
            groups.setdefault((level[k], op, repr(g.params[k]), sig, g.grad[k]), []).append(k)
        for i, p in enumerate(self.promoted):
            self.promoted[p] = self.nrows + i
        self.nrows += len(self.promoted)
        lines: list[_Line] = []
        # the matrix product is dot's rule (d/dw = x, d/dx = w) summed: check that it is the rule
        matmul_ok = [str(e.args[0]) for e in rule_exprs(OPS["dot"], ("w", "x"), "z", None)] == ["x", "w"]
        for (_, op, _, sig, _), ks in sorted(groups.items(), key=lambda kv: kv[0][0]):
            if op == "dot" and matmul_ok and sig[1] != sig[2]:
                # a layer: the same varying vector against rows of shared weights
                h, vside = sig[0], (0 if sig[1] == "V" else 1)
                parts: dict[tuple[int, ...], list[int]] = {}
                for k in ks:
                    ps = g.parents[k]
                    parts.setdefault(ps[vside * h : (vside + 1) * h], []).append(k)
                if len(parts) < len(ks) or len(ks) == 1:
                    lines += [_Line(self, "matmul", part, sig) for part in parts.values()]
                    continue
            kind = op if op in ("sum", "dot") else "op"
            lines.append(_Line(self, kind, ks, sig))
        return lines

    def backward_source(self, lines: list[_Line]) -> list[str]:
        g = self.g
        out = ["def backward(V, S, A):", f"    AS = np.zeros({len(g.slot)})"]
        if not g.var[g.root]:  # the output does not depend on the example
            s = g.slot[g.root]
            zeros = f"np.zeros(({g.n_inputs}, V.shape[1]))"
            out += [f"    AS[{s}] = V.shape[1]", f"    return np.full(V.shape[1], S[{s}]), {zeros}, AS"]
            return out
        root_row = self.row[g.root]
        out.append(f"    A[{root_row}] = 1.0")
        self.started.add(root_row)
        for line in reversed(lines):
            if g.grad[line.ks[0]]:  # a line only guards read passes nothing back
                line.backward(self, out)
        if self.promoted:
            rs = [(r, p) for p, r in self.promoted.items() if r in self.started]
            if rs:
                self.add_shared([p for _, p in rs], f"{self.rows([r for r, _ in rs], 'A')}.sum(axis=1)", out)
        fresh = [r for r in range(g.n_inputs) if r not in self.started]
        if fresh:
            out.append(f"    A[{self.const(fresh)}] = 0.0")
        out.append(f"    return V[{root_row}], A[:{g.n_inputs}], AS")
        return out

    def buffers(self, N: int) -> tuple[Any, Any]:
        """V and A for N examples, kept for the next call (batches hold the gradient lock)."""
        if self._buffers is None or self._buffers[0].shape[1] != N:
            self._buffers = (self.np.empty((self.nrows, N)), self.np.empty((self.nrows, N)))
        return self._buffers

    def forward(self, X: Any, S: Any) -> Any:
        V = self.buffers(X.shape[1])[0]
        V[: self.g.n_inputs] = X
        self.run("forward", V, S)
        return V

    def run(self, part: str, *args: Any) -> Any:
        """Run the generated forward, guards, checks or backward (with IEEE warnings silenced)."""
        with self.np.errstate(all="ignore"):
            return self.fns[part](*args)


class _Line:
    """Nodes computed by one line: ``op`` (one elementwise op), ``sum``, ``dot`` (einsum) or
    ``matmul`` (a layer: one varying vector, shared weight rows)."""

    def __init__(self, p: NumpyProgram, kind: str, ks: list[int], sig: tuple[Any, ...]) -> None:
        g = p.g
        self.kind, self.ks, self.sig = kind, ks, sig
        self.op = OPS[g.ops[ks[0]]]
        self.param = g.params[ks[0]]
        self.a, p.nrows = p.nrows, p.nrows + len(ks)
        for i, k in enumerate(ks):
            p.row[k] = self.a + i
        self.block = f"[{self.a}:{self.a + len(ks)}]"

    def args(self, p: NumpyProgram) -> list[str]:
        g = p.g
        return [p.source_of([g.parents[k][j] for k in self.ks]) for j in range(len(g.parents[self.ks[0]]))]

    def side(self, p: NumpyProgram, j: int) -> tuple[list[int], str, str]:
        """Side j of n-ary nodes: its nodes (k x h, flat), and a gather (k, h, N) or (k, h)."""
        g, h = p.g, self.sig[0]
        nodes = [q for k in self.ks for q in g.parents[k][j * h : (j + 1) * h]]
        if self.sig[1 + j] == "S":
            return nodes, f"S[{p.const([g.slot[q] for q in nodes])}].reshape({len(self.ks)}, {h})", "kh"
        rows = [p.side_row(q) for q in nodes]
        return nodes, f"V[{p.const(rows)}].reshape({len(self.ks)}, {h}, -1)", "khn"

    def matrix(self, p: NumpyProgram) -> tuple[str, list[int], list[int]]:
        """For a layer: the shared weights (k x h), their nodes, and the varying vector's rows."""
        g, h = p.g, self.sig[0]
        vs = 0 if self.sig[1] == "V" else 1
        ws = [q for k in self.ks for q in g.parents[k][(1 - vs) * h : (2 - vs) * h]]
        vec = [p.side_row(q) for q in g.parents[self.ks[0]][vs * h : (vs + 1) * h]]
        slots = [g.slot[q] for q in ws]
        return f"S[{p.const(slots)}].reshape({len(self.ks)}, {h})", ws, vec

    def forward(self, p: NumpyProgram) -> str:
        n = len(self.ks)
        note = f"  # {n} x {self.op.name}"
        if self.kind == "matmul":
            w, _, vec = self.matrix(p)
            return f"    matmul({w}, {p.rows(vec, bcast=False)}, out=V{self.block}){note}: one matrix product"
        if self.kind == "sum":
            _, s, _ = self.side(p, 0)
            return f"    V{self.block} = {s}.sum(axis=1){note}"
        if self.kind == "dot":
            (_, w, sw), (_, x, sx) = self.side(p, 0), self.side(p, 1)
            return f"    V{self.block} = einsum('{sw},{sx}->kn', {w}, {x}){note}"
        args = self.args(p)
        if self.op.param:
            args.append(p.const(self.param))
        f = f"np_{self.op.pyname}"
        if isinstance(p.env[f], p.np.ufunc):  # written straight into its rows
            return f"    {f}({', '.join(args)}, out=V{self.block}){note}"
        return f"    V{self.block} = {f}({', '.join(args)}){note}"

    def check(self, p: NumpyProgram) -> str:
        g = p.g
        nodes = [g.nodes_named(g.parents[k]) for k in self.ks]
        prm = p.const(self.param) if self.op.param else "None"
        return (
            f"    _dom({p.const(self.op)}, V{self.block}, ({', '.join(self.args(p))},), {prm}, "
            f"{p.const(tuple(nodes))}, ex)"
        )

    def backward(self, p: NumpyProgram, out: list[str]) -> None:
        g, ks = p.g, self.ks
        fresh = [r for r in range(self.a, self.a + len(ks)) if r not in p.started]
        if fresh:  # no contribution reached these nodes: their adjoint is 0
            out.append(f"    A[{p.const(fresh)}] = 0.0")
            p.started.update(fresh)
        out.append(f"    _g = A{self.block}  # {len(ks)} x {self.op.name}")
        if self.kind == "matmul":
            w, ws, vec = self.matrix(p)
            x = p.rows(vec, bcast=False)
            out.append(f"    _w = {w}")
            p.add_shared(ws, f"(_g @ {x}.T).ravel()", out)  # d/dw = x, summed over the examples
            p.add_rows(vec, "_w.T @ _g", out)  # d/dx = w, summed over the layer's nodes
            return
        if self.kind in ("sum", "dot"):
            h, n = self.sig[0], len(ks)
            names = {"_g": "_g[:, None, :]"}
            sides = [self.side(p, j) for j in range(1 if self.kind == "sum" else 2)]
            argn: tuple[str, ...] = ("x",) if self.kind == "sum" else ("w", "x")
            for j, (_, s, sub) in enumerate(sides):
                out.append(f"    _{argn[j]} = {s}" + ("[:, :, None]" if sub == "kh" else ""))
                names[argn[j]] = f"_{argn[j]}"
            for j, d in enumerate(rule_exprs(self.op, argn, "z", None)):
                c = contribution(GRADIENT, d)
                if c is None:
                    continue
                full = f"broadcast_to({np_source(c, names)}, ({n}, {h}, _g.shape[1])).reshape({n * h}, -1)"
                p.add_to(sides[j][0], full, out)
            return
        args = self.args(p)
        argn = tuple(f"x{j}" for j in range(len(args)))
        names = {"_g": "_g", "z": "_z"}
        exprs = rule_exprs(self.op, argn, "z", self.param if self.op.param else None)
        cs = [contribution(GRADIENT, d) for d in exprs]
        used = var_counts(Expr("call", "list", *[c for c in cs if c is not None]))
        if "z" in used:
            out.append(f"    _z = V{self.block}")
        for j, a in enumerate(args):
            if argn[j] in used:
                out.append(f"    _x{j} = {a}")
            names[argn[j]] = f"_x{j}"
        for j, c in enumerate(cs):
            if c is None:
                continue
            p.add_to([g.parents[k][j] for k in ks], np_source(c, names), out)

