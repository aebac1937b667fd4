"""The engine under hostile and unlucky input: what a Value may hold, new ops of the wrong shape,
and memory and reference cycles over many backward passes."""

from __future__ import annotations

import gc
import math
import tracemalloc

import pytest

import autograd
from autograd import Value


@pytest.mark.parametrize("bad", ["abc", None, [1.0], (1.0,), 1j, {"x": 1}, object()])
def test_value_data_refuses_what_is_not_a_real_number_naming_it(bad: object) -> None:
    v = Value(1.0, label="w")
    with pytest.raises(TypeError, match=r"Value\.data = expects a real number .* got " + type(bad).__name__):
        v.data = bad  # type: ignore[assignment]
    assert v.data == 1.0  # unchanged


def test_value_data_refuses_a_value_and_converts_numbers_to_floats() -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match="got a Value"):
        v.data = Value(2.0)  # type: ignore[assignment]
    for x, want in ((3, 3.0), (True, 1.0), (2.5, 2.5)):
        v.data = x
        assert v.data == want and v.data.__class__ is float
    np = pytest.importorskip("numpy", reason="numpy scalars")
    v.data = np.float32(0.5)
    assert v.data == 0.5 and v.data.__class__ is float


def test_a_compiled_program_sees_the_refusal_before_running() -> None:
    x = Value(2.0, label="x")
    prog = autograd.compile(x * x)
    with pytest.raises(TypeError, match="got str"):
        x.data = "abc"  # type: ignore[assignment]
    assert prog.run() == 4.0


def test_defop_refuses_rules_of_the_wrong_arity_or_type() -> None:
    with pytest.raises(TypeError, match=r"defop 'bad_arity'.*\(m, z, x\) returning 1"):
        autograd.defop("bad_arity", lambda x: x, lambda m, x: (1.0,))  # no z
    with pytest.raises(TypeError, match=r"defop 'bad_count'.*1 local derivative"):
        autograd.defop("bad_count", lambda x: x, lambda m, z, x: (1.0, 2.0))
    with pytest.raises(TypeError, match=r"defop 'bad_kind'.*str"):
        autograd.defop("bad_kind", lambda x: x, lambda m, z, x: ("one",))
    with pytest.raises(TypeError, match=r"defop 'bad_if'.*comparison with the namespace m"):
        autograd.defop("bad_if", lambda x: x, lambda m, z, x: (1.0 if x > 0 else 0.0,))
    with pytest.raises(TypeError, match=r"defop 'bad_name'.*no function 'nope'"):
        autograd.defop("bad_name", lambda x: x, lambda m, z, x: (m.nope(x),))
    with pytest.raises(ValueError, match="arity must be an int"):
        autograd.defop("bad_arity2", lambda x: x, lambda m, z, x: (1.0,), arity=0)
    with pytest.raises(ValueError, match="arity must be an int"):
        autograd.defop("bad_arity3", lambda x: x, lambda m, z, x: (1.0,), arity=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="check must be a function"):
        autograd.defop("bad_check", lambda x: x, lambda m, z, x: (1.0,), check="x > 0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exists already"):
        autograd.defop("tanh", lambda x: x, lambda m, z, x: (1.0,))
    for name in ("bad_arity", "bad_count", "bad_kind", "bad_if", "bad_name", "bad_check"):
        assert name not in autograd.OPS


def test_defop_forward_returning_a_non_number_is_refused_naming_the_op() -> None:
    f = autograd.defop("returns_text", lambda x: "text", lambda m, z, x: (1.0,))
    with pytest.raises(TypeError, match=r"defop 'returns_text': forward\(2\.0,\) returned str"):
        f(Value(2.0))
    g = autograd.defop("two_args", lambda a, b: a * b, lambda m, z, a, b: (b, a), arity=2)
    with pytest.raises(TypeError, match="two_args takes 2 argument"):
        g(Value(1.0))


def _step(x: Value, ws: list[Value]) -> None:
    y = autograd.dot(ws, [x] * len(ws)).tanh() * x + (x - ws[0]).relu()
    y.backward()


def test_memory_stays_flat_over_100000_backward_calls() -> None:
    x, ws = Value(0.3), [Value(0.1 * i) for i in range(4)]
    for _ in range(2000):  # warm up caches
        _step(x, ws)
    tracemalloc.start()
    try:
        _step(x, ws)
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(100_000):
            _step(x, ws)
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 20_000, f"memory grew by {grown} bytes over 100,000 backward() calls"
    assert all(math.isfinite(w.grad) for w in ws)


def test_no_call_leaves_a_reference_cycle() -> None:
    gc.collect()
    gc.disable()
    try:
        x = Value(0.4, label="x")
        with autograd.name_scope("block", kind="layer"):
            y = (x * x).sin() + autograd.sum([x, x.exp()]) + autograd.where(x, x, -x)
        y.backward()
        autograd.grad(y, [x])
        (gx,) = autograd.grad(y, [x], create_graph=True)
        autograd.grad(gx, [x])
        autograd.jvp(lambda a: (a * a).tanh(), [0.3], [1.0])
        autograd.hessian(lambda a, b: a * b.exp(), [0.1, 0.2])
        with autograd.detect_anomaly():
            (x * 2).backward()
        with autograd.no_grad():
            x * 3
        del y, gx
        assert gc.collect() == 0, "garbage that only the cycle collector could free"
    finally:
        gc.enable()
