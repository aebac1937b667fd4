"""autograd.trace: guards on the Python branches a function takes, and every other way of reading
a Value's number refused with the line that did it (never a silently wrong number)."""

from __future__ import annotations

import copy
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

import autograd
from autograd import Value
from autograd.programs import ProgramError


def eager(f: Callable[..., Value], *args: float) -> tuple[float, Any]:
    """f run on Values, and backward(): the value and the gradient per argument."""
    vs = [Value(a) for a in args]
    out = f(*vs)
    out.backward()
    grads = tuple(v.grad for v in vs)
    return out.data, (grads[0] if len(grads) == 1 else grads)


def test_trace_value_and_grad_and_guards_retrace_on_a_new_branch() -> None:
    calls: list[int] = []

    def f(x: Value, ws: list[Value]) -> Value:
        calls.append(1)
        s = autograd.dot(ws, [x, x * x])
        if s > 1.0:
            return s.log()
        return (s * s).relu() + x

    def run_eager(x: float, ws: list[float]) -> tuple[float, Any]:
        xv, wv = Value(x), [Value(w) for w in ws]
        out = f(xv, wv)
        out.backward()
        return out.data, (xv.grad, [w.grad for w in wv])

    prog = autograd.trace(f, 2.0, [1.0, 0.5])
    assert "guard" in prog.source and "test_program_trace.py" in prog.source
    n_traced = len(calls)
    for x, ws in [(2.0, [1.0, 0.5]), (0.1, [1.0, 0.5]), (3.0, [0.5, 0.25]), (-0.2, [0.3, 0.1])]:
        calls.clear()
        want = run_eager(x, ws)
        calls.clear()
        got = prog.value_and_grad(x, ws)
        assert got[0] == want[0] and got[1][0] == want[1][0] and got[1][1] == want[1][1]
        assert prog(x, ws) == want[0]
    assert n_traced == 1
    assert len(prog.variants) == 2  # one way through f per branch
    var = prog.variants[0]
    assert var.shape == [None, [None, None]] and len(var.inputs) == 3 and var.guards
    assert var.tape.ops[-1] and var.program.source


def test_trace_refuses_reading_data_and_truth_values_naming_the_line() -> None:
    def reads(x: Value) -> Value:
        y = x * 2
        if y.data > 0:  # the line named in the error
            return y
        return -y

    msg = r"test_program_trace.py:\d+ \(in reads\) reads .data of a computed Value"
    with pytest.raises(ProgramError, match=msg):
        autograd.trace(reads, 1.0)

    def truth(x: Value) -> Value:
        return x if x else -x

    with pytest.raises(ProgramError, match=r"\(in truth\) asks a Value for its truth value"):
        autograd.trace(truth, 1.0)
    # after a refusal, Values behave as usual again
    v = Value(2.0) * 3
    assert v.data == 6.0 and (v > 1) is True and bool(v) is True and repr(v).startswith("Value(data=6.0")
    with pytest.raises(TypeError):
        float(v)


def test_the_issues_repr_example_is_refused_not_replayed() -> None:
    # repr read the number unguarded: the program replayed the x*x branch at x = -2
    f = lambda x: x * x if "-" not in repr(x) else -x * 3  # noqa: E731
    with pytest.raises(ProgramError, match=r"test_program_trace.py:\d+ .* turns a Value into text"):
        autograd.trace(f, 2.0)
    assert eager(f, -2.0) == (6.0, -3.0)


READERS: dict[str, Callable[[Value], Any]] = {
    "repr": repr,
    "str": str,
    "print": lambda v: print(v),
    "f-string": lambda v: f"{v}",
    "format spec": lambda v: f"{v:.3f}",
    "format()": lambda v: format(v),
    "%s": lambda v: "%s" % v,  # noqa: UP031
    "%f": lambda v: "%f" % v,  # noqa: UP031
    "float": float,
    "int": int,
    "round": round,
    "complex": complex,
    "math.exp": math.exp,
    "math.isfinite": math.isfinite,
    "math.floor": math.floor,
    "math.ceil": math.ceil,
    "math.trunc": math.trunc,
    "index": lambda v: [1, 2, 3][v],  # type: ignore[index]
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": pickle.dumps,
    ".data": lambda v: v.data,
    "bool": bool,
}


@pytest.mark.parametrize("name", list(READERS))
@pytest.mark.parametrize("of", ["argument", "computed"])
def test_every_way_of_reading_a_number_is_refused_with_its_line(name: str, of: str) -> None:
    read = READERS[name]

    def f(x: Value) -> Value:
        y = x if of == "argument" else x * 2
        read(y)  # the line the error names
        return y * 3

    line = f.__code__.co_firstlineno + 2
    with pytest.raises(ProgramError, match=rf"test_program_trace.py:{line} \(in f\)"):
        autograd.trace(f, 1.5)


def test_hash_and_identity_read_no_number() -> None:
    def f(x: Value) -> Value:
        seen = {x: 1, x * 1: 2}  # hash and == are identity: no number read
        return sum(seen, Value(0.0)) * (x == x)

    prog = autograd.trace(f, 2.0)
    assert prog.value_and_grad(-3.0) == eager(f, -3.0)


def test_other_threads_are_not_watched_while_a_trace_runs() -> None:
    started, done = threading.Event(), threading.Event()
    seen: list[Any] = []

    def other() -> None:
        started.wait(5)
        v = Value(2.0) * 3
        seen.extend([repr(v), v.data, v > 1, bool(v), f"{v.data:.1f}"])
        done.set()

    t = threading.Thread(target=other)
    t.start()

    def f(x: Value) -> Value:
        started.set()
        done.wait(5)  # the other thread reads numbers while this one traces
        return x * 2

    autograd.trace(f, 1.0)
    t.join(5)
    assert seen == ["Value(data=6.0, grad=0.0)", 6.0, True, True, "6.0"]


def test_a_guard_comes_after_every_node_it_reads() -> None:
    # the issue's example: the guard on v2 < x was written before v2 = v0 * v1
    f = lambda x: sorted([x, Value(1.0) * 1])[0] * 3 + x  # noqa: E731
    p = autograd.trace(f, 2.0)
    for x in (0.5, 2.0, 1.0, -4.0, 7.5):
        assert p.value_and_grad(x) == eager(f, x)


OFF_PATH: dict[str, Callable[[Value], Value]] = {
    "abs(x) > 1": lambda x: x * 2 if abs(x) > 1 else x * 5,
    "x*x > x+1": lambda x: x.tanh() if x * x > x + 1 else x.sin(),
    "x.relu() > 0": lambda x: x * x if x.relu() > 0 else -x,
    "min(x, x*x)": lambda x: min(x, x * x) * 3,
    "max(x.exp(), 2)": lambda x: x * 4 if max(x.exp(), Value(2.0)) > 3 else x - 1,
    "chained": lambda x: x * 2 if (x * x + x * 3 + 1) > 0 else x * -2,
}


@pytest.mark.parametrize("name", list(OFF_PATH))
def test_comparisons_off_the_results_path_trace_with_guards(name: str) -> None:
    """A branch on a Value the result does not depend on (abs(x) > 1): the program computes
    what the guard reads, and checks it."""
    f = OFF_PATH[name]
    p = autograd.trace(f, 2.0)
    assert "guard" in p.source
    for x in (2.0, 0.5, -3.0, 0.0, -0.5, 1.0, 10.0, -1.0):
        assert p.value_and_grad(x) == eager(f, x), x


def test_a_guard_stops_the_program_before_another_branchs_domain_error() -> None:
    def f(x: Value) -> Value:
        b = x * x
        if b > 1:
            return x.log() + b  # log(x) comes before b in the graph's order
        return b

    p = autograd.trace(f, 2.0)
    for x in (2.0, -0.5, 0.5, 3.0):
        assert p.value_and_grad(x) == eager(f, x)
    with pytest.raises(ValueError, match="log: input must be > 0"):
        p(-2.0)  # f itself raises here


def test_a_function_that_catches_a_domain_error_is_refused_naming_the_op() -> None:
    def f(x: Value) -> Value:
        try:
            return (x - 1).log()
        except ValueError:  # which way f goes depends on the number: no guard could check it
            return x * 2

    p = autograd.trace(f, 2.0)
    assert p.value_and_grad(3.0) == eager(f, 3.0)
    with pytest.raises(ProgramError, match=r"\(in f\): log: input must be > 0.*fn went on after that error"):
        p(0.5)  # the log branch fails here, so f is traced again: and it catches the error
    assert p.value_and_grad(3.0) == eager(f, 3.0)  # the variant it had is still right where it was


def test_a_comparison_of_a_captured_parameter_is_a_guard() -> None:
    w = Value(1.0)  # a parameter the function closes over: training changes its sign

    def f(x: Value) -> Value:
        return x * w if w > 0 else x * w * w

    p = autograd.trace(f, 2.0)
    assert p(3.0) == 3.0
    w.data = -2.0
    assert p(3.0) == 12.0  # the guard failed: traced again along the other branch


def test_trace_of_ops_with_branches_needs_no_guard() -> None:
    def f(x: Value, y: Value) -> Value:
        return autograd.maximum(x, y).relu() + abs(x) * autograd.where(y, x, y)

    prog = autograd.trace(f, 1.0, -2.0)
    assert "guard" not in prog.source
    for x, y in [(1.0, -2.0), (-3.0, 4.0), (0.0, 0.0)]:
        assert prog.value_and_grad(x, y) == eager(f, x, y)


def test_traced_programs_called_from_many_threads_give_the_right_numbers() -> None:
    def f(x: Value, y: Value) -> Value:
        return (x * y).tanh() * 2 if x > y else (x - y) ** 2

    p = autograd.trace(f, 1.0, 0.5)
    points = [(0.1 * i - 2, 0.05 * i - 1) for i in range(60)]
    want = {pt: eager(f, *pt) for pt in points}
    errors: list[BaseException] = []
    got: dict[tuple[float, float], Any] = {}

    def work(pts: list[tuple[float, float]]) -> None:
        try:
            for _ in range(20):
                for pt in pts:
                    got[pt] = p.value_and_grad(*pt)
                    assert got[pt] == want[pt]
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(points[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and got == want


def test_trace_refuses_what_is_not_a_function_of_numbers() -> None:
    with pytest.raises(TypeError, match="fn must be a function"):
        autograd.trace(3.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fn must return a Value"):
        autograd.trace(lambda x: 3.0, 1.0)
    p = autograd.trace(lambda x: x * x, 1.0)
    with pytest.raises(TypeError, match=r"argument 0 must be a number or a list of numbers, got str"):
        p("abc")
    with pytest.raises(TypeError, match="argument 0"):
        p(True)
    assert p(3) == 9.0
