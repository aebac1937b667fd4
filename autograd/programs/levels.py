# The level-batched form, for large graphs without repeated blocks: the nodes of one level and
# one op are computed by one line (see the package docstring).

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from ..codegen import run_source
from ..ops import OPS
from ..symbolic import nonzero, rule_exprs, source, source_factor, var_counts
from .names import PLAIN_SUM, fwd_name, program_env
from .tape import Tape
from .writer import Written

__all__ = ["Batched", "level_groups"]

# the batched form sums up to this many terms per node column by column (one gather a column)
_ZIP_MAX = 256
_FWD_NAMES = {"+": "add", "-": "sub_", "*": "mul", "/": "truediv", "neg": "neg"}


def _take(idx: Sequence[int]) -> Callable[[Sequence[float]], tuple[float, ...]]:
    """A C-speed gather: ``_take(idx)(xs) == tuple(xs[i] for i in idx)``."""
    if len(idx) == 1:
        i = idx[0]
        return lambda xs: (xs[i],)
    return operator.itemgetter(*idx)


def _levels(t: Tape) -> list[int]:
    level = [0] * len(t)
    for k, (op, ps) in enumerate(zip(t.ops, t.parents)):
        if op:
            level[k] = 1 + max(level[p] for p in ps)
    return level


def level_groups(t: Tape) -> int:
    """How many (level, op) groups the batched form would have."""
    level = _levels(t)
    return len({(level[k], op) for k, op in enumerate(t.ops) if op})


def _key(op: str, arg: Any, nparents: int) -> str:
    if op in ("sum", "dot", "lin"):
        return f"{arg!r}/{nparents}"
    return repr(arg)


class Batched:
    """Writes a graph as a few dozen lines: one line per (level, op) of the forward pass, one per
    (level, op, argument) of contributions in the backward pass, one per (level, count) to add
    each node's contributions up in the order ``backward()`` adds them (``0.0 + c1 + c2 + ...``).

    Values live in the list V, adjoints in A, contributions in C (all by slot); gathers are
    ``operator.itemgetter``s, so the per-node work runs at C speed in ``map``. V's first two
    slots hold the constants 1.0 and -1.0 (a contribution ``g * 1.0`` is g, exactly).
    """

    def __init__(self, tape: Tape) -> None:
        if "prod" in tape.ops:
            raise ValueError("the batched form does not write product chains")  # pragma: no cover
        self.t = tape
        self.env = program_env()
        self.nt = 0
        self.helpers: list[str] = []

    def table(self, obj: Any) -> str:
        name = f"_T{self.nt}"
        self.nt += 1
        self.env[name] = obj
        return name

    def take(self, idx: Sequence[int]) -> str:
        return self.table(_take(idx))

    def program(self) -> Written:
        t = self.t
        ops, parents = t.ops, t.parents
        n = len(t)
        level = _levels(t)
        leaves = [k for k in range(n) if not ops[k]]
        vslot = [0] * n
        for s, k in enumerate(leaves):
            vslot[k] = s + 2
        top = max(level)
        groups: dict[tuple[int, str, str], list[int]] = {}
        for k in range(n):
            if ops[k]:
                groups.setdefault((level[k], ops[k], _key(ops[k], t.args[k], len(parents[k]))), []).append(k)
        by_level: dict[int, list[tuple[str, list[int]]]] = {}
        for (lv, op, _), ks in groups.items():
            by_level.setdefault(lv, []).append((op, ks))
        out = [
            "def program():",
            f'    """A graph of {t.nodes} nodes ({len(leaves)} leaves) in {top} levels, batched: each line',
            "    computes one op for every node of a level. V: values, A: adjoints, C: contributions",
            '    (slots chosen by autograd.compile)."""',
            "    V = [1.0, -1.0]",
            "    V += map(_data, _L)",
        ]
        nv = len(leaves) + 2
        for lv in range(1, top + 1):
            for op, ks in by_level.get(lv, []):
                for k in ks:
                    vslot[k] = nv
                    nv += 1
                out.append(f"    V += {self.forward_expr(op, ks, vslot)}  # level {lv}: {len(ks)} x {op}")
        # edges in the order backward() adds them: consumers in reverse topological order, each
        # consumer's contributions in its own order (`_seq`)
        inner = [k for k in range(n) if ops[k] and t.grad[k]]
        edges_of: list[list[int]] = [[] for _ in range(n)]
        edge_base = [0] * n
        ne = 0
        for k in reversed(inner):
            edge_base[k] = ne
            for p, _, _ in self.seq(k):
                edges_of[p].append(ne)
                ne += 1
        cslot = [0] * ne
        aslot = [0] * n
        out.append("    # backward: each level's adjoints, then their contributions to the level below")
        out.append("    C = []")
        out.append("    A = [1.0]")
        na, nc = 1, 0
        rootlv = level[n - 1]
        for lv in range(rootlv, 0, -1):
            if lv != rootlv:
                by_count: dict[int, list[int]] = {}
                for _, ks in by_level.get(lv, []):
                    for k in ks:
                        if t.grad[k]:
                            by_count.setdefault(len(edges_of[k]), []).append(k)
                for cnt, ks in sorted(by_count.items()):
                    for k in ks:
                        aslot[k] = na
                        na += 1
                    e = self.reduce_expr(ks, edges_of, cslot, "repeat(0.0)")
                    out.append(f"    A += {e}  # level {lv}: {len(ks)} adjoints of {cnt} terms")
            for op, ks in by_level.get(lv, []):
                ks = [k for k in ks if t.grad[k]]
                if ks:
                    nc = self.backward_group(op, ks, vslot, aslot, edge_base, cslot, nc, out, lv)
        out.append("    # leaves: their .grad plus their contributions, in order")
        by_count = {}
        for k in leaves:
            if t.grad[k]:
                by_count.setdefault(len(edges_of[k]), []).append(k)
        for _, ks in sorted(by_count.items()):
            objs = self.table(tuple(t.leaves[k] for k in ks))
            e = self.reduce_expr(ks, edges_of, cslot, f"map(_grad, {objs})")
            out.append(f"    for v, g in zip({objs}, {e}):")
            out.append("        v.grad = g")
        out.append(f"    return V[{vslot[n - 1]}]")
        out.append("")
        # the helpers are defined inside program(): a function kept in the globals it runs in
        # would be a reference cycle
        helpers = [" " * 4 + ln for h in self.helpers for ln in h.splitlines()]
        body = "\n".join(out[:4] + helpers + out[4:])
        leaves_t = tuple(t.leaves[k] for k in leaves)
        self.env["_L"] = leaves_t
        fn = run_source(body, "program", self.env).pop("program")
        return Written(body, fn, leaves_t, {}, 0)

    def seq(self, k: int) -> list[tuple[int, int, int]]:
        """Node k's contributions in backward()'s order: (parent, the parent whose value
        multiplies the adjoint or -1 (1.0) or -2 (-1.0), argument) per contribution."""
        op, ps, spec = self.t.ops[k], self.t.parents[k], self.t.args[k]
        if op == "dot":
            h = len(ps) // 2
            return [e for i in range(h) for e in ((ps[i], ps[h + i], 0), (ps[h + i], ps[i], 1))]
        if op == "lin":
            start = ps[0] if spec.start else None
            body = ps[1:] if spec.start else ps
            h = len(body) // 2 if spec.prod else len(body)
            out: list[tuple[int, int, int]] = []
            for i in range(h - 1, -1, -1):
                if i == 0 and start is not None:
                    out.append((start, -1, 0))
                if spec.prod:
                    out += [(body[i], body[h + i], 1), (body[h + i], body[i], 1)]
                else:
                    out.append((body[i], -2 if spec.neg else -1, 0))
            return out
        return [(p, -1, j) for j, p in enumerate(ps)]

    def reduce_expr(self, ks: list[int], edges_of: list[list[int]], cslot: list[int], start: str) -> str:
        """start + c_1 + c_2 + ... for each node of ks (all with the same number of terms)."""
        cnt = len(edges_of[ks[0]])
        if cnt == 0:
            return start if start.startswith("map(_grad") else f"[0.0] * {len(ks)}"
        if cnt > _ZIP_MAX:
            ts = self.table(tuple(_take([cslot[x] for x in edges_of[k]]) for k in ks))
            return f"map(reduce, repeat(add), map(_call, {ts}, repeat(C)), {start})"
        if cnt == 1:
            return f"map(add, {start}, {self.take([cslot[edges_of[k][0]] for k in ks])}(C))"
        cols = ", ".join(f"{self.take([cslot[edges_of[k][j]] for k in ks])}(C)" for j in range(cnt))
        return f"map(reduce, repeat(add), zip({cols}), {start})"

    def forward_expr(self, op: str, ks: list[int], vslot: list[int]) -> str:
        t = self.t
        parents = t.parents
        if op in ("sum", "dot", "lin"):
            spec = t.args[ks[0]]
            ps0 = parents[ks[0]]
            off = 1 if op == "lin" and spec.start else 0
            prod = op == "dot" or (op == "lin" and spec.prod)
            h = (len(ps0) - off) // (2 if prod else 1)

            def col(i: int) -> str:
                return f"{self.take([vslot[parents[k][i]] for k in ks])}(V)"

            if h > _ZIP_MAX:
                rows = self.table(tuple(_take([vslot[p] for p in parents[k][off:]]) for k in ks))
                terms = f"map(_call, {rows}, repeat(V))"
                if prod:
                    halves = self.table(tuple((lambda r, h=h: map(operator.mul, r[:h], r[h:])) for _ in ks))
                    terms = f"map(_call, {halves}, {terms})"
            else:
                cols = [
                    f"map(mul, {col(off + i)}, {col(off + h + i)})" if prod else col(off + i)
                    for i in range(h)
                ]
                terms = f"zip({', '.join(cols)})"
            if op != "lin":
                return f"map(sum, {terms})"
            first = col(0) if spec.start else "repeat(-0.0)"
            if spec.neg:
                return f"map(reduce, repeat(sub_), {terms}, {first})"
            return (
                f"map(sum, {terms}, {first})" if PLAIN_SUM else f"map(reduce, repeat(add), {terms}, {first})"
            )
        o = OPS[op]
        cols = [self.take([vslot[parents[k][j]] for k in ks]) + "(V)" for j in range(len(parents[ks[0]]))]
        f = _FWD_NAMES.get(op) or fwd_name(o)
        if o.param:
            cols.append(f"repeat({self.table(t.args[ks[0]])})")
        return f"map({f}, {', '.join(cols)})"

    def backward_group(
        self,
        op: str,
        ks: list[int],
        vslot: list[int],
        aslot: list[int],
        edge_base: list[int],
        cslot: list[int],
        nc: int,
        out: list[str],
        lv: int,
    ) -> int:
        t = self.t
        if op in ("sum", "dot", "+", "*", "lin"):
            # one line: the consumer's adjoint times the other factor (or 1.0, -1.0) per edge
            gi: list[int] = []
            oth: list[int] = []
            neg_prod = op == "lin" and t.args[ks[0]].neg and t.args[ks[0]].prod
            for k in ks:
                seq = (
                    self.seq(k)
                    if op != "*"
                    else [(t.parents[k][0], t.parents[k][1], 0), (t.parents[k][1], t.parents[k][0], 1)]
                )
                for j, (_, m, _) in enumerate(seq):
                    cslot[edge_base[k] + j] = nc + len(gi)
                    gi.append(aslot[k])
                    oth.append(0 if m == -1 else 1 if m == -2 else vslot[m])
            ga = f"{self.take(gi)}(A)"
            if neg_prod:  # the terms' adjoint is 0.0 - g (the start's, g)
                sub = [i for i, o in enumerate(oth) if o != 0]
                ga = f"_neg_at({ga}, {self.table(frozenset(sub))})"
                self.env["_neg_at"] = _neg_at
            if op in ("sum", "+"):
                out.append(f"    C += {ga}  # level {lv}: {len(ks)} x {op}, d = 1")
            else:
                out.append(f"    C += map(mul, {ga}, {self.take(oth)}(V))  # level {lv}: {len(ks)} x {op}")
            return nc + len(gi)
        o = OPS[op]
        parents = t.parents
        arity = len(parents[ks[0]])
        argn = tuple(f"x{i}" for i in range(arity))
        exprs = rule_exprs(o, argn, "z", t.args[ks[0]] if o.param else None)
        ga = self.take([aslot[k] for k in ks]) + "(A)"
        for j, e in enumerate(exprs):
            for i, k in enumerate(ks):
                cslot[edge_base[k] + j] = nc + i
            head = f"    C += {{}}  # level {lv}: {len(ks)} x {op}, argument {j}: "
            nz = nonzero(e)
            if nz is None:  # a structural zero: -0.0, which changes no sum (x + -0.0 is x)
                out.append(head.format(f"[-0.0] * {len(ks)}") + "0 (adds nothing)")
                nc += len(ks)
                continue
            when, d = nz
            if when is None and d.is_const(1.0):
                out.append(head.format(ga) + "d = 1")
            elif when is None and d.is_const(-1.0):
                out.append(head.format(f"map(neg, {ga})") + "d = -1")
            else:
                used: dict[str, int] = {}
                var_counts(e, used)
                params = [a for a in (*argn, "z") if a in used]
                fname = f"_d{self.nt}"
                self.nt += 1
                value = "g" if d.is_const(1.0) else f"g * {source_factor(d)}"
                if when is not None:
                    value = f"{value} if {source(when)} else -0.0"
                self.helpers.append(
                    f"# {o.name}: d z / d x{j}\ndef {fname}(g{''.join(', ' + a for a in params)}):\n"
                    f"    return {value}\n"
                )
                cols = [ga]
                for a in params:
                    src = ks if a == "z" else [parents[k][int(a[1:])] for k in ks]
                    cols.append(self.take([vslot[x] for x in src]) + "(V)")
                out.append(head.format(f"map({fname}, {', '.join(cols)})") + source(e))
            nc += len(ks)
        return nc


def _neg_at(gs: Sequence[float], at: frozenset[int]) -> list[float]:
    """``0.0 - g`` at the positions `at` (a subtracted product term's adjoint), g elsewhere."""
    return [0.0 - g if i in at else g for i, g in enumerate(gs)]
