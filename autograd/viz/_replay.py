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
    receives ``adjoint * local``; its running total goes from `before` to `after`."""

    position: int
    parent: int
    local: float
    carried: float
    before: float
    after: float


@dataclass(frozen=True)
class Step:
    """Reverse accumulation reaching ``order[node]``, whose adjoint is now complete."""

    node: int
    adjoint: float
    contributions: tuple[Contribution, ...]


def reverse_steps(order: list[Value], seed: float = 1.0) -> tuple[list[Step], list[float]]:
    """Replay reverse accumulation over `order` (root last) without touching any ``.grad``.

    Returns one step per node in visiting order (root first; a leaf's step has no
    contributions) and the final adjoint of every node (d root / d order[i], times `seed`).
    """
    index = {v: i for i, v in enumerate(order)}
    made: list[list[Contribution]] = [[] for _ in order]
    seen: list[float] = [0.0] * len(order)

    def observe(
        node: Value, adjoint: float, k: int, parent: Value, local: float, carried: float,
        before: float, after: float,
    ) -> None:
        i = index[node]
        seen[i] = adjoint
        made[i].append(
            Contribution(k, index[parent], float(local), float(carried), float(before),
                         float(after))
        )

    adj = [float(a) for a in sweep(order, seed, observe=observe)]
    steps = [
        Step(i, seen[i] if made[i] else adj[i], tuple(made[i]))
        for i in range(len(order) - 1, -1, -1)
    ]
    return steps, adj
