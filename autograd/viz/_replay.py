"""Reverse accumulation replayed step by step, for the adjoint picture, the tape and the stepper.

The replay is the engine's own chain-rule sweep (`autograd.backprop.sweep`), observed: every
``.grad`` is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backprop import sweep
from ..engine import Value

__all__ = ["Contribution", "Step", "reverse_steps"]


@dataclass(frozen=True)
class Contribution:
    """One chain-rule product: parent ``order[parent]`` (argument `position` of the node)
    receives ``adjoint * local``; its running total goes from `before` to `after`. A
    `structural` zero (relu at x <= 0, the untaken side of where, ...) has local 0 and adds
    nothing: not even ``inf * 0``."""

    position: int
    parent: int
    local: float
    carried: float
    before: float
    after: float
    structural: bool = False


@dataclass(frozen=True)
class Step:
    """Reverse accumulation reaching ``order[node]``, whose adjoint is now complete."""

    node: int
    adjoint: float
    contributions: tuple[Contribution, ...]


def reverse_steps(order: list[Value], seed: float = 1.0) -> tuple[list[Step], list[float]]:
    """Replay reverse accumulation over `order` (root last) without touching any ``.grad``.

    Returns one step per node in visiting order (root first; a leaf's step has no
    contributions, an op node's one per argument) and the final adjoint of every node
    (d root / d order[i], times `seed`).
    """
    index = {v: i for i, v in enumerate(order)}
    made: dict[tuple[int, int], Contribution] = {}

    def observe(
        node: Value, adjoint: float, k: int, parent: Value, local: float, carried: float,
        before: float, after: float,
    ) -> None:
        made[(index[node], k)] = Contribution(
            k, index[parent], float(local), float(carried), float(before), float(after)
        )

    adj = [float(a) for a in sweep(order, seed, observe=observe)]
    # The sweep does not report a structural zero (it adds nothing); it is put in its place
    # here, leaving its parent's running total as it was at that moment.
    total = [0.0] * len(order)
    steps = []
    for i in range(len(order) - 1, -1, -1):
        cs = []
        for k, p in enumerate(order[i]._prev):
            c = made.get((i, k))
            if c is None:
                t = total[index[p]]
                c = Contribution(k, index[p], 0.0, 0.0, t, t, structural=True)
            total[c.parent] = c.after
            cs.append(c)
        steps.append(Step(i, adj[i], tuple(cs)))
    return steps, adj
