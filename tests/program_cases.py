"""Helpers for the program tests: bitwise comparison with backward(), random graphs of every op."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Value
from autograd.ops import OPS

Builder = Callable[[list[Value]], Value]


def same(a: float, b: float) -> bool:
    """Bitwise equal (and the same sign of zero), or both nan."""
    if a != a and b != b:
        return True
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def check_parity(
    build: Builder,
    data: list[float],
    new_data: Sequence[list[float]] = (),
    grads: float = 0.25,
    **kw: Any,
) -> autograd.Program:
    """compile(build(leaves)) then run() at `data` and each of `new_data` must give the value and
    the leaf .grads that rebuilding eagerly and calling backward() gives (both accumulating on
    top of `grads`)."""
    leaves = [Value(x) for x in data]
    out = build(leaves)
    prog = autograd.compile(out, **kw)
    for point in [data, *new_data]:
        ref = [Value(x) for x in point]
        ref_out = build(ref)
        for v in ref:
            v.grad = grads
        ref_out.backward()
        for v, x in zip(leaves, point):
            v.data = x
            v.grad = grads
        got = prog.run()
        assert same(got, ref_out.data), (got, ref_out.data, prog.source)
        for i, (a, b) in enumerate(zip(leaves, ref)):
            assert same(a.grad, b.grad), (i, a.grad, b.grad, prog.source)
    return prog


_SOFTSIGN: Callable[..., Value] | None = None


def softsign() -> Callable[..., Value]:
    """An op added with defop (once per test session)."""
    global _SOFTSIGN
    if _SOFTSIGN is None:
        name = "softsign_program_test"
        if name in OPS:
            op = OPS[name]
            _SOFTSIGN = lambda x: autograd.engine._apply(op, (x,))  # noqa: E731
        else:
            _SOFTSIGN = autograd.defop(
                name,
                lambda x: x / (1 + abs(x)),
                lambda m, z, x: (m.div(1.0, (1.0 + m.abs(x)) * (1.0 + m.abs(x))),),
            )
    return _SOFTSIGN


def random_graph(rng: random.Random, n_leaves: int, n_nodes: int, chains: bool = False) -> Builder:
    """A recipe for a random graph over every op, replayable on any leaves. With `chains`, some
    steps are chains of binary + - * (Python's sum, a - b - c, products), as users write them."""
    unary = [o for o in OPS.values() if o.arity == 1 and not o.nary and o.builtin]
    steps: list[tuple[str, Any, tuple[int, ...]]] = []
    path: list[int] = []  # where the recipe stepped around a domain error (differs by data)
    pool = n_leaves
    for _ in range(n_nodes):
        kind = rng.random()
        pick = lambda: rng.randrange(pool)  # noqa: E731, B023 (used at once)
        if chains and kind < 0.25:
            op = rng.choice(["chain+", "chain-", "chain*", "sumprod", "pysum", "rchain"])
            steps.append((op, None, tuple(pick() for _ in range(2 * rng.randrange(2, 9)))))
        elif kind < 0.35:
            op = rng.choice(["+", "-", "*", "/", "pow", "maximum", "minimum"])
            steps.append((op, None, (pick(), pick())))
        elif kind < 0.7:
            op = rng.choice(unary).name
            param: Any = None
            if op == "**":
                param = rng.choice([2.0, 3.0, 0.5, -1.0, 0.0, 1.0])
            elif op == "leaky_relu":
                param = 0.1
            elif op == "clamp":
                param = (-1.0, 1.5)
            steps.append((op, param, (pick(),)))
        elif kind < 0.8:
            steps.append(("where", None, (pick(), pick(), pick())))
        elif kind < 0.9:
            k = rng.randrange(1, 12)
            steps.append(("sum", None, tuple(pick() for _ in range(k))))
        elif kind < 0.97:
            k = rng.randrange(1, 12)
            steps.append(("dot", None, tuple(pick() for _ in range(2 * k))))
        else:
            steps.append(("softsign", None, (pick(),)))
        pool += 1

    def build(leaves: list[Value]) -> Value:
        vals: list[Value] = list(leaves)
        path.clear()
        for op, param, args in steps:
            a = [vals[i] for i in args]
            try:
                v = _step(op, param, a, path, len(vals))
            except (ValueError, ZeroDivisionError):
                v = a[0] + 1.0
                path.append(-len(vals))
            vals.append(v)
        return autograd.sum(vals[n_leaves:][-5:]) if len(vals) > n_leaves else vals[0]

    build.path = path  # type: ignore[attr-defined]
    return build


def _step(op: str, param: Any, a: list[Value], path: list[int], at: int) -> Value:
    h = len(a) // 2
    if op == "chain+":
        v = a[0]
        for x in a[1:]:
            v = v + x
        return v
    if op == "chain-":
        v = a[0]
        for x in a[1:]:
            v = v - x
        return v
    if op == "rchain":  # x_n + (... + (x_2 + x_1)), and the products likewise
        v = a[0]
        for x, y in zip(a[1:h], a[h + 1 :]):
            v = x * y + v if len(a) % 4 else x + v
        return v
    if op == "chain*":
        v = a[0]
        for x in a[1:h]:
            v = v * x
        return v
    if op == "sumprod":  # micrograd's neuron: sum((w * x for ...), b)
        return sum((w * x for w, x in zip(a[1:h], a[h + 1 :])), a[0])
    if op == "pysum":  # Python's sum from 0
        return sum(x * x for x in a[:h]) + sum(a[h:])
    if op == "sum":
        return autograd.sum(a)
    if op == "dot":
        return autograd.dot(a[:h], a[h:])
    if op == "softsign":
        return softsign()(a[0])
    if op in ("maximum", "minimum", "where"):
        return getattr(autograd, op)(*a)  # type: ignore[no-any-return]
    o = OPS[op]
    if o.check is not None and o.check(*[x.data for x in a], *([param] if o.param else [])):
        path.append(at)
        return a[0] * 1.5  # outside the op's domain here: another node instead
    return autograd.engine._apply(o, tuple(a), param)


def domain_ok(build: Builder, point: list[float], data: list[float]) -> bool:
    """The eager graph at `point` is the graph built at `data` (no op stepped around)."""
    build([Value(x) for x in data])
    want = list(build.path)  # type: ignore[attr-defined]
    build([Value(x) for x in point])
    return list(build.path) == want  # type: ignore[attr-defined]


def moons_loss(model: Any, X: list[list[float]], y: list[int]) -> Value:
    import nn

    scores = [model(x) for x in X]
    return nn.hinge(scores, y) + nn.l2(model.parameters(), 1e-4)
