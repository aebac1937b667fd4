# The tape: a graph in topological order as plain lists (see the package docstring).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter, not_
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
    n = len(nodes)
    if index is None:
        index = {}
    index.update(zip(nodes, range(n)))
    origin: list[tuple[int, ...]]
    if extra:
        at = {v: k for k, v in enumerate(order)}
        extra_no = iter(range(-1, -len(nodes) - 1, -1))
        origin = [(at[v],) if g else (next(extra_no),) for v, g in zip(nodes, grad)]
    else:
        origin = [(k,) for k in range(n)]
    ops = list(map(_OP, nodes))
    return Tape(
        ops=ops,
        parents=_parents(nodes, index),
        args=list(map(_ARG, nodes)),
        labels=list(map(_LABEL, nodes)),
        leaves={k: nodes[k] for k in compress(range(n), map(not_, ops))},
        grad=grad,
        origin=origin,
        nodes=len(order),
    )


_OP, _ARG, _LABEL, _X, _Y = (attrgetter(a) for a in ("_op", "_arg", "_label", "_x", "_y"))


def _parents(nodes: list[Value], index: dict[Value, int]) -> list[tuple[int, ...]]:
    """Each node's parents' positions (as ``Value._prev``): the pairs of the binary nodes (most
    of them) are made at C speed, the others one by one."""
    get = index.get
    xs, ys = list(map(_X, nodes)), list(map(_Y, nodes))
    out: list[tuple[int, ...]] = list(zip(map(get, xs), map(get, ys)))  # type: ignore[arg-type]
    for k in compress(range(len(nodes)), map(_odd, xs, ys)):
        out[k] = tuple(map(index.__getitem__, nodes[k]._prev))
    return out


def _odd(x: object, y: object) -> bool:
    """Not a node of two parents held in _x and _y."""
    return x is None or y is None or x.__class__ is tuple


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


def is_number(x: Any) -> bool:
    """A real number an example may hold: int or float (not bool), or a numpy scalar of that kind."""
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float)):
        return True
    return getattr(x, "ndim", None) == 0 and getattr(getattr(x, "dtype", None), "kind", "") in ("i", "u", "f")


def flatten(x: Any, where: str, out: list[float], caller: str) -> Any:
    """The numbers of a nested list in order (appended to `out`), and its shape (None for a number)."""
    if isinstance(x, (list, tuple)):
        return [flatten(e, f"{where}[{i}]", out, caller) for i, e in enumerate(x)]
    if not is_number(x):
        raise TypeError(
            f"{caller}: {where} must be a number or a list of numbers, got {type(x).__name__} {x!r:.40}"
        )
    out.append(float(x))
    return None


def build(shape: Any, it: Any) -> Any:
    """The nested list of `shape` (from `flatten`) filled with the numbers of the iterator `it`."""
    if shape is None:
        return next(it)
    return [build(s, it) for s in shape]
