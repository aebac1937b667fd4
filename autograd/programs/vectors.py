# n-ary nodes (sum, dot, and the chain nodes lin and prod) read and write whole lists (see the
# package docstring).

from __future__ import annotations

from ..ops import OPS
from ..symbolic import rule_exprs
from .lines import LineWriter, Vec, join_terms
from .names import PLAIN_SUM
from .tape import Tape

__all__ = ["VecWriter", "NARY"]

NARY = ("sum", "dot", "lin", "prod")
# a sum or dot with at most this many terms is written out as its additions (up to 3.11)
_INLINE_SUM = 4


class VecWriter(LineWriter):
    """A LineWriter that gives n-ary nodes list operations: the operands of a wide ``dot`` are
    two lists, its value one ``sum(map(mul, ws, xs))`` and its adjoint two slice updates."""

    def __init__(self, tape: Tape, compact: bool) -> None:
        super().__init__(tape, compact)
        self.vecs: dict[tuple[int, ...], Vec] = {}
        self.node_vecs: dict[int, tuple[Vec, ...]] = {}
        self.lpos: dict[int, int] = {}  # leaf -> its slot in the program's leaf list _L
        # set by loops: node -> (run, block, position); varying leaves; lists of loop outputs
        self.run_of: dict[int, tuple[object, int, int]] = {}
        self.varying_leaf: set[int] = set()
        self.output_lists: dict[tuple[int, ...], str] = {}
        self.fuse: dict[int, tuple[int, int]] = {}  # a + node -> (side, the sum or dot inside it)
        self.fused: set[int] = set()

    # -- structure ----------------------------------------------------------------------------

    def split_args(self, k: int) -> tuple[int | None, tuple[tuple[int, ...], ...]]:
        """An n-ary node's scalar start (lin, prod) and its groups of operands."""
        op, ps, spec = self.ops[k], self.parents[k], self.args[k]
        if op == "sum":
            return None, (ps,)
        if op == "dot":
            h = len(ps) // 2
            return None, (ps[:h], ps[h:])
        if op == "prod":
            return ps[0], (ps[1:],)
        start = ps[0] if spec.start else None
        body = ps[1:] if spec.start else ps
        if spec.prod:
            h = len(body) // 2
            return start, (body[:h], body[h:])
        return start, (body,)

    def build_vectors(self, vec_ok: object = None) -> None:
        """Vectors for the n-ary nodes wide enough, and list homes for the adjoints."""
        least = 2 if self.compact else 8
        for k in self.inner:
            if self.ops[k] not in NARY:
                continue
            _, groups = self.split_args(k)
            if len(groups[0]) < least:
                continue
            ro = self.run_of.get(k)
            if ro is not None and (ro[1] or not all(self.vec_in_loop(ro, g) for g in groups)):
                continue
            vs = []
            for g in groups:
                vec = self.vecs.get(g)
                if vec is None:
                    outs = self.output_lists.get(g) if ro is None else None
                    if (
                        ro is None
                        and outs is None
                        and any(p in self.home_expr or p in self.varying_leaf for p in g)
                    ):
                        break
                    vec = self.vecs[g] = Vec(g, len(self.vecs))
                    if outs is not None:  # a loop's outputs, in order: the loop's own lists
                        vec.name, vec.home, vec.built, vec.started = outs, True, True, True
                vec.uses += 1 if ro is None else ro[0].R  # type: ignore[attr-defined]
                vs.append(vec)
            else:
                self.node_vecs[k] = tuple(vs)
        gradf = self.t.grad
        for vec in sorted(self.vecs.values(), key=lambda q: -q.uses * len(q.idx)):
            if vec.home:
                continue
            kinds = {self.ops[i] == "" for i in vec.idx}
            if len(kinds) != 1 or len(set(vec.idx)) != len(vec.idx):
                continue
            if any(
                i in self.home or i in self.home_expr or i in self.varying_leaf or not gradf[i]
                for i in vec.idx
            ):
                continue
            vec.home = True
            vec.leaves = kinds == {True}
            for pos, i in enumerate(vec.idx):
                self.home[i] = (vec, pos)

    def vec_in_loop(self, ro: tuple[object, int, int], g: tuple[int, ...]) -> bool:
        """A vector inside a loop: all its members computed in the same block, or all shared leaves."""
        run = ro[0]
        if all(self.run_of.get(p, (None, -1))[:2] == (run, 0) for p in g):
            return True
        return all(self.ops[p] == "" and p not in self.varying_leaf for p in g)

    def leaf_slice(self, vec: Vec) -> str | None:
        """``_L[a:b]`` if the vector's members are consecutive leaves of the program's leaf list."""
        lpos = self.lpos
        if any(i not in lpos for i in vec.idx):
            return None
        a = lpos[vec.idx[0]]
        if any(lpos[i] != a + t for t, i in enumerate(vec.idx)):
            return None
        return f"_L[{a}:{a + len(vec.idx)}]"

    def vec_value(self, vec: Vec, out: list[str], ind: str) -> str:
        if not vec.built:
            vec.built = True
            sl = self.leaf_slice(vec)
            if sl is not None:
                out.append(f"{ind}{vec.name} = list(map(_data, {sl}))")
            else:
                out.append(f"{ind}{vec.name} = [{', '.join(self.name[i] for i in vec.idx)}]")
        return vec.name

    def target(self, vec: Vec) -> tuple[Vec, str, str] | None:
        """Where the adjoints of the vector's members live, if in consecutive slots of one list:
        (that vector, the slice to assign, the slice to read)."""
        if vec.home:
            return vec, f"{vec.name}_bar[:]", f"{vec.name}_bar"
        h0 = self.home.get(vec.idx[0])
        if h0 is None:
            return None
        hv, a = h0
        if any(self.home.get(p) != (hv, a + t) for t, p in enumerate(vec.idx)):
            return None
        sl = f"{hv.name}_bar[{a}:{a + len(vec.idx)}]"
        return hv, sl, sl

    def order_free(self, k: int) -> bool:
        """Whether the contributions of node k may be added in any order: no parent receives
        two different contributions from it (then the order of backward() is kept)."""
        op, start, groups = self.ops[k], *self.split_args(k)
        if op == "dot":
            w, x = groups
            wpos = {p: i for i, p in enumerate(w)}
            # all w's, then all x's, is backward()'s pair-by-pair order when no node is both
            # some x_i and a later w_j
            return all(wpos.get(p, -1) <= i for i, p in enumerate(x))
        if op == "sum":
            return True
        if op == "prod" or (op == "lin" and self.args[k].prod):
            seen: set[int] = set() if start is None else {start}
            for pair in zip(*groups):
                s = set(pair)
                if s & seen:
                    return False
                seen |= s
            return True
        return not (self.args[k].neg and start in groups[0])  # plain terms all receive ±g

    def is_split(self, k: int) -> bool:
        """Whether node k's adjoint is passed on by whole-list updates."""
        vs = self.node_vecs.get(k)
        return vs is not None and all(self.target(v) is not None for v in vs) and self.order_free(k)

    def scalar_parents(self, k: int) -> tuple[int, ...]:
        """The parents of node k that the program reads by name."""
        vs = self.node_vecs.get(k)
        if vs is None or (not self.is_split(k) and self.ops[k] != "prod"):
            return self.parents[k]
        start, _ = self.split_args(k)
        named = [start] if start is not None else []
        for vec in vs:
            if self.leaf_slice(vec) is None:
                named.extend(vec.idx)
        return tuple(named)

    def plan_fusion(self, keep: set[int]) -> None:
        """Compact form: a sum or dot used only by a ``+`` (a neuron's ``dot(w, x) + b``) is
        computed inside that line, which is the same arithmetic in one line fewer."""
        if not self.compact:
            return
        ops, parents, run_of = self.ops, self.parents, self.run_of
        nuse = [0] * len(ops)
        for k in self.inner:
            for p in parents[k]:
                nuse[p] += 1
        for k in self.inner:
            if ops[k] != "+":
                continue
            for side, d in enumerate(parents[k]):
                if (
                    ops[d] in ("sum", "dot")
                    and nuse[d] == 1
                    and d not in keep
                    and d not in self.home_expr
                    and run_of.get(d, (None, -1))[:2] == run_of.get(k, (None, -1))[:2]
                ):
                    self.fuse[k] = (side, d)
                    self.fused.add(d)
                    break

    # -- forward ------------------------------------------------------------------------------

    def forward_line(self, k: int, out: list[str], ind: str) -> None:
        if k not in self.fused:  # (computed in its consumer's line)
            super().forward_line(k, out, ind)

    def forward_rhs(self, k: int, out: list[str], ind: str) -> str:
        op = self.ops[k]
        fuse = self.fuse.get(k)
        if fuse is not None:
            side, d = fuse
            inner = self.forward_rhs(d, out, ind)
            self.fwd_text[d] = f"{self.name[d]} = {inner}"
            a, b = (
                (inner, self.name[self.parents[k][1]])
                if side == 0
                else (self.name[self.parents[k][0]], f"({inner})")
            )
            return f"{a} + {b}"
        if op not in NARY:
            return super().forward_rhs(k, out, ind)
        nm = self.name
        start, groups = self.split_args(k)
        vs = self.node_vecs.get(k)
        cols = [self.vec_value(v, out, ind) for v in vs] if vs is not None else None
        if op == "prod":
            seq = cols[0] if cols else "(" + "".join(nm[p] + ", " for p in groups[0]) + ")"
            assert start is not None
            out.append(f"{ind}_p{k} = list(accumulate({seq}, mul, initial={nm[start]}))")
            return f"_p{k}[-1]"
        if cols is not None:
            inner = cols[0] if len(cols) == 1 else f"map(mul, {cols[0]}, {cols[1]})"
        if op in ("sum", "dot"):
            if cols is not None:
                return f"sum({inner})"
            terms = (
                [nm[p] for p in groups[0]] if op == "sum" else [f"{nm[w]} * {nm[x]}" for w, x in zip(*groups)]
            )
            if PLAIN_SUM and len(terms) <= _INLINE_SUM:
                return " + ".join(["0.0", *terms])  # sum()'s own additions
            if op == "sum":
                return f"sum(({''.join(t + ', ' for t in terms)}))"
            ws = "".join(nm[p] + ", " for p in groups[0])
            xs = "".join(nm[p] + ", " for p in groups[1])
            return f"sum(map(mul, ({ws}), ({xs})))"
        # lin: start + t_1 + ... (or -), left to right
        neg = self.args[k].neg
        first = nm[start] if start is not None else "(-0.0)"
        if cols is not None:
            if neg:
                return f"reduce(sub_, {inner}, {first})"
            return f"sum({inner}, {first})" if PLAIN_SUM else f"reduce(add, {inner}, {first})"
        terms = (
            [nm[p] for p in groups[0]]
            if len(groups) == 1
            else [f"{nm[w]} * {nm[x]}" for w, x in zip(*groups)]
        )
        pieces = join_terms(terms, first, " - " if neg else " + ")
        for piece in pieces[:-1]:
            out.append(f"{ind}{nm[k]} = {piece}")
            first = nm[k]
        return pieces[-1] if len(pieces) == 1 else f"{nm[k]} {'-' if neg else '+'} {pieces[-1]}"

    # -- backward -----------------------------------------------------------------------------

    def block(self, k: int, out: list[str], ind: str) -> None:
        op = self.ops[k]
        if op not in NARY:
            super().block(k, out, ind)
            return
        g = self.bar(k)
        if not g.isidentifier():
            out.append(f"{ind}_g = {g}")
            g = "_g"
        if op == "prod":
            self.prod_block(k, g, out, ind)
        elif self.is_split(k):
            self.split_block(k, g, out, ind)
        else:
            self.element_block(k, g, out, ind)

    def split_block(self, k: int, g: str, out: list[str], ind: str) -> None:
        """Whole-list updates (the operands' adjoints live in lists, and any order is exact)."""
        op = self.ops[k]
        start, _ = self.split_args(k)
        vs = self.node_vecs[k]
        tgs = [self.target(v) for v in vs]
        for t in tgs:
            assert t is not None
            self.start_vec(t[0], out, ind)
        if start is not None:
            self.add_to(start, g, "+", out, ind)
        neg = op == "lin" and self.args[k].neg
        if len(vs) == 1:  # each operand receives g (sum, plain lin): nothing to skip when g is 0
            ((_, dst, src),) = tgs  # type: ignore[misc]
            f = "sub_" if neg else "add"
            out.append(f"{ind}{dst} = map({f}, {src}, repeat({g}, {len(vs[0].idx)}))")
            return
        if neg:
            out.append(f"{ind}_gm = 0.0 - {g}")
            g = "_gm"
        (_, wd, ws), (_, xd, xs) = tgs  # type: ignore[misc]
        w, x = vs
        # skipped when the adjoint is 0 and every w, x is finite: each term would be ±0.0, which
        # changes no adjoint (none is -0.0: inner ones start at 0.0 + ..., and _nz says whether
        # some leaf's .grad was -0.0 when the program started)
        out.append(f"{ind}if {g} or _nz or not (_fin({x.name}) and _fin({w.name})):")
        out.append(f"{ind}    {wd} = map(add, {ws}, map({g}.__mul__, {x.name}))")
        out.append(f"{ind}    {xd} = map(add, {xs}, map({g}.__mul__, {w.name}))")

    def element_block(self, k: int, g: str, out: list[str], ind: str) -> None:
        """One addition a line, in the order backward() makes them."""
        op, nm = self.ops[k], self.name
        start, groups = self.split_args(k)
        if op in ("sum", "dot"):
            o = OPS[op]
            gnames = ("_x",) if o.arity == 1 else ("_w", "_x")
            exprs = rule_exprs(o, gnames, "_z", None)
            for grp in zip(*groups):
                names = {gn: nm[p] for gn, p in zip(gnames, grp)}
                names["_z"] = nm[k]
                for p, e in zip(grp, exprs):
                    self.contribute(p, e, names, g, out, ind)
            return
        # lin: backward() walks the chain from its last + node down: terms last first, and the
        # start just before the first term
        neg = self.args[k].neg
        if len(groups) == 2 and neg:
            out.append(f"{ind}_gm = 0.0 - {g}")
        gt = "_gm" if neg else g
        terms = list(zip(*groups))
        for i in range(len(terms) - 1, -1, -1):
            if i == 0 and start is not None:
                self.add_to(start, g, "+", out, ind)
            if len(groups) == 1:
                self.add_to(terms[i][0], g, "-" if neg else "+", out, ind)
            else:
                w, x = terms[i]
                self.add_to(w, f"{gt} * {nm[x]}", "+", out, ind)
                self.add_to(x, f"{gt} * {nm[w]}", "+", out, ind)

    def prod_block(self, k: int, g: str, out: list[str], ind: str) -> None:
        """A product chain: the contributions come from `_prod_back`, as backward() makes them."""
        nm = self.name
        start, (terms,) = self.split_args(k)
        assert start is not None
        vs = self.node_vecs.get(k)
        seq = vs[0].name if vs is not None else "(" + "".join(nm[p] + ", " for p in terms) + ")"
        out.append(f"{ind}_cs, _ct = _prod_back({g}, {seq}, _p{k})")
        tg = self.target(vs[0]) if vs is not None else None
        if tg is not None and self.order_free(k):
            self.start_vec(tg[0], out, ind)
            self.add_to(start, "_cs", "+", out, ind)
            out.append(f"{ind}{tg[1]} = map(add, {tg[2]}, _ct)")
            return
        for i in range(len(terms) - 1, -1, -1):
            if i == 0:
                self.add_to(start, "_cs", "+", out, ind)
            self.add_to(terms[i], f"_ct[{i}]", "+", out, ind)
