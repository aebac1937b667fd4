# The whole program of a tape in the line-by-line form: leaves, forward (with guards), loops,
# backward, storing .grad (see the package docstring).

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..codegen import comment, run_source
from ..engine import Value
from .loops import LoopWriter
from .names import num, program_env
from .tape import Guard, Tape

__all__ = ["Writer", "Written"]


class Written:
    """A generated program: its source, its function, the leaves it reads (in the order of
    ``_L``, then each loop's own leaves), the adjoint block of each node (by position in
    ``toposort(output)``: first and last line, 1-based) and the line seeding the output's adjoint."""

    __slots__ = ("source", "fn", "leaves", "blocks", "seed_line")

    def __init__(
        self,
        source: str,
        fn: Callable[[], float],
        leaves: tuple[Value, ...],
        blocks: dict[int, tuple[int, int]],
        seed_line: int,
    ) -> None:
        self.source, self.fn, self.leaves, self.blocks, self.seed_line = source, fn, leaves, blocks, seed_line


class Writer(LoopWriter):
    """Writes a tape as one function, ``program()``: read the leaves' .data and .grad, compute
    every node (checking each guard right after the last node it reads), then every adjoint
    in reverse order, and store the leaves' .grad."""

    def __init__(self, tape: Tape, compact: bool, guards: Sequence[Guard] = ()) -> None:
        super().__init__(tape, compact, loops=compact and not guards)
        self.guards = guards
        self.guard_at: dict[int, list[str]] = {}
        self.build_vectors()
        self.plan_fusion({x for g in guards for x in ((g.a, int(g.b)) if g.b_node else (g.a,))})

    def estimate_lines(self) -> int:
        """About how many lines the program will have."""
        looped = self.looped()
        return sum(
            2 + len(self.parents[k]) if k not in self.node_vecs else 4 for k in self.inner if k not in looped
        )

    def estimate_run(self, cost: dict[str, float]) -> float:
        """About how many seconds one run takes, from the costs of one line, one n-ary node
        written as list operations and one of its operands (`compiler.COST`)."""
        line, vec, elem = cost["line"], cost["vector"], cost["vector element"]
        nv = self.node_vecs
        return sum(
            vec + elem * len(self.parents[k]) if k in nv else line * (2 + len(self.parents[k]))
            for k in self.inner
        )

    def scalar_leaves(self) -> set[int]:
        """Leaves the program reads by name (the others only through whole vectors)."""
        ops = self.ops
        need = {p for k in self.inner for p in self.scalar_parents(k) if not ops[p]}
        if not ops[-1]:
            need.add(len(ops) - 1)
        for gd in self.guards:
            need.update(v for v in ((gd.a, gd.b) if gd.b_node else (gd.a,)) if not ops[int(v)])  # type: ignore[misc]
        return need

    def write_guards(self, ind: str) -> None:
        """Each guard goes right after the last inner node it reads (first, if it reads leaves only)."""
        nm, ops = self.name, self.ops
        for gi, gd in enumerate(self.guards):
            reads = [gd.a, int(gd.b)] if gd.b_node else [gd.a]
            at = max((r for r in reads if ops[r]), default=-1)
            rhs = nm[int(gd.b)] if gd.b_node else num(float(gd.b))
            test = f"{nm[gd.a]} {gd.op} {rhs}"
            self.guard_at.setdefault(at, []).extend(
                [
                    f"{ind}if {'not ' if gd.result else ''}({test}):  # guard: {comment(gd.site, 70)}",
                    f"{ind}    raise _GuardFailed({gi})",
                ]
            )

    def after_forward(self, k: int, out: list[str], ind: str) -> None:
        out.extend(self.guard_at.get(k, []))

    def forward_order(self) -> list[int]:
        """The inner nodes in the order the forward pass computes them: with guards, what each
        guard reads first (in the order the traced function compared), so that a failed guard
        stops the program before it computes what only another branch would (a domain error
        there would be none of fn's doing); then the rest. (The backward pass keeps the tape's
        order.)"""
        if not self.guards:
            return self.inner
        ops, parents = self.ops, self.parents
        done: set[int] = set()
        first: list[int] = []
        for gd in self.guards:
            got: list[int] = []
            stack = [gd.a, int(gd.b)] if gd.b_node else [gd.a]
            while stack:
                k = stack.pop()
                if k in done or not ops[k]:
                    continue
                done.add(k)
                got.append(k)
                stack.extend(parents[k])
            first += sorted(got)
        return first + [k for k in self.inner if k not in done]

    def program(self) -> Written:
        t, nm, ops = self.t, self.name, self.ops
        n = len(t)
        gradf = t.grad
        leaves = [k for k in range(n) if ops[k] == "" and k not in self.varying_leaf]
        # leaves whose adjoints live in a vector come first, vector by vector; then the rest
        in_vec: list[int] = []
        seen: set[int] = set()
        for vec in self.vecs.values():
            if vec.home and vec.leaves:
                in_vec.extend(vec.idx)
                seen.update(vec.idx)
        # (leaves that only guards read come last: their .grad is not stored)
        scalar = [k for k in leaves if k not in seen and gradf[k]] + [k for k in leaves if not gradf[k]]
        leaf_order = in_vec + scalar
        pos = {k: i for i, k in enumerate(leaf_order)}
        root = n - 1
        nleaves = sum(1 for o in ops if not o)
        out = [
            "def program():",
            f'    """The adjoint program of a graph of {t.nodes} nodes ({nleaves} leaves): forward, then',
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
        homes = []
        for vec in self.vecs.values():
            if vec.home and vec.leaves:
                a = pos[vec.idx[0]]
                out.append(f"{ind}{vec.name}_bar = list(map(_grad, _L[{a}:{a + len(vec.idx)}]))")
                homes.append(f"{vec.name}_bar")
        if self.node_vecs:
            nz = f"_negzero({', '.join(homes)})  # a leaf .grad of -0.0 (rare)" if homes else "False"
            out.append(f"{ind}_nz = {nz}")
        s0 = len(in_vec)
        for s in range(0, len(scalar), 8):
            chunk = scalar[s : s + 8]
            tgt = ", ".join(f"{nm[k]}_bar" for k in chunk)
            a = s0 + s
            out.append(f"{ind}{tgt}{',' if len(chunk) == 1 else ''} = map(_grad, _L[{a}:{a + len(chunk)}])")
        if any(self.skip_at(run) for run in self.runs):
            groups = ", ".join(
                ["_L", *(f"_V{ru}_{j}" for ru, run in enumerate(self.runs) for j in range(len(run.varying)))]
            )
            out.append(f"{ind}_calm0 = _calm({groups})  # every leaf finite, no .grad -0.0")
        for vec in self.vecs.values():  # vectors of shared leaves, built once
            if all(ops[i] == "" for i in vec.idx) and not any(i in self.varying_leaf for i in vec.idx):
                self.vec_value(vec, out, ind)
        out.append(f"{ind}# forward")
        env = program_env()
        self.write_guards(ind)
        out.extend(self.guard_at.get(-1, []))
        inner = self.inner
        fwd = self.forward_order()
        run_at = {run.s: (ru, run) for ru, run in enumerate(self.runs)}
        i = 0
        while i < len(fwd):
            hit = run_at.get(i)
            if hit is None:
                self.forward_line(fwd[i], out, ind)
                self.after_forward(fwd[i], out, ind)
                i += 1
                continue
            ru, run = hit
            self.forward_loop(ru, run, out, env)
            i += run.R * run.P
        out.append(f"{ind}# backward: adjoints in reverse order")
        for ru, run in enumerate(self.runs):
            for j in range(len(run.outputs)):
                out.append(f"{ind}_o{ru}_{j}_bar = [0.0] * {run.R}")
        if ops[root] == "":
            out.append(f"{ind}{nm[root]}_bar += 1.0")
        else:
            self.started[root] = True
            out.append(f"{ind}{nm[root]}_bar = 1.0")
        seed_line = len(out)
        if ops[root]:
            run_end = {run.s + run.R * run.P - 1: (ru, run) for ru, run in enumerate(self.runs)}
            i = len(inner) - 1
            while i >= 0:
                hit = run_end.get(i)
                if hit is None:
                    if gradf[inner[i]]:
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
                out.append(f"{ind}for _v, _g in zip(_L[{a}:{a + len(vec.idx)}], {vec.name}_bar):")
                out.append(f"{ind}    _v.grad = _g")
        stored = [k for k in scalar if gradf[k]]
        for s in range(0, len(stored), 64):
            chunk = stored[s : s + 64]
            a = s0 + s
            tup = ", ".join(f"{nm[k]}_bar" for k in chunk)
            out.append(f"{ind}for _v, _g in zip(_L[{a}:{a + len(chunk)}], ({tup},)):")
            out.append(f"{ind}    _v.grad = _g")
        out.append(f"{ind}return {nm[root]}")
        out.append("")
        src = "\n".join(out)
        leaves_t = tuple(t.leaves[k] for k in leaf_order)
        env["_L"] = leaves_t
        fn = run_source(src, "program", env).pop("program")
        blocks = {o: span for k, span in self.spans.items() for o in t.origin[k]}
        return Written(src, fn, leaves_t + tuple(t.leaves[k] for k in self.varying_leaf), blocks, seed_line)
