"""Programs: a graph written out as its adjoint program, one Python function of floats.

Reverse accumulation is a program that runs backward: for every forward statement
``z = f(x, y)`` it executes ``x_bar += z_bar * df/dx`` and ``y_bar += z_bar * df/dy``, in reverse
order. `compile(output)` writes that program for the graph of `output` as Python source (the
forward statements, then the adjoint statements, one operation a line, each adjoint block headed
by a comment naming the forward statement it differentiates) and compiles it with
`autograd.codegen.run_source`. Every local derivative is printed from the op table's rule
(`autograd.ops`), so the program computes exactly what ``output.backward()`` computes: the same
floating-point operations in the same order, bit for bit.

``program.run()`` recomputes every node from the leaves' current ``.data``, then adds
d output / d leaf to each leaf's ``.grad`` and returns the output's new value. The program keeps
references to the leaves only (parameters, inputs, constants), never to the inner nodes, so the
graph it was compiled from can be dropped.

`compile` replays the graph *as it was built*: it cannot see the Python that built it. A graph
built by code that branched on a value (``if x.data > 0: ...``) is replayed along the branch
taken when it was built. `trace(fn, *args)` runs a function of Values and watches for such
branches: each comparison of a Value's number becomes a guard that the program checks on every
call (a failed guard traces again), and reading ``.data`` of a computed node is refused, with
the line of `fn` that did it.

n-ary nodes (``sum``, ``dot``) read and write whole lists: a vector of operands is built once
and each ``dot`` becomes one ``sum(map(mul, ws, xs))``, its adjoint one slice update computed
by ``map`` (C speed), so a layer's program is a few lines however wide the layer is.

Large graphs (more than `READABLE_MAX` op nodes) are written compactly: R repeated blocks of
the same ops (one training example after another) become one loop whose body is the first
block, and an adjoint that only copies another is not given a line. A large graph with no
repeated blocks but wide levels is written in a batched form (`_Batched`: one line per level
and op, ``operator.itemgetter`` gathers); programs that would be longer than `LINES_HARD` lines
are refused.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import keyword
import math
import operator
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from .backprop import grad_lock, toposort
from .codegen import comment, float_functions, run_source
from .engine import Value
from .ops import OPS, Op
from .symbolic import Expr, rule_exprs, source, source_factor, var_counts

__all__ = ["compile", "trace", "Program", "ProgramError", "MAX_NODES"]

#: the largest graph `compile` accepts (about 20 s of compiling at W1's rate; larger graphs are
#: refused with a message instead of exhausting time and memory)
MAX_NODES = 250_000

_INLINE_FWD = {"+": "+", "-": "-", "*": "*", "/": "/"}
# a dot or sum with fewer groups than this is written element by element (no list overhead)
_SLICE_MIN = 2
# the batched form sums up to this many terms per node column by column (one gather a column)
_ZIP_MAX = 256
_NAME_OK = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}\Z")
_RESERVED_NAME = re.compile(r"(v\d+|vec\d+|.*_bar)\Z")


def _fin(xs: list[float]) -> bool:
    """True if every number is finite (their sum is finite; an overflow answers False)."""
    t = builtins.sum(xs)
    return t - t == 0.0


def _negzero(*lists: list[float]) -> bool:
    return any(x == 0.0 and math.copysign(1.0, x) < 0 for xs in lists for x in xs)


def _call(f: Callable[[Any], Any], x: Any) -> Any:
    return f(x)


# sum() of floats adds left to right from 0.0 up to Python 3.11 (3.12 compensates rounding
# errors), so up to 3.11 a short sum or dot is written out as the same additions
_PLAIN_SUM = builtins.sum([0.1] * 10) == 0.0 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1
_INLINE_SUM = 4


class ProgramError(ValueError):
    """A graph or a traced function that cannot be written as a program (with the reason)."""


_getdata = operator.attrgetter("data")
_getgrad = operator.attrgetter("grad")


def _env_names() -> set[str]:
    names = set(float_functions()) | {"sum", "map", "mul", "add", "repeat", "abs", "list", "zip", "r"}
    return names | {_fwd_name(op) for op in OPS.values()} | {"sub_", "truediv", "neg", "reduce"}


class _Names:
    """Readable, unique Python names: a node's label if it is a plain identifier, else v<k>."""

    def __init__(self) -> None:
        self.taken = _env_names() | set(keyword.kwlist) | set(dir(builtins))

    def pick(self, label: str, k: int) -> str:
        if label and _NAME_OK.match(label) and not _RESERVED_NAME.match(label) and label not in self.taken:
            self.taken.add(label)
            return label
        name = f"v{k}"
        self.taken.add(name)
        return name


class _Vec:
    """A tuple of operand nodes read by n-ary nodes: its value list, and maybe its adjoints."""

    __slots__ = ("idx", "j", "uses", "home", "leaves", "built", "started")

    def __init__(self, idx: tuple[int, ...], j: int) -> None:
        self.idx = idx
        self.j = j
        self.uses = 0
        self.home = False  # the adjoints of its members live in the list vec<j>_bar
        self.leaves = False
        self.built = False
        self.started = False


def _num(x: float) -> str:
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INF" if x > 0 else "(-INF)"
    return repr(float(x)) if x >= 0 or (x == 0 and math.copysign(1.0, x) > 0) else f"({float(x)!r})"


def _param_src(p: Any) -> str:
    if isinstance(p, tuple):
        return "(" + ", ".join(_num(float(x)) for x in p) + ("," if len(p) == 1 else "") + ")"
    return _num(float(p))



def _fwd_name(op: Op) -> str:
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

    f.__name__ = _fwd_name(op)
    return f


class _Run:
    """R repeated blocks of P inner nodes (positions s.. in the list of inner nodes), written as a
    loop: same ops, parents inside the block at the same offsets, or the same shared leaves, or
    one leaf of its own per block (``varying``: an input of one training example)."""

    def __init__(self, s: int, P: int, R: int) -> None:
        self.s, self.P, self.R = s, P, R
        self.outputs: list[int] = []  # positions whose node is used after the loop
        self.varying: list[tuple[int, int]] = []  # (position, argument) of each block's own leaf
        self.vnames: list[str] = []


def _find_runs(w: _Writer) -> list[_Run]:
    inner, ops, parents = w.inner, w.ops, w.parents
    m = len(inner)
    pos = {k: i for i, k in enumerate(inner)}
    nuses = [0] * len(ops)
    for k in inner:
        for p in parents[k]:
            nuses[p] += 1
    sig = []
    for i, k in enumerate(inner):
        v = w.order[k]
        d = tuple(i - pos[p] if ops[p] else -1 for p in parents[k])
        sig.append((ops[k], "" if v._arg is None else repr(v._arg), d))
    last: dict[Any, int] = {}
    gaps: Counter[int] = Counter()
    for i, sg in enumerate(sig):
        j = last.get(sg)
        if j is not None:
            gaps[i - j] += 1
        last[sg] = i
    runs: list[_Run] = []
    covered = [False] * m
    # the periods that would cover the most nodes first (one example of a batch before the
    # neurons of one layer)
    for P, cnt in sorted(gaps.most_common(6), key=lambda pc: -pc[0] * pc[1]):
        if P < 2 or cnt < 2:
            continue
        i = 0
        while i + P < m - 1:
            if covered[i] or covered[i + P] or sig[i] != sig[i + P]:
                i += 1
                continue
            e = i
            while e + P < m - 1 and not covered[e + P] and sig[e] == sig[e + P]:
                e += 1
            found = None
            for shift in range(P):
                s0 = i + shift
                R = (e + P - s0) // P
                if R < 3:
                    break
                found = _verify(w, s0, P, R, pos, nuses)
                if found is not None:
                    break
            if found is None:
                i = e + 1
                continue
            runs.append(found)
            for x in range(found.s, found.s + found.R * found.P):
                covered[x] = True
            i = found.s + found.R * found.P
    return sorted(runs, key=lambda r: r.s)


def _verify(w: _Writer, s: int, P: int, R: int, pos: dict[int, int], nuses: list[int]) -> _Run | None:
    inner, ops, parents = w.inner, w.ops, w.parents
    run = _Run(s, P, R)
    groups: dict[int, list[tuple[int, int]]] = {}  # block 0's own leaf -> its (position, argument)s
    for i in range(P):
        k0 = inner[s + i]
        for a, p0 in enumerate(parents[k0]):
            if ops[p0]:
                if not s <= pos[p0] < s + P:
                    return None
                continue
            ps = [parents[inner[s + r * P + i]][a] for r in range(R)]
            if all(p == p0 for p in ps):
                continue
            if len(set(ps)) != R:
                return None
            groups.setdefault(p0, []).append((i, a))
    for slots in groups.values():
        i0, a0 = slots[0]
        for r in range(R):
            leaf = parents[inner[s + r * P + i0]][a0]
            if any(parents[inner[s + r * P + i]][a] != leaf for i, a in slots[1:]):
                return None
            if nuses[leaf] != len(slots):  # used outside its block
                return None
        run.varying.append((i0, a0))
    shared_ok = all(
        parents[inner[s + r * P + i]][a] not in groups for r in range(1, R) for i, a in run.varying
    )
    if not shared_ok:
        return None
    # uses inside a block are the same in every block (same offsets); a node used more often
    # than that is used after the loop: an output
    inb = [0] * P
    for i in range(P):
        for p in parents[inner[s + i]]:
            if ops[p]:
                inb[pos[p] - s] += 1
    run.outputs = [i for i in range(P) if any(nuses[inner[s + r * P + i]] != inb[i] for r in range(R))]
    return run


class Program:
    """A graph compiled to Python: ``run()`` recomputes it from its leaves and backpropagates.

    Attributes: ``source`` (the program's Python text), ``leaves`` (the leaf Values it reads and
    whose ``.grad`` it updates), ``n_nodes``; ``blocks`` maps the position of a node in
    ``toposort(output)`` to the first and last line (1-based) of its adjoint block in ``source``,
    and ``seed_line`` is the line that sets the output's adjoint to 1 (0 when not written out
    line by line, as in loops and in the batched form).
    """

    def __init__(self, source: str, fn: Callable[[], float], leaves: tuple[Value, ...], n_nodes: int) -> None:
        self.source = source
        self._fn = fn
        self.leaves = leaves
        self.n_nodes = n_nodes
        self._tracer: _Tracer | None = None  # set by trace()
        self.blocks: dict[int, tuple[int, int]] = {}
        self.seed_line = 0

    def run(self) -> float:
        """Recompute the graph from the leaves' current ``.data``, add d output / d leaf to each
        leaf's ``.grad`` (as ``output.backward()`` would) and return the output's value.

        Like ``backward()``, it holds the engine's gradient lock while it runs, so threads may run
        programs (and backward passes) that share leaves."""
        with grad_lock:
            return self._fn()

    def __repr__(self) -> str:
        return f"<autograd.Program of {self.n_nodes} nodes, {len(self.leaves)} leaves>"

    # -- traced programs: functions of numbers -----------------------------------------------

    def __call__(self, *args: Any) -> float:
        """The value of the traced function at `args` (numbers, or nested lists of numbers)."""
        return self.value_and_grad(*args)[0]

    def value_and_grad(self, *args: Any) -> tuple[float, Any]:
        """The value of the traced function and its gradient with respect to every argument
        (shaped like the arguments)."""
        tr = self._tracer
        if tr is None:
            raise TypeError("value_and_grad: this program was made by compile(), not trace(); use run()")
        return tr.call(args)


#: graphs with more inner nodes than this are written compactly: repeated blocks as loops, and an
#: adjoint that merely copies another one is not given a line of its own
READABLE_MAX = 2_000
#: a program longer than this (a large graph without repeated blocks) is written in the batched
#: form instead, since CPython compiles about 50,000 lines a second
LINES_MAX = 20_000
#: programs longer than this are refused (about 5 s of compiling)
LINES_HARD = 100_000


def compile(output: Value, *, batched: bool | None = None) -> Program:
    """Freeze the graph of `output` into a `Program` (see the module docstring).

    The graph is replayed as it was built: Python code that built it is not seen, so a graph
    built by code that branched on a value is replayed along the branch taken then (use
    `trace` for functions with such branches).
    """
    if output.__class__ is not Value:
        raise TypeError(f"compile: expected a Value, got {type(output).__name__}")
    order = toposort(output)
    if len(order) > MAX_NODES:
        raise ProgramError(
            f"compile: the graph has {len(order):,} nodes; programs support graphs of at most "
            f"{MAX_NODES:,} nodes (compiling takes about 1 s per 40,000 nodes). Use "
            "output.backward() for larger graphs, or compile a smaller piece (for example one "
            "training example or one batch)"
        )
    if batched and order[-1]._op:
        return _Batched(order).program()
    w = _Writer(order)
    lines = w.estimate_lines()
    if batched is None and order[-1]._op and lines > LINES_MAX:
        groups = _level_groups(w)
        if 4 * groups < lines:
            lines = 4 * groups
            if lines <= LINES_HARD:
                return _Batched(order).program()
    if lines > LINES_HARD:
        raise ProgramError(
            f"compile: this graph of {len(order):,} nodes would make a program of about "
            f"{lines:,} lines (CPython compiles about 20,000 lines a second); programs support "
            f"up to {LINES_HARD:,} lines: graphs of up to about 50,000 nodes, or larger ones made "
            "of repeated blocks (one training example after another), which become loops. Use "
            "output.backward() for this graph"
        )
    return w.program()


def _level_groups(w: _Writer) -> int:
    """How many (level, op) groups the batched form would have."""
    level = [0] * len(w.ops)
    seen = set()
    for k in w.inner:
        lv = 1 + max(level[p] for p in w.parents[k])
        level[k] = lv
        seen.add((lv, w.ops[k]))
    return len(seen)


class _Writer:
    def __init__(self, order: list[Value], guards: Sequence[_Guard] = ()) -> None:
        self.order = order
        n = len(order)
        self.guards = guards
        self.index = index = {v: k for k, v in enumerate(order)}
        names = _Names()
        self.name = [names.pick(v._label, k) for k, v in enumerate(order)]
        self.ops = [v._op for v in order]
        get = index.__getitem__
        self.parents: list[tuple[int, ...]] = [tuple(map(get, v._prev)) for v in order]
        self.inner = [k for k in range(n) if self.ops[k]]
        self.compact = len(self.inner) > READABLE_MAX
        self.varying_leaf: set[int] = set()
        # repeated blocks (one training example after another): written once, as a loop
        self.runs: list[_Run] = _find_runs(self) if self.compact and not guards else []
        self.run_of: dict[int, tuple[_Run, int, int]] = {}  # node -> (run, block, position)
        for run in self.runs:
            for r in range(run.R):
                for i in range(run.P):
                    self.run_of[self.inner[run.s + r * run.P + i]] = (run, r, i)
        self.home_expr: dict[int, str] = {}
        for ru, run in enumerate(self.runs):
            for j, i in enumerate(run.outputs):
                for r in range(run.R):
                    k = self.inner[run.s + r * run.P + i]
                    self.home_expr[k] = f"_o{ru}_{j}_bar[{'r' if r == 0 else r}]"
                    if r:
                        self.name[k] = f"_o{ru}_{j}[{r}]"
            for i, a in run.varying:
                p0 = self.parents[self.inner[run.s + i]][a]
                run.vnames.append(self.name[p0])
                for r in range(run.R):
                    self.varying_leaf.add(self.parents[self.inner[run.s + r * run.P + i]][a])
        # vectors: operand tuples of n-ary nodes, interned
        self.vecs: dict[tuple[int, ...], _Vec] = {}
        self.node_vecs: dict[int, tuple[_Vec, ...]] = {}
        for k, v in enumerate(order):
            op = v._op
            if op in ("sum", "dot"):
                ps = self.parents[k]
                groups = (ps,) if op == "sum" else (ps[: len(ps) // 2], ps[len(ps) // 2 :])
                if len(groups[0]) < (_SLICE_MIN if self.compact else 8):
                    continue
                ro = self.run_of.get(k)
                if ro is not None and (ro[1] or not all(self.vec_ok(ro, g) for g in groups)):
                    continue
                if ro is None and any(p in self.home_expr or p in self.varying_leaf for p in ps):
                    continue
                vs = []
                for g in groups:
                    vec = self.vecs.get(g)
                    if vec is None:
                        vec = self.vecs[g] = _Vec(g, len(self.vecs))
                    vec.uses += 1 if ro is None else ro[0].R
                    vs.append(vec)
                self.node_vecs[k] = tuple(vs)
        # homes: the adjoint of each node lives in a local (name_bar) or in a slot of a vector
        self.home: dict[int, tuple[_Vec, int]] = {}
        for vec in sorted(self.vecs.values(), key=lambda q: -q.uses * len(q.idx)):
            kinds = {self.ops[i] == "" for i in vec.idx}
            if len(kinds) != 1 or len(set(vec.idx)) != len(vec.idx):
                continue
            if any(i in self.home or i in self.home_expr or i in self.varying_leaf for i in vec.idx):
                continue
            vec.home = True
            vec.leaves = kinds == {True}
            for pos, i in enumerate(vec.idx):
                self.home[i] = (vec, pos)
        self.spans: dict[int, tuple[int, int]] = {}
        self.started = [False] * n  # inner local adjoint has had its first contribution
        for k in self.home_expr:
            self.started[k] = True
        # compact (large graphs): an adjoint whose only contribution so far is a copy of another
        # adjoint is that adjoint's name (no line); the first further contribution makes it a local
        self.alias: dict[int, str] = {}
        self.templates: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
        self.fwd_text: list[str] = [""] * n

    # -- pieces of source ---------------------------------------------------------------------

    def estimate_lines(self) -> int:
        """About how many lines the program will have."""
        looped = {
            k
            for run in self.runs
            for r in range(1, run.R)
            for k in self.inner[run.s + r * run.P : run.s + (r + 1) * run.P]
        }
        lines = 0
        for k in self.inner:
            if k not in looped:
                lines += 2 + len(self.parents[k]) if k not in self.node_vecs else 4
        return lines

    def vec_ok(self, ro: tuple[_Run, int, int], g: tuple[int, ...]) -> bool:
        """A vector inside a loop: all its members computed in the same block, or all shared leaves."""
        run = ro[0]
        if all(self.run_of.get(p, (None, -1))[:2] == (run, 0) for p in g):
            return True
        return all(self.ops[p] == "" and p not in self.varying_leaf for p in g)

    def bar(self, i: int) -> str:
        e = self.home_expr.get(i)
        if e is not None:
            return e
        a = self.alias.get(i)
        if a is not None:
            return a
        h = self.home.get(i)
        if h is None:
            return f"{self.name[i]}_bar"
        return f"vec{h[0].j}_bar[{h[1]}]"

    def leaf_slice(self, vec: _Vec) -> str | None:
        """``_L[a:b]`` if the vector's members are consecutive leaves of the program's leaf list."""
        lpos = getattr(self, "lpos", None)
        if lpos is None or any(i not in lpos for i in vec.idx):
            return None
        a = lpos[vec.idx[0]]
        if any(lpos[i] != a + t for t, i in enumerate(vec.idx)):
            return None
        return f"_L[{a}:{a + len(vec.idx)}]"

    def vec_value(self, vec: _Vec, out: list[str], ind: str) -> str:
        if not vec.built:
            vec.built = True
            sl = self.leaf_slice(vec)
            if sl is not None:
                out.append(f"{ind}vec{vec.j} = list(map(_data, {sl}))")
            else:
                out.append(f"{ind}vec{vec.j} = [{', '.join(self.name[i] for i in vec.idx)}]")
        return f"vec{vec.j}"

    def target(self, vec: _Vec) -> tuple[_Vec, str, str] | None:
        """Where the adjoints of the vector's members live, if in consecutive slots of one list:
        (that vector, the slice to assign, the slice to read)."""
        if vec.home:
            return vec, f"vec{vec.j}_bar[:]", f"vec{vec.j}_bar"
        h0 = self.home.get(vec.idx[0])
        if h0 is None:
            return None
        hv, a = h0
        if any(self.home.get(p) != (hv, a + t) for t, p in enumerate(vec.idx)):
            return None
        sl = f"vec{hv.j}_bar[{a}:{a + len(vec.idx)}]"
        return hv, sl, sl

    def is_split(self, k: int) -> bool:
        vs = self.node_vecs.get(k)
        if vs is None:
            return False
        if len(vs) == 1:
            return self.target(vs[0]) is not None
        w, x = vs
        wpos = {p: i for i, p in enumerate(w.idx)}
        return (
            self.target(w) is not None
            and self.target(x) is not None
            and all(wpos.get(p, -1) <= i for i, p in enumerate(x.idx))
        )

    def scalar_leaves(self) -> set[int]:
        """Leaves the program reads by name (the others only through whole vectors)."""
        need: set[int] = set()
        for k in self.inner:
            vs = self.node_vecs.get(k)
            if vs is None or not self.is_split(k):
                need.update(p for p in self.parents[k] if not self.ops[p])
            else:
                for vec in vs:
                    if self.leaf_slice(vec) is None:
                        need.update(p for p in vec.idx if not self.ops[p])
        if not self.ops[-1]:
            need.add(len(self.ops) - 1)
        for gd in self.guards:
            need.update(
                v
                for v in (self.index[gd.a], self.index[gd.b] if isinstance(gd.b, Value) else -1)
                if v >= 0 and not self.ops[v]
            )
        return need

    def add_to(self, i: int, contrib: str, sign: str, out: list[str], ind: str) -> None:
        """``adjoint(i) += contrib`` (sign '+') or ``-= contrib`` (sign '-'), exactly as the
        kernel: an inner node's adjoint starts at 0.0, so the first contribution is 0.0 + c."""
        h = self.home.get(i)
        if h is not None:
            vec = h[0]
            if not vec.leaves and not vec.started:
                vec.started = True
                out.append(f"{ind}vec{vec.j}_bar = [0.0] * {len(vec.idx)}")
            out.append(f"{ind}{self.bar(i)} {sign}= {contrib}")
            return
        a = self.alias.pop(i, None)
        if a is not None:  # 0.0 + g + c == g + c: g, an inner adjoint, is never -0.0
            out.append(f"{ind}{self.bar(i)} = {a} {sign} {contrib}")
            return
        if self.ops[i] == "" or self.started[i]:
            out.append(f"{ind}{self.bar(i)} {sign}= {contrib}")
            return
        self.started[i] = True
        if self.compact and sign == "+" and contrib.endswith("_bar") and contrib.isidentifier():
            self.alias[i] = contrib
        elif sign == "+" and contrib.endswith("_bar") and contrib.isidentifier():
            # an inner adjoint is never -0.0 (it starts as 0.0 + c), so 0.0 + g == g exactly
            out.append(f"{ind}{self.bar(i)} = {contrib}")
        elif sign == "+" and contrib == "1.0":
            out.append(f"{ind}{self.bar(i)} = 1.0")
        else:
            out.append(f"{ind}{self.bar(i)} = 0.0 {sign} {contrib}")

    def start_vec(self, vec: _Vec, out: list[str], ind: str) -> None:
        if not vec.leaves and not vec.started:
            vec.started = True
            out.append(f"{ind}vec{vec.j}_bar = [0.0] * {len(vec.idx)}")

    # -- the program -----------------------------------------------------------------------------

    def forward_line(self, k: int, out: list[str], ind: str) -> None:
        v = self.order[k]
        op = v._op
        nm = self.name
        ps = self.parents[k]
        if op in _INLINE_FWD:
            rhs = f"{nm[ps[0]]} {_INLINE_FWD[op]} {nm[ps[1]]}"
        elif op == "neg":
            rhs = f"-{nm[ps[0]]}"
        elif op == "sum":
            vs = self.node_vecs.get(k)
            if vs is not None:
                rhs = f"sum({self.vec_value(vs[0], out, ind)})"
            elif _PLAIN_SUM and len(ps) <= _INLINE_SUM:
                rhs = "0.0 + " + " + ".join(nm[p] for p in ps)  # sum()'s own additions
            else:
                rhs = f"sum(({', '.join(nm[p] for p in ps)},))"
        elif op == "dot":
            vs = self.node_vecs.get(k)
            if vs is not None:
                rhs = f"sum(map(mul, {self.vec_value(vs[0], out, ind)}, {self.vec_value(vs[1], out, ind)}))"
            else:
                h = len(ps) // 2
                if _PLAIN_SUM and h <= _INLINE_SUM:  # sum()'s own arithmetic, term by term
                    rhs = "0.0 + " + " + ".join(f"{nm[ps[i]]} * {nm[ps[h + i]]}" for i in range(h))
                else:
                    ws = "".join(nm[p] + ", " for p in ps[:h])
                    xs = "".join(nm[p] + ", " for p in ps[h:])
                    rhs = f"sum(map(mul, ({ws}), ({xs})))"
        else:
            o = OPS[op]
            args = [nm[p] for p in ps]
            if o.param:
                args.append(_param_src(v._arg))
            rhs = f"{_fwd_name(o)}({', '.join(args)})"
        line = f"{nm[k]} = {rhs}"
        self.fwd_text[k] = line
        lab = v._label
        tail = f"  # {comment(lab, 60)}" if lab and lab != nm[k] else ""
        out.append(f"{ind}{line}{tail}")

    def backward_block(self, k: int, out: list[str], ind: str) -> None:
        first = len(out)
        self._block(k, out, ind)
        if ind == "    ":
            self.spans[k] = (first + 1, len(out))

    def _block(self, k: int, out: list[str], ind: str) -> None:
        v = self.order[k]
        op = self.ops[k]
        o = OPS[op]
        ps = self.parents[k]
        nm = self.name
        out.append(f"{ind}# {self.fwd_text[k]}")
        g = self.bar(k)
        vs = self.node_vecs.get(k)
        if vs is not None:
            self.nary_slices(k, op, vs, g, out, ind)
            return
        if o.nary:
            k_ = o.arity
            n = len(ps) // k_
            groups = [tuple(ps[i + j * n] for j in range(k_)) for i in range(n)]
            gnames = ("_x",) if k_ == 1 else ("_w", "_x")
            exprs = rule_exprs(o, gnames, "_z", None)
            for grp in groups:
                names = {gn: nm[p] for gn, p in zip(gnames, grp)}
                names["_z"] = nm[k]
                for p, e in zip(grp, exprs):
                    self.contribute(p, e, names, g, out, ind, fold=True)
            return
        key = (op, repr(v._arg) if o.param else "", len(ps))
        tpl = self.templates.get(key)
        if tpl is None:
            argn = tuple(f"_x{i}" for i in range(len(ps)))
            exprs = rule_exprs(o, argn, "_z", v._arg if o.param else None)
            marks = {a: "{" + str(i) + "}" for i, a in enumerate(argn)}
            marks["_z"] = "{z}"
            tpl = []
            for e in exprs:
                if not o.param and e.is_const(1.0):
                    tpl.append(("+", ""))
                elif not o.param and e.is_const(-1.0):
                    tpl.append(("-", ""))
                else:
                    tpl.append(("*", source_factor(e, marks)))
            self.templates[key] = tpl
        pnames = [nm[p] for p in ps]
        for p, (kind, t) in zip(ps, tpl):
            if kind == "*":
                self.add_to(p, f"{g} * {t.format(*pnames, z=nm[k])}", "+", out, ind)
            else:
                self.add_to(p, g, kind, out, ind)

    def contribute(
        self, p: int, e: Expr, names: dict[str, str], g: str, out: list[str], ind: str, fold: bool
    ) -> None:
        # the kernel folds a local derivative of exactly 1.0 or -1.0 (ops without a parameter)
        if fold and e.is_const(1.0):
            self.add_to(p, g, "+", out, ind)
        elif fold and e.is_const(-1.0):
            self.add_to(p, g, "-", out, ind)
        else:
            self.add_to(p, f"{g} * {source_factor(e, names)}", "+", out, ind)

    def nary_slices(self, k: int, op: str, vs: tuple[_Vec, ...], g: str, out: list[str], ind: str) -> None:
        """Adjoints of a wide sum or dot: whole-list updates where the operands' adjoints live in
        one list, element by element (in the kernel's order) otherwise."""
        nm = self.name
        split = self.is_split(k)
        if op == "sum":
            (x,) = vs
            tx = self.target(x)
            if tx is not None:
                self.start_vec(tx[0], out, ind)
                out.append(f"{ind}{tx[1]} = map(add, {tx[2]}, repeat({g}, {len(x.idx)}))")
            else:
                for p in x.idx:
                    self.add_to(p, g, "+", out, ind)
            return
        w, x = vs
        # the kernel goes pair by pair (w_i, then x_i); doing all w's, then all x's, adds to each
        # adjoint in the same order when no node is both some x_i and a later w_j
        if g.isidentifier():
            gs = g
        else:
            out.append(f"{ind}_g = {g}")
            gs = "_g"
        if split:
            tw, tx = self.target(w), self.target(x)
            assert tw is not None and tx is not None
            self.start_vec(tw[0], out, ind)
            self.start_vec(tx[0], out, ind)
            # skipped when the adjoint is 0 and every w, x is finite: each term would be ±0.0,
            # which changes no adjoint (none is -0.0: inner ones start at 0.0 + ..., and _nz
            # says whether some leaf's .grad was -0.0 when the program started)
            out.append(f"{ind}if {gs} or _nz or not (_fin(vec{x.j}) and _fin(vec{w.j})):")
            out.append(f"{ind}    {tw[1]} = map(add, {tw[2]}, map({gs}.__mul__, vec{x.j}))")
            out.append(f"{ind}    {tx[1]} = map(add, {tx[2]}, map({gs}.__mul__, vec{w.j}))")
            return
        for pw, px in zip(w.idx, x.idx):
            self.add_to(pw, f"{gs} * {nm[px]}", "+", out, ind)
            self.add_to(px, f"{gs} * {nm[pw]}", "+", out, ind)

    def program(self) -> Program:
        order, nm = self.order, self.name
        n = len(order)
        leaves = [k for k in range(n) if self.ops[k] == "" and k not in self.varying_leaf]
        # leaves whose adjoints live in a vector come first, vector by vector; then the rest
        in_vec: list[int] = []
        seen: set[int] = set()
        for vec in self.vecs.values():
            if vec.home and vec.leaves:
                in_vec.extend(vec.idx)
                seen.update(vec.idx)
        scalar = [k for k in leaves if k not in seen]
        leaf_order = in_vec + scalar
        pos = {k: i for i, k in enumerate(leaf_order)}
        root = n - 1
        nleaves = sum(1 for o in self.ops if not o)
        out = [
            "def program():",
            f'    """The adjoint program of a graph of {n} nodes ({nleaves} leaves): forward, then',
            '    backward in reverse order (x_bar is d output / d x). Generated by autograd.compile."""',
            "    # leaves: read .data and .grad",
        ]
        ind = "    "
        self.lpos = pos
        need = self.scalar_leaves()
        for s in range(0, len(leaf_order), 8):
            chunk = leaf_order[s : s + 8]
            if not any(k in need for k in chunk):
                continue
            tgt = ", ".join(nm[k] for k in chunk)
            out.append(f"{ind}{tgt}{',' if len(chunk) == 1 else ''} = map(_data, _L[{s}:{s + len(chunk)}])")
        for vec in self.vecs.values():
            if vec.home and vec.leaves:
                a = pos[vec.idx[0]]
                out.append(f"{ind}vec{vec.j}_bar = list(map(_grad, _L[{a}:{a + len(vec.idx)}]))")
        homes = [f"vec{vec.j}_bar" for vec in self.vecs.values() if vec.home and vec.leaves]
        if any(vec.home for vec in self.vecs.values()):
            out.append(f"{ind}_nz = _negzero({', '.join(homes)})  # a leaf .grad of -0.0 (rare)")
        s0 = len(in_vec)
        for s in range(0, len(scalar), 8):
            chunk = scalar[s : s + 8]
            tgt = ", ".join(f"{nm[k]}_bar" for k in chunk)
            a = s0 + s
            out.append(f"{ind}{tgt}{',' if len(chunk) == 1 else ''} = map(_grad, _L[{a}:{a + len(chunk)}])")
        for vec in self.vecs.values():  # vectors of shared leaves, built once
            if all(self.ops[i] == "" for i in vec.idx) and not any(i in self.varying_leaf for i in vec.idx):
                self.vec_value(vec, out, ind)
        out.append(f"{ind}# forward")
        inner = self.inner
        env = _program_env()
        guard_at: dict[int, list[str]] = {}
        index = self.index
        for gi, gd in enumerate(self.guards):
            at = max(index[gd.a], index[gd.b] if isinstance(gd.b, Value) else -1)
            rhs = nm[index[gd.b]] if isinstance(gd.b, Value) else _num(gd.b)
            test = f"{nm[index[gd.a]]} {gd.op} {rhs}"
            guard_at.setdefault(at if self.ops[at] else -1, []).extend(
                [
                    f"{ind}if {'not ' if gd.result else ''}({test}):  # guard: {comment(gd.site, 70)}",
                    f"{ind}    raise _GuardFailed({gi})",
                ]
            )
        out.extend(guard_at.get(-1, []))
        self.guard_at = guard_at
        run_at = {run.s: (ru, run) for ru, run in enumerate(self.runs)}
        i = 0
        while i < len(inner):
            hit = run_at.get(i)
            if hit is None:
                self.forward_line(inner[i], out, ind)
                out.extend(guard_at.get(inner[i], []))
                i += 1
                continue
            ru, run = hit
            self.forward_loop(ru, run, out, env)
            i += run.R * run.P
        out.append(f"{ind}# backward: adjoints in reverse order")
        for ru, run in enumerate(self.runs):
            for j in range(len(run.outputs)):
                out.append(f"{ind}_o{ru}_{j}_bar = [0.0] * {run.R}")
        seed_line = 0
        if self.ops[root] == "":
            out.append(f"{ind}{nm[root]}_bar += 1.0")
            seed_line = len(out)
        else:
            self.started[root] = True
            out.append(f"{ind}{nm[root]}_bar = 1.0")
            seed_line = len(out)
            run_end = {run.s + run.R * run.P - 1: (ru, run) for ru, run in enumerate(self.runs)}
            i = len(inner) - 1
            while i >= 0:
                hit = run_end.get(i)
                if hit is None:
                    self.backward_block(inner[i], out, ind)
                    i -= 1
                    continue
                ru, run = hit
                self.backward_loop(ru, run, out)
                i -= run.R * run.P
        out.append(f"{ind}# leaves: store .grad")
        for vec in self.vecs.values():
            if vec.home and vec.leaves:
                a = pos[vec.idx[0]]
                out.append(f"{ind}for _v, _g in zip(_L[{a}:{a + len(vec.idx)}], vec{vec.j}_bar):")
                out.append(f"{ind}    _v.grad = _g")
        for s in range(0, len(scalar), 64):
            chunk = scalar[s : s + 64]
            a = s0 + s
            tup = ", ".join(f"{nm[k]}_bar" for k in chunk)
            out.append(f"{ind}for _v, _g in zip(_L[{a}:{a + len(chunk)}], ({tup},)):")
            out.append(f"{ind}    _v.grad = _g")
        out.append(f"{ind}return {nm[root]}")
        out.append("")
        src = "\n".join(out)
        leaves_t = tuple(order[k] for k in leaf_order)
        env["_L"] = leaves_t
        fn = run_source(src, "program", env)["program"]
        prog = Program(src, fn, leaves_t + tuple(order[k] for k in self.varying_leaf), n)
        prog.blocks = self.spans
        prog.seed_line = seed_line
        return prog

    def block0(self, run: _Run) -> list[int]:
        return [self.inner[run.s + i] for i in range(run.P)]

    def outside_names(self, ru: int, run: _Run, outside: bool) -> None:
        """Block 0's outputs: loop locals inside the loop, list items (index 0) outside it."""
        for j, i in enumerate(run.outputs):
            k = self.inner[run.s + i]
            if outside:
                self.name[k] = f"_o{ru}_{j}[0]"
                self.home_expr[k] = f"_o{ru}_{j}_bar[0]"
            else:
                self.name[k] = run.locals_[j]  # type: ignore[attr-defined]
                self.home_expr[k] = f"_o{ru}_{j}_bar[r]"

    def forward_loop(self, ru: int, run: _Run, out: list[str], env: dict[str, Any]) -> None:
        nm = self.name
        run.locals_ = [nm[self.inner[run.s + i]] for i in run.outputs]  # type: ignore[attr-defined]
        out.append(f"    # {run.R} blocks of {run.P} nodes each (one example after another), as a loop")
        for j in range(len(run.outputs)):
            out.append(f"    _o{ru}_{j} = []")
        out.append(f"    _tape{ru} = []")
        out.append(f"    for r in range({run.R}):")
        ind = "        "
        for j, (i, a) in enumerate(run.varying):
            leaves_r = tuple(
                self.order[self.parents[self.inner[run.s + r * run.P + i]][a]] for r in range(run.R)
            )
            env[f"_V{ru}_{j}"] = leaves_r
            out.append(f"{ind}{run.vnames[j]} = _V{ru}_{j}[r].data")
        body: list[str] = []
        for k in self.block0(run):
            self.forward_line(k, body, ind)
        out.extend(body)
        assigned = [ln.strip().split(" = ", 1)[0] for ln in body]
        run.saved = assigned  # type: ignore[attr-defined]
        for j, i in enumerate(run.outputs):
            out.append(f"{ind}_o{ru}_{j}.append({nm[self.inner[run.s + i]]})")
        out.append(f"{ind}_tape{ru}.append(({', '.join(assigned)},))")
        self.outside_names(ru, run, True)

    def backward_loop(self, ru: int, run: _Run, out: list[str]) -> None:
        self.outside_names(ru, run, False)
        ind = "        "
        out.append(f"    # the loop's {run.R} blocks, last first")
        out.append(f"    for r in range({run.R - 1}, -1, -1):")
        out.append(f"{ind}({', '.join(run.saved)},) = _tape{ru}[r]")  # type: ignore[attr-defined]
        for j in range(len(run.varying)):
            out.append(f"{ind}{run.vnames[j]} = _V{ru}_{j}[r].data")
            out.append(f"{ind}{run.vnames[j]}_bar = _V{ru}_{j}[r].grad")
        for k in reversed(self.block0(run)):
            self.backward_block(k, out, ind)
        for j in range(len(run.varying)):
            out.append(f"{ind}_V{ru}_{j}[r].grad = {run.vnames[j]}_bar")
        self.outside_names(ru, run, True)


def _program_env() -> dict[str, Any]:
    env = float_functions()
    for op in OPS.values():
        if op.check is not None and op.name not in _INLINE_FWD:
            env[_fwd_name(op)] = _checked(op)
    env.update(
        sub_=operator.sub,
        truediv=operator.truediv,
        neg=operator.neg,
        sum=builtins.sum,
        map=map,
        mul=operator.mul,
        add=operator.add,
        repeat=repeat,
        zip=zip,
        list=list,
        _data=_getdata,
        _grad=_getgrad,
        _call=_call,
        _fin=_fin,
        _negzero=_negzero,
        _GuardFailed=_GuardFailed,
    )
    return env


# ---------------------------------------------------------------------------------------------
# trace: a function of Values, with guards on the Python branches it took
# ---------------------------------------------------------------------------------------------


class _GuardFailed(Exception):
    """Raised inside a traced program when a comparison made while tracing comes out otherwise."""


class _Guard:
    __slots__ = ("a", "op", "b", "result", "site")

    def __init__(self, a: Value, op: str, b: Value | float, result: bool, site: str) -> None:
        self.a, self.op, self.b, self.result, self.site = a, op, b, result, site


_PKG = os.path.dirname(os.path.abspath(__file__))
_trace_lock = threading.RLock()
_MAX_VARIANTS = 16


class _Recorder:
    """Watches a function of Values while it runs: comparisons become guards; reading the number
    of a computed Value (or of an argument), or asking a Value for its truth, is refused."""

    def __init__(self, fn: Callable[..., Any], inputs: set[Value]) -> None:
        self.fn = fn
        self.inputs = inputs
        self.guards: list[_Guard] = []

    def site(self) -> str:
        f: Any = sys._getframe(2)
        code = getattr(self.fn, "__code__", None)
        first: Any = None
        while f is not None:
            c = f.f_code
            if code is not None and c is code:
                return f"{f.f_code.co_filename}:{f.f_lineno} (in {f.f_code.co_name})"
            if first is None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) != _PKG:
                first = f
            f = f.f_back
        if first is not None:
            return f"{first.f_code.co_filename}:{first.f_lineno} (in {first.f_code.co_name})"
        return "<unknown>"

    def __enter__(self) -> _Recorder:
        _trace_lock.acquire()
        rec = self
        slot = Value.__dict__["data"]
        self.saved = {n: Value.__dict__[n] for n in ("data", "__lt__", "__le__", "__gt__", "__ge__")}
        self.had_bool = "__bool__" in Value.__dict__
        getd = slot.__get__

        def compare(op: str, orig: Callable[[Value, Any], bool]) -> Callable[[Value, Any], bool]:
            def cmp(self: Value, other: Any) -> bool:
                result = orig(self, other)
                if (
                    self._op
                    or self in rec.inputs
                    or (other.__class__ is Value and (other._op or other in rec.inputs))
                ):
                    b = other if other.__class__ is Value else float(other)
                    rec.guards.append(_Guard(self, op, b, bool(result), rec.site()))
                return result

            return cmp

        def data_get(self: Value) -> float:
            if self._op or self in rec.inputs:
                f = sys._getframe(1)
                if os.path.dirname(os.path.abspath(f.f_code.co_filename)) != _PKG:
                    what = "a computed Value" if self._op else "an argument"
                    raise ProgramError(
                        f"trace: {rec.site()} reads .data of {what} ({self!r:.60}); a program "
                        "replays the graph and would not see Python act on that number. Use "
                        "Values and their ops (comparisons become guards; relu, abs, maximum, "
                        "where, clamp branch inside the program), or compute it outside fn"
                    )
            return getd(self)  # type: ignore[no-any-return]

        def data_set(self: Value, x: float) -> None:
            slot.__set__(self, x)

        def no_bool(self: Value) -> bool:
            raise ProgramError(
                f"trace: {rec.site()} asks a Value for its truth value (if v:, while v:, v and w); "
                "it would depend on the number. Compare explicitly (v > 0), which becomes a guard"
            )

        setattr(Value, "data", property(data_get, data_set))  # noqa: B010 (a slot, for mypy)
        for n in ("__lt__", "__le__", "__gt__", "__ge__"):
            setattr(
                Value,
                n,
                compare({"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}[n], self.saved[n]),
            )
        Value.__bool__ = no_bool  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for n, f in self.saved.items():
                setattr(Value, n, f)
            if not self.had_bool:
                del Value.__bool__  # type: ignore[attr-defined]
        finally:
            _trace_lock.release()


def _flatten(x: Any, where: str, out: list[float]) -> Any:
    """Numbers and nested lists of numbers: the numbers in order, and the shape."""
    if isinstance(x, (list, tuple)):
        return [_flatten(e, f"{where}[{i}]", out) for i, e in enumerate(x)]
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"trace: {where} must be a number or a list of numbers, got {type(x).__name__}")
    out.append(float(x))
    return None


def _build(shape: Any, it: Any) -> Any:
    if shape is None:
        return next(it)
    return [_build(s, it) for s in shape]


class _Tracer:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.variants: list[tuple[Any, Program, list[Value]]] = []
        try:
            self.argnames = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self.argnames = []

    def trace(self, args: tuple[Any, ...]) -> Program:
        nums: list[float] = []
        shape = [_flatten(a, f"argument {i}", nums) for i, a in enumerate(args)]
        inputs = [Value(x) for x in nums]
        k = 0
        for i, a in enumerate(args):  # labels: the parameter names (x, x_0, x_1, ...)
            base = self.argnames[i] if i < len(self.argnames) else f"a{i}"
            cnt: list[float] = []
            _flatten(a, "", cnt)
            for j in range(len(cnt)):
                inputs[k].label = base if shape[i] is None else f"{base}_{j}"
                k += 1
        structured = [
            _build(s, iter(inputs[sum(len(_count(args[j])) for j in range(i)) :]))
            for i, s in enumerate(shape)
        ]
        with _Recorder(self.fn, set(inputs)) as rec:
            out = self.fn(*structured)
        if out.__class__ is not Value:
            raise TypeError(f"trace: fn must return a Value, got {type(out).__name__}")
        order = toposort(out)
        have = set(order)
        for g in rec.guards:
            for v in (g.a, g.b):
                if isinstance(v, Value) and v not in have:
                    raise ProgramError(
                        f"trace: {g.site} compares a Value that the result does not depend on; "
                        "the program could not check that comparison on new inputs"
                    )
        if len(order) > MAX_NODES:
            raise ProgramError(
                f"trace: the graph has {len(order):,} nodes; at most {MAX_NODES:,} are supported"
            )
        w = _Writer(order, rec.guards)
        prog = w.program()
        prog._tracer = self
        self.variants.insert(0, (shape, prog, inputs))
        del self.variants[_MAX_VARIANTS:]
        return prog

    def call(self, args: tuple[Any, ...]) -> tuple[float, Any]:
        nums: list[float] = []
        shape = [_flatten(a, f"argument {i}", nums) for i, a in enumerate(args)]
        for sh, prog, inputs in list(self.variants):
            if sh != shape:
                continue
            try:
                return self.run(prog, inputs, nums, shape)
            except _GuardFailed:
                continue
        prog = self.trace(args)
        sh, prog, inputs = self.variants[0]
        return self.run(prog, inputs, nums, shape)

    @staticmethod
    def run(prog: Program, inputs: list[Value], nums: list[float], shape: list[Any]) -> tuple[float, Any]:
        with grad_lock:  # the inputs are this program's own leaves: one call at a time
            for v, x in zip(inputs, nums):
                v.data = x
                v.grad = 0.0
            value = prog.run()
            it = iter([v.grad for v in inputs])
        grads = [_build(s, it) for s in shape]
        return value, (grads[0] if len(grads) == 1 else tuple(grads))


def _count(x: Any) -> list[float]:
    out: list[float] = []
    _flatten(x, "", out)
    return out


def trace(fn: Callable[..., Any], *example_args: Any) -> Program:
    """Run `fn` on Values made from `example_args` (numbers, or nested lists of numbers) and
    compile the graph it builds into a `Program`: ``program(*args)`` gives the value at new
    arguments, ``program.value_and_grad(*args)`` the value and the gradient with respect to every
    argument (shaped like the arguments).

    A traced program never silently gives what running `fn` would not: every comparison of a
    Value that `fn` makes (``x > 0``, ``min``, ``sorted``) is recorded as a guard, checked each
    time the program runs; when one comes out otherwise, `fn` is traced again along the new
    branch. Reading ``.data`` of a computed Value or an argument, or the truth value of a Value,
    inside `fn` is refused with the line that did it. Branches inside ops (relu, abs, maximum,
    where, clamp, ...) need no guard: they are evaluated in the program.

    While `fn` is traced, `Value`'s comparisons, its ``.data`` and its truth value are watched
    (class-wide; traces take a lock, so run one trace at a time and build no other graphs in
    other threads meanwhile).
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be a function, got {type(fn).__name__}")
    tracer = _Tracer(fn)
    return tracer.trace(example_args)


# ---------------------------------------------------------------------------------------------
# The batched form, for large graphs: nodes of one level and one op are computed by one line
# ---------------------------------------------------------------------------------------------


def _take(idx: Sequence[int]) -> Callable[[Sequence[float]], tuple[float, ...]]:
    """A C-speed gather: ``_take(idx)(xs) == tuple(xs[i] for i in idx)``."""
    if len(idx) == 1:
        i = idx[0]
        return lambda xs: (xs[i],)
    return operator.itemgetter(*idx)


class _Batched:
    """Writes a graph as a few dozen lines: one line per (level, op) of the forward pass, one per
    (level, op, argument) of contributions in the backward pass, one per (level, count) to add
    each node's contributions up in the order ``backward()`` adds them (``0.0 + c1 + c2 + ...``).

    Values live in the list V, adjoints in A, contributions in C (all by slot); gathers are
    ``operator.itemgetter``s, so the per-node work runs at C speed in ``map``.
    """

    def __init__(self, order: list[Value]) -> None:
        self.order = order
        self.env = _program_env()
        self.env["reduce"] = functools.reduce
        self.nt = 0
        self.helpers: list[str] = []

    def table(self, obj: Any) -> str:
        name = f"_T{self.nt}"
        self.nt += 1
        self.env[name] = obj
        return name

    def take(self, idx: Sequence[int]) -> str:
        return self.table(_take(idx))

    def program(self) -> Program:
        order = self.order
        n = len(order)
        index = {v: k for k, v in enumerate(order)}
        ops = [v._op for v in order]
        parents = [tuple(index[p] for p in v._prev) for v in order]
        level = [0] * n
        for k in range(n):
            if ops[k]:
                level[k] = 1 + max(level[p] for p in parents[k])
        leaves = [k for k in range(n) if not ops[k]]
        vslot = [0] * n
        for s, k in enumerate(leaves):
            vslot[k] = s
        top = max(level)
        # groups of inner nodes: (level, op, parameter)
        groups: dict[tuple[int, str, str], list[int]] = {}
        for k in range(n):
            if ops[k]:
                key = repr(order[k]._arg) if ops[k] not in ("sum", "dot") else len(parents[k])
                groups.setdefault((level[k], ops[k], str(key)), []).append(k)
        by_level: dict[int, list[tuple[str, list[int]]]] = {}
        for (lv, op, _), ks in groups.items():
            by_level.setdefault(lv, []).append((op, ks))
        out = [
            "def program():",
            f'    """A graph of {n} nodes ({len(leaves)} leaves) in {top} levels, batched: each line',
            "    computes one op for every node of a level. V: values, A: adjoints, C: contributions",
            '    (slots chosen by autograd.compile)."""',
            "    V = list(map(_data, _L))",
        ]
        nv = len(leaves)
        for lv in range(1, top + 1):
            for op, ks in by_level.get(lv, []):
                for k in ks:
                    vslot[k] = nv
                    nv += 1
                out.append(
                    f"    V += {self.forward_expr(op, ks, parents, vslot)}  # level {lv}: {len(ks)} x {op}"
                )
        # edges in the order backward() adds them: consumers in reverse topological order,
        # arguments in order (a dot's pairs w_i, x_i in turn)
        inner = [k for k in range(n) if ops[k]]
        edges_of: list[list[int]] = [[] for _ in range(n)]  # per node: edge ids, in order
        edge_base = [0] * n
        ne = 0
        for k in reversed(inner):
            ps = parents[k]
            edge_base[k] = ne
            if ops[k] == "dot":
                h = len(ps) // 2
                seq = [p for i in range(h) for p in (ps[i], ps[h + i])]
            else:
                seq = list(ps)
            for p in seq:
                edges_of[p].append(ne)
                ne += 1
        cslot = [0] * ne
        aslot = [0] * n
        out.append("    # backward: each level's adjoints, then their contributions to the level below")
        out.append("    A = [1.0]")
        root = n - 1
        aslot[root] = 0
        na = 1
        nc = 0
        for lv in range(top, 0, -1):
            # adjoints of this level's nodes: 0.0 + c1 + c2 + ... (the root's is 1.0)
            if lv != top:
                by_count: dict[int, list[int]] = {}
                for _, ks in by_level.get(lv, []):
                    for k in ks:
                        by_count.setdefault(len(edges_of[k]), []).append(k)
                for cnt, ks in sorted(by_count.items()):
                    for k in ks:
                        aslot[k] = na
                        na += 1
                    e = self.reduce_expr(ks, edges_of, cslot, "repeat(0.0)")
                    out.append(f"    A += {e}  # level {lv}: {len(ks)} adjoints of {cnt} terms")
            for op, ks in by_level.get(lv, []):
                nc = self.backward_group(op, ks, parents, vslot, aslot, edge_base, cslot, nc, out, lv)
        # leaves: .grad + c1 + c2 + ..., in order
        out.append("    # leaves: their .grad plus their contributions, in order")
        by_count = {}
        for k in leaves:
            by_count.setdefault(len(edges_of[k]), []).append(k)
        for _, ks in sorted(by_count.items()):
            objs = self.table(tuple(order[k] for k in ks))
            e = self.reduce_expr(ks, edges_of, cslot, f"map(_grad, {objs})")
            out.append(f"    for v, g in zip({objs}, {e}):")
            out.append("        v.grad = g")
        out.append(f"    return V[{vslot[root]}]")
        out.append("")
        body = "\n".join(self.helpers + out).replace("    A = [1.0]", "    C = []\n    A = [1.0]")
        leaves_t = tuple(order[k] for k in leaves)
        self.env["_L"] = leaves_t
        fn = run_source(body, "program", self.env)["program"]
        return Program(body, fn, leaves_t, n)

    def reduce_expr(self, ks: list[int], edges_of: list[list[int]], cslot: list[int], start: str) -> str:
        """start + c_1 + c_2 + ... for each node of ks (all with the same number of terms)."""
        cnt = len(edges_of[ks[0]])
        if cnt > _ZIP_MAX:
            ts = self.table(tuple(_take([cslot[x] for x in edges_of[k]]) for k in ks))
            return f"map(reduce, repeat(add), map(_call, {ts}, repeat(C)), {start})"
        if cnt == 1:
            return f"map(add, {start}, {self.take([cslot[edges_of[k][0]] for k in ks])}(C))"
        cols = ", ".join(f"{self.take([cslot[edges_of[k][j]] for k in ks])}(C)" for j in range(cnt))
        return f"map(reduce, repeat(add), zip({cols}), {start})"

    def forward_expr(self, op: str, ks: list[int], parents: list[tuple[int, ...]], vslot: list[int]) -> str:
        v0 = self.order[ks[0]]
        o = OPS[op]
        if op in ("sum", "dot"):
            # grouped by length: one gather per column, summed row by row (sum's own order)
            ps0 = parents[ks[0]]
            h = len(ps0) if op == "sum" else len(ps0) // 2
            if h > _ZIP_MAX:
                if op == "sum":
                    ts = self.table(tuple(_take([vslot[p] for p in parents[k]]) for k in ks))
                    return f"[sum(t(V)) for t in {ts}]"
                pairs = []
                for k in ks:
                    ps = parents[k]
                    pairs.append((_take([vslot[p] for p in ps[:h]]), _take([vslot[p] for p in ps[h:]])))
                ts = self.table(tuple(pairs))
                return f"[sum(map(mul, w(V), x(V))) for w, x in {ts}]"
            if op == "sum":
                cols = [f"{self.take([vslot[parents[k][i]] for k in ks])}(V)" for i in range(h)]
            else:
                cols = [
                    f"map(mul, {self.take([vslot[parents[k][i]] for k in ks])}(V), "
                    f"{self.take([vslot[parents[k][h + i]] for k in ks])}(V))"
                    for i in range(h)
                ]
            return f"map(sum, zip({', '.join(cols)}))"
        arity = len(parents[ks[0]])
        cols = [self.take([vslot[parents[k][j]] for k in ks]) + "(V)" for j in range(arity)]
        if op in _INLINE_FWD or op == "neg":
            f = {"+": "add", "-": "sub_", "*": "mul", "/": "truediv", "neg": "neg"}[op]
        else:
            f = _fwd_name(o)
        if o.param:
            cols.append(f"repeat({self.table(v0._arg)})")
        return f"map({f}, {', '.join(cols)})"

    def backward_group(
        self,
        op: str,
        ks: list[int],
        parents: list[tuple[int, ...]],
        vslot: list[int],
        aslot: list[int],
        edge_base: list[int],
        cslot: list[int],
        nc: int,
        out: list[str],
        lv: int,
    ) -> int:
        o = OPS[op]
        v0 = self.order[ks[0]]
        if op in ("sum", "dot", "+", "*"):
            # one line: the consumer's adjoint (times the other factor, for * and dot) per edge
            gi: list[int] = []
            oth: list[int] = []
            for k in ks:
                ps = parents[k]
                if op == "dot":
                    h = len(ps) // 2
                    for i in range(h):
                        gi += (aslot[k], aslot[k])
                        oth += (vslot[ps[h + i]], vslot[ps[i]])
                elif op == "*":
                    gi += (aslot[k], aslot[k])
                    oth += (vslot[ps[1]], vslot[ps[0]])
                else:
                    gi += [aslot[k]] * len(ps)
                m = len(ps)
                for j in range(m):
                    cslot[edge_base[k] + j] = nc + len(gi) - m + j
            if op in ("sum", "+"):
                out.append(f"    C += {self.take(gi)}(A)  # level {lv}: {len(ks)} x {op}, d = 1")
            else:
                out.append(
                    f"    C += map(mul, {self.take(gi)}(A), {self.take(oth)}(V))"
                    f"  # level {lv}: {len(ks)} x {op}"
                )
            return nc + len(gi)
        arity = len(parents[ks[0]])
        argn = tuple(f"x{i}" for i in range(arity))
        exprs = rule_exprs(o, argn, "z", v0._arg if o.param else None)
        ga = self.take([aslot[k] for k in ks]) + "(A)"
        for j, e in enumerate(exprs):
            for i, k in enumerate(ks):
                cslot[edge_base[k] + j] = nc + i
            fold = not o.param
            if fold and e.is_const(1.0):
                out.append(f"    C += {ga}  # level {lv}: {len(ks)} x {op}, argument {j}: d = 1")
            elif fold and e.is_const(-1.0):
                out.append(f"    C += map(neg, {ga})  # level {lv}: {len(ks)} x {op}, argument {j}: d = -1")
            else:
                used: dict[str, int] = {}
                var_counts(e, used)
                params = [a for a in (*argn, "z") if a in used]
                fname = f"_d{self.nt}"
                self.nt += 1
                fsrc = (
                    f"def {fname}(g, {', '.join(params)}):\n    return g * {source_factor(e)}\n"
                    if params
                    else (f"def {fname}(g):\n    return g * {source_factor(e)}\n")
                )
                self.helpers.append(f"# {o.name}: d z / d x{j}\n" + fsrc)
                cols = [ga]
                for a in params:
                    if a == "z":
                        cols.append(self.take([vslot[k] for k in ks]) + "(V)")
                    else:
                        jj = int(a[1:])
                        cols.append(self.take([vslot[parents[k][jj]] for k in ks]) + "(V)")
                out.append(
                    f"    C += map({fname}, {', '.join(cols)})"
                    f"  # level {lv}: {len(ks)} x {op}, argument {j}: {source(e)}"
                )
            nc += len(ks)
        return nc


