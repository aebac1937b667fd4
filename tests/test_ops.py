"""The op table: every op's one rule, consumed by every interpreter, at every special value.

backward() (the generated fast path), the generic chain-rule loop on floats, grad(),
grad(create_graph=True) and forward mode must give the same first derivative, bit for bit, at
ordinary points and at 0, -0, tiny, huge, ±inf and nan; second and third derivatives agree with
central differences of the order below. PyTorch comparisons are in tests/reference/test_ops_torch.py.
"""

from __future__ import annotations

import itertools
import math
import struct
import threading
from collections.abc import Callable
from typing import Any

import pytest

import autograd
from autograd import Value
from autograd.backprop import KERNEL_SOURCE
from autograd.symbolic import formula
from tests.op_cases import BINARY, ORDINARY, SMOOTH, SPECIAL, UNARY, domain, try_call


def same_bits(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def first_derivatives(f: Callable[..., Any], point: tuple[float, ...]) -> dict[str, list[float]] | None:
    """d f / d inputs at `point`, five ways; None where the engine refuses the point."""
    made = try_call(f, *point)
    if made is None:
        return None
    xs, y = made
    out: dict[str, list[float]] = {}
    out["grad"] = [g.data for g in autograd.grad(y, xs)]
    out["create_graph"] = [g.data for g in autograd.grad(y, xs, create_graph=True)]
    order = autograd.toposort(y)
    adj = autograd.sweep(order, observe=lambda *a: None)  # the generic loop, on floats
    at = {v: i for i, v in enumerate(order)}
    out["generic"] = [adj[at[x]] if x in at else 0.0 for x in xs]
    y.backward()
    out["backward"] = [x.grad for x in xs]
    jac = autograd.jacobian(f, list(point), mode="forward")
    out["forward"] = jac[0]
    return out


CASES = [(name, f, 1) for name, f in UNARY.items()] + [(name, f, 2) for name, f in BINARY.items()]


@pytest.mark.parametrize(("name", "f", "arity"), CASES, ids=[c[0] for c in CASES])
def test_first_derivative_is_the_same_every_way_at_every_special_value(
    name: str, f: Callable[..., Any], arity: int
) -> None:
    points = [(x,) for x in SPECIAL] if arity == 1 else list(itertools.product(SPECIAL, repeat=2))
    tried = 0
    for p in points:
        ds = first_derivatives(f, p)
        if ds is None:
            continue
        tried += 1
        ref = ds["backward"]
        for way, got in ds.items():
            assert len(got) == len(ref)
            for a, b in zip(got, ref):
                assert same_bits(a, b), f"{name} at {p}: {way} gives {a!r}, backward() gives {b!r}"
    assert tried >= len(points) // 3


def test_every_op_of_the_table_is_exercised() -> None:
    seen: set[str] = set()
    for _name, f, arity in CASES:
        made = try_call(f, *([0.7] * arity))
        assert made is not None
        seen |= {v._op for v in autograd.toposort(made[1], leaves=False)}
    builtin = {n for n, op in autograd.OPS.items() if op.builtin}
    assert builtin <= seen, builtin - seen


def central(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def nth_derivative(f: Callable[[Value], Value], x: float, n: int) -> float:
    """d^n f / dx^n at x by n nested grad(..., create_graph=True)."""
    v = Value(x)
    d = f(v)
    for _ in range(n):
        (d,) = autograd.grad(d, [v], create_graph=True)
    return d.data


@pytest.mark.parametrize("name", list(UNARY), ids=list(UNARY))
def test_second_and_third_derivatives_agree_with_central_differences(name: str) -> None:
    f = UNARY[name]
    orders = (2, 3) if name in SMOOTH else (2,)
    for x in ORDINARY:
        if not domain(name, x) or (name == "clamp" and abs(abs(x) - 1.0) < 0.01):
            continue
        for n in orders:
            exact = nth_derivative(f, x, n)
            numeric = central(lambda t, n=n: nth_derivative(f, t, n - 1), x)
            assert exact == pytest.approx(numeric, rel=1e-5, abs=1e-6), (name, x, n)


@pytest.mark.parametrize("name", list(BINARY), ids=list(BINARY))
def test_hessians_of_two_argument_ops_agree_with_central_differences(name: str) -> None:
    f = BINARY[name]
    for x, y in [(0.7, 1.3), (1.9, 0.4), (0.35, -0.8)]:
        if name == "pow" and x <= 0:
            continue
        exact = autograd.hessian(f, [x, y])
        for j in range(2):

            def grad_at(t: float, j: int = j, x: float = x, y: float = y) -> list[float]:
                p = [x, y]
                p[j] = t
                vs = [Value(q) for q in p]
                return [g.data for g in autograd.grad(f(*vs), vs)]

            h = 1e-6
            up, down = grad_at((x, y)[j] + h), grad_at((x, y)[j] - h)
            for i in range(2):
                assert exact[i][j] == pytest.approx((up[i] - down[i]) / (2 * h), rel=1e-5, abs=1e-6)


# --- the wrong results issue 7 found, each pinned ---------------------------------------------


def test_abs_at_zero_has_derivative_zero_on_every_path() -> None:
    x = Value(0.0)
    (d,) = autograd.grad(abs(x), [x], create_graph=True)
    assert d.data == 0.0
    (d2,) = autograd.grad(abs(x) * x, [x], create_graph=True)
    assert d2.data == 0.0


@pytest.mark.parametrize(("x", "y", "dx", "dy"), [(0.0, 1.0, 1.0, 0.0), (0.0, 2.0, 0.0, 0.0),
                                                    (0.0, 0.5, math.inf, 0.0), (0.0, 0.0, 0.0, 0.0),
                                                    (0.0, 1.5, 0.0, 0.0)])
def test_power_with_a_value_exponent_at_base_zero(x: float, y: float, dx: float, dy: float) -> None:
    a, b = Value(x), Value(y)
    out = a**b
    for create in (False, True):
        ga, gb = autograd.grad(out, [a, b], create_graph=create)
        assert (ga.data, gb.data) == (dx, dy)


def test_mixed_partial_of_x_to_the_y_at_y_zero_is_exact() -> None:
    # d/dy (d/dx x^y) = x^(y-1) (1 + y ln x) = 1/x at y = 0; PyTorch forces d/dx to 0 at y = 0 and gives 0
    x, y = Value(2.0), Value(0.0)
    gx, _ = autograd.grad(x**y, [x, y], create_graph=True)
    (gxy,) = autograd.grad(gx, [y])
    assert gxy.data == 0.5


def test_sqrt_at_zero_gives_inf_on_every_path() -> None:
    for f in (lambda v: v.sqrt(), lambda v: v**0.5):
        x = Value(0.0)
        for create in (False, True):
            (d,) = autograd.grad(f(x), [x], create_graph=create)
            assert d.data == math.inf


@pytest.mark.parametrize("x", [math.inf, -math.inf])
def test_sin_and_cos_at_infinity_give_nan_not_a_math_error(x: float) -> None:
    for f in (Value.sin, Value.cos):
        v = Value(x)
        y = f(v)
        assert math.isnan(y.data)
        y.backward()
        assert math.isnan(v.grad)


def test_relu_of_nan_is_nan() -> None:
    assert math.isnan(Value(math.nan).relu().data)
    with pytest.raises(FloatingPointError, match="relu"), autograd.detect_anomaly():
        Value(math.nan).relu()


def test_create_graph_inside_no_grad_builds_the_graph_as_pytorch_does() -> None:
    x = Value(1.5)
    y = x * x * x
    with autograd.no_grad():
        (g,) = autograd.grad(y, [x], create_graph=True)
        assert not autograd.is_grad_enabled()
    (h,) = autograd.grad(g, [x])
    assert (g.data, h.data) == (3 * 1.5**2, 6 * 1.5)


def test_math_functions_and_float_refuse_a_value() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"x\.exp\(\)|v\.exp\(\)"):
        x * math.exp(x)  # type: ignore[arg-type]
    for fn in (float, math.log, math.sin, math.sqrt):
        with pytest.raises(TypeError, match=r"v\.data"):
            fn(x)  # type: ignore[arg-type]


def test_labels_must_be_strings() -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match="label must be a str"):
        v.label = 3  # type: ignore[assignment]
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=None)  # type: ignore[arg-type]


# --- new ops: values and domains --------------------------------------------------------------


def test_new_ops_compute_what_math_computes() -> None:
    x = 0.37
    v = Value(x)
    assert v.log1p().data == math.log1p(x) and v.expm1().data == math.expm1(x)
    assert v.tan().data == math.tan(x) and v.sinh().data == math.sinh(x) and v.cosh().data == math.cosh(x)
    assert v.asin().data == math.asin(x) and v.acos().data == math.acos(x) and v.atan().data == math.atan(x)
    assert v.erf().data == math.erf(x)
    assert v.gelu().data == pytest.approx(x * 0.5 * (1 + math.erf(x / math.sqrt(2))), rel=1e-15)
    assert v.silu().data == pytest.approx(x / (1 + math.exp(-x)), rel=1e-15)
    assert v.clamp(0.5, 1.0).data == 0.5 and v.clamp(hi=0.1).data == 0.1 and v.clamp(lo=-1).data == x
    assert autograd.maximum(v, 0.2).data == x and autograd.minimum(0.2, v).data == 0.2
    assert autograd.where(v, 1.0, 2.0).data == 1.0 and autograd.where(-v, 1.0, 2.0).data == 2.0


@pytest.mark.parametrize(
    ("make", "exc", "text"),
    [
        (lambda: Value(-1.0, label="q").log1p(), ValueError, r"log1p: input must be > -1, got -1.0 \(node"),
        (lambda: Value(1.5).asin(), ValueError, r"asin: input must be in \[-1, 1\], got 1.5"),
        (lambda: Value(-2.0).acos(), ValueError, r"acos: input must be in \[-1, 1\], got -2.0"),
        (lambda: Value(0.0).clamp(1.0, -1.0), ValueError, "clamp: lo must be <= hi"),
        (lambda: Value(0.0).leaky_relu(math.inf), ValueError, "slope must be a finite number"),
        (lambda: autograd.maximum(Value(1.0), "a"), TypeError, "maximum: argument 1 must be a Value"),
    ],
)
def test_new_ops_refuse_bad_input_by_name(make: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=text):
        make()


def test_where_reads_the_condition_when_evaluated_and_passes_no_gradient_to_it() -> None:
    c, a, b = Value(-0.5), Value(2.0), Value(3.0)
    out = autograd.where(c, a * a, b * b)
    gc, ga, gb = autograd.grad(out, [c, a, b])
    assert (out.data, gc.data, ga.data, gb.data) == (9.0, 0.0, 0.0, 6.0)


def test_maximum_splits_a_tie_evenly() -> None:
    a, b = Value(1.0), Value(1.0)
    ga, gb = autograd.grad(autograd.maximum(a, b), [a, b])
    assert (ga.data, gb.data) == (0.5, 0.5)


# --- one definition: formulas, the generated fast path, defop ---------------------------------


def test_formulas_are_printed_from_the_rules() -> None:
    ops = autograd.OPS
    assert formula(ops["tanh"], ["x"], "z") == ("1 - z·z",)
    assert formula(ops["*"], ["a", "b"], "z") == ("b", "a")
    assert formula(ops["/"], ["n", "d"], "q") == ("1/d", "-(q/d)")
    assert formula(ops["dot"], ["w1", "w2", "x1", "x2"], "s") == ("x1", "x2", "w1", "w2")
    assert formula(ops["**"], ["x"], "z", 3.0) == ("3·x^2",)


def test_the_fast_path_is_generated_from_the_rules() -> None:
    assert "p0.grad += g * (1.0 - z * z)" in KERNEL_SOURCE  # tanh: 1 - z²
    assert "p1.grad -= g" in KERNEL_SOURCE  # x - y: -1
    assert "FORMULAS" not in KERNEL_SOURCE and "RULES" not in dir(autograd)


_SOFTSIGN: list[Callable[..., Value]] = []


def softsign() -> Callable[..., Value]:
    if not _SOFTSIGN:  # an op is registered once per process
        _SOFTSIGN.append(
            autograd.defop(
                "softsign",
                lambda x: x / (1.0 + abs(x)),
                lambda m, z, x: (m.div(1.0, (1.0 + m.abs(x)) * (1.0 + m.abs(x))),),
                doc="x / (1 + |x|)",
            )
        )
    return _SOFTSIGN[0]


def test_a_user_op_works_everywhere_and_is_checked_three_ways() -> None:
    f = softsign()
    for x in (-2.3, -0.4, 0.0, 0.9, 5.0):
        v = Value(x)
        y = f(v)
        assert y.data == x / (1 + abs(x)) and y._op == "softsign"
        # 1. the analytic derivative 1/(1+|x|)^2 and second derivative -2 sign(x)/(1+|x|)^3
        (d1,) = autograd.grad(y, [v], create_graph=True)
        assert d1.data == pytest.approx(1 / (1 + abs(x)) ** 2, rel=1e-15)
        (d2,) = autograd.grad(d1, [v])
        assert d2.data == pytest.approx(-2 * math.copysign(1, x) / (1 + abs(x)) ** 3 if x else 0.0, rel=1e-12)
        # every path agrees bit for bit (backward, generic loop, create_graph, forward mode)
        ds = first_derivatives(f, (x,))
        assert ds is not None and len({struct.pack("<d", d[0]) for d in ds.values()}) == 1
    # 2. central differences
    assert autograd.gradcheck(lambda a, b: f(a * b) + f(a), [0.7, -1.3])
    # pictures get its formula, anomaly checks see it
    assert formula(f.op, ["x"], "z") == ("1/((1 + |x|)·(1 + |x|))",)  # type: ignore[attr-defined]
    with autograd.detect_anomaly():
        v = Value(0.5)
        f(v).backward()
    assert v.grad == pytest.approx(1 / 1.5**2)


def test_defop_refuses_rules_the_interpreters_cannot_run() -> None:
    with pytest.raises(TypeError, match=r"m\.div"):
        autograd.defop("bad_div", lambda x: 1 / x, lambda m, z, x: (-1.0 / (x * x),))
    with pytest.raises(TypeError, match=r"m\.lt|m\.cond"):
        autograd.defop("bad_if", lambda x: abs(x), lambda m, z, x: (1.0 if x > 0 else -1.0,))
    with pytest.raises(TypeError, match="tuple of 1"):
        autograd.defop("bad_len", lambda x: x, lambda m, z, x: (1.0, 2.0))
    with pytest.raises(ValueError, match="identifier"):
        autograd.defop("no good", lambda x: x, lambda m, z, x: (1.0,))
    with pytest.raises(ValueError, match="exists already"):
        autograd.defop("tanh", lambda x: x, lambda m, z, x: (1.0,))
    assert "bad_div" not in autograd.OPS and "bad_if" not in autograd.OPS


# --- anomaly on a healthy graph, threads, scopes ----------------------------------------------


def test_backward_inside_detect_anomaly_matches_plain_backward_on_a_healthy_graph() -> None:
    def build() -> tuple[list[Value], Value]:
        xs = [Value(0.3), Value(-1.2), Value(2.0)]
        y = autograd.dot(xs, [x.tanh() for x in xs]) + (xs[0] * xs[1]).exp() / xs[2] + xs[2].log()
        return xs, y

    xs, y = build()
    y.backward()
    plain = [x.grad for x in xs]
    with autograd.detect_anomaly():
        xs, y = build()
        y.backward()
    assert [x.grad for x in xs] == plain


def test_concurrent_backward_on_graphs_sharing_nodes_gives_correct_sums() -> None:
    w = Value(0.7)
    shared = (w * w).tanh()  # an inner node both graphs use
    outs = [shared * Value(float(k + 1)) + shared.exp() for k in range(2)]
    expected = []
    for out in outs:
        (g,) = autograd.grad(out, [w])
        expected.append(g.data)
    for _ in range(20):
        w.grad = 0.0
        barrier = threading.Barrier(2)

        def run(out: Value, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            for _ in range(50):
                out.backward()

        threads = [threading.Thread(target=run, args=(o,)) for o in outs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert w.grad == pytest.approx(50 * builtins_sum(expected), rel=1e-12)
        assert shared.grad != 0.0


def builtins_sum(xs: list[float]) -> float:
    total = 0.0
    for x in xs:
        total += x
    return total


def test_one_no_grad_object_entered_by_two_threads_keeps_each_threads_state() -> None:
    ng = autograd.no_grad()
    inside, release = threading.Barrier(2), threading.Event()
    states: list[bool] = []

    def worker(hold: bool) -> None:
        with ng:
            inside.wait()
            if hold:
                release.wait()
        states.append(autograd.is_grad_enabled())

    a = threading.Thread(target=worker, args=(True,))
    b = threading.Thread(target=worker, args=(False,))
    a.start()
    b.start()
    b.join()
    release.set()
    a.join()
    assert states == [True, True]
    assert autograd.context._special == 0


def test_scopes_have_kinds_parents_and_nest() -> None:
    with autograd.name_scope("model", kind="net"), autograd.name_scope("layers.0", kind="layer") as s:
        y = Value(1.0) * 2.0
    assert isinstance(y.scope, autograd.Scope) and y.scope == "model.layers.0" and y.scope is s
    assert s.enclosing("net") == "model" and s.enclosing("layer") is s and s.enclosing("head") is None
    neuron = autograd.Scope("neurons.3", "neuron", autograd.Scope("layers.1", "layer"))
    a, b = Value(1.0), Value(2.0)
    z = a + b
    neuron.tag(z)
    assert z.scope is neuron and z.scope.path == "layers.1.neurons.3"
    with autograd.name_scope("outer"):
        w = a * b
    neuron.tag(w)
    assert w.scope == "outer.layers.1.neurons.3" and w.scope.enclosing("layer") == "outer.layers.1"
    with pytest.raises(TypeError, match="non-empty str"):
        autograd.Scope("")
    with pytest.raises(TypeError, match="non-empty str"), autograd.name_scope(3):  # type: ignore[arg-type]
        pass


def test_the_readme_op_table_is_the_one_printed_from_the_rules() -> None:
    import pathlib

    from autograd.symbolic import op_table_markdown

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- ops-table:start -->\n") + len("<!-- ops-table:start -->\n")
    end = readme.index("<!-- ops-table:end -->")
    assert readme[start:end] == op_table_markdown()


def test_tagging_inside_fresh_outer_scopes_keeps_no_memory() -> None:
    import tracemalloc

    inner = autograd.Scope("neurons.0", "neuron", autograd.Scope("layers.0", "layer"))

    def step() -> None:
        with autograd.name_scope("run"):
            v = Value(1.0) * 2.0
        inner.tag(v)

    step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            step()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 20_000  # a cache per outer scope would keep ~2000 nested scopes


def test_concurrent_grad_calls_on_shared_nodes_are_each_correct() -> None:
    w = Value(0.4)
    shared = (w * w).sin()
    outs = [shared * shared + w, shared.exp() * w]
    expected = [[g.data for g in autograd.grad(o, [w, shared])] for o in outs]
    errors: list[str] = []

    def run(k: int) -> None:
        for _ in range(200):
            got = [g.data for g in autograd.grad(outs[k], [w, shared])]
            if got != expected[k]:
                errors.append(f"thread {k}: {got} != {expected[k]}")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and w.grad == 0.0 and shared.grad == 0.0
