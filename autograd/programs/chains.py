# Chains of binary + - * rewritten into n-ary nodes, bit for bit (see the package docstring).

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Collection
from itertools import accumulate, chain, compress
from typing import Any, NamedTuple

from .tape import Tape

__all__ = ["Lin", "Prod", "rewrite", "MIN_TERMS"]

#: the fewest terms a chain needs to become one node
MIN_TERMS = 2

_KINDS = {"+": 1, "-": 1, "*": 2}  # ops that chain, by kind
_ADDS = frozenset(("+", "-"))


class Lin(NamedTuple):
    """A chain ``start ± t_1 ± ... ± t_n`` as one node (op "lin"), added left to right.

    ``start``: the first parent is where the additions start (without one they start from -0.0,
    which changes no number); ``neg``: every term is subtracted; ``prod``: every term is a
    product ``w_i * x_i``, and the parents are ``(start?, w_1..w_n, x_1..x_n)``, else
    ``(start?, t_1..t_n)``."""

    start: bool
    neg: bool
    prod: bool


class Prod(NamedTuple):
    """A chain ``start * t_1 * ... * t_n`` as one node (op "prod"); parents ``(start, t_1..t_n)``."""

    n: int


_Node = tuple[str, Any, tuple[int, ...], tuple[int, ...]]  # op, spec, parents, members


def rewrite(
    tape: Tape, keep: Collection[int] = (), min_terms: int = MIN_TERMS, products: bool = True
) -> Tape:
    """The tape with its chains of binary ``+``/``-`` (and of ``*``) as "lin" (and "prod") nodes.

    A chain is ``s_k = s_(k-1) ± t_k`` where each ``s_(k-1)`` is a ``+``/``-`` node used only
    by ``s_k``; a term ``t_k = w_k * x_k`` used only by ``s_k`` becomes a product term. The new
    node computes the same additions in the same order, and its backward pass gives every
    parent the same contributions: ``backward()`` gives them while it walks from ``s_n`` down to
    ``s_1``, and the new node gives them all at ``s_n``'s place, which changes no sum only if no
    other node adds into those parents in between. Chains where some node does are left as
    they are. `keep`: nodes whose values are read elsewhere (guards): never inside a chain.
    ``products``: rewrite chains of ``*`` too.
    """
    if len(tape) < 3:
        return tape
    rw = _Rewriter(tape, keep, min_terms)
    rw.sums()
    if products:
        rw.products()
    return rw.rebuilt() if rw.new else tape


class _Rewriter:
    def __init__(self, tape: Tape, keep: Collection[int], min_terms: int) -> None:
        self.tape = tape
        self.min_terms = min_terms
        ops, parents, grad = tape.ops, tape.parents, tape.grad
        n = len(tape)
        uses = Counter(chain.from_iterable(parents))
        uses[n - 1] += 1
        for k in keep:
            uses[k] += 1
        self.nuse = nuse = list(map(uses.__getitem__, range(n)))
        # up[a]: the node that continues a's chain (a is its operand, used only there: the left
        # one, or the right one of a + or * whose left one does not continue a chain, since
        # x + y is y + x exactly); link[k]: which operand of k continues the chain
        up = [-1] * n
        link = bytearray(n)
        self.cands = {
            1: list(compress(range(n), map(_ADDS.__contains__, ops))),
            2: list(compress(range(n), map("*".__eq__, ops))),
        }
        for kind, ks in self.cands.items():
            for k in ks:
                ps = parents[k]
                for side in (0, 1) if ops[k] != "-" else (0,):
                    a = ps[side]
                    if nuse[a] == 1 and _KINDS.get(ops[a]) == kind and grad[a] == grad[k]:
                        up[a] = k
                        link[k] = side
                        break
        self.up, self.link = up, link
        # inner[k]: how many inner nodes come before k (an interval of the tape holding inner nodes
        # of one chain only is clean without looking further)
        self.inner = list(accumulate(map(bool, ops), initial=0))
        self.gone = bytearray(n)  # absorbed into a chain node
        self.new: dict[int, _Node] = {}  # the chain's last node -> the node that replaces it
        self._cons: list[list[int]] | None = None

    def consumers(self) -> list[list[int]]:
        """The nodes that read each node, in order (built when first needed)."""
        if self._cons is None:
            cons: list[list[int]] = [[] for _ in self.nuse]
            for k, ps in enumerate(self.tape.parents):
                for p in ps:
                    cons[p].append(k)
            self._cons = cons
        return self._cons

    def alone(self, lo: int, end: int, members: int) -> bool:
        """Nothing but the chain's own nodes (and leaves) from lo to end."""
        return self.inner[end + 1] - self.inner[lo] == members

    def clean(self, contribs: list[tuple[int, int]], members: set[int], end: int) -> bool:
        """No node outside the chain adds into a parent between its contribution and the end.

        `contribs`: (parent, the chain node that backward() passes its contribution from)."""
        cons = self.consumers()
        for acc, at in contribs:
            c = cons[acc]
            for u in c[bisect_right(c, at) : bisect_left(c, end)]:
                if u not in members:
                    return False
        return True

    def chain(self, e: int) -> list[int]:
        """The chain that ends at e, first node first."""
        parents, up, gone, link = self.tape.parents, self.up, self.gone, self.link
        members = [e]
        a = parents[e][link[e]]
        while up[a] >= 0 and not gone[a]:
            members.append(a)
            a = parents[a][link[a]]
        members.reverse()
        return members

    def term(self, s: int) -> int:
        """The operand of chain node s that is not the chain."""
        return self.tape.parents[s][1 - self.link[s]]

    def ends(self, kind: int) -> list[int]:
        """The last nodes of chains of one kind (+/- or *), whose chain continues nowhere."""
        up, gone = self.up, self.gone
        return [k for k in self.cands[kind] if not gone[k] and (up[k] < 0 or gone[up[k]])]

    def sums(self) -> None:
        for e in self.ends(1):
            members = self.chain(e)
            if len(members) >= self.min_terms:
                self.sum_chain(members)

    def sum_chain(self, members: list[int]) -> None:
        """One chain of +/- nodes, split into runs of like terms (same sign, product or not);
        each run with enough terms becomes one node."""
        ops, parents, grad = self.tape.ops, self.tape.parents, self.tape.grad
        nuse = self.nuse

        def product(t: int, s: int) -> bool:  # a * node used only by s
            return ops[t] == "*" and nuse[t] == 1 and grad[t] == grad[s]

        kinds = [(ops[s] == "-", product(self.term(s), s)) for s in members]
        start = parents[members[0]][0]
        # a start that is itself a product used only here joins a first run of products
        start_term = kinds[0] == (False, True) and product(start, members[0])
        i = 0
        prev = start  # the node the current run starts from
        while i < len(members):
            j = i
            while j + 1 < len(members) and kinds[j + 1] == kinds[i]:
                j += 1
            run = members[i : j + 1]
            lead = i == 0 and start_term
            self.sum_run(run, prev, lead, *kinds[i])
            prev = run[-1]
            i = j + 1

    def sum_run(self, run: list[int], start: int, lead: bool, neg: bool, prod: bool) -> None:
        parents = self.tape.parents
        terms = [self.term(s) for s in run]
        if lead:
            terms.insert(0, start)
        if len(terms) < self.min_terms:
            return
        end = run[-1]
        if prod:
            ws = tuple(parents[t][0] for t in terms)
            xs = tuple(parents[t][1] for t in terms)
            body = ws + xs
            members = set(run)
            members.update(terms)
            if not self.alone(min(terms), end, len(members)):
                contribs = [] if lead else [(start, run[0])]
                for t, w, x in zip(terms, ws, xs):
                    contribs += [(w, t), (x, t)]
                if not self.clean(contribs, members, end):
                    return
        else:
            body = tuple(terms)
            members = set(run)
            if not self.alone(run[0], end, len(members)):
                contribs = [(start, run[0]), *zip(terms, run)]
                if not self.clean(contribs, members, end):
                    return
        for m in members:
            if m != end:
                self.gone[m] = 1
        self.new[end] = (
            "lin",
            Lin(not lead, neg, prod),
            body if lead else (start, *body),
            tuple(sorted(members)),
        )

    def products(self) -> None:
        parents = self.tape.parents
        for e in self.ends(2):
            members = self.chain(e)
            if len(members) < self.min_terms:
                continue
            start = parents[members[0]][0]
            terms = [self.term(s) for s in members]
            contribs = [(start, members[0]), *zip(terms, members)]
            if not self.alone(members[0], e, len(members)) and not self.clean(contribs, set(members), e):
                continue
            for s in members[:-1]:
                self.gone[s] = 1
            self.new[e] = ("prod", Prod(len(terms)), (start, *terms), tuple(members))

    def rebuilt(self) -> Tape:
        t, gone, new = self.tape, self.gone, self.new
        keep = [k for k, g in enumerate(gone) if not g]
        pos = dict(zip(keep, range(len(keep))))
        get = pos.__getitem__
        out = Tape(
            ops=[t.ops[k] for k in keep],
            parents=[() if k in new else tuple(map(get, t.parents[k])) for k in keep],
            args=[t.args[k] for k in keep],
            labels=[t.labels[k] for k in keep],
            leaves={pos[k]: v for k, v in t.leaves.items()},
            grad=[t.grad[k] for k in keep],
            origin=[t.origin[k] for k in keep],
            nodes=t.nodes,
        )
        for k, (op, spec, ps, members) in new.items():
            j = pos[k]
            out.ops[j] = op
            out.parents[j] = tuple(map(get, ps))
            out.args[j] = spec
            out.origin[j] = t.origin[k] + tuple(o for m in members if m != k for o in t.origin[m])
        return out
