# Repeated blocks of a graph (one training example after another) written once, as a loop (see
# the package docstring).

from __future__ import annotations

from collections import Counter
from typing import Any

from .tape import Tape
from .vectors import VecWriter

__all__ = ["Run", "find_runs", "LoopWriter", "FLAT_SAFE"]

#: ops whose local derivatives are finite wherever their inputs and output are: a block made of
#: them, with finite numbers and adjoints all 0, passes on only zeros (see `LoopWriter.skips`)
FLAT_SAFE = frozenset(
    (
        "+",
        "-",
        "*",
        "neg",
        "sum",
        "dot",
        "lin",
        "prod",
        "relu",
        "leaky_relu",
        "abs",
        "sign",
        "tanh",
        "sigmoid",
        "softplus",
        "silu",
        "gelu",
        "erf",
        "exp",
        "sin",
        "cos",
        "atan",
        "maximum",
        "minimum",
        "where",
        "clamp",
    )
)


_ZEROING = frozenset(("relu", "clamp", "where", "maximum", "minimum", "sign"))


class Run:
    """R repeated blocks of P inner nodes (positions s.. in the list of inner nodes), written as a
    loop: same ops, parents inside the block at the same offsets, or the same shared leaves, or
    one leaf of its own per block (``varying``: an input of one training example)."""

    def __init__(self, s: int, P: int, R: int) -> None:
        self.s, self.P, self.R = s, P, R
        self.outputs: list[int] = []  # positions whose node is used after the loop
        self.varying: list[tuple[int, int]] = []  # (position, argument) of each block's own leaf
        self.vnames: list[str] = []
        self.locals_: list[str] = []
        self.saved: list[str] = []


def find_runs(t: Tape, inner: list[int]) -> list[Run]:
    """The repeated blocks of the tape's inner nodes, longest coverage first."""
    ops, parents, args = t.ops, t.parents, t.args
    m = len(inner)
    pos = {k: i for i, k in enumerate(inner)}
    nuses = [0] * len(ops)
    for k in inner:
        for p in parents[k]:
            nuses[p] += 1
    sig = []
    for i, k in enumerate(inner):
        d = tuple(i - pos[p] if ops[p] else -1 for p in parents[k])
        a = args[k]
        sig.append((ops[k], "" if a is None else repr(a), d))
    last: dict[Any, int] = {}
    gaps: Counter[int] = Counter()
    for i, sg in enumerate(sig):
        j = last.get(sg)
        if j is not None:
            gaps[i - j] += 1
        last[sg] = i
    runs: list[Run] = []
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
                found = _verify(t, inner, s0, P, R, pos, nuses)
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


def _verify(
    t: Tape, inner: list[int], s: int, P: int, R: int, pos: dict[int, int], nuses: list[int]
) -> Run | None:
    ops, parents = t.ops, t.parents
    run = Run(s, P, R)
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


class LoopWriter(VecWriter):
    """A VecWriter that writes repeated blocks once, as a loop (the compact form only)."""

    def __init__(self, tape: Tape, compact: bool, loops: bool) -> None:
        super().__init__(tape, compact)
        self.runs: list[Run] = find_runs(tape, self.inner) if loops else []
        inner = self.inner
        for run in self.runs:
            for r in range(run.R):
                for i in range(run.P):
                    self.run_of[inner[run.s + r * run.P + i]] = (run, r, i)
        for ru, run in enumerate(self.runs):
            for j, i in enumerate(run.outputs):
                nodes = tuple(inner[run.s + r * run.P + i] for r in range(run.R))
                self.output_lists[nodes] = f"_o{ru}_{j}"
                for r, k in enumerate(nodes):
                    self.home_expr[k] = f"_o{ru}_{j}_bar[{'r' if r == 0 else r}]"
                    if r:
                        self.name[k] = f"_o{ru}_{j}[{r}]"
            for i, a in run.varying:
                p0 = self.parents[inner[run.s + i]][a]
                run.vnames.append(self.name[p0])
                for r in range(run.R):
                    self.varying_leaf.add(self.parents[inner[run.s + r * run.P + i]][a])
        for k in self.home_expr:
            self.started[k] = True

    def looped(self) -> set[int]:
        """Inner nodes of blocks 1.. of each loop (not written: the loop body is block 0)."""
        inner = self.inner
        return {
            k
            for run in self.runs
            for r in range(1, run.R)
            for k in inner[run.s + r * run.P : run.s + (r + 1) * run.P]
        }

    def block0(self, run: Run) -> list[int]:
        return [self.inner[run.s + i] for i in range(run.P)]

    def outside_names(self, ru: int, run: Run, outside: bool) -> None:
        """Block 0's outputs: loop locals inside the loop, list items (index 0) outside it."""
        for j, i in enumerate(run.outputs):
            k = self.inner[run.s + i]
            if outside:
                self.name[k] = f"_o{ru}_{j}[0]"
                self.home_expr[k] = f"_o{ru}_{j}_bar[0]"
            else:
                self.name[k] = run.locals_[j]
                self.home_expr[k] = f"_o{ru}_{j}_bar[r]"

    def forward_loop(self, ru: int, run: Run, out: list[str], env: dict[str, Any]) -> None:
        nm = self.name
        run.locals_ = [nm[self.inner[run.s + i]] for i in run.outputs]
        out.append(f"    # {run.R} blocks of {run.P} nodes each (one example after another), as a loop")
        for j in range(len(run.outputs)):
            out.append(f"    _o{ru}_{j} = []")
        out.append(f"    _tape{ru} = []")
        out.append(f"    for r in range({run.R}):")
        ind = "        "
        for j, (i, a) in enumerate(run.varying):
            env[f"_V{ru}_{j}"] = tuple(
                self.t.leaves[self.parents[self.inner[run.s + r * run.P + i]][a]] for r in range(run.R)
            )
            out.append(f"{ind}{run.vnames[j]} = _V{ru}_{j}[r]._data")
        body: list[str] = []
        for k in self.block0(run):
            self.forward_line(k, body, ind)
            self.after_forward(k, body, ind)
        out.extend(body)
        assigned = list(dict.fromkeys(ln.strip().split(" = ", 1)[0] for ln in body if " = " in ln))
        run.saved = [a for a in assigned if a.isidentifier()]
        for j, i in enumerate(run.outputs):
            out.append(f"{ind}_o{ru}_{j}.append({nm[self.inner[run.s + i]]})")
        out.append(f"{ind}_tape{ru}.append(({', '.join(run.saved)},))")
        self.outside_names(ru, run, True)

    def after_forward(self, k: int, out: list[str], ind: str) -> None:
        """Lines that follow node k's forward line (guards)."""

    def skip_at(self, run: Run) -> tuple[int, list[int]] | None:
        """Where the rest of a block's backward pass may be skipped when the adjoints still to
        pass on are all 0: (how many of its nodes come before, which nodes' adjoints). Its
        contributions would then all be ±0.0 (every local derivative left is finite, every number
        is finite: `_flat`), which change no sum unless it is -0.0, and no leaf's .grad is -0.0
        (`_calm`, checked once: a sum of numbers that are not -0.0 is never -0.0). So an example
        whose loss is flat (a hinge loss past its margin) costs almost nothing."""
        nodes = list(reversed(self.block0(run)))
        inblock = set(nodes)
        safe_from = len(nodes)
        while safe_from and self.ops[nodes[safe_from - 1]] in FLAT_SAFE:
            safe_from -= 1
        pending = {self.inner[run.s + i] for i in run.outputs}
        first = None
        for i, k in enumerate(nodes):
            if i >= safe_from and 0 < len(pending) <= 4:
                # best right after an op whose derivative is often 0 (relu, clamp, ...)
                if i and self.ops[nodes[i - 1]] in _ZEROING:
                    return i, sorted(pending)
                first = first or (i, sorted(pending))
            pending.discard(k)
            pending.update(p for p in self.parents[k] if p in inblock)
        return first

    def backward_loop(self, ru: int, run: Run, out: list[str]) -> None:
        self.outside_names(ru, run, False)
        ind = "        "
        out.append(f"    # the loop's {run.R} blocks, last first")
        out.append(f"    for r in range({run.R - 1}, -1, -1):")
        cut = self.skip_at(run)
        out.append(f"{ind}({', '.join(run.saved)},) = _tape{ru}[r]")
        for j in range(len(run.varying)):
            out.append(f"{ind}{run.vnames[j]} = _V{ru}_{j}[r]._data")
            out.append(f"{ind}{run.vnames[j]}_bar = _V{ru}_{j}[r].grad")
        for i, k in enumerate(reversed(self.block0(run))):
            if cut is not None and i == cut[0]:
                live = " or ".join(self.bar(p) for p in cut[1])
                out.append(f"{ind}if _calm0 and not ({live}) and _flat(_tape{ru}[r]):")
                out.append(f"{ind}    continue  # the adjoints left are 0: the rest would add only zeros")
            self.backward_block(k, out, ind)
        for j in range(len(run.varying)):
            out.append(f"{ind}_V{ru}_{j}[r].grad = {run.vnames[j]}_bar")
        self.outside_names(ru, run, True)
