# The tape: a graph in topological order as plain lists (see the package docstring).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import Value

__all__ = ["Tape", "Guard", "tape_of"]


@dataclass(eq=False)
class Tape:
    """A graph in topological order: node k's parents are nodes before k, the output is last.

    ``ops[k]`` is "" for a leaf, else the name of an op in `autograd.ops.OPS`, or "lin" / "prod"
    for a chain of binary ``+``/``-`` or ``*`` written as one node (`autograd.programs.chains`);
    ``parents[k]`` are the parents' positions in argument order (as ``Value._prev``); ``args[k]``
    is the op's constant parameter (the exponent of ``x ** 2``; a chain's `Lin` or `Prod`);
    ``labels[k]`` the node's label; ``leaves`` the leaf Values by position (parameters, inputs and
    constants: the only Values a tape keeps, so it never holds a graph alive).

    ``grad[k]`` is False for a node that only the forward pass needs (an operand of a guard off
    the output's path: it gets no adjoint). ``origin[k]`` are the positions in
    ``toposort(output)`` of the nodes that node k computes (one, or a whole chain; -1, -2, ...
    for the nodes only the forward pass needs).
    """

    ops: list[str]
    parents: list[tuple[int, ...]]
    args: list[Any]
    labels: list[str]
    leaves: dict[int, Value]
    grad: list[bool]
    origin: list[tuple[int, ...]]
    nodes: int = 0  # how many nodes toposort(output) has

    def __len__(self) -> int:
        return len(self.ops)

    def number(self, k: int) -> int:
        """Node k's number in ``toposort(output)`` (as in pictures: ``%6``); past the end for a
        node only the forward pass needs."""
        o = self.origin[k][0]
        return o if o >= 0 else self.nodes - 1 - o


@dataclass(frozen=True)
class Guard:
    """A comparison that `trace` saw: ``tape[a] op b`` came out `result` (b: a node or a number);
    `site` is the line of the traced function that made it."""

    a: int
    op: str
    b: int | float
    b_node: bool
    result: bool
    site: str


def tape_of(
    order: Sequence[Value], extra: Sequence[Value] = (), index: dict[Value, int] | None = None
) -> Tape:
    """The tape of ``order`` (``toposort(output)``) and of ``extra``: nodes the forward pass
    must also compute (guards read them) though the output does not depend on them.

    Each extra node is placed right after the last node it reads, so that a guard on it can be
    checked as early as possible; the nodes of ``order`` keep their relative order, so the
    backward pass is the one ``output.backward()`` runs. `index`, if given, receives each
    node's position on the tape.
    """
    nodes = list(order)
    grad = [True] * len(nodes)
    if extra:
        nodes, grad = _merge(nodes, extra)
    if index is None:
        index = {}
    index.update((v, k) for k, v in enumerate(nodes))
    get = index.__getitem__
    origin: list[tuple[int, ...]]
    if extra:
        at = {v: k for k, v in enumerate(order)}
        extra_no = iter(range(-1, -len(nodes) - 1, -1))
        origin = [(at[v],) if g else (next(extra_no),) for v, g in zip(nodes, grad)]
    else:
        origin = [(k,) for k in range(len(nodes))]
    return Tape(
        ops=[v._op for v in nodes],
        parents=[tuple(map(get, v._prev)) for v in nodes],
        args=[v._arg for v in nodes],
        labels=[v._label for v in nodes],
        leaves={k: v for k, v in enumerate(nodes) if not v._op},
        grad=grad,
        origin=origin,
        nodes=len(order),
    )


def _merge(order: list[Value], extra: Sequence[Value]) -> tuple[list[Value], list[bool]]:
    from ..backprop import toposort

    have = set(order)
    pos = {v: k for k, v in enumerate(order)}
    after: dict[int, list[Value]] = {}  # position in order -> extra nodes to place after it
    placed: dict[Value, int] = {}
    for root in extra:
        for v in toposort(root):
            if v in have or v in placed:
                continue
            at = max((pos[p] if p in pos else placed[p] for p in v._prev), default=-1)
            placed[v] = at
            after.setdefault(at, []).append(v)
    nodes: list[Value] = list(after.get(-1, []))
    grad = [False] * len(nodes)
    for k, v in enumerate(order):
        nodes.append(v)
        grad.append(True)
        more = after.get(k, ())
        nodes.extend(more)
        grad.extend([False] * len(more))
    return nodes, grad
