"""autograd.compile: programs are bit for bit what backward() computes, for every op, special
values, infinite and nan adjoints, and the chains of binary + - * that Python's sum writes."""

from __future__ import annotations

import functools
import math
import operator
import random
from typing import Any

import pytest

import autograd
import autograd.programs.compiler as C
from autograd import Value
from tests.graphs import article_neuron
from tests.program_cases import check_parity, domain_ok, moons_loss, random_graph, same

INF, NAN = math.inf, math.nan
SEEDS = (1.0, -2.5, INF, -INF, NAN, 0.0, -0.0)


@pytest.fixture(params=["lines", "compact"])
def form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The line-by-line form, and the compact one (chains of two terms rewritten, loops)."""
    if request.param == "compact":
        monkeypatch.setattr(C, "READABLE_MAX", 0)
    return str(request.param)


# ---------------------------------------------------------------------------------------------
# the neuron
# ---------------------------------------------------------------------------------------------


def test_neuron_program_reads_like_the_chain_rule_and_matches_backward() -> None:
    o, v = article_neuron()
    prog = autograd.compile(o)
    src = prog.source
    # forward statements named after labels, adjoints after their primals, blocks headed by a
    # comment naming the forward statement
    assert "o = tanh(n)" in src
    assert "# o = tanh(n)\n    n_bar = 0.0 + o_bar * (1.0 - o * o)" in src
    assert "b_bar += n_bar" in src
    assert src.index("# forward") < src.index("# backward")
    assert prog.form == "lines"
    value = prog.run()
    grads = {k: x.grad for k, x in v.items() if not x._op}
    o2, v2 = article_neuron()
    o2.backward()
    assert same(value, o2.data)
    for k, g in grads.items():
        assert same(g, v2[k].grad), k
    # run() accumulates like backward(): twice adds twice
    prog.run()
    assert v["w1"].grad == 2 * grads["w1"]


def test_run_sees_new_leaf_data_and_ops_branch_at_run_time(form: str) -> None:
    # relu, abs, maximum, where, clamp branch inside the program: the sign changes between runs
    def build(v: list[Value]) -> Value:
        x, y, c = v
        a = autograd.maximum(x, y) + abs(x - y) + (x * y).relu()
        b = autograd.where(c, x * x, y.leaky_relu(0.2)) + x.clamp(-0.5, 0.5)
        return a * b + autograd.minimum(x, c)

    check_parity(build, [1.0, -2.0, 0.5], [[-1.0, 2.0, -0.5], [0.3, 0.3, 0.0], [-0.0, 0.0, 2.0]])


def test_domain_errors_are_raised_as_eagerly() -> None:
    x = Value(2.0)
    prog = autograd.compile(x.log() + 1 / x)
    x.data = -1.0
    with pytest.raises(ValueError, match="log: input must be > 0"):
        prog.run()
    x.data = 0.0
    with pytest.raises((ZeroDivisionError, ValueError)):
        prog.run()


def test_a_leaf_output_and_a_compile_of_a_non_value() -> None:
    x = Value(3.0)
    prog = autograd.compile(x)
    assert prog.run() == 3.0 and x.grad == 1.0
    with pytest.raises(TypeError, match="expected a Value"):
        autograd.compile(3.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# random graphs of every op
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_of_every_op_agree_bitwise(seed: int) -> None:
    rng = random.Random(seed)
    build = random_graph(rng, 4, rng.randrange(3, 40))
    data = [rng.choice([rng.uniform(-2, 2), 0.0, 1.0, 0.5, -1.0]) for _ in range(4)]
    new = [[rng.uniform(-2, 2) for _ in range(4)] for _ in range(2)]
    # the same random graph, on data it was built at and on new data
    try:
        check_parity(build, data, [p for p in new if domain_ok(build, p, data)])
    except (ValueError, ZeroDivisionError) as e:  # a domain error at the original data
        pytest.fail(f"{e}")
    check_parity(build, data, batched=True)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_with_chains_agree_bitwise_in_every_form(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(1000 + seed)
    build = random_graph(rng, 5, rng.randrange(3, 30), chains=True)
    data = [rng.choice([rng.uniform(-2, 2), 0.0, -0.0, 1.0, 0.5, -1.0]) for _ in range(5)]
    new = [[rng.uniform(-2, 2) for _ in range(5)] for _ in range(2)]
    new = [p for p in new if domain_ok(build, p, data)]
    check_parity(build, data, new)
    check_parity(build, data, new, grads=-0.0)
    check_parity(build, data, batched=True)
    monkeypatch.setattr(C, "READABLE_MAX", 0)  # compact: every chain of two terms rewritten
    check_parity(build, data, new)
    check_parity(build, data, new, grads=-0.0)
    check_parity(build, data, batched=True)


@pytest.mark.parametrize("seed", range(12))
def test_infinite_and_nan_adjoints_reach_every_op_as_backward_passes_them(seed: int, form: str) -> None:
    """Structural zeros (relu for x <= 0, where's other branch, ...) pass nothing on, so an
    infinite or nan adjoint does not become nan there: the program does the same."""
    rng = random.Random(500 + seed)
    inner = random_graph(rng, 3, rng.randrange(3, 25), chains=True)
    data = [rng.choice([rng.uniform(-2, 2), 0.0, -1.0, 2.0]) for _ in range(3)]
    for s in SEEDS:

        def build(v: list[Value], s: float = s) -> Value:
            return inner(v[:3]) * v[3]  # the adjoint reaching the graph is s

        check_parity(build, [*data, s])


def test_special_values_agree_bitwise(form: str) -> None:
    def build(v: list[Value]) -> Value:
        x, y = v
        return (x * y).relu() + (x - y) * autograd.where(y, x, -x) + autograd.maximum(x, y).sigmoid()

    check_parity(build, [0.0, -0.0], [[INF, 1.0], [NAN, 2.0], [1e300, 1e300], [-0.0, 0.0]])


# ---------------------------------------------------------------------------------------------
# chains of binary + - * (Python's sum, functools.reduce, a - b - c)
# ---------------------------------------------------------------------------------------------

SPECIAL = [0.0, -0.0, 1e-320, -1e300, 1e300, INF, -INF, NAN, 0.1, -3.0, 2.5]


def _points(n: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    pts = [[rng.uniform(-2, 2) for _ in range(n)] for _ in range(3)]
    pts += [[rng.choice(SPECIAL) for _ in range(n)] for _ in range(6)]
    pts.append([-0.0] * n)
    return pts


CHAINS: dict[str, Any] = {
    # micrograd's Neuron.__call__: sum((wi*xi for wi,xi in zip(self.w, x)), self.b)
    "neuron": lambda v: sum((w * x for w, x in zip(v[1:9], v[9:17])), v[0]).relu(),
    "sum from 0": lambda v: sum(v),
    "sum of squares": lambda v: sum(p * p for p in v),  # x * x written as products
    "products, no start": lambda v: functools.reduce(operator.add, [w * x for w, x in zip(v[:8], v[8:])]),
    "subtraction chain": lambda v: functools.reduce(operator.sub, v),
    "subtracted products": lambda v: functools.reduce(
        operator.sub, [w * x for w, x in zip(v[:8], v[8:])], v[0]
    ),
    "mixed signs": lambda v: v[0] + v[1] + v[2] - v[3] - v[4] - v[5] + v[6] * v[7] + v[8] * v[9] - v[10],
    "product chain": lambda v: functools.reduce(operator.mul, v[:10]),
    "x*x*x": lambda v: v[0] * v[0] * v[0] * v[0] + v[1] * v[1] * v[1],
    "repeated terms": lambda v: v[0] + v[0] + v[1] + v[0] - v[1] - v[1],
    "start among terms": lambda v: v[0] - v[0] - v[1] - v[0],
    "shared factor": lambda v: v[0] * v[1] + v[0] * v[2] + v[0] * v[3] + v[3] * v[1],
    "right-leaning": lambda v: functools.reduce(lambda a, b: b + a, v),
    "right-leaning products": lambda v: functools.reduce(lambda a, b: b * a, v[:9]),
    "right sum of products": lambda v: functools.reduce(
        lambda acc, i: v[i] * v[i + 8] + acc, range(1, 9), v[0]
    ),
    "right into a subtraction": lambda v: v[0] + (v[1] + (v[2] + (v[3] - v[4] - v[5]))),
    # a node adds into w between the chain's + nodes: the chain must keep its order
    "interleaved": lambda v: v[0] * v[1] + (v[0] * 3.0).tanh() * v[2] + v[0] * v[3],
    "chain used twice": lambda v: (lambda s: s * s + s)(v[0] + v[1] + v[2] + v[3]),
    "partial sum used": lambda v: (lambda a: (a + v[2] + v[3]) * a)(v[0] + v[1]),
    "two layers": lambda v: sum(
        (
            w * h
            for w, h in zip(
                v[8:12], [sum((a * b for a, b in zip(v[:4], v[4:8])), c).relu() for c in v[12:16]]
            )
        ),
        v[16],
    ),
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_chains_agree_bitwise_at_special_values(name: str, form: str) -> None:
    build = CHAINS[name]
    pts = _points(17, hash(name) % 1000)
    prog = check_parity(build, pts[0], pts[1:])
    check_parity(build, pts[0], pts[1:], grads=-0.0)
    for s in (INF, NAN, -0.0):  # an upstream adjoint that is not a plain number
        check_parity(lambda v, s=s: build(v) * s, pts[0], pts[1:4])
    if form == "compact" and name in ("neuron", "sum from 0", "sum of squares", "subtraction chain"):
        assert any(f in prog.source for f in ("sum(", "reduce(")), prog.source  # list operations


def test_chains_become_one_list_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "READABLE_MAX", 0)
    xs = [Value(0.1 * i) for i in range(40)]
    prog = autograd.compile(sum((w * x for w, x in zip(xs[:20], xs[20:])), Value(0.5)))
    assert prog.source.count("\n") < 30, prog.source
    assert "map(mul, vec" in prog.source
    prog = autograd.compile(functools.reduce(operator.sub, xs))
    assert "reduce(sub_" in prog.source and prog.source.count("\n") < 30
    prog = autograd.compile(functools.reduce(operator.mul, xs[1:]))
    assert "accumulate(" in prog.source and "_prod_back" in prog.source


def test_an_interleaved_chain_is_left_as_binary_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where another node adds into a chain's parent between the chain's + nodes, the chain
    is not rewritten (one node would add in another order)."""
    from autograd.programs.chains import rewrite
    from autograd.programs.tape import tape_of

    w, a, b, c = (Value(x) for x in (0.3, 1.2, -0.7, 2.0))
    out = CHAINS["interleaved"]([w, a, b, c])
    tape = rewrite(tape_of(autograd.toposort(out)))
    assert "lin" not in tape.ops
    xs = [Value(x) for x in (0.3, 1.2, -0.7, 2.0, 0.5)]
    clean = xs[0] * xs[1] + xs[2] * xs[3] + xs[4] * xs[1]
    assert "lin" in rewrite(tape_of(autograd.toposort(clean))).ops


def test_plain_additions_are_replayed_with_reduce_where_sum_compensates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From Python 3.12 on, sum() of floats compensates rounding: a chain of + nodes is then
    replayed with functools.reduce(operator.add, ...), which adds as the nodes did. (Tested
    here by forcing that path: reduce is exact on every version.)"""
    import autograd.programs.levels as L
    import autograd.programs.vectors as V

    monkeypatch.setattr(C, "READABLE_MAX", 0)
    monkeypatch.setattr(V, "PLAIN_SUM", False)
    monkeypatch.setattr(L, "PLAIN_SUM", False)
    pts = _points(17, 7)
    prog = check_parity(CHAINS["neuron"], pts[0], pts[1:])
    assert "reduce(add, map(mul" in prog.source
    check_parity(CHAINS["sum from 0"], pts[0], pts[1:], batched=True)
    # what a compensated sum would have given instead: not always the chain's additions
    xs = [1e16, 1.0, -1e16, 1.0]
    chain = 0.0
    for x in xs:
        chain += x
    assert functools.reduce(operator.add, xs, 0.0) == chain
    assert math.fsum(xs) != chain  # (Python 3.12+ sum() gives fsum's answer here)


# ---------------------------------------------------------------------------------------------
# micrograd's demo written as micrograd writes it; nn training; second order
# ---------------------------------------------------------------------------------------------


def test_micrograd_style_training_is_the_same_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    from demos import _bench_w1 as b

    X, Y = b.moons(30)
    sizes = [2, 6, 6, 1]
    eager, comp = b.mg_model(b.init_params(sizes, 3)), b.mg_model(b.init_params(sizes, 3))
    step, _ = b.mg_compiled_step(comp, X, Y, 0.3, 1e-3)
    for _ in range(4):
        want = b.mg_step(eager, X, Y, 0.3, 1e-3)
        assert step() == want
        assert all(same(p.data, q.data) for p, q in zip(eager.parameters(), comp.parameters()))


def test_micrograd_style_demo_compiles_into_loops_and_list_operations() -> None:
    from demos import _bench_w1 as b

    X, Y = b.moons(100)
    model = b.mg_model(b.init_params([2, 16, 16, 1]))
    loss = b.mg_loss(model, X, Y, 1e-4)
    assert len(autograd.toposort(loss)) > 60_000
    prog = autograd.compile(loss)
    assert prog.form == "compact"
    assert "for r in range(100):" in prog.source
    assert prog.source.count("\n") < 2_000
    assert prog.source.count("map(mul, vec") >= 17  # sum(...) up to 3.11, reduce(add, ...) after


def test_nn_training_on_the_moons_demo_is_the_same_to_the_bit() -> None:
    import nn

    X, labels = nn.make_moons(40, 0.1, seed=0)
    y = nn.signed(labels)
    eager, compiled = nn.MLP(2, [16, 16, 1], seed=0), nn.MLP(2, [16, 16, 1], seed=0)
    opt_e = nn.SGD(eager.parameters(), lr=nn.LinearDecay(1.0, 0.1, 6))
    opt_c = nn.SGD(compiled.parameters(), lr=nn.LinearDecay(1.0, 0.1, 6))
    step = autograd.compile(moons_loss(compiled, X, y))
    losses_e, losses_c = [], []
    for _ in range(6):
        loss = moons_loss(eager, X, y)
        opt_e.zero_grad()
        loss.backward()
        opt_e.step()
        losses_e.append(loss.data)
        opt_c.zero_grad()
        losses_c.append(step.run())
        opt_c.step()
    assert losses_e == losses_c
    assert len(set(losses_e)) == 6  # it did train
    assert all(a.data == b.data for a, b in zip(eager.parameters(), compiled.parameters()))


def test_a_flat_example_is_skipped_and_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop block whose adjoints are 0 (a hinge loss past its margin) is skipped: exact,
    unless a leaf's .grad is -0.0 or a number is not finite, where it runs as written."""
    import nn

    X, labels = nn.make_moons(30, 0.1, seed=2)
    y = nn.signed(labels)
    model = nn.MLP(2, [4, 4, 1], seed=5)
    monkeypatch.setattr(C, "READABLE_MAX", 0)
    ref = nn.MLP(2, [4, 4, 1], seed=5)
    prog = autograd.compile(moons_loss(model, X, y))
    assert "_calm0" in prog.source and "continue" in prog.source
    for g0 in (0.0, -0.0):
        for p, q in zip(model.parameters(), ref.parameters()):
            p.grad = q.grad = g0
        moons_loss(ref, X, y).backward()
        prog.run()
        assert all(same(p.grad, q.grad) for p, q in zip(model.parameters(), ref.parameters()))
    model.parameters()[0].data = INF  # not finite: nothing is skipped, nan where backward() has it
    ref.parameters()[0].data = INF
    for p, q in zip(model.parameters(), ref.parameters()):
        p.grad = q.grad = 0.0
    moons_loss(ref, X, y).backward()
    prog.run()
    assert all(same(p.grad, q.grad) for p, q in zip(model.parameters(), ref.parameters()))


def test_second_order_program_of_a_create_graph_gradient() -> None:
    def hvp_graph(v: list[Value]) -> Value:
        x, y, u, w = v
        f = x * y * x.sin() + (x * y).exp() / (1 + y * y)
        gx, gy = autograd.grad(f, [x, y], create_graph=True)
        return gx * u + gy * w  # its gradient in (x, y) is the Hessian times (u, w)

    check_parity(hvp_graph, [0.7, -0.4, 1.0, 0.0], [[1.3, 0.2, 0.0, 1.0]])
    # against forward-over-reverse: the Hessian column from autograd.hessian
    H = autograd.hessian(lambda a, b: a * b * a.sin() + (a * b).exp() / (1 + b * b), [0.7, -0.4])
    xs = [Value(0.7), Value(-0.4), Value(1.0), Value(0.0)]
    autograd.compile(hvp_graph(xs)).run()
    assert math.isclose(xs[0].grad, H[0][0], rel_tol=1e-9) and math.isclose(xs[1].grad, H[1][0], rel_tol=1e-9)
