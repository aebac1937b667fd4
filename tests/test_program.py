"""autograd.compile and autograd.trace: adjoint programs, bit for bit the same as backward()."""

from __future__ import annotations

import linecache
import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

import autograd
import autograd.programs.compiler as P
from autograd import Value
from autograd.ops import OPS
from tests.graphs import article_neuron

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def same(a: float, b: float) -> bool:
    """Bitwise equal (and the same sign of zero), or both nan."""
    if a != a and b != b:
        return True
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


Builder = Callable[[list[Value]], Value]


def check_parity(
    build: Builder, data: list[float], new_data: Sequence[list[float]] = (), **kw: Any
) -> P.Program:
    """compile(build(leaves)) then run() at `data` and each of `new_data` must give the value and
    the leaf .grads that rebuilding eagerly and calling backward() gives."""
    leaves = [Value(x) for x in data]
    out = build(leaves)
    prog = autograd.compile(out, **kw)
    for point in [data, *new_data]:
        ref = [Value(x) for x in point]
        ref_out = build(ref)
        for v in ref:
            v.grad = 0.25  # accumulates on top of what is there
        ref_out.backward()
        for v, x in zip(leaves, point):
            v.data = x
            v.grad = 0.25
        got = prog.run()
        assert same(got, ref_out.data), (got, ref_out.data, prog.source)
        for i, (a, b) in enumerate(zip(leaves, ref)):
            assert same(a.grad, b.grad), (i, a.grad, b.grad, prog.source)
    return prog


def moons_loss(model: Any, X: list[list[float]], y: list[int]) -> Value:
    import nn

    scores = [model(x) for x in X]
    return nn.hinge(scores, y) + nn.l2(model.parameters(), 1e-4)


# ---------------------------------------------------------------------------------------------
# the neuron: readable source, parity, linecache
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


def test_source_is_registered_with_linecache() -> None:
    o, _ = article_neuron()
    prog = autograd.compile(o)
    filename = prog._fn.__code__.co_filename
    assert filename.startswith("<autograd program")
    assert "".join(linecache.getlines(filename)) == prog.source


def test_run_sees_new_leaf_data_and_ops_branch_at_run_time() -> None:
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
# random graphs of every op: bitwise agreement with backward()
# ---------------------------------------------------------------------------------------------

_SOFTSIGN: Callable[..., Value] | None = None


def softsign() -> Callable[..., Value]:
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


def random_graph(rng: random.Random, n_leaves: int, n_nodes: int) -> Builder:
    """A recipe (list of steps) for a random graph over every op, replayable on any leaves."""
    unary = [o for o in OPS.values() if o.arity == 1 and not o.nary and o.builtin]
    steps: list[tuple[str, Any, tuple[int, ...]]] = []
    path: list[int] = []  # where the recipe stepped around a domain error (differs by data)
    pool = n_leaves
    for _ in range(n_nodes):
        kind = rng.random()
        pick = lambda: rng.randrange(pool)  # noqa: E731, B023 (used at once)
        if kind < 0.35:
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
                if op in ("sum",):
                    v = autograd.sum(a)
                elif op == "dot":
                    h = len(a) // 2
                    v = autograd.dot(a[:h], a[h:])
                elif op == "softsign":
                    v = softsign()(a[0])
                elif op in ("maximum", "minimum", "where"):
                    v = getattr(autograd, op)(*a)
                else:
                    o = OPS[op]
                    if o.check is not None and o.check(*[x.data for x in a], *([param] if o.param else [])):
                        v = a[0] * 1.5  # outside the op's domain here: another node instead
                        path.append(len(vals))
                    else:
                        v = autograd.engine._apply(o, tuple(a), param)
            except (ValueError, ZeroDivisionError):
                v = a[0] + 1.0
                path.append(-len(vals))
            vals.append(v)
        return autograd.sum(vals[n_leaves:][-5:]) if len(vals) > n_leaves else vals[0]

    build.path = path  # type: ignore[attr-defined]
    return build


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_of_every_op_agree_bitwise(seed: int) -> None:
    rng = random.Random(seed)
    build = random_graph(rng, 4, rng.randrange(3, 40))
    data = [rng.choice([rng.uniform(-2, 2), 0.0, 1.0, 0.5, -1.0]) for _ in range(4)]
    new = [[rng.uniform(-2, 2) for _ in range(4)] for _ in range(2)]
    # the same random graph, on data it was built at and on new data
    try:
        check_parity(build, data, [p for p in new if _domain_ok(build, p, data)])
    except (ValueError, ZeroDivisionError) as e:  # a domain error at the original data
        pytest.fail(f"{e}")
    check_parity(build, data, batched=True)


def _domain_ok(build: Builder, point: list[float], data: list[float]) -> bool:
    """The eager graph at `point` is the graph built at `data` (no op stepped around)."""
    build([Value(x) for x in data])
    want = list(build.path)  # type: ignore[attr-defined]
    build([Value(x) for x in point])
    return list(build.path) == want  # type: ignore[attr-defined]


def test_special_values_agree_bitwise() -> None:
    def build(v: list[Value]) -> Value:
        x, y = v
        return (x * y).relu() + (x - y) * autograd.where(y, x, -x) + autograd.maximum(x, y).sigmoid()

    check_parity(build, [0.0, -0.0], [[math.inf, 1.0], [math.nan, 2.0], [1e300, 1e300], [-0.0, 0.0]])


# ---------------------------------------------------------------------------------------------
# n-ary nodes, large graphs, loops, the batched form
# ---------------------------------------------------------------------------------------------


def test_wide_sum_and_dot_are_one_line_each_not_thousands() -> None:
    def build(v: list[Value]) -> Value:
        h = len(v) // 2
        return autograd.sum(v) * autograd.dot(v[:h], v[h:])

    rng = random.Random(1)
    prog = check_parity(build, [rng.uniform(-1, 1) for _ in range(6000)])
    assert prog.source.count("\n") < 60
    assert "sum(map(mul, vec" in prog.source


def test_repeated_blocks_become_a_loop_bit_for_bit() -> None:
    import nn

    X, labels = nn.make_moons(60, 0.1, seed=3)
    y = nn.signed(labels)
    model = nn.MLP(2, [8, 8, 1], seed=1)
    loss = moons_loss(model, X, y)
    assert len(autograd.toposort(loss, leaves=False)) > P.READABLE_MAX
    prog = autograd.compile(loss)
    assert "for r in range(60):" in prog.source
    assert prog.source.count("\n") < 1500
    ref = nn.MLP(2, [8, 8, 1], seed=1)
    moons_loss(ref, X, y).backward()
    value = prog.run()
    assert same(value, loss.data)
    for a, b in zip(model.parameters(), ref.parameters()):
        assert same(a.grad, b.grad)


def test_a_graph_too_large_is_refused_with_the_supported_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "MAX_NODES", 1000)
    x = Value(1.0)
    for _ in range(600):
        x = x * 1.0001 + 0.5
    with pytest.raises(P.ProgramError, match=r"at most 1,000 nodes"):
        autograd.compile(x)


def test_a_wide_graph_without_repeats_is_written_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "LINES_MAX", 200)
    monkeypatch.setattr(P, "READABLE_MAX", 100)

    def build(v: list[Value]) -> Value:
        x, c = v
        outs = []
        for i in range(60):  # 60 different chains side by side: wide levels, no repeats
            y = x * (0.5 + 0.01 * i)
            for j in range(i % 5 + 2):
                y = (y * c + 0.01 * j).tanh() if j % 2 else y.sin() + c
            outs.append(y)
        return autograd.sum(outs)

    prog = check_parity(build, [0.3, 0.9], [[-0.2, 1.1]])
    assert "V += map(" in prog.source  # the batched form


def test_a_deep_graph_too_long_to_compile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "LINES_HARD", 2000)
    x, c = Value(0.5), Value(0.9)
    for i in range(1000):
        x = x * c + 0.001 * (i % 3)
    with pytest.raises(P.ProgramError, match=r"programs support up to 2,000 lines"):
        autograd.compile(x)


def test_program_holds_only_leaves() -> None:
    o, _ = article_neuron()
    prog = autograd.compile(o)
    found: list[Value] = []

    def walk(x: Any, depth: int = 0) -> None:
        if isinstance(x, Value):
            found.append(x)
        elif isinstance(x, (tuple, list)) and depth < 3:
            for e in x:
                walk(e, depth + 1)

    for val in prog._fn.__globals__.values():
        walk(val)
    walk(prog.leaves)
    assert found and all(not v._op for v in found)
    assert prog._fn.__closure__ is None


# ---------------------------------------------------------------------------------------------
# nn training parity, second order
# ---------------------------------------------------------------------------------------------


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


def test_second_order_program_of_a_create_graph_gradient() -> None:
    def hvp_graph(v: list[Value]) -> Value:
        x, y, u, w = v
        f = x * y * x.sin() + (x * y).exp() / (1 + y * y)
        gx, gy = autograd.grad(f, [x, y], create_graph=True)
        return gx * u + gy * w  # its gradient in (x, y) is the Hessian times (u, w)

    prog = check_parity(hvp_graph, [0.7, -0.4, 1.0, 0.0], [[1.3, 0.2, 0.0, 1.0]])
    x, y, u, w = prog.leaves[0:0] or [Value(0.7), Value(-0.4), Value(1.0), Value(0.0)]
    # against forward-over-reverse: the Hessian column from autograd.hessian
    H = autograd.hessian(lambda a, b: a * b * a.sin() + (a * b).exp() / (1 + b * b), [0.7, -0.4])
    xs = [Value(0.7), Value(-0.4), Value(1.0), Value(0.0)]
    p2 = autograd.compile(hvp_graph(xs))
    p2.run()
    assert math.isclose(xs[0].grad, H[0][0], rel_tol=1e-9) and math.isclose(xs[1].grad, H[1][0], rel_tol=1e-9)
    _ = (x, y, u, w)


# ---------------------------------------------------------------------------------------------
# safety: hostile labels
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    "x\nimport os; os.system('echo pwned')",
    '"""',
    "'''",
    "# comment",
    "a\\",
    "__import__('os').system('true')",
    "\r\n\x0b\x0c\x1c\u2028\u2029",
    "def",
    "tanh",
    "x_bar",
    "v3",
    "sum",
    "ok_name",
    "é",
    "\x00",
    " " * 200,
    "}{",
    "%s{0}",
]


def hostile_labels(rng: random.Random) -> Iterator[str]:
    while True:
        yield rng.choice(HOSTILE) + rng.choice(["", "\n", "#", '"', "\\", "'", "1"])


@pytest.mark.parametrize("seed", range(8))
def test_hostile_labels_reach_the_source_only_as_escaped_comments(seed: int) -> None:
    rng = random.Random(seed)
    labels = hostile_labels(rng)

    def build(v: list[Value]) -> Value:
        x, y = v
        x.label, y.label = next(labels), next(labels)
        a = x * y
        a.label = next(labels)
        b = a.tanh() + autograd.dot([x, y, a], [a, x, y])
        b.label = next(labels)
        c = b.sin() * x
        c.label = next(labels)
        return c

    prog = check_parity(build, [0.5, -1.5], [[2.0, 0.25]])
    for line in prog.source.splitlines()[3:]:  # after the docstring
        code = line.split("#", 1)[0]
        for bad in ("import", "os.", "system", '"""', "'''", "\\", "\x00", "pwned"):
            assert bad not in code, line
    assert "\x00" not in prog.source and "\u2028" not in prog.source
    compile(prog.source, "<check>", "exec")  # it is valid Python on its own


# ---------------------------------------------------------------------------------------------
# trace: guards and refusals
# ---------------------------------------------------------------------------------------------


def test_trace_value_and_grad_and_guards_retrace_on_a_new_branch() -> None:
    calls: list[int] = []

    def f(x: Value, ws: list[Value]) -> Value:
        calls.append(1)
        s = autograd.dot(ws, [x, x * x])
        if s > 1.0:
            return s.log()
        return (s * s).relu() + x

    def eager(x: float, ws: list[float]) -> tuple[float, Any]:
        xv, wv = Value(x), [Value(w) for w in ws]
        out = f(xv, wv)
        out.backward()
        return out.data, (xv.grad, [w.grad for w in wv])

    prog = autograd.trace(f, 2.0, [1.0, 0.5])
    assert "guard" in prog.source and "test_program.py" in prog.source
    n_traced = len(calls)
    for x, ws in [(2.0, [1.0, 0.5]), (0.1, [1.0, 0.5]), (3.0, [0.5, 0.25]), (-0.2, [0.3, 0.1])]:
        calls.clear()
        want = eager(x, ws)
        calls.clear()
        got = prog.value_and_grad(x, ws)
        assert got[0] == want[0] and got[1][0] == want[1][0] and got[1][1] == want[1][1]
        assert prog(x, ws) == want[0]
    assert n_traced == 1


def test_trace_refuses_reading_data_and_truth_values_naming_the_line() -> None:
    def reads(x: Value) -> Value:
        y = x * 2
        if y.data > 0:  # the line named in the error
            return y
        return -y

    msg = r"test_program.py:\d+ \(in reads\) reads .data of a computed Value"
    with pytest.raises(P.ProgramError, match=msg):
        autograd.trace(reads, 1.0)

    def truth(x: Value) -> Value:
        return x if x else -x

    with pytest.raises(P.ProgramError, match=r"\(in truth\) asks a Value for its truth value"):
        autograd.trace(truth, 1.0)

    # after a refusal, Values behave as usual again
    v = Value(2.0) * 3
    assert v.data == 6.0 and (v > 1) is True
    with pytest.raises(TypeError):
        float(v)


def test_trace_of_ops_with_branches_needs_no_guard() -> None:
    def f(x: Value, y: Value) -> Value:
        return autograd.maximum(x, y).relu() + abs(x) * autograd.where(y, x, y)

    prog = autograd.trace(f, 1.0, -2.0)
    assert "guard" not in prog.source
    for x, y in [(1.0, -2.0), (-3.0, 4.0), (0.0, 0.0)]:
        xv, yv = Value(x), Value(y)
        out = f(xv, yv)
        out.backward()
        assert prog.value_and_grad(x, y) == (out.data, (xv.grad, yv.grad))


def test_compiled_program_has_no_value_and_grad() -> None:
    o, _ = article_neuron()
    with pytest.raises(TypeError, match="made by compile"):
        autograd.compile(o).value_and_grad(1.0)


def test_cli_prints_the_adjoint_program() -> None:
    import io

    from autograd.cli import main

    out = io.StringIO()
    code = main(["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.88", "--program"], out)
    text = out.getvalue()
    assert code == 0
    assert "def program():" in text and "out = tanh(v8)" in text and "w1_bar += v2_bar * x1" in text
