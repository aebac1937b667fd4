"""The Value API, reverse accumulation and micrograd's published engine checks."""

from __future__ import annotations

import math
import os
import sys
import threading

import pytest

import autograd
from autograd import Value
from autograd.symbolic import formula


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --- micrograd's two engine checks (micrograd/test/test_engine.py) ----------------------------


def test_micrograd_sanity_check() -> None:
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_micrograd_more_ops() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert close(g.data, 24.70408163265306)
    assert close(a.grad, 138.83381924198252)
    assert close(b.grad, 645.5772594752186)


# --- construction and attributes ---------------------------------------------------------------


@pytest.mark.parametrize("raw", [3, True, 2.5, -0.0])
def test_data_is_stored_as_float(raw: object) -> None:
    v = Value(raw)
    assert type(v.data) is float and v.data == float(raw)  # type: ignore[arg-type]
    assert v.grad == 0.0 and type(v.grad) is float


def test_numpy_scalars_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    for raw in (np.float64(1.5), np.float32(2.0), np.int64(3), np.bool_(True)):
        v = Value(raw)
        assert type(v.data) is float and v.data == float(raw)


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1 + 2j, {"a": 1}])
def test_non_numbers_raise_type_error_naming_the_type(bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_of_a_value_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="use the Value itself"):
        Value(Value(1.0))


def test_label_repr_float_and_slots() -> None:
    v = Value(1.5, label="w")
    assert v.label == "w"
    v.label = "w2"
    assert repr(v) == "Value(data=1.5, grad=0.0, label='w2')"
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert not hasattr(v, "__dict__")


def test_prev_keeps_argument_order_and_duplicates() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a + a)._prev == (a, a)
    assert (b - a)._prev == (b, a)
    assert (a * b)._op == "*" and (a + b)._op == "+" and (a**2)._op == "**"
    assert a.tanh()._op == "tanh" and a.tanh()._prev == (a,)
    assert a._prev == () and a._op == ""
    s = autograd.sum([a, b, a])
    assert s._prev == (a, b, a) and s._op == "sum"


def test_comparisons_use_data_and_identity_equality() -> None:
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and a < 1.5 and b >= 2
    assert Value(1.0) != Value(1.0)  # identity: two nodes are two nodes
    assert a == a
    assert len({a, Value(1.0)}) == 2
    with pytest.raises(TypeError, match="str"):
        _ = a < "x"  # type: ignore[operator]


def test_augmented_assignment_rebinds() -> None:
    a = Value(1.0)
    c = a
    c += 1
    assert c is not a and a.data == 1.0 and c.data == 2.0 and c._prev[0] is a


def test_unsupported_operand_types_name_the_op() -> None:
    with pytest.raises(TypeError, match=r"\+"):
        _ = Value(1.0) + "a"  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"\*"):
        _ = None * Value(2.0)  # type: ignore[operator]


# --- arithmetic with numbers on either side -----------------------------------------------------


def test_mixed_arithmetic_and_reflected_ops() -> None:
    x = Value(3.0)
    cases = {
        "x+2": (x + 2, 1.0),
        "2+x": (2 + x, 1.0),
        "x-2": (x - 2, 1.0),
        "2-x": (2 - x, -1.0),
        "x*2": (x * 2, 2.0),
        "2*x": (2 * x, 2.0),
        "x/2": (x / 2, 0.5),
        "2/x": (2 / x, -2.0 / 9.0),
        "x**2": (x**2, 6.0),
        "2**x": (2**x, 8.0 * math.log(2.0)),
        "-x": (-x, -1.0),
        "abs(-x)": (abs(-x), 1.0),
    }
    for name, (out, expected) in cases.items():
        (g,) = autograd.grad(out, [x])
        assert close(g.data, expected), name


def test_value_exponent_differentiates_both_arguments() -> None:
    x, y = Value(2.0), Value(3.0)
    z = x**y
    z.backward()
    assert z.data == 8.0
    assert close(x.grad, 3.0 * 4.0)  # y x^(y-1)
    assert close(y.grad, 8.0 * math.log(2.0))  # x^y ln x


def test_number_exponent_with_negative_base() -> None:
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0


# --- functions ---------------------------------------------------------------------------------

SMOOTH = {
    "exp": (math.exp, math.exp),
    "log": (math.log, lambda x: 1 / x),
    "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "sigmoid": (lambda x: 1 / (1 + math.exp(-x)), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
    "softplus": (lambda x: math.log1p(math.exp(x)), lambda x: 1 / (1 + math.exp(-x))),
    "sin": (math.sin, math.cos),
    "cos": (math.cos, lambda x: -math.sin(x)),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
@pytest.mark.parametrize("x0", [0.3, 1.7])
def test_function_values_and_derivatives(name: str, x0: float) -> None:
    f, df = SMOOTH[name]
    x = Value(x0)
    y = getattr(x, name)()
    y.backward()
    assert close(y.data, f(x0), 1e-12)
    assert close(x.grad, df(x0), 1e-12)


@pytest.mark.parametrize("x0,value,slope", [(2.0, 2.0, 1.0), (-2.0, 0.0, 0.0)])
def test_relu(x0: float, value: float, slope: float) -> None:
    x = Value(x0)
    y = x.relu()
    y.backward()
    assert y.data == value and x.grad == slope


def test_leaky_relu() -> None:
    x = Value(-2.0)
    y = x.leaky_relu()
    y.backward()
    assert close(y.data, -0.02) and close(x.grad, 0.01)
    x = Value(-2.0)
    y = x.leaky_relu(slope=0.2)
    y.backward()
    assert close(y.data, -0.4) and close(x.grad, 0.2)
    assert Value(3.0).leaky_relu().data == 3.0


@pytest.mark.parametrize("x0", [1000.0, -1000.0, 745.0, -745.0])
def test_saturating_functions_are_finite_and_correct_at_large_inputs(x0: float) -> None:
    x = Value(x0)
    t, s, sp = x.tanh(), x.sigmoid(), x.softplus()
    assert t.data == math.copysign(1.0, x0)
    assert s.data == (1.0 if x0 > 0 else 0.0) or (x0 < 0 and 0.0 <= s.data < 1e-300)
    assert sp.data == (x0 if x0 > 0 else 0.0) or (x0 < 0 and 0.0 <= sp.data < 1e-300)
    for out in (t, s, sp):
        (g,) = autograd.grad(out, [x])
        assert math.isfinite(g.data) and 0.0 <= g.data <= 1.0
    (g,) = autograd.grad(sp, [x])
    assert g.data == (1.0 if x0 > 0 else g.data) and (x0 > 0 or g.data < 1e-300)


def test_exp_overflows_to_inf_like_ieee_floats() -> None:
    assert Value(1000.0).exp().data == math.inf


# --- n-ary nodes ------------------------------------------------------------------------------


def test_sum_is_one_node_with_n_parents() -> None:
    xs = [Value(float(i)) for i in range(10)]
    s = autograd.sum(xs)
    assert s._op == "sum" and len(s._prev) == 10 and s.data == 45.0
    s.backward()
    assert all(x.grad == 1.0 for x in xs)
    assert autograd.sum([]).data == 0.0
    assert autograd.sum([Value(1.0), 2, 3.5]).data == 6.5


def test_dot_is_one_node_with_2n_parents() -> None:
    ws = [Value(1.0), Value(2.0), Value(3.0)]
    xs = [Value(4.0), Value(5.0), Value(6.0)]
    d = autograd.dot(ws, xs)
    assert d._op == "dot" and d._prev == (*ws, *xs) and d.data == 32.0
    d.backward()
    assert [w.grad for w in ws] == [4.0, 5.0, 6.0]
    assert [x.grad for x in xs] == [1.0, 2.0, 3.0]
    assert autograd.dot([Value(2.0)], [3]).data == 6.0


def test_nary_bad_input() -> None:
    with pytest.raises(ValueError, match="ws has 2 items but xs has 1"):
        autograd.dot([1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"xs\[1\] must be a Value or a real number, got str"):
        autograd.dot([1.0, 2.0], [1.0, "a"])
    with pytest.raises(TypeError, match=r"values\[0\]"):
        autograd.sum([None])  # type: ignore[list-item]


# --- domain errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,exc,pattern",
    [
        (lambda: Value(0.0, label="p").log(), ValueError, r"log: input must be > 0, got 0\.0 \(node 'p'\)"),
        (lambda: Value(-1.0, label="p").log(), ValueError, r"log: .*-1\.0.*'p'"),
        (
            lambda: Value(-1.0, label="q").sqrt(),
            ValueError,
            r"sqrt: input must be >= 0, got -1\.0 \(node 'q'\)",
        ),
        (
            lambda: Value(0.0, label="z") ** -1,
            ZeroDivisionError,
            r"\*\*: 0\.0 to a negative power -1\.0 \(node 'z'\)",
        ),
        (
            lambda: Value(-8.0, label="b") ** 0.5,
            ValueError,
            r"\*\*: negative base -8\.0 to a fractional power 0\.5",
        ),
        (
            lambda: Value(-2.0, label="b") ** Value(2.0),
            ValueError,
            r"negative base -2\.0 to a Value power 2\.0.*'b'",
        ),
        (
            lambda: 2.0 / Value(0.0, label="d"),
            ZeroDivisionError,
            r"/: division by zero: 2\.0 / 0\.0 \(node 'd'\)",
        ),
        (lambda: Value(1.0) / 0, ZeroDivisionError, r"/: division by zero: 1\.0 / 0\.0"),
    ],
)
def test_domain_errors_name_op_value_and_label(make, exc, pattern) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=pattern) as info:
        make()
    assert "math domain error" not in str(info.value)


# --- reverse accumulation -------------------------------------------------------------------------


def test_fan_out_is_exact() -> None:
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0
    a = Value(3.0)
    y = a * a * a  # 3a^2 = 27
    y.backward()
    assert a.grad == 27.0
    a = Value(2.0)
    d = a * a + a.tanh() * a  # diamond with several paths
    (g,) = autograd.grad(d, [a])
    assert close(g.data, 2 * 2.0 + (1 - math.tanh(2.0) ** 2) * 2.0 + math.tanh(2.0))


def test_deep_chain_of_a_million_nodes_under_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = -y
    y.backward()
    assert y.data == 1.0 and x.grad == 1.0
    del y  # freeing a deep chain must not overflow the C stack either


def test_backward_twice_accumulates() -> None:
    a = Value(2.0)
    b = a * a
    c = b * 3
    c.backward()
    assert a.grad == 12.0 and b.grad == 3.0
    c.backward()
    assert a.grad == 24.0 and b.grad == 6.0 and c.grad == 2.0
    c.backward(grad=0.5)
    assert a.grad == 30.0


def test_backward_seed() -> None:
    a = Value(2.0)
    (a * 5).backward(grad=2.0)
    assert a.grad == 10.0
    with pytest.raises(TypeError, match="backward"):
        (a * 5).backward(grad="x")  # type: ignore[arg-type]


def test_grad_leaves_dot_grad_untouched_and_gives_zero_for_unused_inputs() -> None:
    x, y, unused = Value(2.0), Value(3.0), Value(7.0)
    z = x * y + x
    gx, gy, gu = autograd.grad(z, [x, y, unused])
    assert (gx.data, gy.data, gu.data) == (4.0, 2.0, 0.0)
    assert x.grad == y.grad == z.grad == 0.0
    with pytest.raises(TypeError, match="inputs must be a list"):
        autograd.grad(z, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inputs\[0\]"):
        autograd.grad(z, [2.0])  # type: ignore[list-item]


def test_second_and_third_derivatives_through_create_graph() -> None:
    x = Value(0.7)
    y = x**3 + x.sin() * x
    (g1,) = autograd.grad(y, [x], create_graph=True)
    (g2,) = autograd.grad(g1, [x], create_graph=True)
    (g3,) = autograd.grad(g2, [x])
    s, c = math.sin(0.7), math.cos(0.7)
    assert close(g1.data, 3 * 0.49 + c * 0.7 + s)
    assert close(g2.data, 6 * 0.7 - s * 0.7 + 2 * c)
    assert close(g3.data, 6 - c * 0.7 - 3 * s)


def test_hessian_of_a_small_function() -> None:
    # f(x, y) = x^2 y + exp(x y);  H = [[2y + y^2 e, 2x + e + x y e], [., x^2 e]]
    x, y = Value(0.5), Value(-1.2)
    f = x * x * y + (x * y).exp()
    grads = autograd.grad(f, [x, y], create_graph=True)
    hess = [[h.data for h in autograd.grad(g, [x, y])] for g in grads]
    e = math.exp(0.5 * -1.2)
    expected = [[2 * -1.2 + 1.44 * e, 2 * 0.5 + e + 0.5 * -1.2 * e], [0.0, 0.25 * e]]
    expected[1][0] = expected[0][1]
    for row, erow in zip(hess, expected):
        for h, eh in zip(row, erow):
            assert close(h, eh, 1e-12)


def test_inline_backward_agrees_with_the_rules_table() -> None:
    """backward()'s generated fast path and grad(create_graph=True) (the rules on Values) agree."""
    a, b, c = Value(0.3), Value(-1.1), Value(2.5)
    out = autograd.sum(
        [
            autograd.dot([a, b, c], [c, a, b]),
            a + b,
            a - c,
            a * b,
            (a * c).relu(),
            (b * c).relu(),
            (a - b).tanh(),
            b.sigmoid() / c,
        ]
    )
    expected = [g.data for g in autograd.grad(out, [a, b, c], create_graph=True)]
    out.backward()
    assert [a.grad, b.grad, c.grad] == pytest.approx(expected, rel=1e-14, abs=1e-14)


# --- no_grad ----------------------------------------------------------------------------------------


def test_no_grad_context_and_decorator() -> None:
    x = Value(2.0)
    with autograd.no_grad():
        assert not autograd.is_grad_enabled()
        y = x * x + 1
    assert autograd.is_grad_enabled()
    assert y.data == 5.0 and y._prev == () and y._op == ""

    @autograd.no_grad()
    def f(v: Value) -> Value:
        return v.tanh() * 3

    z = f(x)
    assert z._prev == () and autograd.is_grad_enabled()
    assert (x * x)._prev == (x, x)


def test_no_grad_is_thread_local() -> None:
    inside = threading.Event()
    built = threading.Event()
    results: dict[str, object] = {}

    def holder() -> None:
        with autograd.no_grad():
            inside.set()
            built.wait(5)
            results["holder"] = (Value(1.0) * 2)._prev

    def builder() -> None:
        inside.wait(5)
        x = Value(3.0)
        y = x * x
        results["builder"] = y._prev == (x, x)
        built.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=builder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"holder": (), "builder": True}


# --- detect_anomaly -----------------------------------------------------------------------------------


def test_anomaly_in_forward_names_op_inputs_and_site() -> None:
    a, b = Value(math.inf, label="a"), Value(math.inf, label="b")
    with autograd.detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            _ = a - b
    msg = str(info.value)
    assert "'-'" in msg and "a=inf" in msg and "b=inf" in msg and "nan" in msg
    assert f"{os.path.basename(__file__)}:" in msg


def test_anomaly_in_backward_names_op_and_creation_site() -> None:
    with autograd.detect_anomaly():
        x = Value(0.0, label="x")
        y = x.sqrt()  # fine forward; the derivative 1/(2 sqrt x) is infinite at 0
        line = sys._getframe().f_lineno - 1
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    msg = str(info.value)
    assert "'sqrt'" in msg and "x=0.0" in msg and "inf" in msg
    assert f"{os.path.basename(__file__)}:{line}" in msg


def test_without_anomaly_mode_infinities_propagate_silently_like_floats() -> None:
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert x.grad == math.inf


# --- gradcheck ----------------------------------------------------------------------------------------


def test_gradcheck_passes_for_correct_rules() -> None:
    assert autograd.gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.4, 1.3])


def test_gradcheck_lists_every_disagreeing_input() -> None:
    # an op whose derivative rule is wrong on purpose: d/dx (x * y) written as 2y
    wrong = autograd.defop("wrong_product", lambda x, y: x * y, lambda m, z, x, y: (y * 2.0, x), arity=2)
    with pytest.raises(autograd.GradcheckError) as info:
        autograd.gradcheck(lambda x, y, w: wrong(x, y) + w.sin(), [Value(1.5, label="x"), 2.0, 0.1])
    msg = str(info.value)
    assert "input 0 (x) at 1.5: analytic 4.0, numeric 1.99999" in msg
    assert "input 1" not in msg and "input 2" not in msg


def test_gradcheck_needs_a_value_back() -> None:
    with pytest.raises(TypeError, match="must return a Value"):
        autograd.gradcheck(lambda x: 1.0, [1.0])  # type: ignore[arg-type,return-value]


# --- memory: no reference cycles ------------------------------------------------------------------


def _graph_round_trip() -> None:
    xs = [Value(float(i)) for i in range(50)]
    y = autograd.sum([(x * x).tanh() + x.exp().log() for x in xs])
    y = autograd.dot(xs, xs) * y
    y.backward()
    autograd.grad(y, xs[:3], create_graph=True)


def test_graphs_are_freed_by_reference_counting_alone() -> None:
    import gc

    _graph_round_trip()  # warm up caches
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        _graph_round_trip()
        after = len(gc.get_objects())
    finally:
        gc.enable()
    assert after == before


def test_package_is_this_repository_not_hips_autograd() -> None:
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert os.path.abspath(autograd.__file__).startswith(os.path.join(repo, "autograd") + os.sep)
    assert hasattr(autograd, "Value")


def test_backward_of_a_leaf_and_toposort_orders() -> None:
    a = Value(2.0)
    a.backward()
    a.backward(grad=2.0)
    assert a.grad == 3.0
    x, y = Value(1.0), Value(2.0)
    p = x * y
    q = p + x
    r = q.tanh()
    order = autograd.toposort(r)
    assert order[-1] is r and set(order) == {x, y, p, q, r} and len(order) == 5
    assert order.index(p) < order.index(q) and order.index(x) < order.index(p)
    assert autograd.toposort(r, leaves=False) == [p, q, r]
    with pytest.raises(TypeError, match="expected a Value"):
        autograd.toposort(1.0)  # type: ignore[arg-type]


def test_no_grad_nests_and_restores() -> None:
    ng = autograd.no_grad()
    with ng:
        with ng:
            assert not autograd.is_grad_enabled()
        assert not autograd.is_grad_enabled()
        with autograd.no_grad():
            pass
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert autograd.context._special == 0


def test_every_op_has_its_formula_from_its_rule() -> None:
    for name, op in autograd.OPS.items():
        names = ["a", "b", "c"][: op.arity]
        forms = formula(op, names, "z", {"**": 2.0, "leaky_relu": 0.1, "clamp": (-1.0, 1.0)}.get(name))
        assert len(forms) == op.arity, name
        assert all(isinstance(f, str) and f for f in forms), name
